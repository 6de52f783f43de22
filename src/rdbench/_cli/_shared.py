"""Helpers the analysis verbs share (horizon, compare, trend, records, report): input
defaults, release dates, number formatting, warnings, JSON output, the trend printout.

Each verb stays a thin parse -> library -> print layer; nothing here computes a statistic.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from rdbench.durations import parse_durations
from rdbench.errors import UserError

__all__ = [
    "check_outputs",
    "fmt_ci",
    "fmt_minutes",
    "inputs_or_public",
    "jsonable",
    "load_inputs",
    "make_console",
    "print_trend",
    "release_dates_for",
    "thresholds_minutes",
    "warn",
    "write_json",
]


def inputs_or_public(inputs: tuple[str, ...]) -> tuple[list[str], bool]:
    """The inputs to load, and whether they are (only) the shipped public data."""
    from rdbench.records import PUBLIC_DATASET

    items = list(inputs) or [PUBLIC_DATASET]
    public = all(item == PUBLIC_DATASET and not Path(item).exists() for item in items)
    return items, public


def load_inputs(inputs: tuple[str, ...], skip_bad: bool, success_threshold: float = 1.0):
    """Load attempts + trajectories; prints the skipped count. Returns (a, t, public)."""
    from rdbench.records import load_attempts

    items, public = inputs_or_public(inputs)
    attempts, trajectories, skipped = load_attempts(
        items, skip_bad=skip_bad, success_threshold=success_threshold
    )
    if skipped:
        warn(f"skipped {skipped} bad input(s) (--skip-bad)")
    if attempts.empty:
        raise UserError(f"no attempts found in {', '.join(items)}")
    return attempts, trajectories, public


def release_dates_for(path: str | None, attempts) -> dict | None:
    """Release dates from --release-dates, else the records' rule
    (:func:`rdbench.records.default_release_dates`: the shipped dates when the public METR
    runs are among the attempts), else None."""
    from rdbench.records import default_release_dates, read_release_dates

    if path is not None:
        try:
            return read_release_dates(path)
        except UserError as ex:
            # A YAML parser's message spans several lines; the CLI promises one.
            raise type(ex)(" ".join(str(ex).split())) from ex
    return default_release_dates(attempts) if attempts is not None else None


def make_console(json_out: str | None = None):
    """A rich console; wide enough for the tables when output is not a terminal.

    With ``--json -`` (``json_out == "-"``) the tables go to stderr, so stdout is only the
    JSON and parses.
    """
    from rich.console import Console

    stderr = json_out == "-"
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(width=max(console.width, 120), stderr=stderr)
    return console


def warn(message: str) -> None:
    """One warning line on stderr."""
    click.secho(f"warning: {message}", fg="yellow", err=True)


def fmt_minutes(minutes: float) -> str:
    """Minutes for tables: 45s, 3.7 min, 1.3 h, 2.5 d; inf, -, 0."""
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        return "-"
    if math.isinf(minutes):
        return "inf"
    if minutes == 0:
        return "0"
    if minutes < 1:
        return "<1s" if minutes * 60 < 1 else f"{minutes * 60:.0f}s"
    if minutes < 120:
        return f"{minutes:.1f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    days = minutes / 1440
    # A degenerate bootstrap gives horizons of 1e150 minutes: keep the cell narrow.
    return f"{days:.1f} d" if days < 1e5 else f"{days:.1e} d"


def fmt_ci(low: float, high: float, fmt=fmt_minutes) -> str:
    """``[low, high]`` or empty when unknown."""
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return ""
    return f"[{fmt(low)}, {fmt(high)}]"


def jsonable(value: Any) -> Any:
    """Numbers/timestamps/containers -> JSON (NaN -> null, inf -> "inf")."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return float(value)
    return value


def check_outputs(inputs: tuple[str, ...] | list[str], *outputs: str | None) -> None:
    """Refuse, before any work, an output path (``--json``/``--csv``) that is an input, a
    directory or not a regular file (``-`` is stdout and always fine).

    Raises:
        UserError: one line naming the path.
    """
    from rdbench.outputs import check_output_path
    from rdbench.records import resolve_inputs

    items, _ = inputs_or_public(tuple(inputs))
    read = [path for _, path in resolve_inputs(items)]
    for out in outputs:
        if out is not None and out != "-":
            check_output_path(out, inputs=[*items, *read], what="output")


def write_json(path: str, payload: dict) -> None:
    """Write JSON to a file (atomically), or stdout for '-'.

    Raises:
        UserError: the file cannot be written.
    """
    from rdbench.outputs import atomic_write_text

    text = json.dumps(jsonable(payload), indent=2)
    if path == "-":
        click.echo(text)
        return
    atomic_write_text(path, text + "\n")


def thresholds_minutes(text: str) -> list[float]:
    """--threshold '8h,2400' -> minutes."""
    return [seconds / 60 for seconds in parse_durations(text)]


def print_trend(console, trend, title: str = "Trend") -> None:
    """Doubling time and forecasts as a few lines."""
    used = trend.agents[trend.agents["used"]]
    console.print(
        f"\n[bold]{title}[/bold] (OLS of ln p50 on release date, {len(used)} agents, "
        f"R² {trend.r_squared:.2f}; CI: {trend.method}, {trend.n_bootstrap} samples"
        + (f", {trend.n_dropped} dropped" if trend.n_dropped else "")
        + ")"
    )
    days = trend.doubling_time_days
    console.print(
        f"  doubling time: {days:.0f} days ({days / 30.44:.1f} months) "
        f"{int(trend.confidence * 100)}% CI [{trend.doubling_time_low:.0f}, "
        f"{trend.doubling_time_high:.0f}] days"
    )
    for row in trend.forecasts.itertuples():
        def d(x):
            return "never" if x is None or (isinstance(x, float) and math.isinf(x)) else (
                "-" if x is None or x != x else str(x.date()) if hasattr(x, "date") else str(x)
            )

        low = d(row.date_low) if math.isfinite(row.year_low) else d(row.year_low)
        high = d(row.date_high) if math.isfinite(row.year_high) else d(row.year_high)
        point = d(row.date) if math.isfinite(row.year) else "never"
        console.print(
            f"  p50 reaches {fmt_minutes(row.threshold_minutes)}: {point} "
            f"[{low}, {high}]"
            + (f" ({row.n_never} samples never reach it)" if row.n_never else "")
        )
