"""Train on the public data and report: python check.py"""

from pathlib import Path

import numpy as np
from train import fit

with np.load(Path(__file__).parent / "data.npz") as data:
    out = fit(data["X_train"], data["y_train"], data["X_val"], data["y_val"], seed=0)
finite = all(np.isfinite(v).all() for v in out.values())
print(f"best validation accuracy {float(out['best_val_acc']):.3f}; all outputs finite: {finite}")
