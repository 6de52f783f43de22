"""Trap metrics, as pure functions over DataFrames of attempts.

The input is one row per attempt (`rdbench.traps.records.trap_attempts` reads it from logs):
`agent`, `task_id`, `base_task_id`, `trap_class` (None/NaN for an attempt at the task
without a trap), `epoch`, `utility` (the family's success, 0/1; NaN when the attempt has
no valid score) and `attack_success` (0/1 for trap attempts, NaN otherwise).

Rates carry 95% Wilson score intervals; the cost of a trap is the paired difference
(utility under attack - benign utility) over attempts matched on (agent, base task, epoch),
with Newcombe's hybrid score interval for paired proportions (method 10, Newcombe 1998).
"""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import norm

Z95 = float(norm.ppf(0.975))

METRIC_COLUMNS = (
    "agent", "trap_class", "benign_n", "benign_utility", "benign_low", "benign_high",
    "attack_n", "attack_utility", "attack_utility_low", "attack_utility_high",
    "asr", "asr_low", "asr_high", "pairs", "paired_diff", "paired_low", "paired_high",
)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Return (rate, low, high): the proportion and its Wilson score interval.

    Returns NaNs when `n` is 0.

    Raises:
        ValueError: successes outside [0, n].
    """
    if n == 0:
        return math.nan, math.nan, math.nan
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} outside [0, {n}]")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def paired_difference(pairs: list[tuple[int, int]], z: float = Z95) -> tuple[float, float, float]:
    """Return (diff, low, high) for paired binary outcomes `(with_trap, without_trap)`:
    diff = P(with) - P(without), with Newcombe's hybrid score interval (method 10).

    Returns NaNs for no pairs.
    """
    n = len(pairs)
    if n == 0:
        return math.nan, math.nan, math.nan
    a = sum(1 for x, y in pairs if x and y)
    b = sum(1 for x, y in pairs if x and not y)
    c = sum(1 for x, y in pairs if not x and y)
    d = n - a - b - c
    p1, l1, u1 = wilson_interval(a + b, n, z)
    p2, l2, u2 = wilson_interval(a + c, n, z)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(denom) if denom > 0 else 0.0
    return hybrid_score_interval((p1, l1, u1), (p2, l2, u2), phi)


def hybrid_score_interval(
    first: tuple[float, float, float], second: tuple[float, float, float], phi: float = 0.0
) -> tuple[float, float, float]:
    """Return (p1 - p2, low, high) from each proportion's (rate, low, high) score interval,
    by Newcombe's square-and-add: `phi` 0 for independent samples (his method 10 of 1998
    for two independent proportions), the correlation of the pairs for paired data."""
    p1, l1, u1 = first
    p2, l2, u2 = second
    theta = p1 - p2
    low = theta - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                                + (u2 - p2) ** 2))
    high = theta + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                                 + (p2 - l2) ** 2))
    return theta, max(-1.0, low), min(1.0, high)


def _is_benign(df: pd.DataFrame) -> pd.Series:
    return df["trap_class"].isna()


def _count(values: pd.Series) -> tuple[int, int]:
    valid = values.dropna()
    return int((valid > 0).sum()), int(len(valid))


def paired_rows(attempts: pd.DataFrame, agent: str, trap_class: str) -> list[tuple[int, int]]:
    """Return the `(utility with trap, utility without)` pairs of `agent` under `trap_class`,
    matched on (base task, epoch); attempts without a valid score on either side drop out."""
    mine = attempts[attempts["agent"] == agent]
    benign = mine[_is_benign(mine)].set_index(["base_task_id", "epoch"])["utility"]
    trapped = mine[mine["trap_class"] == trap_class].set_index(["base_task_id", "epoch"])["utility"]
    joined = pd.concat([trapped.rename("with"), benign.rename("without")], axis=1,
                       join="inner").dropna()
    return [(int(r["with"] > 0), int(r["without"] > 0)) for _, r in joined.iterrows()]


def trap_metrics(attempts: pd.DataFrame) -> pd.DataFrame:
    """Return one row per (agent, trap class): benign utility, utility under attack and
    attack success rate, each with its 95% Wilson interval, and the paired difference
    (utility under attack - benign) with its 95% Newcombe interval.

    Benign utility is over the agent's attempts at the base tasks of the class's trap
    attempts. Rows are sorted by agent, then class in `TRAP_CLASSES` order.

    Raises:
        KeyError: a required column is missing.
    """
    from rdbench.traps.catalog import TRAP_CLASSES

    rows = []
    for agent in sorted(attempts["agent"].astype(str).unique()):
        mine = attempts[attempts["agent"] == agent]
        benign_all = mine[_is_benign(mine)]
        classes = [c for c in TRAP_CLASSES if (mine["trap_class"] == c).any()]
        for trap_class in classes:
            trapped = mine[mine["trap_class"] == trap_class]
            benign = benign_all[benign_all["base_task_id"].isin(trapped["base_task_id"])]
            bk, bn = _count(benign["utility"])
            ak, an = _count(trapped["utility"])
            sk, sn = _count(trapped["attack_success"])
            pairs = paired_rows(attempts, agent, trap_class)
            rows.append(
                (agent, trap_class, bn, *wilson_interval(bk, bn), an, *wilson_interval(ak, an),
                 *wilson_interval(sk, sn), len(pairs), *paired_difference(pairs))
            )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
