"""Runs inside the scoring jail: the agent's model on masked hidden windows, under the rules.

Input on stdin: one JSON line {"count": N, "length": T, "batch": B}, then N*T uint8 ids
(the masked windows; the original characters at the masked positions never enter the jail).
Output on the original stdout (the model's own prints go to stderr, which nobody shows):
  "ok <rows>\n" + rows*77 float32 logits at the masked positions, row-major, or
  "error <code> [<token> ...]\n" with only fixed words, op names and numbers, so that no
  text the model controls (it sees the masked hidden text) can reach the agent.
The trusted scorer computes the loss from the logits.
"""

import builtins
import json
import os
import sys
import traceback

proto = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(2, 1)
header = json.loads(sys.stdin.buffer.readline())
COUNT, LENGTH, BATCH = int(header["count"]), int(header["length"]), int(header["batch"])
DATA = sys.stdin.buffer.read(COUNT * LENGTH)
VOCAB_SIZE, MASK_ID = 77, 2

sys.path.insert(0, "/rdbench")
import numpy as np  # noqa: E402
import rules  # noqa: E402  (the scorer's copy, bound read-only)
import torch  # noqa: E402


def fail(*words: object) -> None:
    proto.write(("error " + " ".join(str(w) for w in words) + "\n").encode())
    proto.flush()
    os._exit(0)


def exception_words(ex: BaseException) -> list[object]:
    """The exception's class name (builtin classes only) and its last line in model.py."""
    name = type(ex).__name__
    if getattr(builtins, name, None) is not type(ex):
        name = "Exception"
    line = 0
    for frame in traceback.extract_tb(ex.__traceback__):
        if os.path.basename(frame.filename) == "model.py" and frame.lineno:
            line = frame.lineno
    return [name, line]


if len(DATA) != COUNT * LENGTH:
    fail("protocol")
sys.path.insert(0, os.getcwd())
try:
    import model as agent_model

    net = agent_model.build_model()
    state = torch.load("model.pt", map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    net.eval()
except BaseException as ex:  # the agent's code: any failure is an invalid submission
    fail("load", *exception_words(ex))

ids = np.frombuffer(DATA, dtype=np.uint8).reshape(COUNT, LENGTH)
inputs = torch.from_numpy(ids.astype(np.int64))
rows = []
with torch.no_grad():
    for batch in inputs.split(BATCH):
        guard = rules.runtime_rules()
        try:
            with guard:
                logits = net(batch.clone())
        except BaseException as ex:
            if guard.violations:
                fail("rule", guard.violations[0])
            fail("forward", *exception_words(ex))
        if guard.violations:  # the model caught the rule's error and carried on
            fail("rule", guard.violations[0])
        if type(logits) is not torch.Tensor or not logits.is_floating_point():
            fail("output", "type")
        if tuple(logits.shape) != (batch.shape[0], LENGTH, VOCAB_SIZE):
            fail("output", "shape", *logits.shape)
        rows.append(logits[batch == MASK_ID].to(torch.float32).contiguous())
out = torch.cat(rows).numpy()
proto.write(f"ok {out.shape[0]}\n".encode())
proto.write(out.tobytes())
proto.flush()
