"""Workspaces on the host: lay out a solution, copy one out of a sandbox, score it."""

from __future__ import annotations

import io
import math
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rdbench.errors import InvalidSubmission, TimingUnreliable, UserError
from rdbench.tasks.contract import ScoreResult as FamilyScore
from rdbench.tasks.contract import TaskFamily, TaskVariant

Solution = Literal["starting", "reference"]

#: Largest workspace the scorer copies out of a sandbox.
MAX_WORKSPACE_BYTES = 2 * 1024**3

# Timing-sensitive scorers run one at a time per process so that concurrent samples
# do not slow each other's measured runtimes.
_TIMING_LOCK = threading.Lock()


def solution_files(family: TaskFamily, solution: Solution = "starting") -> dict[str, Path]:
    """Return the files of an attempt's initial workspace: relative path -> host file.

    The family's `workspace/` with the chosen solution folder laid over it.
    """
    files: dict[str, Path] = {}
    for base in (family.workspace_dir, family.root / solution):
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(base).as_posix()] = path
    return files


def materialize(family: TaskFamily, dest: Path, solution: Solution = "starting") -> Path:
    """Copy the workspace with `solution` laid over it into `dest` and return `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel, src in solution_files(family, solution).items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


def extract_tar(data: bytes, dest: Path) -> Path:
    """Unpack a tar archive of a workspace into `dest`, refusing links and paths that leave it.

    Raises:
        InvalidSubmission: the archive is corrupt or too large.
    """
    if len(data) > MAX_WORKSPACE_BYTES:
        raise InvalidSubmission("the workspace is larger than 2 GB; remove large files")
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            # the "data" filter rejects absolute paths, '..', device files and links that
            # point outside: a workspace cannot smuggle a path onto the host.
            archive.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as ex:
        raise InvalidSubmission(f"could not copy the workspace out of the sandbox: {ex}") from ex
    return dest


#: What the agent is told when its scoring could not be timed reliably.
TIMING_UNRELIABLE_ADVICE = (
    "this is not a verdict on your solution (the machine was too busy to time it); try again"
)


@dataclass(frozen=True)
class ScoreResult:
    """One scoring of a workspace.

    `details` are the family's measurements behind the raw score (a timing family's raw
    seconds, say; see `rdbench.tasks.contract.ScoreResult`), None when the family returned
    a plain float.
    `timing_unreliable` is the family's reason when it could not trust its own timing
    (`rdbench.errors.TimingUnreliable`): the result is then neither valid nor a verdict on
    the solution, and `raw` and `normalized` are None.
    """

    raw: float | None
    normalized: float | None
    valid: bool
    message: str
    details: dict[str, Any] | None = None
    timing_unreliable: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Return the result as a JSON-ready dict (`details` and `timing_unreliable` only
        when set)."""
        out: dict[str, object] = {
            "raw": self.raw,
            "normalized": self.normalized,
            "valid": self.valid,
            "message": self.message,
        }
        if self.details is not None:
            out["details"] = self.details
        if self.timing_unreliable is not None:
            out["timing_unreliable"] = self.timing_unreliable
        return out


def timing_unreliable_result(reason: str) -> ScoreResult:
    """Return the result of a scoring whose timing could not be trusted.

    `reason` is the family's `TimingUnreliable` message ("timing unreliable: yardstick
    spread 31%"); the result's message adds that it is not the solution's fault.
    """
    reason = reason.strip() or "timing unreliable"
    if not reason.lower().startswith("timing unreliable"):
        reason = f"timing unreliable: {reason}"
    return ScoreResult(
        None, None, False, f"{reason} — {TIMING_UNRELIABLE_ADVICE}", timing_unreliable=reason
    )


def score_workspace(family: TaskFamily, variant: TaskVariant, workspace: Path) -> ScoreResult:
    """Score the solution in a host `workspace` through the family's real scorer.

    The family's `score` may return a float or a `contract.ScoreResult` (raw + details);
    a `TimingUnreliable` it raises becomes a result flagged `timing_unreliable`.

    Returns:
        A valid result with raw and normalized scores (and the family's details), an
        invalid one saying why, or one flagged `timing_unreliable` (not valid, no score).

    Raises:
        UserError: the environment cannot score at all (e.g. no sandbox available).
    """
    family.prepare()
    try:
        if family.timing_sensitive:
            with _TIMING_LOCK:
                outcome = family.score(workspace, variant)
        else:
            outcome = family.score(workspace, variant)
    except InvalidSubmission as ex:
        return ScoreResult(None, None, False, f"invalid submission: {ex}")
    except TimingUnreliable as ex:
        return timing_unreliable_result(str(ex))
    except UserError:
        raise
    details: dict[str, Any] | None = None
    if isinstance(outcome, FamilyScore):
        details = dict(outcome.details)
        outcome = outcome.raw
    raw = float(outcome)
    if not math.isfinite(raw):
        return ScoreResult(None, None, False, f"invalid submission: raw score {raw}", details)
    try:
        normalized = variant.normalization(raw)
    except ValueError as ex:
        return ScoreResult(raw, None, False, f"invalid submission: {ex}", details)
    return ScoreResult(
        raw, normalized, True, f"raw score {raw:.6g}, normalized {normalized:.3f}", details
    )


def score_solution(family: TaskFamily, variant: TaskVariant, solution: Solution) -> ScoreResult:
    """Score the family's starting or reference solution in a fresh temporary workspace."""
    with tempfile.TemporaryDirectory(prefix=f"rdbench-{family.name}-") as tmp:
        workspace = materialize(family, Path(tmp) / "workspace", solution)
        return score_workspace(family, variant, workspace)
