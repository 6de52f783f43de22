"""How well monitors agree with labels: recall and false-positive rate with exact intervals."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["clopper_pearson", "monitor_rates"]


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Return the exact (Clopper–Pearson) ``1 - alpha`` interval of ``k`` successes in ``n``.

    Returns:
        ``(low, high)``; ``(nan, nan)`` when ``n`` is 0.

    Raises:
        ValueError: ``k`` is outside ``0..n``.
    """
    from scipy.stats import beta

    if not 0 <= k <= n:
        raise ValueError(f"k={k} is outside 0..n={n}")
    if n == 0:
        return math.nan, math.nan
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def monitor_rates(rows: Iterable[tuple[str, frozenset[str], set[str]]],
                  monitors: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Compare what fired with the labels, monitor by monitor.

    Args:
        rows: ``(attempt name, monitors it is labelled for, monitors that fired)``.
        monitors: the monitors to measure.

    Returns:
        Per monitor: positives, negatives, true and false positives, recall and FPR with
        their Clopper–Pearson 95% intervals, the rule-of-three bound (``1 - 3/n`` on
        recall with no misses, ``3/n`` on FPR with no false alarms; else None), and the
        names of the missed positives and of the false alarms.
    """
    rows = list(rows)
    table: dict[str, dict[str, Any]] = {}
    for name in monitors:
        pos = [r for r in rows if name in r[1]]
        neg = [r for r in rows if name not in r[1]]
        tp = sum(name in r[2] for r in pos)
        fp = sum(name in r[2] for r in neg)
        table[name] = {
            "positives": len(pos), "negatives": len(neg), "true_positives": tp,
            "false_positives": fp,
            "recall": tp / len(pos) if pos else math.nan,
            "recall_ci95": clopper_pearson(tp, len(pos)),
            "recall_rule_of_three_low": 1 - 3 / len(pos) if pos and tp == len(pos) else None,
            "fpr": fp / len(neg) if neg else math.nan,
            "fpr_ci95": clopper_pearson(fp, len(neg)),
            "fpr_rule_of_three_high": 3 / len(neg) if neg and fp == 0 else None,
            "missed": sorted(r[0] for r in pos if name not in r[2]),
            "false_alarms": sorted(r[0] for r in neg if name in r[2]),
        }
    return table
