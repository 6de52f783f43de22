"""Coverage of the time-horizon bootstrap CI on synthetic data from a known logistic model.

Each repetition is an independent agent (own runs, own task effects) on a random
family/task design; ``designs`` designs x ``agents`` agents. Reports the share of 95%
p50 intervals (hierarchical bootstrap, 1000 samples) that contain the true p50.

Two scenarios:
- ``main``: tasks differ a lot in difficulty beyond their length (logit sd 1.5), one task
  per family, 6-10 runs per task -- the sampling unit is the task, as the hierarchical
  bootstrap assumes. Target: 93-97%.
- ``many_runs_noise``: small task effects (sd 0.7), up to 4 tasks per family, 3-8 runs.
  Here most variance is run noise, which the family -> task -> run bootstrap counts at
  every level, so the interval is conservative (expect ~98-99%): reported, not a target.

    .venv/bin/python bench/horizon_coverage.py [--designs 10] [--agents 60]

Writes bench/results/horizon_coverage.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

SCENARIOS = {
    "main": {"task_effect_sd": 1.5, "max_tasks_per_family": 1, "runs_per_task": (6, 10)},
    "many_runs_noise": {"task_effect_sd": 0.7, "max_tasks_per_family": 4, "runs_per_task": (3, 8)},
}


def coverage(
    scenario: str = "main",
    designs: int = 10,
    agents: int = 60,
    n_bootstrap: int = 1000,
    regularization: float = 0.1,
    n_families: int = 40,
    slope: float = -0.6,
    seed: int = 0,
) -> dict:
    """Run the coverage experiment for one scenario.

    Returns:
        dict with ``coverage``, ``n``, ``standard_error``, ``median_ci_width_doublings``
        and the settings.
    """
    from rdbench.stats import fit_horizons
    from rdbench.stats.synthetic import simulate_runs

    rng = np.random.default_rng(seed)
    hits, total, widths = 0, 0, []
    for design in range(designs):
        # True p50s spread over 4 min .. 4 h, inside the 1 min .. 1000 min task range.
        log2_p50 = rng.uniform(2, 8, size=agents)
        attempts, truth = simulate_runs(
            intercepts=-slope * log2_p50,
            slope=slope,
            n_families=n_families,
            seed=seed * 1000 + design,
            **SCENARIOS[scenario],
        )
        result = fit_horizons(
            attempts, n_bootstrap=n_bootstrap, seed=seed * 1000 + design,
            regularization=regularization,
        )
        table = result.table.merge(truth, on="agent", suffixes=("", "_true"))
        inside = (table["p50_low"] <= table["p50_true"]) & (table["p50_true"] <= table["p50_high"])
        hits += int(inside.sum())
        total += int(len(table))
        ok = table["status"] == "ok"
        widths.extend(np.log2(table.loc[ok, "p50_high"] / table.loc[ok, "p50_low"]).tolist())
    rate = hits / total
    return {
        "scenario": scenario,
        "coverage": rate,
        "n": total,
        "standard_error": float(np.sqrt(rate * (1 - rate) / total)),
        "median_ci_width_doublings": float(np.median(widths)),
        "n_bootstrap": n_bootstrap,
        "regularization": regularization,
        "designs": designs,
        "agents_per_design": agents,
        "n_families": n_families,
        "slope": slope,
        "seed": seed,
        **{k: list(v) if isinstance(v, tuple) else v for k, v in SCENARIOS[scenario].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=10)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--regularization", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "horizon_coverage.json")
    )
    args = parser.parse_args()
    results = []
    for scenario in SCENARIOS:
        start = time.perf_counter()
        result = coverage(
            scenario, args.designs, args.agents, args.bootstrap, args.regularization,
            seed=args.seed,
        )
        result["seconds"] = round(time.perf_counter() - start, 2)
        results.append(result)
        print(f"{scenario}: coverage {result['coverage']:.3f} +- {result['standard_error']:.3f} "
              f"(n={result['n']}, {result['seconds']} s)", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"scenarios": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
