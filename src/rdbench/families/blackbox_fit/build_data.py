"""Write workspace/data/<task>_{train,test}.csv from the family's seeds (run once; shipped).

`python src/rdbench/families/blackbox_fit/build_data.py`; a test checks that the shipped
files equal what this writes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).parent


def render(task: str, data: dict) -> tuple[str, str]:
    """Return the (train, test) CSV texts of one task."""
    if data["y_train"].ndim == 2:
        train = "t,prey,predator\n" + "".join(
            f"{t:.4f},{y[0]:.6f},{y[1]:.6f}\n" for t, y in zip(data["x_train"], data["y_train"])
        )
        test = "t\n" + "".join(f"{t:.4f}\n" for t in data["x_test"])
    else:
        train = "x,y\n" + "".join(
            f"{x:.6f},{y:.6f}\n" for x, y in zip(data["x_train"], data["y_train"])
        )
        test = "x\n" + "".join(f"{x:.6f}\n" for x in data["x_test"])
    return train, test


def main() -> None:
    spec = importlib.util.spec_from_file_location("bbf_family", HERE / "family.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for variant in module.BlackboxFit.specs:
        train, test = render(variant.name, module.task_data(variant.name))
        (HERE / "workspace" / "data" / f"{variant.name}_train.csv").write_text(train)
        (HERE / "workspace" / "data" / f"{variant.name}_test.csv").write_text(test)


if __name__ == "__main__":
    main()
