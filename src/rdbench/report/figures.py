"""The report's figures: pure functions, one figure each, from tidy DataFrames.

Each function takes the tables ``rdbench.stats`` computes (columns documented per
function), draws one titled figure with labelled axes (units included) and confidence
bands where the table carries intervals, and returns a :class:`matplotlib.figure.Figure`
without touching pyplot's global state. Laying out is all they do: no statistics here.
Each raises :class:`ValueError` when given no rows -- the page says "no data" in words
instead of drawing an empty axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from rdbench.report._style import (
    agent_colors,
    budget_ticks,
    color_for,
    figure_style,
    format_minutes,
    new_figure,
    time_ticks,
)
from rdbench.stats.status import HorizonStatus

__all__ = [
    "crosscheck_figure",
    "budget_figure",
    "trajectory_figure",
    "horizon_figure",
    "trend_figure",
    "elicitation_figure",
]

_LINESTYLES = ["-", "--", ":", "-."]
_MARKERS = ["o", "s", "^", "D", "v"]


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing columns {', '.join(missing)}")
    if frame.empty:
        raise ValueError(f"{name}: no rows to plot")


def _band(ax, x, low, high, color, alpha=0.14) -> None:
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    ok = np.isfinite(low) & np.isfinite(high)
    if ok.any():
        ax.fill_between(np.asarray(x)[ok], low[ok], high[ok], color=color, alpha=alpha, lw=0)


def _score_reference_lines(ax) -> None:
    ax.axhline(0, color="#999999", lw=0.8, ls="-", zorder=0)
    ax.axhline(1, color="#999999", lw=0.8, ls="--", zorder=0)
    ax.annotate(
        "reference solution",
        xy=(1.0, 1.0),
        xycoords=("axes fraction", "data"),
        xytext=(-2, 2),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=7.5,
        color="#777777",
    )


def budget_figure(
    curves: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    title: str = "Score against total time budget (best-of-k)",
) -> Figure:
    """Normalized score against total time budget: agents' best-of-k next to humans.

    The RE-Bench comparison: for an agent with attempts of length t, a budget T buys
    k = T // t attempts and the line shows the expected best of k; the human line shows
    the score humans had reached by working time T.

    Args:
        curves: one row per (agent, attempt length, budget). Columns: ``agent``,
            ``is_human`` (bool), ``attempt_minutes`` (attempt length; NaN for humans),
            ``budget_minutes`` (total budget), ``score`` (mean normalized score over
            tasks), ``score_low``, ``score_high`` (CI; NaN to draw no band).
        colors: agent -> colour (see :func:`rdbench.report._style.agent_colors`).
        title: the figure title.

    Returns:
        The figure (log2 budget axis, one line per agent and attempt length, bands).

    Raises:
        ValueError: no rows or a missing column.
    """
    cols = [
        "agent",
        "is_human",
        "attempt_minutes",
        "budget_minutes",
        "score",
        "score_low",
        "score_high",
    ]
    _require(curves, cols, "budget_figure")
    colors = colors or agent_colors(curves["agent"].astype(str))
    with figure_style():
        fig, ax = new_figure(7.6, 4.4)
        lengths = sorted(
            curves.loc[~curves["is_human"].astype(bool), "attempt_minutes"].dropna().unique()
        )
        style_of = {length: _LINESTYLES[i % len(_LINESTYLES)] for i, length in enumerate(lengths)}
        marker_of = {length: _MARKERS[i % len(_MARKERS)] for i, length in enumerate(lengths)}
        # Humans last so their line sits on top.
        order = curves.assign(_h=curves["is_human"].astype(bool)).sort_values(
            ["_h", "agent", "attempt_minutes", "budget_minutes"]
        )
        for (is_human, agent, length), group in order.groupby(
            ["_h", "agent", "attempt_minutes"], dropna=False, sort=False
        ):
            group = group.sort_values("budget_minutes")
            color = color_for(str(agent), colors, bool(is_human))
            if is_human:
                label = f"{agent} (score by time T)"
                ls, marker, lw = "-", "o", 2.4
            else:
                label = f"{agent}, {format_minutes(length)} attempts"
                ls, marker, lw = style_of.get(length, "-"), marker_of.get(length, "o"), 1.7
            x = group["budget_minutes"].to_numpy(dtype=float)
            _band(ax, x, group["score_low"], group["score_high"], color)
            ax.plot(x, group["score"], ls=ls, marker=marker, ms=4, lw=lw, color=color, label=label)
        ax.set_xscale("log", base=2)
        low, high = curves["budget_minutes"].min(), curves["budget_minutes"].max()
        ticks, labels = budget_ticks(low, high)
        if ticks:
            ax.set_xticks(ticks, labels)
            ax.minorticks_off()
        ax.set_xlim(low / 1.25, high * 1.25)
        _score_reference_lines(ax)
        ax.set_xlabel("total time budget T (log scale; agents: k = T ÷ attempt length attempts)")
        ax.set_ylabel("normalized score (0 = starting, 1 = reference)")
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def trajectory_figure(
    curves: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    title: str = "Score over working time within one attempt",
) -> Figure:
    """Mean best-so-far score against working time inside an attempt, agents and humans.

    Args:
        curves: one row per (agent, time point). Columns: ``agent``, ``is_human``,
            ``working_minutes``, ``score`` (mean over attempts of the best normalized
            score reached by that time), ``score_low``, ``score_high`` (CI; NaN for no
            band); optional ``n_attempts`` (shown in the legend).
        colors: agent -> colour.
        title: the figure title.

    Returns:
        The figure (linear working-time axis in seconds, minutes or hours by length, step
        lines, bands).

    Raises:
        ValueError: no rows or a missing column.
    """
    cols = ["agent", "is_human", "working_minutes", "score", "score_low", "score_high"]
    _require(curves, cols, "trajectory_figure")
    colors = colors or agent_colors(curves["agent"].astype(str))
    with figure_style():
        fig, ax = new_figure(7.6, 4.2)
        longest = curves["working_minutes"].max()
        if longest > 180:
            scale, unit = 60.0, "hours"
        elif longest >= 3:
            scale, unit = 1.0, "minutes"
        else:
            scale, unit = 1 / 60, "seconds"
        order = curves.assign(_h=curves["is_human"].astype(bool)).sort_values(["_h", "agent"])
        for (is_human, agent), group in order.groupby(["_h", "agent"], sort=False):
            group = group.sort_values("working_minutes")
            color = color_for(str(agent), colors, bool(is_human))
            x = group["working_minutes"].to_numpy(dtype=float) / scale
            label = str(agent)
            if "n_attempts" in group and group["n_attempts"].notna().any():
                label += f" (n = {int(group['n_attempts'].max())})"
            _band(ax, x, group["score_low"], group["score_high"], color)
            ax.plot(
                x,
                group["score"],
                drawstyle="steps-post",
                lw=2.4 if is_human else 1.8,
                color=color,
                label=label,
            )
        _score_reference_lines(ax)
        ax.set_xlim(left=0)
        ax.set_xlabel(f"working time within the attempt ({unit})")
        ax.set_ylabel("best normalized score so far (mean)")
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def horizon_figure(
    curves: pd.DataFrame,
    horizons: pd.DataFrame,
    observed: pd.DataFrame | None = None,
    *,
    colors: Mapping[str, str] | None = None,
    title: str = "Success probability against human task length",
    ncols: int = 4,
) -> Figure:
    """The METR horizon figure: per agent, fitted logistic curve with band, observed
    success rates, and the 50% horizon marked. One small panel per agent, ordered by p50.

    Args:
        curves: ``agent, human_minutes, p_success, p_low, p_high`` (as
            ``rdbench.stats.horizon_curves`` returns).
        horizons: one row per agent: ``agent, p50, p50_low, p50_high, status`` (``ok``,
            ``no_success``, ``all_success``, ``increasing``); optional ``extrapolated``
            (p50 outside the agent's task range: marked so, no interval drawn).
        observed: optional ``agent, bin_mid, success_rate`` (as
            ``rdbench.stats.empirical_success_rates``); optional ``n_runs`` sizes points.
        colors: agent -> colour.
        title: the figure title.
        ncols: panels per row.

    Returns:
        The figure (log task-length axes shared by all panels).

    Raises:
        ValueError: no agents or a missing column.
    """
    _require(horizons, ["agent", "p50", "p50_low", "p50_high", "status"], "horizon_figure")
    for col in ["agent", "human_minutes", "p_success", "p_low", "p_high"]:
        if col not in curves.columns:
            raise ValueError(f"horizon_figure: curves lack column {col}")
    table = horizons.copy()
    # Best first; agents without a finite horizon at the end (below-range last).
    rank = {HorizonStatus.ALL_SUCCESS: 0, HorizonStatus.OK: 1, HorizonStatus.INCREASING: 2,
            HorizonStatus.NO_SUCCESS: 3}
    table["_rank"] = table["status"].map(rank).fillna(2)
    table = table.sort_values(["_rank", "p50"], ascending=[True, False], na_position="last")
    n = len(table)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    lo_x, hi_x = 1 / 60 * 4, 32 * 60.0  # 4 s .. 32 h, widened to fit the data below
    if observed is not None and len(observed):
        lo_x = min(lo_x, observed["bin_mid"].min() / 2)
        hi_x = max(hi_x, observed["bin_mid"].max() * 2)
    colors = colors or agent_colors(table["agent"].astype(str))
    with figure_style():
        fig, axes = new_figure(
            2.35 * ncols + 0.4,
            2.05 * nrows + 0.7,
            nrows=nrows,
            ncols=ncols,
            sharex=True,
            sharey=True,
            squeeze=False,
        )
        fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
        flat = axes.ravel()
        for ax, row in zip(flat, table.itertuples()):
            agent = str(row.agent)
            color = color_for(agent, colors)
            c = curves[(curves["agent"] == row.agent)]
            c = c[(c["human_minutes"] >= lo_x) & (c["human_minutes"] <= hi_x)].sort_values(
                "human_minutes"
            )
            if len(c):
                _band(ax, c["human_minutes"], c["p_low"], c["p_high"], color, alpha=0.18)
                ax.plot(c["human_minutes"], c["p_success"], color=color, lw=1.8)
            if observed is not None and len(observed):
                o = observed[observed["agent"] == row.agent]
                if len(o):
                    sizes = 14
                    if "n_runs" in o:
                        sizes = 6 + 30 * np.sqrt(o["n_runs"] / max(observed["n_runs"].max(), 1))
                    ax.scatter(
                        o["bin_mid"],
                        o["success_rate"],
                        s=sizes,
                        color=color,
                        edgecolor="white",
                        lw=0.5,
                        zorder=3,
                        alpha=0.9,
                    )
            status = str(row.status)
            extrapolated = bool(getattr(row, "extrapolated", False))
            if HorizonStatus(status).has_horizon and np.isfinite(row.p50):
                ax.axvline(row.p50, color=color, ls="--", lw=1)
                ax.plot(
                    [row.p50], [0.5], marker="o", ms=5, color="white", mec=color, mew=1.5, zorder=4
                )
                if np.isfinite(row.p50_low) and np.isfinite(row.p50_high) and not extrapolated:
                    ax.plot(
                        [max(row.p50_low, lo_x), min(row.p50_high, hi_x)],
                        [0.5, 0.5],
                        color=color,
                        lw=3,
                        alpha=0.45,
                        solid_capstyle="butt",
                    )
                ci = ""
                if extrapolated:
                    ci = ", extrapolated"
                elif not (np.isnan(row.p50_low) or np.isnan(row.p50_high)):
                    ci = f" [{format_minutes(row.p50_low)}–{format_minutes(row.p50_high)}]"
                subtitle = f"p50 = {format_minutes(row.p50)}{ci}"
                if status == HorizonStatus.INCREASING:
                    subtitle = "success does not fall with length"
            elif status == HorizonStatus.NO_SUCCESS:
                subtitle = "no success (below range)"
            elif status == HorizonStatus.ALL_SUCCESS:
                subtitle = "all succeeded (above range)"
            else:
                subtitle = status
            ax.set_title(f"{agent}\n{subtitle}", fontsize=8.5, fontweight="normal", loc="left")
            ax.axhline(0.5, color="#bbbbbb", lw=0.7, zorder=0)
        for ax in flat[n:]:
            ax.set_visible(False)
        ax0 = flat[0]
        ax0.set_xscale("log")
        ax0.set_xlim(lo_x, hi_x)
        ax0.set_ylim(-0.03, 1.03)
        # Sparse ticks, 16x apart, so labels fit unrotated under every small panel.
        ticks = [v for v in (0.25, 4.0, 60.0, 960.0, 15360.0) if lo_x <= v <= hi_x]
        ax0.set_xticks(ticks, [format_minutes(v) for v in ticks])
        ax0.minorticks_off()
        for ax in flat[:n]:
            ax.tick_params(labelbottom=True, labelleft=True, labelsize=8)
            ax.set_xlabel("human task length (log)", fontsize=8)
        for ax in axes[:, 0]:
            ax.set_ylabel("P(success)")
        fig.legend(
            handles=[
                Line2D([], [], color="#555555", lw=1.8, label="fitted logistic (95% band)"),
                Line2D([], [], color="#555555", marker="o", ls="", label="observed success rate"),
                Line2D([], [], color="#555555", ls="--", label="50% horizon (p50, 95% CI)"),
            ],
            loc="outside lower center",
            ncol=3,
        )
    return fig


def _date_num(dates) -> np.ndarray:
    from matplotlib.dates import date2num

    return date2num(pd.to_datetime(pd.Series(dates)).dt.tz_localize(None).to_numpy())


def trend_figure(
    points: pd.DataFrame,
    line: pd.DataFrame,
    *,
    threshold_minutes: float,
    doubling_days: float,
    doubling_low: float = float("nan"),
    doubling_high: float = float("nan"),
    forecast: Mapping[str, object] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str = "50% time horizon against release date",
) -> Figure:
    """p50 horizon per agent against its release date (log axis), the exponential trend
    with its band, the doubling time, and when the trend crosses the threshold.

    Args:
        points: one row per agent: ``agent, release_date, p50, p50_low, p50_high, used``
            (agents not used in the fit are drawn hollow, grey).
        line: the trend ``date, p50, p50_low, p50_high`` (``rdbench.stats.trend_line``).
        threshold_minutes: the horizon whose crossing is forecast (drawn dotted).
        doubling_days, doubling_low, doubling_high: doubling time and its CI (days).
        forecast: optional ``date, date_low, date_high`` of the crossing (Timestamps;
            NaT ``date_high`` = the interval's upper end never crosses).
        colors: agent -> colour.
        title: the figure title.

    Returns:
        The figure.

    Raises:
        ValueError: no points, no trend line, or a missing column.
    """
    _require(
        points, ["agent", "release_date", "p50", "p50_low", "p50_high", "used"], "trend_figure"
    )
    _require(line, ["date", "p50", "p50_low", "p50_high"], "trend_figure line")
    pts = points[pd.notna(points["release_date"]) & np.isfinite(points["p50"].astype(float))]
    pts = pts[pts["p50"] > 0]
    colors = colors or agent_colors(points["agent"].astype(str))
    with figure_style():
        fig, ax = new_figure(9.6, 4.8)
        lx = _date_num(line["date"])
        ax.fill_between(
            lx,
            line["p50_low"],
            line["p50_high"],
            color="#4C72B0",
            alpha=0.13,
            lw=0,
            label="trend, 95% band",
        )
        ax.plot(lx, line["p50"], color="#4C72B0", lw=1.6, label="exponential trend (OLS of ln p50)")
        ax.axhline(threshold_minutes, color="#C44E52", ls=":", lw=1.4)
        ax.annotate(
            f"threshold {format_minutes(threshold_minutes)}",
            xy=(0.0, threshold_minutes),
            xycoords=("axes fraction", "data"),
            xytext=(4, -3),
            textcoords="offset points",
            va="top",
            color="#C44E52",
            fontsize=8,
        )
        y_all = np.concatenate([pts["p50"].to_numpy(dtype=float), [threshold_minutes]])
        y_lo = max(min(y_all.min(), np.nanmin(line["p50"])) / 3, 4 / 60)
        y_hi = max(y_all.max(), threshold_minutes) * 3
        agent_handles: list[Line2D] = []
        for row in pts.sort_values("release_date").itertuples():
            x = _date_num([row.release_date])[0]
            used = bool(row.used)
            color = color_for(str(row.agent), colors) if used else "#9a9a9a"
            label = str(row.agent)
            if row.p50 < y_lo:
                # Off the bottom of the axis (e.g. an extrapolated p50 of a millisecond):
                # an arrow on the edge, with the value in the label.
                ax.plot([x], [y_lo * 1.15], marker="v", ms=7, color=color, mfc="white", zorder=3)
                label += " (below axis)"
            else:
                low = row.p50 - row.p50_low if np.isfinite(row.p50_low) else 0
                high = row.p50_high - row.p50 if np.isfinite(row.p50_high) else 0
                ax.errorbar(
                    [x],
                    [row.p50],
                    yerr=[[max(low, 0)], [max(high, 0)]],
                    fmt="o",
                    ms=6,
                    color=color,
                    mfc=color if used else "white",
                    ecolor=color,
                    elinewidth=1,
                    alpha=0.95,
                    capsize=2,
                    zorder=3,
                )
            agent_handles.append(
                Line2D(
                    [],
                    [],
                    marker="v" if row.p50 < y_lo else "o",
                    ls="",
                    color=color,
                    mfc=color if used else "white",
                    label=f"{label}: {format_minutes(row.p50)}"
                    f" ({pd.Timestamp(row.release_date):%b %Y})",
                )
            )
        forecast_text = ""
        if forecast is not None and pd.notna(forecast.get("date")):
            fx = _date_num([forecast["date"]])[0]
            lo, hi = forecast.get("date_low"), forecast.get("date_high")
            xerr = None
            if pd.notna(lo) and pd.notna(hi):
                lo_x, hi_x = _date_num([lo])[0], _date_num([hi])[0]
                xerr = [[fx - lo_x], [hi_x - fx]]
            ax.errorbar(
                [fx],
                [threshold_minutes],
                xerr=xerr,
                fmt="D",
                ms=7,
                color="#C44E52",
                capsize=3,
                zorder=4,
                label="forecast crossing (95% CI)",
            )
            when = pd.Timestamp(forecast["date"]).strftime("%b %Y")
            forecast_text = f"crosses {format_minutes(threshold_minutes)}: {when}"
            if pd.notna(lo) and pd.notna(hi):
                forecast_text += f" [{pd.Timestamp(lo):%b %Y} – {pd.Timestamp(hi):%b %Y}]"
            elif pd.notna(lo):
                # The upper end of the interval never crosses (bootstrap trends that do
                # not grow): an open-ended bar to the right edge says so.
                lo_x = _date_num([lo])[0]
                ax.annotate(
                    "",
                    xy=(1.0, threshold_minutes),
                    xycoords=("axes fraction", "data"),
                    xytext=(lo_x, threshold_minutes),
                    textcoords="data",
                    arrowprops={"arrowstyle": "-|>", "color": "#C44E52", "lw": 1.2},
                )
                forecast_text += f" [{pd.Timestamp(lo):%b %Y} – never]"
        ax.set_yscale("log")
        ax.set_ylim(y_lo, y_hi)
        ticks, labels = time_ticks(y_lo, y_hi)
        ax.set_yticks(ticks, labels)
        ax.minorticks_off()
        ax.xaxis_date()
        ax.set_xlabel("model release date")
        ax.set_ylabel("50% time horizon (human task length, log)")
        doubling = (
            f"doubling time {doubling_days:.0f} days" if np.isfinite(doubling_days) else "no growth"
        )
        if np.isfinite(doubling_low) or np.isfinite(doubling_high):
            hi_txt = f"{doubling_high:.0f}" if np.isfinite(doubling_high) else "∞"
            doubling += f" [{doubling_low:.0f}–{hi_txt}]"
        fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
        ax.set_title(
            doubling + ("; " + forecast_text if forecast_text else ""),
            loc="left",
            fontsize=9,
            fontweight="normal",
        )
        handles, _ = ax.get_legend_handles_labels()
        handles.append(
            Line2D([], [], marker="o", ls="", color="#555555", label="agent p50 (95% CI)")
        )
        if (~pts["used"].astype(bool)).any():
            handles.append(
                Line2D(
                    [], [], marker="o", ls="", color="#9a9a9a", mfc="white", label="not in the fit"
                )
            )
        ax.add_artist(ax.legend(handles=handles, loc="lower right", fontsize=8))
        ax.legend(
            handles=agent_handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0,
            title="agent: p50 (release)",
            title_fontsize=8.5,
            alignment="left",
        )
    return fig


def elicitation_figure(
    gaps: pd.DataFrame,
    *,
    buffer_factor: float | None = None,
    title: str = "Elicitation: each configuration against its model's weakest",
) -> Figure:
    """One row per (model, weaker, better configuration): the ratio of their 50% horizons
    with its CI on a log axis, a line at 1 (no gain) and, optionally, the safety buffer.

    Args:
        gaps: ``model, base, elicited, ratio, ratio_low, ratio_high`` (from
            ``rdbench.stats.elicitation.elicitation_gaps``); rows without a finite ratio
            are left out.
        buffer_factor: draw the buffer (the largest upper bound) as a dashed line.
        title: the figure title.

    Returns:
        The figure.

    Raises:
        ValueError: a missing column, or no row with a finite positive ratio.
    """
    _require(gaps, ["model", "base", "elicited", "ratio", "ratio_low", "ratio_high"],
             "elicitation_figure")
    ratio = gaps["ratio"].astype(float)
    rows = gaps[np.isfinite(ratio) & (ratio > 0)].reset_index(drop=True)
    if rows.empty:
        raise ValueError("elicitation_figure: no pair with a finite horizon ratio")
    with figure_style():
        fig, ax = new_figure(9.6, max(3.2, 1.4 + 0.55 * len(rows)))  # readable with one row
        y = np.arange(len(rows))[::-1]
        for yi, row in zip(y, rows.itertuples()):
            low = float(row.ratio_low) if np.isfinite(row.ratio_low) else float(row.ratio)
            high = float(row.ratio_high) if np.isfinite(row.ratio_high) else float(row.ratio)
            ax.errorbar([row.ratio], [yi],
                        xerr=[[max(row.ratio - low, 0)], [max(high - row.ratio, 0)]],
                        fmt="o", ms=6, color="#4C72B0", elinewidth=1.2, capsize=3, zorder=3)
            ax.annotate(f"×{row.ratio:.2f}", xy=(row.ratio, yi), xytext=(0, 6),
                        textcoords="offset points", ha="center", fontsize=8)
        ax.axvline(1.0, color="#555555", lw=1, ls="-")
        if buffer_factor is not None and buffer_factor > 1:
            ax.axvline(buffer_factor, color="#C44E52", lw=1.2, ls="--")
            ax.annotate(f"buffer ×{buffer_factor:.2f}", xy=(buffer_factor, 1.0),
                        xycoords=("data", "axes fraction"), xytext=(-4, -4),
                        textcoords="offset points", ha="right", va="top", color="#C44E52",
                        fontsize=8)
        ax.set_xscale("log")
        ends = [*rows["ratio_low"].astype(float), *rows["ratio_high"].astype(float),
                *ratio[np.isfinite(ratio)], 1.0, buffer_factor or 1.0]
        ends = [e for e in ends if np.isfinite(e) and e > 0]
        ax.set_xlim(min(ends) / 1.3, max(ends) * 1.3)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"×{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(y, [f"{r.model}: {r.base} → {r.elicited}" for r in rows.itertuples()])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel("ratio of 50% horizons (better / weakest configuration), 95% CI")
        fig.suptitle(title)
    return fig


def crosscheck_figure(
    uplift: pd.DataFrame,
    correlation: pd.DataFrame,
    *,
    title: str = "Verification uplift against error correlation",
) -> Figure:
    """One point per (solver, verifier) pair: the uplift of the verification protocol over
    the pair's better member (with its paired 95% CI) against the correlation of the two
    models' errors on the single arm. Independent errors are what a second model can catch;
    cross-provider pairs are drawn apart from same-family ones.

    Args:
        uplift: ``solver, verifier, pairing, uplift, uplift_low, uplift_high`` (from
            ``rdbench.crosscheck.analysis.uplift_table``).
        correlation: ``model_a, model_b, phi`` (from ``error_correlation``; unordered pairs).
        title: the figure title.

    Returns:
        The figure.

    Raises:
        ValueError: a missing column, or no pair with both an uplift and a finite
            correlation.
    """
    _require(uplift, ["solver", "verifier", "pairing", "uplift", "uplift_low", "uplift_high"],
             "crosscheck_figure")
    _require(correlation, ["model_a", "model_b", "phi"], "crosscheck_figure")
    phi = {frozenset((r.model_a, r.model_b)): float(r.phi) for r in correlation.itertuples()}
    rows = uplift.assign(
        phi=[phi.get(frozenset((r.solver, r.verifier)), np.nan) for r in uplift.itertuples()]
    )
    rows = rows[np.isfinite(rows["phi"].astype(float))].reset_index(drop=True)
    if rows.empty:
        raise ValueError("crosscheck_figure: no pair with an uplift and a finite correlation")
    styles = {"cross_provider": ("o", "#4C72B0", "cross-provider"),
              "same_family": ("s", "#DD8452", "same family")}
    with figure_style():
        fig, ax = new_figure(9.6, 4.6)
        shown: set[str] = set()
        seen: set[frozenset] = set()
        span = max(float(rows["phi"].max() - rows["phi"].min()), 0.2)
        for row in rows.itertuples():
            marker, color, label = styles.get(row.pairing, ("D", "#55A868", str(row.pairing)))
            # the two directions of a pair share their correlation: draw them side by side,
            # labelled left and right
            key = frozenset((row.solver, row.verifier))
            second = key in seen
            seen.add(key)
            x = row.phi + (0.015 if second else -0.015) * span
            ax.errorbar([x], [row.uplift],
                        yerr=[[max(row.uplift - row.uplift_low, 0)],
                              [max(row.uplift_high - row.uplift, 0)]],
                        fmt=marker, ms=7, color=color, elinewidth=1.2, capsize=3, zorder=3,
                        label=None if label in shown else label)
            shown.add(label)
            ax.annotate(f"{row.solver} ← {row.verifier}", xy=(x, row.uplift),
                        xytext=(6 if second else -6, 4), textcoords="offset points",
                        ha="left" if second else "right", fontsize=8)
        low, high = float(rows["phi"].min()), float(rows["phi"].max())
        ax.set_xlim(low - 0.45 * span, high + 0.45 * span)
        ax.axhline(0.0, color="#555555", lw=1)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:+.3g}%"))
        ax.set_xlabel("error correlation of the two models (phi, single arm)")
        ax.set_ylabel("uplift over the better member (95% CI)")
        ax.legend(loc="best", frameon=False)
        fig.suptitle(title)
    return fig
