"""Make fix_embedding's reference solution by repairing the corrupted starting model.

Usage: python make_reference.py [--steps 400] [--threads 1]
Reads starting/model.pt, writes reference/model.pt.

The repair an expert would try first: every tensor but the token embedding is intact, so
freeze them all and re-learn only `tok_emb.weight` (77 x 128 numbers) by next-character
training on the train split, starting from a fresh small random embedding (the corrupted
rows point in useless directions). Adam, constant learning rate, then a short decay.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lm_eval import CONTEXT, encode, evaluation_windows, mean_loss  # noqa: E402
from make_base import load_split  # noqa: E402
from model import build_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    model = build_model()
    model.load_state_dict(torch.load(HERE / "starting" / "model.pt", weights_only=True))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    embedding = model.tok_emb.weight
    with torch.no_grad():
        embedding.normal_(0.0, 0.02)
    embedding.requires_grad_(True)
    optimizer = torch.optim.Adam([embedding], lr=args.lr)
    train = torch.from_numpy(encode(load_split("train")).astype(np.int64))
    valid = evaluation_windows(load_split("validation"), 256, seed=1)
    print(f"validation loss before: {mean_loss(model, valid):.4f}", flush=True)
    start = time.time()
    model.train()  # no dropout in this model; train() only for form
    for step in range(args.steps):
        lr = args.lr if step < args.steps // 2 else args.lr * 2 * (1 - step / args.steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        offsets = rng.integers(0, len(train) - CONTEXT - 1, args.batch).tolist()
        batch = torch.stack([train[o : o + CONTEXT + 1] for o in offsets])
        loss = F.cross_entropy(model(batch[:, :-1]).flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} train {loss.item():.3f} valid {mean_loss(model, valid):.4f} "
                  f"{time.time() - start:.0f}s", flush=True)
    torch.save(model.state_dict(), HERE / "reference" / "model.pt")


if __name__ == "__main__":
    main()
