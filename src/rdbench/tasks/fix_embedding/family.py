"""fix_embedding: repair a trained language model whose token embedding was tampered with.

A CPU analogue of RE-Bench's fix-embedding environment, on the shared KJV corpus at
character level. A small GPT trained on the corpus had its token-embedding matrix
corrupted in a structured way (rows permuted, rotated and scaled); every other tensor is
intact. The agent submits repaired weights; the scorer builds the model from its own
architecture, loads the weights (no agent code runs) and measures the next-character loss
on hidden chapters. Score: log(loss - floor), lower is better.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from rdbench.errors import InvalidSubmission
from rdbench.sandbox import JailSpec, run_jailed
from rdbench.tasks._corpus import corpus_splits, encode_array
from rdbench.tasks.contract import Normalization, Resources, TaskFamily, TaskVariant

#: Below any loss reachable on 2 cores; the raw score is loss - FLOOR.
FLOOR = 0.7
#: A loss at or below the floor scores as this (a huge, finite score) rather than invalid.
MIN_RAW = 1e-3
HIDDEN_WINDOWS = 256
HIDDEN_SEED = 90_210_433  # the agent's evaluate.py uses seed 1 on the validation text
SCORE_TIMEOUT_S = 240.0
MAX_WEIGHTS_BYTES = 50 * 1024**2
CONTEXT = 128  # model.CONTEXT
_HERE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def hidden_windows() -> np.ndarray:
    """Return the scorer's evaluation windows (uint8 [count, 129]) from the hidden chapters.

    The same cut as `lm_eval.evaluation_windows` (which imports torch, so the harness does
    not use it): seeded random offsets, windows of the context length plus one.
    """
    _, _, hidden_text = corpus_splits()
    ids = encode_array(hidden_text)
    length = CONTEXT + 1
    starts = np.random.default_rng(HIDDEN_SEED).integers(0, len(ids) - length, size=HIDDEN_WINDOWS)
    return np.stack([ids[s : s + length] for s in starts]).astype(np.uint8)


class FixEmbedding(TaskFamily):
    name = "fix_embedding"
    summary = "Repair a char-level GPT whose token embedding was permuted, rotated and scaled"
    human_minutes = 120.0
    time_limit_s = 4 * 3600
    resources = Resources(cores=2, memory_mb=4096, disk_mb=2048)
    final_score_policy = "best"
    quick = True
    # Raw = next-character loss on the hidden windows - FLOOR (nats), measured by scoring
    # the shipped solutions (`score_solution`; deterministic): starting (corrupted) loss
    # 4.9580, reference (repaired) loss 1.2667; the uncorrupted base model gets 1.1305.
    normalization = Normalization(
        start=4.2580, reference=0.5667, transform="log", direction="lower"
    )

    def score(self, workspace: Path, variant: TaskVariant) -> float:
        """Return the loss of the workspace's model.pt on the hidden chapters minus FLOOR.

        Raises:
            InvalidSubmission: model.pt is missing, too large, not a state_dict of the
                task's model, or gives a non-finite loss.
        """
        weights = workspace / "model.pt"
        if not weights.is_file():
            raise InvalidSubmission("model.pt is missing from the workspace")
        if weights.stat().st_size > MAX_WEIGHTS_BYTES:
            raise InvalidSubmission("model.pt is larger than 50 MB")
        windows = hidden_windows()
        header = {"count": windows.shape[0], "length": windows.shape[1]}
        spec = JailSpec(
            workspace=workspace,
            ro_binds={
                str(_HERE / "runner.py"): "/rdbench/runner.py",
                str(_HERE / "model.py"): "/rdbench/model.py",
                str(_HERE / "lm_eval.py"): "/rdbench/lm_eval.py",
            },
            memory_mb=self.resources.memory_mb * 2,
            max_processes=self.resources.max_processes,
        )
        try:
            proc = run_jailed(
                spec,
                [sys.executable, "/rdbench/runner.py"],
                timeout=SCORE_TIMEOUT_S,
                input=json.dumps(header).encode() + b"\n" + windows.tobytes(),
            )
        except subprocess.TimeoutExpired as ex:
            raise InvalidSubmission(f"scoring took longer than {SCORE_TIMEOUT_S:.0f}s") from ex
        words = proc.stdout.decode(errors="replace").strip().split(" ", 1)
        if words[0] == "ok" and len(words) == 2:
            return max(float(words[1]) - FLOOR, MIN_RAW)
        if words[0] == "error" and len(words) == 2:
            raise InvalidSubmission(words[1])
        tail = proc.stderr.decode(errors="replace").strip()[-400:].replace("\n", " | ")
        raise InvalidSubmission(f"the scoring process failed (exit code {proc.returncode}): {tail}")
