"""Runs inside a scoring jail: imports a `scan`, then runs it on the parent's cue.

The same runner serves the agent's solution and the yardstick (the reference solution,
in a jail of its own). Protocol (commands on stdin; replies on the original stdout):
  -> "ready"                        after importing solution.py and a warm-up on data of
                                    its own (no hidden data exists in the jail yet)
  <- "go NAME N DECAY REPEATS [L]"  map /rdbench/in/NAME (N float64 x, then N uint8
                                    gates), call scan REPEATS times (on the first L
                                    elements only, when L is given: the starting
                                    solution's yardstick runs on a slice), each time
                                    writing its result to /rdbench/out/NAME, then reply
                                    "done"
  <- "quit"
The parent publishes the input file only after its clock has started, and stops the clock
only once it has frozen every process of the jail after the first byte of the reply; it
then reads the output itself. So a solution that writes to the protocol's pipe early, or
keeps working in a thread after `scan` returns, only ends its own run early: whatever is
not in the output file when it is frozen is missing. The pipe is reachable from the
solution (it shares this process) but worth nothing to it.
"""

import os
import sys

import numpy as np

proto = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # anything the solution prints goes to stderr, not into the protocol
sys.path.insert(0, os.getcwd())

import solution  # the agent's module, imported after the protocol fd is set up

scan = solution.scan
_rng = np.random.default_rng(0)
scan(_rng.standard_normal(4096), _rng.integers(0, 3, 4096).astype(np.uint8), 0.9)  # warm-up
del _rng

proto.write("ready\n")
for line in sys.stdin:
    command = line.split()
    if command[:1] == ["go"] and len(command) in (5, 6):
        name, n, decay, repeats = command[1], int(command[2]), float(command[3]), int(command[4])
        length = int(command[5]) if len(command) == 6 else n
        source = os.path.join("/rdbench/in", name)
        for _ in range(repeats):
            x = np.asarray(np.memmap(source, dtype=np.float64, mode="c", shape=(n,)))[:length]
            gates = np.asarray(
                np.memmap(source, dtype=np.uint8, mode="c", offset=8 * n, shape=(n,))
            )[:length]
            result = np.ascontiguousarray(scan(x, gates, decay), dtype=np.float64)
            with open(os.path.join("/rdbench/out", name), "wb") as out:
                out.write(memoryview(result).cast("B"))
        proto.write("done\n")
    elif command[:1] == ["quit"]:
        break
