"""Measure the starting and reference solutions the way the scorer does, several times.

Usage (from the repository root):
    .venv/bin/python src/rdbench/tasks/optimize_training/calibrate.py [--repeats 3]

For each solution prints one JSON line per run (wall seconds of the jailed training, the
hidden loss, the machine's 1-minute load average) and then the medians, which are the
`Normalization(start=..., reference=...)` constants of `family.py`. Run it on the machine
(kind) the scores are meant for, when nothing else is running: the constants are absolute
times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from rdbench.tasks import load_families, materialize


def measure(solution: str) -> dict:
    """Run `solution` ("starting" or "reference") once; return its wall time and loss."""
    family = load_families(["optimize_training"])[0]
    module = sys.modules[type(family).__module__]
    family.prepare()
    params = family.params()
    with tempfile.TemporaryDirectory(prefix="rdbench-calibrate-") as tmp:
        workspace = materialize(family, Path(tmp) / "ws", solution)  # type: ignore[arg-type]
        code = module.copy_sources(workspace, Path(tmp) / "code")
        out = Path(tmp) / "out"
        out.mkdir()
        os.chmod(out, 0o777)
        seconds = family._timed_training(code, family._data_dir() / "inputs", out, params)
        loss = family._evaluate(out / "model.pt", family._data_dir() / "hidden")
    return {"solution": solution, "wall_s": round(seconds, 2), "loss": round(loss, 4),
            "load_1min": round(os.getloadavg()[0], 2)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    medians = {}
    for solution in ("starting", "reference"):
        times = []
        for _ in range(args.repeats):
            row = measure(solution)
            print(json.dumps(row), flush=True)
            times.append(row["wall_s"])
        medians[solution] = statistics.median(times)
    print(json.dumps({"start": medians["starting"], "reference": medians["reference"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
