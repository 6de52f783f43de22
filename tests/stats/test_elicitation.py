"""The elicitation gap, months of progress, the buffer and best-of-k as elicitation."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from rdbench.stats import elicitation as el
from rdbench.stats.best_of_k import expected_max_of_k
from rdbench.stats.synthetic import simulate_paired_arms


def _attempts(rows: list[tuple]) -> pd.DataFrame:
    """rows: (agent, model, scaffold, task_id, family, minutes, limit_s, score)."""
    df = pd.DataFrame(
        rows,
        columns=["agent", "model", "scaffold", "task_id", "task_family", "human_minutes",
                 "time_limit_s", "score"],
    )
    df["attempt_id"] = [f"a{i}" for i in range(len(df))]
    df["is_human"] = False
    df["success"] = df["score"] >= 1.0
    return df


def test_configuration_labels_join_agent_scaffold_and_length():
    df = _attempts([
        ("o1", "o1", None, "f/a", "f", 10, 1800, 0.0),
        ("gpt-4o", "gpt-4o", "react-v1", "f/a", "f", 10, 7200, 0.0),
        ("gpt-4o", "gpt-4o", "react-minimal-v1", "f/a", "f", 10, np.nan, 0.0),
    ])
    assert el.label_configurations(df).tolist() == [
        "o1", "gpt-4o · react-v1", "gpt-4o · react-minimal-v1"]
    assert el.label_configurations(df, "agent+length").tolist() == [
        "o1 · 30 min", "gpt-4o · react-v1 · 2 h", "gpt-4o · react-minimal-v1 · no limit"]
    with pytest.raises(ValueError, match="unknown configuration key"):
        el.label_configurations(df, "model")  # type: ignore[arg-type]


def test_configurations_table_and_default_pairs_against_the_weakest():
    rows = []
    for task, (weak, mid, strong) in {"f/a": (0.0, 0.5, 1.0), "f/b": (0.2, 0.4, 0.9)}.items():
        rows += [("m", "m", "minimal-v1", task, "f", 10, np.nan, weak),
                 ("m", "m", "react-v1", task, "f", 10, np.nan, strong),
                 ("m", "m", "tuned-v1", task, "f", 10, np.nan, mid),
                 ("solo", "solo", None, task, "f", 10, np.nan, 0.3)]
    df = _attempts(rows)
    table = el.configurations(df)
    assert table.set_index("configuration")["n_configurations"].to_dict() == {
        "m · minimal-v1": 3, "m · react-v1": 3, "m · tuned-v1": 3, "solo": 1}
    pairs = el.default_pairs(df)
    assert pairs == [("m", "m · minimal-v1", "m · react-v1"), ("m", "m · minimal-v1", "m · tuned-v1")]
    assert el.default_pairs(df, model="solo") == []
    assert el.unpaired_configurations(df, pairs) == []


def test_disjoint_configurations_are_not_paired_and_are_listed():
    df = _attempts([
        ("m", "m", "a-v1", "f/x", "f", 10, np.nan, 0.0),
        ("m", "m", "b-v1", "f/y", "f", 10, np.nan, 1.0),
    ])
    assert el.default_pairs(df) == []
    assert el.unpaired_configurations(df, []) == ["m · a-v1", "m · b-v1"]
    with pytest.raises(ValueError, match="no task in common"):
        el.paired_score_gap(df, "m · a-v1", "m · b-v1")
    with pytest.raises(ValueError, match="no task in common"):
        el.horizon_ratio(df, "m · a-v1", "m · b-v1")


def test_paired_score_gap_is_the_mean_of_per_task_differences():
    # task a: base mean 0.25 (0, 0.5), elicited 1.0; task b: base 0.5, elicited NaN -> 0;
    # task c only elicited (not common): left out.
    df = _attempts([
        ("b", "m", None, "f/a", "f", 10, np.nan, 0.0),
        ("b", "m", None, "f/a", "f", 10, np.nan, 0.5),
        ("e", "m", None, "f/a", "f", 10, np.nan, 1.0),
        ("b", "m", None, "g/b", "g", 20, np.nan, 0.5),
        ("e", "m", None, "g/b", "g", 20, np.nan, np.nan),
        ("e", "m", None, "g/c", "g", 40, np.nan, 1.0),
    ])
    gap = el.paired_score_gap(df, "b", "e", n_bootstrap=2000, seed=3)
    assert gap["n_tasks"] == 2
    assert gap["base_score"] == pytest.approx((0.25 + 0.5) / 2)
    assert gap["elicited_score"] == pytest.approx((1.0 + 0.0) / 2)
    assert gap["diff"] == pytest.approx(((1.0 - 0.25) + (0.0 - 0.5)) / 2)
    # two tasks: the paired bootstrap can only draw means of {0.75, -0.5}
    assert gap["diff_low"] == pytest.approx(-0.5) and gap["diff_high"] == pytest.approx(0.75)


def test_pairing_narrows_the_intervals_on_correlated_arms():
    """Shown, not assumed: on arms that share task difficulty, the paired score interval
    and the joint-bootstrap ratio interval are narrower than their unpaired versions."""
    score_ratio, horizon_ratio = [], []
    for seed in range(4):
        df, _ = simulate_paired_arms(base_intercept=2.0, elicited_intercept=3.0,
                                     task_effect_sd=1.5, seed=seed)
        gap = el.paired_score_gap(df, "base", "elicited", n_bootstrap=400, seed=seed)
        score_ratio.append((gap["diff_high"] - gap["diff_low"])
                           / (gap["unpaired_high"] - gap["unpaired_low"]))
        joint = el.horizon_ratio(df, "base", "elicited", n_bootstrap=300, seed=seed)
        apart = el.horizon_ratio(df, "base", "elicited", n_bootstrap=300, seed=seed, joint=False)
        horizon_ratio.append(np.log(joint.ratio_high / joint.ratio_low)
                             / np.log(apart.ratio_high / apart.ratio_low))
    assert max(score_ratio) < 0.8, score_ratio
    assert np.mean(horizon_ratio) < 0.95, horizon_ratio


def test_horizon_ratio_recovers_a_large_known_gap():
    df, truth = simulate_paired_arms(base_intercept=1.0, elicited_intercept=3.0,
                                     n_families=40, seed=11)
    result = el.horizon_ratio(df, "base", "elicited", n_bootstrap=400, seed=0)
    assert truth == pytest.approx(16.0)
    assert result.ratio_low <= truth <= result.ratio_high
    assert result.ratio > 1 and result.ratio_low > 1  # a clear gap is seen as one
    assert result.ratio == pytest.approx(result.elicited_p50 / result.base_p50)
    assert result.samples.shape == (400,) and result.note == ""


def test_extrapolated_horizons_give_no_ratio():
    # every common task has the same length: the slope is unidentified, p50 extrapolated
    rows = []
    for i, (b, e) in enumerate(itertools.product([0.0, 1.0], [0.0, 1.0, 1.0])):
        rows += [("b", "m", None, f"f{i}/t", f"f{i}", 480, np.nan, b),
                 ("e", "m", None, f"f{i}/t", f"f{i}", 480, np.nan, e)]
    result = el.horizon_ratio(_attempts(rows), "b", "e", n_bootstrap=50)
    assert math.isnan(result.ratio) and math.isnan(result.ratio_low)
    assert "extrapolated" in result.note


def test_months_equal_log2_ratio_times_doubling_time_exactly():
    assert el.ratio_to_months(4.0, 100.0) == pytest.approx(2 * 100 / (365.25 / 12))
    assert el.ratio_to_months(0.5, 365.25) == pytest.approx(-12.0)
    assert el.ratio_to_months(1.0, 50.0) == 0.0
    # through elicitation_gaps: the point estimate uses the given doubling time exactly
    df, _ = simulate_paired_arms(base_intercept=2.0, elicited_intercept=3.0, seed=5)
    gaps = el.elicitation_gaps(df, [("model-x", "base", "elicited")],
                               doubling_time_days=212.0, n_bootstrap=100)
    row = gaps.iloc[0]
    assert row["months"] == pytest.approx(math.log2(row["ratio"]) * 212.0 / el.DAYS_PER_MONTH)
    assert row["months_low"] <= row["months"] <= row["months_high"]


def test_months_samples_carry_the_trend_and_handle_edges():
    ratios = np.array([2.0, 2.0, 1.0, np.nan])
    # one trend sample: slope ln2 per year -> doubling time 365.25 days = 12 months
    months = el.months_samples(ratios, np.array([math.log(2)]))
    assert months[:2] == pytest.approx([12.0, 12.0])
    assert months[2] == 0.0 and math.isnan(months[3])
    flat = el.months_samples(np.array([2.0]), np.array([0.0]))
    assert flat[0] == math.inf  # a trend that does not rise: the gap is worth forever
    # a spread of trend slopes widens the months interval over the ratio's alone
    slopes = np.random.default_rng(0).normal(math.log(2), 0.2, size=1000)
    ratio_only = el.ratio_to_months(np.full(1000, 2.0), 365.25)
    with_trend = el.months_samples(np.full(1000, 2.0), slopes, seed=1)
    assert np.ptp(ratio_only) == 0 and np.ptp(with_trend) > 1


def test_safety_buffer_takes_the_largest_gap_and_its_upper_bound():
    gaps = pd.DataFrame([
        {"model": "a", "base": "a1", "elicited": "a2", "ratio": 2.0, "ratio_high": 9.0,
         "months": 6.0, "months_high": 20.0},
        {"model": "b", "base": "b1", "elicited": "b2", "ratio": 3.0, "ratio_high": 5.0,
         "months": 9.0, "months_high": 14.0},
        {"model": "c", "base": "c1", "elicited": "c2", "ratio": np.nan, "ratio_high": np.nan,
         "months": np.nan, "months_high": np.nan},
    ])
    buffer = el.safety_buffer(gaps)
    assert (buffer.factor, buffer.factor_high) == (3.0, 9.0)
    assert (buffer.months, buffer.months_high) == (9.0, 20.0)
    assert (buffer.model, buffer.base, buffer.elicited, buffer.n_pairs) == ("b", "b1", "b2", 2)
    none_helped = gaps.iloc[:1].assign(ratio=0.5, ratio_high=0.8, months=-3.0, months_high=-1.0)
    assert el.safety_buffer(none_helped).factor == 1.0
    assert el.safety_buffer(none_helped).factor_high == 1.0
    assert el.safety_buffer(gaps.iloc[2:]).n_pairs == 0


def test_threshold_status_allows_for_the_buffer():
    horizons = pd.DataFrame([
        {"agent": "far", "p50": 10.0, "p50_high": 40.0, "status": "ok", "extrapolated": False},
        {"agent": "near", "p50": 100.0, "p50_high": 200.0, "status": "ok",
         "extrapolated": False},
        {"agent": "over", "p50": 500.0, "p50_high": 900.0, "status": "ok",
         "extrapolated": False},
        {"agent": "zero", "p50": np.nan, "p50_high": np.nan, "status": "no_success",
         "extrapolated": False},
        {"agent": "odd", "p50": 1e-9, "p50_high": 1e9, "status": "ok", "extrapolated": True},
    ])
    status = el.threshold_status(horizons, 480.0, buffer_factor=3.0).set_index("agent")
    assert status["status"].to_dict() == {
        "far": "clearly below", "near": "within buffer", "over": "above",
        "zero": "clearly below", "odd": "unknown"}
    assert status.loc["far", "buffered_threshold_minutes"] == pytest.approx(160.0)
    with pytest.raises(ValueError, match="at least 1"):
        el.threshold_status(horizons, 480.0, buffer_factor=0.5)
    with pytest.raises(ValueError, match="positive"):
        el.threshold_status(horizons, 0.0, buffer_factor=2.0)


def test_best_of_k_gap_matches_the_expected_max_by_hand():
    rows = [("x", "x", None, "f/a", "f", 60, 1800, s) for s in (0.0, 0.0, 0.2, 1.0, 0.4)]
    rows += [("x", "x", None, "f/a", "f", 60, 7200, s) for s in (0.5, 0.3)]
    rows += [("x", "x", None, "f/b", "f", 90, 1800, s) for s in (0.1, 0.9, 0.5, 0.3)]
    rows += [("x", "x", None, "f/b", "f", 90, 7200, 0.6)]
    rows += [("x", "x", None, "f/c", "f", 90, 1800, 0.7)]  # no long attempt: left out
    table = el.best_of_k_gap(_attempts(rows), n_bootstrap=200)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["budget_s"], row["attempt_length_s"], row["k"], row["n_tasks"]) == (
        7200, 1800, 4, 2)

    def brute(scores, k):  # expected max over all k-subsets
        return np.mean([max(c) for c in itertools.combinations(scores, k)])

    best_a, best_b = brute([0.0, 0.0, 0.2, 1.0, 0.4], 4), brute([0.1, 0.9, 0.5, 0.3], 4)
    assert best_a == pytest.approx(expected_max_of_k([0.0, 0.0, 0.2, 1.0, 0.4], 4))
    assert row["best_of_k"] == pytest.approx((best_a + best_b) / 2)
    assert row["one_long"] == pytest.approx((0.4 + 0.6) / 2)
    assert row["diff"] == pytest.approx(row["best_of_k"] - row["one_long"])


# ------------------------------------------------------------------ the CLI


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rdbench.cli", "elicitation", *args],
        capture_output=True, text=True, timeout=180,
    )


def test_cli_on_public_data_writes_gaps_buffer_and_status(tmp_path):
    out = tmp_path / "e.json"
    proc = run("--bootstrap", "200", "--threshold", "8h", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Elicitation gaps" in proc.stdout and "Buffer" in proc.stdout
    assert "buffered threshold" in proc.stdout and "Best-of-k" in proc.stdout
    data = json.loads(out.read_text())
    gap = data["gaps"][0]
    assert gap["model"] == "c3-5s" and gap["ratio"] > 1
    assert gap["months"] == pytest.approx(
        math.log2(gap["ratio"]) * data["settings"]["doubling_time_days"] / el.DAYS_PER_MONTH)
    assert data["buffer"]["factor_high"] >= data["buffer"]["factor"] >= 1
    assert {row["status"] for row in data["threshold_status"]} <= {
        "above", "within buffer", "clearly below", "unknown"}
    assert [f["threshold_minutes"] for f in data["forecasts"]] == sorted(
        [480.0, 480.0 / data["buffer"]["factor_high"]])


def test_cli_json_to_stdout_is_pure_json():
    proc = run("--bootstrap", "50", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    start = proc.stdout.index("{\n")
    assert json.loads(proc.stdout[start:])["gaps"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "o1"], "ran under one configuration only"),
        (["--model", "nosuch"], "no attempts of model 'nosuch'"),
        (["--base", "o1"], "give --base and --elicited together"),
        (["--base", "o1", "--elicited", "nosuch"], "no configuration 'nosuch'"),
        (["--threshold", "8 parsecs"], "bad duration"),
        (["--threshold", "8h,40h"], "one duration"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message):
    proc = run("--bootstrap", "20", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_configurations_without_common_tasks(tmp_path):
    from rdbench.records import write_runs_jsonl

    df = _attempts([
        ("m (a)", "m", None, "f/x", "f", 10, 1800, 0.0),
        ("m (b)", "m", None, "g/y", "g", 20, 1800, 1.0),
    ])
    path = tmp_path / "runs.jsonl"
    write_runs_jsonl(df, path)
    proc = run(str(path), "--bootstrap", "20")
    assert proc.returncode == 2
    assert "share a task" in proc.stderr, proc.stderr


@pytest.mark.slow
def test_ratio_interval_coverage_on_synthetic_arms():
    """The joint-bootstrap 95% CI of the horizon ratio covers the true ratio about 95% of
    the time (bench/elicitation.py runs more repetitions and reports the number)."""
    covered = []
    for seed in range(80):
        df, truth = simulate_paired_arms(base_intercept=2.0, elicited_intercept=3.0, seed=seed)
        result = el.horizon_ratio(df, "base", "elicited", n_bootstrap=200, seed=seed)
        covered.append(result.ratio_low <= truth <= result.ratio_high)
    hits, n = int(np.sum(covered)), len(covered)
    low = beta.ppf(0.025, hits, n - hits + 1) if hits else 0.0
    high = beta.ppf(0.975, hits + 1, n - hits) if hits < n else 1.0
    assert low <= 0.95 <= high, (hits, n)
