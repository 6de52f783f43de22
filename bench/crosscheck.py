"""Crosscheck suite speed: generating 300 problems, and checking 300 answers (code tests
included, each in its own jail), in one process as a run does.

    .venv/bin/python bench/crosscheck.py [--problems 300] [--repeats 3]

Targets (issue 15): generation under 5 s, checking under 2 minutes on 2 cores. Writes
bench/results/crosscheck.json with medians and the load average beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    import sympy  # noqa: F401 - imported once per run; timed apart from generation

    import_s = time.perf_counter() - start
    from rdbench.crosscheck.checking import check_answer
    from rdbench.crosscheck.problems import generate_suite

    generate, check = [], []
    for repeat in range(args.repeats):
        t0 = time.perf_counter()
        suite = generate_suite(args.problems, seed=repeat)
        generate.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        correct = 0
        for p in suite:  # the reference answers, written as a model would
            text = f"```python\n{p.answer}```" if p.kind == "code" else f"...\nANSWER: {p.answer}"
            correct += check_answer(text, p).correct
        check.append(time.perf_counter() - t0)
        assert correct == len(suite), f"{len(suite) - correct} reference answers failed"
    result = {
        "problems": args.problems,
        "sympy_import_s": import_s,
        "generate_s_median": statistics.median(generate),
        "check_s_median": statistics.median(check),
        "generate_s": generate,
        "check_s": check,
        "targets": {"generate_s": 5.0, "check_s": 120.0},
        "load_average_1m": os.getloadavg()[0],
    }
    out = ROOT / "bench" / "results" / "crosscheck.json"
    out.with_suffix(".json.tmp").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".json.tmp").replace(out)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
