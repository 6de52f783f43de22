"""Benchmark: the `bwrap` sandbox provider against Inspect's `local` provider.

Measures, in one run and under the same machine load:

- start-up: `sample_init` until the sandbox accepts requests (and its cleanup);
- exec round trip: `exec(["true"])` and `exec(["sh", "-c", "echo hi"])`, the two
  providers interleaved call by call so that background load hits both alike;
- file round trip: `write_file` + `read_file` of 1 KiB;
- concurrency: N sandboxes started at once, each running a few commands and file
  operations, then cleaned up (errors counted).

Wall-clock numbers depend on machine load (recorded as `load_average_1m`); the CPU
cost of a sandbox's start and cleanup is reported too, which does not. As root, the
whole benchmark is then repeated under `chrt -f 10` (SCHED_FIFO, both providers alike)
and stored under `at_realtime_priority`: on a shared, busy machine that approximates an
unloaded one.

Writes bench/results/sandbox.json. Run from the project root:

    .venv/bin/python bench/sandbox.py [--n-exec 300] [--n-start 30] [--concurrent 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from inspect_ai.util._sandbox.local import LocalSandboxEnvironment

from rdbench.sandbox.config import BwrapConfig
from rdbench.sandbox.provider import BwrapSandboxEnvironment, check_available

RESULTS = Path(__file__).parent / "results" / "sandbox.json"


def _ms(values: list[float]) -> dict[str, float]:
    """Return median, p10, p90, mean (milliseconds) of durations in seconds."""
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p10_ms": round(pct(0.10), 3),
        "p90_ms": round(pct(0.90), 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "n": len(ordered),
    }


def _cpu_seconds() -> float:
    """CPU time (user+sys) of this process and of all its waited-for descendants."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def _start_cost(provider: Any, config: Any, n: int) -> tuple[dict, dict]:
    """Return (start, cleanup) timings; start also has the CPU cost of a whole lifecycle.

    The CPU time (harness + bwrap + the sandbox's processes, which are all reaped by the
    time cleanup returns) does not depend on how loaded the machine is, wall time does.
    """
    starts, cleanups = [], []
    cpu0 = _cpu_seconds()
    for _ in range(n):
        t0 = time.perf_counter()
        envs = await provider.sample_init("bench", config, {})
        t1 = time.perf_counter()
        await provider.sample_cleanup("bench", config, envs, False)
        t2 = time.perf_counter()
        starts.append(t1 - t0)
        cleanups.append(t2 - t1)
    cpu_ms = round((_cpu_seconds() - cpu0) / n * 1000, 3)
    return {**_ms(starts), "cpu_ms_per_start_and_cleanup": cpu_ms}, _ms(cleanups)


async def _first_exec(n: int) -> dict:
    """Time from sample_init to the end of the first `exec(["true"])` (bwrap only)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        envs = await BwrapSandboxEnvironment.sample_init("bench", None, {})
        await envs["default"].exec(["true"])
        times.append(time.perf_counter() - t0)
        await BwrapSandboxEnvironment.sample_cleanup("bench", None, envs, False)
    return _ms(times)


async def _interleaved(envs: dict[str, Any], cmd: list[str], n: int) -> dict[str, dict]:
    times: dict[str, list[float]] = {name: [] for name in envs}
    for name, env in envs.items():  # warm-up
        await env.exec(cmd)
    for _ in range(n):
        for name, env in envs.items():
            t0 = time.perf_counter()
            result = await env.exec(cmd)
            times[name].append(time.perf_counter() - t0)
            assert result.success, (name, result)
    return {name: _ms(values) for name, values in times.items()}


async def _file_roundtrip(envs: dict[str, Any], n: int) -> dict[str, dict]:
    payload = "x" * 1024
    times: dict[str, list[float]] = {name: [] for name in envs}
    for i in range(n):
        for name, env in envs.items():
            t0 = time.perf_counter()
            await env.write_file(f"bench-{i % 10}.txt", payload)
            assert await env.read_file(f"bench-{i % 10}.txt") == payload
            times[name].append(time.perf_counter() - t0)
    return {name: _ms(values) for name, values in times.items()}


async def _concurrent(n: int) -> dict[str, Any]:
    config = BwrapConfig(memory_mb=512, max_processes=128, disk_mb=128)
    errors: list[str] = []
    start_times: list[float] = []
    sample_times: list[float] = []

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        envs = None
        try:
            envs = await BwrapSandboxEnvironment.sample_init("bench", config, {})
            start_times.append(time.perf_counter() - t0)
            env = envs["default"]
            await env.write_file("input.txt", f"sample {i}\n")
            r1 = await env.exec(["sh", "-c", "cat input.txt; id -u; hostname"])
            r2 = await env.exec(["python", "-c", "print(sum(range(10**5)))"])
            r3 = await env.exec(["sh", "-c", "echo $((6*7)) > out.txt"])
            out = await env.read_file("out.txt")
            ok = (
                r1.stdout == f"sample {i}\n1000\nsandbox\n"
                and r2.stdout.strip() == str(sum(range(10**5)))
                and r3.success
                and out == "42\n"
            )
            if not ok:
                errors.append(f"sample {i}: unexpected output {r1}, {r2}, {r3}, {out!r}")
        except Exception as ex:  # counted, reported in the results
            errors.append(f"sample {i}: {type(ex).__name__}: {ex}")
        finally:
            if envs is not None:
                await BwrapSandboxEnvironment.sample_cleanup("bench", config, envs, False)
            sample_times.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    wall = time.perf_counter() - t0
    return {
        "sandboxes": n,
        "errors": len(errors),
        "error_examples": errors[:5],
        "wall_s": round(wall, 3),
        "start_under_concurrency": _ms(start_times) if start_times else None,
        "sample_total": _ms(sample_times),
    }


def _machine() -> dict[str, Any]:
    bwrap = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip()
    import inspect_ai

    return {
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "inspect_ai": inspect_ai.__version__,
        "bwrap": bwrap,
        "cgroups": check_available(),
        "harness_root": os.geteuid() == 0,
        "niceness": os.nice(0),
        "scheduler": {os.SCHED_OTHER: "other", os.SCHED_FIFO: "fifo"}.get(
            os.sched_getscheduler(0), str(os.sched_getscheduler(0))
        ),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    machine = _machine()
    load_before = os.getloadavg()
    bw_start, bw_cleanup = await _start_cost(BwrapSandboxEnvironment, None, args.n_start)
    lo_start, lo_cleanup = await _start_cost(LocalSandboxEnvironment, None, args.n_start)
    first_exec = await _first_exec(max(5, args.n_start // 3))

    bw_envs = await BwrapSandboxEnvironment.sample_init("bench", None, {})
    lo_envs = await LocalSandboxEnvironment.sample_init("bench", None, {})
    envs = {"bwrap": bw_envs["default"], "local": lo_envs["default"]}
    try:
        exec_true = await _interleaved(envs, ["true"], args.n_exec)
        exec_echo = await _interleaved(envs, ["sh", "-c", "echo hi"], args.n_exec)
        files = await _file_roundtrip(envs, max(20, args.n_exec // 3))
    finally:
        await BwrapSandboxEnvironment.sample_cleanup("bench", None, bw_envs, False)
        await LocalSandboxEnvironment.sample_cleanup("bench", None, lo_envs, False)

    concurrent = await _concurrent(args.concurrent)
    load_after = os.getloadavg()

    def ratio(a: dict, b: dict) -> float:
        return round(a["median_ms"] / b["median_ms"], 3)

    results = {
        "benchmark": "sandbox",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine,
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "start": {
            "bwrap": bw_start,
            "local": lo_start,
            "ratio_median": ratio(bw_start, lo_start),
            "bwrap_start_to_first_exec": first_exec,
        },
        "cleanup": {"bwrap": bw_cleanup, "local": lo_cleanup},
        "exec_true": {**exec_true, "ratio_median": ratio(exec_true["bwrap"], exec_true["local"])},
        "exec_sh_echo": {
            **exec_echo,
            "ratio_median": ratio(exec_echo["bwrap"], exec_echo["local"]),
        },
        "file_write_read_1k": {**files, "ratio_median": ratio(files["bwrap"], files["local"])},
        "concurrent": concurrent,
        "targets": {
            "exec_roundtrip_under_2x_local": ratio(exec_true["bwrap"], exec_true["local"]) < 2,
            "start_under_100ms": bw_start["median_ms"] < 100,
            "concurrent_without_error": concurrent["errors"] == 0,
        },
    }
    return results


def _summary(results: dict[str, Any]) -> dict[str, Any]:
    return {
        "load_1m": results["load_average_1m"],
        "start_median_ms": results["start"]["bwrap"]["median_ms"],
        "start_cpu_ms": results["start"]["bwrap"]["cpu_ms_per_start_and_cleanup"],
        "exec_true_ms": (
            results["exec_true"]["bwrap"]["median_ms"],
            results["exec_true"]["local"]["median_ms"],
        ),
        "exec_ratio": results["exec_true"]["ratio_median"],
        "concurrent": (
            results["concurrent"]["sandboxes"],
            results["concurrent"]["errors"],
            results["concurrent"]["wall_s"],
        ),
        "targets": results["targets"],
    }


def _realtime_run(args: argparse.Namespace) -> dict[str, Any] | None:
    """Repeat the benchmark under SCHED_FIFO (root only): other tenants' load factored out."""
    if os.geteuid() != 0 or shutil.which("chrt") is None:
        return None
    out = Path(tempfile.mkdtemp()) / "rt.json"
    cmd = [
        "chrt", "-f", "10", sys.executable, __file__, "--no-realtime", "--out", str(out),
        "--n-exec", str(args.n_exec), "--n-start", str(args.n_start),
        "--concurrent", str(args.concurrent),
    ]
    try:
        if subprocess.run(cmd, check=False).returncode != 0 or not out.exists():
            return None
        return json.loads(out.read_text())
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-exec", type=int, default=300)
    parser.add_argument("--n-start", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--no-realtime",
        action="store_true",
        help="skip the second run at real-time priority (chrt -f 10, root only)",
    )
    args = parser.parse_args()
    results = anyio.run(main, args)
    if not args.no_realtime:
        realtime = _realtime_run(args)
        if realtime is not None:
            results["at_realtime_priority"] = realtime
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({"as_is": _summary(results)}))
    if "at_realtime_priority" in results:
        print(json.dumps({"realtime": _summary(results["at_realtime_priority"])}))
    print(f"wrote {args.out}")
