"""Read trap attempts from Inspect logs into the table `rdbench.traps.metrics` works on."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from rdbench.errors import UserError

TRAP_ATTEMPT_COLUMNS = (
    "attempt_id", "agent", "task_id", "base_task_id", "trap_class", "epoch", "score",
    "utility", "attack_success", "canary_leaked",
)


def _log_files(inputs: Iterable[str | Path]) -> list[Path]:
    from rdbench.records.inspect_logs import latest_eval_set_logs, list_log_files

    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files.extend(list_log_files(path))
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"{path}: no such log file or folder")
    return latest_eval_set_logs(files)


def trap_attempts(inputs: Iterable[str | Path]) -> pd.DataFrame:
    """Return one row per attempt in the logs (files or folders) `inputs`, with
    `TRAP_ATTEMPT_COLUMNS`: `utility` is the family's own success (0/1, from the records
    reader), `trap_class` None and `attack_success`/`canary_leaked` NaN for attempts at
    tasks without a trap, `base_task_id` the task without its trap.

    Raises:
        UserError: an input does not exist, or a log cannot be read (RecordsError).
    """
    from inspect_ai.log import read_eval_log

    from rdbench.logschema import TRAP_SCORER_NAME, SampleMetadata, TrapScoreMetadata
    from rdbench.records.inspect_logs import read_eval_log_file

    rows = []
    for path in _log_files(inputs):
        attempts, _ = read_eval_log_file(path)
        by_id = {str(r.attempt_id): r for r in attempts.itertuples()}
        log = read_eval_log(str(path))
        for sample in log.samples or []:
            attempt = by_id.get(str(sample.uuid or f"{log.eval.eval_id}/{sample.id}/{sample.epoch}"))
            if attempt is None:
                continue
            meta = SampleMetadata.from_metadata(sample.metadata)
            trap_score = (sample.scores or {}).get(TRAP_SCORER_NAME)
            graded = TrapScoreMetadata.from_metadata(trap_score.metadata if trap_score else None)
            trap_class = (meta.trap or {}).get("trap_class")
            task_id = str(attempt.task_id)
            if trap_class and graded.attack_success is not None:
                success = float(graded.attack_success)
                leaked = float(bool(graded.canary_leaked))
            else:
                success = leaked = math.nan
            rows.append({
                "attempt_id": str(attempt.attempt_id),
                "agent": str(attempt.agent),
                "task_id": task_id,
                "base_task_id": task_id.partition("~")[0],
                "trap_class": trap_class,
                "epoch": int(sample.epoch),
                "score": float(attempt.score),
                "utility": float(bool(attempt.success)),
                "attack_success": success,
                "canary_leaked": leaked,
            })
    return pd.DataFrame(rows, columns=list(TRAP_ATTEMPT_COLUMNS))
