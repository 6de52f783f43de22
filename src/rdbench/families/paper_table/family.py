"""paper_table: reproduce numbers of a small paper-style table from a seeded experiment.

The workspace holds an excerpt of a paper (`paper.md`, four experiments described to the
letter) and its data generator (`gen.py`). Each task names one cell, row or table of the
paper for its own seeds; the agent writes the numbers into `results.json`. The scorer
compares them on the host with the paper's values (`hidden/truth.json`, produced by
`reference/reproduce.py`). Binary: every key within 1e-6 + 1e-4 x |value|.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from rdbench.errors import InvalidSubmission
from rdbench.families._common import FamilyBase, VariantSpec, read_json_output
from rdbench.tasks.contract import Resources, TaskVariant

RESULTS = "results.json"
ABS_TOL, REL_TOL = 1e-6, 1e-4


class PaperTable(FamilyBase):
    name = "paper_table"
    summary = "Reproduce numbers of a paper-style table from a precisely described experiment"
    resources = Resources(cores=2, memory_mb=2048, disk_mb=512)
    quick = True
    specs = (
        VariantSpec("cell", 3, {"seed": 7351, "d": 6, "keys": ["e1_test_accuracy"]}),
        VariantSpec(
            "row",
            10,
            {
                "seed": 90210,
                "d": 8,
                "keys": ["e2_mse_lam_0.1", "e2_mse_lam_1", "e2_mse_lam_10", "e2_mse_lam_100"],
            },
        ),
        VariantSpec(
            "cv",
            35,
            {"seed": 5120, "d": 5, "keys": ["e3_best_k", "e3_cv_accuracy", "e3_test_accuracy"]},
        ),
        VariantSpec(
            "bootstrap",
            75,
            {
                "seed": 2718,
                "d": 7,
                "keys": [
                    "e4_acc_logreg",
                    "e4_acc_nc",
                    "e4_diff",
                    "e4_ci_low",
                    "e4_ci_high",
                    "e4_p_value",
                ],
            },
        ),
    )

    def truth(self) -> dict[str, float]:
        """Return the paper's values, by key (hidden from the agent)."""
        return json.loads((self.hidden_dir / "truth.json").read_text())

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return 1.0 when every key of the task matches the paper's value, else 0.0.

        Raises:
            InvalidSubmission: results.json is missing, a symlink, not a JSON object, or a
                key of the task holds something other than a number.
        """
        results = read_json_output(workspace, RESULTS, max_bytes=1 << 20)
        if not isinstance(results, dict):
            raise InvalidSubmission(f"{RESULTS} must hold a JSON object")
        truth = self.truth()
        for key in spec.params["keys"]:
            if key not in results:
                return 0.0
            value = results[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidSubmission(f"{RESULTS}: {key} must be a number")
            if not math.isfinite(value):
                return 0.0
            if abs(value - truth[key]) > ABS_TOL + REL_TOL * abs(truth[key]):
                return 0.0
        return 1.0
