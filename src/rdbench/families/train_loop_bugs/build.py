"""Write train_loop_bugs' workspace, starting and reference code for every variant.

Run: `python -m rdbench.families.train_loop_bugs.build` (the tests check the committed
files equal what this writes).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from rdbench.families.train_loop_bugs.data import make_data
from rdbench.families.train_loop_bugs.sources import VARIANTS, buggy_sources, correct_sources

HERE = Path(__file__).resolve().parent
PUBLIC_SEED = 12_345

CHECK = '''"""Train on the public data and report: python check.py"""

from pathlib import Path

import numpy as np
from train import fit

with np.load(Path(__file__).parent / "data.npz") as data:
    out = fit(data["X_train"], data["y_train"], data["X_val"], data["y_val"], seed=0)
finite = all(np.isfinite(v).all() for v in out.values())
print(f"best validation accuracy {float(out['best_val_acc']):.3f}; all outputs finite: {finite}")
'''


def public_npz() -> bytes:
    """Return the public data set as .npz bytes (deterministic)."""
    buffer = io.BytesIO()
    np.savez(buffer, **make_data(PUBLIC_SEED))
    return buffer.getvalue()


def main() -> None:
    blob = public_npz()
    for variant in VARIANTS:
        ws = HERE / "workspace" / variant
        ws.mkdir(parents=True, exist_ok=True)
        (ws / "data.npz").write_bytes(blob)
        (ws / "check.py").write_text(CHECK)
        for sol, files in (
            ("starting", buggy_sources(variant)),
            ("reference", correct_sources(variant)),
        ):
            (HERE / sol / variant).mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (HERE / sol / variant / name).write_text(text)


if __name__ == "__main__":
    main()
