"""Trusted yardstick, run by the scorer in a one-shot jail beside the solution's runs.

Usage: python yardstick.py TRAIN.npy STEPS_1 STEPS_2

A fixed piece of the work the solutions do: training steps of the task's own model
(`evaluate.TinyGPT`, batch 16, context 128, AdamW) on the run's training tokens, first
STEPS_1 steps on one thread, then STEPS_2 steps on two threads (each after two untimed
warm-up steps). Prints one JSON line: {"t1": seconds of the one-thread steps, "t2":
seconds of the two-thread steps}. The scorer divides the solution's wall time by these
times (interpolated by how many cores the solution kept busy), so that the machine's speed
and its steady background load cancel out of the score.
"""

import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from evaluate import CONTEXT, VOCAB_SIZE, TinyGPT

BATCH_SIZE = 16
WARMUP_STEPS = 2


def timed_steps(model, optimizer, data, threads: int, steps: int) -> float:
    """Run WARMUP_STEPS untimed, then `steps` timed training steps; return their seconds."""
    torch.set_num_threads(threads)
    offsets = torch.arange(CONTEXT + 1)
    start = 0.0
    for step in range(WARMUP_STEPS + steps):
        if step == WARMUP_STEPS:
            start = time.perf_counter()
        starts = torch.randint(0, len(data) - CONTEXT - 1, (BATCH_SIZE, 1))
        batch = data[starts + offsets]
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    torch.manual_seed(0)
    data = torch.from_numpy(np.load(sys.argv[1]).astype(np.int64))
    model = TinyGPT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    t1 = timed_steps(model, optimizer, data, 1, int(sys.argv[2]))
    t2 = timed_steps(model, optimizer, data, 2, int(sys.argv[3]))
    print(json.dumps({"t1": t1, "t2": t2}))


if __name__ == "__main__":
    main()
