"""Runs inside the scoring jail: loads the solution, then times `scan` on the parent's cue.

Protocol on the original stdout (the solution's own prints go to stderr):
  -> "ready"               after loading the inputs, importing the solution and a warm-up
  <- "go"   -> "done"      one timed call (the parent measures go -> done)
  <- "save" -> "saved"     write the last output to /rdbench/out/y.npy
  <- "quit"
The solution gets fresh copies of the inputs for every call, made outside the timed window.
"""

import os
import sys

import numpy as np

proto = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # anything the solution prints goes to stderr, not into the protocol

decay = float(sys.argv[1])
x = np.load("/rdbench/data/x.npy")
gates = np.load("/rdbench/data/gates.npy")
sys.path.insert(0, os.getcwd())

import solution  # noqa: E402  (the agent's module, imported after the inputs are ready)

scan = solution.scan
scan(x[:4096].copy(), gates[:4096].copy(), decay)  # warm-up: JIT, compilation, caches

result = None
x_copy, gates_copy = x.copy(), gates.copy()
proto.write("ready\n")
for line in sys.stdin:
    command = line.strip()
    if command == "go":
        result = np.asarray(scan(x_copy, gates_copy, decay), dtype=np.float64)
        proto.write("done\n")
        x_copy, gates_copy = x.copy(), gates.copy()
    elif command == "save":
        np.save("/rdbench/out/y.npy", result)
        proto.write("saved\n")
    elif command == "quit":
        break
