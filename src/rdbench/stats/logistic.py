"""Batched weighted logistic regression on one feature, by damped Newton steps.

The time-horizon fit is tiny (two parameters, at most one row per task), but the
bootstrap needs ~10,000 of them. Every fit here shares one design vector ``x`` (the
tasks' log2 human minutes); problems differ only in their per-task weights of successes
(``w1``) and failures (``w0``). So a whole bootstrap is two ``(P, T)`` weight matrices and
a batch of 2x2 Newton systems solved in closed form.

Objective (scikit-learn's ``LogisticRegression(C=1/l2)`` with sample weights, which is
what METR's pipeline calls): for each problem

    sum_t [ w1_t * log(1 + exp(-(a + b x_t))) + w0_t * log(1 + exp(a + b x_t)) ] + l2/2 * b^2

with the intercept ``a`` unpenalized. A fractional score ``y`` enters as weight ``y*w`` of
a success plus ``(1-y)*w`` of a failure, exactly as METR splits fractional scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LogisticFit", "fit_logistic_batch", "horizon_minutes"]


@dataclass(frozen=True)
class LogisticFit:
    """Result of :func:`fit_logistic_batch`; arrays of shape ``(P,)``.

    Attributes:
        intercept: ``a`` (NaN where ``status != 0``).
        slope: ``b`` (NaN where ``status != 0``).
        status: 0 fitted; 1 no success (all weight on failures); 2 all success;
            3 no data (zero total weight).
        iterations: Newton iterations used (the max over the batch).
        converged: False where the step had not shrunk below tolerance at the end.
    """

    intercept: np.ndarray
    slope: np.ndarray
    status: np.ndarray
    iterations: int
    converged: np.ndarray


FITTED, NO_SUCCESS, ALL_SUCCESS, NO_DATA = 0, 1, 2, 3


def _evaluate(a, b, xc, w1, wt, l2):
    """Linear predictor, exp(-|eta|) and objective at (a, b), sharing one exp.

    Uses w1*log1pexp(-eta) + w0*log1pexp(eta) == wt*log1pexp(eta) - w1*eta, and
    log1pexp(eta) = max(eta, 0) + log1p(exp(-|eta|)) (no overflow).
    """
    eta = a[:, None] + b[:, None] * xc[None, :]
    e = np.exp(-np.abs(eta))
    f = (wt * (np.maximum(eta, 0.0) + np.log1p(e)) - w1 * eta).sum(axis=1) + 0.5 * l2 * b * b
    return eta, e, f


def fit_logistic_batch(
    x: np.ndarray,
    w1: np.ndarray,
    w0: np.ndarray,
    l2: float = 0.1,
    *,
    init: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> LogisticFit:
    """Fit ``P`` weighted logistic regressions sharing one feature vector, all at once.

    Args:
        x: shape ``(T,)``, the feature (log2 human minutes) of each cell.
        w1: shape ``(P, T)``, non-negative weight of successes per problem and cell.
        w0: shape ``(P, T)``, non-negative weight of failures.
        l2: L2 penalty on the slope only (METR's ``regularization``; sklearn ``C = 1/l2``).
        init: optional ``(P, 2)`` starting ``(intercept, slope)`` (NaN rows: default
            start). A warm start (e.g. the point estimate for bootstrap fits) saves
            iterations; any start converges (the steps are damped).
        max_iter: cap on Newton iterations.
        tol: convergence when every Newton step is below ``tol * (1 + |theta|)``.

    Returns:
        A :class:`LogisticFit`. Problems with a single outcome or no data have no finite
        optimum (the unpenalized intercept runs off to +-inf): they get a status code and
        NaN parameters instead of a made-up number.

    Raises:
        ValueError: shapes disagree or a weight is negative.
    """
    x = np.asarray(x, dtype=float)
    w1 = np.atleast_2d(np.asarray(w1, dtype=float))
    w0 = np.atleast_2d(np.asarray(w0, dtype=float))
    if w1.shape != w0.shape or w1.shape[1] != x.shape[0]:
        raise ValueError(f"shape mismatch: x {x.shape}, w1 {w1.shape}, w0 {w0.shape}")
    if (w1 < 0).any() or (w0 < 0).any():
        raise ValueError("weights must be non-negative")
    n_problems = w1.shape[0]
    s1, s0 = w1.sum(axis=1), w0.sum(axis=1)
    status = np.full(n_problems, FITTED, dtype=np.int8)
    status[(s1 <= 0) & (s0 > 0)] = NO_SUCCESS
    status[(s0 <= 0) & (s1 > 0)] = ALL_SUCCESS
    status[(s0 <= 0) & (s1 <= 0)] = NO_DATA
    intercept = np.full(n_problems, np.nan)
    slope = np.full(n_problems, np.nan)
    converged = status != FITTED
    ok = np.flatnonzero(status == FITTED)
    if ok.size == 0:
        return LogisticFit(intercept, slope, status, 0, converged)

    w1, wt = w1[ok], w1[ok] + w0[ok]
    # Centre x so that the intercept and slope are nearly uncorrelated: the Newton
    # systems stay well conditioned and the default start below is already close.
    x_mean = float((wt.sum(axis=0) @ x) / wt.sum())
    xc = x - x_mean
    basis = np.stack([np.ones_like(xc), xc, xc * xc], axis=1)  # (T, 3): sums via BLAS
    # Default start: the weighted success rate with a flat curve.
    a = np.log(s1[ok] / s0[ok])
    b = np.zeros_like(a)
    if init is not None:
        init = np.asarray(init, dtype=float)[ok]
        warm = np.isfinite(init).all(axis=1)
        b[warm] = init[warm, 1]
        a[warm] = init[warm, 0] + init[warm, 1] * x_mean  # intercept at the centred x
    eta, e, f = _evaluate(a, b, xc, w1, wt, l2)
    # Working arrays (w1, wt, eta, e) hold only the problems still moving: `active`.
    active = np.arange(a.size)
    iteration = 0
    for iteration in range(1, max_iter + 1):
        a_act, b_act, f_act = a[active], b[active], f[active]
        p = np.where(eta >= 0, 1.0, e) / (1.0 + e)  # sigmoid(eta), overflow-free
        r = wt * p - w1  # d loss / d eta per cell
        h = wt * p * (1.0 - p)
        g = r @ basis[:, :2]
        hs = h @ basis
        g0, g1 = g[:, 0], g[:, 1] + l2 * b_act
        h00, h01, h11 = hs[:, 0], hs[:, 1], hs[:, 2] + l2
        det = h00 * h11 - h01 * h01
        # Guard against a numerically singular Hessian (all weight at one x with l2=0).
        det = np.where(det > 1e-300, det, np.inf)
        da = (h11 * g0 - h01 * g1) / det
        db = (h00 * g1 - h01 * g0) / det
        # Backtracking: halve the step where the objective would increase. The
        # objective is convex, so near the optimum the full Newton step is accepted.
        a_new, b_new = a_act - da, b_act - db
        eta, e, f_new = _evaluate(a_new, b_new, xc, w1, wt, l2)
        step = np.ones(a_act.size)
        for _ in range(40):
            bad = np.flatnonzero(f_new > f_act + 1e-13 * np.abs(f_act))
            if bad.size == 0:
                break
            step[bad] *= 0.5
            a_new[bad] = a_act[bad] - step[bad] * da[bad]
            b_new[bad] = b_act[bad] - step[bad] * db[bad]
            eta[bad], e[bad], f_new[bad] = _evaluate(
                a_new[bad], b_new[bad], xc, w1[bad], wt[bad], l2
            )
        a[active], b[active], f[active] = a_new, b_new, np.minimum(f_new, f_act)
        moving = (np.abs(step * da) > tol * (1 + np.abs(a_new))) | (
            np.abs(step * db) > tol * (1 + np.abs(b_new))
        )
        if not moving.all():
            active = active[moving]
            w1, wt, eta, e = w1[moving], wt[moving], eta[moving], e[moving]
        if active.size == 0:
            break
    intercept[ok] = a - b * x_mean
    slope[ok] = b
    converged[ok] = True
    converged[ok[active]] = False
    return LogisticFit(intercept, slope, status, iteration, converged)


def horizon_minutes(intercept: np.ndarray, slope: np.ndarray, probability: float) -> np.ndarray:
    """Human-minutes at which the fitted success probability equals ``probability``.

    ``2 ** ((logit(q) - a) / b)``: p50 = ``2^(-a/b)``, p80 = ``2^((ln 4 - a)/b)``.

    Returns:
        Minutes, same shape as the inputs (NaN where the inputs are NaN; inf/0 where the
        exponent overflows).

    Raises:
        ValueError: ``probability`` outside (0, 1).
    """
    if not 0 < probability < 1:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    logit = np.log(probability / (1 - probability))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return np.exp2((logit - np.asarray(intercept)) / np.asarray(slope))
