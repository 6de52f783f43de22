"""The validation run's quick subset: scripted attempts in the real sandbox, real scorers,
logs, records, `rdbench horizon` and the report, against a known logistic p50."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "suite_horizon.py"


def _bench():
    spec = importlib.util.spec_from_file_location("suite_horizon_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_success_probability_is_the_logistic_in_log2_minutes():
    bench = _bench()
    assert bench.success_probability(30, 30, -0.9) == pytest.approx(0.5)
    assert bench.success_probability(60, 30, -1.0) == pytest.approx(1 / (1 + 2.718281828459045))
    assert bench.success_probability(2, 30, -0.9) > 0.9
    assert bench.success_probability(300, 30, -0.9) < 0.1


@pytest.mark.slow  # ~27 sandboxed attempts, a horizon fit and a report: minutes on 2 cores
def test_quick_subset_recovers_the_true_p50(tmp_path):
    bench = _bench()
    out = tmp_path / "suite_horizon.json"
    result = bench.main(
        [
            "--quick",
            "--p50",
            "8",
            "--epochs",
            "3",
            "--bootstrap",
            "200",
            "--report-bootstrap",
            "10",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ]
    )
    assert json.loads(out.read_text())["attempts"] == result["attempts"] == 27
    assert result["eval_errors"] == []
    assert result["success_equals_coin"], result["mismatched_attempts"]
    low, high = result["p50_ci95"]
    assert low <= 8 <= high and low < result["recovered_p50_minutes"] < high
    assert result["report_draws_curve"]
