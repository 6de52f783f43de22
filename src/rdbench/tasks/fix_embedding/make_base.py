"""Train the uncorrupted base model of fix_embedding on the corpus's train split.

Usage: python make_base.py OUT.pt [--steps 2000] [--threads 1]

Deterministic for a given torch build and thread count; run once by the family's author,
then `corrupt.py` turns its weights into the starting `model.pt`. The base weights are not
shipped (they are the answer); `make_reference.py` repairs the corrupted model instead.
"""

from __future__ import annotations

import argparse
import gzip
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lm_eval import CONTEXT, encode, evaluation_windows, mean_loss  # noqa: E402
from model import build_model  # noqa: E402

SPLITS = HERE.parent / "data" / "kjv_splits"


def load_split(name: str) -> str:
    """Return the text of the shipped `train` or `validation` split."""
    return gzip.decompress((SPLITS / f"{name}.txt.gz").read_bytes()).decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = torch.from_numpy(encode(load_split("train")).astype(np.int64))
    valid = evaluation_windows(load_split("validation"), 256, seed=1)
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = 100
    start = time.time()
    for step in range(args.steps):
        lr = args.lr * min(1.0, (step + 1) / warmup)
        lr *= 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        offsets = torch.from_numpy(rng.integers(0, len(train) - CONTEXT - 1, args.batch))
        batch = torch.stack([train[o : o + CONTEXT + 1] for o in offsets.tolist()])
        model.train()
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 200 == 0 or step == args.steps - 1:
            print(f"step {step} train {loss.item():.3f} valid {mean_loss(model, valid):.4f} "
                  f"{time.time() - start:.0f}s", flush=True)
    torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
