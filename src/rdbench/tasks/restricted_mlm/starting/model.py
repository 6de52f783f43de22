"""Starting model: a character embedding, one convolution over 5 characters, a linear readout.

Rules (checked by the scorer): no division or exponentiation anywhere in this file or in the
forward pass; see instructions.md and rules.py.
"""

import torch
from torch import nn

VOCAB_SIZE = 77
WIDTH = 64


class ConvMLM(nn.Module):
    """Ids [batch, length] (mask id 2 at masked positions) -> logits [batch, length, 77]."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB_SIZE, WIDTH)
        self.conv = nn.Conv1d(WIDTH, WIDTH, kernel_size=5, padding=2)
        self.readout = nn.Linear(WIDTH, VOCAB_SIZE)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids).transpose(1, 2)
        x = torch.relu(self.conv(x)).transpose(1, 2)
        return self.readout(x)


def build_model() -> nn.Module:
    """Return the untrained model; the scorer loads model.pt into it."""
    return ConvMLM()
