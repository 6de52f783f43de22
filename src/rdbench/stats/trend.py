"""Trend of the time horizon over release dates: OLS of ln(p50) on date, the doubling
time, and the date the trend crosses a threshold -- each with a bootstrap CI."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rdbench.stats.horizon import quantile_with_inf
from rdbench.stats.status import HorizonStatus

__all__ = [
    "TrendResult",
    "match_release_dates",
    "fit_trend",
    "trend_line",
    "decimal_year",
    "from_decimal_year",
]

_DAYS_PER_YEAR = 365.25
_EPOCH = pd.Timestamp("1970-01-01")


def decimal_year(dates) -> np.ndarray:
    """Dates -> years as floats (1970.0 = 1970-01-01; a year is 365.25 days).

    Returns:
        Float array (NaN for missing dates).
    """
    ts = pd.to_datetime(pd.Series(dates), errors="coerce")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)
    days = (ts - _EPOCH).dt.total_seconds().to_numpy(dtype=float) / 86400.0
    return 1970.0 + days / _DAYS_PER_YEAR


def from_decimal_year(year: float) -> pd.Timestamp:
    """Inverse of :func:`decimal_year`; NaT when not finite or outside 1700-2250."""
    if year is None or not np.isfinite(year) or not 1700 < year < 2250:
        return pd.NaT
    return (_EPOCH + pd.Timedelta(days=(year - 1970.0) * _DAYS_PER_YEAR)).normalize()


def _lenient_key(name: str) -> str:
    # "davinci-002 (GPT-3)" -> "davinci-002": drop a trailing parenthetical, case and spaces
    return re.sub(r"\s*\([^)]*\)\s*$", "", name).strip().lower()


def match_release_dates(
    agents: Iterable[str], release_dates: Mapping[str, object], *, lenient: bool = True
) -> tuple[dict[str, pd.Timestamp], list[str], dict[str, str]]:
    """Look up each agent's release date.

    Exact names first; with ``lenient``, an agent that matches exactly one release-date
    name once a trailing parenthetical and case are ignored (``davinci-002`` vs
    ``davinci-002 (GPT-3)``) is matched too, and reported so the caller can warn.

    Returns:
        ``(dates, unmatched, lenient_matches)``: agent -> date; agents without a date;
        agent -> the release-date name it was leniently matched to.
    """
    dates: dict[str, pd.Timestamp] = {}
    unmatched: list[str] = []
    lenient_matches: dict[str, str] = {}
    by_key: dict[str, list[str]] = {}
    for name in release_dates:
        by_key.setdefault(_lenient_key(str(name)), []).append(str(name))
    for agent in agents:
        if agent in release_dates:
            dates[agent] = pd.Timestamp(release_dates[agent])
            continue
        candidates = by_key.get(_lenient_key(agent), []) if lenient else []
        if len(candidates) == 1:
            dates[agent] = pd.Timestamp(release_dates[candidates[0]])
            lenient_matches[agent] = candidates[0]
        else:
            unmatched.append(agent)
    return dates, unmatched, lenient_matches


@dataclass
class TrendResult:
    """Result of :func:`fit_trend`.

    Attributes:
        agents: one row per agent: ``agent, release_date, year, p50, used, reason``
            (why an agent was left out of the fit, e.g. no release date, no finite p50).
        slope: ln(p50) per year; ``intercept``: ln(p50) at year 0.
        doubling_time_days, doubling_time_low, doubling_time_high: days (inf if the
            slope interval reaches 0 or below).
        r_squared: of the OLS fit on the used agents.
        forecasts: one row per threshold: ``threshold_minutes, year, date, year_low,
            year_high, date_low, date_high, n_never`` (bootstrap samples whose trend
            never reaches the threshold: slope <= 0).
        n_bootstrap: samples used; ``n_dropped``: samples left out, with the reason in
            ``warnings``; ``method``: ``horizon-bootstrap``, ``parametric-ci`` or
            ``agents-bootstrap``.
        samples: per bootstrap sample ``slope, intercept`` (for plots and checks).
    """

    agents: pd.DataFrame
    slope: float
    intercept: float
    doubling_time_days: float
    doubling_time_low: float
    doubling_time_high: float
    r_squared: float
    forecasts: pd.DataFrame
    n_bootstrap: int
    n_dropped: int
    method: str
    confidence: float
    samples: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise OLS of y on x; x (A,) shared or (B, A); y (B, A). Returns (slope, intercept)."""
    x = np.broadcast_to(x, y.shape)
    xm = x.mean(axis=1, keepdims=True)
    ym = y.mean(axis=1, keepdims=True)
    sxx = ((x - xm) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = ((x - xm) * (y - ym)).sum(axis=1) / sxx
    return slope, ym[:, 0] - slope * xm[:, 0]


def fit_trend(
    horizons: pd.DataFrame,
    release_dates: Mapping[str, object],
    *,
    samples: pd.DataFrame | None = None,
    thresholds_minutes: Sequence[float] = (480.0,),
    confidence: float = 0.95,
    n_bootstrap: int = 1000,
    seed: int = 0,
    lenient: bool = True,
    include_extrapolated: bool = False,
) -> TrendResult:
    """OLS of ln(p50) on release date, doubling time and threshold-crossing forecast.

    Which bootstrap gives the CIs, in order of preference:
    1. ``samples`` (the joint family/task/run bootstrap of :func:`fit_horizons`): the
       trend is refit on each sample's p50s, so task-sampling noise shared by all agents
       is carried through. Samples where a used agent has no finite positive p50 are
       dropped and counted.
    2. ``p50_low``/``p50_high`` columns: each agent's ln p50 drawn independently from a
       normal whose 95% interval matches the given one (ignores correlation; seeded).
    3. neither: agents resampled with replacement (needs >= 3 agents).

    Args:
        horizons: one row per agent: ``agent, p50`` (minutes), optional ``p50_low``,
            ``p50_high``, ``status`` (only ``ok`` rows are used) and ``extrapolated``.
        release_dates: agent -> date (see :func:`match_release_dates`).
        samples: long bootstrap table ``sample, agent, p50``.
        thresholds_minutes: horizons whose crossing date to forecast (8 h = 480).
        confidence: level of the percentile intervals.
        n_bootstrap, seed: for methods 2 and 3.
        lenient: lenient release-date name matching (reported in ``warnings``).
        include_extrapolated: also use agents whose p50 lies outside their task range.

    Returns:
        A :class:`TrendResult`.

    Raises:
        ValueError: fewer than two usable agents, or all on one date.
    """
    warnings: list[str] = []
    table = horizons.copy()
    dates, unmatched, lenient_matches = match_release_dates(
        table["agent"].astype(str), release_dates, lenient=lenient
    )
    if unmatched:
        warnings.append(f"no release date for: {', '.join(unmatched)} (left out of the trend)")
    for agent, name in lenient_matches.items():
        warnings.append(f"release date of {agent!r} taken from {name!r} (lenient name match)")
    table["release_date"] = table["agent"].map(dates)
    table["year"] = decimal_year(table["release_date"])
    reasons = []
    for row in table.itertuples():
        status = getattr(row, "status", HorizonStatus.OK)
        if not isinstance(row.release_date, pd.Timestamp) or pd.isna(row.release_date):
            reasons.append("no release date")
        elif status != HorizonStatus.OK:
            reasons.append(f"status {status}: no finite horizon")
        elif not (np.isfinite(row.p50) and row.p50 > 0):
            reasons.append("no finite p50")
        elif getattr(row, "extrapolated", False) and not include_extrapolated:
            reasons.append("p50 extrapolated outside its task range")
        else:
            reasons.append("")
    table["reason"] = reasons
    table["used"] = table["reason"] == ""
    for row in table[~table["used"] & (table["reason"] != "no release date")].itertuples():
        warnings.append(f"{row.agent}: left out of the trend ({row.reason})")
    used = table[table["used"]].reset_index(drop=True)
    if len(used) < 2 or used["year"].nunique() < 2:
        raise ValueError("need at least two agents with a finite p50 and distinct release dates")
    x = used["year"].to_numpy(dtype=float)
    y = np.log(used["p50"].to_numpy(dtype=float))
    slope, intercept = (v[0] for v in _ols(x, y[None, :]))
    resid = y - (intercept + slope * x)
    r2 = 1 - (resid**2).sum() / ((y - y.mean()) ** 2).sum()

    rng = np.random.default_rng(seed)
    n_dropped = 0
    if samples is not None and len(samples):
        method = "horizon-bootstrap"
        wide = samples.pivot(index="sample", columns="agent", values="p50")
        mat = wide.reindex(columns=used["agent"]).to_numpy(dtype=float)
        good = np.all(np.isfinite(mat) & (mat > 0), axis=1)
        n_dropped = int((~good).sum())
        if n_dropped:
            warnings.append(
                f"{n_dropped} of {len(mat)} bootstrap samples dropped from the trend CI: "
                "an agent had no finite p50 in them"
            )
        ys = np.log(mat[good])
        xs = x
    elif {"p50_low", "p50_high"} <= set(used.columns) and (
        used[["p50_low", "p50_high"]].notna().all().all()
    ):
        method = "parametric-ci"
        from scipy.stats import norm

        z = norm.ppf(0.975)
        sd = (np.log(used["p50_high"]) - np.log(used["p50_low"])).to_numpy(dtype=float) / (2 * z)
        ys = y[None, :] + rng.standard_normal((n_bootstrap, len(used))) * sd[None, :]
        xs = x
    else:
        method = "agents-bootstrap"
        if len(used) < 3:
            raise ValueError("need CIs or at least three agents to bootstrap the trend")
        idx = rng.integers(0, len(used), size=(n_bootstrap, len(used)))
        xs, ys = x[idx], y[idx]
        spread = np.ptp(xs, axis=1) > 0
        n_dropped = int((~spread).sum())
        xs, ys = xs[spread], ys[spread]
    b_slope, b_int = _ols(xs, ys)
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    s_lo, s_hi = quantile_with_inf(b_slope, lo_q), quantile_with_inf(b_slope, hi_q)

    def doubling(s: float) -> float:
        return float(np.log(2) / s * _DAYS_PER_YEAR) if s > 0 else float("inf")

    forecasts = []
    for threshold in thresholds_minutes:
        target = np.log(threshold)
        year = (target - intercept) / slope if slope > 0 else np.inf
        with np.errstate(divide="ignore", invalid="ignore"):
            b_year = np.where(b_slope > 0, (target - b_int) / b_slope, np.inf)
        y_lo, y_hi = quantile_with_inf(b_year, lo_q), quantile_with_inf(b_year, hi_q)
        forecasts.append(
            {
                "threshold_minutes": float(threshold),
                "year": float(year),
                "date": from_decimal_year(year),
                "year_low": float(y_lo),
                "year_high": float(y_hi),
                "date_low": from_decimal_year(y_lo),
                "date_high": from_decimal_year(y_hi),
                "n_never": int((b_slope <= 0).sum()),
            }
        )
    return TrendResult(
        agents=table[["agent", "release_date", "year", "p50", "used", "reason"]],
        slope=float(slope),
        intercept=float(intercept),
        doubling_time_days=doubling(slope),
        doubling_time_low=doubling(s_hi),
        doubling_time_high=doubling(s_lo),
        r_squared=float(r2),
        forecasts=pd.DataFrame(forecasts),
        n_bootstrap=int(len(b_slope)),
        n_dropped=n_dropped,
        method=method,
        confidence=confidence,
        samples=pd.DataFrame({"slope": b_slope, "intercept": b_int}),
        warnings=warnings,
    )


def trend_line(result: TrendResult, dates=None, confidence: float | None = None) -> pd.DataFrame:
    """The fitted trend and its pointwise bootstrap band, for plotting.

    Args:
        result: from :func:`fit_trend`.
        dates: dates to evaluate (default: 100 points from the first used release date to
            the latest forecast date or one year after the last release).
        confidence: band level (default: the result's).

    Returns:
        DataFrame ``date, year, p50, p50_low, p50_high`` (minutes).
    """
    confidence = result.confidence if confidence is None else confidence
    used_years = result.agents.loc[result.agents["used"], "year"]
    if dates is None:
        end = max(used_years.max() + 1, *[y for y in result.forecasts["year"] if np.isfinite(y)])
        years = np.linspace(used_years.min(), min(end, 2100.0), 100)
    else:
        years = decimal_year(dates)
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    band = result.samples["intercept"].to_numpy()[:, None] + np.outer(
        result.samples["slope"].to_numpy(), years
    )
    return pd.DataFrame(
        {
            "date": [from_decimal_year(v) for v in years],
            "year": years,
            "p50": np.exp(result.intercept + result.slope * years),
            "p50_low": np.exp(np.quantile(band, lo_q, axis=0)),
            "p50_high": np.exp(np.quantile(band, hi_q, axis=0)),
        }
    )
