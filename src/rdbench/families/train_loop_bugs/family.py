"""train_loop_bugs: find and fix the bugs in a small numpy training loop.

Each variant's `<variant>/nn.py` and `<variant>/train.py` hold a two-layer MLP trainer that
SPEC.md describes exactly, with one to ten bugs planted (missing `zero_grad`, a gradient of
the summed loss, statistics leaking from the validation split, a NaN from a constant
feature, labels not shuffled with their inputs, a wrong bias gradient, a ReLU backward on
the wrong mask, a momentum buffer that never updates, a dropped last batch, a selection rule
that prefers later epochs on ties). The scorer runs the agent's `fit()` in a jail on two
hidden seeded data sets and compares every returned array on the host with the correct
implementation's. Pass/fail.
"""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from rdbench.families._common import FamilyBase, VariantSpec, read_output
from rdbench.families._harness import run_harness
from rdbench.families.train_loop_bugs.data import make_data
from rdbench.families.train_loop_bugs.sources import VARIANTS, correct_sources
from rdbench.tasks.contract import Resources, TaskVariant

HARNESS = Path(__file__).resolve().parent / "harness.py"
KEYS = ("mean", "std", "W1", "b1", "W2", "b2", "best_val_acc")
RTOL, ATOL = 1e-5, 1e-7
SCORE_TIMEOUT_S = 120.0


def hidden_seeds(variant: str) -> list[int]:
    """Return the seeds of the variant's two hidden data sets."""
    base = 7_000_003 * (1 + list(VARIANTS).index(variant))
    return [base + 11, base + 29]


def run_sources(
    files: dict[str, str], data: dict[str, np.ndarray], seed: int
) -> dict[str, np.ndarray]:
    """Run trusted `nn.py` + `train.py` texts (the correct code, or the catalogue's bugs for
    the tests) in this process on `data` and return fit()'s outputs as float arrays."""
    namespace: dict[str, Any] = {"__name__": "rdbench_correct_nn"}
    exec(compile(files["nn.py"], "nn.py", "exec"), namespace)  # noqa: S102 - trusted family code
    train_ns = {k: v for k, v in namespace.items() if not k.startswith("__")}
    train_ns["__name__"] = "rdbench_correct_train"
    source = files["train.py"].replace(
        "from nn import SGD, Linear, ReLU, Sequential, softmax_cross_entropy\n", ""
    )
    exec(compile(source, "train.py", "exec"), train_ns)  # noqa: S102 - trusted family code
    out = train_ns["fit"](data["X_train"], data["y_train"], data["X_val"], data["y_val"], seed=seed)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


@functools.cache
def expected(variant: str) -> tuple[dict[str, np.ndarray], ...]:
    """Return the correct fit() outputs on the variant's hidden data sets (host only)."""
    return tuple(
        run_sources(correct_sources(variant), make_data(s), s) for s in hidden_seeds(variant)
    )


def matches(got: Any, want: dict[str, np.ndarray]) -> bool:
    """Return True when `got` (JSON from the jail) has every key of `want` with equal values."""
    if not isinstance(got, dict):
        return False
    for key in KEYS:
        try:
            value = np.asarray(got[key], dtype=float)
        except (KeyError, TypeError, ValueError):
            return False
        if value.shape != want[key].shape or not np.allclose(value, want[key], RTOL, ATOL):
            return False
    return True


class TrainLoopBugs(FamilyBase):
    name = "train_loop_bugs"
    summary = "Find and fix the planted bugs in a numpy MLP training loop (hidden exact check)"
    resources = Resources(cores=1, memory_mb=2048, disk_mb=512, max_processes=64)
    final_score_policy = "final"
    score_visible = False
    quick = True
    specs = tuple(
        VariantSpec(name, conf["minutes"], {"variant_dir": name, "bugs": len(conf["bugs"])})
        for name, conf in VARIANTS.items()
    )

    def validate(self, workspace: Path, variant: TaskVariant) -> str:
        """Check that `<variant>/nn.py` and `train.py` are regular files; grade nothing.

        Raises:
            InvalidSubmission: a file is missing, a symlink or larger than 1 MB.
        """
        for name in ("nn.py", "train.py"):
            read_output(workspace, f"{variant.name}/{name}", max_bytes=1 << 20)
        return (
            "Graded only at the end of the attempt: fit() runs on hidden data and every "
            "returned array must equal the specified behaviour's."
        )

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return 1.0 when fit() reproduces the correct outputs on both hidden data sets.

        Raises:
            InvalidSubmission: the grading run timed out or crashed as a whole.
        """
        seeds = hidden_seeds(variant.name)
        payload = json.dumps({"variant": variant.name, "seeds": seeds, "count": len(seeds)})
        stdin = payload.encode() + b"\n"
        for seed in seeds:
            buffer = io.BytesIO()
            np.savez(buffer, **make_data(seed))
            blob = buffer.getvalue()
            stdin += len(blob).to_bytes(8, "little") + blob
        results = run_harness(
            workspace, HARNESS, stdin, timeout=SCORE_TIMEOUT_S, memory_mb=self.resources.memory_mb
        )
        if not isinstance(results, list) or len(results) != len(seeds):
            results = [None] * len(seeds)
        ok = [matches(got, want) for got, want in zip(results, expected(variant.name))]
        return 1.0 if all(ok) else 0.0
