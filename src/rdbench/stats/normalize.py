"""Normalized scores: the starting solution scores 0, the reference solution scores 1."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["normalize_score", "normalize_column"]

Transform = Literal["linear", "log"]
Direction = Literal["higher", "lower"]


def _t(values: np.ndarray, transform: Transform) -> np.ndarray:
    if transform == "linear":
        return values
    if transform == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(values)
    raise ValueError(f"unknown transform {transform!r}: use 'linear' or 'log'")


def normalize_score(
    raw: float | np.ndarray | pd.Series,
    start: float,
    reference: float,
    transform: Transform = "linear",
    direction: Direction = "higher",
) -> float | np.ndarray | pd.Series:
    """Normalize raw task scores: ``(t(raw) - t(start)) / (t(reference) - t(start))``.

    ``t`` is the identity (``linear``) or the natural log (``log``, for scores such as a
    loss or a runtime that improve multiplicatively). Because the formula is a ratio of
    differences it already handles lower-is-better raw scores (then ``reference < start``);
    ``direction`` is only checked against the two anchors, to catch a swapped start and
    reference early. Scores above 1 (better than the reference) are kept.

    Args:
        raw: one raw score or an array/Series of them (NaN passes through as NaN).
        start: raw score of the starting solution (normalizes to 0).
        reference: raw score of the reference solution (normalizes to 1).
        transform: ``"linear"`` or ``"log"`` (log needs positive values; others give NaN).
        direction: ``"higher"`` if a higher raw score is better, else ``"lower"``.

    Returns:
        The normalized score(s), same shape and type as ``raw`` (Series keep their index).

    Raises:
        ValueError: start == reference, an unknown transform, or anchors that contradict
            ``direction``.
    """
    if direction not in ("higher", "lower"):
        raise ValueError(f"unknown direction {direction!r}: use 'higher' or 'lower'")
    if (reference > start) != (direction == "higher") or reference == start:
        raise ValueError(
            f"reference {reference!r} must be {'above' if direction == 'higher' else 'below'}"
            f" start {start!r} for direction {direction!r}"
        )
    t_start, t_ref = _t(np.array([start, reference], dtype=float), transform)
    if not np.isfinite(t_start) or not np.isfinite(t_ref):
        raise ValueError(
            f"start/reference {start!r}/{reference!r} invalid for {transform} transform"
        )
    values = _t(np.asarray(raw, dtype=float), transform)
    result = (values - t_start) / (t_ref - t_start)
    if isinstance(raw, pd.Series):
        return pd.Series(result, index=raw.index, name=raw.name)
    if np.ndim(result) == 0:
        return float(result)
    return result


def normalize_column(
    df: pd.DataFrame,
    raw_col: str,
    start_col: str,
    reference_col: str,
    transform_col: str | None = None,
    direction_col: str | None = None,
) -> pd.Series:
    """Normalize a column of raw scores row by row, anchors taken from other columns.

    Args:
        df: a table with one raw score per row and its anchors.
        raw_col, start_col, reference_col: column names.
        transform_col, direction_col: optional columns holding the transform/direction per
            row (default ``linear`` / ``higher``).

    Returns:
        A float Series aligned with ``df``.

    Raises:
        ValueError: as :func:`normalize_score`, for any row.
    """
    out = np.full(len(df), np.nan)
    transforms = df[transform_col] if transform_col else pd.Series("linear", index=df.index)
    directions = df[direction_col] if direction_col else pd.Series("higher", index=df.index)
    keys = pd.DataFrame(
        {"s": df[start_col], "r": df[reference_col], "t": transforms, "d": directions}
    )
    for (start, ref, transform, direction), idx in keys.groupby(
        ["s", "r", "t", "d"], sort=False
    ).indices.items():
        out[idx] = normalize_score(
            df[raw_col].to_numpy(dtype=float)[idx], start, ref, transform, direction
        )
    return pd.Series(out, index=df.index, name="score")
