"""Evaluation of a next-character language model, shared by the scorer and the agent.

`evaluation_windows` cuts a text into fixed windows; `mean_loss` returns the model's mean
next-character cross-entropy (nats) over every predicted position of those windows.
Imports torch and numpy only, so it runs inside the scoring jail.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CONTEXT = 128
PAD_ID, UNK_ID = 0, 1
CHARS = (
    "\n !'(),-.:;?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_TABLE = bytearray([UNK_ID]) * 256
for _i, _c in enumerate(CHARS):
    _TABLE[ord(_c)] = 3 + _i


def encode(text: str) -> np.ndarray:
    """Return the character ids of `text` as uint8 (the vocabulary of tokenizer.py)."""
    return np.frombuffer(text.encode("ascii", "replace").translate(bytes(_TABLE)), np.uint8)


def evaluation_windows(text: str, count: int, seed: int) -> torch.Tensor:
    """Return `count` windows of CONTEXT + 1 ids from `text`, at seeded random offsets.

    Raises:
        ValueError: the text is shorter than one window.
    """
    ids = encode(text)
    if len(ids) <= CONTEXT + 1:
        raise ValueError("the text is shorter than one evaluation window")
    starts = np.random.default_rng(seed).integers(0, len(ids) - CONTEXT - 1, size=count)
    windows = np.stack([ids[s : s + CONTEXT + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(windows)


@torch.no_grad()
def mean_loss(model: torch.nn.Module, windows: torch.Tensor, batch_size: int = 64) -> float:
    """Return the mean next-character cross-entropy (nats) of `model` over `windows`.

    Raises:
        ValueError: the model's output does not have shape [batch, CONTEXT, vocabulary].
    """
    model.eval()
    total, count = 0.0, 0
    for batch in windows.split(batch_size):
        inputs, targets = batch[:, :-1], batch[:, 1:]
        logits = model(inputs)
        if logits.dim() != 3 or logits.shape[:2] != inputs.shape:
            raise ValueError(f"model output has shape {tuple(logits.shape)}, expected [B, T, V]")
        loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="sum")
        total += float(loss)
        count += targets.numel()
    return total / count
