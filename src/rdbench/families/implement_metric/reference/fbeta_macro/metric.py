"""The metric to implement (see the instructions)."""

import numpy as np

BETA = 0.7


def macro_fbeta(y_true, y_pred):
    """Return the macro-averaged F-beta score with beta = 0.7.

    y_true, y_pred: 1-d integer arrays of the same length (class labels, any integers).
    The average runs over every label that occurs in y_true or in y_pred (unweighted).
    For one label: F = (1 + b^2) * TP / ((1 + b^2) * TP + b^2 * FN + FP); a label whose
    denominator is 0 scores 0.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    b2 = BETA * BETA
    scores = []
    for label in np.union1d(y_true, y_pred):
        tp = np.sum((y_pred == label) & (y_true == label))
        fp = np.sum((y_pred == label) & (y_true != label))
        fn = np.sum((y_pred != label) & (y_true == label))
        denom = (1 + b2) * tp + b2 * fn + fp
        scores.append(0.0 if denom == 0 else (1 + b2) * tp / denom)
    return float(np.mean(scores))
