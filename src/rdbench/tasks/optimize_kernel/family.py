"""optimize_kernel: make a gated, decaying scan as fast as possible on 2 CPU cores.

A CPU analogue of RE-Bench's kernel-optimization environment. The twist: the running
operation depends on a gate carried along the sequence (accumulate with decay, running
max, or reset), so a textbook prefix sum (`np.cumsum`, `np.maximum.accumulate`) is wrong.

Score: the ratio of the solution's median time to a yardstick's (the reference solution,
run in a jail of its own on the same input, interleaved with the solution's runs and sized
to a similar duration), after checking every output against the exact result; normalized
on a log scale (a lower ratio is better). See README.md for why the yardstick tracks.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import secrets
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rdbench.errors import FamilyError, InvalidSubmission, TimingUnreliable
from rdbench.sandbox import JailSpec, jail_argv
from rdbench.tasks._safe_io import read_jail_output
from rdbench.tasks.contract import (
    Normalization,
    Resources,
    ScoreResult,
    TaskFamily,
    TaskVariant,
)

READY_TIMEOUT_S = 180.0  # import + compile + warm-up
RUN_TIMEOUT_S = 60.0  # one timed call
#: Rounds (one solution run + one yardstick run each): at least MIN_ROUNDS, at most
#: MAX_ROUNDS, while the timed runs so far total under TIME_BUDGET_S.
MIN_ROUNDS, MAX_ROUNDS, TIME_BUDGET_S = 3, 9, 6.0
#: The yardstick's per-pass times may spread (interquartile range / median) this much;
#: beyond it the machine is too busy to time anything and the scoring says so.
MAX_YARDSTICK_SPREAD = 0.25
#: Beyond this 1-minute load average per usable core the machine is overloaded: on the
#: dev VM at load 25 on 2 cores the reference timed against itself came out at ratio 0.51
#: with a yardstick spread of only 23%. Two CPU-bound processes beside the scorer on an
#: otherwise idle 2-core machine make a load of about 3.5.
MAX_LOAD_PER_CORE = 3.0
#: Rounds measured again when new processes of the solution appear during a run.
MAX_TAINTED_ROUNDS = 2


class OptimizeKernel(TaskFamily):
    name = "optimize_kernel"
    summary = "Speed up a gated decaying scan (Python -> anything that runs on 2 cores)"
    human_minutes = 240.0
    time_limit_s = 8 * 3600
    resources = Resources(cores=2, memory_mb=4096, disk_mb=1024)
    final_score_policy = "best"
    timing_sensitive = True
    quick = True
    # Ratios (solution time / the yardstick's time per pass, measured in the same scoring).
    # The start's sits between its quiet (37) and loaded (43) ratios from bench/timing.py
    # (README.md). The reference *is* the yardstick's code, so its ratio is 1 up to noise
    # on any machine.
    normalization = Normalization(start=40.0, reference=1.0, transform="log", direction="lower")

    def _params(self) -> dict:
        return json.loads((self.hidden_dir / "params.json").read_text())

    def _lib_path(self) -> Path:
        source = (self.hidden_dir / "trusted_check.c").read_bytes()
        return self.cache_dir / f"trusted-check-{hashlib.sha256(source).hexdigest()[:12]}.so"

    def prepare(self) -> None:
        """Build the host's trusted check (`hidden/trusted_check.c`: the exact scan and the
        comparison in one pass) once, and test it against the exact Python scan on seeded
        data.

        Raises:
            FamilyError: no C compiler, or the compiled scan disagrees with the exact one.
        """
        lib = self._lib_path()
        if lib.exists():
            return
        tmp = lib.with_suffix(f".{os.getpid()}.tmp")
        source = self.hidden_dir / "trusted_check.c"
        try:
            subprocess.run(
                ["cc", "-O2", "-shared", "-fPIC", "-o", str(tmp), str(source), "-lm"],
                check=True, capture_output=True, timeout=120,
            )
        except (OSError, subprocess.SubprocessError) as ex:
            raise FamilyError(f"family {self.name}: cannot compile its trusted scan with cc "
                              f"({type(ex).__name__}); install a C compiler") from ex
        params = self._params()
        x, gates = np.empty(200_000), np.empty(200_000, dtype=np.uint8)
        _dataset(np.random.default_rng(params["seed"]), params, x, gates)
        decay = float(params["decay"])
        exact = _trusted_scan(x, gates, decay)
        wrong = exact.copy()
        wrong[-1] += 1e-3
        if not (np.array_equal(_c_scan(tmp, x, gates, decay), exact)
                and _c_check(tmp, x, gates, decay, exact, 0.0, 0.0) == 0
                and _c_check(tmp, x, gates, decay, wrong, 1e-6, 1e-6) == 1):
            tmp.unlink(missing_ok=True)
            raise FamilyError(f"family {self.name}: the compiled check disagrees with the exact "
                              "scan")
        os.replace(tmp, lib)  # atomic: a concurrent prepare() never sees half a library

    def score(self, workspace: Path, variant: TaskVariant) -> ScoreResult:
        """Time `solution.scan` against the yardstick on fresh hidden inputs.

        Returns:
            `ScoreResult(raw=ratio, details)`: the ratio of the solution's median time to
            the yardstick's median time per pass, with the seconds behind it.

        Raises:
            InvalidSubmission: no solution.py, it fails to import or crashes, times out,
                leaves processes working after `scan` returns, or any output is wrong.
            TimingUnreliable: the yardstick's runs disagree (the machine is too busy).
        """
        if not (workspace / "solution.py").is_file():
            raise InvalidSubmission("solution.py is missing from the workspace")
        self.prepare()
        params = self._params()
        shm = Path("/dev/shm")
        base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        with tempfile.TemporaryDirectory(prefix="rdbench-kernel-", dir=base) as tmp:
            session = _Session(self, Path(os.path.realpath(tmp)), workspace, params)
            try:
                return session.run()
            finally:
                session.close()

    def replay_steps(self) -> list[tuple[str, dict[str, bytes]]]:
        """Replay: first a faster pure-Python loop, then the C reference."""
        lists = (self.root / "replay" / "solution_lists.py").read_bytes()
        reference = {
            p.name: p.read_bytes() for p in sorted(self.reference_dir.iterdir()) if p.is_file()
        }
        return [
            ("loop over Python lists instead of numpy scalars", {"solution.py": lists}),
            ("move the scan to C through ctypes", reference),
        ]


@dataclass
class _Jail:
    """One running runner.py in a jail, and the host processes that make it up."""

    label: str
    proc: subprocess.Popen
    out_dir: Path
    known: set[int] = field(default_factory=set)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(command.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # the next wait reports the exit

    def wait_byte(self, timeout: float, phase: str) -> None:
        """Block until the runner writes anything (or exits, or `timeout` passes)."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            raise InvalidSubmission(f"timed out after {timeout:.0f}s {phase}")
        if not os.read(self.proc.stdout.fileno(), 1):
            code = self.proc.wait()
            raise InvalidSubmission(
                f"the solution exited (code {code}) {phase}; run `python check.py` in your "
                "workspace to see its error"
            )

    def drain(self) -> bytes:
        """Read whatever the (frozen) jail has written so far."""
        assert self.proc.stdout is not None
        chunks = []
        while select.select([self.proc.stdout], [], [], 0)[0]:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def freeze(self) -> None:
        """Stop the processes known to make up the jail (fast: no /proc scan)."""
        for pid in self.known:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass

    def freeze_new(self) -> bool:
        """Stop every descendant of the jail not stopped yet; return True if there were
        processes the last `freeze` did not know (they may have run on)."""
        found = False
        while True:
            current = _descendants(self.proc.pid)
            new = current - self.known
            # forget processes that are gone: their pids may be reused outside the jail
            self.known = current
            if not new:
                break
            found = True
            for pid in new:
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    pass
        _wait_stopped(self.known)
        return found

    def thaw(self) -> None:
        for pid in self.known:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.thaw()
            self.proc.kill()
            self.proc.wait()


class _Session:
    """One scoring: the solution's jail, the yardstick's jail and the interleaved rounds."""

    def __init__(self, family: OptimizeKernel, tmp: Path, workspace: Path, params: dict) -> None:
        self.family = family
        self.tmp = tmp
        self.params = params
        self.n = int(params["n"])
        self.decay = float(params["decay"])
        self.rng = np.random.default_rng(secrets.randbits(64))  # new inputs every scoring
        self.lib = family._lib_path()
        for sub in ("stage", "in", "out-solution", "out-yardstick"):
            (tmp / sub).mkdir()
        os.chmod(tmp / "in", 0o755)
        os.chmod(tmp / "out-solution", 0o777)  # the jailed user writes its output here
        os.chmod(tmp / "out-yardstick", 0o777)
        self.jails: list[_Jail] = []
        yardstick_ws = tmp / "yardstick-workspace"
        from rdbench.tasks.workspace import materialize

        materialize(family, yardstick_ws, "reference")
        self.yardstick = self._start("yardstick", yardstick_ws, tmp / "out-yardstick")
        self.solution = self._start("solution", workspace, tmp / "out-solution")

    def _start(self, label: str, workspace: Path, out_dir: Path) -> _Jail:
        resources = self.family.resources
        spec = JailSpec(
            workspace=workspace,
            ro_binds={str(self.family.root / "runner.py"): "/rdbench/runner.py"},
            # live: inputs appear after the clock starts, outputs are read before the end
            live_ro_binds={str(self.tmp / "in"): "/rdbench/in"},
            live_rw_binds={str(out_dir): "/rdbench/out"},
            memory_mb=resources.memory_mb * 2,
            max_processes=resources.max_processes,
        )
        proc = subprocess.Popen(
            jail_argv(spec, [sys.executable, "/rdbench/runner.py"]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # never shown to anyone: it may carry what it read
            bufsize=0,
        )
        jail = _Jail(label, proc, out_dir)
        self.jails.append(jail)
        return jail

    def close(self) -> None:
        for jail in self.jails:
            jail.kill()

    def _ready(self, jail: _Jail) -> None:
        phase = ("while importing solution.py and warming up" if jail is self.solution
                 else "while starting the yardstick")
        try:
            jail.wait_byte(READY_TIMEOUT_S, phase)
        except InvalidSubmission:
            if jail is self.yardstick:
                raise FamilyError(
                    "family optimize_kernel: its yardstick (the reference solution) does not "
                    "start here; run `rdbench check optimize_kernel`"
                ) from None
            raise
        jail.freeze_new()  # nothing of the solution runs while the other jail is timed
        jail.drain()

    def _timed(self, jail: _Jail, name: str, repeats: int, publish: bool) -> tuple[float, bool]:
        """One timed run: returns (seconds, tainted). The clock runs from before the input
        is published (`publish`: moved from the staging folder into the jails' view) until
        every known process of the jail is stopped; `tainted` says that processes the
        freeze did not know appeared (they may have worked on after it)."""
        jail.thaw()
        start = time.perf_counter()
        if publish:
            os.rename(self.tmp / "stage" / name, self.tmp / "in" / name)
        jail.send(f"go {name} {self.n} {self.decay!r} {repeats}")
        jail.wait_byte(RUN_TIMEOUT_S * repeats, "during a timed run of scan")
        jail.freeze()
        seconds = time.perf_counter() - start
        tainted = jail.freeze_new() if jail is self.solution else False
        jail.drain()
        return seconds, tainted

    def _stage(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Write a fresh random input straight into a staging file; return (x, gates)."""
        path = self.tmp / "stage" / name
        with open(path, "wb") as f:
            f.truncate(9 * self.n)
        x = np.memmap(path, dtype=np.float64, mode="r+", shape=(self.n,))
        gates = np.memmap(path, dtype=np.uint8, mode="r+", offset=8 * self.n, shape=(self.n,))
        _dataset(self.rng, self.params, x, gates)
        return x, gates

    def _check(self, name: str, x: np.ndarray, gates: np.ndarray) -> None:
        raw = read_jail_output(self.tmp / "out-solution" / name, 8 * self.n,
                               "the output of scan")
        output = raw.view(np.float64)
        rtol, atol = float(self.params["rtol"]), float(self.params["atol"])
        if _c_check(self.lib, x, gates, self.decay, output, rtol, atol):
            raise InvalidSubmission(
                "wrong output: scan's result differs from the exact sequential scan (relative "
                f"and absolute tolerance {rtol:g}, {atol:g}; NaN is wrong); test it with "
                "`python check.py`"
            )

    def run(self) -> ScoreResult:
        for jail in (self.yardstick, self.solution):
            self._ready(jail)
        load_before = os.getloadavg()[0]
        solution_s: list[float] = []
        pass_s: list[float] = []
        repeats: list[int] = []
        tainted_rounds = 0
        started = time.perf_counter()
        pilot_s = self._pilot()
        round_no = 0
        while len(solution_s) < MAX_ROUNDS and (
            len(solution_s) < MIN_ROUNDS or sum(solution_s) + sum(
                p * m for p, m in zip(pass_s, repeats)) < TIME_BUDGET_S
        ):
            name = f"r{round_no}"
            round_no += 1
            x, gates = self._stage(name)
            seconds, tainted = self._timed(self.solution, name, 1, publish=True)
            if tainted:
                tainted_rounds += 1
                if tainted_rounds > MAX_TAINTED_ROUNDS:
                    raise InvalidSubmission(
                        "processes started by scan kept running after it returned; finish "
                        "all work before scan returns"
                    )
                self._cleanup(name)
                continue
            self._check(name, x, gates)
            del x, gates
            solution_s.append(seconds)
            m = self._repeats(solution_s, pass_s or [pilot_s])
            yard, _ = self._timed(self.yardstick, name, m, publish=False)
            self.yardstick.thaw()  # trusted code: only the solution stays frozen
            repeats.append(m)
            pass_s.append(yard / m)
            self._cleanup(name)
        for jail in self.jails:
            jail.thaw()
            jail.send("quit")
        return self._result(solution_s, pass_s, repeats, load_before, started)

    def _pilot(self) -> float:
        """Time one yardstick pass (not counted) to size the first round's yardstick run."""
        self._stage("pilot")
        os.rename(self.tmp / "stage" / "pilot", self.tmp / "in" / "pilot")
        seconds, _ = self._timed(self.yardstick, "pilot", 1, publish=False)
        self.yardstick.thaw()
        self._cleanup("pilot")
        return seconds

    def _repeats(self, solution_s: list[float], pass_s: list[float]) -> int:
        """Yardstick passes for the next round: a run as long as the solution's so far."""
        return max(1, round(statistics.median(solution_s) / statistics.median(pass_s)))

    def _cleanup(self, name: str) -> None:
        for folder in ("in", "out-solution", "out-yardstick"):
            path = self.tmp / folder / name
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
            except OSError:
                pass

    def _result(self, solution_s: list[float], pass_s: list[float], repeats: list[int],
                load_before: float, started: float) -> ScoreResult:
        yard = statistics.median(pass_s)
        q1, q3 = np.percentile(pass_s, [25, 75])
        spread = float((q3 - q1) / yard)
        load = round(max(load_before, os.getloadavg()[0]), 2)
        _refuse_overload(load)
        if spread > MAX_YARDSTICK_SPREAD:
            raise TimingUnreliable(
                f"timing unreliable: yardstick spread {spread:.0%} (load {load:.1f})"
            )
        solution = statistics.median(solution_s)
        return ScoreResult(
            raw=solution / yard,
            details={
                "solution_s": [round(v, 6) for v in solution_s],
                "yardstick_pass_s": [round(v, 6) for v in pass_s],
                "yardstick_repeats": repeats,
                "solution_median_s": round(solution, 6),
                "yardstick_median_s": round(yard, 6),
                "yardstick_spread": round(spread, 4),
                "load_1min": load,
                "timed_s": round(time.perf_counter() - started, 3),
            },
        )


def _refuse_overload(load: float) -> None:
    """Raise TimingUnreliable when the 1-minute `load` exceeds MAX_LOAD_PER_CORE per core."""
    cores = len(os.sched_getaffinity(0))
    if load > MAX_LOAD_PER_CORE * cores:
        raise TimingUnreliable(
            f"timing unreliable: machine overloaded (load {load:.1f} on {cores} cores)"
        )


def _dataset(rng: np.random.Generator, params: dict, x: np.ndarray, gates: np.ndarray) -> None:
    """Fill `x` with values uniform in [-2, 2) and `gates` with gates drawn with the hidden
    mix (its probabilities in whole percent). Uniform, not normal: four times cheaper to draw,
    and the scorer draws a new input for every timed call."""
    rng.random(out=x)
    x *= 4.0
    x -= 2.0
    percent = [round(p * 100) for p in params["gate_probabilities"]]
    table = np.repeat(np.arange(len(percent), dtype=np.uint8), percent)
    np.take(table, rng.integers(0, len(table), len(gates), dtype=np.uint8), out=gates)


def _c_scan(lib_path: Path, x: np.ndarray, gates: np.ndarray, decay: float) -> np.ndarray:
    lib = _load_lib(str(lib_path))
    out = np.empty_like(x)
    lib.gated_scan(x.ctypes.data, gates.ctypes.data, ctypes.c_double(decay), out.ctypes.data,
                   ctypes.c_size_t(len(x)))
    return out


def _c_check(lib_path: Path, x: np.ndarray, gates: np.ndarray, decay: float, y: np.ndarray,
             rtol: float, atol: float) -> int:
    """Return how many positions of `y` differ from the exact scan (the host's C check)."""
    lib = _load_lib(str(lib_path))
    return int(lib.gated_check(x.ctypes.data, gates.ctypes.data, ctypes.c_double(decay),
                               y.ctypes.data, ctypes.c_size_t(len(x)), ctypes.c_double(rtol),
                               ctypes.c_double(atol)))


_LIBS: dict[str, ctypes.CDLL] = {}


def _load_lib(path: str) -> ctypes.CDLL:
    if path not in _LIBS:
        lib = ctypes.CDLL(path)
        lib.gated_scan.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_double,
                                   ctypes.c_void_p, ctypes.c_size_t]
        lib.gated_scan.restype = None
        lib.gated_check.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_double,
                                    ctypes.c_void_p, ctypes.c_size_t, ctypes.c_double,
                                    ctypes.c_double]
        lib.gated_check.restype = ctypes.c_size_t
        _LIBS[path] = lib
    return _LIBS[path]


def _descendants(root: int) -> set[int]:
    """Return the pids of every process below `root` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _wait_stopped(pids: set[int], timeout: float = 2.0) -> None:
    """Wait until every thread of `pids` is stopped (or gone)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                states = []
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                        stat = f.read()
                    states.append(stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3])
            except OSError:
                break  # gone
            if all(s in (b"T", b"t", b"Z", b"X") for s in states):
                break
            time.sleep(0.0005)


def _trusted_scan(x: np.ndarray, gates: np.ndarray, decay: float) -> np.ndarray:
    out = [0.0] * len(x)
    state = 0.0
    for i, (value, gate) in enumerate(zip(x.tolist(), gates.tolist())):
        if gate == 0:
            state = decay * state + value
        elif gate == 1:
            state = state if state > value else value
        else:
            state = value
        out[i] = state
    return np.asarray(out, dtype=np.float64)
