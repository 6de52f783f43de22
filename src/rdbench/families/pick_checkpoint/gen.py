"""Seeded training logs for pick_checkpoint, and the checkpoint each one should deploy.

`make_log(variant)` returns the log text and the answer; `generate.py`-style use:
`python -m rdbench.families.pick_checkpoint.gen` rewrites the workspace logs (the test
suite checks the committed logs equal what this module generates).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

#: variant -> seed (the twist: each variant's curve, metric names and file names differ).
SEEDS = {"lowest_val": 7411, "val_accuracy": 5923, "resumed": 8187}
LOG_NAMES = {"lowest_val": "train.log", "val_accuracy": "metrics.jsonl", "resumed": "run.log"}


def _curve(rng: np.random.Generator, steps: np.ndarray, best: float) -> np.ndarray:
    """A U-shaped validation-loss curve with its minimum near step `best`, plus noise."""
    base = 1.2 + 1.8 * np.exp(-steps / (0.35 * best)) + 0.25 * np.maximum(steps - best, 0) / best
    return base + rng.normal(0.0, 0.012, size=steps.shape)


def _lowest_val(rng: np.random.Generator) -> tuple[str, str]:
    every = int(rng.choice([100, 125, 200, 250]))
    steps = np.arange(every, every * 40 + 1, every)
    best = float(steps[int(rng.integers(14, 26))])
    val = _curve(rng, steps, best)
    train = 1.1 + 2.0 * np.exp(-steps / (0.3 * best)) - 0.1 * steps / steps[-1]
    prefix = str(rng.choice(["ckpt", "model", "snapshot"]))
    lines = [
        f"# run {rng.integers(1000, 9999)}: eval every {every} steps, checkpoint at every eval"
    ]
    for step, t, v in zip(steps, train, val):
        lines.append(
            f"step {step:6d} | train_loss {t:.4f} | val_loss {v:.4f} | lr 3.0e-04 | "
            f"saved {prefix}-{step}.pt"
        )
    answer = f"{prefix}-{steps[int(np.argmin(np.round(val, 4)))]}.pt"
    return "\n".join(lines) + "\n", answer


def _val_accuracy(rng: np.random.Generator) -> tuple[str, str]:
    every = int(rng.choice([50, 80, 100]))
    save_every = every * int(rng.choice([3, 4]))
    steps = np.arange(every, every * 60 + 1, every)
    best = float(steps[int(rng.integers(25, 45))])
    acc = 0.93 - 0.4 * np.exp(-steps / (0.3 * best)) - 0.05 * np.maximum(steps - best, 0) / best
    acc = np.clip(acc + rng.normal(0.0, 0.006, size=steps.shape), 0, 1)
    # the single best evaluation has no checkpoint: the deployable best is among saved ones
    top = int(np.argmax(acc))
    if steps[top] % save_every == 0:
        acc[top] -= 0.02
        top = int(np.argmax(acc))
    acc[top] += 0.004 if steps[top] % save_every else 0.0
    records = []
    saved: dict[int, float] = {}
    for i, step in enumerate(steps):
        for sub in range(3):
            s = int(step - every + (sub + 1) * every // 3)
            records.append({"kind": "train", "step": s, "loss": round(0.3 + 2 / (1 + s / 300), 4)})
        records.append(
            {
                "kind": "eval",
                "step": int(step),
                "val_acc": round(float(acc[i]), 4),
                "val_loss": round(float(1.5 - acc[i]), 4),
            }
        )
        if step % save_every == 0:
            records.append(
                {
                    "kind": "checkpoint",
                    "step": int(step),
                    "path": f"checkpoints/step{int(step):05d}.ckpt",
                }
            )
            saved[int(step)] = round(float(acc[i]), 4)
    best_step = max(saved, key=lambda s: (saved[s], -s))
    text = "\n".join(json.dumps(r) for r in records) + "\n"
    return text, f"checkpoints/step{best_step:05d}.ckpt"


def _resumed(rng: np.random.Generator) -> tuple[str, str]:
    every = 200
    keep = int(rng.choice([4, 5]))
    crash = every * int(rng.integers(22, 27))
    pin = every * int(rng.integers(5, 8))
    resume = pin  # the trainer resumes from the pinned milestone, the last trusted state
    end = every * 40
    # first run: good until it diverges shortly before the crash
    lines = [f"[trainer] keep_last={keep} (older checkpoints are deleted, except 'pinned' ones)"]
    alive: list[str] = []
    pinned: set[str] = set()
    val_of: dict[str, float] = {}

    def save(step: int, v: float, lines: list[str]) -> None:
        path = f"ckpt/step_{step:06d}.pt"
        lines.append(f"[ckpt] saved {path}")
        if path in alive:
            alive.remove(path)
        alive.append(path)
        val_of[path] = v
        unpinned = [p for p in alive if p not in pinned]
        while len(unpinned) > keep:
            old = unpinned.pop(0)
            alive.remove(old)
            lines.append(f"[ckpt] deleted {old}")

    first = np.arange(every, crash + 1, every)
    best1 = float(pin + 8 * every)
    val1 = _curve(rng, first, best1) - 0.03
    for step, v in zip(first, val1):
        if step > crash - 3 * every:
            lines.append(f"[eval] step={step} val_loss=nan (loss scale overflow)")
            continue
        lines.append(f"[eval] step={step} val_loss={v:.4f}")
        save(int(step), round(float(v), 4), lines)
        if step == pin:
            pinned.add(f"ckpt/step_{step:06d}.pt")
            lines.append(f"[ckpt] pinned ckpt/step_{step:06d}.pt (milestone)")
    lines.append(f"[trainer] crashed at step {crash}: RuntimeError: CUDA error")
    lines.append(f"[trainer] resuming from ckpt/step_{resume:06d}.pt (pinned milestone)")
    second = np.arange(resume + every, end + 1, every)
    best2 = float(resume + 10 * every)
    val2 = _curve(rng, second, best2) + 0.01
    for step, v in zip(second, val2):
        lines.append(f"[eval] step={step} val_loss={v:.4f}")
        save(int(step), round(float(v), 4), lines)
    lines.append("[trainer] done")
    answer = min(alive, key=lambda p: (val_of[p], p))
    return "\n".join(lines) + "\n", answer


_MAKERS = {"lowest_val": _lowest_val, "val_accuracy": _val_accuracy, "resumed": _resumed}


def make_log(variant: str) -> tuple[str, str]:
    """Return (log text, the checkpoint path the variant's answer must name).

    Raises:
        KeyError: an unknown variant.
    """
    return _MAKERS[variant](np.random.default_rng(SEEDS[variant]))


def last_saved(text: str) -> str:
    """Return the last checkpoint path the log saves: the starting (naive, wrong) answer."""
    import re

    return re.findall(r"(?:saved |\"path\": \")([\w./-]+\.(?:pt|ckpt))", text)[-1]


def write_workspace(root: Path) -> None:
    """Write every variant's log into `root/workspace/<variant>/`, its answer into
    `root/reference/<variant>/answer.txt` and the last saved checkpoint (wrong) into
    `root/starting/<variant>/answer.txt`."""
    for variant in SEEDS:
        text, answer = make_log(variant)
        (root / "starting" / variant).mkdir(parents=True, exist_ok=True)
        (root / "starting" / variant / "answer.txt").write_text(last_saved(text) + "\n")
        (root / "workspace" / variant).mkdir(parents=True, exist_ok=True)
        (root / "workspace" / variant / LOG_NAMES[variant]).write_text(text)
        (root / "reference" / variant).mkdir(parents=True, exist_ok=True)
        (root / "reference" / variant / "answer.txt").write_text(answer + "\n")


if __name__ == "__main__":
    write_workspace(Path(__file__).resolve().parent)
    sys.exit(0)
