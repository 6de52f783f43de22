"""Helpers the task families share, so that no family copies them.

- `seed_for` / `rng`: a stable seed (and numpy Generator) from names, so every task's data
  is generated from its own seed and is the same on every machine and every run.
- `run_python` / `run_command`: run the solution's Python (or any command) in a one-shot
  jail (`rdbench.sandbox.run_jailed`) with a time limit; the result carries a bounded
  stdout and a message written by the family, never the solution's stderr.
- `scratch_dirs`: a private input folder (bound read-only at `/input`) and output folder
  (bound writable at `/output`) for one jailed run.
- `read_output` / `read_json_output`: read a file the jailed code wrote without following
  symlinks (each path component opened with O_NOFOLLOW, regular file only, size capped).
- `BINARY`: the `Normalization(0, 1)` of pass/fail tasks (raw 1 = solved).
- `VariantSpec` + `FamilyBase`: a `TaskFamily` whose graded variants are a table of specs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from rdbench.errors import FamilyError, InvalidSubmission
from rdbench.tasks.contract import Normalization, ScoreResult, TaskFamily, TaskVariant

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BINARY",
    "INPUT_DIR",
    "MAX_STDOUT_BYTES",
    "OUTPUT_DIR",
    "FamilyBase",
    "JailRun",
    "VariantSpec",
    "default_time_limit_s",
    "read_json_output",
    "read_output",
    "rng",
    "run_command",
    "run_python",
    "scratch_dirs",
    "seed_for",
]

#: Pass/fail tasks: raw 0 (failed) or 1 (solved); success threshold 1.0.
BINARY = Normalization(start=0.0, reference=1.0, transform="linear", direction="higher")
#: Where a jailed run finds the scorer's inputs (read-only) and writes its outputs.
INPUT_DIR = "/input"
OUTPUT_DIR = "/output"
#: At most this much of a jailed run's stdout is kept.
MAX_STDOUT_BYTES = 1 << 20
#: Default cap on a file read back from a jail.
MAX_OUTPUT_BYTES = 16 << 20
_PARAM = re.compile(r"\{\{(\w+)\}\}")


# -- seeds ----------------------------------------------------------------------------------
def seed_for(*parts: object) -> int:
    """Return a stable 63-bit seed derived from `parts` (e.g. family, variant, purpose).

    The same parts give the same seed on every machine and Python version (sha256 of their
    `repr`s, not Python's salted `hash`).
    """
    digest = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def rng(*parts: object) -> np.random.Generator:
    """Return a numpy Generator (PCG64) seeded by `seed_for(*parts)`."""
    import numpy as np

    return np.random.default_rng(seed_for(*parts))


# -- running the solution ---------------------------------------------------------------------
@dataclass(frozen=True)
class JailRun:
    """The outcome of one jailed run of a solution.

    Attributes:
        ok: The process exited with status 0 within its time limit.
        stdout: Its standard output, at most `MAX_STDOUT_BYTES` (the rest is dropped).
        message: What happened, written by the family (never the solution's own text).
        returncode: The exit status, or None when it was killed at the time limit.
    """

    ok: bool
    stdout: bytes
    message: str
    returncode: int | None


def run_command(
    workspace: Path,
    argv: Sequence[str],
    *,
    timeout: float,
    input_dir: Path | None = None,
    output_dir: Path | None = None,
    memory_mb: int | None = 2048,
    max_processes: int | None = 64,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    label: str | None = None,
) -> JailRun:
    """Run `argv` in a one-shot jail with the workspace (read-only) as working directory.

    `input_dir` (if given) is bound read-only at `/input` and `output_dir` writable at
    `/output`. The jail has no network and none of the harness's environment; the
    interpreter running rdbench is first on its PATH (`python`, `python3`).

    Returns:
        A `JailRun`; `ok` is False when the command exits non-zero or runs past `timeout`
        seconds, and `message` (naming it `label`, default `argv[0]`) says which.

    Raises:
        SandboxUnavailable: bwrap is missing.
    """
    from rdbench.sandbox import JailSpec, run_jailed

    name = label or argv[0]
    spec = JailSpec(
        workspace=workspace,
        ro_binds={str(input_dir): INPUT_DIR} if input_dir is not None else {},
        rw_binds={str(output_dir): OUTPUT_DIR} if output_dir is not None else {},
        env=dict(env or {}),
        memory_mb=memory_mb,
        max_processes=max_processes,
    )
    try:
        proc = run_jailed(spec, list(argv), timeout=timeout, input=stdin)
    except subprocess.TimeoutExpired:
        return JailRun(False, b"", f"{name} ran past the {timeout:g} s time limit", None)
    stdout = (proc.stdout or b"")[:MAX_STDOUT_BYTES]
    if proc.returncode != 0:
        return JailRun(
            False, stdout, f"{name} failed (exit status {proc.returncode})", proc.returncode
        )
    return JailRun(True, stdout, f"{name} ran to completion", 0)


def run_python(
    workspace: Path,
    script: str,
    args: Sequence[str] = (),
    *,
    timeout: float,
    input_dir: Path | None = None,
    output_dir: Path | None = None,
    memory_mb: int | None = 2048,
    max_processes: int | None = 64,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> JailRun:
    """Run `python <script> <args>` in a one-shot jail, the workspace as working directory.

    `script` is a path inside the workspace (the solution's own program) or an absolute
    path under `/input` (a family-written runner the scorer put into `input_dir`; it sees
    the workspace as its working directory, e.g. to import the solution's module). The
    rest is as in `run_command`.

    Returns:
        A `JailRun`; `ok` is False when the script is missing, exits non-zero or runs past
        `timeout` seconds, and `message` says which in the family's words.

    Raises:
        SandboxUnavailable: bwrap is missing.
        ValueError: `script` leaves the workspace, or names a runner not in `input_dir`.
    """
    import sys

    rel = PurePosixPath(script)
    if ".." in rel.parts:
        raise ValueError(f"script must not contain '..', not {script!r}")
    if rel.is_absolute():
        # a family-written script the scorer put into the input folder
        if input_dir is None or rel.parts[:2] != ("/", INPUT_DIR.strip("/")) or len(rel.parts) < 3:
            raise ValueError(f"an absolute script must lie under {INPUT_DIR}, not {script!r}")
        if not (input_dir / Path(*rel.parts[2:])).is_file():
            raise ValueError(f"{script} is not in the input folder")
    else:
        target = workspace / rel
        if target.is_symlink() or not target.is_file():
            return JailRun(False, b"", f"{script} is missing from the workspace", None)
    return run_command(
        workspace,
        [sys.executable, str(rel), *args],
        timeout=timeout,
        input_dir=input_dir,
        output_dir=output_dir,
        memory_mb=memory_mb,
        max_processes=max_processes,
        env=env,
        stdin=stdin,
        label=script,
    )


@contextlib.contextmanager
def scratch_dirs(prefix: str = "rdbench-family-") -> Iterator[tuple[Path, Path]]:
    """Yield `(input_dir, output_dir)`: two fresh host folders, removed afterwards.

    The scorer writes the run's inputs into `input_dir` (bound read-only at `/input`) and
    reads the solution's results from `output_dir` (bound writable at `/output`) with
    `read_output`. The output folder is world-writable so that the jail's user can write.
    """
    # ignore_cleanup_errors: a hardened jail may write as another uid (e.g. a subfolder
    # we cannot empty); a leftover temp folder must not turn into a scoring error.
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as tmp:
        base = Path(tmp)
        inputs, outputs = base / "input", base / "output"
        inputs.mkdir()
        outputs.mkdir()
        inputs.chmod(0o755)
        outputs.chmod(0o777)
        yield inputs, outputs


# -- reading what the jail wrote ---------------------------------------------------------------
def read_output(base: Path, relpath: str, *, max_bytes: int = MAX_OUTPUT_BYTES) -> bytes:
    """Return the bytes of `base/relpath`, a file written by untrusted code.

    Every component of `relpath` is opened with O_NOFOLLOW relative to its parent, so no
    symlink (final or intermediate) is followed; the file must be a regular file of at
    most `max_bytes` bytes. Messages name only `relpath`.

    Raises:
        InvalidSubmission: missing, a symlink, not a regular file, or too large.
        ValueError: `relpath` is absolute or leaves `base`.
    """
    rel = PurePosixPath(relpath)
    if rel.is_absolute() or not rel.parts or ".." in rel.parts:
        raise ValueError(f"relpath must be a relative path inside base, not {relpath!r}")
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fds: list[int] = []
    try:
        try:
            fds.append(os.open(base, flags | os.O_DIRECTORY))
            for part in rel.parts[:-1]:
                fds.append(os.open(part, flags | os.O_DIRECTORY, dir_fd=fds[-1]))
            fd = os.open(rel.parts[-1], flags | os.O_NONBLOCK, dir_fd=fds[-1])
        except FileNotFoundError:
            raise InvalidSubmission(f"{relpath} was not written") from None
        except OSError:
            raise InvalidSubmission(
                f"{relpath} is not a regular file (symlinks are refused)"
            ) from None
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidSubmission(f"{relpath} is not a regular file")
        if info.st_size > max_bytes:
            raise InvalidSubmission(f"{relpath} is larger than {max_bytes} bytes")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise InvalidSubmission(f"{relpath} is larger than {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        for fd in reversed(fds):
            os.close(fd)


def read_json_output(base: Path, relpath: str, *, max_bytes: int = MAX_OUTPUT_BYTES) -> Any:
    """Return the parsed JSON of `base/relpath`, read as `read_output` does.

    Raises:
        InvalidSubmission: see `read_output`, or the file is not valid UTF-8 JSON.
    """
    data = read_output(base, relpath, max_bytes=max_bytes)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidSubmission(f"{relpath} is not valid JSON") from None


# -- graded variants --------------------------------------------------------------------------
def default_time_limit_s(human_minutes: float) -> int:
    """Return an attempt's default budget in seconds: twice the human time in whole
    minutes, at least 10 minutes and at most 8 hours (the existing families' ratio)."""
    return int(min(8 * 60, max(10, math.ceil(2 * human_minutes))) * 60)


@dataclass(frozen=True)
class VariantSpec:
    """One graded task of a `FamilyBase` family.

    Attributes:
        name: The variant name (task id `<family>/<name>`).
        human_minutes: Expert time estimate (> 0); its rationale goes in the README.
        params: Task parameters, copied into `TaskVariant.params`.
        time_limit_s: The attempt's budget; None means `default_time_limit_s(human_minutes)`.
        normalization: None means the family's (for binary families, `BINARY`).
        success_threshold: None means the family's.
        human_minutes_source: "estimate" or "baseline".
    """

    name: str
    human_minutes: float
    params: Mapping[str, Any] = field(default_factory=dict)
    time_limit_s: int | None = None
    normalization: Normalization | None = None
    success_threshold: float | None = None
    human_minutes_source: str = "estimate"


class FamilyBase(TaskFamily):
    """A `TaskFamily` whose tasks are the rows of `specs` (graded variants).

    Subclasses set `specs` and implement `score_variant`. Instructions are the family's
    `instructions.md` followed by `instructions/<variant>.md` when that file exists, with
    each `{{param}}` replaced by the variant's param of that name, and `{{variant}}` by its
    name (other text, braces included, stays as it is). `human_minutes` defaults to the first spec's.
    `normalization` defaults to `BINARY`. Pass/fail scorers return 1.0 or 0.0.
    """

    specs: ClassVar[tuple[VariantSpec, ...]] = ()
    normalization: ClassVar[Normalization | None] = BINARY

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.specs and not cls.__dict__.get("human_minutes"):
            cls.human_minutes = cls.specs[0].human_minutes

    def spec(self, name: str) -> VariantSpec:
        """Return the spec of variant `name`.

        Raises:
            FamilyError: no such variant.
        """
        for spec in self.specs:
            if spec.name == name:
                return spec
        raise FamilyError(f"family {self.name}: no task variant {name!r}")

    def instructions(self, variant: str = "main") -> str:
        """Return the instructions of `variant` (family text + the variant's own text)."""
        text = (self.root / "instructions.md").read_text()
        extra = self.root / "instructions" / f"{variant}.md"
        if extra.is_file():
            text = text.rstrip("\n") + "\n\n" + extra.read_text()
        params = {"variant": variant, **(dict(self.spec(variant).params) if self.specs else {})}
        return _PARAM.sub(lambda m: str(params.get(m[1], m[0])), text)

    def variants(self) -> list[TaskVariant]:
        """Return one `TaskVariant` per spec.

        Raises:
            FamilyError: no specs, a duplicate name, or human minutes that are not > 0.
        """
        if not self.specs:
            raise FamilyError(f"family {self.name}: family.py sets no specs")
        seen: set[str] = set()
        out = []
        for spec in self.specs:
            if spec.name in seen:
                raise FamilyError(f"family {self.name}: variant {spec.name!r} is defined twice")
            seen.add(spec.name)
            if not spec.human_minutes or spec.human_minutes <= 0:
                raise FamilyError(
                    f"family {self.name}: variant {spec.name!r} must set human_minutes > 0"
                )
            limit = spec.time_limit_s or default_time_limit_s(spec.human_minutes)
            out.append(
                TaskVariant(
                    family=self.name,
                    name=spec.name,
                    instructions=self.instructions(spec.name),
                    normalization=spec.normalization or self.active_normalization(),
                    human_minutes=float(spec.human_minutes),
                    time_limit_s=limit,
                    params=dict(spec.params),
                    human_minutes_source=spec.human_minutes_source,
                    success_threshold=(
                        self.success_threshold
                        if spec.success_threshold is None
                        else spec.success_threshold
                    ),
                )
            )
        return out

    def score(self, workspace: Path, variant: TaskVariant) -> float | ScoreResult:  # type: ignore[override]
        """Score `workspace` for `variant` through `score_variant`.

        Raises:
            InvalidSubmission: the solution is missing, crashes or is malformed.
        """
        return self.score_variant(workspace, variant, self.spec(variant.name))

    def score_variant(
        self, workspace: Path, variant: TaskVariant, spec: VariantSpec
    ) -> float | ScoreResult:
        """Return the raw score of `workspace` on the task `spec` (subclasses implement it).

        Raises:
            InvalidSubmission: the solution is missing, crashes or is malformed.
        """
        raise NotImplementedError
