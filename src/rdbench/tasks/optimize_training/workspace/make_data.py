"""Write the training tokens the way the scorer hands them to train.py.

Usage: python make_data.py [--permute SEED] [--out data/train.npy]

Encodes `data/train.txt.gz` one id per character (77 ids: 0 pad, 1 unknown, 2 mask, then
the characters below) into a uint8 .npy file. The scorer relabels the ids with a random
permutation drawn from its own secret seed, so no id means a fixed character; pass
`--permute SEED` to do the same here. It also writes `data/validation.npy` (same
relabelling) for your own measurements; the scorer evaluates on text you do not have.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

CHARS = "\n !'(),-.:;?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
VOCAB_SIZE = 3 + len(CHARS)
DATA = Path(__file__).resolve().parent / "data"


def encode(text: str) -> np.ndarray:
    """Return the uint8 ids of `text`, one per character (unknown -> 1)."""
    table = bytearray([1]) * 256
    for i, c in enumerate(CHARS):
        table[ord(c)] = 3 + i
    data = text.encode("ascii", errors="replace").translate(bytes(table))
    return np.frombuffer(data, dtype=np.uint8).copy()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--permute", type=int, default=None, help="relabel ids with this seed")
    parser.add_argument("--out", type=Path, default=DATA / "train.npy")
    args = parser.parse_args()
    relabel = np.arange(VOCAB_SIZE, dtype=np.uint8)
    if args.permute is not None:
        relabel = np.random.default_rng(args.permute).permutation(VOCAB_SIZE).astype(np.uint8)
    for split, out in (("train", args.out), ("validation", args.out.with_name("validation.npy"))):
        with gzip.open(DATA / f"{split}.txt.gz", "rt", encoding="utf-8") as f:
            ids = relabel[encode(f.read())]
        np.save(out, ids)
        print(f"wrote {out} ({len(ids)} tokens)")


if __name__ == "__main__":
    main()
