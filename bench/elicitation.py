"""The elicitation gap: CI coverage of the horizon ratio, pairing, and the command's speed.

1. Coverage: synthetic pairs of arms (one model, two configurations, same tasks, shared
   task difficulty, :func:`rdbench.stats.synthetic.simulate_paired_arms`) with a known
   horizon ratio; the share of 95% intervals that contain it (target 93-97%), with its
   Clopper-Pearson interval and median width, for rdbench's joint bootstrap (families ->
   tasks, the same for both arms), for independent bootstraps of the two arms, and for
   the alternative of drawing runs again inside the tasks (METR's three-level bootstrap of
   both arms together), which counts run noise twice.
2. Speed: `rdbench elicitation` on the public METR runs (7,063 runs; one two-configuration
   comparison, 1,000 samples, the trend and the threshold status), the whole command as a
   user types it, median of --repeats runs, beside the CPU time it used.

    .venv/bin/python bench/elicitation.py [--reps 300] [--bootstrap 500] [--repeats 3]

Writes bench/results/elicitation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import beta

ROOT = Path(__file__).resolve().parent.parent


def clopper_pearson(hits: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval of a proportion."""
    a = (1 - level) / 2
    low = beta.ppf(a, hits, n - hits + 1) if hits else 0.0
    high = beta.ppf(1 - a, hits + 1, n - hits) if hits < n else 1.0
    return float(low), float(high)


def _count(hits, widths, method, low, high, truth) -> None:
    hits[method] += bool(low <= truth <= high)
    if np.isfinite(low) and low > 0 and np.isfinite(high):
        widths[method].append(float(np.log2(high / low)))


def coverage(reps: int, n_bootstrap: int, seed: int = 0) -> dict:
    """Coverage of the ratio CI, joint and independent bootstraps.

    Returns:
        dict per method: ``coverage``, ``ci`` (Clopper-Pearson), ``n``,
        ``median_width_doublings`` (log2 high/low), and the settings.
    """
    from rdbench.stats import elicitation as el
    from rdbench.stats import fit_horizons
    from rdbench.stats.horizon import quantile_with_inf
    from rdbench.stats.synthetic import simulate_paired_arms

    rng = np.random.default_rng(seed)
    results: dict[str, dict] = {}
    methods = ("joint", "independent", "joint_with_runs")
    hits = dict.fromkeys(methods, 0)
    widths: dict[str, list[float]] = {m: [] for m in methods}
    n = 0
    start = time.perf_counter()
    for rep in range(reps):
        # true p50s: base 2^U(3, 6) min, elicited a factor 2^U(0.5, 2.5) above
        log2_base = rng.uniform(3, 6)
        log2_gap = rng.uniform(0.5, 2.5)
        slope = -0.6
        df, truth = simulate_paired_arms(
            base_intercept=-slope * log2_base,
            elicited_intercept=-slope * (log2_base + log2_gap),
            slope=slope, n_families=40, max_tasks_per_family=1, runs_per_task=(6, 10),
            task_effect_sd=1.5, seed=int(rng.integers(2**31)),
        )
        n += 1
        for method, joint in (("joint", True), ("independent", False)):
            r = el.horizon_ratio(df, "base", "elicited", joint=joint,
                                 n_bootstrap=n_bootstrap, seed=rep)
            _count(hits, widths, method, r.ratio_low, r.ratio_high, truth)
        # the alternative rdbench does not use: METR's family -> task -> run bootstrap of
        # both arms together (fit_horizons), which draws the runs a second time
        fit = fit_horizons(df, n_bootstrap=n_bootstrap, seed=rep)
        wide = fit.samples.pivot(index="sample", columns="agent", values="p50")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = (wide["elicited"] / wide["base"]).to_numpy(dtype=float)
        low, high = quantile_with_inf(ratios, 0.025), quantile_with_inf(ratios, 0.975)
        _count(hits, widths, "joint_with_runs", low, high, truth)
    for method in hits:
        low, high = clopper_pearson(hits[method], n)
        results[method] = {
            "coverage": hits[method] / n,
            "ci": [low, high],
            "n": n,
            "median_width_doublings": float(np.median(widths[method])),
        }
    results["settings"] = {
        "n_bootstrap": n_bootstrap, "n_families": 40, "tasks_per_family": 1,
        "runs_per_task": [6, 10], "task_effect_sd": 1.5, "shared_task_effects": True,
        "slope": -0.6, "seed": seed, "seconds": round(time.perf_counter() - start, 1),
    }
    return results


def command_speed(repeats: int) -> dict:
    """Wall and CPU time of the whole `rdbench elicitation` command on the public data."""
    argv = [sys.executable, "-m", "rdbench.cli", "elicitation", "--threshold", "8h",
            "--bootstrap", "1000", "--json", os.devnull]
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return {
        "command": "rdbench elicitation --threshold 8h --bootstrap 1000",
        "runs": 7063,
        "wall_s_median": statistics.median(walls),
        "cpu_s_median": statistics.median(cpus),
        "wall_s": walls,
        "cpu_s": cpus,
        "load_average_1m": os.getloadavg()[0],
        "target_wall_s": 3.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = {
        "coverage": coverage(args.reps, args.bootstrap),
        "speed": command_speed(args.repeats),
    }
    out = ROOT / "bench" / "results" / "elicitation.json"
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(out)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
