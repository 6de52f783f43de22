"""An intermediate solution: the same loop over Python lists (no numpy scalar boxing)."""

import numpy as np


def scan(x: np.ndarray, gates: np.ndarray, decay: float) -> np.ndarray:
    """Return y with y[i] = the state after element i (see instructions.md)."""
    out = [0.0] * len(x)
    state = 0.0
    for i, (value, gate) in enumerate(zip(x.tolist(), gates.tolist())):
        if gate == 0:
            state = decay * state + value
        elif gate == 1:
            state = state if state > value else value
        else:
            state = value
        out[i] = state
    return np.asarray(out, dtype=np.float64)
