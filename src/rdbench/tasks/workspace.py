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
from typing import Literal

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


@dataclass(frozen=True)
class ScoreResult:
    """One scoring of a workspace."""

    raw: float | None
    normalized: float | None
    valid: bool
    message: str

    def as_dict(self) -> dict[str, object]:
        """Return the result as a JSON-ready dict."""
        return {
            "raw": self.raw,
            "normalized": self.normalized,
            "valid": self.valid,
            "message": self.message,
        }


def score_workspace(family: TaskFamily, variant: TaskVariant, workspace: Path) -> ScoreResult:
    """Score the solution in a host `workspace` through the family's real scorer.

    Returns:
        A valid result with raw and normalized scores, or an invalid one saying why.

    Raises:
        UserError: the environment cannot score at all (e.g. no sandbox available).
    """
    family.prepare()
    try:
        if family.timing_sensitive:
            with _TIMING_LOCK:
                raw = family.score(workspace, variant)
        else:
            raw = family.score(workspace, variant)
    except InvalidSubmission as ex:
        return ScoreResult(None, None, False, f"invalid submission: {ex}")
    except TimingUnreliable as ex:
        return ScoreResult(None, None, False, str(ex))
    except UserError:
        raise
    if isinstance(raw, FamilyScore):
        raw = raw.raw
    raw = float(raw)
    if not math.isfinite(raw):
        return ScoreResult(None, None, False, f"invalid submission: raw score {raw}")
    try:
        normalized = variant.normalization(raw)
    except ValueError as ex:
        return ScoreResult(raw, None, False, f"invalid submission: {ex}")
    return ScoreResult(raw, normalized, True, f"raw score {raw:.6g}, normalized {normalized:.3f}")


def score_solution(family: TaskFamily, variant: TaskVariant, solution: Solution) -> ScoreResult:
    """Score the family's starting or reference solution in a fresh temporary workspace."""
    with tempfile.TemporaryDirectory(prefix=f"rdbench-{family.name}-") as tmp:
        workspace = materialize(family, Path(tmp) / "workspace", solution)
        return score_workspace(family, variant, workspace)
