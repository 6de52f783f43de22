"""Reference model: a deep residual stack of dilated convolutions, with no normalization.

Without LayerNorm (which divides) a deep residual network is kept stable the ReZero way:
each block's output is multiplied by a learned scalar that starts at zero, so the network
starts as the identity and grows its depth during training. Activations are ReLU.
Rules: no division or exponentiation anywhere (see rules.py).
"""

import torch
from torch import nn

VOCAB_SIZE = 77
WIDTH = 128
HIDDEN = 256
DILATIONS = (1, 2, 4, 8, 1, 2, 4, 8)


class Block(nn.Module):
    """x + gate * W2 relu(W1 conv_dilated(relu(x)))."""

    def __init__(self, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(WIDTH, WIDTH, kernel_size=3, padding=dilation, dilation=dilation)
        self.up = nn.Conv1d(WIDTH, HIDDEN, kernel_size=1)
        self.down = nn.Conv1d(HIDDEN, WIDTH, kernel_size=1)
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(torch.relu(x))
        h = self.down(torch.relu(self.up(torch.relu(h))))
        return x + self.gate * h


class DilatedConvMLM(nn.Module):
    """Ids [batch, length] (mask id 2 at masked positions) -> logits [batch, length, 77]."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB_SIZE, WIDTH)
        self.blocks = nn.ModuleList(Block(d) for d in DILATIONS)
        self.readout = nn.Linear(WIDTH, VOCAB_SIZE)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.readout(torch.relu(x).transpose(1, 2))


def build_model() -> nn.Module:
    """Return the untrained model; the scorer loads model.pt into it."""
    return DilatedConvMLM()
