"""Train the reference model (model.py) as a masked LM on data/train.txt.gz; save model.pt.

Usage: python train.py [--steps N] [--batch B] [--lr LR] [--seed S] [--threads T]

Differences from the starting script: AdamW with a linear warm-up and a cosine decay,
gradient clipping, and many more steps (the model has no normalization, so the warm-up and
the clipping keep the early steps stable). The training loop may use any operation; only
the model's forward pass is restricted.
"""

import argparse
import math
import time

import torch
import torch.nn.functional as F

from evaluate import validation_loss
from mlm_data import PAD_ID, encode, load_split, masked_windows
from model import build_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--out", default="model.pt")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_ids = encode(load_split("train"))
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 20)
    start = time.time()
    for step in range(args.steps):
        lr = args.lr * min(1.0, (step + 1) / warmup)
        lr *= 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = masked_windows(train_ids, args.batch, seed=args.seed * 1_000_003 + step)
        inputs = torch.from_numpy(inputs).long()
        targets = torch.from_numpy(targets).long()
        logits = model(inputs)
        masked = targets != PAD_ID
        loss = F.cross_entropy(logits[masked], targets[masked])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0:
            elapsed = time.time() - start
            print(f"step {step}: train loss {loss.item():.3f} ({elapsed:.0f}s)", flush=True)
    torch.save(model.state_dict(), args.out)
    print(f"saved {args.out}; validation loss {validation_loss(model):.4f}", flush=True)


if __name__ == "__main__":
    main()
