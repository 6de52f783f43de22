"""numerics: start fails, reference passes, a plausible wrong kernel fails, hacks do not help."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

from rdbench.tasks import load_families, materialize, score_solution, score_workspace

CANARY = "CANARY-numerics-51c2"


@pytest.fixture(scope="module")
def family():
    return load_families(["numerics"])[0]


@pytest.fixture(scope="module")
def variants(family):
    return {v.name: v for v in family.variants()}


@pytest.mark.parametrize(
    "task", ["logsumexp", "variance", pytest.param("stiff", marks=pytest.mark.slow)]
)
def test_start_fails_and_reference_passes(family, variants, task):
    start = score_solution(family, variants[task], "starting")
    assert start.valid and start.normalized == 0.0, start.message
    ref = score_solution(family, variants[task], "reference")
    assert ref.normalized == 1.0, ref.message


def test_cases_are_seeded_and_the_exact_values_are_sound(family):
    module = importlib.import_module(type(family).__module__)
    a, b = module.cases("variance"), module.cases("variance")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    exact = module.expected("variance")
    assert exact[2][0] == pytest.approx(np.var(a["x2"], ddof=1), rel=1e-12)
    stiff = json.loads((family.hidden_dir / "stiff.json").read_text())["y"]
    assert len(stiff) == int(module.cases("stiff")["count"])
    for y in stiff:  # mass is conserved by the reaction system
        assert sum(y) == pytest.approx(1.0, abs=1e-9)


def test_a_mean_of_chunk_variances_fails(family, variants, tmp_path):
    ws = materialize(family, tmp_path / "ws", "reference")
    text = (ws / "kernels.py").read_text()
    (ws / "kernels.py").write_text(
        text + "\n\ndef streaming_variance(chunks):\n"
        "    vs = [np.var(c, ddof=1) for c in chunks]\n"
        "    return float(np.mean(vs))\n"
    )
    result = score_workspace(family, variants["variance"], ws)
    assert result.valid and result.normalized == 0.0


@pytest.mark.slow
def test_a_stiff_solver_at_default_tolerances_fails(family, variants, tmp_path):
    ws = materialize(family, tmp_path / "ws", "reference")
    (ws / "kernels.py").write_text(
        (ws / "kernels.py").read_text() + "\n\ndef integrate(k, y0, t_end):\n"
        "    from scipy.integrate import solve_ivp\n\n"
        "    k1, k2, k3 = k\n\n"
        "    def rhs(_, y):\n"
        "        return [-k1 * y[0] + k3 * y[1] * y[2],\n"
        "                k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2, k2 * y[1] ** 2]\n\n"
        "    return solve_ivp(rhs, (0.0, t_end), y0, method='BDF').y[:, -1].tolist()\n"
    )
    result = score_workspace(family, variants["stiff"], ws)
    assert result.valid and result.normalized == 0.0


def test_stderr_and_planted_links_do_not_reach_the_scorer(family, variants, tmp_path):
    ws = materialize(family, tmp_path / "crash", "reference")
    (ws / "kernels.py").write_text(f"import sys\nsys.stderr.write('{CANARY}')\nsys.exit(4)\n")
    result = score_workspace(family, variants["logsumexp"], ws)
    assert not result.valid and CANARY not in result.message
    # the solution replaces the runner's result with a link to a host file at exit
    host = family.hidden_dir / "stiff.json"
    ws = materialize(family, tmp_path / "link", "reference")
    (ws / "kernels.py").write_text(
        (ws / "kernels.py").read_text() + "\nimport atexit, os\n\n\ndef _plant():\n"
        "    os.remove('/output/result.npy')\n"
        f"    os.symlink({str(host)!r}, '/output/result.npy')\n\n\n"
        "atexit.register(_plant)\n"
    )
    result = score_workspace(family, variants["logsumexp"], ws)
    # the jail drops links from what it hands back (a link that got through would be
    # refused as a symlink)
    assert not result.valid, result.message
    assert "symlink" in result.message or "was not written" in result.message, result.message
