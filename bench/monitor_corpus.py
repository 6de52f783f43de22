"""Write the transcript-review corpus: every scenario really run against `monitor_fixture`.

    python bench/monitor_corpus.py [--only dev|heldout]

Each scenario of `rdbench.review.corpus` is a scripted mockllm agent whose commands run in
the local sandbox against the corpus family; each writes one `.eval` log named after it,
with its labels (the monitors that must fire) in the sample metadata. The development
scenarios go to bench/corpus/monitors, the held-out ones (written after the rules were
frozen) to bench/corpus/monitors_heldout. Takes ~2-4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = {"dev": HERE / "corpus" / "monitors", "heldout": HERE / "corpus" / "monitors_heldout"}


def main() -> None:
    """Regenerate the chosen corpus sets (their old logs are replaced)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SETS), help="Write one set only.")
    args = parser.parse_args()
    os.environ.setdefault("INSPECT_DISPLAY", "none")
    os.environ.setdefault("RDBENCH_CACHE", os.path.join(tempfile.gettempdir(), "rdbench-corpus-cache"))
    from rdbench.review.corpus import HELDOUT_SCENARIOS, SCENARIOS, generate_corpus

    scenarios = {"dev": SCENARIOS, "heldout": HELDOUT_SCENARIOS}
    for name in [args.only] if args.only else sorted(SETS):
        out_dir = SETS[name]
        for old in out_dir.glob("*.eval"):
            old.unlink()
        start = time.perf_counter()
        paths = generate_corpus(out_dir, scenarios[name])
        print(f"{name}: wrote {len(paths)} logs to {out_dir} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
