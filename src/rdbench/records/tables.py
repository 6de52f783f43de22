"""Parquet storage of the Attempt and trajectory tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rdbench.errors import RecordsError
from rdbench.records.schema import (
    coerce_attempts,
    coerce_trajectories,
    empty_trajectories,
    infer_source_format,
)

__all__ = ["ATTEMPTS_FILE", "TRAJECTORIES_FILE", "write_tables", "read_tables"]

ATTEMPTS_FILE = "attempts.parquet"
TRAJECTORIES_FILE = "trajectories.parquet"


def write_tables(
    attempts: pd.DataFrame, trajectories: pd.DataFrame | None, out_dir: str | Path
) -> tuple[Path, Path]:
    """Write ``attempts.parquet`` and ``trajectories.parquet`` into a directory.

    Args:
        attempts: the Attempt table (coerced to the schema first).
        trajectories: the trajectory table (None = empty).
        out_dir: created if missing; existing files are replaced.

    Returns:
        The two paths written.

    Raises:
        RecordsError: the directory or files cannot be written.
    """
    out = Path(out_dir)
    attempts = coerce_attempts(attempts)
    trajectories = coerce_trajectories(
        trajectories if trajectories is not None else empty_trajectories()
    )
    from rdbench.outputs import atomic_path

    a_path, t_path = out / ATTEMPTS_FILE, out / TRAJECTORIES_FILE
    try:
        for table, path in ((attempts, a_path), (trajectories, t_path)):
            with atomic_path(path) as tmp:
                table.to_parquet(tmp, index=False)
    except OSError as ex:
        raise RecordsError(f"{out}: cannot write tables: {ex}") from None
    return a_path, t_path


def read_tables(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read tables written by :func:`write_tables`.

    Args:
        path: the directory, or an attempts ``.parquet`` file (its trajectories are read
            from ``trajectories.parquet`` beside it, if present).

    Returns:
        ``(attempts, trajectories)``.

    Raises:
        RecordsError: missing or unreadable file, or a table without the required columns.
    """
    path = Path(path)
    a_path = path / ATTEMPTS_FILE if path.is_dir() else path
    t_path = a_path.parent / TRAJECTORIES_FILE
    if a_path == t_path:
        raise RecordsError(f"{path}: this is a trajectory table; give the attempts table")
    try:
        attempts = pd.read_parquet(a_path)
        trajectories = pd.read_parquet(t_path) if t_path.exists() else empty_trajectories()
    except FileNotFoundError:
        raise RecordsError(f"{a_path}: no such file") from None
    except Exception as ex:  # pyarrow raises ArrowInvalid and friends for bad files
        raise RecordsError(f"{a_path}: cannot read Parquet ({ex})") from None
    if "source_format" not in attempts and "source" in attempts:  # tables of rdbench 0.1
        attempts = attempts.assign(source_format=infer_source_format(attempts["source"]))
    attempts = coerce_attempts(attempts, str(a_path))
    trajectories = coerce_trajectories(trajectories, str(t_path))
    ids = set(attempts["attempt_id"])
    return attempts, trajectories[trajectories["attempt_id"].isin(ids)].reset_index(drop=True)
