"""The metric to implement (see the instructions)."""

import numpy as np


def weighted_auc(scores, labels, weights):
    """Return the weighted area under the ROC curve.

    scores: float array (n,); labels: int array (n,) of 0/1; weights: float array (n,) >= 0.
    AUC = sum over (positive i, negative j) of w_i * w_j * ([s_i > s_j] + 0.5 * [s_i == s_j]),
    divided by (total positive weight) * (total negative weight). When either total is 0
    the AUC is 0.5. It must handle n = 200,000 within a few seconds.
    """
    scores = np.asarray(scores, dtype=float)
    labels, weights = np.asarray(labels), np.asarray(weights, dtype=float)
    pos = np.where(labels == 1, weights, 0.0)
    neg = np.where(labels == 0, weights, 0.0)
    if pos.sum() == 0 or neg.sum() == 0:
        return 0.5
    uniq, inverse = np.unique(scores, return_inverse=True)
    pos_by = np.bincount(inverse, weights=pos, minlength=len(uniq))
    neg_by = np.bincount(inverse, weights=neg, minlength=len(uniq))
    below = np.cumsum(neg_by) - neg_by
    return float(np.sum(pos_by * (below + 0.5 * neg_by)) / (pos.sum() * neg.sum()))
