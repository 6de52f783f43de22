"""Write the transcript-review corpus: every scenario really run against `monitor_fixture`.

    python bench/monitor_corpus.py [OUT_DIR]      (default bench/corpus/monitors)

Each scenario of `rdbench.review.corpus` is a scripted mockllm agent whose commands run in
the local sandbox against the corpus family; each writes one `.eval` log named after it,
with its labels (the monitors that must fire) in the sample metadata. Takes ~2-3 minutes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(out_dir: Path) -> None:
    """Regenerate the corpus into ``out_dir`` (its old logs are replaced)."""
    os.environ.setdefault("INSPECT_DISPLAY", "none")
    os.environ.setdefault("RDBENCH_CACHE", os.path.join(tempfile.gettempdir(), "rdbench-corpus-cache"))
    from rdbench.review.corpus import generate_corpus

    for old in out_dir.glob("*.eval"):
        old.unlink()
    start = time.perf_counter()
    paths = generate_corpus(out_dir)
    print(f"wrote {len(paths)} logs to {out_dir} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "corpus" / "monitors")
