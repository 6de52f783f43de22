"""Each figure function on small hand-made frames: what it draws, and that it refuses
empty input instead of drawing an empty axis."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from rdbench.report._style import agent_colors, figure_to_svg, format_minutes
from rdbench.report.figures import budget_figure, horizon_figure, trajectory_figure, trend_figure


def _lines(ax) -> list:
    # the labelled data lines: reference lines and markers carry matplotlib's "_child" names
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def _bands(ax) -> int:
    return sum(isinstance(c, PolyCollection) for c in ax.collections)


def budget_frame() -> pd.DataFrame:
    rows = []
    for agent, length, base in [("a", 30.0, 0.2), ("a", 120.0, 0.3), ("b", 30.0, 0.1)]:
        for budget in (30.0, 60.0, 120.0, 240.0):
            if budget >= length:
                s = base + 0.05 * np.log2(budget / length)
                rows.append((agent, False, length, budget, s, s - 0.1, s + 0.1))
    for budget in (30.0, 60.0, 120.0, 240.0):
        s = 0.1 * np.log2(budget / 15)
        rows.append(("human", True, np.nan, budget, s, s - 0.2, s + 0.2))
    return pd.DataFrame(
        rows,
        columns=[
            "agent",
            "is_human",
            "attempt_minutes",
            "budget_minutes",
            "score",
            "score_low",
            "score_high",
        ],
    )


def test_budget_figure_one_line_per_agent_and_length_plus_humans():
    fig = budget_figure(budget_frame(), colors=agent_colors(["a", "b", "human"]))
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    labels = [ln.get_label() for ln in _lines(ax)]
    assert labels == [
        "a, 30 min attempts",
        "a, 2 h attempts",
        "b, 30 min attempts",
        "human (score by time T)",
    ]
    assert _bands(ax) == 4
    assert ax.get_title(loc="left").startswith("Score against total time budget")
    assert "budget" in ax.get_xlabel() and "normalized score" in ax.get_ylabel()
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["30 min", "1 h", "2 h", "4 h"]
    human = _lines(ax)[-1]
    assert human.get_color() == "#111111"


def test_budget_figure_draws_no_band_for_missing_intervals():
    frame = budget_frame().assign(score_low=np.nan, score_high=np.nan)
    (ax,) = budget_figure(frame).axes
    assert _bands(ax) == 0
    assert len(_lines(ax)) == 4


@pytest.mark.parametrize("drop", [None, "score_low"])
def test_budget_figure_refuses_empty_or_incomplete(drop):
    frame = budget_frame()
    frame = frame.drop(columns=drop) if drop else frame.iloc[0:0]
    with pytest.raises(ValueError, match="budget_figure"):
        budget_figure(frame)


def trajectory_frame() -> pd.DataFrame:
    t = np.linspace(0, 240, 9)
    rows = []
    for agent, is_human, top in [("a", False, 0.5), ("human", True, 0.9)]:
        s = top * t / t.max()
        rows += [(agent, is_human, ti, si, si - 0.1, si + 0.1, 5) for ti, si in zip(t, s)]
    return pd.DataFrame(
        rows,
        columns=[
            "agent",
            "is_human",
            "working_minutes",
            "score",
            "score_low",
            "score_high",
            "n_attempts",
        ],
    )


def test_trajectory_figure_steps_with_bands_and_hours_axis():
    (ax,) = trajectory_figure(trajectory_frame()).axes
    lines = _lines(ax)
    assert [ln.get_label() for ln in lines] == ["a (n = 5)", "human (n = 5)"]
    assert all(ln.get_drawstyle() == "steps-post" for ln in lines)
    assert _bands(ax) == 2
    assert "hours" in ax.get_xlabel()  # 240 minutes -> shown in hours
    assert max(lines[0].get_xdata()) == pytest.approx(4.0)
    assert ax.get_title(loc="left") == "Score over working time within one attempt"


def test_trajectory_figure_uses_minutes_for_short_attempts():
    frame = trajectory_frame().assign(working_minutes=lambda d: d["working_minutes"] / 10)
    (ax,) = trajectory_figure(frame).axes
    assert "minutes" in ax.get_xlabel()


def test_trajectory_figure_uses_seconds_for_very_short_attempts():
    frame = trajectory_frame().assign(working_minutes=lambda d: d["working_minutes"] / 240)
    (ax,) = trajectory_figure(frame).axes
    assert "seconds" in ax.get_xlabel()
    assert max(_lines(ax)[-1].get_xdata()) == pytest.approx(60.0)


def test_trajectory_figure_refuses_empty():
    with pytest.raises(ValueError, match="no rows"):
        trajectory_figure(trajectory_frame().iloc[0:0])


def horizon_frames():
    minutes = np.geomspace(0.1, 2000, 50)
    curves = []
    for agent, p50 in [("fast", 60.0), ("slow", 4.0)]:
        p = 1 / (1 + (minutes / p50))
        curves.append(
            pd.DataFrame(
                {
                    "agent": agent,
                    "human_minutes": minutes,
                    "p_success": p,
                    "p_low": p * 0.8,
                    "p_high": np.minimum(p * 1.2, 1),
                }
            )
        )
    horizons = pd.DataFrame(
        {
            "agent": ["slow", "fast", "none"],
            "p50": [4.0, 60.0, np.nan],
            "p50_low": [1.0, 20.0, np.nan],
            "p50_high": [10.0, 200.0, np.nan],
            "status": ["ok", "ok", "no_success"],
            "extrapolated": [True, False, False],
        }
    )
    observed = pd.DataFrame(
        {
            "agent": ["fast", "fast", "slow", "none"],
            "bin_mid": [8.0, 120.0, 8.0, 8.0],
            "success_rate": [0.9, 0.3, 0.4, 0.0],
            "n_runs": [10, 5, 10, 4],
        }
    )
    return pd.concat(curves, ignore_index=True), horizons, observed


def test_horizon_figure_one_panel_per_agent_best_first_p50_marked():
    curves, horizons, observed = horizon_frames()
    fig = horizon_figure(curves, horizons, observed)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    titles = [ax.get_title(loc="left") for ax in visible]
    assert titles[0] == "fast\np50 = 1 h [20 min–3.3 h]"
    assert titles[1] == "slow\np50 = 4 min, extrapolated"
    assert titles[2] == "none\nno success (below range)"
    fast = visible[0]
    assert fast.get_xscale() == "log"
    assert any(list(ln.get_xdata()) == [60.0, 60.0] for ln in fast.get_lines())  # p50 line
    assert _bands(fast) == 1
    assert len(_lines(visible[2])) == 0  # no curve for an agent without a fit
    assert fig.get_suptitle() == "Success probability against human task length"
    assert all(
        ax.get_ylabel() == "P(success)" for ax in visible if ax.get_subplotspec().is_first_col()
    )
    assert "human task length" in fast.get_xlabel()


def test_horizon_figure_refuses_no_agents():
    curves, horizons, _ = horizon_frames()
    with pytest.raises(ValueError):
        horizon_figure(curves, horizons.iloc[0:0])


def trend_frames():
    points = pd.DataFrame(
        {
            "agent": ["old", "mid", "new", "tiny"],
            "release_date": pd.to_datetime(
                ["2023-01-01", "2024-01-01", "2025-01-01", "2022-06-01"]
            ),
            "p50": [2.0, 8.0, 30.0, 1e-5],
            "p50_low": [1.0, 4.0, 10.0, 0.0],
            "p50_high": [4.0, 16.0, 90.0, 0.01],
            "used": [True, True, True, False],
        }
    )
    dates = pd.date_range("2023-01-01", "2027-01-01", periods=20)
    years = np.arange(20) / 19 * 4
    line = pd.DataFrame(
        {"date": dates, "p50": 2.0 * 4**years, "p50_low": 1.5 * 4**years, "p50_high": 3 * 4**years}
    )
    forecast = {
        "date": pd.Timestamp("2026-03-01"),
        "date_low": pd.Timestamp("2025-09-01"),
        "date_high": pd.Timestamp("2027-06-01"),
    }
    return points, line, forecast


def test_trend_figure_log_axis_trend_band_forecast_and_legend():
    points, line, forecast = trend_frames()
    fig = trend_figure(
        points,
        line,
        threshold_minutes=480,
        doubling_days=182.6,
        doubling_low=150,
        doubling_high=230,
        forecast=forecast,
    )
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert fig.get_suptitle() == "50% time horizon against release date"
    subtitle = ax.get_title(loc="left")
    assert "doubling time 183 days [150–230]" in subtitle
    assert "crosses 8 h: Mar 2026 [Sep 2025 – Jun 2027]" in subtitle
    assert _bands(ax) == 1
    assert any(ln.get_ydata()[0] == 480 for ln in ax.get_lines())  # threshold line
    agents = [t.get_text() for t in ax.get_legend().get_texts()]
    # in release order; the off-axis agent is flagged instead of silently clipped
    assert agents[0].startswith("tiny (below axis)")
    assert agents[1:] == [
        "old: 2 min (Jan 2023)",
        "mid: 8 min (Jan 2024)",
        "new: 30 min (Jan 2025)",
    ]
    assert "release date" in ax.get_xlabel() and "horizon" in ax.get_ylabel()


def test_trend_figure_open_ended_forecast_interval():
    points, line, forecast = trend_frames()
    forecast["date_high"] = pd.NaT
    fig = trend_figure(points, line, threshold_minutes=480, doubling_days=182.6, forecast=forecast)
    assert fig.axes[0].get_title(loc="left").endswith("crosses 8 h: Mar 2026 [Sep 2025 – never]")


def test_trend_figure_without_forecast_or_growth():
    points, line, _ = trend_frames()
    fig = trend_figure(points, line, threshold_minutes=2400, doubling_days=float("inf"))
    assert fig.axes[0].get_title(loc="left") == "no growth"


def test_trend_figure_refuses_empty():
    points, line, _ = trend_frames()
    with pytest.raises(ValueError):
        trend_figure(points.iloc[0:0], line, threshold_minutes=480, doubling_days=100)


def test_svg_is_inline_ready_salted_and_deterministic():
    # same data, same salt -> the same bytes (a report can be diffed between runs)
    a = figure_to_svg(trajectory_figure(trajectory_frame()), "fig-x")
    assert a == figure_to_svg(trajectory_figure(trajectory_frame()), "fig-x")
    fig = trajectory_figure(trajectory_frame())
    assert a.startswith("<svg") and "viewBox" in a and "<?xml" not in a
    ids = re.findall(r'id="([^"]+)"', a)
    glyphs = [i for i in ids if "DejaVu" in i]
    assert glyphs and all(i.startswith("fig-x-") for i in glyphs)
    other = figure_to_svg(fig, "fig-y")
    assert not set(ids) & set(re.findall(r'id="([^"]+)"', other))  # no clash across figures
    # nothing external: only the SVG/XLink namespace names (never fetched) remain
    assert set(re.findall(r"https?://[^\"']*", a)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0.5, "30 s"),
        (3.7, "3.7 min"),
        (42.0, "42 min"),
        (60.0, "1 h"),
        (90.0, "1.5 h"),
        (600.0, "10 h"),
        (4320.0, "3 d"),
        (1e-6, "< 0.01 s"),
        (2e6, "4 yr"),
        (1e40, "> 1000 yr"),
        (float("inf"), "∞"),
        (float("nan"), "n/a"),
        (0.0, "0"),
    ],
)
def test_format_minutes(minutes, text):
    assert format_minutes(minutes) == text
