"""Runs inside the scoring jail: the family's model with the workspace's weights.

Input on stdin: one JSON line {"count": N, "length": L}, then N*L uint8 ids (the hidden
evaluation windows; nothing hidden is mounted). No code from the workspace runs: the
architecture is the scorer's own model.py (bound read-only) and model.pt is loaded with
`weights_only=True`. Output on stdout: "ok <mean loss>" or "error <message>".
"""

import json
import os
import sys

header = json.loads(sys.stdin.buffer.readline())
COUNT, LENGTH = int(header["count"]), int(header["length"])
DATA = sys.stdin.buffer.read(COUNT * LENGTH)

sys.path.insert(0, "/rdbench")
import math  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from lm_eval import mean_loss  # noqa: E402
from model import build_model  # noqa: E402


def fail(message: str) -> None:
    print("error " + " ".join(message.split())[:800], flush=True)
    os._exit(0)


if len(DATA) != COUNT * LENGTH:
    fail("protocol: truncated input")
model = build_model()
try:
    state = torch.load("model.pt", map_location="cpu", weights_only=True)
except Exception as ex:  # a corrupt or non-tensor pickle
    fail(f"could not load model.pt: {type(ex).__name__}: {ex}")
if not isinstance(state, dict):
    fail("model.pt must hold a state_dict (a dict of tensors)")
try:
    model.load_state_dict({k: v.float() for k, v in state.items()})
except (RuntimeError, AttributeError) as ex:
    fail(f"model.pt does not fit the model: {ex}")
windows = torch.from_numpy(
    np.frombuffer(DATA, dtype=np.uint8).reshape(COUNT, LENGTH).astype(np.int64)
)
loss = mean_loss(model, windows)
if not math.isfinite(loss):
    fail(f"the loss is {loss}")
print(f"ok {loss!r}", flush=True)
