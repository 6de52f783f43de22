"""The Attempt table and its trajectory table: column names, dtypes, coercion."""

from __future__ import annotations

import pandas as pd

from rdbench.errors import RecordsError

__all__ = [
    "ATTEMPT_COLUMNS",
    "TRAJECTORY_COLUMNS",
    "REQUIRED_ATTEMPT_COLUMNS",
    "SOURCE_FORMATS",
    "SOURCE_INSPECT",
    "SOURCE_METR",
    "infer_source_format",
    "empty_attempts",
    "empty_trajectories",
    "coerce_attempts",
    "coerce_trajectories",
]

# One row per attempt (DESIGN.md "Core types"). Units: minutes for human_minutes, seconds
# for *_s, normalized score (start 0, reference 1) in ``score``, task units in ``score_raw``.
ATTEMPT_COLUMNS: dict[str, str] = {
    "attempt_id": "string",  # unique across the table
    "source": "string",  # the file the row was read from
    "source_format": "string",  # what that file is: one of SOURCE_FORMATS
    "agent": "string",  # agent label; "human" for human baselines
    "model": "string",  # model name; the baseliner's name for humans
    "scaffold": "string",  # scaffold + version, e.g. react-v1; "human"
    "is_human": "bool",
    "task_family": "string",
    "task_id": "string",
    "human_minutes": "float64",  # expert time estimate for the task
    "time_limit_s": "float64",  # attempt length (working-time budget); NaN if none
    "working_time_s": "float64",
    "score_raw": "float64",
    "score": "float64",  # normalized; NaN if the final submission was invalid
    "success": "boolean",  # binarized outcome used by the time horizon
    "tokens": "float64",
    "cost_usd": "float64",
    "started_at": "datetime64[ns, UTC]",
    "completed_at": "datetime64[ns, UTC]",
    "error": "string",  # why the attempt crashed or was cut off; NA if it did not
}

# `source_format` values: an Inspect log (with a transcript), a METR runs.jsonl (scores only).
SOURCE_INSPECT = "inspect"
SOURCE_METR = "metr-runs"
SOURCE_FORMATS = (SOURCE_INSPECT, SOURCE_METR)


def infer_source_format(source: pd.Series) -> pd.Series:
    """The ``source_format`` of rows stored before the column existed, from their file name
    (``.jsonl`` = METR runs, ``.eval``/``.json`` = Inspect logs; else missing).

    Returns:
        A string Series aligned with ``source``.
    """
    name = source.astype("string").str.lower()
    out = pd.Series(pd.NA, index=source.index, dtype="string")
    out[name.str.endswith(".jsonl").fillna(False).to_numpy()] = SOURCE_METR
    out[name.str.endswith((".eval", ".json")).fillna(False).to_numpy()] = SOURCE_INSPECT
    return out


# Columns a table must provide; the rest are filled with missing values.
REQUIRED_ATTEMPT_COLUMNS = ("attempt_id", "agent", "task_family", "task_id", "human_minutes")

# One row per intermediate score of an attempt, in working-time order.
TRAJECTORY_COLUMNS: dict[str, str] = {
    "attempt_id": "string",
    "working_s": "float64",  # working time (the human clock for humans) at the score call
    "score": "float64",  # normalized; NaN if that submission was invalid
    "score_raw": "float64",
}


def empty_attempts() -> pd.DataFrame:
    """An Attempt table with no rows and the right dtypes.

    Returns:
        Empty DataFrame with :data:`ATTEMPT_COLUMNS`.
    """
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ATTEMPT_COLUMNS.items()})


def empty_trajectories() -> pd.DataFrame:
    """A trajectory table with no rows.

    Returns:
        Empty DataFrame with :data:`TRAJECTORY_COLUMNS`.
    """
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in TRAJECTORY_COLUMNS.items()})


def _coerce(df: pd.DataFrame, columns: dict[str, str], where: str) -> pd.DataFrame:
    out = {}
    for col, dtype in columns.items():
        if col not in df:
            if dtype == "bool":
                out[col] = pd.Series(False, index=df.index, dtype="bool")
            else:
                out[col] = pd.Series(pd.NA if dtype in ("string", "boolean") else None,
                                     index=df.index, dtype=dtype)
            continue
        series = df[col]
        try:
            if dtype.startswith("datetime64"):
                series = pd.to_datetime(series, utc=True, errors="raise").astype(dtype)
            elif dtype == "string":
                series = series.astype("string")
            elif dtype == "bool":
                if series.isna().any():
                    raise ValueError("missing values")
                series = series.astype(bool)
            else:
                series = series.astype(dtype)
        except (ValueError, TypeError) as ex:
            raise RecordsError(f"{where}: column {col!r} cannot be read as {dtype}: {ex}") from None
        out[col] = series
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def coerce_attempts(df: pd.DataFrame, where: str = "attempts") -> pd.DataFrame:
    """Give a table exactly the Attempt columns, in order, with their dtypes.

    Extra columns are dropped; missing optional columns are filled with NA.

    Args:
        df: a table with at least :data:`REQUIRED_ATTEMPT_COLUMNS`.
        where: names the input in error messages (a file path).

    Returns:
        A new DataFrame with :data:`ATTEMPT_COLUMNS`.

    Raises:
        RecordsError: a required column is missing or a column has unreadable values.
    """
    missing = [c for c in REQUIRED_ATTEMPT_COLUMNS if c not in df]
    if missing:
        raise RecordsError(f"{where}: missing column(s) {', '.join(missing)}")
    return _coerce(df, ATTEMPT_COLUMNS, where)


def coerce_trajectories(df: pd.DataFrame, where: str = "trajectories") -> pd.DataFrame:
    """Give a table exactly the trajectory columns, in order, with their dtypes.

    Returns:
        A new DataFrame with :data:`TRAJECTORY_COLUMNS`.

    Raises:
        RecordsError: ``attempt_id`` or ``working_s`` is missing, or values are unreadable.
    """
    missing = [c for c in ("attempt_id", "working_s") if c not in df]
    if missing:
        raise RecordsError(f"{where}: missing column(s) {', '.join(missing)}")
    return _coerce(df, TRAJECTORY_COLUMNS, where)
