"""numerics: numerical kernels that must be right to a tolerance on hard inputs.

The agent edits `kernels.py`: a log-sum-exp, a streaming sample variance, and an
integrator for a stiff chemical-kinetics system. Each task checks one function: the scorer
draws its cases from the task's seed, runs a family-written runner (`runner.py`, placed in
the jail's /input) that imports the solution's module in a one-shot jail, reads the
results back without following symlinks, and compares them on the host with values it
computes itself (exact rational arithmetic, or a tight implicit solver). Binary.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import statistics
from functools import lru_cache
from pathlib import Path

import numpy as np

from rdbench.errors import InvalidSubmission
from rdbench.families._common import (
    FamilyBase,
    VariantSpec,
    read_output,
    rng,
    run_python,
    scratch_dirs,
)
from rdbench.tasks.contract import Resources, TaskVariant

HERE = Path(__file__).parent


def cases(task: str) -> dict[str, np.ndarray]:
    """Return the task's inputs (the arrays written to the jail's /input/cases.npz).

    Raises:
        KeyError: an unknown task.
    """
    g = rng("numerics", task)
    out: dict[str, np.ndarray] = {}
    if task == "logsumexp":
        arrays = [
            g.normal(0, 1, 200),
            g.normal(750, 30, 500),  # exp overflows
            g.normal(-900, 20, 300),  # exp underflows to 0
            np.concatenate([g.normal(0, 300, 400), [-np.inf]]),
            np.concatenate([[g.uniform(900, 1100)], g.normal(-1e4, 10, 99)]),
        ]
    elif task == "variance":
        arrays = [
            g.uniform(1e8, 1e9) + g.uniform(1e-3, 1e-1) * g.normal(0, 1, 20357),
            -g.uniform(1e7, 1e8) + g.uniform(1, 10) * g.standard_t(3, 15001),
            g.normal(0, 1, 9999),
            g.uniform(1e9, 2e9) + np.round(g.normal(0, 1, 30011), 3),
        ]
        out["chunk"] = np.array(1000)
    elif task == "stiff":
        base = np.array([0.04, 3e7, 1e4])
        for i, t_end in enumerate((40.0, 4e3, 4e5)):
            out[f"k{i}"] = base * np.exp(g.uniform(-0.7, 0.7, 3))
            out[f"t{i}"] = np.array(t_end)
        out["count"] = np.array(3)
        return out
    else:
        raise KeyError(task)
    for i, x in enumerate(arrays):
        out[f"x{i}"] = np.asarray(x, dtype=float)
    out["count"] = np.array(len(arrays))
    return out


@lru_cache(maxsize=8)
def expected(task: str) -> tuple[tuple[float, ...], ...]:
    """Return the task's correct results (computed on the host, never shown to the agent)."""
    data = cases(task)
    n = int(data["count"])
    if task == "logsumexp":
        rows = []
        for i in range(n):
            x = data[f"x{i}"]
            m = float(np.max(x))
            rows.append((m + math.log(math.fsum(math.exp(v - m) for v in x.tolist())),))
        return tuple(rows)
    if task == "variance":
        return tuple((float(statistics.variance(data[f"x{i}"].tolist())),) for i in range(n))
    # the stiff system's tight solve takes about a minute: its result is shipped
    rows = json.loads((HERE / "hidden" / "stiff.json").read_text())["y"]
    return tuple(tuple(float(v) for v in row) for row in rows)


def solve_stiff_exactly() -> list[list[float]]:
    """Return the stiff task's results from a tight Radau solve (about a minute; this is
    how `hidden/stiff.json` is made: `python family.py`)."""
    from scipy.integrate import solve_ivp

    data = cases("stiff")
    n = int(data["count"])

    rows = []
    for i in range(n):
        k1, k2, k3 = (float(v) for v in data[f"k{i}"])

        def rhs(_, y, k1=k1, k2=k2, k3=k3):
            return [
                -k1 * y[0] + k3 * y[1] * y[2],
                k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
                k2 * y[1] ** 2,
            ]

        def jac(_, y, k1=k1, k2=k2, k3=k3):
            return [
                [-k1, k3 * y[2], k3 * y[1]],
                [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
                [0.0, 2 * k2 * y[1], 0.0],
            ]

        sol = solve_ivp(
            rhs,
            (0.0, float(data[f"t{i}"])),
            [1.0, 0.0, 0.0],
            method="Radau",
            jac=jac,
            rtol=1e-11,
            atol=[1e-15, 1e-19, 1e-15],
        )
        rows.append([float(v) for v in sol.y[:, -1]])
    return rows


class Numerics(FamilyBase):
    name = "numerics"
    summary = "Numerical kernels (log-sum-exp, streaming variance, stiff ODE) to a tolerance"
    resources = Resources(cores=2, memory_mb=2048, disk_mb=512)
    quick = True
    # rel, abs: a result r passes against the truth e when |r - e| <= abs + rel * |e|.
    specs = (
        VariantSpec(
            "logsumexp", 2, {"function": "logsumexp", "rel": 1e-9, "abs": 1e-9, "timeout": 60}
        ),
        VariantSpec(
            "variance",
            6,
            {"function": "streaming_variance", "rel": 1e-7, "abs": 0.0, "timeout": 60},
        ),
        VariantSpec(
            "stiff", 20, {"function": "integrate", "rel": 1e-5, "abs": 1e-12, "timeout": 60}
        ),
    )

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return 1.0 when every case of the task's function is within tolerance, else 0.0.

        Raises:
            InvalidSubmission: kernels.py is missing, crashes or times out, or writes no
                result of the right shape.
        """
        if not (workspace / "kernels.py").is_file() or (workspace / "kernels.py").is_symlink():
            raise InvalidSubmission("kernels.py is missing from the workspace")
        truth = np.asarray(expected(spec.name), dtype=float)
        with scratch_dirs("rdbench-numerics-") as (inputs, outputs):
            shutil.copy(HERE / "runner.py", inputs / "runner.py")
            np.savez(inputs / "cases.npz", **cases(spec.name))
            run = run_python(
                workspace,
                "/input/runner.py",
                [spec.name],
                timeout=float(spec.params["timeout"]),
                input_dir=inputs,
                output_dir=outputs,
            )
            if not run.ok:
                raise InvalidSubmission(
                    f"running {spec.params['function']} from kernels.py: {run.message}"
                )
            raw = read_output(outputs, "result.npy", max_bytes=1 << 20)
        try:
            result = np.load(io.BytesIO(raw), allow_pickle=False)
        except (ValueError, OSError):
            raise InvalidSubmission("the runner's result could not be read") from None
        if result.shape != truth.shape:
            raise InvalidSubmission(
                f"{spec.params['function']} must return one value per case "
                f"({'3 concentrations' if spec.name == 'stiff' else 'a float'})"
            )
        if not np.all(np.isfinite(result)):
            return 0.0
        within = np.abs(result - truth) <= spec.params["abs"] + spec.params["rel"] * np.abs(truth)
        return 1.0 if bool(np.all(within)) else 0.0


if __name__ == "__main__":
    (HERE / "hidden" / "stiff.json").write_text(json.dumps({"y": solve_stiff_exactly()}) + "\n")
