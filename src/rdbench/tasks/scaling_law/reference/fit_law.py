"""The reference solution: small runs under the cap, a fitted Chinchilla law, a prediction.

Usage (in the workspace): python fit_law.py [--runs runs.jsonl]

1. Trains IsoFLOP families of small runs, every one within `train.CAP_FLOPS`: for each
   budget C in `BUDGETS`, each width whose run at C has at least `MIN_STEPS` steps.
   Results go to `runs.jsonl` (existing lines are reused, so it can resume).
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
import torch
from scipy.optimize import minimize

import train

BUDGETS = (2.5e10, 5e10, 1e11, 2e11)
WIDTHS = (16, 32, 48, 64, 80, 96)
MIN_STEPS = 25


def planned_runs() -> list[tuple[int, int]]:
    """Return the (d_model, tokens) of every experiment: IsoFLOP families under the cap."""
    runs = []
    for budget in BUDGETS:
        assert budget <= train.CAP_FLOPS
        for d_model in WIDTHS:
            tokens = int(budget / (6 * train.param_count(d_model)))
            if tokens // train.TOKENS_PER_STEP >= MIN_STEPS:
                runs.append((d_model, tokens))
    return runs


def run_all(path: Path) -> list[dict]:
    """Run the planned experiments not yet in `path` (appending each); return all results."""
    done = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    have = {(r["d_model"], r["tokens"] // train.TOKENS_PER_STEP) for r in done}
    train_tokens = train.load_split("train")
    validation = train.load_split("validation")
    for d_model, tokens in planned_runs():
        if (d_model, tokens // train.TOKENS_PER_STEP) in have:
            continue
        result = train.train(d_model, tokens, train_tokens, validation, seed=0)
        print(json.dumps(result), flush=True)
        with open(path, "a") as f:
            f.write(json.dumps(result) + "\n")
        done.append(result)
    return done


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
    torch.set_num_threads(1)  # these models are too small to gain from threads
    runs = run_all(args.runs)
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
