"""Timing scores that hold under load and on a slower machine (issue 11): optimize_kernel.

Scores optimize_kernel's starting solution, a mid-quality solution (bench/timing_mid: the C
loop called on 48-element chunks, about half-way on the log scale) and the reference through
the family's real scorer (a ratio to a yardstick timed in the same run), in three conditions:

  (a) quiet   as is (the machine is shared: the load average is reported beside the numbers);
  (b) busy    two CPU-bound processes running beside the scorer;
  (c) capped  the scorer (and its jails) in a cgroup capping it to 60% of one core.

Reports every normalized score's distance from its quiet median (target: within 0.05), the
spread of repeated mid-quality scorings in (a) (target: < 0.03), and the scoring time of this
scorer against the scorer before the yardstick (from git, `--base`), measured side by side
(target: at most 1.3x). Each scoring runs in a fresh worker process (so a cgroup holds it and
everything it starts). Writes bench/results/timing.json.

Usage: .venv/bin/python bench/timing.py [--repeats 3] [--mid-repeats 5] [--cost-pairs 2]
       [--solutions reference mid starting]
       [--base b57b0d3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "timing.json"
FAMILY_DIR = ROOT / "src" / "rdbench" / "tasks" / "optimize_kernel"
SOLUTIONS = ("starting", "mid", "reference")
TARGET_SHIFT, TARGET_SPREAD, TARGET_COST = 0.05, 0.03, 1.3


def _workspace(solution: str, dest: Path) -> Path:
    from rdbench.tasks import load_families, materialize

    family = load_families(["optimize_kernel"])[0]
    materialize(family, dest, "reference" if solution == "mid" else solution)  # type: ignore[arg-type]
    if solution == "mid":
        for name in ("solution.py", "scan.c"):
            shutil.copy(HERE / "timing_mid" / name, dest / name)
    return dest


def worker(solution: str, family_dir: str | None) -> None:
    """Score one solution once (after a line on stdin) and print the result as JSON."""
    sys.stdin.readline()  # the parent may move this process into a cgroup first
    from rdbench.tasks import load_families, score_workspace
    from rdbench.tasks.loader import load_family

    family = load_family(Path(family_dir)) if family_dir else load_families(["optimize_kernel"])[0]
    family.prepare()
    with tempfile.TemporaryDirectory(prefix="rdbench-bench-timing-") as tmp:
        workspace = _workspace(solution, Path(tmp) / "ws")
        started = time.perf_counter()
        result = score_workspace(family, family.variants()[0], workspace)
        seconds = time.perf_counter() - started
    print(json.dumps({**result.as_dict(), "seconds": round(seconds, 3)}))


def _score(solution: str, condition: str, family_dir: Path | None = None) -> dict:
    argv = [sys.executable, __file__, "--worker", solution]
    if family_dir is not None:
        argv += ["--family-dir", str(family_dir)]
    cgroup = None
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if condition == "capped":
            from rdbench.sandbox import cgroups

            cgroup = cgroups.create(
                f"rdbench-bench-timing-{proc.pid}",
                cgroups.Limits(memory_bytes=16 * 1024**3, max_processes=4096, cpus=0.6),
                cgroups.detect(),
            )
            if not any("cpu" in p for p in cgroup.paths):
                raise SystemExit("no cgroup CPU controller here: cannot run condition (c)")
            cgroup.add(proc.pid)
        out, _ = proc.communicate("go\n", timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
        if cgroup is not None:
            cgroup.destroy()
    if proc.returncode != 0:
        raise SystemExit(f"worker for {solution} ({condition}) failed with {proc.returncode}")
    row = json.loads(out.strip().splitlines()[-1])
    row.update(solution=solution, condition=condition, load_1min=round(os.getloadavg()[0], 2))
    return row


def _burners(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def _old_family(base: str, dest: Path) -> Path:
    """The family folder with family.py and runner.py as they were at `base`."""
    shutil.copytree(FAMILY_DIR, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("family.py", "runner.py"):
        text = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{base}:src/rdbench/tasks/optimize_kernel/{name}"],
            check=True, capture_output=True, text=True,
        ).stdout
        (dest / name).write_text(text)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mid-repeats", type=int, default=5)
    parser.add_argument("--cost-pairs", type=int, default=2,
                        help="scorings of each solution by the old scorer, each right after one "
                             "by this scorer")
    parser.add_argument("--base", default="b57b0d3",
                        help="git revision of the scorer before the yardstick (for the cost)")
    parser.add_argument("--solutions", nargs="+", default=list(SOLUTIONS), choices=SOLUTIONS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--family-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.family_dir)
        return

    rows: list[dict] = []
    cost: dict[str, list[list[float]]] = {s: [] for s in SOLUTIONS}
    load_start = os.getloadavg()
    order = [s for s in ("reference", "mid", "starting") if s in args.solutions]
    with tempfile.TemporaryDirectory(prefix="rdbench-bench-old-") as tmp:
        old = _old_family(args.base, Path(tmp) / "optimize_kernel")
        # one solution at a time, all conditions back to back, so that a run cut short still
        # holds complete comparisons; results are written after every scoring
        for solution in order:
            quiet_repeats = args.mid_repeats if solution == "mid" else args.repeats
            for i in range(quiet_repeats):
                row = _score(solution, "quiet")
                rows.append(row)
                print(json.dumps(row), flush=True)
                if i < args.cost_pairs:  # scoring cost: the old scorer right after
                    before = _score(solution, "quiet-old-scorer", old)
                    cost[solution].append([row["seconds"], before["seconds"]])
                    print(json.dumps({"cost": solution, "new_s": row["seconds"],
                                      "old_s": before["seconds"]}), flush=True)
                _write(args, rows, cost, load_start, partial=True)
            for condition in ("busy", "capped"):
                burners = _burners(2) if condition == "busy" else []
                try:
                    for _ in range(args.repeats):
                        row = _score(solution, condition)
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                        _write(args, rows, cost, load_start, partial=True)
                finally:
                    for burner in burners:
                        burner.kill()
                        burner.wait()
    _write(args, rows, cost, load_start, partial=False)


def _write(args: argparse.Namespace, rows: list[dict], cost: dict[str, list[list[float]]],
           load_start: tuple[float, float, float], partial: bool) -> None:
    summary: dict[str, dict] = {}
    for solution in SOLUTIONS:
        quiet = [r["normalized"] for r in rows if r["solution"] == solution
                 and r["condition"] == "quiet" and r["normalized"] is not None]
        entry: dict = {"quiet_median": statistics.median(quiet) if quiet else None,
                       "quiet_spread": (max(quiet) - min(quiet)) if quiet else None}
        for condition in ("quiet", "busy", "capped"):
            these = [r for r in rows if r["solution"] == solution and r["condition"] == condition]
            scores = [r["normalized"] for r in these]
            entry[condition] = {
                "normalized": scores,
                "raw_ratio": [r["raw"] for r in these],
                "solution_median_s": [(r.get("details") or {}).get("solution_median_s")
                                      for r in these],
                "yardstick_median_s": [(r.get("details") or {}).get("yardstick_median_s")
                                       for r in these],
                "timing_unreliable": [r.get("timing_unreliable") for r in these],
                # over the scorings that gave a score (an unreliable one gives none)
                "max_shift_from_quiet": None if not quiet or all(v is None for v in scores)
                else round(max(abs(v - entry["quiet_median"]) for v in scores if v is not None), 4),
                "load_1min": [r["load_1min"] for r in these],
            }
        pairs = cost[solution]
        entry["scoring_seconds_new_vs_old"] = pairs
        entry["scoring_time_ratio"] = (
            round(statistics.median(n / o for n, o in pairs), 3) if pairs else None)
        summary[solution] = entry
    shifts = [summary[s][c]["max_shift_from_quiet"] for s in SOLUTIONS
              for c in ("busy", "capped")]
    result = {
        "benchmark": "optimize_kernel timing under load and a CPU cap (issue 11)",
        "command": "python bench/timing.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
            if k in ("repeats", "mid_repeats", "cost_pairs", "base")),
        "machine": {"cpus": os.cpu_count(), "load_avg_at_start": [round(v, 2) for v in load_start],
                    "load_avg_at_end": [round(v, 2) for v in os.getloadavg()]},
        "targets": {"max_shift": TARGET_SHIFT, "mid_quiet_spread": TARGET_SPREAD,
                    "scoring_time_ratio": TARGET_COST},
        "summary": summary,
        "partial": partial,
        "worst_shift": max((v for v in shifts if v is not None), default=None),
        "mid_quiet_spread": summary["mid"]["quiet_spread"],
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    if partial:
        return
    print(f"wrote {RESULTS}: worst shift {result['worst_shift']}, mid spread "
          f"{result['mid_quiet_spread']}, scoring time ratios "
          f"{ {s: summary[s]['scoring_time_ratio'] for s in SOLUTIONS} }")


if __name__ == "__main__":
    main()
