"""The metric to implement (see the instructions)."""

N_BINS = 8


def calibration_error(probs, labels):
    """Return the top-label expected calibration error with 8 equal-width bins.

    probs: float array (n, k), each row a probability vector; labels: int array (n,).
    A sample's confidence is its largest probability and its prediction that class (ties:
    the lowest class index). Bins are (0, 1/8], (1/8, 2/8], ...,
    with a confidence of exactly 0 in the first bin. ECE = sum over non-empty bins of
    (samples in bin / n) * |accuracy in bin - mean confidence in bin|.
    """
    raise NotImplementedError("implement me")
