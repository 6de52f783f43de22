"""The metric to implement (see the instructions)."""

import numpy as np

N_BINS = 8


def calibration_error(probs, labels):
    """Return the top-label expected calibration error with 8 equal-width bins.

    probs: float array (n, k), each row a probability vector; labels: int array (n,).
    A sample's confidence is its largest probability and its prediction that class (ties:
    the lowest class index). Bins are (0, 1/8], (1/8, 2/8], ...,
    with a confidence of exactly 0 in the first bin. ECE = sum over non-empty bins of
    (samples in bin / n) * |accuracy in bin - mean confidence in bin|.
    """
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(float)
    index = np.clip(np.ceil(conf * N_BINS).astype(int) - 1, 0, N_BINS - 1)
    total = 0.0
    for b in range(N_BINS):
        mask = index == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)
