"""Score the starting and reference solutions the way the scorer does, several times.

Usage (from the repository root):
    .venv/bin/python src/rdbench/tasks/optimize_training/calibrate.py [--repeats 3]

For each solution prints one JSON line per scoring (the raw ratio to the yardstick, the
wall seconds, the yardstick's times, the hidden losses and the machine's 1-minute load
average) and then the medians of the ratios, which are the `Normalization(start=...,
reference=...)` constants of `family.py`. The ratios hold across machines of similar
kind; measure when the machine is quiet all the same.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from rdbench.errors import TimingUnreliable
from rdbench.tasks import load_families, materialize


def measure(solution: str) -> dict:
    """Score `solution` ("starting" or "reference") once; return its ratio and details.

    Raises:
        TimingUnreliable: the yardstick's two measurements disagreed.
        InvalidSubmission: the solution failed (it should not).
    """
    family = load_families(["optimize_training"])[0]
    family.prepare()
    with tempfile.TemporaryDirectory(prefix="rdbench-calibrate-") as tmp:
        workspace = materialize(family, Path(tmp) / "ws", solution)  # type: ignore[arg-type]
        result = family.score(workspace, family.variants()[0])
    return {"solution": solution, "ratio": round(result.raw, 4), **result.details,
            "load_1min": round(os.getloadavg()[0], 2)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    medians = {}
    for solution in ("starting", "reference"):
        ratios = []
        for _ in range(args.repeats):
            try:
                row = measure(solution)
            except TimingUnreliable as ex:
                row = {"solution": solution, "unreliable": str(ex), **getattr(ex, "details", {})}
                print(json.dumps(row), flush=True)
                continue
            print(json.dumps(row), flush=True)
            ratios.append(row["ratio"])
        medians[solution] = statistics.median(ratios) if ratios else None
    print(json.dumps({"start": medians["starting"], "reference": medians["reference"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
