"""paper_table: start fails, reference passes, near misses and protocol slips fail, links refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rdbench.tasks import load_families, materialize, score_solution, score_workspace


@pytest.fixture(scope="module")
def family():
    return load_families(["paper_table"])[0]


@pytest.fixture(scope="module")
def variants(family):
    return {v.name: v for v in family.variants()}


def _score(family, variant, tmp_path: Path, results) -> object:
    ws = materialize(family, tmp_path / "ws", "starting")
    (ws / "results.json").write_text(json.dumps(results))
    return score_workspace(family, variant, ws)


def test_start_fails_and_reference_passes_on_every_task(family):
    variants = family.variants()
    assert [v.human_minutes for v in variants] == [3, 10, 35, 75]
    for variant in variants:
        assert score_solution(family, variant, "starting").normalized == 0.0
        assert score_solution(family, variant, "reference").normalized == 1.0


def test_truth_is_what_the_reference_script_computes(family, tmp_path):
    work = tmp_path / "run"
    work.mkdir()
    shutil.copy(family.workspace_dir / "gen.py", work)
    shutil.copy(family.reference_dir / "reproduce.py", work)
    subprocess.run([sys.executable, "reproduce.py"], cwd=work, check=True, timeout=120)
    computed = json.loads((work / "results.json").read_text())
    assert computed == json.loads((family.hidden_dir / "truth.json").read_text())
    assert computed == json.loads((family.reference_dir / "results.json").read_text())


def test_tolerance_separates_near_misses(family, variants, tmp_path):
    truth = family.truth()
    row = variants["row"]
    keys = row.params["keys"]
    close = {k: truth[k] * (1 + 2e-5) for k in keys}
    assert _score(family, row, tmp_path / "a", close).normalized == 1.0
    off = dict(close, **{keys[2]: truth[keys[2]] * (1 + 1e-3)})
    assert _score(family, row, tmp_path / "b", off).normalized == 0.0


def test_plausible_protocol_slips_fail(family, variants, tmp_path):
    import numpy as np

    sys.path.insert(0, str(family.workspace_dir))
    try:
        from gen import make_regression
    finally:
        sys.path.pop(0)
    seed, d = variants["row"].params["seed"], variants["row"].params["d"]
    X, y = make_regression(seed, 300, d)
    # standardizing with statistics of all rows (a leak) instead of the training rows
    mu, sd = X.mean(axis=0), X.std(axis=0)
    Z = (X - mu) / sd
    t = y[:200] - y[:200].mean()
    wrong = {}
    for lam, key in ((0.1, "0.1"), (1.0, "1"), (10.0, "10"), (100.0, "100")):
        w = np.linalg.solve(Z[:200].T @ Z[:200] + lam * np.eye(d), Z[:200].T @ t)
        wrong[f"e2_mse_lam_{key}"] = float(((Z[200:] @ w + y[:200].mean() - y[200:]) ** 2).mean())
    assert _score(family, variants["row"], tmp_path / "row", wrong).normalized == 0.0
    # E3 with the largest k instead of the cross-validated one
    truth = family.truth()
    cv = {k: truth[k] for k in variants["cv"].params["keys"]}
    assert _score(family, variants["cv"], tmp_path / "cv", dict(cv, e3_best_k=15)).normalized == 0.0


def test_symlinked_or_malformed_results_are_refused(family, variants, tmp_path):
    ws = materialize(family, tmp_path / "ws", "starting")
    (ws / "results.json").unlink()
    os.symlink(family.hidden_dir / "truth.json", ws / "results.json")
    result = score_workspace(family, variants["cell"], ws)
    assert not result.valid and "symlink" in result.message
    (ws / "results.json").unlink()
    (ws / "results.json").write_text('{"e1_test_accuracy": "0.97"}')
    assert not score_workspace(family, variants["cell"], ws).valid
    (ws / "results.json").write_text("[1, 2]")
    assert not score_workspace(family, variants["cell"], ws).valid
