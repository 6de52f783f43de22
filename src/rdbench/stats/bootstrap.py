"""Hierarchical bootstrap (families -> tasks -> runs) as per-cell weights, vectorized.

A bootstrap sample of runs only matters to a weighted logistic fit through how many times
each original run was drawn. So instead of building B resampled DataFrames (METR's
pipeline, ~28 s for 1000 samples), we draw the multiplicities directly:

1. families: ``F`` draws with replacement from the ``F`` families -> copies ``m_f``;
2. tasks: each family copy draws ``T_f`` tasks with replacement. The sum of ``m_f``
   independent uniform multinomials is one multinomial of ``m_f * T_f`` draws, so the
   task multiplicities ``M_t`` come from a single multinomial per family;
3. runs: each task copy resamples each agent's ``n`` runs on it with replacement; again the
   copies pool into ``M_t * n`` uniform draws over those runs (exactly what METR's
   ``bootstrap_runs_by_task_agent`` does on the pooled indices).

Families and tasks are resampled once per sample and shared by all agents (as METR does),
so the per-agent horizons of one sample are jointly drawn and the trend can be refit on
each sample. The result is, per sample, the weight of successes and of failures in each
(agent, task) cell: the only thing the fit needs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["resample_task_counts", "resample_cell_weights"]


def resample_task_counts(
    task_family: np.ndarray, n_samples: int, rng: np.random.Generator
) -> np.ndarray:
    """Multiplicity of each task in each hierarchical bootstrap sample (families, then tasks).

    Args:
        task_family: shape ``(T,)``, integer family code of each task (0..F-1, all present).
        n_samples: number of bootstrap samples ``B``.
        rng: the seeded generator.

    Returns:
        ``(B, T)`` int array of task multiplicities.
    """
    task_family = np.asarray(task_family)
    n_families = int(task_family.max()) + 1
    uniform = np.full(n_families, 1.0 / n_families)
    family_counts = rng.multinomial(n_families, uniform, size=n_samples)
    family_size = np.bincount(task_family, minlength=n_families)
    counts = np.zeros((n_samples, task_family.size), dtype=np.int64)
    # Families of equal size share the same uniform probabilities: one vectorized
    # multinomial call per distinct size.
    for size in np.unique(family_size):
        families = np.flatnonzero(family_size == size)
        draws = rng.multinomial(family_counts[:, families] * size, np.full(size, 1.0 / size))
        for j, family in enumerate(families):
            counts[:, np.flatnonzero(task_family == family)] = draws[:, j, :]
    return counts


def resample_cell_weights(
    cell_task: np.ndarray,
    cell_rows: list[np.ndarray],
    y: np.ndarray,
    w: np.ndarray,
    task_counts: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Resample runs within each (agent, task) cell and sum success/failure weight.

    Args:
        cell_task: shape ``(G,)``, the task index of each cell.
        cell_rows: for each cell, the indices of its runs into ``y``/``w``.
        y: shape ``(N,)``, outcome of each run in [0, 1] (fractions allowed).
        w: shape ``(N,)``, weight of each run.
        task_counts: ``(B, T)`` task multiplicities from :func:`resample_task_counts`.
        rng: the seeded generator.

    Returns:
        ``(w1, w0)``, each ``(B, G)``: total weight of successes and of failures per cell.
    """
    n_samples = task_counts.shape[0]
    n_cells = len(cell_rows)
    sizes = np.array([rows.size for rows in cell_rows], dtype=np.int64)
    draws = task_counts[:, cell_task] * sizes[None, :]  # (B, G) runs drawn per cell
    w1 = np.zeros((n_samples, n_cells))
    w0 = np.zeros((n_samples, n_cells))
    if n_cells == 0:
        return w1, w0
    cell_w = np.array([w[rows][0] if rows.size else 0.0 for rows in cell_rows])
    same_w = all(rows.size == 0 or np.all(w[rows] == w[rows][0]) for rows in cell_rows)
    binary = bool(np.all((y == 0) | (y == 1)))
    if binary and same_w:
        # Fast path: the number of successes among D uniform draws from a cell with k
        # successes out of n is Binomial(D, k/n) -- no need to draw individual runs.
        k = np.array([y[rows].sum() for rows in cell_rows])
        p = np.divide(k, sizes, out=np.zeros(n_cells), where=sizes > 0)
        successes = rng.binomial(draws, p[None, :])
        w1[:] = successes * cell_w[None, :]
        w0[:] = (draws - successes) * cell_w[None, :]
        return w1, w0
    # General path (fractional scores or uneven weights): draw every run index.
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    order = np.concatenate([rows for rows in cell_rows]) if n_cells else np.zeros(0, int)
    flat = draws.ravel()  # (B*G,) in (sample, cell) order
    pair_cell = np.tile(np.arange(n_cells), n_samples)
    nonzero = np.flatnonzero(flat)
    per_draw_pair = np.repeat(nonzero, flat[nonzero])
    per_draw_cell = pair_cell[per_draw_pair]
    within = (rng.random(per_draw_pair.size) * sizes[per_draw_cell]).astype(np.int64)
    pick = offsets[per_draw_cell] + within
    rows = order[pick]
    wy = np.bincount(per_draw_pair, weights=w[rows] * y[rows], minlength=flat.size)
    wn = np.bincount(per_draw_pair, weights=w[rows] * (1 - y[rows]), minlength=flat.size)
    return wy.reshape(n_samples, n_cells), wn.reshape(n_samples, n_cells)
