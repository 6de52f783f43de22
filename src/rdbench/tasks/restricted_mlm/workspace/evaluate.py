"""Evaluate model.py + model.pt on the validation text exactly as the scorer does on hidden text.

Usage: python evaluate.py [--windows N]

Runs the static check of model.py, then the forward pass under the runtime rules, and
prints the masked-LM loss (nats per masked character). The scorer uses the same code with
its own seed on hidden text (512 windows).
"""

import argparse
import sys

import numpy as np
import torch

import rules
from mlm_data import encode, load_split, masked_loss, masked_windows, MASK_ID

SCORER_WINDOWS = 512
BATCH = 32


@torch.no_grad()
def validation_loss(model: torch.nn.Module, windows: int = SCORER_WINDOWS, seed: int = 1) -> float:
    """Return the masked-LM loss of `model` on the validation text, under the runtime rules."""
    inputs, targets = masked_windows(encode(load_split("validation")), windows, seed=seed)
    was_training = model.training
    model.eval()
    rows = []
    for start in range(0, windows, BATCH):
        batch = torch.from_numpy(inputs[start : start + BATCH]).long()
        with rules.runtime_rules():
            logits = model(batch)
        rows.append(logits[batch == MASK_ID].float().numpy())
    model.train(was_training)
    return masked_loss(np.concatenate(rows), targets)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=SCORER_WINDOWS)
    args = parser.parse_args()
    violations = rules.check_source(open("model.py").read())
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
