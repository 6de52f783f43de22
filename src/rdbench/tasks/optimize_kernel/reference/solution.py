"""Reference solution: the gated scan in C, compiled once and called through ctypes."""

import ctypes
import hashlib
import os
import subprocess
import tempfile

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
_SOURCE = os.path.join(_HERE, "scan.c")


def _load() -> ctypes.CDLL:
    source = open(_SOURCE, "rb").read()
    digest = hashlib.sha256(source).hexdigest()[:16]
    # The scorer's copy of the workspace is read-only: build into the temp dir.
    lib_path = os.path.join(tempfile.gettempdir(), f"gated_scan_{digest}.so")
    if not os.path.exists(lib_path):
        subprocess.run(
            ["cc", "-O2", "-shared", "-fPIC", "-o", lib_path, _SOURCE], check=True
        )
    lib = ctypes.CDLL(lib_path)
    lib.gated_scan.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_double,
        ctypes.c_void_p,
        ctypes.c_size_t,
    ]
    lib.gated_scan.restype = None
    return lib


_LIB = _load()


def scan(x: np.ndarray, gates: np.ndarray, decay: float) -> np.ndarray:
    """Return y with y[i] = the state after element i (see instructions.md)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    gates = np.ascontiguousarray(gates, dtype=np.uint8)
    out = np.empty_like(x)
    _LIB.gated_scan(x.ctypes.data, gates.ctypes.data, float(decay), out.ctypes.data, len(x))
    return out
