"""Data for restricted_mlm: the corpus splits, the character tokenizer and masking.

Shared by the scorer (on the hidden test text) and the agent's `evaluate.py` and `train.py`
(on the train and validation text in `data/`). Needs numpy only.

The evaluation cuts `count` non-overlapping windows of `LENGTH` characters at seeded offsets and
replaces a seeded random `MASK_RATE` of the positions of each window (at least one) by
`MASK_ID`. The model sees only the masked windows and must return logits for every position;
the loss is the mean cross-entropy (nats) of the original characters at the masked positions.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

LENGTH = 128
MASK_RATE = 0.15
PAD_ID, UNK_ID, MASK_ID = 0, 1, 2
CHARS = "\n !'(),-.:;?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
VOCAB_SIZE = 3 + len(CHARS)  # 77
_TABLE = bytearray([UNK_ID]) * 256
for _i, _c in enumerate(CHARS):
    _TABLE[ord(_c)] = 3 + _i
_TABLE = bytes(_TABLE)


def load_split(name: str, data_dir: str | Path = "data") -> str:
    """Return the text of `data/<name>.txt.gz` ("train" or "validation")."""
    return gzip.decompress(Path(data_dir, f"{name}.txt.gz").read_bytes()).decode("utf-8")


def encode(text: str) -> np.ndarray:
    """Return the character ids of `text` as uint8 (unknown characters -> UNK_ID)."""
    return np.frombuffer(text.encode("ascii", "replace").translate(_TABLE), np.uint8).copy()


def decode(ids) -> str:
    """Return the text of character ids (mask shown as "_", padding dropped)."""
    table = ["", "?", "_"] + list(CHARS)
    return "".join(table[int(i)] for i in ids)


def masked_windows(
    ids: np.ndarray, count: int, seed: int, length: int = LENGTH, mask_rate: float = MASK_RATE
) -> tuple[np.ndarray, np.ndarray]:
    """Return (inputs, targets): `count` windows of `length` ids, masked at seeded positions.

    The windows never overlap (no character is in two windows, so a masked character is
    visible nowhere else) and come in random order: the text is cut into slots of
    `2 * length`, `count` slots are drawn without replacement, and each window starts at a
    seeded offset inside its slot. `inputs` is uint8 [count, length] with MASK_ID at the
    masked positions; `targets` is uint8 [count, length] holding the original id at masked
    positions and PAD_ID elsewhere.

    Raises:
        ValueError: `ids` is too short for `count` non-overlapping windows.
    """
    rng = np.random.default_rng(seed)
    starts = window_starts(len(ids), count, rng, length)
    windows = np.stack([ids[s : s + length] for s in starts]).astype(np.uint8)
    mask = rng.random((count, length)) < mask_rate
    mask[np.arange(count), rng.integers(0, length, size=count)] = True  # at least one
    inputs = np.where(mask, MASK_ID, windows).astype(np.uint8)
    targets = np.where(mask, windows, PAD_ID).astype(np.uint8)
    return inputs, targets


def window_starts(
    n_ids: int, count: int, rng: np.random.Generator, length: int = LENGTH
) -> np.ndarray:
    """Return `count` start offsets of non-overlapping windows of `length` in `n_ids` ids.

    Slots of `2 * length` ids are drawn without replacement (in random order); each window
    starts at a random offset within its first half, so no two windows share an id.

    Raises:
        ValueError: fewer than `count` slots fit.
    """
    slot = 2 * length
    slots = (n_ids - length) // slot + 1 if n_ids >= length else 0
    if slots < count:
        raise ValueError(f"the text is too short for {count} non-overlapping windows")
    chosen = rng.choice(slots, size=count, replace=False)
    room = np.minimum(length, n_ids - length - chosen * slot + 1)
    return chosen * slot + (rng.random(count) * room).astype(np.int64)


def masked_loss(logits: np.ndarray, targets: np.ndarray) -> float:
    """Return the mean cross-entropy (nats) at the masked positions.

    `logits` is float [n_masked, VOCAB_SIZE]: the model's logits at the positions where
    `targets != PAD_ID`, in row-major order; `targets` is the [count, length] target array.
    Computed in float64 numpy (log-sum-exp), outside any model code.

    Raises:
        ValueError: shapes that do not match, or non-finite logits.
    """
    labels = targets[targets != PAD_ID].astype(np.int64)
    logits = np.asarray(logits, dtype=np.float64)
    if logits.shape != (len(labels), VOCAB_SIZE):
        raise ValueError(f"logits have shape {logits.shape}, expected {(len(labels), VOCAB_SIZE)}")
    if not np.isfinite(logits).all():
        raise ValueError("the model returned NaN or infinite logits")
    peak = logits.max(axis=1, keepdims=True)
    log_norm = peak[:, 0] + np.log(np.exp(logits - peak).sum(axis=1))
    return float(np.mean(log_norm - logits[np.arange(len(labels)), labels]))
