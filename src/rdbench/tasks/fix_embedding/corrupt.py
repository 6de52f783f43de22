"""Corrupt the base model's token embedding into the starting `model.pt` of fix_embedding.

Usage: python corrupt.py BASE.pt OUT.pt

Structured, not random: the rows of `tok_emb.weight` are permuted (tokens swap their
vectors), every row is rotated by one random orthogonal matrix and scaled by a constant.
All other tensors are copied unchanged. Deterministic (seeded numpy).
"""

from __future__ import annotations

import sys

import numpy as np
import torch

SEED = 7_405_331
SCALE = 3.0


def corrupt(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Return a copy of `state` with `tok_emb.weight` permuted, rotated and scaled."""
    rng = np.random.default_rng(SEED)
    embedding = state["tok_emb.weight"].double().numpy()
    vocab, width = embedding.shape
    permutation = rng.permutation(vocab)
    rotation, _ = np.linalg.qr(rng.standard_normal((width, width)))
    corrupted = SCALE * embedding[permutation] @ rotation
    out = {key: value.clone() for key, value in state.items()}
    out["tok_emb.weight"] = torch.from_numpy(corrupted).to(state["tok_emb.weight"].dtype)
    return out


def main() -> None:
    base, out = sys.argv[1], sys.argv[2]
    torch.save(corrupt(torch.load(base, weights_only=True)), out)


if __name__ == "__main__":
    main()
