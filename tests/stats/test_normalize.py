"""Normalized scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rdbench.stats import normalize_column, normalize_score


def test_linear_and_log():
    assert normalize_score(5.0, 0.0, 10.0) == 0.5
    assert normalize_score(12.0, 0.0, 10.0) == pytest.approx(1.2)
    # lower is better: a loss going from 4 (start) to 1 (reference), on a log scale
    assert normalize_score(2.0, 4.0, 1.0, "log", "lower") == pytest.approx(0.5)
    assert normalize_score(1.0, 4.0, 1.0, "log", "lower") == pytest.approx(1.0)
    out = normalize_score(np.array([0.0, np.nan, 10.0]), 0.0, 10.0)
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == 1


def test_bad_anchors():
    with pytest.raises(ValueError):
        normalize_score(1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        normalize_score(1.0, 0.0, 10.0, direction="lower")
    with pytest.raises(ValueError):
        normalize_score(1.0, 0.0, 10.0, transform="sqrt")


def test_normalize_column_per_row_anchors():
    df = pd.DataFrame({"raw": [5.0, 2.0], "start": [0.0, 4.0], "ref": [10.0, 1.0],
                       "t": ["linear", "log"], "d": ["higher", "lower"]})
    out = normalize_column(df, "raw", "start", "ref", "t", "d")
    assert out.tolist() == pytest.approx([0.5, 0.5])
