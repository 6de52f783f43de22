"""blackbox_fit: start fails, reference passes, wrong model forms fail, links refused."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from rdbench.tasks import load_families, materialize, score_solution, score_workspace


@pytest.fixture(scope="module")
def family():
    return load_families(["blackbox_fit"])[0]


@pytest.fixture(scope="module")
def module(family):
    return importlib.import_module(type(family).__module__)


@pytest.fixture(scope="module")
def variants(family):
    return {v.name: v for v in family.variants()}


def _score(family, variant, tmp_path: Path, predictions):
    ws = materialize(family, tmp_path / "ws", "starting")
    (ws / "predictions.json").write_text(json.dumps(predictions))
    return score_workspace(family, variant, ws)


def test_start_fails_and_reference_passes_on_every_task(family):
    for variant in family.variants():
        assert score_solution(family, variant, "starting").normalized == 0.0
        assert score_solution(family, variant, "reference").normalized == 1.0


def test_shipped_data_is_what_build_data_writes(family, module):
    spec = importlib.util.spec_from_file_location("bbf_build", family.root / "build_data.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for name in ("line", "poly", "periodic", "dynamics"):
        train, test = build.render(name, module.task_data(name))
        assert (family.workspace_dir / "data" / f"{name}_train.csv").read_text() == train
        assert (family.workspace_dir / "data" / f"{name}_test.csv").read_text() == test


def test_the_clean_function_passes_and_wrong_forms_fail(family, module, variants, tmp_path):
    for name in ("line", "poly", "periodic"):
        data = module.task_data(name)
        exact = data["y_test"].tolist()
        assert _score(family, variants[name], tmp_path / f"{name}-x", {name: exact}).normalized == 1
        # a flexible but wrong model: a polynomial of too high (or, for `line`, too low) degree
        degree = {"line": 0, "poly": 9, "periodic": 7}[name]
        coef = np.polyfit(data["x_train"], data["y_train"], degree)
        wrong = {name: np.polyval(coef, data["x_test"]).tolist()}
        assert _score(family, variants[name], tmp_path / f"{name}-w", wrong).normalized == 0
    dyn = module.task_data("dynamics")
    persist = np.tile(dyn["y_train"][-1], (len(dyn["x_test"]), 1)).tolist()
    assert (
        _score(family, variants["dynamics"], tmp_path / "d", {"dynamics": persist}).normalized == 0
    )


def test_symlinks_and_malformed_predictions_are_refused(family, module, variants, tmp_path):
    ws = materialize(family, tmp_path / "ws", "starting")
    secret = tmp_path / "host-file.json"
    secret.write_text(json.dumps({"line": module.task_data("line")["y_test"].tolist()}))
    (ws / "predictions.json").unlink()
    os.symlink(secret, ws / "predictions.json")
    result = score_workspace(family, variants["line"], ws)
    assert not result.valid and "symlink" in result.message
    assert not _score(family, variants["line"], tmp_path / "short", {"line": [1.0, 2.0]}).valid
    assert not _score(family, variants["line"], tmp_path / "str", {"line": "nope"}).valid
    nan = [float("nan")] * len(module.task_data("line")["x_test"])
    assert _score(family, variants["line"], tmp_path / "nan", {"line": nan}).normalized == 0
