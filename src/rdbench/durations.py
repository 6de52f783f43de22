"""Durations: ``30m``, ``2h``, ``1.5h``, ``90s``, ``1d``, ``2400``.

One parser so every verb, the human baselines and anyone else read durations the same way.
A bare number means **minutes**: the unit METR uses for human time and time horizons
(``--threshold 2400`` is one 40-hour work-week).
"""

from __future__ import annotations

import re

from rdbench.errors import UserError

__all__ = ["format_duration", "parse_duration", "parse_durations"]

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0}
# Shortest and longest durations accepted: below a second nothing can run; beyond ten
# years a number is a typo (and float seconds lose precision long before it matters).
MIN_SECONDS = 1.0
MAX_SECONDS = 10 * 365.25 * 86400
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$")


def parse_duration(text: str | float | int) -> float:
    """Parse one duration into seconds.

    Args:
        text: ``"30m"``, ``"2h"``, ``"1.5h"``, ``"90s"``, ``"1d"``, or a bare number of minutes.

    Returns:
        The duration in seconds (float, > 0).

    Raises:
        UserError: the text is not a positive number with an optional unit s, m, h or d,
            or lies outside one second to ten years.
    """
    if isinstance(text, (int, float)):
        value, unit = float(text), ""
    else:
        match = _PATTERN.match(str(text).lower())
        if match is None or match.group(2) not in ("", *_UNITS):
            raise UserError(
                f"bad duration {text!r}: use a number with a unit s, m, h or d "
                "(e.g. 90s, 30m, 1.5h, 1d); a bare number means minutes"
            )
        value, unit = float(match.group(1)), match.group(2)
    if not value > 0:
        raise UserError(f"bad duration {text!r}: must be greater than zero")
    seconds = value * (_UNITS[unit] if unit else 60.0)
    if seconds < MIN_SECONDS:
        raise UserError(f"bad duration {text!r}: shorter than one second")
    if seconds > MAX_SECONDS:
        raise UserError(f"bad duration {text!r}: longer than ten years")
    return seconds


def parse_durations(text: str) -> list[float]:
    """Parse a comma-separated list of durations (``"30m,2h,8h"``) into seconds.

    Returns:
        Seconds, in the order given.

    Raises:
        UserError: any item is not a valid duration or is empty, or the list is empty.
    """
    items = str(text).split(",")
    if not any(item.strip() for item in items):
        raise UserError(f"bad duration list {text!r}: give e.g. 30m,2h,8h")
    if not all(item.strip() for item in items):
        raise UserError(f"bad duration list {text!r}: an empty item between commas")
    return [parse_duration(item) for item in items]


def format_duration(seconds: float) -> str:
    """Format seconds compactly for tables: ``90s``, ``30m``, ``2h``, ``1h30m``, ``1.5d``.

    Returns:
        A short human-readable string; ``"-"`` for NaN or None.
    """
    if seconds is None or seconds != seconds:
        return "-"
    if seconds == float("inf"):
        return "inf"
    minutes = seconds / 60
    whole_minutes = abs(minutes - round(minutes)) < 1e-9
    if seconds < 1:
        return f"{seconds:.2g}s"
    if seconds < 60 or (minutes < 10 and not whole_minutes):
        return f"{seconds:.0f}s"
    if minutes < 60:
        return f"{minutes:.0f}m" if whole_minutes else f"{minutes:.1f}m"
    hours, rest = divmod(round(minutes), 60)
    if hours < 48:
        return f"{hours}h" if rest == 0 else f"{hours}h{rest:02d}m"
    return f"{seconds / 86400:.1f}d"
