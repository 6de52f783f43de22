"""pick_checkpoint: read a training log and name the checkpoint that should be deployed.

Three graded variants, each with its own seeded log in `workspace/<variant>/`: a plain
text log with a U-shaped validation curve (`lowest_val`), a JSON-lines log where not every
evaluation has a checkpoint (`val_accuracy`), and a crashed-and-resumed run whose trainer
deletes old checkpoints (`resumed`). The answer is one line in `<variant>/answer.txt`;
the scorer compares it on the host with the answer `gen.make_log` derives from the seed.
Pass/fail; no agent code runs.
"""

from __future__ import annotations

from pathlib import Path

from rdbench.errors import InvalidSubmission
from rdbench.families._common import FamilyBase, VariantSpec, read_output
from rdbench.families.pick_checkpoint.gen import make_log
from rdbench.tasks.contract import Resources, TaskVariant

MAX_ANSWER_BYTES = 4096


class PickCheckpoint(FamilyBase):
    name = "pick_checkpoint"
    summary = "Read a training log and name the checkpoint to deploy"
    resources = Resources(cores=1, memory_mb=1024, disk_mb=256, max_processes=64)
    final_score_policy = "final"
    score_visible = False
    quick = True
    specs = (
        VariantSpec(
            "lowest_val", 2.0, {"log": "lowest_val/train.log", "answer": "lowest_val/answer.txt"}
        ),
        VariantSpec(
            "val_accuracy",
            3.0,
            {"log": "val_accuracy/metrics.jsonl", "answer": "val_accuracy/answer.txt"},
        ),
        VariantSpec("resumed", 8.0, {"log": "resumed/run.log", "answer": "resumed/answer.txt"}),
    )

    def validate(self, workspace: Path, variant: TaskVariant) -> str:
        """Check that the answer file exists and holds one line, without grading it.

        Raises:
            InvalidSubmission: the answer is missing, a symlink, too large or empty.
        """
        read_answer(workspace, variant.name)
        return "The answer file is well-formed. It is graded only at the end of the attempt."

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return 1.0 when `<variant>/answer.txt` names the right checkpoint, else 0.0.

        Raises:
            InvalidSubmission: see `read_answer`.
        """
        answer = read_answer(workspace, variant.name)
        _, expected = make_log(variant.name)
        return 1.0 if normalize_path(answer) == normalize_path(expected) else 0.0


def read_answer(workspace: Path, variant: str) -> str:
    """Return the stripped single line of `<variant>/answer.txt` (symlinks refused).

    Raises:
        InvalidSubmission: missing, not a regular file, too large, not UTF-8, empty, or
            more than one non-empty line.
    """
    data = read_output(workspace, f"{variant}/answer.txt", max_bytes=MAX_ANSWER_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission(f"{variant}/answer.txt is not UTF-8 text") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise InvalidSubmission(f"{variant}/answer.txt must hold exactly one non-empty line")
    return lines[0]


def normalize_path(text: str) -> str:
    """Return a checkpoint path without quotes or a leading './' (so './a.pt' == 'a.pt')."""
    text = text.strip().strip("'\"`")
    while text.startswith("./"):
        text = text[2:]
    return text
