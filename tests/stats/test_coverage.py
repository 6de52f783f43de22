"""Slow: coverage of the bootstrap CI of p50 on data from a known logistic model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.mark.slow
def test_p50_interval_coverage_is_nominal():
    path = Path(__file__).resolve().parents[2] / "bench" / "horizon_coverage.py"
    spec = importlib.util.spec_from_file_location("horizon_coverage", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.coverage("main", designs=8, agents=60, n_bootstrap=1000, seed=0)
    assert 0.93 <= result["coverage"] <= 0.97, result
