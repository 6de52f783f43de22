"""One entry point for every kind of input: ``load_attempts``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from rdbench.errors import RecordsError
from rdbench.records.public import PUBLIC_DATASET, public_runs_path
from rdbench.records.schema import empty_attempts, empty_trajectories
from rdbench.records.tables import ATTEMPTS_FILE, read_tables

__all__ = ["load_attempts", "resolve_inputs"]

_LOG_SUFFIXES = (".eval", ".json")
# Below this many log files a progress bar is more noise than help.
_PROGRESS_MIN_FILES = 8


def resolve_inputs(inputs: Iterable[str | Path]) -> list[tuple[str, Path]]:
    """Classify inputs into ``(kind, path)`` with kind ``jsonl``, ``parquet`` or ``log``.

    A directory holding ``attempts.parquet`` is a table; any other directory is searched
    (recursively) for Inspect logs. The name ``metr`` (when no such file exists) means
    the public METR runs shipped with rdbench.

    Returns:
        The classified inputs, logs expanded to one entry per file.

    Raises:
        RecordsError: a path does not exist, has an unknown type, or a directory holds
            no logs.
    """
    out: list[tuple[str, Path]] = []
    for item in inputs:
        path = Path(item)
        if str(item) == PUBLIC_DATASET and not path.exists():
            out.append(("jsonl", public_runs_path()))
        elif path.is_dir():
            if (path / ATTEMPTS_FILE).exists():
                out.append(("parquet", path))
                continue
            from rdbench.records.inspect_logs import list_log_files

            logs = list_log_files(path)
            if not logs:
                raise RecordsError(f"{path}: no Inspect logs (.eval) found in this directory")
            out.extend(("log", log) for log in logs)
        elif not path.exists():
            raise RecordsError(f"{path}: no such file or directory")
        elif path.suffix == ".jsonl":
            out.append(("jsonl", path))
        elif path.suffix == ".parquet":
            out.append(("parquet", path))
        elif path.suffix in _LOG_SUFFIXES:
            out.append(("log", path))
        else:
            raise RecordsError(
                f"{path}: unknown input type (expected a directory of Inspect logs, "
                ".eval, .jsonl or .parquet)"
            )
    return out


def load_attempts(
    inputs: str | Path | Sequence[str | Path],
    skip_bad: bool = False,
    *,
    success_threshold: float = 1.0,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Load Attempt and trajectory tables from any mix of inputs.

    Args:
        inputs: one or more of: a directory of Inspect logs (searched recursively), an
            ``.eval`` log, a METR ``runs.jsonl``, an ``attempts.parquet`` (or a directory
            holding one), or ``"metr"`` for the shipped public METR data.
        skip_bad: skip bad logs and bad JSON lines (counted) instead of raising.
        success_threshold: for Inspect logs, the normalized score that counts as success.
        progress: show a progress bar on stderr (default: when reading many logs on a
            terminal).

    Returns:
        ``(attempts, trajectories, skipped)``: the Attempt table, the trajectory table,
        and how many files/lines were skipped.

    Raises:
        RecordsError: a bad or missing input (names the file, and the line for JSONL), or
            the same attempt_id coming from two inputs.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    resolved = resolve_inputs(inputs)
    attempts, trajectories, skipped = [], [], 0
    logs = [path for kind, path in resolved if kind == "log"]
    for kind, path in resolved:
        if kind == "jsonl":
            from rdbench.records.metr import read_runs_jsonl

            a, t, s = read_runs_jsonl(path, skip_bad=skip_bad)
            skipped += s
        elif kind == "parquet":
            a, t = read_tables(path)
        else:
            continue
        attempts.append(a)
        trajectories.append(t)
    if logs:
        from rdbench.records.inspect_logs import read_eval_logs

        show = progress if progress is not None else (
            len(logs) >= _PROGRESS_MIN_FILES and sys.stderr.isatty()
        )
        if show:
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("reading logs", total=len(logs))
                a, t, s = read_eval_logs(
                    logs,
                    skip_bad=skip_bad,
                    success_threshold=success_threshold,
                    on_file=lambda _p: bar.advance(task),
                )
        else:
            a, t, s = read_eval_logs(logs, skip_bad=skip_bad, success_threshold=success_threshold)
        attempts.append(a)
        trajectories.append(t)
        skipped += s
    attempts = [a for a in attempts if len(a)]
    trajectories = [t for t in trajectories if len(t)]
    a = pd.concat(attempts, ignore_index=True) if attempts else empty_attempts()
    t = pd.concat(trajectories, ignore_index=True) if trajectories else empty_trajectories()
    dup = a["attempt_id"].duplicated(keep=False)
    if dup.any():
        first = a[dup].iloc[0]
        sources = sorted(set(a.loc[a["attempt_id"] == first["attempt_id"], "source"]))
        raise RecordsError(
            f"attempt {first['attempt_id']!r} appears twice ({', '.join(sources)}): "
            "give each log or runs file once"
        )
    return a, t, skipped
