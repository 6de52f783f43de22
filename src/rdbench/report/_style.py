"""Shared look of the report's figures: one colour per agent, human in black, readable
time ticks, and figures rendered to self-contained SVG text."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from typing import Iterator

import matplotlib

matplotlib.use("Agg")  # never open a window; the report renders off-screen

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

HUMAN_COLOR = "#111111"
# Colour-blind-safe first (Okabe-Ito and friends); colours repeat after twenty agents.
_PALETTE = [
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#8C564B",
    "#7F7F7F",
    "#BCBD22",
    "#6A3D9A",
    # Paul Tol's muted scheme: distinct from the ten above for long agent lists.
    "#332288",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
    "#117733",
    "#DDCC77",
    "#88CCEE",
    "#661100",
    "#AA4466",
]

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.7,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "svg.fonttype": "path",  # glyphs as paths: no font needed by the reader
    "figure.dpi": 100,
}


def agent_colors(agents: Iterable[str], human_names: Iterable[str] = ("human",)) -> dict[str, str]:
    """A stable colour per agent (sorted order), black for humans.

    Returns:
        Mapping agent name -> hex colour.
    """
    humans = {str(h) for h in human_names}
    colors: dict[str, str] = {}
    i = 0
    for agent in sorted({str(a) for a in agents}):
        if agent in humans:
            colors[agent] = HUMAN_COLOR
        else:
            colors[agent] = _PALETTE[i % len(_PALETTE)]
            i += 1
    return colors


def color_for(agent: str, colors: Mapping[str, str] | None, is_human: bool = False) -> str:
    """The colour of one agent, falling back to a fresh palette lookup."""
    if is_human:
        return HUMAN_COLOR
    if colors and agent in colors:
        return colors[agent]
    return agent_colors([agent])[agent]


def format_minutes(minutes: float) -> str:
    """A duration in minutes as short text: ``45 s``, ``8 min``, ``1.5 h``, ``3 d``.

    Returns:
        The text; ``inf`` and ``0`` are spelled out; NaN gives ``n/a``.
    """
    if minutes is None or np.isnan(minutes):
        return "n/a"
    if np.isinf(minutes):
        return "∞" if minutes > 0 else "−∞"
    if minutes <= 0:
        return "0"
    if minutes < 1:
        seconds = minutes * 60
        return f"{seconds:.2g} s" if seconds >= 0.01 else "< 0.01 s"
    if minutes < 60:
        return f"{minutes:.2g} min" if minutes < 10 else f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.2g} h" if hours < 10 else f"{hours:.0f} h"
    days = hours / 24
    if days < 730:
        return f"{days:.2g} d" if days < 10 else f"{days:.0f} d"
    years = days / 365.25
    # Bootstrap upper bounds can be astronomically large: say so without 40 digits.
    return f"{years:.0f} yr" if years < 1000 else "> 1000 yr"


# Tick positions for time axes on a log scale (minutes) and their labels.
_TIME_TICKS = [
    (1 / 60, "1 s"),
    (4 / 60, "4 s"),
    (15 / 60, "15 s"),
    (1, "1 min"),
    (4, "4 min"),
    (15, "15 min"),
    (60, "1 h"),
    (4 * 60, "4 h"),
    (16 * 60, "16 h"),
    (64 * 60, "64 h"),
    (7 * 24 * 60, "1 wk"),
    (30 * 24 * 60, "1 mo"),
    (365 * 24 * 60, "1 yr"),
]


def time_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Readable ticks (minutes) within ``[low, high]`` for a log time axis.

    Returns:
        ``(positions, labels)``.
    """
    ticks = [(v, label) for v, label in _TIME_TICKS if low <= v <= high]
    return [v for v, _ in ticks], [label for _, label in ticks]


def budget_ticks(low_minutes: float, high_minutes: float) -> tuple[list[float], list[str]]:
    """Powers of two of 30 minutes (30 min, 1 h, 2 h ... 64 h) within a range.

    Returns:
        ``(positions in minutes, labels)``.
    """
    out, labels = [], []
    value = 7.5
    while value <= high_minutes * 1.0001:
        if value >= low_minutes * 0.9999:
            out.append(value)
            labels.append(format_minutes(value))
        value *= 2
    return out, labels


@contextmanager
def figure_style() -> Iterator[None]:
    """Apply the report's rcParams for the duration of a figure's construction."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(width: float = 7.6, height: float = 4.2, **subplots) -> tuple[Figure, object]:
    """A figure with the report's style baked in (its artists keep the rc values).

    Returns:
        ``(figure, axes)`` as :func:`matplotlib.pyplot.subplots` would, but the figure is
        not registered with pyplot (no global state, no leak across calls).
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(**subplots)
    return fig, axes


def figure_to_svg(fig: Figure, salt: str) -> str:
    """Render a figure as SVG text suitable for inlining in an HTML page.

    Args:
        fig: the figure.
        salt: makes the SVG's internal ids (clip paths) unique within the page and the
            output deterministic; use the figure's name.

    Returns:
        The ``<svg ...>`` element, without XML prolog or DOCTYPE. Its width and height
        (in pt) are kept as the natural size; CSS may shrink it (the viewBox keeps the
        aspect ratio).
    """
    buf = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    start = text.index("<svg")
    svg = text[start:]
    head_end = svg.index(">")
    head = svg[:head_end]
    # Several SVGs share one HTML page: prefix every id (glyphs, clip paths, matplotlib's
    # "figure_1"/"axes_1" groups) and every reference to one, so ids stay unique.
    body = re.sub(r"<metadata>.*?</metadata>\s*", "", svg[head_end:], flags=re.S)
    body = re.sub(r'\bid="([^"]+)"', rf'id="{salt}-\1"', body)
    body = re.sub(r'(href="|url\()#([^")]+)', rf"\1#{salt}-\2", body)
    return head + body
