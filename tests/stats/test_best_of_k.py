"""Best-of-k, score at time, and the agent-vs-human comparison."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from rdbench.stats import (
    agent_vs_human,
    best_of_k,
    best_of_k_by_task,
    expected_max_of_k,
    score_at_time,
)


@pytest.mark.parametrize("seed", range(6))
def test_expected_max_equals_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    # few distinct values -> many ties
    scores = rng.choice([0.0, 0.25, 0.5, 0.5, 1.0, -0.3], size=n)
    for k in range(1, n + 1):
        brute = np.mean([max(c) for c in itertools.combinations(scores, k)])
        assert expected_max_of_k(scores, k) == pytest.approx(brute, rel=1e-12, abs=1e-12)


def test_expected_max_monte_carlo_on_known_distribution():
    # n uniform(0,1) scores; E[max of k drawn without replacement] estimated by
    # simulation must match the formula for the same sample.
    rng = np.random.default_rng(7)
    scores = rng.uniform(size=40)
    k = 5
    draws = np.array([rng.choice(scores, size=k, replace=False).max() for _ in range(20000)])
    se = draws.std() / np.sqrt(draws.size)
    assert abs(expected_max_of_k(scores, k) - draws.mean()) < 4 * se
    # and for a large sample, close to the population value k/(k+1) of U(0,1)
    big = rng.uniform(size=4000)
    assert expected_max_of_k(big, k) == pytest.approx(k / (k + 1), abs=0.01)


def test_expected_max_edge_cases():
    assert np.isnan(expected_max_of_k([1.0, 2.0], 3))
    assert expected_max_of_k([3.0, 1.0, 2.0], 3) == 3.0
    assert expected_max_of_k([3.0, 1.0, 2.0], 1) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        expected_max_of_k([1.0], 0)
    with pytest.raises(ValueError):
        expected_max_of_k([np.nan], 1)


def _attempts(rows):
    return pd.DataFrame(rows, columns=["attempt_id", "agent", "is_human", "task_id",
                                       "time_limit_s", "working_time_s", "score"])


def test_best_of_k_reports_tasks_with_fewer_than_k():
    df = _attempts([
        ("1", "A", False, "t1", 60, 60, 0.2),
        ("2", "A", False, "t1", 60, 60, 0.6),
        ("3", "A", False, "t1", 60, 60, -0.5),
        ("4", "A", False, "t2", 60, 60, 0.9),
    ])
    per_task = best_of_k_by_task(df, 2)
    assert per_task.set_index("task_id")["status"].to_dict() == {"t1": "ok", "t2": "fewer_than_k"}
    table = best_of_k(df, [1, 2], n_bootstrap=200)
    k2 = table[table["k"] == 2].iloc[0]
    assert (k2["n_tasks"], k2["n_tasks_short"], k2["tasks_short"]) == (1, 1, "t2")
    assert k2["score"] == pytest.approx((0.6 + 0.6 + 0.2) / 3)
    k1 = table[table["k"] == 1].iloc[0]
    assert k1["score"] == pytest.approx(((0.2 + 0.6 - 0.5) / 3 + 0.9) / 2)
    floored = best_of_k(df, [1], floor=True, n_bootstrap=0).iloc[0]
    assert floored["score"] == pytest.approx(((0.2 + 0.6 + 0.0) / 3 + 0.9) / 2)


def test_best_of_k_ci_covers_mean_and_is_seeded():
    rng = np.random.default_rng(0)
    rows = [(f"{t}-{i}", "A", False, f"t{t}", 60, 60, rng.uniform())
            for t in range(20) for i in range(4)]
    df = _attempts(rows)
    a = best_of_k(df, [2], seed=3)
    b = best_of_k(df, [2], seed=3)
    pd.testing.assert_frame_equal(a, b)
    row = a.iloc[0]
    assert row["score_low"] < row["score"] < row["score_high"]


def test_score_at_time_rules():
    attempts = _attempts([
        ("a", "A", False, "t1", 600, 600, 0.7),   # has a trajectory
        ("h", "human", True, "t1", None, 3600, 0.9),  # no trajectory
    ])
    traj = pd.DataFrame({"attempt_id": ["a", "a", "a"], "working_s": [100.0, 200.0, 300.0],
                         "score": [0.2, np.nan, 0.5]})
    out = score_at_time(attempts, traj, [50, 150, 250, 350, 4000])
    a = out[out["attempt_id"] == "a"]["score"].tolist()
    assert a == [0.0, 0.2, 0.2, 0.5, 0.7]  # 0 before any valid score; final once done
    h = out[out["attempt_id"] == "h"]["score"].tolist()
    assert np.isnan(h[:4]).all() and h[4] == 0.9  # unknown until the attempt ends


def test_score_at_time_starts_from_the_starting_solution():
    """A noisy negative re-score of the start never drags the best-so-far below 0."""
    attempts = _attempts([("r", "replay", False, "t1", 600, 600, 1.0)])
    traj = pd.DataFrame({"attempt_id": ["r", "r", "r"], "working_s": [10.0, 20.0, 30.0],
                         "score": [-0.2, -0.1, 1.0]})
    out = score_at_time(attempts, traj, [5, 15, 25, 35])
    assert out["score"].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_agent_vs_human_budgets():
    rows = []
    for t in ("t1", "t2"):
        rows += [(f"{t}a{i}", "A", False, t, 1800, 1800, s) for i, s in enumerate([0.1, 0.5, 0.3, 0.9])]
        rows += [(f"{t}h", "human", True, t, None, 7200, 0.8)]
    attempts = _attempts(rows)
    traj = pd.DataFrame({"attempt_id": ["t1h", "t2h"], "working_s": [1000.0, 1000.0],
                         "score": [0.4, 0.6]})
    out = agent_vs_human(attempts, traj, [1800, 7200], [1800], n_bootstrap=100)
    agent = out[~out["is_human"]].set_index("budget_s")
    assert agent.loc[1800, "k"] == 1 and agent.loc[7200, "k"] == 4
    assert agent.loc[1800, "score"] == pytest.approx(np.mean([0.1, 0.5, 0.3, 0.9]))
    assert agent.loc[7200, "score"] == pytest.approx(0.9)
    human = out[out["is_human"]].set_index("budget_s")
    assert human.loc[1800, "score"] == pytest.approx(0.5)  # mean of 0.4, 0.6 by 30 min
    assert human.loc[7200, "score"] == pytest.approx(0.8)


def test_human_rows_use_the_agents_tasks_and_count_unknown_scores():
    rows = [
        ("a1", "A", False, "t1", 1800, 1800, 0.4),
        ("a2", "A", False, "t1", 1800, 1800, 0.6),
        ("h1", "human", True, "t1", None, 7200, 0.8),  # no trajectory: unknown before 2h
        ("h2", "human", True, "t2", None, 600, 1.0),  # a task no agent row covers
    ]
    out = agent_vs_human(_attempts(rows), None, [1800, 7200], [1800], n_bootstrap=50)
    human = out[out["is_human"]].set_index("budget_s")
    assert human.loc[1800, "n_tasks"] == 0 and human.loc[1800, "n_unknown"] == 1
    assert np.isnan(human.loc[1800, "score"])
    assert human.loc[7200, "score"] == pytest.approx(0.8) and human.loc[7200, "n_tasks"] == 1
