"""Per-run weights for the time-horizon fit (METR's ``compute_task_weights``)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["Weighting", "task_weights"]

Weighting = Literal["invsqrt", "equal", "none"]


def task_weights(
    runs: pd.DataFrame,
    scheme: Weighting = "invsqrt",
    *,
    agent_col: str = "agent",
    task_col: str = "task_id",
    family_col: str = "task_family",
) -> pd.Series:
    """Weight of each run, normalized to sum to 1 per agent.

    - ``invsqrt``: ``1 / runs-of-this-agent-on-the-task / sqrt(tasks-this-agent-ran-in-the-family)``
      so that each task counts once however often it was run, and a large family cannot
      dominate (METR's ``invsqrt_task_weight``).
    - ``equal``: ``1 / runs-on-the-task`` (each task counts once; ``equal_task_weight``).
    - ``none``: every run counts the same.

    Args:
        runs: one row per run, with agent, task and family columns.
        scheme: ``"invsqrt"``, ``"equal"`` or ``"none"``.

    Returns:
        A float Series aligned with ``runs.index`` named ``weight``.

    Raises:
        ValueError: an unknown scheme.
    """
    if scheme not in ("invsqrt", "equal", "none"):
        raise ValueError(f"unknown weighting {scheme!r}: use invsqrt, equal or none")
    if runs.empty:
        return pd.Series(np.zeros(0), index=runs.index, name="weight")
    agent, task, family = runs[agent_col], runs[task_col], runs[family_col]
    if scheme == "none":
        raw = pd.Series(1.0, index=runs.index)
    else:
        runs_in_task = runs.groupby([agent_col, task_col], sort=False)[task_col].transform("size")
        raw = 1.0 / runs_in_task.astype(float)
        if scheme == "invsqrt":
            tasks_in_family = (
                pd.DataFrame({"a": agent, "t": task, "f": family})
                .groupby(["a", "f"], sort=False)["t"]
                .transform("nunique")
            )
            raw = raw / np.sqrt(tasks_in_family.astype(float))
    total = raw.groupby(agent, sort=False).transform("sum")
    return (raw / total).rename("weight")
