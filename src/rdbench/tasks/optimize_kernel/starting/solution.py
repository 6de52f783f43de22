"""Starting solution: a correct but slow pure-Python gated scan."""

import numpy as np


def scan(x: np.ndarray, gates: np.ndarray, decay: float) -> np.ndarray:
    """Return y with y[i] = the state after element i (see instructions.md)."""
    out = np.empty(len(x), dtype=np.float64)
    state = 0.0
    for i in range(len(x)):
        gate = gates[i]
        if gate == 0:
            state = decay * state + x[i]
        elif gate == 1:
            state = max(state, x[i])
        else:
            state = x[i]
        out[i] = state
    return out
