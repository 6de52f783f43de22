"""Reproduce the paper's numbers for every task of the family; writes results.json.

Run from the working directory: `python reproduce.py` (it needs gen.py beside it).
"""

from __future__ import annotations

import json

import numpy as np
from gen import make_classification, make_regression

# The tasks' parameters (seed, d), as the instructions give them.
CELL, ROW, CV, BOOT = (7351, 6), (90210, 8), (5120, 5), (2718, 7)


def nearest_centroid(Xtr, ytr, Xte):
    classes = np.unique(ytr)
    centroids = np.stack([Xtr[ytr == c].mean(axis=0) for c in classes])
    dist = ((Xte[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return classes[np.argmin(dist, axis=1)]


def standardize(Xtr, Xte):
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    return (Xtr - mu) / sd, (Xte - mu) / sd


def e1(seed, d):
    X, y = make_classification(seed, 800, d, classes=4)
    pred = nearest_centroid(X[:400], y[:400], X[400:])
    return {"e1_test_accuracy": float((pred == y[400:]).mean())}


def e2(seed, d):
    X, y = make_regression(seed, 300, d)
    Ztr, Zte = standardize(X[:200], X[200:])
    t = y[:200] - y[:200].mean()
    out = {}
    for lam, key in ((0.1, "0.1"), (1.0, "1"), (10.0, "10"), (100.0, "100")):
        w = np.linalg.solve(Ztr.T @ Ztr + lam * np.eye(d), Ztr.T @ t)
        pred = Zte @ w + y[:200].mean()
        out[f"e2_mse_lam_{key}"] = float(((pred - y[200:]) ** 2).mean())
    return out


def knn_predict(Xtr, ytr, Xte, k):
    dist = np.sqrt(((Xte[:, None, :] - Xtr[None, :, :]) ** 2).sum(axis=2))
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    labels = ytr[order]
    n_cls = int(ytr.max()) + 1
    counts = np.stack([(labels == c).sum(axis=1) for c in range(n_cls)], axis=1)
    return np.argmax(counts, axis=1)  # argmax takes the first (smallest) label on ties


def e3(seed, d):
    X, y = make_classification(seed, 600, d, classes=3)
    Xp, yp = X[:400], y[:400]
    perm = np.random.default_rng(seed + 1).permutation(400)
    cv = {}
    for k in range(1, 16, 2):
        accs = []
        for f in range(5):
            val = perm[f::5]
            mask = np.ones(400, dtype=bool)
            mask[val] = False
            pred = knn_predict(Xp[mask], yp[mask], Xp[val], k)
            accs.append((pred == yp[val]).mean())
        cv[k] = float(np.mean(accs))
    best = max(cv, key=lambda k: (cv[k], -k))
    test = float((knn_predict(Xp, yp, X[400:], best) == y[400:]).mean())
    return {"e3_best_k": best, "e3_cv_accuracy": cv[best], "e3_test_accuracy": test}


def e4(seed, d):
    X, y = make_classification(seed, 1000, d, classes=2)
    Xtr, ytr, Xte, yte = X[:500], y[:500], X[500:], y[500:]
    Ztr, Zte = standardize(Xtr, Xte)
    Ztr = np.hstack([Ztr, np.ones((500, 1))])
    Zte = np.hstack([Zte, np.ones((500, 1))])
    w = np.zeros(d + 1)
    for _ in range(500):
        w -= 0.5 * Ztr.T @ (1 / (1 + np.exp(-(Ztr @ w))) - ytr) / 500
    c_lr = ((1 / (1 + np.exp(-(Zte @ w))) >= 0.5).astype(int) == yte).astype(float)
    c_nc = (nearest_centroid(Xtr, ytr, Xte) == yte).astype(float)
    diff = c_lr.mean() - c_nc.mean()
    idx = np.random.default_rng(seed + 2).integers(0, 500, size=(2000, 500))
    d_b = c_lr[idx].mean(axis=1) - c_nc[idx].mean(axis=1)
    low, high = np.percentile(d_b, [2.5, 97.5])
    s = np.random.default_rng(seed + 3).choice([-1, 1], size=(5000, 500))
    t = np.abs((s * (c_lr - c_nc)).mean(axis=1))
    p = (1 + int((t >= abs(diff)).sum())) / 5001
    return {
        "e4_acc_logreg": float(c_lr.mean()),
        "e4_acc_nc": float(c_nc.mean()),
        "e4_diff": float(diff),
        "e4_ci_low": float(low),
        "e4_ci_high": float(high),
        "e4_p_value": float(p),
    }


if __name__ == "__main__":
    results = {**e1(*CELL), **e2(*ROW), **e3(*CV), **e4(*BOOT)}
    with open("results.json", "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
