"""Check metric.py against the public examples: python check_metric.py"""

import json
import math
from pathlib import Path

import metric
import numpy as np

examples = json.loads((Path(__file__).parent / "examples.json").read_text())
passed = 0
for i, ex in enumerate(examples):
    args = {k: np.asarray(v) for k, v in ex["inputs"].items()}
    got = metric.macro_fbeta(**args)
    ok = math.isclose(got, ex["expected"], rel_tol=1e-6, abs_tol=1e-9)
    passed += ok
    if not ok:
        print(f"example {i}: expected {ex['expected']!r}, got {got!r}")
print(f"{passed}/{len(examples)} public examples pass (the hidden tests are different)")
