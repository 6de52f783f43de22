"""Seeded classification data for train_loop_bugs (numpy only)."""

from __future__ import annotations

import numpy as np


def make_data(seed: int) -> dict[str, np.ndarray]:
    """Return X_train, y_train, X_val, y_val: 3 Gaussian classes in 9 informative features,
    one feature that is constant in the training split, and a validation split whose
    features are shifted (so statistics taken over it differ from the training ones).
    Train sizes are not a multiple of common batch sizes (the last batch is partial)."""
    rng = np.random.default_rng(seed)
    k, d = 3, 9
    centers = rng.normal(0, 1.6, size=(k, d))
    scales = rng.uniform(0.5, 4.0, size=d)
    offsets = rng.normal(0, 5, size=d)

    def split(n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, k, size=n)
        x = (centers[y] + rng.normal(0, 1.0, size=(n, d)) + shift) * scales + offsets
        return x, y

    n_train = int(rng.integers(500, 700)) | 1
    x_tr, y_tr = split(n_train, 0.0)
    x_va, y_va = split(int(rng.integers(60, 100)), 0.8)
    const = float(rng.integers(1, 9))
    x_tr = np.column_stack([x_tr, np.full(len(x_tr), const)])
    x_va = np.column_stack([x_va, const + rng.normal(0, 1, size=len(x_va))])
    return {"X_train": x_tr, "y_train": y_tr, "X_val": x_va, "y_val": y_va}
