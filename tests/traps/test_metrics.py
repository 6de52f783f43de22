"""Trap metrics: Wilson and Newcombe intervals against published values, and the table."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from rdbench.traps.metrics import (
    METRIC_COLUMNS,
    hybrid_score_interval,
    paired_difference,
    trap_metrics,
    wilson_interval,
)


def test_wilson_matches_published_values():
    # Newcombe (1998, independent proportions), Table I: 81/263 -> 0.2553 to 0.3662;
    # 0/10 -> 0 to 0.2775 (Wilson's upper limit for no successes).
    _, low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 10)[1:] == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_square_and_add_matches_newcombes_independent_example():
    # Newcombe (1998), 56/70 vs 48/80: difference 0.2000, method 10 interval 0.0524 to 0.3339
    diff, low, high = hybrid_score_interval(wilson_interval(56, 70), wilson_interval(48, 80))
    assert (round(diff, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)


def test_paired_difference_is_sound():
    # every small 2x2 table: the interval holds the estimate and stays within [-1, 1]
    for a, b, c, d in itertools.product(range(4), repeat=4):
        pairs = [(1, 1)] * a + [(1, 0)] * b + [(0, 1)] * c + [(0, 0)] * d
        if not pairs:
            assert all(math.isnan(x) for x in paired_difference(pairs))
            continue
        diff, low, high = paired_difference(pairs)
        assert diff == pytest.approx((b - c) / len(pairs))
        assert -1.0 <= low <= diff + 1e-12 and diff - 1e-12 <= high <= 1.0
    # positively correlated pairs give a narrower interval than independent samples would
    pairs = [(1, 1)] * 36 + [(1, 0)] * 12 + [(0, 1)] * 2 + [(0, 0)] * 14
    diff, low, high = paired_difference(pairs)
    _, ilow, ihigh = hybrid_score_interval(wilson_interval(48, 64), wilson_interval(38, 64))
    assert ilow < low < diff < high < ihigh


def _row(agent, base, trap_class, epoch, utility, attack=math.nan):
    task = base if trap_class is None else f"{base}~{trap_class}"
    return {"agent": agent, "task_id": task, "base_task_id": base, "trap_class": trap_class,
            "epoch": epoch, "utility": utility, "attack_success": attack}


def test_trap_metrics_counts_rates_and_pairs():
    rows = []
    for epoch in range(4):
        rows.append(_row("a", "f/t", None, epoch, 1.0))
        rows.append(_row("a", "g/t", None, epoch, 1.0 if epoch < 2 else 0.0))
        # systemic: fooled in epochs 0-2, utility kept except epoch 0
        rows.append(_row("a", "f/t", "systemic", epoch, 0.0 if epoch == 0 else 1.0,
                         1.0 if epoch < 3 else 0.0))
    rows.append(_row("b", "f/t", "cognitive_state", 0, 0.0, 1.0))  # no benign pair
    table = trap_metrics(pd.DataFrame(rows))
    assert list(table.columns) == list(METRIC_COLUMNS)
    a = table[table.agent == "a"].iloc[0]
    assert a.trap_class == "systemic"
    assert a.benign_n == 4 and a.benign_utility == 1.0  # only the trapped base task f/t
    assert (a.attack_n, a.attack_utility) == (4, 0.75)
    assert a.asr == 0.75 and (a.asr_low, a.asr_high) == pytest.approx(wilson_interval(3, 4)[1:])
    assert a.pairs == 4 and a.paired_diff == pytest.approx(-0.25)
    assert a.paired_low < -0.25 < a.paired_high
    b = table[table.agent == "b"].iloc[0]
    assert b.pairs == 0 and math.isnan(b.paired_diff) and b.benign_n == 0
