"""Build the scorer's table: train every menu size at the target budget, score on hidden text.

Usage (from the repository root; about 15 core-minutes on a quiet machine):
    .venv/bin/python src/rdbench/tasks/scaling_law/build_table.py [--workers 2]

For each width in the workspace's `SIZES`, trains the workspace's own `train.train` (the
exact code the agent runs, same seed rule and hyperparameters) with D = TARGET_FLOPS / (6 N)
training tokens, then evaluates the final model on the whole hidden test split of the
corpus (never shipped) and on the shipped validation split. Writes `hidden/table.json`,
which `family.py` reads; the weights are not kept.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

FAMILY_DIR = Path(__file__).resolve().parent
TABLE_PATH = FAMILY_DIR / "hidden" / "table.json"
TABLE_SEED = 0


def _workspace_train():
    path = FAMILY_DIR / "workspace" / "train.py"
    spec = importlib.util.spec_from_file_location("scaling_law_train", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_size(d_model: int) -> dict:
    """Train width `d_model` at the target budget; return its table row (losses in nats/char)."""
    import torch

    from rdbench.tasks._corpus import corpus_splits, encode_array

    torch.set_num_threads(1)
    train = _workspace_train()
    train_text, validation_text, test_text = corpus_splits()
    tokens = int(train.TARGET_FLOPS / (6 * train.param_count(d_model)))
    model, row = train.fit(d_model, tokens, encode_array(train_text), seed=TABLE_SEED)
    row["test_loss"] = train.evaluate(model, encode_array(test_text), None)
    # the shipped validation split, for the README's note on the validation/test gap
    row["validation_loss"] = train.evaluate(model, encode_array(validation_text), None)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="*", help="only these widths (default: all)")
    args = parser.parse_args(argv)
    train = _workspace_train()
    sizes = args.sizes or list(train.SIZES)
    # smallest (slowest per FLOP) first, so the two workers finish together
    sizes = sorted(sizes, key=train.param_count)
    rows = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for row in pool.map(run_size, sizes):
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.sizes and TABLE_PATH.exists():
        # a partial rebuild keeps the other widths' rows of a table with the same budget
        old = json.loads(TABLE_PATH.read_text())
        if old["target_flops"] == train.TARGET_FLOPS and old["seed"] == TABLE_SEED:
            rows += [r for r in old["rows"] if r["d_model"] not in args.sizes]
    table = {
        "target_flops": train.TARGET_FLOPS,
        "seed": TABLE_SEED,
        "loss": "mean next-character cross-entropy (nats) on the whole hidden test split",
        "rows": sorted(rows, key=lambda r: r["d_model"]),
    }
    TABLE_PATH.parent.mkdir(exist_ok=True)
    TABLE_PATH.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {TABLE_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
