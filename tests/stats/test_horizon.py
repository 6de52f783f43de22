"""Time horizon: the batched logistic fit, weights, bootstrap, public-data results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rdbench.records import load_attempts, public_runs_path
from rdbench.stats import (
    empirical_success_rates,
    fit_horizons,
    fit_logistic_batch,
    horizon_curves,
    horizon_runs,
    quantile_with_inf,
)
from rdbench.stats.bootstrap import resample_cell_weights, resample_task_counts
from rdbench.stats.synthetic import simulate_runs


@pytest.fixture(scope="module")
def attempts():
    return load_attempts("metr")[0]


@pytest.fixture(scope="module")
def result(attempts):
    return fit_horizons(attempts, n_bootstrap=1000, seed=0)


def test_matches_sklearn_on_public_data(attempts):
    sklearn = pytest.importorskip("sklearn.linear_model")
    runs = horizon_runs(attempts)
    fitted = fit_horizons(attempts, n_bootstrap=0).table.set_index("agent")
    checked = 0
    for agent, g in runs.groupby("agent"):
        if g["y"].nunique() < 2:
            continue
        model = sklearn.LogisticRegression(C=1 / 0.1, tol=1e-12, max_iter=10_000)
        model.fit(g[["x"]].to_numpy(), g["y"].to_numpy(), sample_weight=g["weight"].to_numpy())
        assert fitted.loc[agent, "intercept"] == pytest.approx(model.intercept_[0], rel=1e-6)
        assert fitted.loc[agent, "slope"] == pytest.approx(model.coef_[0, 0], rel=1e-6)
        checked += 1
    assert checked == 9


def test_matches_sklearn_with_fractional_scores(attempts):
    sklearn = pytest.importorskip("sklearn.linear_model")
    runs = horizon_runs(attempts, score="continuous")
    fitted = fit_horizons(attempts, score="continuous", n_bootstrap=0).table.set_index("agent")
    g = runs[runs["agent"] == "o1"]
    # METR's split of a fractional y into a weighted 0 and a weighted 1
    x = np.concatenate([g["x"], g["x"]])[:, None]
    y = np.r_[np.zeros(len(g)), np.ones(len(g))]
    w = np.r_[(1 - g["y"]) * g["weight"], g["y"] * g["weight"]]
    model = sklearn.LogisticRegression(C=10, tol=1e-12, max_iter=10_000).fit(x, y, sample_weight=w)
    assert fitted.loc["o1", "slope"] == pytest.approx(model.coef_[0, 0], rel=1e-6)


def test_weights_match_metr_columns(attempts):
    raw = pd.read_json(public_runs_path(), lines=True)
    raw = raw[raw["alias"] != "human"].reset_index(drop=True)
    runs = horizon_runs(attempts)
    assert np.abs(runs["weight"].to_numpy() - raw["invsqrt_task_weight"].to_numpy()).max() < 1e-9
    equal = horizon_runs(attempts, weighting="equal")
    assert np.abs(equal["weight"].to_numpy() - raw["equal_task_weight"].to_numpy()).max() < 1e-9
    assert np.allclose(runs.groupby("agent")["weight"].sum(), 1.0)


def test_public_data_headline_numbers(result):
    table = result.table.set_index("agent")
    sonnet = table.loc["Claude 3.5 Sonnet (New)"]
    assert 30 < sonnet["p50"] < 120  # "about an hour"
    assert sonnet["p50_low"] < sonnet["p50"] < sonnet["p50_high"]
    assert sonnet["p80"] < sonnet["p50"]
    gpt4 = table.loc["GPT-4 0314"]
    assert 1 < gpt4["p50"] < 15  # "a few minutes"
    assert (table.loc[table["status"] == "ok", "slope"] < 0).all()


def test_no_success_agent_is_reported_not_fitted(result):
    row = result.table.set_index("agent").loc["davinci-002"]
    assert row["status"] == "no_success" and np.isnan(row["p50"]) and np.isnan(row["p50_low"])
    assert row["n_boot_no_success"] == row["n_bootstrap"] == 1000
    assert any("davinci-002" in w for w in result.warnings)


def test_single_outcome_bootstrap_samples_are_counted(result):
    row = result.table.set_index("agent").loc["gpt-3.5-turbo-instruct"]
    assert row["n_boot_no_success"] > 0
    assert row["p50_low"] == 0.0  # those samples count as a horizon of 0
    assert row["extrapolated"]
    samples = result.samples[result.samples["agent"] == "gpt-3.5-turbo-instruct"]
    assert (samples["status"] == "no_success").sum() == row["n_boot_no_success"]


def test_all_success_agent_is_above_range():
    attempts, _ = simulate_runs(intercepts=[1.0], seed=1)
    attempts["success"] = True
    attempts["score"] = 1.0
    row = fit_horizons(attempts, n_bootstrap=50).table.iloc[0]
    assert row["status"] == "all_success" and np.isnan(row["p50"])


def test_bootstrap_is_seeded(attempts):
    a = fit_horizons(attempts, n_bootstrap=50, seed=5).table
    b = fit_horizons(attempts, n_bootstrap=50, seed=5).table
    c = fit_horizons(attempts, n_bootstrap=50, seed=6).table
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["p50_low"].fillna(0), c["p50_low"].fillna(0))


def test_options_change_the_fit(attempts):
    base = fit_horizons(attempts, n_bootstrap=0).table.set_index("agent")["p50"]
    for kwargs in ({"weighting": "none"}, {"regularization": 1.0}, {"score": "continuous"},
                   {"success_threshold": 0.5}):
        other = fit_horizons(attempts, n_bootstrap=0, **kwargs).table.set_index("agent")["p50"]
        assert not np.allclose(base.dropna(), other.reindex(base.dropna().index)), kwargs


def test_batched_fit_equals_one_at_a_time():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 10, 12)
    w1, w0 = rng.uniform(0, 1, (30, 12)), rng.uniform(0, 1, (30, 12))
    batch = fit_logistic_batch(x, w1, w0, 0.1)
    for i in (0, 7, 29):
        single = fit_logistic_batch(x, w1[i : i + 1], w0[i : i + 1], 0.1)
        assert single.intercept[0] == pytest.approx(batch.intercept[i], rel=1e-9)
        assert single.slope[0] == pytest.approx(batch.slope[i], rel=1e-9)
    assert batch.converged.all()


def test_batched_fit_statuses_and_separable_data():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    w1 = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0], [1, 1, 0, 0.0]])
    w0 = np.array([[1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1.0]])
    fit = fit_logistic_batch(x, w1, w0, 0.1)
    assert fit.status.tolist() == [1, 2, 3, 0]
    assert np.isnan(fit.intercept[:3]).all()
    # perfectly separable: the slope penalty keeps the optimum finite
    assert np.isfinite(fit.slope[3]) and fit.slope[3] < 0 and fit.converged[3]


def test_resampled_counts_follow_the_hierarchy():
    rng = np.random.default_rng(0)
    family = np.array([0, 0, 0, 1, 2, 2])
    counts = resample_task_counts(family, 4000, rng)
    # each family is drawn F times, then T_f tasks per copy: every task's count averages 1
    assert np.allclose(counts.mean(axis=0), 1.0, atol=0.06)
    # a family's tasks are drawn only when the family is: their sum is T_f x copies
    assert np.all(counts[:, :3].sum(axis=1) % 3 == 0)
    assert np.all(counts.sum(axis=1) % 1 == 0) and counts.sum(axis=1).mean() == pytest.approx(6, abs=0.1)
    # runs: a cell with 2 of 4 successes, task drawn twice -> 8 draws, ~half successes
    y = np.array([1.0, 1.0, 0.0, 0.0])
    w = np.full(4, 0.25)
    w1, w0 = resample_cell_weights(np.array([0]), [np.arange(4)], y, w,
                                   np.full((4000, 1), 2), rng)
    assert np.allclose(w1 + w0, 2.0)  # 8 draws x 0.25
    assert w1.mean() == pytest.approx(1.0, abs=0.03)
    # fractional outcomes take the general path with the same totals
    f1, f0 = resample_cell_weights(np.array([0]), [np.arange(4)], np.array([0.5, 1, 0, 0.25]),
                                   w, np.full((2000, 1), 1), rng)
    assert np.allclose(f1 + f0, 1.0) and f1.mean() == pytest.approx(0.4375, abs=0.02)


def test_quantile_with_inf():
    assert quantile_with_inf(np.array([1.0, 2.0, np.inf, np.inf]), 0.975) == np.inf
    assert quantile_with_inf(np.array([0.0, 1.0, 2.0, 3.0]), 0.5) == 1.5
    assert quantile_with_inf(np.array([np.nan, 1.0, 3.0]), 0.5) == 2.0


def test_plot_helpers(result, attempts):
    curves = horizon_curves(result, minutes=np.array([1.0, 60.0, 960.0]))
    assert list(curves.columns) == ["agent", "human_minutes", "p_success", "p_low", "p_high"]
    sonnet = curves[curves["agent"] == "Claude 3.5 Sonnet (New)"]
    assert sonnet["p_success"].is_monotonic_decreasing
    assert sonnet.iloc[1]["p_success"] == pytest.approx(0.5, abs=0.01)  # p50 ~ 60 min
    assert (sonnet["p_low"] <= sonnet["p_success"]).all()
    assert "davinci-002" not in set(curves["agent"])
    rates = empirical_success_rates(attempts)
    assert {"agent", "bin_low", "bin_high", "success_rate", "n_runs"} <= set(rates.columns)
    assert rates["success_rate"].between(0, 1).all()
    runs = horizon_runs(attempts)
    in_bins = runs["human_minutes"].between(1, 2880, inclusive="left").sum()
    assert rates["n_runs"].sum() == in_bins


def _naive_bootstrap_p50(runs: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Reference: resample explicit row indices families -> tasks -> runs (per task copy
    and agent), then fit each agent on the resampled rows. Slow and obvious."""
    rng = np.random.default_rng(seed)
    families = sorted(runs["task_family"].unique())
    tasks_of = {f: sorted(runs.loc[runs["task_family"] == f, "task_id"].unique()) for f in families}
    rows_of = {key: g.index.to_numpy() for key, g in runs.groupby(["task_id", "agent"])}
    agents = sorted(runs["agent"].unique())
    x_all, y_all, w_all = runs["x"].to_numpy(), runs["y"].to_numpy(), runs["weight"].to_numpy()
    out = []
    for _ in range(n):
        idx = []
        for f in rng.choice(families, size=len(families)):
            tasks = tasks_of[f]
            for t in rng.choice(tasks, size=len(tasks)):
                for a in agents:
                    rows = rows_of.get((t, a))
                    if rows is not None:
                        idx.append(rows[rng.integers(0, rows.size, size=rows.size)])
        idx = np.concatenate(idx)
        for j, a in enumerate(agents):
            sel = idx[runs["agent"].to_numpy()[idx] == a]
            xs = np.unique(x_all)
            pos = np.searchsorted(xs, x_all[sel])
            w1 = np.bincount(pos, weights=w_all[sel] * y_all[sel], minlength=xs.size)
            w0 = np.bincount(pos, weights=w_all[sel] * (1 - y_all[sel]), minlength=xs.size)
            fit = fit_logistic_batch(xs, w1[None], w0[None], 0.1)
            out.append({"agent": a, "log2_p50": -fit.intercept[0] / fit.slope[0]})
    return pd.DataFrame(out)


def test_vectorized_bootstrap_matches_naive_resampling():
    attempts, _ = simulate_runs(intercepts=[2.0, 3.5], slope=-0.6, n_families=12,
                                max_tasks_per_family=3, runs_per_task=(2, 5), seed=3)
    runs = horizon_runs(attempts)
    naive = _naive_bootstrap_p50(runs, 600, seed=1)
    fast = fit_horizons(attempts, n_bootstrap=3000, seed=2).samples
    fast = fast.assign(log2_p50=np.log2(fast["p50"]))
    for agent in ("agent000", "agent001"):
        a = naive.loc[naive["agent"] == agent, "log2_p50"]
        b = fast.loc[fast["agent"] == agent, "log2_p50"]
        # Same sampling distribution: quantiles agree within Monte Carlo error (in
        # doublings; the spread is ~1.5 doublings). Quantiles, not sd: a sample whose
        # slope is near 0 puts log2 p50 far out and makes the sd noisy.
        for q in (0.05, 0.25, 0.5, 0.75, 0.95):
            assert a.quantile(q) == pytest.approx(b.quantile(q), abs=0.25), (agent, q)
