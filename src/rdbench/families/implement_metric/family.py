"""implement_metric: implement an evaluation metric exactly to its written specification.

Each variant's `<variant>/metric.py` holds a documented stub: a macro F-beta with an unusual
beta (`fbeta_macro`), a top-label calibration error with a stated binning (`ece`), and a
weighted ROC AUC with ties that must scale to 200,000 samples (`weighted_auc`). The scorer
runs the agent's function in a jail on seeded hidden cases (edge cases included) and
compares every value on the host with `truth.py`. Raw score = fraction of hidden cases
right; success = all of them (threshold 1.0).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from rdbench.families._common import FamilyBase, VariantSpec, read_output
from rdbench.families._harness import run_harness
from rdbench.families.implement_metric.truth import VARIANTS, expected, hidden_cases
from rdbench.tasks.contract import Resources, TaskVariant

HARNESS = Path(__file__).resolve().parent / "harness.py"
SCORE_TIMEOUT_S = 60.0
REL_TOL, ABS_TOL = 1e-6, 1e-9


class ImplementMetric(FamilyBase):
    name = "implement_metric"
    summary = "Implement an evaluation metric to its written spec (hidden tests, edge cases)"
    resources = Resources(cores=1, memory_mb=2048, disk_mb=256, max_processes=64)
    final_score_policy = "final"
    score_visible = False
    quick = True
    specs = (
        VariantSpec("fbeta_macro", 10.0, {"variant_dir": "fbeta_macro", "function": "macro_fbeta"}),
        VariantSpec("ece", 20.0, {"variant_dir": "ece", "function": "calibration_error"}),
        VariantSpec(
            "weighted_auc", 30.0, {"variant_dir": "weighted_auc", "function": "weighted_auc"}
        ),
    )

    def validate(self, workspace: Path, variant: TaskVariant) -> str:
        """Check that `<variant>/metric.py` is a regular file; the hidden tests stay hidden.

        Raises:
            InvalidSubmission: the file is missing, a symlink or larger than 1 MB.
        """
        read_output(workspace, f"{variant.name}/metric.py", max_bytes=1 << 20)
        return (
            "Graded only at the end of the attempt on hidden cases; run check_metric.py "
            "for the public examples."
        )

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return the fraction of hidden cases on which the function returns the right value.

        Raises:
            InvalidSubmission: the grading run timed out or crashed as a whole.
        """
        cases = hidden_cases(variant.name)
        request = {
            "module": f"{variant.name}/metric.py",
            "function": VARIANTS[variant.name]["function"],
            "cases": cases,
        }
        values = run_harness(
            workspace,
            HARNESS,
            json.dumps(request).encode(),
            timeout=SCORE_TIMEOUT_S,
            memory_mb=self.resources.memory_mb,
        )
        if not isinstance(values, list) or len(values) != len(cases):
            return 0.0
        right = 0
        for got, case in zip(values, cases):
            want = expected(variant.name, case)
            if (
                isinstance(got, (int, float))
                and not isinstance(got, bool)
                and math.isclose(float(got), want, rel_tol=REL_TOL, abs_tol=ABS_TOL)
            ):
                right += 1
        return right / len(cases)
