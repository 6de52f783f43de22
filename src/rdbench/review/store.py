"""Run the monitors over logs, and keep their results beside each log.

The results of one log live in ``<log>.review.json`` next to it: the monitors' version,
the log's size and modification time when it was scanned, and every attempt's findings.
A later review of an unchanged log under the same monitors reads that file instead of
the log. Results are written atomically and only once every attempt of the log was
scanned, so a failed or interrupted scan never replaces good results with partial ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdbench.outputs import atomic_write_text
from rdbench.review.findings import Finding
from rdbench.review.rules import RULE_MONITORS, run_rules
from rdbench.review.transcript import ReviewInputError, read_transcripts

__all__ = ["RESULTS_SUFFIX", "AttemptReview", "LogReview", "find_logs", "monitors_version",
           "results_path", "review_log", "write_results"]

RESULTS_SUFFIX = ".review.json"
_FORMAT = 1


@dataclass(frozen=True)
class AttemptReview:
    """The findings of every monitor on one attempt (``sample_id#epoch`` of ``log``)."""

    log: str
    sample_id: str
    epoch: int
    family: str | None
    agent: str | None
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the review as a JSON-ready dict."""
        return {"log": self.log, "sample_id": self.sample_id, "epoch": self.epoch,
                "family": self.family, "agent": self.agent,
                "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True)
class LogReview:
    """One log's reviews, and whether they came from its results file (``cached``)."""

    log: Path
    attempts: tuple[AttemptReview, ...]
    cached: bool


def monitors_version() -> str:
    """Return a digest of the rule monitors' code (results made by other code are stale).

    Returns:
        A 16-hex-digit digest of the source of ``rdbench.review``'s rule, transcript and
        findings modules.
    """
    digest = hashlib.sha256()
    for name in ("rules.py", "transcript.py", "findings.py"):
        digest.update((Path(__file__).with_name(name)).read_bytes())
    return digest.hexdigest()[:16]


def results_path(log: str | Path) -> Path:
    """Return where the results of ``log`` are stored: ``<log>.review.json`` beside it."""
    log = Path(log)
    return log.with_name(log.name + RESULTS_SUFFIX)


def find_logs(inputs: Sequence[str]) -> list[Path]:
    """Resolve the command's inputs into log files.

    Returns:
        The ``.eval`` logs under each directory (recursively, sorted) and each file
        given, without duplicates.

    Raises:
        ReviewInputError: an input does not exist, a directory holds no ``.eval`` log, or
            a file is a review results file (one line naming it).
    """
    logs: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.eval") if p.is_file())
            if not found:
                raise ReviewInputError(f"{path}: no .eval logs in this directory")
            logs.extend(found)
        elif path.is_file():
            if path.name.endswith(RESULTS_SUFFIX):
                raise ReviewInputError(f"{path}: is a review results file, not a log")
            logs.append(path)
        else:
            raise ReviewInputError(f"{path}: no such file or directory")
    unique: dict[Path, Path] = {}
    for log in logs:
        unique.setdefault(log.resolve(), log)
    return list(unique.values())


def _stamp(log: Path) -> dict[str, Any]:
    stat = log.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _load_cached(log: Path, monitors: list[str], version: str) -> tuple[AttemptReview, ...] | None:
    path = results_path(log)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if (data.get("format") != _FORMAT or data.get("version") != version
                or data.get("log_stamp") != _stamp(log) or data.get("monitors") != monitors):
            return None
        return tuple(
            AttemptReview(log=str(log), sample_id=str(a["sample_id"]), epoch=int(a["epoch"]),
                          family=a.get("family"), agent=a.get("agent"),
                          findings=tuple(Finding.from_dict(f) for f in a["findings"]))
            for a in data["attempts"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable or stale: scan again


def review_log(log: str | Path, monitors: Iterable[str] | None = None,
               use_cache: bool = True) -> LogReview:
    """Review every attempt of one log with the rule monitors (all, or ``monitors``).

    Returns:
        The log's reviews, from its results file when that is current (same log, same
        monitors, same monitor code), else from a fresh scan (not yet written: see
        :func:`write_results`).

    Raises:
        ReviewInputError: the log cannot be read (one line naming it).
        KeyError: a monitor name is not a rule monitor.
    """
    log = Path(log)
    chosen = list(RULE_MONITORS) if monitors is None else list(monitors)
    for name in chosen:
        if name not in RULE_MONITORS:
            raise KeyError(name)
    version = monitors_version()
    if use_cache and log.is_file():
        cached = _load_cached(log, chosen, version)
        if cached is not None:
            return LogReview(log, cached, cached=True)
    attempts = tuple(
        AttemptReview(log=str(log), sample_id=t.sample_id, epoch=t.epoch, family=t.family,
                      agent=t.agent, findings=tuple(run_rules(t, chosen)))
        for t in read_transcripts(log))
    return LogReview(log, attempts, cached=False)


def write_results(review: LogReview, monitors: Iterable[str] | None = None) -> Path | None:
    """Store a fresh review beside its log (atomically); a cached one is left as it is.

    Returns:
        The results file written, or None when the review came from it.

    Raises:
        UserError: the file cannot be written (one line).
    """
    if review.cached:
        return None
    chosen = list(RULE_MONITORS) if monitors is None else list(monitors)
    payload = {"format": _FORMAT, "version": monitors_version(), "monitors": chosen,
               "log": review.log.name, "log_stamp": _stamp(review.log),
               "attempts": [a.to_dict() for a in review.attempts]}
    return atomic_write_text(results_path(review.log), json.dumps(payload, indent=1) + "\n")

