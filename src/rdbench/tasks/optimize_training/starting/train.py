"""Train the model in model.py on the tokens in --data and save its weights to --out.

Usage: python train.py --data data/train.npy --out model.pt --seed 0

This is how the scorer runs it (its own data path, output path and seed), timing the whole
command. Holds out the last 5% of the tokens to report progress.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from model import CONTEXT, VOCAB_SIZE, TinyGPT

BATCH_SIZE = 16
MICRO_BATCH = 4  # gradient accumulation: BATCH_SIZE // MICRO_BATCH micro-batches per step
LEARNING_RATE = 3e-4
MAX_STEPS = 1200
EVAL_EVERY = 50
EVAL_BATCHES = 50


def get_batch(
    data: np.ndarray, rng: np.random.Generator, size: int = MICRO_BATCH
) -> tuple[torch.Tensor, torch.Tensor]:
    ix = rng.integers(0, len(data) - CONTEXT - 1, size=size)
    x = torch.stack([torch.from_numpy(data[i : i + CONTEXT].astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy(data[i + 1 : i + 1 + CONTEXT].astype(np.int64)) for i in ix])
    return x, y


@torch.no_grad()
def estimate_loss(model: TinyGPT, data: np.ndarray, rng: np.random.Generator) -> float:
    model.eval()
    losses = []
    for _ in range(EVAL_BATCHES):
        x, y = get_batch(data, rng, BATCH_SIZE)
        logits = model(x)
        losses.append(F.cross_entropy(logits.view(-1, VOCAB_SIZE), y.view(-1)).item())
    model.train()
    return float(np.mean(losses))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(1)  # reproducible runs
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    tokens = np.load(args.data)
    split = int(0.95 * len(tokens))
    train_data, val_data = tokens[:split], tokens[split:]

    model = TinyGPT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    start = time.time()
    for step in range(MAX_STEPS + 1):
        if step % EVAL_EVERY == 0:
            val_loss = estimate_loss(model, val_data, rng)
            print(f"step {step}: held-out loss {val_loss:.4f} ({time.time() - start:.1f}s)", flush=True)
        if step == MAX_STEPS:
            break
        optimizer.zero_grad()
        for _ in range(BATCH_SIZE // MICRO_BATCH):
            x, y = get_batch(train_data, rng)
            logits = model(x)
            loss = F.cross_entropy(logits.view(-1, VOCAB_SIZE), y.view(-1))
            (loss / (BATCH_SIZE // MICRO_BATCH)).backward()
        optimizer.step()
    torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
