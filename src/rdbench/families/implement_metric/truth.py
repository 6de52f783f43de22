"""The trusted metrics (host side) and the seeded hidden cases for implement_metric.

Each variant's hidden cases are drawn from its own seed at scoring time and never leave
the host: the jailed harness gets only the inputs, and the scorer compares the values it
returns with these implementations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: variant -> (seed, function name, parameters the instructions state).
VARIANTS: dict[str, dict[str, Any]] = {
    "fbeta_macro": {"seed": 91_133, "function": "macro_fbeta", "beta": 0.7},
    "ece": {"seed": 27_001, "function": "calibration_error", "n_bins": 8},
    "weighted_auc": {"seed": 55_421, "function": "weighted_auc"},
}


def macro_fbeta(y_true: np.ndarray, y_pred: np.ndarray, beta: float) -> float:
    """Macro F-beta over the labels present in y_true or y_pred; 0 for a 0/0 class."""
    labels = np.union1d(y_true, y_pred)
    scores = []
    b2 = beta * beta
    for label in labels:
        tp = float(np.sum((y_pred == label) & (y_true == label)))
        fp = float(np.sum((y_pred == label) & (y_true != label)))
        fn = float(np.sum((y_pred != label) & (y_true == label)))
        denom = (1 + b2) * tp + b2 * fn + fp
        scores.append(0.0 if denom == 0 else (1 + b2) * tp / denom)
    return float(np.mean(scores))


def calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int) -> float:
    """Top-label expected calibration error with equal-width bins (lo, hi], 0 in the first."""
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    correct = (pred == labels).astype(float)
    index = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = index == b
        if mask.any():
            total += mask.sum() / len(conf) * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)


def weighted_auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """Weighted ROC AUC: P(score_pos > score_neg) + 0.5 P(tie), pairs weighted w_i * w_j;
    0.5 when either class has zero total weight."""
    pos_w = np.where(labels == 1, weights, 0.0)
    neg_w = np.where(labels == 0, weights, 0.0)
    if pos_w.sum() == 0 or neg_w.sum() == 0:
        return 0.5
    uniq, inverse = np.unique(scores, return_inverse=True)
    pos_by = np.bincount(inverse, weights=pos_w, minlength=len(uniq))
    neg_by = np.bincount(inverse, weights=neg_w, minlength=len(uniq))
    neg_below = np.cumsum(neg_by) - neg_by
    pairs = np.sum(pos_by * (neg_below + 0.5 * neg_by))
    return float(pairs / (pos_w.sum() * neg_w.sum()))


def expected(variant: str, case: dict[str, Any]) -> float:
    """Return the true metric value of one hidden case of `variant`."""
    conf = VARIANTS[variant]
    a = {k: np.asarray(v) for k, v in case.items()}
    if variant == "fbeta_macro":
        return macro_fbeta(a["y_true"], a["y_pred"], conf["beta"])
    if variant == "ece":
        return calibration_error(a["probs"].astype(float), a["labels"], conf["n_bins"])
    return weighted_auc(a["scores"].astype(float), a["labels"], a["weights"].astype(float))


def _fbeta_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    cases = []
    for i in range(30):
        n = int(rng.integers(1, 60))
        k = int(rng.integers(1, 7))
        labels = rng.choice(np.arange(-3, 12), size=k, replace=False)
        y_true = rng.choice(labels, size=n)
        noise = rng.random(n) < rng.uniform(0, 0.7)
        y_pred = np.where(noise, rng.choice(np.append(labels, 42), size=n), y_true)
        cases.append({"y_true": y_true.tolist(), "y_pred": y_pred.tolist()})
    cases.append({"y_true": [5, 5, 5], "y_pred": [5, 5, 5]})
    cases.append({"y_true": [1, 2, 3], "y_pred": [4, 5, 6]})
    return cases


def _ece_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    cases = []
    n_bins = VARIANTS["ece"]["n_bins"]
    for i in range(30):
        n, k = int(rng.integers(1, 400)), int(rng.integers(2, 6))
        logits = rng.normal(0, rng.uniform(0.5, 4), size=(n, k))
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        if i % 5 == 0:  # confidences exactly on bin edges, and exact ties between classes
            edge = rng.integers(1, n_bins + 1, size=n) / n_bins
            probs = np.zeros((n, k))
            probs[:, 0] = np.maximum(edge, 1 / k)
            probs[:, 1:] = ((1 - probs[:, 0]) / (k - 1))[:, None]
        labels = rng.integers(0, k, size=n)
        cases.append({"probs": probs.tolist(), "labels": labels.tolist()})
    return cases


def _auc_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    cases = []
    for i in range(24):
        n = int(rng.integers(2, 300))
        labels = (rng.random(n) < rng.uniform(0.1, 0.9)).astype(int)
        scores = rng.normal(labels * rng.uniform(0, 2), 1)
        if i % 3 == 0:
            scores = np.round(scores, 0)  # many ties
        weights = rng.choice([0.0, 0.5, 1.0, 2.0, 3.5], size=n)
        cases.append(
            {"scores": scores.tolist(), "labels": labels.tolist(), "weights": weights.tolist()}
        )
    cases.append({"scores": [0.1, 0.4], "labels": [1, 1], "weights": [1.0, 1.0]})
    cases.append({"scores": [0.1, 0.4, 0.3], "labels": [1, 0, 0], "weights": [1.0, 0.0, 0.0]})
    n = 200_000  # a large case: a quadratic implementation runs past the time limit
    labels = (rng.random(n) < 0.3).astype(int)
    cases.append(
        {
            "scores": np.round(rng.normal(labels, 1), 3).tolist(),
            "labels": labels.tolist(),
            "weights": rng.uniform(0, 2, size=n).round(3).tolist(),
        }
    )
    return cases


def hidden_cases(variant: str) -> list[dict[str, Any]]:
    """Return the variant's hidden test inputs (the same on every call: seeded)."""
    rng = np.random.default_rng(VARIANTS[variant]["seed"])
    maker = {"fbeta_macro": _fbeta_cases, "ece": _ece_cases, "weighted_auc": _auc_cases}
    return maker[variant](rng)
