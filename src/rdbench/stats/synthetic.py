"""Synthetic run data from a known logistic model: for coverage checks and examples."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_paired_arms", "simulate_runs"]


def simulate_runs(
    *,
    intercepts: np.ndarray | list[float],
    slope: float = -0.35,
    n_families: int = 30,
    max_tasks_per_family: int = 4,
    runs_per_task: tuple[int, int] = (3, 8),
    minutes_range: tuple[float, float] = (1.0, 1000.0),
    task_effect_sd: float = 0.7,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs of several agents on one family/task design, from a known logistic model.

    Agent ``j`` succeeds on task ``t`` with probability
    ``sigmoid(intercepts[j] + slope * log2(minutes_t) + u_jt)``, ``u_jt ~ N(0, sd)``
    drawn per agent and task (tasks differ in difficulty beyond their length). Because
    ``u`` is symmetric around 0, the population curve still crosses 50% at
    ``2^(-intercept/slope)``: that is each agent's true p50.

    Args:
        intercepts: one per agent.
        slope: shared slope per doubling of human minutes (negative).
        n_families, max_tasks_per_family: design size (1..max tasks per family).
        runs_per_task: inclusive range of runs per agent and task.
        minutes_range: human minutes are log-uniform in this range.
        task_effect_sd: sd of the per-task random effect on the logit.
        seed: seeds everything.

    Returns:
        ``(attempts, truth)``: a minimal Attempt table (``attempt_id, agent, is_human,
        task_family, task_id, human_minutes, score, success``) and ``agent, p50`` (true).
    """
    rng = np.random.default_rng(seed)
    intercepts = np.asarray(intercepts, dtype=float)
    sizes = rng.integers(1, max_tasks_per_family + 1, size=n_families)
    family = np.repeat(np.arange(n_families), sizes)
    n_tasks = family.size
    lo, hi = np.log2(minutes_range[0]), np.log2(minutes_range[1])
    x = rng.uniform(lo, hi, size=n_tasks)
    frames = []
    for j, a in enumerate(intercepts):
        runs = rng.integers(runs_per_task[0], runs_per_task[1] + 1, size=n_tasks)
        task = np.repeat(np.arange(n_tasks), runs)
        u = rng.normal(0.0, task_effect_sd, size=n_tasks)
        p = 1 / (1 + np.exp(-(a + slope * x[task] + u[task])))
        y = rng.random(task.size) < p
        frames.append(
            pd.DataFrame(
                {
                    "attempt_id": [f"a{j}-{i}" for i in range(task.size)],
                    "agent": f"agent{j:03d}",
                    "is_human": False,
                    "task_family": [f"f{f:03d}" for f in family[task]],
                    "task_id": [f"f{family[t]:03d}/t{t:03d}" for t in task],
                    "human_minutes": np.exp2(x[task]),
                    "score": y.astype(float),
                    "success": y,
                }
            )
        )
    truth = pd.DataFrame(
        {
            "agent": [f"agent{j:03d}" for j in range(intercepts.size)],
            "p50": np.exp2(-intercepts / slope),
        }
    )
    return pd.concat(frames, ignore_index=True), truth


def simulate_paired_arms(
    *,
    base_intercept: float,
    elicited_intercept: float,
    slope: float = -0.5,
    n_families: int = 30,
    max_tasks_per_family: int = 3,
    runs_per_task: tuple[int, int] = (3, 6),
    minutes_range: tuple[float, float] = (1.0, 2000.0),
    task_effect_sd: float = 1.0,
    shared_task_effects: bool = True,
    model: str = "model-x",
    seed: int = 0,
) -> tuple[pd.DataFrame, float]:
    """Runs of one model under two configurations on the same tasks, with a known gap.

    Each configuration follows :func:`simulate_runs`' logistic model with its own
    intercept and a shared slope; with ``shared_task_effects`` both arms see the same
    per-task difficulty ``u_t`` (what makes real arms correlated: a hard task is hard for
    both), otherwise each arm draws its own.

    Returns:
        ``(attempts, true_ratio)``: an Attempt table with ``model``, ``agent`` (``base`` or
        ``elicited``), ``scaffold`` (NA), ``time_limit_s`` (NaN) besides the columns of
        :func:`simulate_runs`; and the true horizon ratio
        ``2^((base_intercept - elicited_intercept) / slope)`` = p50(elicited) / p50(base).
    """
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_tasks_per_family + 1, size=n_families)
    family = np.repeat(np.arange(n_families), sizes)
    n_tasks = family.size
    lo, hi = np.log2(minutes_range[0]), np.log2(minutes_range[1])
    x = rng.uniform(lo, hi, size=n_tasks)
    shared = rng.normal(0.0, task_effect_sd, size=n_tasks)
    frames = []
    for arm, intercept in (("base", base_intercept), ("elicited", elicited_intercept)):
        u = shared if shared_task_effects else rng.normal(0.0, task_effect_sd, size=n_tasks)
        runs = rng.integers(runs_per_task[0], runs_per_task[1] + 1, size=n_tasks)
        task = np.repeat(np.arange(n_tasks), runs)
        p = 1 / (1 + np.exp(-(intercept + slope * x[task] + u[task])))
        y = rng.random(task.size) < p
        frames.append(
            pd.DataFrame(
                {
                    "attempt_id": [f"{arm}-{i}" for i in range(task.size)],
                    "agent": arm,
                    "model": model,
                    "scaffold": pd.NA,
                    "is_human": False,
                    "task_family": [f"f{f:03d}" for f in family[task]],
                    "task_id": [f"f{family[t]:03d}/t{t:03d}" for t in task],
                    "human_minutes": np.exp2(x[task]),
                    "time_limit_s": np.nan,
                    "score": y.astype(float),
                    "success": y,
                }
            )
        )
    true_ratio = float(np.exp2((base_intercept - elicited_intercept) / slope))
    return pd.concat(frames, ignore_index=True), true_ratio
