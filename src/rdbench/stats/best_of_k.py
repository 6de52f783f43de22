"""Best-of-k over a total time budget, score at time, and agents vs humans.

RE-Bench's comparison: with a total budget ``T`` and attempts of length ``t``, an agent
gets ``k = T // t`` attempts and keeps the best; humans get one attempt of length ``T``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "expected_max_of_k",
    "best_of_k_by_task",
    "best_of_k",
    "score_at_time",
    "score_at_time_summary",
    "attempt_scores_for_length",
    "agent_vs_human",
]

_LENGTH_TOL = 0.01  # attempt lengths within 1% count as the same length


def expected_max_of_k(scores: Sequence[float] | np.ndarray, k: int) -> float:
    """Unbiased expected maximum of ``k`` attempts drawn without replacement from ``n``.

    With sorted scores ``x(1) <= ... <= x(n)``:
    ``E[max_k] = sum_{i=k..n} C(i-1, k-1) / C(n, k) * x(i)`` -- the probability that
    ``x(i)`` is the largest of a uniformly random k-subset, times ``x(i)``. Ties need no
    special care: tied values are interchangeable.

    Args:
        scores: the ``n`` attempt scores (no NaN; map invalid attempts beforehand).
        k: attempts per budget, ``1 <= k``.

    Returns:
        The expected maximum; NaN when ``n < k`` (not enough attempts to say).

    Raises:
        ValueError: ``k < 1`` or NaN in ``scores``.
    """
    x = np.sort(np.asarray(scores, dtype=float))
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if np.isnan(x).any():
        raise ValueError("scores contain NaN")
    n = x.size
    if n < k:
        return float("nan")
    from scipy.special import gammaln

    i = np.arange(k, n + 1)
    # log C(i-1, k-1) - log C(n, k), computed in logs so large n cannot overflow
    log_w = (
        gammaln(i) - gammaln(k) - gammaln(i - k + 1)
        - (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1))
    )
    return float(np.exp(log_w) @ x[k - 1 :])


def _bootstrap_mean_ci(values: np.ndarray, n_bootstrap: int, rng, confidence: float):
    # A single task (or no bootstrap) gives no interval rather than a zero-width one.
    if values.size < 2 or n_bootstrap <= 0:
        return np.nan, np.nan
    idx = rng.integers(0, values.size, size=(n_bootstrap, values.size))
    means = values[idx].mean(axis=1)
    lo = (1 - confidence) / 2
    return float(np.quantile(means, lo)), float(np.quantile(means, 1 - lo))


def attempt_scores_for_length(
    attempts: pd.DataFrame,
    attempt_length_s: float,
    trajectories: pd.DataFrame | None = None,
    *,
    truncate_longer: bool = False,
    nan_score: float = 0.0,
) -> pd.DataFrame:
    """Scores of the attempts that count as "an attempt of length t".

    Attempts whose ``time_limit_s`` is within 1% of ``t`` count with their final
    ``score``. With ``truncate_longer``, attempts with a longer limit also count, with the
    best score their trajectory reached by ``t`` (see :func:`score_at_time`).

    Args:
        attempts: the Attempt table.
        attempt_length_s: ``t`` in seconds.
        trajectories: the trajectory table (needed for ``truncate_longer``).
        truncate_longer: also use longer attempts, cut at ``t``.
        nan_score: score given to an invalid final submission (NaN score); 0.0 is the
            starting solution's normalized score.

    Returns:
        The matching rows of ``attempts`` with ``score`` replaced as described.
    """
    limit = attempts["time_limit_s"].astype(float)
    exact = (limit - attempt_length_s).abs() <= _LENGTH_TOL * attempt_length_s
    out = attempts[exact].copy()
    out["score"] = out["score"].astype(float).fillna(nan_score)
    if truncate_longer and trajectories is not None:
        longer = attempts[limit > attempt_length_s * (1 + _LENGTH_TOL)]
        if len(longer):
            cut = score_at_time(longer, trajectories, [attempt_length_s])
            longer = longer.assign(score=cut["score"].to_numpy()).dropna(subset=["score"])
            out = pd.concat([out, longer], ignore_index=True)
    return out


def best_of_k_by_task(
    attempts: pd.DataFrame,
    k: int,
    *,
    group_cols: Sequence[str] = ("agent",),
    floor: bool = False,
    nan_score: float = 0.0,
) -> pd.DataFrame:
    """Expected best-of-k score per group and task.

    Args:
        attempts: rows with ``task_id``, ``score`` and the ``group_cols``.
        k: attempts per budget.
        group_cols: what to compare (default: per agent).
        floor: clip scores at 0 first (a worse-than-starting submission counts as the
            starting solution, which the agent could always have submitted).
        nan_score: value for NaN scores (invalid submissions).

    Returns:
        One row per group and task: the group columns, ``task_id``, ``n_attempts``, ``k``,
        ``expected_max`` (NaN if ``n_attempts < k``), ``status`` (``ok`` or
        ``fewer_than_k``).
    """
    rows = []
    scores = attempts["score"].astype(float).fillna(nan_score)
    if floor:
        scores = scores.clip(lower=0.0)
    df = attempts.assign(_score=scores)
    for key, g in df.groupby([*group_cols, "task_id"], sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        values = g["_score"].to_numpy()
        rows.append(
            {
                **dict(zip([*group_cols, "task_id"], key)),
                "n_attempts": values.size,
                "k": k,
                "expected_max": expected_max_of_k(values, k),
                "status": "ok" if values.size >= k else "fewer_than_k",
            }
        )
    cols = [*group_cols, "task_id", "n_attempts", "k", "expected_max", "status"]
    return pd.DataFrame(rows, columns=cols)


def best_of_k(
    attempts: pd.DataFrame,
    k_values: Sequence[int],
    *,
    group_cols: Sequence[str] = ("agent",),
    floor: bool = False,
    nan_score: float = 0.0,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean over tasks of the expected best-of-k score, with a bootstrap CI over tasks.

    Args:
        attempts: rows with ``task_id``, ``score`` and the ``group_cols``.
        k_values: the k to evaluate.
        group_cols, floor, nan_score: see :func:`best_of_k_by_task`.
        n_bootstrap, seed, confidence: the task bootstrap (seeded).

    Returns:
        One row per group and k: the group columns, ``k``, ``score`` (mean over tasks with
        at least k attempts), ``score_low``, ``score_high``, ``n_tasks`` (used),
        ``n_tasks_short`` (tasks with fewer than k attempts: reported, not in the mean),
        ``tasks_short`` (their ids, comma-separated).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for k in k_values:
        per_task = best_of_k_by_task(
            attempts, int(k), group_cols=group_cols, floor=floor, nan_score=nan_score
        )
        for key, g in per_task.groupby(list(group_cols), sort=True, observed=True):
            key = key if isinstance(key, tuple) else (key,)
            ok = g[g["status"] == "ok"]
            values = ok["expected_max"].to_numpy(dtype=float)
            lo, hi = _bootstrap_mean_ci(values, n_bootstrap, rng, confidence)
            short = g.loc[g["status"] != "ok", "task_id"].astype(str).tolist()
            rows.append(
                {
                    **dict(zip(group_cols, key)),
                    "k": int(k),
                    "score": float(values.mean()) if values.size else np.nan,
                    "score_low": lo,
                    "score_high": hi,
                    "n_tasks": int(values.size),
                    "n_tasks_short": len(short),
                    "tasks_short": ",".join(short),
                }
            )
    cols = [*group_cols, "k", "score", "score_low", "score_high", "n_tasks", "n_tasks_short",
            "tasks_short"]
    return pd.DataFrame(rows, columns=cols)


def score_at_time(
    attempts: pd.DataFrame,
    trajectories: pd.DataFrame,
    taus_s: Sequence[float],
) -> pd.DataFrame:
    """Best score each attempt had reached by working time ``tau``.

    Rules (the same for agents and humans):
    - with a trajectory: the best valid score among points with ``working_s <= tau``,
      and the final score too once ``tau >= working_time_s``. The starting solution
      (normalized 0 by definition) is the attempt's first point, so the best-so-far
      starts at 0 and never drops below it: a noisy re-scoring of the starting solution
      at -0.2 does not make the attempt worse than where it began;
    - without a trajectory: the final score is known only from ``working_time_s`` on;
      before that the score is unknown (NaN), not guessed.

    Args:
        attempts: the Attempt table.
        trajectories: the trajectory table.
        taus_s: working times in seconds.

    Returns:
        Long DataFrame: ``attempt_id, agent, is_human, task_id, tau_s, score`` (one row
        per attempt and tau, in attempts' order then tau).
    """
    taus = np.asarray(list(taus_s), dtype=float)
    ids = attempts["attempt_id"].astype(str).to_numpy()
    final = attempts["score"].astype(float).to_numpy()
    wt = attempts["working_time_s"].astype(float).to_numpy()
    out = np.full((len(attempts), taus.size), np.nan)
    # Final score once the attempt is over (NaN working time: treat as over at any tau).
    done = ~(wt[:, None] > taus[None, :])
    out = np.where(done & ~np.isnan(final)[:, None], final[:, None], out)
    traj = trajectories[trajectories["attempt_id"].astype(str).isin(set(ids))]
    has_traj = np.isin(ids, traj["attempt_id"].astype(str).unique())
    if len(traj):
        pos = pd.Index(ids).get_indexer(traj["attempt_id"].astype(str))
        w = traj["working_s"].astype(float).to_numpy()
        s = traj["score"].astype(float).to_numpy()
        valid = ~np.isnan(s)
        for j, tau in enumerate(taus):
            m = valid & (w <= tau)
            reached = np.zeros(len(attempts))  # the starting solution's 0
            np.maximum.at(reached, pos[m], s[m])
            current = out[:, j]
            combined = np.where(np.isnan(current), reached, np.maximum(current, reached))
            out[:, j] = np.where(has_traj, combined, current)
    n = len(attempts)
    return pd.DataFrame(
        {
            "attempt_id": np.repeat(ids, taus.size),
            "agent": np.repeat(attempts["agent"].astype(str).to_numpy(), taus.size),
            "is_human": np.repeat(attempts["is_human"].astype(bool).to_numpy(), taus.size),
            "task_id": np.repeat(attempts["task_id"].astype(str).to_numpy(), taus.size),
            "tau_s": np.tile(taus, n),
            "score": out.ravel(),
        }
    )


def score_at_time_summary(
    attempts: pd.DataFrame,
    trajectories: pd.DataFrame,
    taus_s: Sequence[float],
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean score reached by each working time, per agent (humans as ``human``).

    Mean over attempts within a task, then over tasks; CI by bootstrap over tasks.

    Returns:
        ``agent, is_human, tau_s, score, score_low, score_high, n_tasks, n_attempts,
        n_unknown`` (attempts without a trajectory still running at tau).
    """
    long = score_at_time(attempts, trajectories, taus_s)
    rng = np.random.default_rng(seed)
    rows = []
    for (agent, is_human, tau), g in long.groupby(["agent", "is_human", "tau_s"], sort=True):
        known = g.dropna(subset=["score"])
        per_task = known.groupby("task_id")["score"].mean().to_numpy()
        lo, hi = _bootstrap_mean_ci(per_task, n_bootstrap, rng, confidence)
        rows.append(
            {
                "agent": agent,
                "is_human": bool(is_human),
                "tau_s": float(tau),
                "score": float(per_task.mean()) if per_task.size else np.nan,
                "score_low": lo,
                "score_high": hi,
                "n_tasks": int(per_task.size),
                "n_attempts": int(len(known)),
                "n_unknown": int(len(g) - len(known)),
            }
        )
    return pd.DataFrame(rows)


def agent_vs_human(
    attempts: pd.DataFrame,
    trajectories: pd.DataFrame | None,
    budgets_s: Sequence[float],
    attempt_lengths_s: Sequence[float],
    *,
    floor: bool = False,
    truncate_longer: bool = False,
    common_tasks: bool = True,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """RE-Bench comparison at equal total budgets: agents' best-of-k vs humans' score.

    For each budget ``T``: each agent, for each attempt length ``t <= T``, gets
    ``k = T // t`` attempts of length ``t`` (expected best-of-k per task, mean over
    tasks); humans get their score reached by working time ``T`` (mean over attempts per
    task, then over tasks). CIs by bootstrap over tasks.

    Args:
        attempts: the Attempt table (humans have ``is_human``).
        trajectories: the trajectory table (None: final scores only).
        budgets_s: total budgets ``T`` in seconds.
        attempt_lengths_s: agent attempt lengths ``t`` in seconds.
        floor: clip scores at 0 (see :func:`best_of_k_by_task`).
        truncate_longer: also use longer agent attempts cut at ``t``.
        common_tasks: when there are both, restrict agents to the tasks humans attempted,
            and the human row of each budget to the tasks the agent rows of that budget
            cover, so the rows are comparable (``n_tasks`` shows what each row used).
        n_bootstrap, seed, confidence: the task bootstrap.

    Returns:
        Long DataFrame: ``budget_s, agent, is_human, attempt_length_s, k, score,
        score_low, score_high, n_tasks, n_tasks_short, tasks_short, n_attempts,
        n_unknown``. Human rows have ``attempt_length_s = budget_s``, ``k = 1`` and
        ``n_unknown`` = human attempts whose score at the budget is unknown (no
        trajectory, still running).
    """
    trajectories = trajectories if trajectories is not None else pd.DataFrame(
        {"attempt_id": pd.Series(dtype="string"), "working_s": pd.Series(dtype=float),
         "score": pd.Series(dtype=float)}
    )
    humans = attempts[attempts["is_human"].astype(bool)]
    agents = attempts[~attempts["is_human"].astype(bool)]
    if common_tasks and len(humans) and len(agents):
        tasks = set(humans["task_id"].astype(str)) & set(agents["task_id"].astype(str))
        agents = agents[agents["task_id"].astype(str).isin(tasks)]
        humans = humans[humans["task_id"].astype(str).isin(tasks)]
    rows = []
    rng_seed = seed
    for budget in budgets_s:
        budget_tasks: set[str] = set()
        for length in attempt_lengths_s:
            if length > budget * (1 + _LENGTH_TOL):
                continue
            k = max(1, int(budget // length + 1e-9))
            pool = attempt_scores_for_length(
                agents, length, trajectories, truncate_longer=truncate_longer
            )
            if pool.empty:
                continue
            budget_tasks |= set(pool["task_id"].astype(str))
            table = best_of_k(
                pool, [k], floor=floor, n_bootstrap=n_bootstrap, seed=rng_seed,
                confidence=confidence,
            )
            counts = pool.groupby("agent").size()
            for row in table.itertuples(index=False):
                rows.append(
                    {
                        "budget_s": float(budget),
                        "agent": row.agent,
                        "is_human": False,
                        "attempt_length_s": float(length),
                        "k": k,
                        "score": row.score,
                        "score_low": row.score_low,
                        "score_high": row.score_high,
                        "n_tasks": row.n_tasks,
                        "n_tasks_short": row.n_tasks_short,
                        "tasks_short": row.tasks_short,
                        "n_attempts": int(counts.get(row.agent, 0)),
                        "n_unknown": 0,
                    }
                )
        budget_humans = humans
        if common_tasks and budget_tasks:
            # Compare on the tasks the agents' rows at this budget cover.
            budget_humans = humans[humans["task_id"].astype(str).isin(budget_tasks)]
        if len(budget_humans):
            summary = score_at_time_summary(
                budget_humans, trajectories, [budget], n_bootstrap=n_bootstrap,
                seed=rng_seed, confidence=confidence,
            )
            if floor:
                # Floor per attempt, then average: recompute on clipped scores.
                long = score_at_time(budget_humans, trajectories, [budget])
                long["score"] = long["score"].clip(lower=0.0)
                per_task = long.dropna(subset=["score"]).groupby("task_id")["score"].mean()
                lo, hi = _bootstrap_mean_ci(
                    per_task.to_numpy(), n_bootstrap, np.random.default_rng(rng_seed), confidence
                )
                summary = summary.assign(score=per_task.mean(), score_low=lo, score_high=hi)
            for row in summary.itertuples(index=False):
                rows.append(
                    {
                        "budget_s": float(budget),
                        "agent": row.agent,
                        "is_human": True,
                        "attempt_length_s": float(budget),
                        "k": 1,
                        "score": row.score,
                        "score_low": row.score_low,
                        "score_high": row.score_high,
                        "n_tasks": row.n_tasks,
                        "n_tasks_short": 0,
                        "tasks_short": "",
                        "n_attempts": row.n_attempts,
                        "n_unknown": row.n_unknown,
                    }
                )
        rng_seed += 1
    cols = ["budget_s", "agent", "is_human", "attempt_length_s", "k", "score", "score_low",
            "score_high", "n_tasks", "n_tasks_short", "tasks_short", "n_attempts", "n_unknown"]
    return pd.DataFrame(rows, columns=cols)
