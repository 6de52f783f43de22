"""Attempt records: one row per attempt, plus its score trajectory.

Public API:

- :func:`load_attempts` -- any mix of Inspect log dirs/files, METR ``runs.jsonl``,
  Parquet tables, or ``"metr"`` (the shipped public data) -> ``(attempts, trajectories,
  skipped)``.
- :func:`read_runs_jsonl` / :func:`write_runs_jsonl` -- METR's format.
- :func:`read_eval_logs` / :func:`read_eval_log_file` -- rdbench's Inspect logs.
- :func:`write_tables` / :func:`read_tables` -- Parquet storage.
- :data:`ATTEMPT_COLUMNS` / :data:`TRAJECTORY_COLUMNS` -- the schemas (name -> dtype).
- :func:`public_runs_path`, :func:`public_release_dates_path`, :func:`read_release_dates`.

Inspect is imported only when a log is actually read.
"""

from rdbench.records.load import load_attempts, resolve_inputs
from rdbench.records.metr import read_runs_jsonl, write_runs_jsonl
from rdbench.records.public import (
    PUBLIC_DATASET,
    default_release_dates,
    public_data_dir,
    public_release_dates_path,
    public_runs_path,
    read_release_dates,
)
from rdbench.records.schema import (
    ATTEMPT_COLUMNS,
    REQUIRED_ATTEMPT_COLUMNS,
    SOURCE_FORMATS,
    SOURCE_INSPECT,
    SOURCE_METR,
    TRAJECTORY_COLUMNS,
    coerce_attempts,
    coerce_trajectories,
    empty_attempts,
    empty_trajectories,
)
from rdbench.records.tables import read_tables, write_tables


def read_eval_logs(*args, **kwargs):
    """Read many rdbench Inspect logs; see :func:`rdbench.records.inspect_logs.read_eval_logs`.

    Returns:
        ``(attempts, trajectories, skipped)``.

    Raises:
        RecordsError: a bad log, unless ``skip_bad``.
    """
    from rdbench.records.inspect_logs import read_eval_logs as _read

    return _read(*args, **kwargs)


def read_eval_log_file(*args, **kwargs):
    """Read one rdbench Inspect log; see :func:`rdbench.records.inspect_logs.read_eval_log_file`.

    Returns:
        ``(attempts, trajectories)``.

    Raises:
        RecordsError: the log is corrupt or lacks rdbench fields.
    """
    from rdbench.records.inspect_logs import read_eval_log_file as _read

    return _read(*args, **kwargs)


__all__ = [
    "ATTEMPT_COLUMNS",
    "PUBLIC_DATASET",
    "REQUIRED_ATTEMPT_COLUMNS",
    "SOURCE_FORMATS",
    "SOURCE_INSPECT",
    "SOURCE_METR",
    "default_release_dates",
    "TRAJECTORY_COLUMNS",
    "coerce_attempts",
    "coerce_trajectories",
    "empty_attempts",
    "empty_trajectories",
    "load_attempts",
    "public_data_dir",
    "public_release_dates_path",
    "public_runs_path",
    "read_eval_log_file",
    "read_eval_logs",
    "read_release_dates",
    "read_runs_jsonl",
    "read_tables",
    "resolve_inputs",
    "write_runs_jsonl",
    "write_tables",
]
