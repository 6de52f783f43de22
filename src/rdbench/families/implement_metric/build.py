"""Write implement_metric's workspace: per variant a stub `metric.py`, public examples and
a checker; and the reference `metric.py`. Run: `python -m rdbench.families.implement_metric.build`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rdbench.families.implement_metric import truth

HERE = Path(__file__).resolve().parent

SIGNATURES = {
    "fbeta_macro": (
        "macro_fbeta(y_true, y_pred)",
        '''    """Return the macro-averaged F-beta score with beta = {beta}.

    y_true, y_pred: 1-d integer arrays of the same length (class labels, any integers).
    The average runs over every label that occurs in y_true or in y_pred (unweighted).
    For one label: F = (1 + b^2) * TP / ((1 + b^2) * TP + b^2 * FN + FP); a label whose
    denominator is 0 scores 0.
    """''',
    ),
    "ece": (
        "calibration_error(probs, labels)",
        '''    """Return the top-label expected calibration error with {n_bins} equal-width bins.

    probs: float array (n, k), each row a probability vector; labels: int array (n,).
    A sample's confidence is its largest probability and its prediction that class (ties:
    the lowest class index). Bins are (0, 1/{n_bins}], (1/{n_bins}, 2/{n_bins}], ...,
    with a confidence of exactly 0 in the first bin. ECE = sum over non-empty bins of
    (samples in bin / n) * |accuracy in bin - mean confidence in bin|.
    """''',
    ),
    "weighted_auc": (
        "weighted_auc(scores, labels, weights)",
        '''    """Return the weighted area under the ROC curve.

    scores: float array (n,); labels: int array (n,) of 0/1; weights: float array (n,) >= 0.
    AUC = sum over (positive i, negative j) of w_i * w_j * ([s_i > s_j] + 0.5 * [s_i == s_j]),
    divided by (total positive weight) * (total negative weight). When either total is 0
    the AUC is 0.5. It must handle n = 200,000 within a few seconds.
    """''',
    ),
}

REFERENCE_BODY = {
    "fbeta_macro": """    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    b2 = BETA * BETA
    scores = []
    for label in np.union1d(y_true, y_pred):
        tp = np.sum((y_pred == label) & (y_true == label))
        fp = np.sum((y_pred == label) & (y_true != label))
        fn = np.sum((y_pred != label) & (y_true == label))
        denom = (1 + b2) * tp + b2 * fn + fp
        scores.append(0.0 if denom == 0 else (1 + b2) * tp / denom)
    return float(np.mean(scores))
""",
    "ece": """    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(float)
    index = np.clip(np.ceil(conf * N_BINS).astype(int) - 1, 0, N_BINS - 1)
    total = 0.0
    for b in range(N_BINS):
        mask = index == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)
""",
    "weighted_auc": """    scores = np.asarray(scores, dtype=float)
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
""",
}

CHECK = '''"""Check metric.py against the public examples: python check_metric.py"""

import json
import math
from pathlib import Path

import metric
import numpy as np

examples = json.loads((Path(__file__).parent / "examples.json").read_text())
passed = 0
for i, ex in enumerate(examples):
    args = {{k: np.asarray(v) for k, v in ex["inputs"].items()}}
    got = metric.{function}(**args)
    ok = math.isclose(got, ex["expected"], rel_tol=1e-6, abs_tol=1e-9)
    passed += ok
    if not ok:
        print(f"example {{i}}: expected {{ex['expected']!r}}, got {{got!r}}")
print(f"{{passed}}/{{len(examples)}} public examples pass (the hidden tests are different)")
'''


def constants(variant: str) -> str:
    conf = truth.VARIANTS[variant]
    if variant == "fbeta_macro":
        return f"BETA = {conf['beta']}\n\n\n"
    if variant == "ece":
        return f"N_BINS = {conf['n_bins']}\n\n\n"
    return ""


def module(variant: str, body: str, stub: bool = False) -> str:
    """Return metric.py's text: the reference (numpy) or the stub (no imports)."""
    signature, doc = SIGNATURES[variant]
    doc = doc.format(**truth.VARIANTS[variant])
    head = '"""The metric to implement (see the instructions)."""\n\n'
    if not stub:
        head += "import numpy as np\n\n" + ("" if constants(variant) else "\n")
    return f"{head}{constants(variant)}def {signature}:\n{doc}\n{body}"


def main() -> None:
    for variant, conf in truth.VARIANTS.items():
        rng = np.random.default_rng(conf["seed"] + 1)  # public examples: another seed
        maker = {
            "fbeta_macro": truth._fbeta_cases,
            "ece": truth._ece_cases,
            "weighted_auc": truth._auc_cases,
        }[variant]
        cases = [c for c in maker(rng) if len(next(iter(c.values()))) < 1000][:6]
        examples = [{"inputs": c, "expected": truth.expected(variant, c)} for c in cases]
        ws = HERE / "workspace" / variant
        ws.mkdir(parents=True, exist_ok=True)
        (ws / "examples.json").write_text(json.dumps(examples) + "\n")
        (ws / "check_metric.py").write_text(CHECK.format(function=conf["function"]))
        stub = '    raise NotImplementedError("implement me")\n'
        for sol, body in (("starting", stub), ("reference", REFERENCE_BODY[variant])):
            (HERE / sol / variant).mkdir(parents=True, exist_ok=True)
            text = module(variant, body, stub=sol == "starting")
            (HERE / sol / variant / "metric.py").write_text(text)


if __name__ == "__main__":
    main()
