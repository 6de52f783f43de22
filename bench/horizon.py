"""Time the full time-horizon computation on the public METR data.

- ``computation``: load the shipped runs.jsonl once, then time ``fit_horizons`` (all
  agents, 1000 hierarchical bootstrap samples) + ``fit_trend`` -- best and median of N.
- ``command``: the whole ``rdbench horizon`` (subprocess: interpreter start, imports,
  reading, computation, printing) -- best and median of N, and its peak RSS.
- ``naive_sklearn``: for scale, a straightforward loop (per bootstrap sample: resample
  a DataFrame families -> tasks -> runs, then one scikit-learn fit per agent), timed on a
  subset of samples and EXTRAPOLATED linearly to 1000. Labelled as such in the output.

    .venv/bin/python bench/horizon.py [--repeats 5] [--naive-samples 50]

Writes bench/results/horizon.json.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_computation(repeats: int) -> dict:
    """Best/median seconds of fit_horizons + fit_trend (1000 samples) on the public data."""
    from rdbench.records import load_attempts, public_release_dates_path, read_release_dates
    from rdbench.stats import fit_horizons, fit_trend

    t0 = time.perf_counter()
    attempts, _, _ = load_attempts("metr")
    load_s = time.perf_counter() - t0
    dates = read_release_dates(public_release_dates_path())
    fit_horizons(attempts, n_bootstrap=20)  # warm caches/imports, not timed
    times, fit_times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fit_horizons(attempts, n_bootstrap=1000, seed=0)
        t1 = time.perf_counter()
        fit_trend(result.table, dates, samples=result.samples, thresholds_minutes=[480, 2400])
        t2 = time.perf_counter()
        times.append(t2 - t0)
        fit_times.append(t1 - t0)
    return {
        "load_runs_jsonl_s": round(load_s, 4),
        "horizon_plus_trend_best_s": round(min(times), 4),
        "horizon_plus_trend_median_s": round(statistics.median(times), 4),
        "fit_horizons_median_s": round(statistics.median(fit_times), 4),
        "repeats": repeats,
        "n_runs": int((~attempts["is_human"]).sum()),
        "n_agents": int(attempts.loc[~attempts["is_human"], "agent"].nunique()),
        "n_bootstrap": 1000,
        "peak_rss_mb_this_process": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }


def time_command(repeats: int) -> dict:
    """Wall time and peak RSS of `rdbench horizon` on the public data, as a subprocess."""
    exe = Path(sys.executable).with_name("rdbench")
    cmd = [str(exe), "horizon"] if exe.exists() else [sys.executable, "-m", "rdbench.cli", "horizon"]
    times, peaks = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"rdbench horizon failed: {proc.stderr}")
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    return {
        "command": "rdbench horizon  (public data, 1000 bootstrap samples)",
        "best_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "repeats": repeats,
        # ru_maxrss of children is the max over all children so far (KiB on Linux)
        "peak_rss_mb": round(max(peaks) / 1024, 1),
    }


def time_naive(n_samples: int) -> dict:
    """A plain per-sample loop with scikit-learn, on a subset, extrapolated to 1000.

    Resampling uses precomputed numpy index arrays (families -> tasks -> runs per
    task and agent), then one ``LogisticRegression(C=10)`` fit per agent per sample:
    the straightforward design, single process, without the batched fit.
    """
    import numpy as np

    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return {"skipped": "scikit-learn not installed"}
    from rdbench.records import load_attempts
    from rdbench.stats import horizon_runs

    attempts, _, _ = load_attempts("metr")
    runs = horizon_runs(attempts)
    x = runs[["x"]].to_numpy()
    y = runs["y"].to_numpy()
    w = runs["weight"].to_numpy()
    agent = runs["agent"].astype("category").cat.codes.to_numpy()
    n_agents = int(agent.max()) + 1
    family_tasks = [np.unique(g.to_numpy()) for _, g in runs.groupby("task_family")["task_id"]]
    task_cells = {
        task: [g.index.to_numpy() for _, g in group.groupby("agent")]
        for task, group in runs.groupby("task_id")
    }
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(n_samples):
        parts = []
        for f in rng.integers(0, len(family_tasks), size=len(family_tasks)):
            tasks = family_tasks[f]
            for t in tasks[rng.integers(0, tasks.size, size=tasks.size)]:
                for rows in task_cells[t]:
                    parts.append(rows[rng.integers(0, rows.size, size=rows.size)])
        idx = np.concatenate(parts)
        for a in range(n_agents):
            sel = idx[agent[idx] == a]
            if sel.size == 0 or np.unique(y[sel]).size < 2:
                continue
            LogisticRegression(C=10).fit(x[sel], y[sel], sample_weight=w[sel])
    seconds = time.perf_counter() - t0
    return {
        "label": "EXTRAPOLATED: naive loop (numpy index resampling + one sklearn fit per "
        f"agent per sample, one process) timed on {n_samples} samples, scaled linearly to 1000",
        "timed_samples": n_samples,
        "timed_s": round(seconds, 3),
        "extrapolated_1000_s": round(seconds / n_samples * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-samples", type=int, default=50)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "horizon.json"))
    args = parser.parse_args()
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "targets": {"computation_s": 1.5, "command_s": 4.0, "memory_mb": 1024},
    }
    # The command first, while this process is still small: a forked child's peak RSS
    # (ru_maxrss) starts from its parent's, so measuring later would overstate it.
    result["command"] = time_command(args.repeats)
    result["computation"] = time_computation(args.repeats)
    if args.naive_samples > 0:
        result["naive_sklearn"] = time_naive(args.naive_samples)
        result["speedup_vs_naive"] = round(
            result["naive_sklearn"].get("extrapolated_1000_s", float("nan"))
            / result["computation"]["horizon_plus_trend_median_s"],
            1,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
