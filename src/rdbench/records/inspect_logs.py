"""Read rdbench's Inspect ``.eval`` logs into the Attempt and trajectory tables.

Reads exactly the fields documented in ``docs/log-format.md`` and nothing else of
Inspect's internals. Inspect is imported inside the functions: analysing a
``runs.jsonl`` never pays for loading the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from rdbench.errors import RecordsError
from rdbench.logschema import (
    SCORER_NAME,
    EvalMetadata,
    FinalScoreMetadata,
    LogSchemaError,
    SampleMetadata,
    usage_cost,
)
from rdbench.records.schema import (
    SOURCE_INSPECT,
    coerce_attempts,
    coerce_trajectories,
    empty_attempts,
    empty_trajectories,
)

__all__ = [
    "LIMIT_ERROR_PREFIX",
    "SCORER",
    "latest_eval_set_logs",
    "list_log_files",
    "read_eval_log_file",
    "read_eval_logs",
]

SCORER = SCORER_NAME  # kept for existing imports
# How the `error` column starts for an attempt cut off by a limit (not a crash).
LIMIT_ERROR_PREFIX = "limit: "


def list_log_files(directory: str | Path) -> list[Path]:
    """All Inspect logs (``.eval``, ``.json``) under a directory, recursively, sorted.

    Returns:
        Paths of the log files (Inspect's ``list_eval_logs``).

    Raises:
        RecordsError: the directory cannot be listed.
    """
    from inspect_ai.log import list_eval_logs

    try:
        infos = list_eval_logs(str(directory), recursive=True)
    except Exception as ex:  # Inspect raises assorted errors for unreadable dirs
        raise RecordsError(f"{directory}: cannot list Inspect logs: {ex}") from None
    paths = []
    for info in infos:
        name = info.name
        paths.append(Path(name[len("file://") :] if name.startswith("file://") else name))
    return sorted(paths)


def _float(value: Any) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _timestamp(value: Any) -> Any:
    if value in (None, ""):
        return pd.NaT
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _trajectory_from_events(sample: Any) -> list[dict]:
    rows = []
    for event in sample.events or []:
        if getattr(event, "event", None) != "score" or not getattr(event, "intermediate", False):
            continue
        score = event.score
        meta = score.metadata if isinstance(score.metadata, dict) else {}
        rows.append(
            {
                "working_s": _float(event.working_start),
                "score": _float(score.value),
                "score_raw": _float(meta.get("raw")),
            }
        )
    return rows


def _usage(sample: Any, prices: dict[str, dict[str, float]] | None) -> tuple[Any, Any]:
    """Tokens and cost of a sample; a model's null ``total_cost`` is priced from the log's
    ``rdbench_prices`` (older logs), else the cost is unknown."""
    tokens = cost = None
    cost_known = True
    for model, usage in (sample.model_usage or {}).items():
        tokens = (tokens or 0) + (usage.total_tokens or 0)
        if usage.total_cost is not None:
            cost = (cost or 0.0) + usage.total_cost
        elif prices and model in prices:
            cost = (cost or 0.0) + usage_cost(usage, prices[model])
        else:
            cost_known = False
    if not cost_known and cost is not None:
        cost = None  # part of the cost is unknown: do not report a partial sum
    return tokens, cost


def _sample_rows(
    log: Any, sample: Any, path: Path, success_threshold: float
) -> tuple[dict, list[dict]]:
    where = f"{path}: sample {sample.id!r} epoch {sample.epoch}"
    try:
        eval_meta = EvalMetadata.from_metadata(log.eval.metadata, f"{path}: eval metadata")
        meta = SampleMetadata.from_metadata(sample.metadata, f"{where}: metadata")
    except LogSchemaError as ex:
        raise RecordsError(str(ex)) from None
    is_human = eval_meta.is_human
    model = str(log.eval.model)
    agent = eval_meta.agent or ("human" if is_human else model)
    final = (sample.scores or {}).get(SCORER_NAME)
    if final is None and sample.error is None:
        raise RecordsError(f"{where} has no {SCORER_NAME!r} score (not an rdbench log?)")
    try:
        score_meta = FinalScoreMetadata.from_metadata(
            final.metadata if final is not None else None, f"{where}: final score metadata"
        )
    except LogSchemaError as ex:
        raise RecordsError(str(ex)) from None
    score = _float(final.value) if final is not None else math.nan
    # The task's own threshold, written by the adapter; older logs: the caller's.
    threshold = _float(score_meta.success_threshold)
    if math.isnan(threshold):
        threshold = success_threshold
    tokens, cost = _usage(sample, eval_meta.prices)
    error = sample.error.message if sample.error is not None else None
    if error is None and getattr(sample, "limit", None) is not None:
        error = f"{LIMIT_ERROR_PREFIX}{sample.limit.type}"
    time_limit = meta.time_limit_s
    if time_limit is None:
        time_limit = eval_meta.attempt_length_s
    attempt_id = sample.uuid or f"{log.eval.eval_id}/{sample.id}/{sample.epoch}"
    row = {
        "attempt_id": attempt_id,
        "source": str(path),
        "source_format": SOURCE_INSPECT,
        "agent": str(agent),
        "model": eval_meta.baseliner if is_human else model,
        "scaffold": eval_meta.scaffold,
        "is_human": is_human,
        "task_family": meta.family,
        "task_id": meta.task_id or str(sample.id),
        "human_minutes": _float(meta.human_minutes),
        "time_limit_s": _float(time_limit),
        "working_time_s": _float(sample.working_time),
        "score_raw": _float(score_meta.raw),
        "score": score,
        # An invalid final submission (NaN score) or a crash is a failure.
        "success": bool(score >= threshold) if not math.isnan(score) else False,
        "tokens": float(tokens) if tokens is not None else math.nan,
        "cost_usd": float(cost) if cost is not None else math.nan,
        "started_at": _timestamp(getattr(sample, "started_at", None)),
        "completed_at": _timestamp(getattr(sample, "completed_at", None)),
        "error": error,
    }
    if row["task_family"] is None:
        raise RecordsError(f"{path}: sample {sample.id!r} has no 'family' in its metadata")
    if score_meta.trajectory is not None:
        points = [
            {
                "working_s": p.working_seconds,
                "score": p.normalized,
                "score_raw": p.raw_value,
            }
            for p in score_meta.trajectory
        ]
    else:
        points = _trajectory_from_events(sample)
    for point in points:
        point["attempt_id"] = attempt_id
    return row, points


def read_eval_log_file(
    path: str | Path, *, success_threshold: float = 1.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one Inspect log written by rdbench.

    Args:
        path: an ``.eval`` (or ``.json``) log.
        success_threshold: an attempt succeeds when its normalized score reaches this
            (1.0 = matched the reference solution); a log whose score records its task's
            own ``success_threshold`` uses that instead.

    Returns:
        ``(attempts, trajectories)`` for the log's samples (empty if it has none).

    Raises:
        RecordsError: the log is corrupt, truncated, not an Inspect log, or a sample
            lacks the rdbench fields.
    """
    from inspect_ai.log import read_eval_log

    path = Path(path)
    if not path.is_file():
        raise RecordsError(f"{path}: no such file")
    try:
        log = read_eval_log(str(path))
    except Exception as ex:  # zip/zstd/JSON/pydantic errors all mean "cannot read"
        reason = str(ex).splitlines()[0] if str(ex) else type(ex).__name__
        raise RecordsError(f"{path}: cannot read Inspect log ({reason})") from None
    rows, points = [], []
    for sample in log.samples or []:
        row, trajectory = _sample_rows(log, sample, path, success_threshold)
        rows.append(row)
        points.extend(trajectory)
    attempts = coerce_attempts(pd.DataFrame(rows), str(path)) if rows else empty_attempts()
    trajectories = (
        coerce_trajectories(pd.DataFrame(points), str(path)) if points else empty_trajectories()
    )
    if len(trajectories):
        trajectories = trajectories.sort_values(["attempt_id", "working_s"], kind="stable")
    return attempts, trajectories.reset_index(drop=True)


def latest_eval_set_logs(paths: list[Path]) -> list[Path]:
    """Drop the logs an eval-set retry superseded, as Inspect's eval set does.

    When ``rdbench run`` is killed and run again on its log dir, Inspect's eval set writes
    a new log for each unfinished task, seeded with the samples its previous log holds,
    and keeps a killed (``started``) log it did not write itself. Of the logs of one task
    of one eval set (same ``eval_set_id`` and ``task_id``, in the same folder) only the
    newest counts: every attempt is then read once. Logs outside an eval set, and logs
    whose header cannot be read (the full read reports them), are all kept.

    Args:
        paths: log files.

    Returns:
        The paths to read, in their given order.
    """
    from inspect_ai.log import read_eval_log

    newest: dict[tuple[str, str, str], tuple[tuple[str, float], Path]] = {}
    dropped: set[Path] = set()
    for path in paths:
        try:
            header = read_eval_log(str(path), header_only=True)
            set_id, task_id = header.eval.eval_set_id, header.eval.task_id
            order = (str(header.eval.created or ""), path.stat().st_mtime)
        except Exception:  # unreadable: read_eval_log_file says why
            continue
        if not set_id:
            continue
        key = (str(set_id), str(task_id), str(path.parent.resolve()))
        if key in newest:
            other_order, other = newest[key]
            if order <= other_order:
                dropped.add(path)
                continue
            dropped.add(other)
        newest[key] = (order, path)
    return [p for p in paths if p not in dropped]


def read_eval_logs(
    paths: Iterable[str | Path],
    *,
    skip_bad: bool = False,
    success_threshold: float = 1.0,
    on_file: Callable[[Path], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Read many Inspect logs, each attempt of an eval set once.

    Args:
        paths: log files (an eval-set log its retry superseded is left out, see
            :func:`latest_eval_set_logs`).
        skip_bad: skip unreadable logs (counted) instead of raising.
        success_threshold: see :func:`read_eval_log_file`.
        on_file: called after each file (progress bars).

    Returns:
        ``(attempts, trajectories, skipped)``.

    Raises:
        RecordsError: a bad log, unless ``skip_bad``.
    """
    attempts, trajectories, skipped = [], [], 0
    paths = latest_eval_set_logs([Path(p) for p in paths])
    for path in paths:
        try:
            a, t = read_eval_log_file(path, success_threshold=success_threshold)
        except RecordsError:
            if not skip_bad:
                raise
            skipped += 1
        else:
            attempts.append(a)
            trajectories.append(t)
        if on_file is not None:
            on_file(Path(path))
    a = pd.concat(attempts, ignore_index=True) if attempts else empty_attempts()
    t = pd.concat(trajectories, ignore_index=True) if trajectories else empty_trajectories()
    return a, t, skipped


