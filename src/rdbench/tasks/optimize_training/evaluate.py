"""Trusted evaluator, run by the scorer in a one-shot jail (never the agent's code).

Usage: python evaluate.py WEIGHTS.pt TEST.npy
TEST.npy holds token windows, shape (n, CONTEXT + 1). Prints one JSON line:
{"loss": mean next-token cross-entropy in nats over all windows}.

It holds its own copy of the task's architecture (identical to the workspace's original
`model.py`) and loads the agent's weights with `weights_only=True` and `strict=True`, so
the submission is judged as that exact model, whatever the agent's own code does. Its
messages are fixed texts: nothing of the submission's own content is echoed back.
"""

import json
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB_SIZE = 77
CONTEXT = 128
D_MODEL = 128
N_LAYER = 2
N_HEAD = 4


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.fc = nn.Linear(D_MODEL, 4 * D_MODEL)
        self.out = nn.Linear(4 * D_MODEL, D_MODEL)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, N_HEAD, c // N_HEAD).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class TinyGPT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(VOCAB_SIZE, D_MODEL)
        self.pos = nn.Embedding(CONTEXT, D_MODEL)
        self.blocks = nn.ModuleList(Block() for _ in range(N_LAYER))
        self.ln = nn.LayerNorm(D_MODEL)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos.weight[: idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.tok.weight.T


def fail(message: str) -> None:
    print(json.dumps({"error": message}))
    sys.exit(0)


def main() -> None:
    torch.set_num_threads(2)
    model = TinyGPT()
    try:
        state = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - any unreadable file is the submission's fault
        fail("could not load the saved weights (save a state_dict with torch.save)")
    if not isinstance(state, dict):
        fail("the saved file is not a state_dict")
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except Exception:  # noqa: BLE001 - any misfit is the submission's fault
        fail(
            "the saved weights do not fit the task's model (their parameter names or "
            "shapes differ from model.py's)"
        )
    model.eval()
    windows = torch.from_numpy(np.load(sys.argv[2]).astype(np.int64))
    n = windows.shape[0]
    inputs, targets = windows[:, :-1], windows[:, 1:]
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, 64):
            logits = model(inputs[i : i + 64])
            total += F.cross_entropy(
                logits.reshape(-1, VOCAB_SIZE), targets[i : i + 64].reshape(-1), reduction="sum"
            ).item()
    loss = total / (n * CONTEXT)
    if not math.isfinite(loss):
        fail("the model's loss on the hidden text is not a finite number")
    print(json.dumps({"loss": loss}))


if __name__ == "__main__":
    main()
