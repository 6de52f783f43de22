"""Train model.py's model as a masked language model on data/train.txt.gz; save model.pt.

Usage: python train.py [--steps N] [--batch B] [--lr LR] [--seed S]

The training loop may use any operation (only the model's forward pass is restricted).
"""

import argparse
import time

import torch
import torch.nn.functional as F

from evaluate import validation_loss
from mlm_data import PAD_ID, encode, load_split, masked_windows
from model import build_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="model.pt")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    train_ids = encode(load_split("train"))
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    start = time.time()
    for step in range(args.steps):
        inputs, targets = masked_windows(train_ids, args.batch, seed=args.seed * 1_000_003 + step)
        inputs = torch.from_numpy(inputs).long()
        targets = torch.from_numpy(targets).long()
        logits = model(inputs)
        masked = targets != PAD_ID
        loss = F.cross_entropy(logits[masked], targets[masked])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step}: train loss {loss.item():.3f} ({time.time() - start:.0f}s)")
    torch.save(model.state_dict(), args.out)
    print(f"saved {args.out}; validation loss {validation_loss(model):.4f}")


if __name__ == "__main__":
    main()
