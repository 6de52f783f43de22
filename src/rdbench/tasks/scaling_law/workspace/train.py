"""The training script behind `runs.jsonl` and behind the scorer's table: read, not run.

Usage:
    python train.py --sizes                       # the model menu with parameter counts

This workspace holds no training text: every experiment you may use is already in
`runs.jsonl` (made with this script, seed 0, each within `CAP_FLOPS`), and the scorer's
table was made with this script at the full budget. `train`/`fit` show exactly how.

The model is a small GPT (pre-LayerNorm, learned positions, tied input/output embedding,
2 layers, head size 16, context 128) over the corpus's 77 characters. `--d-model` picks its
width (`SIZES` for the submission; experiments may use any multiple of 16 up to 256);
everything else (optimizer, learning rate, schedule, batch) is fixed by the rules below,
identical for every run, including the runs that made the scorer's table at the target
budget.

Compute of a run = 6 * N * D FLOPs, with N = every trainable parameter (embeddings
included) and D = training tokens. One run may use at most `CAP_FLOPS`; the script refuses
larger runs (and the rules forbid getting around it any other way).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Largest compute one run may use (6 * N * D FLOPs).
CAP_FLOPS = 2e11
#: The budget of the task: the submission is trained with 6 * N * D = TARGET_FLOPS.
TARGET_FLOPS = 3e12
#: The model menu: the widths a submission may choose.
SIZES = (16, 32, 48, 64, 80, 96, 128, 160, 192)
#: Widths allowed in experiments: every multiple of 16 from 16 to 256.
EXPERIMENT_WIDTHS = tuple(range(16, 257, 16))
N_LAYER = 2
HEAD_SIZE = 16
CONTEXT = 128
BATCH_SEQUENCES = 32
TOKENS_PER_STEP = BATCH_SEQUENCES * CONTEXT

# The character vocabulary: 0 pad, 1 unknown, 2 mask, then these characters from id 3.
CHARS = "\n !'(),-.:;?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
VOCAB_SIZE = 3 + len(CHARS)
DATA_DIR = Path(__file__).resolve().parent / "data"


def encode(text: str) -> np.ndarray:
    """Return the token ids (uint8) of `text`, one per character (unknown -> 1)."""
    table = bytearray([1]) * 256
    for i, c in enumerate(CHARS):
        table[ord(c)] = 3 + i
    data = text.encode("ascii", errors="replace").translate(bytes(table))
    return np.frombuffer(data, dtype=np.uint8).copy()


def load_split(name: str, data_dir: Path = DATA_DIR) -> np.ndarray:
    """Return the token ids of `data/<name>.txt.gz` ("train" or "validation")."""
    with gzip.open(data_dir / f"{name}.txt.gz", "rt", encoding="utf-8") as f:
        return encode(f.read())


class Block(nn.Module):
    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.n_head = d_model // HEAD_SIZE
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, 4 * d_model)
        self.out = nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, HEAD_SIZE).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class TinyGPT(nn.Module):
    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.tok = nn.Embedding(VOCAB_SIZE, d_model)
        self.pos = nn.Embedding(CONTEXT, d_model)
        self.blocks = nn.ModuleList(Block(d_model) for _ in range(N_LAYER))
        self.ln = nn.LayerNorm(d_model)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                residual = name.endswith(("proj.weight", "out.weight"))
                std = 0.02 / math.sqrt(2 * N_LAYER) if residual else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos.weight[: idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.tok.weight.T  # tied output embedding


def param_count(d_model: int) -> int:
    """Return N: the number of trainable parameters of the model of width `d_model`."""
    return sum(p.numel() for p in TinyGPT(d_model).parameters())


def learning_rate(d_model: int) -> float:
    """Return the peak AdamW learning rate of width `d_model` (fixed rule)."""
    return 2e-3 * math.sqrt(128 / d_model)


def lr_at(step: int, steps: int, peak: float) -> float:
    """Linear warm-up over the first 5% of steps (at least 1), then cosine to 10% of peak."""
    warmup = max(1, steps // 20)
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def evaluate(model: TinyGPT, tokens: np.ndarray, max_tokens: int | None = None) -> float:
    """Return the mean next-character loss (nats) over non-overlapping windows of `tokens`."""
    model.eval()
    n_windows = (len(tokens) - 1) // CONTEXT
    if max_tokens is not None:
        n_windows = min(n_windows, max_tokens // CONTEXT)
    data = torch.from_numpy(tokens[: n_windows * CONTEXT + 1].astype(np.int64))
    inputs = data[:-1].view(n_windows, CONTEXT)
    targets = data[1:].view(n_windows, CONTEXT)
    total = 0.0
    for i in range(0, n_windows, 64):
        logits = model(inputs[i : i + 64])
        total += F.cross_entropy(
            logits.reshape(-1, VOCAB_SIZE), targets[i : i + 64].reshape(-1), reduction="sum"
        ).item()
    model.train()
    return total / (n_windows * CONTEXT)


def fit(d_model: int, tokens: int, train_tokens: np.ndarray, seed: int = 0) -> tuple[TinyGPT, dict]:
    """Train the model of width `d_model` on `tokens` training tokens.

    Returns the trained model and a dict with d_model, params (N), tokens (D, rounded down
    to whole steps), flops (6 N D), steps, seconds and seed.

    Raises:
        ValueError: a width outside the allowed ones, or fewer tokens than one step.
    """
    if d_model not in EXPERIMENT_WIDTHS and d_model not in SIZES:
        raise ValueError(
            f"d_model must be a multiple of 16 from 16 to 256 or in {SIZES}, not {d_model}"
        )
    torch.manual_seed(seed)
    model = TinyGPT(d_model)
    n_params = sum(p.numel() for p in model.parameters())
    steps = tokens // TOKENS_PER_STEP
    if steps < 1:
        raise ValueError(f"tokens must be at least {TOKENS_PER_STEP} (one step)")
    peak = learning_rate(d_model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak, betas=(0.9, 0.95), weight_decay=0.1)
    data = torch.from_numpy(train_tokens.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)
    offsets = torch.arange(CONTEXT + 1)
    start = time.perf_counter()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, peak)
        starts = torch.randint(
            0, len(data) - CONTEXT - 1, (BATCH_SEQUENCES, 1), generator=generator
        )
        batch = data[starts + offsets]
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    info = {
        "d_model": d_model,
        "params": n_params,
        "tokens": steps * TOKENS_PER_STEP,
        "flops": 6.0 * n_params * steps * TOKENS_PER_STEP,
        "steps": steps,
        "seconds": round(time.perf_counter() - start, 2),
        "seed": seed,
    }
    return model, info


def train(
    d_model: int,
    tokens: int,
    train_tokens: np.ndarray,
    eval_tokens: np.ndarray,
    seed: int = 0,
    eval_max_tokens: int | None = 131072,
) -> dict:
    """Train (see `fit`) and return its dict plus `loss`: the final mean loss on `eval_tokens`."""
    model, info = fit(d_model, tokens, train_tokens, seed)
    return {**info, "loss": evaluate(model, eval_tokens, eval_max_tokens)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", action="store_true", help="print the model menu and exit")
    parser.add_argument("--d-model", type=int)
    parser.add_argument("--tokens", type=int, help="training tokens D")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 is fastest for these tiny models)")
    parser.add_argument("--log", type=Path, help="append the result as a JSON line to this file")
    args = parser.parse_args(argv)
    if args.sizes:
        print("Widths a submission may choose (experiments: any multiple of 16, 16..256):")
        for d in SIZES:
            n = param_count(d)
            print(
                f"d_model={d:4d}  N={n:9d}  max tokens per run={int(CAP_FLOPS / (6 * n)):10d}  "
                f"tokens at the target budget={int(TARGET_FLOPS / (6 * n)):10d}"
            )
        return 0
    if args.d_model is None or args.tokens is None:
        parser.error("give --d-model and --tokens (or --sizes)")
    if args.d_model not in EXPERIMENT_WIDTHS and args.d_model not in SIZES:
        parser.error(f"--d-model must be a multiple of 16 from 16 to 256, or one of {SIZES}")
    flops = 6.0 * param_count(args.d_model) * (args.tokens // TOKENS_PER_STEP) * TOKENS_PER_STEP
    if flops > CAP_FLOPS:
        print(
            f"refused: this run needs {flops:.3g} FLOPs, above the cap of {CAP_FLOPS:.3g} per run",
            file=sys.stderr,
        )
        return 2
    if not (DATA_DIR / "train.txt.gz").is_file():
        print(
            "refused: this workspace has no training text; the experiments are in runs.jsonl",
            file=sys.stderr,
        )
        return 2
    torch.set_num_threads(args.threads)
    train_tokens, validation = load_split("train"), load_split("validation")
    result = train(args.d_model, args.tokens, train_tokens, validation, args.seed)
    line = json.dumps(result)
    print(line)
    if args.log is not None:
        with open(args.log, "a") as f:
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
