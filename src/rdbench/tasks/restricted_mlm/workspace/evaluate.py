"""Evaluate model.py + model.pt on the validation text exactly as the scorer does on hidden text.

Usage: python evaluate.py [--windows N]

Runs the static check of model.py, records one forward pass on the first batch of
validation windows (`graph.trace`), checks the recorded operations against the rules and
replays them on every batch (`graph.replay`), then prints the masked-LM loss (nats per
masked character). The scorer does the same with its own seed on hidden text (512
windows), in two separate processes; here errors are shown in full.
"""

import argparse
import sys

import graph
import numpy as np
import rules
import torch
from mlm_data import MASK_ID, encode, load_split, masked_loss, masked_windows

SCORER_WINDOWS = 512
BATCH = 32


@torch.no_grad()
def validation_loss(model: torch.nn.Module, windows: int = SCORER_WINDOWS, seed: int = 1) -> float:
    """Return the masked-LM loss of `model` on the validation text, scored like the scorer.

    Raises:
        ValueError: the forward pass uses a forbidden operation (named in the message).
    """
    inputs, targets = masked_windows(encode(load_split("validation")), windows, seed=seed)
    was_training = model.training
    model.eval()
    batches = [torch.from_numpy(inputs[i : i + BATCH]).long() for i in range(0, windows, BATCH)]
    recorded = graph.trace(model, batches[0])
    model.train(was_training)
    forbidden = graph.check(recorded, rules.ALLOWED_OPS)
    if forbidden:
        raise ValueError(f"the forward pass uses forbidden operation(s): {', '.join(forbidden)}")
    rows = []
    for batch in batches:
        logits = graph.replay(recorded, batch, rules.ALLOWED_OPS)
        rows.append(logits[batch == MASK_ID].float().numpy())
    return masked_loss(np.concatenate(rows), targets)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=SCORER_WINDOWS)
    args = parser.parse_args()
    if args.windows % BATCH:
        parser.error(f"--windows must be a multiple of {BATCH}")
    with open("model.py") as handle:
        violations = rules.check_source(handle.read())
    for violation in violations:
        print(violation)
    if violations:
        sys.exit("static check failed")
    from model import build_model

    model = build_model()
    model.load_state_dict(torch.load("model.pt", weights_only=True, map_location="cpu"))
    print(f"validation loss: {validation_loss(model, args.windows):.4f}")


if __name__ == "__main__":
    main()
