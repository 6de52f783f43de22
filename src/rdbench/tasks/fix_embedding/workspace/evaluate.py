"""Print the next-character loss of model.pt on the validation text, as the scorer measures it.

Usage: python evaluate.py [weights.pt]   (default model.pt)

The scorer runs the same `lm_eval.mean_loss` on 256 windows of hidden chapters, with the
architecture from its own copy of model.py: only the weights in model.pt count.
"""

import gzip
import sys

import torch

from lm_eval import evaluation_windows, mean_loss
from model import build_model


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "model.pt"
    model = build_model()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    text = gzip.decompress(open("data/validation.txt.gz", "rb").read()).decode()
    print(f"validation loss: {mean_loss(model, evaluation_windows(text, 256, seed=1)):.4f}")


if __name__ == "__main__":
    main()
