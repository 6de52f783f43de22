"""METR time horizon: per-agent weighted logistic fit on log2(human minutes), with a
vectorized hierarchical bootstrap.

Follows "Measuring AI Ability to Complete Long Tasks" (arXiv 2503.14499) and METR's
public pipeline (eval-analysis-public): ``P(success) = sigmoid(a + b*log2(minutes))``,
weights ``1/runs-per-task/sqrt(tasks-in-family)`` normalized per agent, L2 penalty 0.1 on
the slope only (sklearn ``LogisticRegression(C=10)``), p50 ``= 2^(-a/b)``,
p80 ``= 2^((ln 4 - a)/b)``, 95% CI from 1000 family -> task -> run bootstrap samples.
As in METR's pipeline, bootstrap samples keep each drawn run's original weight (no
renormalization), so a sample's total weight varies around 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from rdbench.stats.bootstrap import resample_cell_weights, resample_task_counts
from rdbench.stats.logistic import (
    ALL_SUCCESS,
    FITTED,
    NO_DATA,
    NO_SUCCESS,
    fit_logistic_batch,
    horizon_minutes,
)
from rdbench.stats.status import HorizonStatus
from rdbench.stats.weights import Weighting, task_weights

__all__ = [
    "HorizonResult",
    "ScoreMode",
    "horizon_runs",
    "count_bad_minutes",
    "fit_horizons",
    "horizon_curves",
    "empirical_success_rates",
    "quantile_with_inf",
    "DEFAULT_BINS_MINUTES",
]

ScoreMode = Literal["binarized", "continuous"]
STATUS_NAMES = {
    FITTED: HorizonStatus.OK,
    NO_SUCCESS: HorizonStatus.NO_SUCCESS,
    ALL_SUCCESS: HorizonStatus.ALL_SUCCESS,
    NO_DATA: HorizonStatus.NO_DATA,
}
# METR's buckets for empirical success rates (minutes).
DEFAULT_BINS_MINUTES = (1, 4, 16, 64, 256, 960, 2880)


@dataclass
class HorizonResult:
    """Everything :func:`fit_horizons` computed.

    Attributes:
        table: one row per agent. Columns: ``agent``, ``n_runs``, ``n_tasks``,
            ``n_families``, ``success_rate`` (weighted mean outcome), ``intercept``,
            ``slope`` (per doubling of human minutes), ``p50``, ``p50_low``, ``p50_high``,
            ``p80``, ``p80_low``, ``p80_high`` (minutes; NaN unless status is ``ok`` or
            ``increasing``), ``status`` (``ok``;
            ``no_success`` = below the measurable range; ``all_success`` = above it;
            ``increasing`` = fitted slope >= 0, p50 is not a horizon),
            ``extrapolated`` (p50 outside the agent's range of task lengths),
            ``min_minutes``, ``max_minutes`` (that range), ``n_bootstrap``
            (samples with data for the agent), ``n_boot_no_success``,
            ``n_boot_all_success`` (samples with a single outcome: counted in the CI as a
            horizon of 0 resp. infinity), ``note``.
        samples: long table of bootstrap fits: ``sample``, ``agent``, ``intercept``,
            ``slope``, ``p50``, ``p80``, ``status`` (``ok``/``no_success``/``all_success``/
            ``no_data``). ``p50`` is 0 for ``no_success``, inf for ``all_success``.
        settings: the options used (for provenance in JSON output).
        warnings: human-readable notes (e.g. agents with a single outcome).
    """

    table: pd.DataFrame
    samples: pd.DataFrame
    settings: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def horizon_runs(
    attempts: pd.DataFrame,
    *,
    weighting: Weighting = "invsqrt",
    score: ScoreMode = "binarized",
    success_threshold: float | None = None,
    include_humans: bool = False,
) -> pd.DataFrame:
    """The rows a horizon fit uses, with outcome ``y`` and weight.

    Args:
        attempts: the Attempt table (see ``rdbench.records``).
        weighting: ``invsqrt`` (default), ``equal`` or ``none``; normalized per agent.
        score: ``binarized`` uses ``success``; ``continuous`` uses ``score`` clipped to
            [0, 1] as a fractional outcome.
        success_threshold: if given, ``y = score >= threshold`` (overrides ``score``).
        include_humans: fit human baselines too (off: human time defines the x axis).

    Returns:
        Columns ``agent, task_family, task_id, human_minutes, x`` (log2 minutes), ``y``,
        ``weight``; rows with an unknown outcome, or a human_minutes that is missing,
        infinite, zero or negative, dropped (:func:`count_bad_minutes` counts the latter).

    Raises:
        ValueError: a task has more than one human_minutes value, or an unknown score mode.
    """
    df = attempts
    if not include_humans and "is_human" in df:
        df = df[~df["is_human"].astype(bool)]
    if success_threshold is not None:
        y = np.where(df["score"].isna(), np.nan, (df["score"] >= success_threshold).astype(float))
    elif score == "binarized":
        y = df["success"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    elif score == "continuous":
        y = df["score"].astype(float).clip(0.0, 1.0).to_numpy()
    else:
        raise ValueError(f"unknown score mode {score!r}: use binarized or continuous")
    out = pd.DataFrame(
        {
            "agent": df["agent"].astype(str).to_numpy(),
            "task_family": df["task_family"].astype(str).to_numpy(),
            "task_id": df["task_id"].astype(str).to_numpy(),
            "human_minutes": df["human_minutes"].astype(float).to_numpy(),
            "y": y,
        }
    )
    minutes_ok = np.isfinite(out["human_minutes"]) & (out["human_minutes"] > 0)
    out = out[out["y"].notna() & minutes_ok].reset_index(drop=True)
    varying = out.groupby("task_id")["human_minutes"].nunique()
    if (varying > 1).any():
        raise ValueError(
            f"tasks with more than one human_minutes: {', '.join(varying[varying > 1].index[:5])}"
        )
    out["x"] = np.log2(out["human_minutes"])
    out["weight"] = task_weights(out, weighting).to_numpy()
    return out


def quantile_with_inf(values: np.ndarray, q: float, axis: int = 0) -> np.ndarray:
    """Linear-interpolated quantile that tolerates +-inf (and ignores NaN).

    ``np.nanquantile`` turns ``inf - inf`` into NaN; here a quantile that falls next to an
    infinite value is that infinity, which is the honest answer for a horizon whose
    bootstrap samples are partly beyond the measurable range.

    Returns:
        The quantile along ``axis`` (NaN where no finite-or-infinite value exists).
    """
    values = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    flat = values.reshape(-1, values.shape[-1])
    out = np.full(flat.shape[0], np.nan)
    for i, row in enumerate(flat):
        row = np.sort(row[~np.isnan(row)])
        if row.size == 0:
            continue
        pos = q * (row.size - 1)
        lo, hi = int(np.floor(pos)), int(np.ceil(pos))
        if np.isinf(row[lo]) or np.isinf(row[hi]):
            out[i] = row[lo] if np.isinf(row[lo]) and row[lo] < 0 else row[hi]
            if np.isinf(row[lo]) and np.isinf(row[hi]) and row[lo] != row[hi]:
                out[i] = row[lo] if q < 0.5 else row[hi]
        else:
            out[i] = row[lo] + (row[hi] - row[lo]) * (pos - lo)
    return out.reshape(values.shape[:-1])


def _p_from_fit(intercept, slope, status, probability):
    p = horizon_minutes(intercept, slope, probability)
    p = np.where(status == NO_SUCCESS, 0.0, p)
    p = np.where(status == ALL_SUCCESS, np.inf, p)
    return p


def count_bad_minutes(
    attempts: pd.DataFrame, *, include_humans: bool = False
) -> tuple[int, list[str]]:
    """Count the runs a horizon fit leaves out for their ``human_minutes`` (missing, zero,
    negative or infinite).

    Returns:
        ``(number of runs, sorted task ids)``.
    """
    df = attempts
    if not include_humans and "is_human" in df:
        df = df[~df["is_human"].astype(bool)]
    minutes = df["human_minutes"].astype(float)
    bad = ~(np.isfinite(minutes) & (minutes > 0))
    return int(bad.sum()), sorted(df.loc[bad, "task_id"].astype(str).unique())


def fit_horizons(
    attempts: pd.DataFrame,
    *,
    weighting: Weighting = "invsqrt",
    regularization: float = 0.1,
    score: ScoreMode = "binarized",
    success_threshold: float | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    include_humans: bool = False,
) -> HorizonResult:
    """Time horizon (p50, p80) per agent with hierarchical-bootstrap confidence intervals.

    Args:
        attempts: the Attempt table (``agent, is_human, task_family, task_id,
            human_minutes, score, success``).
        weighting: run weights, see :func:`rdbench.stats.task_weights`.
        regularization: L2 penalty on the slope (sklearn ``C = 1/regularization``).
        score, success_threshold, include_humans: see :func:`horizon_runs`.
        n_bootstrap: bootstrap samples (0 for point estimates only).
        seed: seeds the one generator used for all resampling.
        confidence: two-sided level of the percentile intervals.

    Returns:
        A :class:`HorizonResult`.

    Raises:
        ValueError: no usable runs, or bad options.
    """
    if regularization < 0:
        raise ValueError("regularization must be >= 0")
    runs = horizon_runs(
        attempts,
        weighting=weighting,
        score=score,
        success_threshold=success_threshold,
        include_humans=include_humans,
    )
    n_bad, bad_tasks = count_bad_minutes(attempts, include_humans=include_humans)
    bad_note = (
        f"{n_bad} run(s) left out: human_minutes missing, zero, negative or infinite "
        f"(tasks: {', '.join(bad_tasks[:5])}{', ...' if len(bad_tasks) > 5 else ''})"
        if n_bad else ""
    )
    if runs.empty:
        raise ValueError(
            "no runs with a known outcome and human_minutes > 0 to fit"
            + (f"; {bad_note}" if bad_note else "")
        )
    agents = sorted(runs["agent"].unique())
    tasks = pd.Index(sorted(runs["task_id"].unique()))
    task_family_name = runs.groupby("task_id")["task_family"].first().reindex(tasks)
    families = pd.Index(sorted(task_family_name.unique()))
    task_family = families.get_indexer(task_family_name.to_numpy())
    x = runs.groupby("task_id")["x"].first().reindex(tasks).to_numpy()
    agent_idx = pd.Index(agents).get_indexer(runs["agent"])
    task_idx = tasks.get_indexer(runs["task_id"])
    n_agents, n_tasks = len(agents), len(tasks)
    y = runs["y"].to_numpy(dtype=float)
    w = runs["weight"].to_numpy(dtype=float)

    # Point estimate: each run once.
    cell = agent_idx * n_tasks + task_idx
    w1 = np.bincount(cell, weights=w * y, minlength=n_agents * n_tasks).reshape(n_agents, n_tasks)
    w0 = np.bincount(cell, weights=w * (1 - y), minlength=n_agents * n_tasks).reshape(
        n_agents, n_tasks
    )
    point = fit_logistic_batch(x, w1, w0, regularization)

    # Bootstrap: multiplicities -> per-cell weights -> one batched fit of B * A problems.
    rng = np.random.default_rng(seed)
    cells, cell_inverse = np.unique(cell, return_inverse=True)
    order = np.argsort(cell_inverse, kind="stable")
    bounds = np.searchsorted(cell_inverse[order], np.arange(cells.size + 1))
    cell_rows = [order[bounds[i] : bounds[i + 1]] for i in range(cells.size)]
    if n_bootstrap > 0:
        task_counts = resample_task_counts(task_family, n_bootstrap, rng)
        bw1, bw0 = resample_cell_weights(cells % n_tasks, cell_rows, y, w, task_counts, rng)
        full1 = np.zeros((n_bootstrap, n_agents * n_tasks))
        full0 = np.zeros((n_bootstrap, n_agents * n_tasks))
        full1[:, cells], full0[:, cells] = bw1, bw0
        boot = fit_logistic_batch(
            x,
            full1.reshape(n_bootstrap * n_agents, n_tasks),
            full0.reshape(n_bootstrap * n_agents, n_tasks),
            regularization,
            # Warm start every sample at its agent's point estimate: fewer iterations.
            init=np.tile(np.stack([point.intercept, point.slope], axis=1), (n_bootstrap, 1)),
        )
        b_int = boot.intercept.reshape(n_bootstrap, n_agents)
        b_slope = boot.slope.reshape(n_bootstrap, n_agents)
        b_status = boot.status.reshape(n_bootstrap, n_agents)
        n_unconverged = int((~boot.converged).sum())
    else:
        n_unconverged = 0
        b_int = b_slope = np.zeros((0, n_agents))
        b_status = np.zeros((0, n_agents), dtype=np.int8)
    b_p50 = _p_from_fit(b_int, b_slope, b_status, 0.5)
    b_p80 = _p_from_fit(b_int, b_slope, b_status, 0.8)
    b_p50 = np.where(b_status == NO_DATA, np.nan, b_p50)
    b_p80 = np.where(b_status == NO_DATA, np.nan, b_p80)

    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    p50 = _p_from_fit(point.intercept, point.slope, point.status, 0.5)
    p80 = _p_from_fit(point.intercept, point.slope, point.status, 0.8)
    per_agent = runs.assign(wy=w * y).groupby("agent")
    rows, warnings = [], [bad_note] if bad_note else []
    for a, agent in enumerate(agents):
        status = STATUS_NAMES[int(point.status[a])]
        if status == HorizonStatus.OK and point.slope[a] >= 0:
            status = HorizonStatus.INCREASING
        note = status.explanation
        group = per_agent.get_group(agent)
        lo_min, hi_min = group["human_minutes"].min(), group["human_minutes"].max()
        extrapolated = bool(status.has_horizon and not lo_min <= p50[a] <= hi_min)
        notes = [note] if note else []
        if extrapolated:
            notes.append(
                f"p50 {p50[a]:.3g} min is outside the tasks' range {lo_min:g}-{hi_min:g} min "
                "(extrapolated)"
            )
        n_single = int(((b_status[:, a] == NO_SUCCESS) | (b_status[:, a] == ALL_SUCCESS)).sum())
        if n_single and status.has_horizon:
            notes.append(
                f"{n_single} of {n_bootstrap} bootstrap samples had a single outcome "
                "(counted in the CI as a horizon of 0 or inf)"
            )
        note = "; ".join(notes)
        if note:
            warnings.append(f"{agent}: {note}")
        has_ci = status.has_horizon and n_bootstrap > 0
        rows.append(
            {
                "agent": agent,
                "n_runs": len(group),
                "n_tasks": group["task_id"].nunique(),
                "n_families": group["task_family"].nunique(),
                "success_rate": group["wy"].sum() / group["weight"].sum(),
                "intercept": point.intercept[a],
                "slope": point.slope[a],
                "p50": p50[a] if status.has_horizon else np.nan,
                "p50_low": quantile_with_inf(b_p50[:, a], lo_q) if has_ci else np.nan,
                "p50_high": quantile_with_inf(b_p50[:, a], hi_q) if has_ci else np.nan,
                "p80": p80[a] if status.has_horizon else np.nan,
                "p80_low": quantile_with_inf(b_p80[:, a], lo_q) if has_ci else np.nan,
                "p80_high": quantile_with_inf(b_p80[:, a], hi_q) if has_ci else np.nan,
                "status": str(status),
                "extrapolated": extrapolated,
                "min_minutes": lo_min,
                "max_minutes": hi_min,
                "n_bootstrap": int((b_status[:, a] != NO_DATA).sum()),
                "n_boot_no_success": int((b_status[:, a] == NO_SUCCESS).sum()),
                "n_boot_all_success": int((b_status[:, a] == ALL_SUCCESS).sum()),
                "note": note,
            }
        )
    if n_unconverged or not point.converged.all():
        warnings.append(
            f"{n_unconverged + int((~point.converged).sum())} fits did not converge in "
            "100 Newton iterations (regularization 0 on separable data?)"
        )
    table = pd.DataFrame(rows)
    for col in ("p50_low", "p50_high", "p80_low", "p80_high"):
        table[col] = table[col].astype(float)
    samples = pd.DataFrame(
        {
            "sample": np.repeat(np.arange(b_int.shape[0]), n_agents),
            "agent": np.tile(np.array(agents, dtype=object), b_int.shape[0]),
            "intercept": b_int.ravel(),
            "slope": b_slope.ravel(),
            "p50": b_p50.ravel(),
            "p80": b_p80.ravel(),
            "status": pd.Categorical.from_codes(
                b_status.ravel().astype(int), categories=[str(v) for v in STATUS_NAMES.values()]
            ),
        }
    )
    settings = {
        "weighting": weighting,
        "regularization": regularization,
        "score": "threshold" if success_threshold is not None else score,
        "success_threshold": success_threshold,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "confidence": confidence,
        "include_humans": include_humans,
        "bootstrap": "families -> tasks -> runs",
    }
    return HorizonResult(table=table, samples=samples, settings=settings, warnings=warnings)


def horizon_curves(
    result: HorizonResult,
    minutes: np.ndarray | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Fitted success-probability curves per agent, for plotting.

    Args:
        result: from :func:`fit_horizons`.
        minutes: the x grid in human minutes (default: 200 log-spaced points, 1 s to 1 week).
        confidence: level of the pointwise bootstrap band.

    Returns:
        Long DataFrame: ``agent, human_minutes, p_success, p_low, p_high`` (the band from
        the bootstrap fits; single-outcome samples count as 0 or 1 everywhere). Agents
        without a finite fit are omitted.
    """
    if minutes is None:
        minutes = np.geomspace(1 / 60, 7 * 24 * 60, 200)
    minutes = np.asarray(minutes, dtype=float)
    x = np.log2(minutes)
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    frames = []
    for row in result.table.itertuples():
        if not np.isfinite(row.intercept):
            continue
        p = 1 / (1 + np.exp(-(row.intercept + row.slope * x)))
        s = result.samples[result.samples["agent"] == row.agent]
        low = high = np.full(x.size, np.nan)
        if len(s):
            status = s["status"].astype(str).to_numpy()
            a = s["intercept"].to_numpy()[:, None]
            b = s["slope"].to_numpy()[:, None]
            with np.errstate(over="ignore", invalid="ignore"):
                curves = 1 / (1 + np.exp(-(a + b * x[None, :])))
            curves[status == HorizonStatus.NO_SUCCESS] = 0.0
            curves[status == HorizonStatus.ALL_SUCCESS] = 1.0
            curves[status == HorizonStatus.NO_DATA] = np.nan
            low = np.nanquantile(curves, lo_q, axis=0)
            high = np.nanquantile(curves, hi_q, axis=0)
        frames.append(
            pd.DataFrame(
                {"agent": row.agent, "human_minutes": minutes, "p_success": p,
                 "p_low": low, "p_high": high}
            )
        )
    if not frames:
        return pd.DataFrame(columns=["agent", "human_minutes", "p_success", "p_low", "p_high"])
    return pd.concat(frames, ignore_index=True)


def empirical_success_rates(
    attempts: pd.DataFrame,
    bins_minutes: tuple[float, ...] = DEFAULT_BINS_MINUTES,
    *,
    weighting: Weighting = "invsqrt",
    score: ScoreMode = "binarized",
    success_threshold: float | None = None,
    include_humans: bool = False,
) -> pd.DataFrame:
    """Observed success rate per agent in bins of human minutes (points beside the curves).

    Args:
        attempts: the Attempt table.
        bins_minutes: bin edges in minutes; bins are ``[lo, hi)``.
        weighting, score, success_threshold, include_humans: as :func:`horizon_runs`.

    Returns:
        Long DataFrame: ``agent, bin_low, bin_high, bin_mid`` (geometric mid),
        ``n_runs, n_tasks, success_rate`` (weighted by the horizon weights),
        ``success_rate_unweighted``. Empty bins are omitted.
    """
    runs = horizon_runs(
        attempts,
        weighting=weighting,
        score=score,
        success_threshold=success_threshold,
        include_humans=include_humans,
    )
    edges = np.asarray(bins_minutes, dtype=float)
    b = np.searchsorted(edges, runs["human_minutes"].to_numpy(), side="right") - 1
    runs = runs.assign(bin=b, wy=runs["weight"] * runs["y"])
    runs = runs[(runs["bin"] >= 0) & (runs["bin"] < edges.size - 1)]
    g = runs.groupby(["agent", "bin"])
    out = g.agg(
        n_runs=("y", "size"),
        n_tasks=("task_id", "nunique"),
        wy=("wy", "sum"),
        w=("weight", "sum"),
        success_rate_unweighted=("y", "mean"),
    ).reset_index()
    out["success_rate"] = out["wy"] / out["w"]
    out["bin_low"] = edges[out["bin"]]
    out["bin_high"] = edges[out["bin"] + 1]
    out["bin_mid"] = np.sqrt(out["bin_low"] * out["bin_high"])
    return out[
        ["agent", "bin_low", "bin_high", "bin_mid", "n_runs", "n_tasks", "success_rate",
         "success_rate_unweighted"]
    ]
