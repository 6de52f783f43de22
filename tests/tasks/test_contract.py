import math

import pytest

from rdbench.tasks import Normalization


def test_linear_normalization_maps_start_to_zero_and_reference_to_one():
    norm = Normalization(start=2.0, reference=6.0)
    assert norm(2.0) == 0.0
    assert norm(6.0) == 1.0
    assert norm(8.0) == pytest.approx(1.5)


def test_log_normalization_lower_is_better():
    norm = Normalization(start=1.0, reference=0.01, transform="log", direction="lower")
    assert norm(1.0) == pytest.approx(0.0)
    assert norm(0.01) == pytest.approx(1.0)
    assert norm(0.1) == pytest.approx(0.5)
    assert norm(0.001) == pytest.approx(1.5)  # better than the reference


def test_log_normalization_rejects_non_positive_raw():
    norm = Normalization(start=1.0, reference=0.1, transform="log", direction="lower")
    with pytest.raises(ValueError, match="> 0"):
        norm(0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": 1.0, "reference": 1.0}, "differ"),
        ({"start": 0.0, "reference": 1.0, "transform": "log"}, "log"),
        ({"start": 1.0, "reference": 2.0, "direction": "lower"}, "below"),
        ({"start": math.nan, "reference": 2.0}, "finite"),
        ({"start": 0.0, "reference": 2.0, "transform": "sqrt"}, "transform"),
    ],
)
def test_bad_normalizations_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Normalization(**kwargs)
