"""Fixtures of the transcript-review tests: the corpus family on the search path."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "bench" / "corpus" / "monitors"
FAMILY_DIR = ROOT / "bench" / "monitor_family"


@pytest.fixture(autouse=True)
def corpus_family(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put `monitor_fixture` (the corpus family) on the family search path."""
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(FAMILY_DIR))
    from rdbench.review.transcript import family_files
    from rdbench.tasks.inspect_adapter import _family

    family_files.cache_clear()
    _family.cache_clear()
    yield FAMILY_DIR
    family_files.cache_clear()
    _family.cache_clear()
