"""METR's ``runs.jsonl`` format (eval-analysis-public ``all_runs.jsonl``): read and write.

Mapping to the Attempt table: ``run_id -> attempt_id``, ``alias -> agent``, ``alias ==
"human" -> is_human``, ``score_binarized -> success``, ``score -> score`` (and
``score_raw``), ``time_limit`` (s; 0 = none) ``-> time_limit_s``, ``started_at`` /
``completed_at`` (ms since the epoch; 0 = unknown) -> timestamps, and ``working_time_s``
= their difference (METR records wall-clock time, not working time: the closest it has),
``total_tokens -> tokens``, ``dollar_equivalent -> cost_usd``, ``fatal_error_from ->
error``. The weight columns are not read: rdbench recomputes weights in
:func:`rdbench.stats.task_weights`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from rdbench.errors import RecordsError
from rdbench.records.schema import SOURCE_METR, coerce_attempts, empty_trajectories

__all__ = ["read_runs_jsonl", "write_runs_jsonl", "METR_REQUIRED"]

METR_REQUIRED = ("run_id", "task_id", "task_family", "alias", "human_minutes", "score_binarized")
HUMAN_ALIAS = "human"


def read_runs_jsonl(
    path: str | Path, *, skip_bad: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Read a METR ``runs.jsonl`` file into the Attempt table.

    Args:
        path: the file, one JSON object per line (blank lines ignored).
        skip_bad: skip lines that are not JSON objects or lack a required field,
            instead of raising.

    Returns:
        ``(attempts, trajectories, skipped)``: trajectories is empty (the format has none);
        ``skipped`` counts the lines left out.

    Raises:
        RecordsError: unreadable file, a bad line (names the file and line), a missing
            required field, or no runs at all.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise RecordsError(f"{path}: cannot read: {ex}") from None
    records, linenos, skipped = [], [], 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            missing = [k for k in METR_REQUIRED if record.get(k) is None]
            if missing:
                raise KeyError(f"missing field(s) {', '.join(missing)}")
        except (ValueError, KeyError) as ex:
            if skip_bad:
                skipped += 1
                continue
            msg = ex.args[0] if isinstance(ex, KeyError) else f"bad JSON ({ex})"
            raise RecordsError(f"{path}:{lineno}: {msg}") from None
        records.append(record)
        linenos.append(lineno)
    if not records:
        raise RecordsError(f"{path}: no runs found")
    raw = pd.DataFrame.from_records(records)

    def col(name: str, default=np.nan) -> pd.Series:
        return raw[name] if name in raw else pd.Series(default, index=raw.index)

    def numbers(name: str) -> pd.Series:
        """The column as numbers; a value that is not one names its line and field."""
        values = col(name)
        parsed = pd.to_numeric(values, errors="coerce")
        bad = parsed.isna() & values.notna() & ~values.map(
            lambda v: isinstance(v, float) and np.isnan(v)
        )
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise RecordsError(
                f"{path}:{linenos[i]}: field {name!r} is {values.iloc[i]!r}, not a number"
            )
        return parsed

    def ms_time(name: str) -> pd.Series:
        ms = pd.to_numeric(col(name), errors="coerce")
        # METR writes started_at = 0 for human baselines, with completed_at = the duration:
        # those are not clock times, so both stay missing (the duration is kept).
        known = pd.to_numeric(col("started_at"), errors="coerce") > 0
        return pd.to_datetime(ms.where(known & (ms > 0)), unit="ms", utc=True)

    try:
        score = numbers("score").astype(float)
        success = numbers("score_binarized")
        if not success.isin([0, 1]).all():
            raise ValueError("score_binarized must be 0 or 1")
        score = score.where(score.notna(), success.astype(float))
        start_ms = numbers("started_at")
        end_ms = numbers("completed_at")
        time_limit = numbers("time_limit").astype(float)
        human_minutes = numbers("human_minutes").astype(float)
    except (ValueError, TypeError) as ex:
        raise RecordsError(f"{path}: {ex}") from None
    alias = raw["alias"].astype(str)
    is_human = alias == HUMAN_ALIAS
    attempts = pd.DataFrame(
        {
            "attempt_id": raw["run_id"].astype(str),
            "source": str(path),
            "source_format": SOURCE_METR,
            "agent": alias,
            "model": col("model", None),
            "scaffold": pd.Series(pd.NA, index=raw.index, dtype="string"),
            "is_human": is_human,
            "task_family": raw["task_family"].astype(str),
            "task_id": raw["task_id"].astype(str),
            "human_minutes": human_minutes,
            "time_limit_s": time_limit.where(time_limit > 0),
            "working_time_s": (end_ms - start_ms) / 1000.0,
            "score_raw": score,
            "score": score,
            "success": success.astype(bool),
            "tokens": pd.to_numeric(col("total_tokens"), errors="coerce"),
            "cost_usd": pd.to_numeric(col("dollar_equivalent"), errors="coerce"),
            "started_at": ms_time("started_at"),
            "completed_at": ms_time("completed_at"),
            "error": col("fatal_error_from", None),
        }
    )
    dup = attempts["attempt_id"].duplicated()
    if dup.any():
        raise RecordsError(f"{path}: duplicate run_id {attempts['attempt_id'][dup].iloc[0]!r}")
    return coerce_attempts(attempts, str(path)), empty_trajectories(), skipped


def _clean(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def write_runs_jsonl(attempts: pd.DataFrame, path: str | Path) -> int:
    """Write an Attempt table as METR ``runs.jsonl`` so others' tools can analyse it.

    Writes the fields METR's pipeline reads (run_id, task_id, task_family, alias, model,
    score, score_binarized, human_minutes, time_limit, started_at, completed_at,
    fatal_error_from, dollar_equivalent, total_tokens) plus the two weight columns
    recomputed per agent (``equal_task_weight``, ``invsqrt_task_weight``). Humans get
    alias ``human``. Attempts with unknown success are written with ``score_binarized``
    from ``score >= 1`` if the score is known, else left out.

    Args:
        attempts: the Attempt table.
        path: output file (overwritten).

    Returns:
        The number of lines written.

    Raises:
        RecordsError: the file cannot be written.
    """
    from rdbench.stats.weights import task_weights

    df = coerce_attempts(attempts)
    success = df["success"].astype("boolean")
    success = success.fillna(df["score"].ge(1.0).where(df["score"].notna()).astype("boolean"))
    df = df.assign(success=success)
    df = df[df["success"].notna()].copy()
    df["alias"] = np.where(df["is_human"], HUMAN_ALIAS, df["agent"].astype(str))
    equal = task_weights(df, "equal", agent_col="alias")
    invsqrt = task_weights(df, "invsqrt", agent_col="alias")

    def ms(series: pd.Series) -> pd.Series:
        out = (series - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
        return out.astype("Float64").fillna(0).astype("int64")

    # Unknown clock times: METR's convention is started_at = 0, completed_at = duration.
    started, completed = ms(df["started_at"]), ms(df["completed_at"])
    unknown = df["started_at"].isna().to_numpy()
    duration_ms = (df["working_time_s"].fillna(0) * 1000).round().astype("int64")
    completed = completed.where(~unknown, duration_ms)
    started = started.where(~unknown, 0)
    out = pd.DataFrame(
        {
            "run_id": df["attempt_id"].astype(str),
            "task_id": df["task_id"].astype(str),
            "task_family": df["task_family"].astype(str),
            "alias": df["alias"],
            "model": df["model"].astype(object).where(df["model"].notna(), None),
            "score": df["score"],
            "score_binarized": df["success"].astype(int),
            "human_minutes": df["human_minutes"],
            "time_limit": df["time_limit_s"].fillna(0).round().astype("int64"),
            "started_at": started,
            "completed_at": completed,
            "fatal_error_from": df["error"].astype(object).where(df["error"].notna(), None),
            "dollar_equivalent": df["cost_usd"],
            "total_tokens": df["tokens"],
            "equal_task_weight": equal.to_numpy(),
            "invsqrt_task_weight": invsqrt.to_numpy(),
        }
    )
    from rdbench.outputs import atomic_path

    path = Path(path)
    try:
        with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for record in out.to_dict(orient="records"):
                fh.write(json.dumps({k: _clean(v) for k, v in record.items()}) + "\n")
    except OSError as ex:
        raise RecordsError(f"{path}: cannot write: {ex}") from None
    return len(out)
