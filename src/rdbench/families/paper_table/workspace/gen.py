"""Data generator of the paper "Small baselines, carefully" (see paper.md).

`make_classification(seed, n, d)` and `make_regression(seed, n, d)` return numpy arrays;
the same seed gives the same data everywhere (numpy's PCG64 through default_rng).
"""

from __future__ import annotations

import numpy as np


def make_classification(
    seed: int, n: int, d: int, classes: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, y): `n` points in `d` dimensions from `classes` Gaussian blobs."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 1.5, size=(classes, d))
    y = rng.integers(0, classes, size=n)
    X = centers[y] + rng.normal(0.0, 1.0, size=(n, d))
    return X, y


def make_regression(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, y): features of very different scales and a noisy linear target."""
    rng = np.random.default_rng(seed)
    scales = np.exp(rng.uniform(-2.0, 3.0, size=d))
    X = rng.normal(0.0, 1.0, size=(n, d)) * scales + rng.uniform(-5, 5, size=d)
    w = rng.normal(0.0, 1.0, size=d) / scales
    y = X @ w + 3.0 + rng.normal(0.0, 0.5, size=n)
    return X, y
