"""layer_shapes: predict the output shape after every layer of a printed layer stack.

Three graded variants, each a seeded stack in `workspace/<variant>/model.txt` (printed the
way PyTorch prints modules, with its input shape): an MLP over a sequence (`mlp`), a
convolution/pooling stack with stride, padding, dilation and ceil mode (`conv`), and a
mixed 1-d/2-d stack with transposed convolutions, reshapes and adaptive pooling (`mixed`).
The answer is a JSON list of shapes in `<variant>/answer.json`; the scorer compares it on
the host with `stacks.output_shapes`. Pass/fail; no agent code runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from rdbench.errors import InvalidSubmission
from rdbench.families._common import FamilyBase, VariantSpec, read_output
from rdbench.families.layer_shapes.stacks import make_stack, output_shapes
from rdbench.tasks.contract import Resources, TaskVariant

MAX_ANSWER_BYTES = 64 * 1024


class LayerShapes(FamilyBase):
    name = "layer_shapes"
    summary = "Predict the tensor shape after every layer of a printed PyTorch-style stack"
    resources = Resources(cores=1, memory_mb=1024, disk_mb=256, max_processes=64)
    final_score_policy = "final"
    score_visible = False
    quick = True
    specs = (
        VariantSpec("mlp", 2.0, {"variant_dir": "mlp", "layers": 6}),
        VariantSpec("conv", 7.0, {"variant_dir": "conv", "layers": 8}),
        VariantSpec("mixed", 12.0, {"variant_dir": "mixed", "layers": 12}),
    )

    def validate(self, workspace: Path, variant: TaskVariant) -> str:
        """Check that the answer is a list of one shape per layer, without grading it.

        Raises:
            InvalidSubmission: see `read_shapes`.
        """
        read_shapes(workspace, variant.name, int(variant.params["layers"]))
        return "The answer is well-formed. It is graded only at the end of the attempt."

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return 1.0 when every predicted shape is right, else 0.0.

        Raises:
            InvalidSubmission: see `read_shapes`.
        """
        shape, layers = make_stack(variant.name)
        expected = output_shapes(shape, layers)
        answer = read_shapes(workspace, variant.name, len(expected))
        return 1.0 if answer == expected else 0.0


def read_shapes(workspace: Path, variant: str, count: int) -> list[list[int]]:
    """Return the shapes in `<variant>/answer.json` (symlinks refused).

    Raises:
        InvalidSubmission: missing, a symlink, too large, not JSON, or not a list of
            `count` lists of positive integers.
    """
    rel = f"{variant}/answer.json"
    data = read_output(workspace, rel, max_bytes=MAX_ANSWER_BYTES)
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidSubmission(f"{rel} is not valid JSON") from None
    ok = isinstance(value, list) and all(
        isinstance(s, list)
        and s
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in s)
        for s in value
    )
    if not ok:
        raise InvalidSubmission(f"{rel} must be a JSON list of shapes (lists of positive ints)")
    if len(value) != count:
        raise InvalidSubmission(f"{rel} must hold one shape per layer: {count} shapes")
    return value
