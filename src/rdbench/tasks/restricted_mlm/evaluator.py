"""Step 2 of scoring, in a second jail: check the recorded graph and replay it on hidden ids.

Run as `python -I /rdbench/evaluator.py`; it imports nothing from the workspace (none is
mounted) and runs no code of the agent's: only the aten operations named in the graph
(`/rdbench/graph.bin`, written by `tracer.py`, copied by the host), after checking each
against `rules.ALLOWED_OPS`. Every batch is replayed from fresh copies of the graph's
constants, so nothing carries over between batches.

Input on stdin: one line "<count> <length> <batch>", then the masked hidden windows, read
one batch at a time (the originals at the masked positions never enter this jail). For
every batch it appends the logits at the masked positions (float32, row-major, 77 per
row) to `/rdbench/out/logits.f32`. Output on stdout: "ok <rows>" or "error <code>
[<operation>]" with a fixed code: the hidden windows decide what the replay computes, so
no exception text, value or shape may leave this process.
"""

import os
import sys

sys.path.insert(0, "/rdbench")
import graph
import rules
import torch

VOCAB_SIZE, MASK_ID = 77, 2
OUT = "/rdbench/out/logits.f32"


def fail(*words: str) -> None:
    """Report a fixed error code (and a checked operation name) and exit."""
    os.write(1, ("error " + " ".join(words) + "\n").encode())
    os._exit(0)


count, length, batch = (int(w) for w in sys.stdin.buffer.readline().split())
try:
    with open("/rdbench/graph.bin", "rb") as handle:
        recorded = graph.Graph.from_bytes(handle.read())
except graph.GraphError:
    fail("graph")
forbidden = graph.check(recorded, rules.ALLOWED_OPS)
if forbidden:
    name = forbidden[0]
    fail("rule", name if hasattr(torch.ops.aten, name.split(".")[0]) else "unknown")
torch.set_num_threads(2)
rows = 0
with open(OUT, "wb") as out:
    for _ in range(0, count, batch):
        data = sys.stdin.buffer.read(batch * length)
        if len(data) != batch * length:
            fail("protocol")
        ids = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(batch, length).long()
        try:
            logits = graph.replay(recorded, ids, rules.ALLOWED_OPS)
        except graph.GraphError:
            fail("graph")
        except BaseException:  # noqa: BLE001  (failed on these ids: no details may leave)
            fail("replay")
        if not logits.is_floating_point() or tuple(logits.shape) != (batch, length, VOCAB_SIZE):
            fail("output")
        picked = logits[ids == MASK_ID].to(torch.float32).contiguous()
        out.write(picked.numpy().tobytes())
        rows += picked.shape[0]
os.write(1, f"ok {rows}\n".encode())
os._exit(0)
