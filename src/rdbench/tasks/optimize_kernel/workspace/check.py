"""Check `solution.scan` against a slow exact scan on random data, then time it.

Usage: python check.py [n]   (default n = 1,000,000)
"""

import sys
import time

import numpy as np

from solution import scan


def exact_scan(x, gates, decay):
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
    return np.asarray(out)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = np.random.default_rng(12345)
    x = rng.standard_normal(n)
    gates = rng.choice(3, size=n, p=[0.6, 0.3, 0.1]).astype(np.uint8)
    decay = 0.95
    scan(x[:4096].copy(), gates[:4096].copy(), decay)  # warm-up, as the scorer does
    times = []
    for _ in range(5):
        start = time.perf_counter()
        y = np.asarray(scan(x.copy(), gates.copy(), decay), dtype=np.float64)
        times.append(time.perf_counter() - start)
    expected = exact_scan(x, gates, decay)
    ok = y.shape == expected.shape and np.allclose(y, expected, rtol=1e-6, atol=1e-6)
    print(f"correct: {ok}")
    print(f"median time for n={n:,}: {np.median(times) * 1000:.2f} ms")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
