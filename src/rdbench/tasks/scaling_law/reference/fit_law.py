"""The reference solution: a Chinchilla law fitted to the given small runs, a prediction.

Usage (in the workspace): python fit_law.py [--runs runs.jsonl]

1. Reads the workspace's `runs.jsonl`: IsoFLOP families of small runs, every one within
   `train.CAP_FLOPS` (for each budget C in 2.5e10, 5e10, 1e11, 2e11, each width of 16-96
   whose run at C has at least 25 steps).
2. Fits L(N, D) = E + A / N^alpha + B / D^beta to all runs (Chinchilla's approach 3: a
   Huber loss on log L, from a grid of starting points, L-BFGS).
3. For the target budget, evaluates the fitted law at every menu width with
   D = TARGET_FLOPS / (6 N), picks the lowest and writes `submission.json` with its
   predicted loss.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import train
from scipy.optimize import minimize


def load_runs(path: Path) -> list[dict]:
    """Return the runs in the JSON-lines file `path`."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _huber(residual: np.ndarray, delta: float = 1e-3) -> np.ndarray:
    small = np.abs(residual) <= delta
    return np.where(small, 0.5 * residual**2, delta * (np.abs(residual) - 0.5 * delta))


def fit_law(runs: list[dict]) -> dict[str, float]:
    """Return the fitted E, A, B, alpha, beta of L(N, D) = E + A/N^alpha + B/D^beta."""
    n = np.array([r["params"] for r in runs], dtype=float)
    d = np.array([r["tokens"] for r in runs], dtype=float)
    loss = np.array([r["loss"] for r in runs], dtype=float)

    def objective(theta: np.ndarray) -> float:
        a, b, e, alpha, beta = theta  # a = log A, b = log B, e = log E
        predicted = np.logaddexp(np.logaddexp(a - alpha * np.log(n), b - beta * np.log(d)), e)
        return float(_huber(predicted - np.log(loss)).sum())

    best = None
    grid = itertools.product(
        (0, 5, 10, 15), (0, 5, 10, 15), (-1, 0, 0.5), (0.2, 0.5, 0.8), (0.2, 0.5, 0.8)
    )
    for start in grid:
        result = minimize(objective, np.array(start, dtype=float), method="L-BFGS-B")
        if best is None or result.fun < best.fun:
            best = result
    a, b, e, alpha, beta = best.x
    return {"E": float(np.exp(e)), "A": float(np.exp(a)), "B": float(np.exp(b)),
            "alpha": float(alpha), "beta": float(beta)}  # fmt: skip


def predict(law: dict[str, float], n: float, d: float) -> float:
    """Return the fitted law's loss at N = n parameters and D = d tokens."""
    return law["E"] + law["A"] / n ** law["alpha"] + law["B"] / d ** law["beta"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=Path, default=Path("runs.jsonl"))
    parser.add_argument("--out", type=Path, default=Path("submission.json"))
    args = parser.parse_args()
    runs = load_runs(args.runs)
    law = fit_law(runs)
    print("fitted law:", json.dumps(law))
    choices = []
    for d_model in train.SIZES:
        n = train.param_count(d_model)
        tokens = int(train.TARGET_FLOPS / (6 * n))
        choices.append((predict(law, n, tokens), d_model, tokens))
        print(f"d_model={d_model:4d} N={n:8d} D={tokens:9d} predicted loss {choices[-1][0]:.4f}")
    loss, d_model, tokens = min(choices)
    submission = {"d_model": d_model, "tokens": tokens, "predicted_loss": round(loss, 4)}
    args.out.write_text(json.dumps(submission) + "\n")
    print(f"wrote {args.out}: d_model={d_model} tokens={tokens} predicted_loss={loss:.4f}")


if __name__ == "__main__":
    main()
