"""Durations on the command line; the parser lives in :mod:`rdbench.durations` (the library
uses it too). Kept so existing imports work."""

from rdbench.durations import format_duration, parse_duration, parse_durations

__all__ = ["parse_duration", "parse_durations", "format_duration"]
