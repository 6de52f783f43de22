"""The task-family contract: what a folder under `rdbench/tasks/` must provide.

A family is an optimization problem from AI R&D work. Its folder holds:

- `family.py`      one subclass of `TaskFamily` (the scorer, metadata, variants);
- `workspace/`     files copied into the agent's workspace;
- `starting/`      the starting solution (laid over `workspace/`; scores 0);
- `reference/`     the strong reference solution (laid over `workspace/`; scores 1);
- `hidden/`        files only the scorer sees (never copied into any sandbox);
- `README.md`      what it tests, the twist, scoring, the reference, the human estimate.

This module imports nothing heavy: `rdbench tasks` and `rdbench check` load families
without Inspect, and families import torch only inside their scorer.

Keeping a scorer sound (see docs/scoring.md; `tests/tasks/test_scoring_attacks.py` runs the
generic attacks against every family that declares `solution_files`). Assume the solution
is written by an agent that wants a high score without the work:

- Run the solution's code only in a jail (`rdbench.sandbox.run_jailed`), never in the
  harness's process, with a clean `sys.path` (`python -I`, the workspace last or absent) so
  that a workspace `json.py` cannot stand in for a module the runner imports.
- Read what a jail wrote without following links (`os.open(..., O_NOFOLLOW)`, regular files
  only, size-capped), with no privilege the solution lacks; never bind or load a path the
  solution could have made a link.
- Compare against hidden data on the host: expected results never enter a jail, nor any
  path a jail can name.
- Messages to the agent carry only family-written text and numbers the family computed:
  never the solution's output, exception text, values or shapes, nor host paths.
- Hidden inputs reach the solution only inside the timed window (or time the whole setup).
- Enforce a rule outside the solution's process: a check that runs beside the solution's
  code can be patched by it (record what the solution does and check it elsewhere).
- No hidden data in any object or path the solution's process can reach (one batch at a
  time, nothing that lets it remember earlier batches or see one input twice).
- A cap on the agent's own work (compute, steps) holds only if the agent cannot call
  around it; otherwise change the task so that breaking the cap gains nothing.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from rdbench.errors import FamilyError

if TYPE_CHECKING:
    from rdbench.tasks.calibration import Calibration

Transform = Literal["linear", "log"]
Direction = Literal["higher", "lower"]
FinalScorePolicy = Literal["best", "final"]


@dataclass(frozen=True)
class Normalization:
    """Maps a raw score to the normalized scale: starting solution 0, reference 1.

    `normalized = (t(raw) - t(start)) / (t(reference) - t(start))` with `t` the identity or
    the natural log. `direction` says whether a higher or a lower raw score is better; it
    must agree with the order of `start` and `reference`. Above 1 is allowed (better than
    the reference) and so is below 0 (worse than the starting solution).
    """

    start: float
    reference: float
    transform: Transform = "linear"
    direction: Direction = "higher"
    #: Where `start` and `reference` come from: "shipped" (the family's constants) or, for
    #: a timing-sensitive family, "calibrated on this machine at <time>" (`rdbench calibrate`).
    anchors: str = field(default="shipped", compare=False)

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem is not None:
            raise ValueError(problem)

    def problem(self) -> str | None:
        """Return what is wrong with this normalization, or None if it is sound."""
        if self.transform not in ("linear", "log"):
            return f"transform must be 'linear' or 'log', not {self.transform!r}"
        if self.direction not in ("higher", "lower"):
            return f"direction must be 'higher' or 'lower', not {self.direction!r}"
        if not (math.isfinite(self.start) and math.isfinite(self.reference)):
            return "start and reference must be finite numbers"
        if self.transform == "log" and (self.start <= 0 or self.reference <= 0):
            return "a log normalization needs start > 0 and reference > 0"
        if self.start == self.reference:
            return "start and reference must differ"
        if (self.reference > self.start) != (self.direction == "higher"):
            better = "above" if self.direction == "higher" else "below"
            return f"direction is {self.direction!r}, so reference must be {better} start"
        return None

    def _t(self, value: float) -> float:
        return math.log(value) if self.transform == "log" else value

    def __call__(self, raw: float) -> float:
        """Return the normalized score of `raw` (raises ValueError for raw <= 0 under log)."""
        if self.transform == "log" and raw <= 0:
            raise ValueError(f"raw score {raw} must be > 0 under a log normalization")
        t_start = self._t(self.start)
        return (self._t(raw) - t_start) / (self._t(self.reference) - t_start)

    def as_dict(self) -> dict[str, Any]:
        """Return the normalization as a JSON-ready dict (the form stored in logs)."""
        return {
            "start": self.start,
            "reference": self.reference,
            "transform": self.transform,
            "direction": self.direction,
            "anchors": self.anchors,
        }


@dataclass(frozen=True)
class ScoreResult:
    """A raw score with the measurements behind it, for `TaskFamily.score` to return.

    A family may return a plain float; it returns a ScoreResult when the log should keep
    more than the raw score, e.g. a timing family's raw seconds beside the ratio it scores.
    `details` must be JSON-ready and must not carry hidden data: it is stored in the log.
    """

    raw: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resources:
    """What one attempt needs; the sandbox enforces memory, processes, disk and CPU."""

    cores: float = 2.0
    memory_mb: int = 4096
    gpus: int = 0
    disk_mb: int = 2048
    max_processes: int = 512

    def describe(self) -> str:
        """Return a short human-readable summary, e.g. '2 cores, 4 GB'."""
        text = f"{self.cores:g} cores, {self.memory_mb / 1024:g} GB"
        return text + (f", {self.gpus} GPU" if self.gpus else "")


@dataclass(frozen=True)
class TaskVariant:
    """One task of a family: what a Sample is made of."""

    family: str
    name: str
    instructions: str
    normalization: Normalization
    human_minutes: float
    time_limit_s: int
    params: dict[str, Any] = field(default_factory=dict)
    #: Where `human_minutes` comes from: "estimate" (rationale in the README) or "baseline".
    human_minutes_source: str = "estimate"
    #: The normalized score at or above which an attempt counts as a success.
    success_threshold: float = 1.0

    @property
    def task_id(self) -> str:
        """The task's id, `<family>/<variant>` (the Sample id and Attempt `task_id`)."""
        return f"{self.family}/{self.name}"


class TaskFamily:
    """Base class of a task family; subclass it in `<family>/family.py`.

    Subclasses set the class attributes and implement `score`. The harness calls `score`
    on a host copy of the agent's workspace, outside the agent's sandbox: a scorer that
    runs the agent's code must do it in a jail (`rdbench.sandbox.run_jailed`), never in
    the harness's process.

    A sound scorer (the module docstring and docs/scoring.md say how) gives a high score
    only for the work the score stands for: it runs the solution only in a jail with a
    clean `sys.path`, reads the jail's outputs without following links, compares them
    with hidden data on the host, puts only family-written text in its messages, hands
    hidden inputs over only inside the timed window, enforces rules outside the
    solution's process and leaves no hidden data in an object or path the solution can
    reach. Declare `solution_files` so the shared attack tests can check it.
    """

    #: Family name: the folder name, also the Inspect task name `rdbench/<name>`.
    name: ClassVar[str] = ""
    #: One-line summary shown by `rdbench tasks`.
    summary: ClassVar[str] = ""
    #: Expert time estimate for the main variant, in minutes.
    human_minutes: ClassVar[float] = 0.0
    #: Where `human_minutes` comes from: "estimate" (one-line rationale in the README) or
    #: "baseline" (the geometric mean of successful human baselines' working times).
    human_minutes_source: ClassVar[str] = "estimate"
    #: The normalized score that counts as success (binary tasks: 1.0 = solved).
    success_threshold: ClassVar[float] = 1.0
    #: Default working-time budget of one attempt, in seconds.
    time_limit_s: ClassVar[int] = 8 * 3600
    resources: ClassVar[Resources] = Resources()
    #: How the attempt's final score is chosen from its scores.
    final_score_policy: ClassVar[FinalScorePolicy] = "best"
    #: False when the `score` tool only validates the format (the agent sees no score).
    score_visible: ClassVar[bool] = True
    #: True when scoring times things: scorings then run one at a time per process.
    timing_sensitive: ClassVar[bool] = False
    #: How far `rdbench check` lets the starting and reference solutions score from 0 and
    #: 1. Deterministic scores meet 0.05 with room; a timing family whose scores move more
    #: than that between scorings on one machine declares (and documents) its measured
    #: reproducibility here.
    check_tolerance: ClassVar[float] = 0.05
    #: True when every scoring measures both ends of the scale itself (optimize_kernel):
    #: the anchors then hold on any machine and `rdbench calibrate` has nothing to do.
    self_calibrating: ClassVar[bool] = False
    #: Cheap enough (check in well under a minute) for the demo and the test suite.
    quick: ClassVar[bool] = True
    #: The normalization of the main variant.
    normalization: ClassVar[Normalization | None] = None
    #: The solution's entry points: workspace-relative paths of the Python files whose
    #: code the scorer runs (imports or executes), for the shared attack tests
    #: (`tests/tasks/test_scoring_attacks.py`), which put attack code at their top.
    #: `()`: the scorer runs no code of the solution (it only reads data files).
    #: None (the default): not declared; the attack tests skip the family and say so.
    solution_files: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, root: Path) -> None:
        self.root = root
        self._calibration: Calibration | None = None
        self._calibration_looked_up = False

    # -- folders ---------------------------------------------------------------------------
    @property
    def workspace_dir(self) -> Path:
        """Files copied into every attempt's workspace."""
        return self.root / "workspace"

    @property
    def starting_dir(self) -> Path:
        """The starting solution, laid over the workspace at the start of an attempt."""
        return self.root / "starting"

    @property
    def reference_dir(self) -> Path:
        """The reference solution, laid over the workspace by `rdbench check`."""
        return self.root / "reference"

    @property
    def hidden_dir(self) -> Path:
        """Files only the scorer reads."""
        return self.root / "hidden"

    @property
    def cache_dir(self) -> Path:
        """A writable per-family cache for data the family builds once (outside the repo)."""
        base = os.environ.get("RDBENCH_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rdbench"
        )
        path = Path(base) / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- what subclasses provide -----------------------------------------------------------
    def instructions(self, variant: str = "main") -> str:
        """Return the task statement shown to the agent (default: the family's `instructions.md`)."""
        return (self.root / "instructions.md").read_text()

    def variants(self) -> list[TaskVariant]:
        """Return the family's tasks (default: one variant, `main`)."""
        if self.normalization is None:
            raise FamilyError(f"family {self.name}: family.py sets no normalization")
        return [
            TaskVariant(
                family=self.name,
                name="main",
                instructions=self.instructions("main"),
                normalization=self.active_normalization(),
                human_minutes=self.human_minutes,
                time_limit_s=self.time_limit_s,
                human_minutes_source=self.human_minutes_source,
                success_threshold=self.success_threshold,
            )
        ]

    def calibration(self) -> Calibration | None:
        """Return this machine's calibration of a timing-sensitive family (`rdbench calibrate`),
        or None: not timing-sensitive, never calibrated here, or stale. Looked up once per
        family object, so one run never mixes two scales."""
        if not self.timing_sensitive:
            return None
        if not getattr(self, "_calibration_looked_up", False):
            from rdbench.tasks.calibration import load_calibration

            self._calibration = load_calibration(self)
            self._calibration_looked_up = True
        return self._calibration

    def active_normalization(self) -> Normalization:
        """Return the normalization scores use on this machine: the shipped `normalization`,
        with the anchors measured here when the family is calibrated (see `calibration()`).

        Raises:
            FamilyError: the family sets no normalization.
        """
        if self.normalization is None:
            raise FamilyError(f"family {self.name}: family.py sets no normalization")
        calibration = None if self.self_calibrating else self.calibration()
        return self.normalization if calibration is None else calibration.normalization(
            self.normalization
        )

    def forget_calibration(self) -> None:
        """Look the machine calibration up again on the next `calibration()`."""
        self._calibration_looked_up = False

    def prepare(self) -> None:
        """Build whatever the scorer needs (hidden data, cached weights). Idempotent.

        Called before scoring; must be cheap when already done.
        """

    def score(self, workspace: Path, variant: TaskVariant) -> float:
        """Score the solution in `workspace` (a host directory) and return the raw score.

        Raises:
            InvalidSubmission: the solution is missing, crashes, or gives a wrong answer.
        """
        raise NotImplementedError

    def validate(self, workspace: Path, variant: TaskVariant) -> str:
        """Check the submission's format without revealing a score (for `score_visible=False`).

        Returns a message for the agent. Raises InvalidSubmission for a malformed one.
        """
        self.score(workspace, variant)
        return "The submission is valid."
