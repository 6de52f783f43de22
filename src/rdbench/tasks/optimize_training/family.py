"""optimize_training: make a tiny language model's training reach its target loss faster.

A CPU analogue of RE-Bench's "optimize LLM foundry" environment. The agent gets a training
script for a fixed small GPT on the shared corpus; the scorer runs the agent's `train.py`
in a one-shot jail on training tokens it relabels with a fresh secret permutation, times
the whole command (wall clock, 2 cores), then evaluates the saved weights itself, with a
trusted copy of the architecture, on hidden test text relabelled the same way. A model
above the target loss is invalid. Score: the wall time divided by a yardstick's time
measured in the same scoring (a fixed training workload run before and after the
solution), normalized on a log scale (lower is better).

The twist: each run's relabelling is drawn after the solution's files are frozen and
nothing the solution receives depends on it, so weights trained ahead of time are useless
unless the run recovers the labelling from the data; only the workspace's small `.py`
files (at most 8 KB once compressed) reach the scoring jail. See README.md, "What an
agent might try".
"""

from __future__ import annotations

import hashlib
import json
import lzma
import math
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdbench.errors import InvalidSubmission, TimingUnreliable
from rdbench.sandbox import JailSpec, jail_argv
from rdbench.tasks._priority import autogroup_of as _autogroup_of
from rdbench.tasks._priority import descendants as _descendants
from rdbench.tasks._priority import raise_session_priority as _raise_session_priority
from rdbench.tasks.contract import (
    Normalization,
    Resources,
    ScoreResult,
    TaskFamily,
    TaskVariant,
)

#: Largest total size of the `.py` files copied into the scoring jail.
MAX_SOURCE_BYTES = 64 * 1024
#: Largest lzma-compressed size of those files together: a bound on the information they
#: carry, whatever its encoding (pretrained weights compress no further; code does, 3-5x).
MAX_SOURCE_COMPRESSED_BYTES = 8 * 1024
#: Largest weights file the scorer reads back (the model's float32 state_dict is 1.7 MB).
MAX_WEIGHTS_BYTES = 32 * 1024 * 1024
#: The evaluation's timeout on a quiet machine (it takes about 5 s); scaled like training's.
EVAL_TIMEOUT_S = 120.0
#: A yardstick that takes longer than this means the machine is far too busy to time.
YARDSTICK_TIMEOUT_S = 600.0
#: Training's timeout is twice the starting solution's expected time at the machine's
#: current speed (the start's anchor times the yardstick), at least `train_timeout_s` of
#: params.json and at most this.
MAX_TRAIN_TIMEOUT_S = 1800.0
#: Runs are repeated while they total less than this (seconds); the fastest one counts.
REPEAT_WITHIN_S = 75.0
MAX_RUNS = 3
#: Training steps of the yardstick on one thread and on two threads (about 2 s each on
#: the reference machine; see yardstick.py).
YARDSTICK_STEPS = (30, 50)
#: The yardstick's two measurements (before and after the solution) may differ by this
#: fraction of the smaller one; beyond it the timing is reported unreliable.
YARDSTICK_MAX_SPREAD = 0.25
#: The model's context (fixed by the architecture in evaluate.py and workspace/model.py).
CONTEXT = 128
#: The model's vocabulary (ids 0..76; see evaluate.py and rdbench.tasks._corpus).
VOCAB_SIZE = 77
#: How often a running jail's CPU time is sampled (seconds).
_CPU_SAMPLE_S = 0.25
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Bumped when the cached plain data's layout changes.
_DATA_FORMAT = 2


@dataclass(frozen=True)
class Run:
    """One timed training run: wall and CPU seconds, and the trained model's hidden loss."""

    seconds: float
    cpu_seconds: float
    loss: float

    @property
    def parallelism(self) -> float:
        """Cores the run kept busy on average (CPU seconds / wall seconds)."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 1.0


class OptimizeTraining(TaskFamily):
    name = "optimize_training"
    summary = "Make a tiny LM's training reach its target loss in less wall time on 2 cores"
    human_minutes = 300.0
    time_limit_s = 8 * 3600
    resources = Resources(cores=2, memory_mb=4096, disk_mb=2048)
    final_score_policy = "best"
    timing_sensitive = True
    quick = False
    # Ratios of a scored run's wall time to the yardstick's, measured on the 2-core dev VM
    # on 2026-12-02 (README.md, "Calibration"): start 54.05-60.7, reference 10.05-12.83 over
    # six CI and check runs; the anchors sit at the middle of each range.
    normalization = Normalization(start=57.5, reference=11.3, transform="log", direction="lower")
    # The reference's ratio moved by 28% over one day on one machine (10.05 to 12.83, ±0.073
    # of normalized score around the middle), more than check's default 0.05 allows: the
    # tolerance is the measured reproducibility, with room (README.md, "Calibration").
    check_tolerance = 0.10

    # -- hidden parameters and data --------------------------------------------------------
    def params(self) -> dict:
        """Return the hidden scoring parameters (target loss, test windows, timeout)."""
        return json.loads((self.hidden_dir / "params.json").read_text())

    def _data_dir(self) -> Path:
        params = self.params()
        # only what shapes the data: changing the target or a timeout rebuilds nothing
        key = {"format": _DATA_FORMAT, "test_windows": params["test_windows"]}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
        return self.cache_dir / f"data-{digest}"

    def prepare(self) -> None:
        """Encode the train split and the hidden test windows once (cached, not relabelled).

        Each scored run relabels copies of these with its own fresh permutation.
        """
        data = self._data_dir()
        if (data / "test_windows.npy").exists():
            return
        from rdbench.tasks._corpus import corpus_splits, encode_array

        train_text, _, test_text = corpus_splits()
        tmp = Path(tempfile.mkdtemp(dir=self.cache_dir))
        np.save(tmp / "train.npy", encode_array(train_text))
        np.save(tmp / "test_windows.npy", test_windows(encode_array(test_text), self.params()))
        try:
            os.rename(tmp, data)  # atomic: a concurrent prepare() never sees half the data
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- scoring ----------------------------------------------------------------------------
    def score(self, workspace: Path, variant: TaskVariant) -> ScoreResult:
        """Time the workspace's train.py in a jail against the yardstick; return the ratio.

        The sources are frozen first (copied out of the workspace). Every run then draws a
        fresh secret relabelling of the token ids (train.py's `--seed` is a fixed public
        number, unrelated to it), relabels the training tokens and the hidden test windows with it,
        times train.py, and evaluates the weights it wrote. A run shorter than
        `REPEAT_WITHIN_S` is repeated (at most `MAX_RUNS` runs, while the runs so far total
        under `REPEAT_WITHIN_S`); every run's model must meet the target. The yardstick
        (`yardstick.py`) runs before the first run and after the last.

        Returns:
            ScoreResult: raw = the fastest run's wall seconds / the yardstick's seconds
            (its one- and two-thread times interpolated by the run's CPU/wall ratio);
            details = the seconds, CPU seconds, losses and yardstick times.

        Raises:
            InvalidSubmission: no train.py, sources too large, a run crashes or times out,
                its output is not a regular file of fitting weights, or a loss is above the
                target.
            TimingUnreliable: the yardstick's two measurements disagree by more than
                `YARDSTICK_MAX_SPREAD` (the machine's load changed during the scoring).
        """
        if not (workspace / "train.py").is_file():
            raise InvalidSubmission("train.py is missing from the workspace")
        self.prepare()
        params = self.params()
        plain = self._data_dir()
        plain_train = np.load(plain / "train.npy")
        plain_windows = np.load(plain / "test_windows.npy")
        target = float(params["target_loss"])
        runs: list[Run] = []
        with tempfile.TemporaryDirectory(prefix="rdbench-training-") as tmp:
            code = copy_sources(workspace, Path(tmp) / "code")  # frozen from here on
            before = self._yardstick(plain / "train.npy")
            timeout = self._train_timeout(before[0], float(params["train_timeout_s"]))
            while len(runs) < MAX_RUNS and (
                not runs or sum(r.seconds for r in runs) < REPEAT_WITHIN_S
            ):
                run_dir = Path(tmp) / f"run{len(runs)}"
                run = self._scored_run(code, run_dir, plain_train, plain_windows, timeout)
                if run.loss > target:
                    raise InvalidSubmission(
                        f"the trained model's loss on the hidden text is {run.loss:.4f}, above "
                        f"the target {target:.2f} (training took {run.seconds:.1f}s)"
                    )
                runs.append(run)
            after = self._yardstick(plain / "train.npy")
        return timing_result(runs, before, after)

    def _scored_run(
        self,
        code: Path,
        run_dir: Path,
        plain_train: np.ndarray,
        plain_windows: np.ndarray,
        timeout: float,
    ) -> Run:
        """Relabel the data afresh, time one training run (killed at `timeout` seconds),
        evaluate what it wrote."""
        relabel = fresh_relabelling(VOCAB_SIZE)
        seed = int(self.params()["train_seed"])  # public, unrelated to the relabelling
        for sub in ("inputs", "out", "hidden", "checked"):
            (run_dir / sub).mkdir(parents=True)
        os.chmod(run_dir / "out", 0o777)  # the jailed user writes the weights here
        np.save(run_dir / "inputs" / "train.npy", relabel[plain_train])
        np.save(run_dir / "hidden" / "test.npy", relabel[plain_windows])
        del relabel  # nothing of it leaves the host: not in argv, files or messages
        seconds, cpu = self._timed_training(
            code, run_dir / "inputs", run_dir / "out", seed, timeout
        )
        weights = run_dir / "checked" / "model.pt"
        weights.write_bytes(read_jail_output(run_dir / "out" / "model.pt", MAX_WEIGHTS_BYTES))
        base_timeout = float(self.params()["train_timeout_s"])
        loss = self._evaluate(weights, run_dir / "hidden", EVAL_TIMEOUT_S * timeout / base_timeout)
        return Run(seconds=seconds, cpu_seconds=cpu, loss=loss)

    def _train_timeout(self, yardstick_t1: float, base: float) -> float:
        """Training's timeout: twice the starting solution's expected seconds at the speed
        the yardstick just measured, within [`base`, `MAX_TRAIN_TIMEOUT_S`], so that a
        busy machine does not turn a slow run into an invalid submission."""
        assert self.normalization is not None
        expected_start = self.normalization.start * yardstick_t1
        return min(MAX_TRAIN_TIMEOUT_S, max(base, 2.0 * expected_start))

    def _timed_training(
        self, code: Path, inputs: Path, out_dir: Path, seed: int, timeout: float
    ) -> tuple[float, float]:
        """Run train.py jailed; return (wall seconds, CPU seconds of the whole jail).

        Its output is discarded: the scorer never echoes what the solution prints.
        """
        spec = JailSpec(
            workspace=code,
            ro_binds={str(inputs): "/rdbench/data"},
            rw_binds={str(out_dir): "/rdbench/out"},
            memory_mb=self.resources.memory_mb * 2,
            max_processes=self.resources.max_processes,
        )
        argv = [
            sys.executable, "train.py",
            "--data", "/rdbench/data/train.npy",
            "--out", "/rdbench/out/model.pt",
            "--seed", str(seed),
        ]  # fmt: skip
        seconds, cpu, code_or_none = _run_timed(jail_argv(spec, argv), timeout)
        if code_or_none is None:
            raise InvalidSubmission(f"training did not finish within {timeout:.0f}s")
        if code_or_none != 0:
            raise InvalidSubmission(
                f"train.py exited with code {code_or_none} (the scorer does not show its "
                "output: run it in your workspace to see why)"
            )
        return seconds, cpu

    def _yardstick(self, train: Path) -> tuple[float, float]:
        """Run the trusted yardstick jailed like a solution; return its (t1, t2) seconds.

        Raises:
            TimingUnreliable: the yardstick did not finish or printed no times (it cannot
                fail on its own, so the machine is in trouble, e.g. out of memory).
        """
        spec = JailSpec(
            ro_binds={
                str(train): "/rdbench/data/train.npy",
                str(self.root / "yardstick.py"): "/rdbench/yardstick.py",
                str(self.root / "evaluate.py"): "/rdbench/evaluate.py",
            },
            memory_mb=self.resources.memory_mb * 2,
            max_processes=self.resources.max_processes,
        )
        argv = [sys.executable, "/rdbench/yardstick.py", "/rdbench/data/train.npy",
                *(str(s) for s in YARDSTICK_STEPS)]  # fmt: skip
        with tempfile.TemporaryFile() as out:
            _, _, exit_code = _run_timed(jail_argv(spec, argv), YARDSTICK_TIMEOUT_S, stdout=out)
            out.seek(0)
            text = out.read(4096).decode(errors="replace")
        if exit_code is None:
            raise TimingUnreliable(
                "timing unreliable: the machine is too busy (the yardstick took over "
                f"{YARDSTICK_TIMEOUT_S:.0f}s)"
            )
        try:
            times = json.loads(text.strip().splitlines()[-1])
            t1, t2 = float(times["t1"]), float(times["t2"])
        except (ValueError, IndexError, KeyError, TypeError) as ex:
            raise TimingUnreliable(
                f"timing unreliable: the yardstick failed (exit {exit_code})"
            ) from ex
        if not (t1 > 0 and t2 > 0):
            raise TimingUnreliable("timing unreliable: the yardstick measured no time")
        return t1, t2

    def _evaluate(self, weights: Path, hidden: Path, timeout: float = EVAL_TIMEOUT_S) -> float:
        """Return the trusted evaluator's hidden loss of `weights`.

        Raises:
            InvalidSubmission: the weights do not load into the task's model, or their
                loss is not finite.
            TimingUnreliable: the evaluation (trusted code, its time independent of the
                weights' values) ran past `timeout`: the machine is too busy.
        """
        spec = JailSpec(
            ro_binds={
                str(weights): "/rdbench/model.pt",
                str(hidden): "/rdbench/hidden",
                str(self.root / "evaluate.py"): "/rdbench/evaluate.py",
            },
            memory_mb=self.resources.memory_mb * 2,
            max_processes=self.resources.max_processes,
        )
        argv = [
            sys.executable, "/rdbench/evaluate.py", "/rdbench/model.pt", "/rdbench/hidden/test.npy",
        ]  # fmt: skip
        with tempfile.TemporaryFile() as out:  # run like the timed jails: same priority
            _, _, exit_code = _run_timed(jail_argv(spec, argv), timeout, stdout=out)
            out.seek(0)
            text = out.read(1 << 16).decode(errors="replace")
        if exit_code is None:
            raise TimingUnreliable(
                f"timing unreliable: the machine is too busy (the evaluation took over "
                f"{timeout:.0f}s)"
            )
        try:
            result = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError) as ex:
            # evaluate.py reports every fault of the weights itself: this is ours
            raise InvalidSubmission("the evaluation of the saved weights failed") from ex
        if "error" in result:
            raise InvalidSubmission(str(result["error"]))
        return float(result["loss"])


def fresh_relabelling(vocab_size: int) -> np.ndarray:
    """Draw a secret permutation of `vocab_size` ids, fresh per call.

    It comes from the operating system's entropy (`secrets`), so nothing the solution
    sees, stores or computes ahead of time determines it.

    Returns:
        `relabel` (uint8): `relabel[plain_id]` is the id the run sees.
    """
    rng = np.random.default_rng(secrets.randbits(128))
    return rng.permutation(vocab_size).astype(np.uint8)


def yardstick_seconds(t1: float, t2: float, parallelism: float) -> float:
    """The yardstick's time for a run that kept `parallelism` cores busy on average.

    Geometric interpolation between the one-thread time `t1` (parallelism <= 1) and the
    two-thread time `t2` (parallelism >= 2): a solution's wall time on a loaded machine
    stretches like the yardstick's work with the same threading.
    """
    p = min(2.0, max(1.0, parallelism))
    return math.exp((2.0 - p) * math.log(t1) + (p - 1.0) * math.log(t2))


def timing_result(
    runs: list[Run], before: tuple[float, float], after: tuple[float, float]
) -> ScoreResult:
    """Combine the runs and the yardstick's two measurements into the score.

    Returns:
        ScoreResult whose raw is the smallest ratio of a run's seconds to the yardstick's
        seconds at that run's parallelism (the yardstick times are the geometric means of
        the two measurements).

    Raises:
        TimingUnreliable: the two measurements of t1 or of t2 differ by more than
            `YARDSTICK_MAX_SPREAD` of the smaller one.
    """
    spread = max(max(b, a) / min(b, a) - 1.0 for b, a in zip(before, after))
    t1 = math.sqrt(before[0] * after[0])
    t2 = math.sqrt(before[1] * after[1])
    ratios = [run.seconds / yardstick_seconds(t1, t2, run.parallelism) for run in runs]
    best = min(range(len(runs)), key=ratios.__getitem__)
    details = {
        "seconds": round(runs[best].seconds, 3),
        "yardstick_seconds": round(yardstick_seconds(t1, t2, runs[best].parallelism), 4),
        "run_seconds": [round(r.seconds, 3) for r in runs],
        "run_cpu_seconds": [round(r.cpu_seconds, 3) for r in runs],
        "run_losses": [round(r.loss, 4) for r in runs],
        "yardstick_t1": [round(before[0], 4), round(after[0], 4)],
        "yardstick_t2": [round(before[1], 4), round(after[1], 4)],
        "yardstick_spread": round(spread, 4),
    }
    if spread > YARDSTICK_MAX_SPREAD:
        error = TimingUnreliable(f"timing unreliable: yardstick spread {spread:.0%}")
        error.details = {"raw": ratios[best], **details}  # type: ignore[attr-defined]
        raise error  # (the measurements stay on the error for calibrate.py, not the agent)
    return ScoreResult(raw=ratios[best], details=details)


def read_jail_output(path: Path, limit: int) -> bytes:
    """Read a file a jail wrote, without following links or blocking on special files.

    Returns:
        The file's bytes.

    Raises:
        InvalidSubmission: the file is missing, a symbolic link, not a regular file, has
            more than one name (a hard link), or is larger than `limit` bytes.
    """
    name = path.name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as ex:
        raise InvalidSubmission(f"train.py finished without writing {name} to --out") from ex
    except OSError as ex:
        if os.path.islink(path):
            raise InvalidSubmission(f"{name} in --out is a symbolic link, not a file") from ex
        raise InvalidSubmission(f"{name} in --out cannot be read as a file") from ex
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidSubmission(f"{name} in --out is not a regular file")
        if info.st_nlink != 1:
            raise InvalidSubmission(f"{name} in --out is a hard link, not a file of its own")
        if info.st_size > limit:
            raise InvalidSubmission(
                f"{name} is {info.st_size // 2**20} MB, above the {limit // 2**20} MB allowed"
            )
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InvalidSubmission(f"{name} grew above the {limit // 2**20} MB allowed")
        return b"".join(chunks)
    finally:
        os.close(fd)


def test_windows(tokens: np.ndarray, params: dict) -> np.ndarray:
    """Return `params["test_windows"]` windows of CONTEXT + 1 tokens spread evenly over `tokens`.

    Evenly spaced windows cover every part of the hidden split at a fraction of the cost of
    evaluating all of it.
    """
    count, length = int(params["test_windows"]), CONTEXT + 1
    starts = np.linspace(0, len(tokens) - length, count).astype(np.int64)
    return tokens[starts[:, None] + np.arange(length)]


def copy_sources(workspace: Path, dest: Path) -> Path:
    """Copy the workspace's `.py` files (only those) into `dest` and return `dest`.

    Only source code reaches the scoring jail, and only so much of it: at most
    `MAX_SOURCE_BYTES` in all and `MAX_SOURCE_COMPRESSED_BYTES` once lzma-compressed
    together, which bounds the information the files can carry (e.g. pretrained weights,
    however they are encoded) while leaving room for far more code than training needs.

    Raises:
        InvalidSubmission: the `.py` files are larger than either limit.
    """
    files = [
        p for p in sorted(workspace.rglob("*.py"))
        if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts
    ]  # fmt: skip
    contents = {path: path.read_bytes() for path in files}
    total = sum(len(data) for data in contents.values())
    if total > MAX_SOURCE_BYTES:
        raise InvalidSubmission(
            f"the workspace's .py files total {total // 1024} KB, above the "
            f"{MAX_SOURCE_BYTES // 1024} KB allowed (only source code may reach the scorer)"
        )
    compressed = compressed_size(list(contents.values()))
    if compressed > MAX_SOURCE_COMPRESSED_BYTES:
        raise InvalidSubmission(
            f"the workspace's .py files compress to {compressed // 1024} KB, above the "
            f"{MAX_SOURCE_COMPRESSED_BYTES // 1024} KB allowed (only source code may reach "
            "the scorer, not data or weights encoded in it)"
        )
    for path, data in contents.items():
        target = dest / path.relative_to(workspace)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    dest.mkdir(parents=True, exist_ok=True)
    return dest


def compressed_size(blobs: list[bytes]) -> int:
    """Return the size in bytes of `blobs` concatenated and lzma-compressed (preset 9e)."""
    return len(lzma.compress(b"".join(blobs), preset=9 | lzma.PRESET_EXTREME))


def _run_timed(
    argv: list[str], timeout: float, stdout: object = subprocess.DEVNULL
) -> tuple[float, float, int | None]:
    """Run `argv`, raising its session's CPU priority; wait for it, killing it at `timeout`.

    The CPU time is sampled from /proc every `_CPU_SAMPLE_S` while the process tree runs
    (bwrap's outer process never reaps the jail's processes, so `wait4` cannot see it):
    the most seen of the tree's user+system time, its reaped children's included.

    Returns:
        (wall seconds from launch to exit, CPU seconds of the process tree, exit code or
        None when it was killed for the timeout).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.DEVNULL
    )
    done, killed = threading.Event(), threading.Event()
    cpu = [0.0]

    def watch() -> None:  # samples the CPU time; kills the tree at the timeout
        while not done.wait(_CPU_SAMPLE_S):
            cpu[0] = max(cpu[0], _tree_cpu_seconds(proc.pid))
            if time.perf_counter() - start > timeout and not done.is_set():
                killed.set()
                os.kill(proc.pid, signal.SIGKILL)  # not yet reaped: the pid is still ours
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        _raise_session_priority(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)  # the exact end of the run
    finally:
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    total_cpu = max(cpu[0], usage.ru_utime + usage.ru_stime)
    return seconds, total_cpu, None if killed.is_set() else proc.returncode


def _tree_cpu_seconds(pid: int) -> float:
    """User+system seconds of `pid` and its live descendants, each with its reaped children.

    A reaped process's time is in its parent's cutime/cstime and a live one's in its own
    utime/stime, so nothing is counted twice; orphans are reaped by the jail's init, which
    is in the tree.
    """
    total = 0
    for each in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone between the listing and the read
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / _CLOCK_TICKS
