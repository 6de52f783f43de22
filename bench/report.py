"""Time the HTML report on the public METR data (target: under 10 seconds).

- ``command``: the whole ``rdbench report metr -o FILE`` as a subprocess (interpreter
  start, imports, reading runs.jsonl, 1000-sample bootstrap, figures, page), N times:
  wall time (best, median), CPU time (user + sys) and peak RSS. On a shared machine the
  wall time includes waiting for a core; the CPU time is what the report costs.
- ``stages``: in this process, one run split into loading, ``build_report`` (statistics
  and figures) and rendering the page.

    .venv/bin/python bench/report.py [--repeats 3]

Writes bench/results/report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 10.0


def time_command(repeats: int) -> dict:
    """Wall/CPU seconds and peak RSS of `rdbench report metr` as a subprocess."""
    exe = Path(sys.executable).with_name("rdbench")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "rdbench.cli"]
    walls, cpus, peaks, size = [], [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        for _ in range(repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [*base, "report", "metr", "-o", str(out)], capture_output=True, text=True, cwd=ROOT
            )
            walls.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode != 0:
                raise SystemExit(f"rdbench report failed: {proc.stderr}")
            cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
            peaks.append(after.ru_maxrss / 1024)
            size = out.stat().st_size
    return {
        "command": "rdbench report metr -o report.html  (public data, 1000 bootstrap samples)",
        "wall_best_s": round(min(walls), 3),
        "wall_median_s": round(statistics.median(walls), 3),
        "cpu_median_s": round(statistics.median(cpus), 3),
        "peak_rss_mb": round(max(peaks), 1),
        "html_bytes": size,
        "repeats": repeats,
        "meets_target_wall": min(walls) < TARGET_S,
        "meets_target_cpu": statistics.median(cpus) < TARGET_S,
    }


def time_stages() -> dict:
    """Seconds of each stage of one report, in this process."""
    from rdbench.records import load_attempts, public_release_dates_path, read_release_dates
    from rdbench.report.build import build_report
    from rdbench.report.page import render_page

    clocks = (time.perf_counter, time.process_time)
    t0 = [c() for c in clocks]
    attempts, trajectories, _ = load_attempts("metr")
    dates = read_release_dates(public_release_dates_path())
    t1 = [c() for c in clocks]
    marks: dict[str, list[float]] = {}
    report = build_report(
        attempts,
        trajectories,
        release_dates=dates,
        n_bootstrap=1000,
        progress=lambda label: marks.setdefault(label, [c() for c in clocks]),
    )
    t2 = [c() for c in clocks]
    render_page(report)
    t3 = [c() for c in clocks]
    h0, h1 = marks.get("time horizons and trend", t1), marks.get("tables", t2)

    def span(a: list[float], b: list[float]) -> dict:
        return {"wall_s": round(b[0] - a[0], 3), "cpu_s": round(b[1] - a[1], 3)}

    return {
        "load": span(t0, t1),
        "build_report": span(t1, t2),
        "horizon_trend_and_their_figures": span(h0, h1),
        "render_page": span(t2, t3),
        "n_attempts": int(len(attempts)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    result = {
        "benchmark": "report",
        "target_s": TARGET_S,
        "command": time_command(args.repeats),
        "stages": time_stages(),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            # Other jobs share this machine: wall time above CPU time is waiting for a core.
            "load_average_1m_at_start": round(load_before, 2),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = ROOT / "bench" / "results" / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
