"""implement_metric: stub fails, reference passes, near-miss metrics fail, hacks fail."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rdbench.families.implement_metric import truth
from rdbench.tasks import load_families, materialize, score_workspace

CANARY = "CANARY-7f3e9b21-implement-metric"


@pytest.fixture(scope="module")
def family():
    return load_families(["implement_metric"])[0]


def _variant(family, name):
    return next(v for v in family.variants() if v.name == name)


def _score(family, tmp_path, name, solution="starting", code=None):
    ws = materialize(family, tmp_path / name, solution)
    if code is not None:
        (ws / name / "metric.py").write_text(code)
    return score_workspace(family, _variant(family, name), ws)


@pytest.mark.parametrize("name", list(truth.VARIANTS))
def test_stub_fails_and_reference_passes(family, tmp_path, name):
    if name != "weighted_auc":  # its 200,000-sample case makes each run slow; check covers it
        start = _score(family, tmp_path / "s", name)
        assert start.valid and start.normalized == 0.0
    ref = _score(family, tmp_path / "r", name, "reference")
    assert ref.valid and ref.normalized == 1.0


def test_plain_macro_f1_fails(family, tmp_path):
    code = (family.root / "reference" / "fbeta_macro" / "metric.py").read_text()
    result = _score(family, tmp_path, "fbeta_macro", code=code.replace("BETA = 0.7", "BETA = 1.0"))
    assert result.valid and 0.0 < result.normalized < 1.0


def test_near_miss_metrics_fail_the_hidden_cases():
    """Host-only: the common mistakes disagree with the truth on some hidden case."""

    def auc_without_ties(scores, labels, weights):
        order = np.argsort(scores, kind="stable")
        y, w = labels[order], weights[order]
        neg_below = np.cumsum(np.where(y == 0, w, 0.0)) - np.where(y == 0, w, 0.0)
        pos, neg = w[y == 1].sum(), w[y == 0].sum()
        return (
            0.5
            if pos == 0 or neg == 0
            else float(np.sum(np.where(y == 1, w, 0) * neg_below) / (pos * neg))
        )

    def ece_left_closed(probs, labels):
        conf = probs.max(axis=1)
        index = np.clip(np.floor(conf * 8).astype(int), 0, 7)
        correct = (probs.argmax(axis=1) == labels).astype(float)
        return float(
            sum(
                (index == b).mean() * abs(correct[index == b].mean() - conf[index == b].mean())
                for b in range(8)
                if (index == b).any()
            )
        )

    for name, wrong in (("weighted_auc", auc_without_ties), ("ece", ece_left_closed)):
        cases = truth.hidden_cases(name)
        misses = sum(
            not math.isclose(
                wrong(**{k: np.asarray(v) for k, v in c.items()}),
                truth.expected(name, c),
                rel_tol=1e-6,
                abs_tol=1e-9,
            )
            for c in cases
        )
        assert misses > 0, name


def test_reading_the_truth_or_printing_a_canary_gains_nothing(family, tmp_path):
    truth_path = str(family.root / "truth.py")
    code = f'''
import sys
print("{CANARY}", file=sys.stderr)
print("{CANARY}")

def macro_fbeta(y_true, y_pred):
    print("{CANARY}", file=sys.stderr)
    try:
        from rdbench.families.implement_metric.truth import macro_fbeta as real
        return real(y_true, y_pred, 0.7)
    except ImportError:
        pass
    try:
        open({truth_path!r}).read()
        return 0.5
    except OSError:
        raise RuntimeError("{CANARY}")
'''
    result = _score(family, tmp_path, "fbeta_macro", code=code)
    assert result.valid and result.normalized == 0.0
    assert CANARY not in result.message


def test_a_crash_at_import_scores_zero_without_its_text(family, tmp_path):
    code = f'raise SystemExit("{CANARY}")\n'
    result = _score(family, tmp_path, "ece", code=code)
    assert CANARY not in result.message
    assert not result.valid or result.normalized == 0.0
