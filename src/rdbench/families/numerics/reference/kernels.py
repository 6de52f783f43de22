"""Numerical kernels: the reference solutions."""

import numpy as np


def logsumexp(x):
    """Return log(sum(exp(x))) of a 1-D float array, without overflow or underflow."""
    x = np.asarray(x, dtype=float)
    m = np.max(x)
    if not np.isfinite(m):
        return float(m)
    return float(m + np.log(np.sum(np.exp(x - m))))


def streaming_variance(chunks):
    """Return the sample variance (ddof=1) of a stream of chunks (Chan et al.'s merge)."""
    n, mean, m2 = 0, 0.0, 0.0
    for c in chunks:
        c = np.asarray(c, dtype=float)
        nb = len(c)
        if nb == 0:
            continue
        mb = float(np.mean(c))
        m2b = float(np.sum((c - mb) ** 2))
        delta = mb - mean
        total = n + nb
        mean += delta * nb / total
        m2 += m2b + delta * delta * n * nb / total
        n = total
    return m2 / (n - 1)


def integrate(k, y0, t_end):
    """Return [y1, y2, y3] at t_end of the stiff reaction system (implicit Radau)."""
    from scipy.integrate import solve_ivp  # imported here: the other kernels do not need it

    k1, k2, k3 = k

    def rhs(_, y):
        return [
            -k1 * y[0] + k3 * y[1] * y[2],
            k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
            k2 * y[1] ** 2,
        ]

    def jac(_, y):
        return [
            [-k1, k3 * y[2], k3 * y[1]],
            [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
            [0.0, 2 * k2 * y[1], 0.0],
        ]

    sol = solve_ivp(
        rhs, (0.0, t_end), y0, method="Radau", jac=jac, rtol=1e-7, atol=[1e-11, 1e-15, 1e-11]
    )
    return sol.y[:, -1].tolist()
