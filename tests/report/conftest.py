"""Fixtures of the report tests; the builders live in report_fixtures.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import synthetic_rdbench

from rdbench.records import public_runs_path


@pytest.fixture
def rdbench_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic rdbench attempts with trajectories."""
    return synthetic_rdbench()


@pytest.fixture(scope="session")
def metr_subset(tmp_path_factory) -> Path:
    """A METR runs.jsonl with every 6th line of the public data (all agents, ~1200 runs)."""
    lines = public_runs_path().read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("metr") / "runs.jsonl"
    path.write_text("\n".join(lines[::6]) + "\n", encoding="utf-8")
    return path
