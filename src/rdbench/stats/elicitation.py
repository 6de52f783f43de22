"""The elicitation gap and the safety buffer it implies below a capability threshold.

A measured horizon is a lower bound on what a model can do: better prompts, tools, limits
or more attempts move it. This module measures how much, on the runs an evaluator already
has, and turns it into a margin:

- **configurations**: attempts are grouped by (model, configuration); the configuration is
  the agent label plus the versioned scaffold settings rdbench writes into every log
  (:func:`label_configurations`), optionally the attempt length.
- **paired gap** between two configurations of one model, on the tasks both attempted:
  the difference in mean normalized score (paired bootstrap over tasks,
  :func:`paired_score_gap`) and the horizon ratio ``p50(elicited) / p50(base)`` from one
  joint bootstrap in which both arms see the same resampled families and tasks
  (:func:`horizon_ratio`).
- **months of progress**: ``log2(ratio) * doubling time``, with the trend's bootstrap
  carried through (:func:`ratio_to_months`, :func:`months_samples`).
- **the buffer**: the largest gap over all models run under more than one configuration,
  with its upper bound (:func:`safety_buffer`), and each configuration's status against a
  threshold (:func:`threshold_status`).
- **best-of-k as elicitation**: one long attempt against k short ones at the same total
  budget (:func:`best_of_k_gap`), from the same expected-max machinery as ``compare``.

Every function is pure: DataFrames in, DataFrames or small dataclasses out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from rdbench.stats.best_of_k import expected_max_of_k
from rdbench.stats.bootstrap import resample_task_counts
from rdbench.stats.horizon import fit_horizons, horizon_runs, quantile_with_inf
from rdbench.stats.logistic import (
    ALL_SUCCESS,
    NO_DATA,
    NO_SUCCESS,
    fit_logistic_batch,
    horizon_minutes,
)
from rdbench.stats.weights import Weighting

__all__ = [
    "DAYS_PER_MONTH",
    "Buffer",
    "ConfigurationKey",
    "HorizonRatio",
    "best_of_k_gap",
    "configurations",
    "default_pairs",
    "elicitation_gaps",
    "horizon_ratio",
    "label_configurations",
    "months_samples",
    "paired_score_gap",
    "ratio_to_months",
    "safety_buffer",
    "threshold_status",
    "unpaired_configurations",
]

#: A mean Gregorian month, so that 12 months make 365.25 days (the trend's year).
DAYS_PER_MONTH = 365.25 / 12
_LENGTH_TOL = 0.01  # attempt lengths within 1% are the same length (as best_of_k)

ConfigurationKey = Literal["agent", "agent+length"]


# ------------------------------------------------------------------ configurations


def _format_length(seconds: float) -> str:
    if not np.isfinite(seconds) or seconds <= 0:
        return "no limit"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def label_configurations(
    attempts: pd.DataFrame, by: ConfigurationKey = "agent"
) -> pd.Series:
    """The configuration label of each attempt.

    The label is the agent label, followed by the scaffold settings' versioned label
    when the log recorded one (``o1``, ``openai/gpt-4o · react-minimal-v1``); with
    ``by="agent+length"`` the attempt length is appended (``o1 · 30 min``), so that runs
    of one agent under different time limits count as different configurations.

    Args:
        attempts: the Attempt table (``agent``; optional ``scaffold``, ``time_limit_s``).
        by: ``agent`` or ``agent+length``.

    Returns:
        A string Series aligned with ``attempts.index``, named ``configuration``.

    Raises:
        ValueError: an unknown ``by``.
    """
    if by not in ("agent", "agent+length"):
        raise ValueError(f"unknown configuration key {by!r}: use agent or agent+length")
    label = attempts["agent"].astype(str)
    if "scaffold" in attempts:
        scaffold = attempts["scaffold"].astype("string")
        has = scaffold.notna() & (scaffold != "") & (scaffold != "human")
        label = label.where(~has, label + " · " + scaffold.fillna(""))
    if by == "agent+length":
        limits = attempts.get("time_limit_s", pd.Series(np.nan, index=attempts.index))
        label = label + " · " + limits.astype(float).map(_format_length)
    return label.astype(str).rename("configuration")


def _model_column(attempts: pd.DataFrame) -> pd.Series:
    """The model each attempt ran (falls back to the agent label where unknown)."""
    agent = attempts["agent"].astype(str)
    if "model" not in attempts:
        return agent.rename("model")
    model = attempts["model"].astype("string")
    return model.where(model.notna() & (model != ""), agent).astype(str).rename("model")


def _with_arms(attempts: pd.DataFrame, by: ConfigurationKey) -> pd.DataFrame:
    df = attempts
    if "is_human" in df:
        df = df[~df["is_human"].astype(bool)]
    return df.assign(model=_model_column(df), configuration=label_configurations(df, by))


def configurations(attempts: pd.DataFrame, by: ConfigurationKey = "agent") -> pd.DataFrame:
    """Every (model, configuration) in the agent attempts, with its size.

    Args:
        attempts: the Attempt table (human rows are ignored).
        by: see :func:`label_configurations`.

    Returns:
        One row per configuration: ``model, configuration, n_attempts, n_tasks,
        mean_score`` (NaN scores count as 0, the starting solution), ``n_configurations``
        (how many the model has), sorted by model then configuration.
    """
    df = _with_arms(attempts, by)
    score = df["score"].astype(float).fillna(0.0) if "score" in df else 0.0
    table = (
        df.assign(_score=score)
        .groupby(["model", "configuration"], sort=True)
        .agg(
            n_attempts=("task_id", "size"),
            n_tasks=("task_id", "nunique"),
            mean_score=("_score", "mean"),
        )
        .reset_index()
    )
    table["n_configurations"] = table.groupby("model")["configuration"].transform("size")
    return table


# ------------------------------------------------------------------ the paired gap


def _arm_rows(df: pd.DataFrame, configuration: str) -> pd.DataFrame:
    rows = df[df["configuration"] == configuration]
    if rows.empty:
        raise ValueError(f"no attempts under configuration {configuration!r}")
    return rows


def _common_tasks(base: pd.DataFrame, elicited: pd.DataFrame) -> list[str]:
    return sorted(set(base["task_id"].astype(str)) & set(elicited["task_id"].astype(str)))


def _paired_arms(
    attempts: pd.DataFrame, base: str, elicited: str, by: ConfigurationKey
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The two arms' attempts and the tasks both ran.

    Raises:
        ValueError: an unknown configuration, or the two share no task.
    """
    df = _with_arms(attempts, by)
    a, b = _arm_rows(df, base), _arm_rows(df, elicited)
    tasks = _common_tasks(a, b)
    if not tasks:
        raise ValueError(f"configurations {base!r} and {elicited!r} have no task in common")
    return a, b, tasks


def paired_score_gap(
    attempts: pd.DataFrame,
    base: str,
    elicited: str,
    *,
    by: ConfigurationKey = "agent",
    nan_score: float = 0.0,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, float]:
    """Difference in mean normalized score, elicited minus base, on the tasks both ran.

    Each task counts once: per arm its attempts' mean score (an invalid submission counts
    as ``nan_score``), then the mean over tasks. The CI resamples tasks with replacement,
    the same tasks for both arms (paired), so that task difficulty shared by the arms
    cancels; the unpaired interval (each arm's tasks resampled independently) is returned
    beside it to show what pairing buys.

    Args:
        attempts: the Attempt table.
        base, elicited: configuration labels (see :func:`label_configurations`).
        by: how configurations are labelled.
        nan_score: score of an invalid submission.
        n_bootstrap, seed, confidence: the task bootstrap.

    Returns:
        ``n_tasks, base_score, elicited_score, diff, diff_low, diff_high,
        unpaired_low, unpaired_high``.

    Raises:
        ValueError: an unknown configuration, or the two share no task.
    """
    a, b, tasks = _paired_arms(attempts, base, elicited, by)

    def per_task(rows: pd.DataFrame) -> np.ndarray:
        scores = rows["score"].astype(float).fillna(nan_score)
        means = scores.groupby(rows["task_id"].astype(str)).mean()
        return means.reindex(tasks).to_numpy(dtype=float)

    sa, sb = per_task(a), per_task(b)
    diff = sb - sa
    out = {
        "n_tasks": float(len(tasks)),
        "base_score": float(sa.mean()),
        "elicited_score": float(sb.mean()),
        "diff": float(diff.mean()),
        "diff_low": np.nan,
        "diff_high": np.nan,
        "unpaired_low": np.nan,
        "unpaired_high": np.nan,
    }
    if len(tasks) < 2 or n_bootstrap <= 0:
        return out
    rng = np.random.default_rng(seed)
    lo, hi = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    idx = rng.integers(0, len(tasks), size=(n_bootstrap, len(tasks)))
    paired = diff[idx].mean(axis=1)
    idx_b = rng.integers(0, len(tasks), size=(n_bootstrap, len(tasks)))
    unpaired = sb[idx_b].mean(axis=1) - sa[idx].mean(axis=1)
    out["diff_low"], out["diff_high"] = (float(v) for v in np.quantile(paired, [lo, hi]))
    out["unpaired_low"], out["unpaired_high"] = (
        float(v) for v in np.quantile(unpaired, [lo, hi])
    )
    return out


@dataclass
class HorizonRatio:
    """Result of :func:`horizon_ratio`.

    Attributes:
        ratio, ratio_low, ratio_high: ``p50(elicited) / p50(base)`` and its percentile CI
            (NaN when either arm has no finite horizon; a CI bound may be 0 or inf when some
            bootstrap samples put an arm beyond the measurable range).
        base_p50, elicited_p50: the arms' horizons (minutes) on the common tasks.
        base_status, elicited_status: the arms' fit statuses (``ok``, ``no_success``, ...).
        n_tasks, n_families: the common tasks the fit used.
        samples: the ratio in each bootstrap sample (for months and plots).
        note: why a ratio is missing or weak, empty otherwise.
    """

    ratio: float
    ratio_low: float
    ratio_high: float
    base_p50: float
    elicited_p50: float
    base_status: str
    elicited_status: str
    n_tasks: int
    n_families: int
    samples: np.ndarray = field(repr=False)
    note: str = ""


def _cluster_bootstrap_p50(
    runs: pd.DataFrame,
    arms: tuple[str, str],
    *,
    joint: bool,
    regularization: float,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """p50 of each arm in each bootstrap sample, resampling families then tasks.

    Each drawn task brings all its runs (a cluster bootstrap): the runs are not drawn
    again inside it. In a ratio of two arms that share task difficulty, most of the
    task-level variance cancels and what remains is run noise, which a further run level
    would count twice (the joint family -> task -> run bootstrap covered a known ratio 98%
    of the time where 95% was asked, bench/elicitation.py); drawn once with its task, it is
    counted once. ``joint`` draws the same families and tasks for both arms.

    Returns:
        ``(n_bootstrap, 2)`` p50s in minutes (0 for a sample with no success, inf for one
        with only successes, NaN with no data).
    """
    tasks = pd.Index(sorted(runs["task_id"].unique()))
    family_of = runs.groupby("task_id")["task_family"].first().reindex(tasks)
    task_family = pd.Index(sorted(family_of.unique())).get_indexer(family_of.to_numpy())
    x = runs.groupby("task_id")["x"].first().reindex(tasks).to_numpy()
    arm = pd.Index(arms).get_indexer(runs["agent"])
    cell = arm * len(tasks) + tasks.get_indexer(runs["task_id"])
    y, w = runs["y"].to_numpy(dtype=float), runs["weight"].to_numpy(dtype=float)
    w1 = np.bincount(cell, weights=w * y, minlength=2 * len(tasks)).reshape(2, len(tasks))
    w0 = np.bincount(cell, weights=w * (1 - y), minlength=2 * len(tasks)).reshape(2, len(tasks))
    if joint:
        counts = resample_task_counts(task_family, n_bootstrap, rng)
        counts = np.stack([counts, counts], axis=1)  # (B, 2, T): the same tasks for both
    else:
        counts = np.stack(
            [resample_task_counts(task_family, n_bootstrap, rng) for _ in arms], axis=1
        )
    fit = fit_logistic_batch(
        x,
        (counts * w1[None]).reshape(2 * n_bootstrap, len(tasks)),
        (counts * w0[None]).reshape(2 * n_bootstrap, len(tasks)),
        regularization,
    )
    p50 = horizon_minutes(fit.intercept, fit.slope, 0.5)
    p50 = np.where(fit.status == NO_SUCCESS, 0.0, p50)
    p50 = np.where(fit.status == ALL_SUCCESS, np.inf, p50)
    p50 = np.where(fit.status == NO_DATA, np.nan, p50)
    return p50.reshape(n_bootstrap, 2)


def _ratio_of(p50: np.ndarray) -> np.ndarray:
    pa, pb = p50[:, 0], p50[:, 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = pb / pa
    # 0/0 and inf/inf say nothing about the gap; x/0 (base below range) is an infinite gap.
    ratio[(pa == 0) & (pb == 0)] = np.nan
    ratio[np.isinf(pa) & np.isinf(pb)] = np.nan
    return ratio


def horizon_ratio(
    attempts: pd.DataFrame,
    base: str,
    elicited: str,
    *,
    by: ConfigurationKey = "agent",
    joint: bool = True,
    weighting: Weighting = "invsqrt",
    regularization: float = 0.1,
    success_threshold: float | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> HorizonRatio:
    """Horizon ratio ``p50(elicited) / p50(base)`` on the tasks both configurations ran.

    The point estimate is METR's horizon fit of each arm on the common tasks (as
    :func:`fit_horizons`). With ``joint`` (the default) the interval comes from one
    bootstrap over families, then tasks, in which every sample draws the same families and
    tasks for both arms, so the difficulty of the drawn tasks cancels in the ratio; each
    drawn task keeps its runs (see :func:`_cluster_bootstrap_p50` for why runs are not
    drawn a third time). ``joint=False`` draws each arm's tasks independently -- wider,
    kept to show what pairing buys.

    Args:
        attempts: the Attempt table.
        base, elicited: configuration labels.
        by: how configurations are labelled.
        joint: one joint bootstrap (True) or two independent ones.
        weighting, regularization, success_threshold: as :func:`fit_horizons`.
        n_bootstrap, seed, confidence: the bootstrap.

    Returns:
        A :class:`HorizonRatio`.

    Raises:
        ValueError: an unknown configuration, or the two share no task.
    """
    a, b, tasks = _paired_arms(attempts, base, elicited, by)
    both = pd.concat([a, b])
    both = both[both["task_id"].astype(str).isin(tasks)]
    both = both.assign(agent=both["configuration"])
    # point estimates, statuses and ranges from the one horizon fit everybody uses
    point = fit_horizons(both, weighting=weighting, regularization=regularization,
                         success_threshold=success_threshold, n_bootstrap=0)
    table = point.table.set_index("agent")
    row_a, row_b = table.loc[base], table.loc[elicited]
    finite = {"ok", "increasing"}
    note = ""
    if row_a["status"] not in finite or row_b["status"] not in finite:
        ratio = np.nan
        note = (
            f"no finite horizon ratio: {base} is {row_a['status']}, "
            f"{elicited} is {row_b['status']} on the {len(tasks)} common tasks"
        )
    elif bool(row_a["extrapolated"]) or bool(row_b["extrapolated"]):
        # A p50 outside the tasks' lengths is the fit's extrapolation, not a measurement
        # (e.g. common tasks that all take the same human time): no ratio from it.
        ratio = np.nan
        lo, hi = both["human_minutes"].min(), both["human_minutes"].max()
        note = (
            f"no horizon ratio: a p50 is extrapolated outside the common tasks' "
            f"{lo:.3g}-{hi:.3g} human minutes"
        )
    else:
        ratio = float(row_b["p50"] / row_a["p50"])
        if "increasing" in (row_a["status"], row_b["status"]):
            note = "an arm's success rate does not fall with task length: ratio is weak"
    boot = np.zeros(0)
    if n_bootstrap > 0:
        runs = horizon_runs(both, weighting=weighting, success_threshold=success_threshold)
        p50 = _cluster_bootstrap_p50(
            runs, (base, elicited), joint=joint, regularization=regularization,
            n_bootstrap=n_bootstrap, rng=np.random.default_rng(seed),
        )
        boot = _ratio_of(p50)
    if not np.isfinite(ratio):
        boot = np.full(boot.size, np.nan)
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    has_ci = np.isfinite(ratio) and np.isfinite(boot).any() if boot.size else False
    return HorizonRatio(
        ratio=ratio,
        ratio_low=float(quantile_with_inf(boot, lo_q)) if has_ci else np.nan,
        ratio_high=float(quantile_with_inf(boot, hi_q)) if has_ci else np.nan,
        base_p50=float(row_a["p50"]),
        elicited_p50=float(row_b["p50"]),
        base_status=str(row_a["status"]),
        elicited_status=str(row_b["status"]),
        n_tasks=len(tasks),
        n_families=int(both["task_family"].nunique()),
        samples=boot,
        note=note,
    )


# ------------------------------------------------------------------ months of progress


def ratio_to_months(ratio: float | np.ndarray, doubling_time_days: float | np.ndarray):
    """A horizon factor expressed in months of model progress on the trend.

    ``months = log2(ratio) * doubling_time_days / DAYS_PER_MONTH``: a gap of one doubling
    is worth one doubling time. A ratio below 1 gives negative months.

    Returns:
        Months (float or array, broadcast).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log2(ratio) * np.asarray(doubling_time_days, dtype=float) / DAYS_PER_MONTH


def months_samples(
    ratio_samples: np.ndarray, trend_slopes: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Months of progress per bootstrap sample, carrying the trend's uncertainty through.

    Each ratio sample is paired with one trend sample (the trend's bootstrap slopes of
    ln p50 per year, drawn in a seeded random order so that the two bootstraps stay
    independent); a sample whose trend does not rise gives an infinite doubling time.

    Args:
        ratio_samples: horizon ratios, one per bootstrap sample.
        trend_slopes: ``TrendResult.samples["slope"]`` (ln p50 per year).
        seed: seeds the pairing.

    Returns:
        Months, one per ratio sample (NaN where the ratio is NaN).
    """
    ratio_samples = np.asarray(ratio_samples, dtype=float)
    slopes = np.asarray(trend_slopes, dtype=float)
    slopes = slopes[np.isfinite(slopes)]
    if ratio_samples.size == 0 or slopes.size == 0:
        return np.full(ratio_samples.size, np.nan)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, slopes.size, size=ratio_samples.size)
    with np.errstate(divide="ignore"):
        doubling = np.where(slopes[pick] > 0, np.log(2) / slopes[pick] * 365.25, np.inf)
    months = ratio_to_months(ratio_samples, doubling)
    # log2(1) * inf is NaN: a ratio of exactly 1 is no gap whatever the trend.
    return np.where(ratio_samples == 1.0, 0.0, months)


# ------------------------------------------------------------------ all gaps, the buffer


def default_pairs(
    attempts: pd.DataFrame,
    *,
    by: ConfigurationKey = "agent",
    model: str | None = None,
) -> list[tuple[str, str, str]]:
    """Each model's configurations paired against its weakest one.

    The weakest configuration of a model is the one with the lowest mean normalized
    score on the tasks all of the model's configurations ran (or on all its tasks when
    they share none).

    Args:
        attempts: the Attempt table.
        by: how configurations are labelled.
        model: only this model.

    Returns:
        ``(model, base, elicited)`` triples; empty when no model has two configurations.
        A configuration that shares no task with its model's weakest one is left out
        (it cannot be compared; :func:`unpaired_configurations` lists it).
    """
    df = _with_arms(attempts, by)
    if model is not None:
        df = df[df["model"] == model]
    pairs = []
    for name, group in df.groupby("model", sort=True):
        configs = sorted(group["configuration"].unique())
        if len(configs) < 2:
            continue
        per_config = [set(group.loc[group["configuration"] == c, "task_id"]) for c in configs]
        shared = set.intersection(*per_config)
        rows = group[group["task_id"].isin(shared)] if shared else group
        means = rows.assign(_s=rows["score"].astype(float).fillna(0.0)).groupby(
            ["configuration", "task_id"]
        )["_s"].mean().groupby("configuration").mean()
        weakest = min(configs, key=lambda c: (means.get(c, np.inf), c))
        base_tasks = per_config[configs.index(weakest)]
        pairs.extend(
            (str(name), weakest, c)
            for c, tasks in zip(configs, per_config)
            if c != weakest and tasks & base_tasks
        )
    return pairs


def unpaired_configurations(
    attempts: pd.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    *,
    by: ConfigurationKey = "agent",
    model: str | None = None,
) -> list[str]:
    """Configurations of models run under several that no pair compares.

    Returns:
        Their labels, sorted (typically: no task in common with the model's weakest one).
    """
    table = configurations(attempts, by)
    if model is not None:
        table = table[table["model"] == model]
    multi = set(table.loc[table["n_configurations"] > 1, "configuration"])
    paired = {c for _, base, elicited in pairs for c in (base, elicited)}
    return sorted(multi - paired)


def elicitation_gaps(
    attempts: pd.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    *,
    by: ConfigurationKey = "agent",
    trend_slopes: np.ndarray | None = None,
    doubling_time_days: float | None = None,
    weighting: Weighting = "invsqrt",
    regularization: float = 0.1,
    success_threshold: float | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The score gap, horizon ratio and months of progress of each pair.

    Args:
        attempts: the Attempt table.
        pairs: ``(model, base, elicited)`` triples (see :func:`default_pairs`).
        by: how configurations are labelled.
        trend_slopes: bootstrap slopes of the horizon trend (ln p50 per year), to carry
            the trend's uncertainty into months; with only ``doubling_time_days`` the
            months interval reflects the ratio's uncertainty alone.
        doubling_time_days: the trend's point estimate.
        weighting, regularization, success_threshold, n_bootstrap, seed, confidence: as
            :func:`horizon_ratio`.

    Returns:
        One row per pair: ``model, base, elicited, n_tasks, n_families, base_score,
        elicited_score, score_diff, score_diff_low, score_diff_high, base_p50,
        elicited_p50, ratio, ratio_low, ratio_high, months, months_low, months_high,
        note``.

    Raises:
        ValueError: a pair names an unknown configuration or its arms share no task.
    """
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    rows = []
    for i, (model, base, elicited) in enumerate(pairs):
        gap = paired_score_gap(
            attempts, base, elicited, by=by, n_bootstrap=n_bootstrap, seed=seed,
            confidence=confidence,
        )
        hr = horizon_ratio(
            attempts, base, elicited, by=by, weighting=weighting,
            regularization=regularization, success_threshold=success_threshold,
            n_bootstrap=n_bootstrap, seed=seed, confidence=confidence,
        )
        months = months_low = months_high = np.nan
        if doubling_time_days is not None and np.isfinite(hr.ratio):
            months = float(ratio_to_months(hr.ratio, doubling_time_days))
            if hr.samples.size and trend_slopes is not None:
                m = months_samples(hr.samples, trend_slopes, seed=seed + i)
            else:
                m = ratio_to_months(hr.samples, doubling_time_days)
            if hr.samples.size and np.isfinite(hr.ratio_low):
                months_low = float(quantile_with_inf(m, lo_q))
                months_high = float(quantile_with_inf(m, hi_q))
        rows.append(
            {
                "model": model,
                "base": base,
                "elicited": elicited,
                "n_tasks": hr.n_tasks,
                "n_families": hr.n_families,
                "base_score": gap["base_score"],
                "elicited_score": gap["elicited_score"],
                "score_diff": gap["diff"],
                "score_diff_low": gap["diff_low"],
                "score_diff_high": gap["diff_high"],
                "base_p50": hr.base_p50,
                "elicited_p50": hr.elicited_p50,
                "ratio": hr.ratio,
                "ratio_low": hr.ratio_low,
                "ratio_high": hr.ratio_high,
                "months": months,
                "months_low": months_low,
                "months_high": months_high,
                "note": hr.note,
            }
        )
    columns = [
        "model", "base", "elicited", "n_tasks", "n_families", "base_score", "elicited_score",
        "score_diff", "score_diff_low", "score_diff_high", "base_p50", "elicited_p50", "ratio",
        "ratio_low", "ratio_high", "months", "months_low", "months_high", "note",
    ]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Buffer:
    """The safety buffer: how far elicitation has moved any model's horizon.

    Attributes:
        factor: the largest horizon ratio over the pairs (1 when none is above 1).
        factor_high: the largest upper CI bound (the conservative buffer).
        months, months_high: the same in months of progress (NaN without a trend).
        model, base, elicited: the pair with the largest ratio ('' when none).
        n_pairs: pairs with a finite ratio.
    """

    factor: float
    factor_high: float
    months: float
    months_high: float
    model: str
    base: str
    elicited: str
    n_pairs: int


def safety_buffer(gaps: pd.DataFrame) -> Buffer:
    """The buffer implied by the measured gaps (see :class:`Buffer`).

    A model's weakest configuration is its base, so ratios are mostly above 1; a ratio
    below 1 (no configuration helped) leaves the buffer at 1, never below.

    Args:
        gaps: from :func:`elicitation_gaps`.

    Returns:
        A :class:`Buffer`.
    """
    finite = gaps[np.isfinite(gaps["ratio"].astype(float))] if len(gaps) else gaps
    if finite is None or finite.empty:
        return Buffer(1.0, 1.0, 0.0, 0.0, "", "", "", 0)
    best = finite.loc[finite["ratio"].astype(float).idxmax()]
    high = finite["ratio_high"].astype(float)
    factor_high = float(np.nanmax(high)) if high.notna().any() else float(best["ratio"])
    months_high = finite["months_high"].astype(float)
    return Buffer(
        factor=max(1.0, float(best["ratio"])),
        factor_high=max(1.0, factor_high, float(best["ratio"])),
        months=max(0.0, float(best["months"])) if np.isfinite(best["months"]) else np.nan,
        months_high=(
            max(0.0, float(np.nanmax(months_high))) if months_high.notna().any() else np.nan
        ),
        model=str(best["model"]),
        base=str(best["base"]),
        elicited=str(best["elicited"]),
        n_pairs=len(finite),
    )


def threshold_status(
    horizons: pd.DataFrame, threshold_minutes: float, buffer_factor: float
) -> pd.DataFrame:
    """Each agent's standing against a threshold, once the buffer is allowed for.

    - ``above``: the measured p50 is at or above the threshold;
    - ``within buffer``: below it, but the upper CI bound of p50 times the buffer factor
      reaches it (better elicitation could put the agent over);
    - ``clearly below``: even the upper bound times the buffer stays below;
    - ``unknown``: no finite horizon, or a p50 extrapolated outside the agent's task
      lengths (``extrapolated``); an agent with no success at all is ``clearly below``
      (no buffer lifts a horizon of 0) and one that always succeeded is ``above``.

    Args:
        horizons: one row per agent: ``agent, p50, p50_high, status`` and optionally
            ``extrapolated`` (from :func:`fit_horizons`).
        threshold_minutes: the capability threshold.
        buffer_factor: from :func:`safety_buffer` (``factor_high`` is the conservative one).

    Returns:
        ``agent, p50, p50_high, threshold_minutes, buffered_threshold_minutes, status,
        reason`` (why a status is ``unknown``, or what decided it without a p50).

    Raises:
        ValueError: a non-positive threshold or a buffer factor below 1.
    """
    if not threshold_minutes > 0:
        raise ValueError("the threshold must be a positive number of minutes")
    if not buffer_factor >= 1:
        raise ValueError("the buffer factor must be at least 1")
    rows = []
    for row in horizons.itertuples():
        p50, high = float(row.p50), float(row.p50_high)
        upper = high if np.isfinite(high) else p50
        reason = ""
        if bool(getattr(row, "extrapolated", False)):
            # a p50 outside the agent's task lengths is no measurement
            status, reason = "unknown", "p50 extrapolated outside the agent's task lengths"
        elif row.status == "no_success":
            status, reason = "clearly below", "no success at all"
        elif row.status == "all_success":
            status, reason = "above", "every run succeeded"
        elif not np.isfinite(p50):
            status, reason = "unknown", f"no finite horizon ({row.status})"
        elif p50 >= threshold_minutes:
            status = "above"
        elif upper * buffer_factor >= threshold_minutes:
            status = "within buffer"
        else:
            status = "clearly below"
        rows.append(
            {
                "agent": row.agent,
                "p50": p50,
                "p50_high": high,
                "threshold_minutes": float(threshold_minutes),
                "buffered_threshold_minutes": float(threshold_minutes / buffer_factor),
                "status": status,
                "reason": reason,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["agent", "p50", "p50_high", "threshold_minutes", "buffered_threshold_minutes",
                 "status", "reason"],
    )


# ------------------------------------------------------------------ best-of-k


def _near(lengths: pd.Series, length_s: float) -> pd.Series:
    return (lengths - length_s).abs() <= _LENGTH_TOL * length_s


def best_of_k_gap(
    attempts: pd.DataFrame,
    *,
    group_col: str = "agent",
    nan_score: float = 0.0,
    floor: bool = False,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One long attempt against k short ones at the same total budget, per agent.

    For every agent and every pair of attempt lengths ``t < T`` it ran with
    ``k = T // t >= 2``: per task, the mean score of its attempts of length ``T`` against
    the expected best of ``k`` of its attempts of length ``t`` (the same estimator as
    ``compare``: exact expectation over draws without replacement, tasks with fewer than
    k short attempts left out), then the mean over the tasks that have both, with a paired
    bootstrap over tasks.

    Args:
        attempts: the Attempt table (``time_limit_s`` gives the attempt length).
        group_col: what an "agent" is (``agent`` or ``configuration``).
        nan_score: score of an invalid submission.
        floor: clip scores at 0 first.
        n_bootstrap, seed, confidence: the task bootstrap.

    Returns:
        ``agent, budget_s, attempt_length_s, k, n_tasks, one_long, best_of_k, diff,
        diff_low, diff_high`` (diff = best_of_k - one_long: positive when many short
        attempts beat one long one).
    """
    df = attempts
    if "is_human" in df:
        df = df[~df["is_human"].astype(bool)]
    df = df[df["time_limit_s"].astype(float) > 0]
    scores = df["score"].astype(float).fillna(nan_score)
    if floor:
        scores = scores.clip(lower=0.0)
    df = df.assign(_score=scores, _length=df["time_limit_s"].astype(float))
    rng = np.random.default_rng(seed)
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    rows = []
    for agent, group in df.groupby(group_col, sort=True):
        lengths = np.sort(group["_length"].unique())
        # lengths within 1% are one length
        distinct: list[float] = []
        for length in lengths:
            if not distinct or length > distinct[-1] * (1 + _LENGTH_TOL):
                distinct.append(float(length))
        for long_s in distinct:
            for short_s in distinct:
                k = int(long_s // short_s) if short_s < long_s else 0
                if k < 2:
                    continue
                long_rows = group[_near(group["_length"], long_s)]
                short_rows = group[_near(group["_length"], short_s)]
                one_long = long_rows.groupby("task_id")["_score"].mean()
                best = short_rows.groupby("task_id")["_score"].apply(
                    lambda s, k=k: expected_max_of_k(s.to_numpy(), k) if len(s) >= k else np.nan
                ).dropna()
                tasks = sorted(set(one_long.index) & set(best.index))
                if not tasks:
                    continue
                diff = best.reindex(tasks).to_numpy() - one_long.reindex(tasks).to_numpy()
                low = high = np.nan
                if len(tasks) >= 2 and n_bootstrap > 0:
                    idx = rng.integers(0, len(tasks), size=(n_bootstrap, len(tasks)))
                    low, high = np.quantile(diff[idx].mean(axis=1), [lo_q, hi_q])
                rows.append(
                    {
                        "agent": agent,
                        "budget_s": long_s,
                        "attempt_length_s": short_s,
                        "k": k,
                        "n_tasks": len(tasks),
                        "one_long": float(one_long.reindex(tasks).mean()),
                        "best_of_k": float(best.reindex(tasks).mean()),
                        "diff": float(diff.mean()),
                        "diff_low": float(low),
                        "diff_high": float(high),
                    }
                )
    return pd.DataFrame(
        rows,
        columns=["agent", "budget_s", "attempt_length_s", "k", "n_tasks", "one_long",
                 "best_of_k", "diff", "diff_low", "diff_high"],
    )
