"""Machine calibration of timing-sensitive families.

A family that scores wall time (optimize_kernel, optimize_training) scores a *ratio*: the
solution's time over a yardstick's, both measured in the same scoring run, interleaved
(issue 11). Its anchors are the starting and reference solutions' ratios, so the machine's
speed and steady load cancel out and the shipped anchors hold on most machines. What does
not cancel is a machine on which the solutions' costs differ in *relative* speed from the
reference machine (e.g. another Python version makes the interpreted starting solution
faster, but not the compiled yardstick). `rdbench calibrate` measures both ratios here,
through the family's own scorer, says in normalized score how far the shipped anchors are
from them (`shipped_scores`), and the scores that follow use the measured anchors.
(Before the ratios, anchors were absolute seconds and calibration was needed on any other
hardware; a calibration stored then has another family digest and is ignored.)

A calibration is cached per family in the family's cache folder and is only used while
both the family's files and the machine (CPU model, usable cores, CPU quota, Python and
torch versions) are the ones it was measured with; anything else is stale and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rdbench.errors import UserError
from rdbench.tasks.contract import Normalization, TaskFamily
from rdbench.tasks.workspace import score_solution

logger = logging.getLogger(__name__)

#: Calibration file format; bump when the fields change.
FORMAT = 1
#: Default limit on how far repeated timings of one solution may differ, as a fraction of
#: the normalized scale. It detects a busy machine (other jobs inflate a two-threaded
#: solution's time by 50% and more, a spread of 0.3 and more), not the ordinary noise of a
#: quiet one: three scorings of optimize_training's reference on the quiet reference
#: machine took 23.2, 23.3 and 25.6 s, a spread of 0.059. The anchor is the median.
MAX_SPREAD = 0.1


@dataclass(frozen=True)
class Calibration:
    """The starting and reference solutions' raw scores measured on one machine."""

    family: str
    start: float
    reference: float
    start_runs: list[float]
    reference_runs: list[float]
    measured_at: str
    load_1min: float
    machine: dict[str, Any]
    family_digest: str
    format: int = FORMAT

    def normalization(self, shipped: Normalization) -> Normalization:
        """Return `shipped` with this machine's anchors (same transform and direction)."""
        return Normalization(
            start=self.start,
            reference=self.reference,
            transform=shipped.transform,
            direction=shipped.direction,
            anchors=f"calibrated on this machine at {self.measured_at}",
        )


def machine_fingerprint() -> dict[str, Any]:
    """Return what decides how fast a timed solution runs here.

    The CPU model, the cores this process may use (affinity and cgroup CPU quota), the
    architecture and the Python and torch versions. Reads only /proc and /sys files and
    package metadata (torch is not imported).
    """
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from rdbench.sandbox.cgroups import cpu_quota  # imported here: the sandbox loads pydantic

    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = None
    return {
        "cpu_model": cpu_model or platform.processor() or "unknown",
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu_quota": cpu_quota(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "torch": torch_version,
    }


def family_digest(family: TaskFamily) -> str:
    """Return a digest of the family's files that can change a timing: everything in its
    folder but documentation (`*.md`) and bytecode caches. A changed solution, scorer or
    hidden parameter makes an older calibration stale; an edited README does not."""
    digest = hashlib.sha256()
    for path in sorted(family.root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".md":
            continue
        digest.update(str(path.relative_to(family.root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def calibration_path(family: TaskFamily) -> Path:
    """Return where `family`'s calibration for this machine is stored."""
    return family.cache_dir / "calibration.json"


def load_calibration(family: TaskFamily) -> Calibration | None:
    """Return the family's calibration if one was measured on this machine for these files.

    Returns:
        The calibration, or None when there is none, it is stale (another machine, or the
        family's files changed since) or it cannot be read; the last two are logged as a
        warning saying how to fix them. Scores then use the shipped anchors, and say so in
        their normalization's `anchors` field.
    """
    path = calibration_path(family)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        calibration = Calibration(**data)
        if not (calibration.start > 0 and calibration.reference > 0):
            raise ValueError("anchors must be positive numbers")
    except (OSError, ValueError, TypeError) as ex:
        # not an error that stops everything: `rdbench calibrate` must still be able to
        # replace it, and `rdbench tasks` to list the family
        logger.warning("ignoring %s: it is unreadable (%s); re-run `rdbench calibrate %s` "
                       "or delete it", path, ex, family.name)
        return None
    if calibration.family_digest != family_digest(family):
        logger.warning("ignoring %s: the family's files changed since it was measured; "
                       "re-run `rdbench calibrate %s`", path, family.name)
        return None
    if calibration.machine != machine_fingerprint():
        logger.warning("ignoring %s: it was measured on another machine (%s); re-run "
                       "`rdbench calibrate %s`", path, calibration.machine, family.name)
        return None
    return calibration


def calibrate(
    family: TaskFamily,
    repeats: int = 3,
    progress: Callable[[str], None] | None = None,
    max_spread: float = MAX_SPREAD,
) -> Calibration:
    """Time the family's starting and reference solutions here and store the anchors.

    Each solution is scored `repeats` times through the family's own scorer (the same
    jail and timing as an agent's submission); the anchor is the median. Nothing is
    written unless every run is valid and the runs agree.

    Returns:
        The stored calibration.

    Raises:
        UserError: the family is not timing-sensitive or is self-calibrating (it times both
            ends of its scale in every scoring), `repeats` < 1, a solution fails to
            score, or repeated timings differ by more than `max_spread` of the normalized
            scale (the machine is too busy to calibrate on).
    """
    if not family.timing_sensitive:
        raise UserError(f"family {family.name} does not time solutions: there is nothing "
                        "to calibrate (its anchors do not depend on the machine)")
    if family.self_calibrating:
        raise UserError(f"family {family.name}: every scoring measures both ends of the scale "
                        "itself, so there is nothing to calibrate")
    if repeats < 1:
        raise UserError("--repeats must be at least 1")
    if not 0 < max_spread <= 1:
        raise UserError("--max-spread must be in (0, 1]")
    shipped = family.normalization
    if shipped is None:
        raise UserError(f"family {family.name} sets no normalization")
    say = progress or (lambda message: None)
    load = os.getloadavg()[0]
    runs: dict[str, list[float]] = {}
    for solution in ("starting", "reference"):
        runs[solution] = []
        for i in range(repeats):
            say(f"{family.name}: timing the {solution} solution ({i + 1}/{repeats})")
            started = time.perf_counter()
            # scored as an agent's submission is (same scorer, one timing at a time)
            result = score_solution(family, family.variants()[0], solution)
            if result.timing_unreliable is not None:
                raise UserError(f"{family.name}: {result.timing_unreliable} while timing the "
                                f"{solution} solution; calibrate when the machine is quiet")
            if not result.valid or result.raw is None:
                raise UserError(f"{family.name}: the {solution} solution does not score: "
                                f"{result.message}")
            raw = result.raw
            say(f"{family.name}: {solution} run {i + 1}: raw {raw:.4g} "
                f"({time.perf_counter() - started:.0f}s)")
            runs[solution].append(raw)
            # fail fast (a timing family's runs take minutes), on the shipped scale for now
            _require_agreement(family, solution, runs[solution], shipped, max_spread)
    start = statistics.median(runs["starting"])
    reference = statistics.median(runs["reference"])
    try:
        candidate = Normalization(start=start, reference=reference,
                                  transform=shipped.transform, direction=shipped.direction)
    except ValueError as ex:
        raise UserError(f"{family.name}: the measured anchors make no scale ({ex}): "
                        f"starting {runs['starting']}, reference {runs['reference']}") from ex
    for solution, values in runs.items():
        _require_agreement(family, solution, values, candidate, max_spread)
    calibration = Calibration(
        family=family.name,
        start=start,
        reference=reference,
        start_runs=runs["starting"],
        reference_runs=runs["reference"],
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        load_1min=round(max(load, os.getloadavg()[0]), 2),
        machine=machine_fingerprint(),
        family_digest=family_digest(family),
    )
    _write_atomically(calibration_path(family), json.dumps(asdict(calibration), indent=2))
    family.forget_calibration()
    return calibration


def _require_agreement(
    family: TaskFamily, solution: str, values: list[float], scale: Normalization,
    max_spread: float,
) -> None:
    """Raise UserError when `values` spread over more than `max_spread` on `scale`."""
    normalized = [scale(v) for v in values]
    spread = max(normalized) - min(normalized)
    if spread > max_spread:
        raise UserError(
            f"{family.name}: the {solution} solution's timings {[round(v, 4) for v in values]} "
            f"differ by {spread:.3f} of the normalized scale (at most {max_spread:g}): the "
            f"machine is too busy (load {os.getloadavg()[0]:.1f}); calibrate when it is quiet"
        )


def remove_calibration(family: TaskFamily) -> bool:
    """Delete the family's calibration (back to the shipped anchors); True if one existed."""
    path = calibration_path(family)
    existed = path.exists()
    path.unlink(missing_ok=True)
    family.forget_calibration()
    return existed


def shipped_scores(calibration: Calibration, shipped: Normalization) -> dict[str, float]:
    """Return the scores the shipped anchors would give this machine's starting and
    reference solutions (`{"starting": ..., "reference": ...}`; ideally 0 and 1): how far
    the shipped anchors are off here, in normalized score."""
    return {"starting": shipped(calibration.start), "reference": shipped(calibration.reference)}


def calibration_needed(calibration: Calibration, shipped: Normalization,
                       tolerance: float = 0.05) -> bool:
    """Return True when the shipped anchors score this machine's starting or reference
    solution more than `tolerance` away from 0 or 1 (the calibration then matters here)."""
    scores = shipped_scores(calibration, shipped)
    return abs(scores["starting"]) > tolerance or abs(scores["reference"] - 1.0) > tolerance


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".calibration-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
