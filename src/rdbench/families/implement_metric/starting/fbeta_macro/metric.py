"""The metric to implement (see the instructions)."""

BETA = 0.7


def macro_fbeta(y_true, y_pred):
    """Return the macro-averaged F-beta score with beta = 0.7.

    y_true, y_pred: 1-d integer arrays of the same length (class labels, any integers).
    The average runs over every label that occurs in y_true or in y_pred (unweighted).
    For one label: F = (1 + b^2) * TP / ((1 + b^2) * TP + b^2 * FN + FP); a label whose
    denominator is 0 scores 0.
    """
    raise NotImplementedError("implement me")
