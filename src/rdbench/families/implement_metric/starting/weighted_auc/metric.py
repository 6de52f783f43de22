"""The metric to implement (see the instructions)."""

def weighted_auc(scores, labels, weights):
    """Return the weighted area under the ROC curve.

    scores: float array (n,); labels: int array (n,) of 0/1; weights: float array (n,) >= 0.
    AUC = sum over (positive i, negative j) of w_i * w_j * ([s_i > s_j] + 0.5 * [s_i == s_j]),
    divided by (total positive weight) * (total negative weight). When either total is 0
    the AUC is 0.5. It must handle n = 200,000 within a few seconds.
    """
    raise NotImplementedError("implement me")
