"""blackbox_fit: identify an unknown function from noisy samples and predict where no
sample lies (extrapolation), which only the right model form does well.

Each task's function is drawn from a seed (`_common.rng(family, task)`): its form is
described in the instructions, its constants are not. The workspace holds noisy training
samples and the inputs to predict (`data/<task>_train.csv`, `data/<task>_test.csv`, made
by `build_data.py`); the agent writes `predictions.json`. The scorer recomputes the clean
function at the test inputs on the host and passes a task whose RMSE is at most
`tolerance` (in units of the noise level). Binary.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from rdbench.errors import InvalidSubmission
from rdbench.families._common import FamilyBase, VariantSpec, read_json_output, rng
from rdbench.tasks.contract import Resources, TaskVariant

PREDICTIONS = "predictions.json"


def _lotka_volterra(params: dict[str, float], t: np.ndarray) -> np.ndarray:
    """Return the (len(t), 2) prey/predator trajectory (RK4, 400 steps per unit time)."""
    a, b, c, d = params["alpha"], params["beta"], params["gamma"], params["delta"]

    def f(z: np.ndarray) -> np.ndarray:
        x, y = z
        return np.array([a * x - b * x * y, d * x * y - c * y])

    h = 1.0 / 400
    z = np.array([params["x0"], params["y0"]], dtype=float)
    out = np.empty((len(t), 2))
    now = 0.0
    for i, target in enumerate(t):
        steps = round((target - now) / h)
        for _ in range(steps):
            k1 = f(z)
            k2 = f(z + h / 2 * k1)
            k3 = f(z + h / 2 * k2)
            k4 = f(z + h * k3)
            z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        now += steps * h
        out[i] = z
    return out


@cache
def task_data(task: str) -> dict[str, Any]:
    """Return one task's hidden constants, inputs, clean and noisy values (all from its seed).

    Cached: callers must not modify the arrays.

    Keys: `x_train`, `y_train` (noisy), `x_test`, `y_test` (clean), `sigma` (noise level),
    `constants` (the hidden function's parameters).

    Raises:
        KeyError: an unknown task.
    """
    g = rng("blackbox_fit", task)
    if task == "line":
        a, b, sigma = g.uniform(0.5, 3) * g.choice([-1, 1]), g.uniform(-5, 5), 0.3
        x_tr, x_te = g.uniform(-3, 3, 100), np.sort(g.uniform(-3, 3, 50))

        def fn(x):
            return a * x + b

        constants = {"a": a, "b": b}
    elif task == "poly":
        coef, sigma = g.normal(0, 1, 4), 0.1
        coef[3] = g.uniform(1, 2) * g.choice([-1, 1])
        x_tr, x_te = g.uniform(-1, 1, 200), np.sort(g.uniform(-1.25, 1.25, 60))

        def fn(x):
            return np.polyval(coef[::-1], x)

        constants = {"coef": coef.tolist()}
    elif task == "periodic":
        amp, freq, phase = g.uniform(1, 2), g.uniform(0.3, 1.7), g.uniform(0, 2 * math.pi)
        slope, offset, sigma = g.uniform(-0.2, 0.2), g.uniform(-1, 1), 0.2
        x_tr, x_te = np.sort(g.uniform(0, 20, 300)), np.sort(g.uniform(20, 26, 60))

        def fn(x):
            return amp * np.sin(2 * math.pi * freq * x + phase) + slope * x + offset

        constants = {"amp": amp, "freq": freq, "phase": phase, "slope": slope, "offset": offset}
    elif task == "dynamics":
        params = {
            "alpha": g.uniform(0.8, 1.4),
            "beta": g.uniform(0.3, 0.6),
            "gamma": g.uniform(0.8, 1.5),
            "delta": g.uniform(0.2, 0.5),
            "x0": g.uniform(2, 4),
            "y0": g.uniform(1, 2),
        }
        sigma = 0.05
        x_tr = np.round(np.linspace(0.1, 15, 150), 4)
        x_te = np.round(np.linspace(15.1, 30, 150), 4)
        both = _lotka_volterra(params, np.concatenate([x_tr, x_te]))
        clean_tr, clean_te = both[: len(x_tr)], both[len(x_tr) :]
        noisy = clean_tr * np.exp(g.normal(0, sigma, clean_tr.shape))
        return {
            "x_train": x_tr,
            "y_train": noisy,
            "x_test": x_te,
            "y_test": clean_te,
            "sigma": sigma,
            "constants": params,
        }
    else:
        raise KeyError(task)
    x_tr, x_te = np.round(x_tr, 6), np.round(x_te, 6)
    y_tr = fn(x_tr) + g.normal(0, sigma, len(x_tr))
    return {
        "x_train": x_tr,
        "y_train": y_tr,
        "x_test": x_te,
        "y_test": fn(x_te),
        "sigma": sigma,
        "constants": constants,
    }


class BlackboxFit(FamilyBase):
    name = "blackbox_fit"
    summary = "Identify a hidden function from noisy samples; predict beyond the samples"
    resources = Resources(cores=2, memory_mb=2048, disk_mb=512)
    quick = True
    # tolerance: largest passing RMSE against the clean function, in units of the noise
    # level (for `dynamics`: RMS relative error, in units of the 5% noise).
    specs = (
        VariantSpec("line", 2, {"tolerance": 0.35, "form": "a straight line"}),
        VariantSpec("poly", 7, {"tolerance": 0.6, "form": "a polynomial of low degree"}),
        VariantSpec(
            "periodic",
            25,
            {
                "tolerance": 0.6,
                "form": "one sinusoid (unknown amplitude, frequency and phase) "
                "plus a straight line",
            },
        ),
        VariantSpec("dynamics", 90, {"tolerance": 1.0, "form": "a predator-prey system"}),
    )

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return 1.0 when the task's predictions are within tolerance of the clean function.

        Raises:
            InvalidSubmission: predictions.json is missing, a symlink, too large, or the task's
                entry is not a list of numbers of the right length.
        """
        data = task_data(spec.name)
        submitted = read_json_output(workspace, PREDICTIONS, max_bytes=4 << 20)
        if not isinstance(submitted, dict):
            raise InvalidSubmission(f"{PREDICTIONS} must hold a JSON object keyed by task name")
        if spec.name not in submitted:
            return 0.0
        truth = np.asarray(data["y_test"], dtype=float)
        try:
            pred = np.asarray(submitted[spec.name], dtype=float)
        except (TypeError, ValueError):
            raise InvalidSubmission(
                f"{PREDICTIONS}: {spec.name} must be a list of numbers"
            ) from None
        if pred.shape != truth.shape:
            shape = "a list of lists [prey, predator]" if truth.ndim == 2 else "a list"
            raise InvalidSubmission(
                f"{PREDICTIONS}: {spec.name} must be {shape} of {len(truth)} predictions, "
                "one per row of the test file"
            )
        if not np.all(np.isfinite(pred)):
            return 0.0
        if spec.name == "dynamics":
            if np.any(pred <= 0):
                return 0.0
            error = float(np.sqrt(np.mean(np.log(pred / truth) ** 2)))
        else:
            error = float(np.sqrt(np.mean((pred - truth) ** 2)))
        return 1.0 if error <= spec.params["tolerance"] * data["sigma"] else 0.0
