"""Human task lengths from baselines: the geometric mean of successful baseliners' times.

METR sets a task's human minutes from expert baselines where it has them: the geometric
mean of the working times of the baseliners who succeeded. These pure functions compute
that from an Attempt table and lay it over the estimates the tasks declare.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

BASELINE_COLUMNS = ["task_id", "baselines", "successful", "baselined_minutes"]


def baselined_minutes(attempts: pd.DataFrame) -> pd.DataFrame:
    """Return, per task with at least one human attempt, its baselined length in minutes.

    Args:
        attempts: an Attempt table (columns `task_id`, `is_human`, `success`,
            `working_time_s`); agent rows are ignored.

    Returns:
        Columns `task_id`, `baselines` (human attempts), `successful` (those that succeeded
        with a positive working time) and `baselined_minutes` (the geometric mean of the
        successful ones' working minutes; NaN when none succeeded), sorted by task.

    Raises:
        ValueError: a required column is missing.
    """
    missing = {"task_id", "is_human", "success", "working_time_s"} - set(attempts.columns)
    if missing:
        raise ValueError(f"attempt table lacks column(s): {', '.join(sorted(missing))}")
    humans = attempts[attempts["is_human"].astype(bool)]
    rows = []
    for task_id, group in humans.groupby("task_id", sort=True):
        seconds = pd.to_numeric(group["working_time_s"], errors="coerce")
        ok = group["success"].astype(bool) & seconds.gt(0) & np.isfinite(seconds)
        minutes = seconds[ok] / 60.0
        geo = float(np.exp(np.log(minutes).mean())) if len(minutes) else math.nan
        rows.append(
            {
                "task_id": task_id,
                "baselines": len(group),
                "successful": int(ok.sum()),
                "baselined_minutes": geo,
            }
        )
    return pd.DataFrame(rows, columns=BASELINE_COLUMNS)


def apply_human_times(attempts: pd.DataFrame, baselines: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of `attempts` whose `human_minutes` use baselined times where they exist.

    A task with a finite `baselined_minutes` in `baselines` (from `baselined_minutes`) gets
    that length and `human_minutes_source = "baseline"`; every other row keeps its minutes
    and is marked "estimate" (unless it already says "baseline").
    """
    out = attempts.copy()
    known = baselines.dropna(subset=["baselined_minutes"])
    lengths = dict(zip(known["task_id"], known["baselined_minutes"]))
    out["human_minutes_source"] = out.get("human_minutes_source", "estimate")
    out["human_minutes_source"] = out["human_minutes_source"].fillna("estimate")
    hit = out["task_id"].isin(list(lengths))
    out.loc[hit, "human_minutes"] = out.loc[hit, "task_id"].map(lengths).astype(float)
    out.loc[hit, "human_minutes_source"] = "baseline"
    return out


def estimate_count(attempts: pd.DataFrame) -> tuple[int, int]:
    """Return (tasks whose length rests on an estimate, all tasks) in an Attempt table
    that has `human_minutes_source` (as `apply_human_times` returns)."""
    per_task = attempts.groupby("task_id")["human_minutes_source"].first()
    return int((per_task != "baseline").sum()), len(per_task)
