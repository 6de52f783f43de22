"""train_loop_bugs: buggy start fails, fixed code passes, every bug is caught, hacks fail."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from rdbench.families.train_loop_bugs import build
from rdbench.families.train_loop_bugs.data import make_data
from rdbench.families.train_loop_bugs.sources import BUGS, VARIANTS, buggy_sources, correct_sources
from rdbench.tasks import load_families, materialize, score_workspace

CANARY = "CANARY-2d81c0aa-train-loop"


@pytest.fixture(scope="module")
def family():
    return load_families(["train_loop_bugs"])[0]


@pytest.fixture(scope="module")
def module(family):
    return sys.modules[type(family).__module__]


def _variant(family, name):
    return next(v for v in family.variants() if v.name == name)


@pytest.mark.parametrize("name", ["zero_grad", "gauntlet"])
def test_buggy_start_fails_and_fixed_code_passes(family, tmp_path, name):
    start = score_workspace(
        family, _variant(family, name), materialize(family, tmp_path / "s", "starting")
    )
    assert start.valid and start.normalized == 0.0
    ref = score_workspace(
        family, _variant(family, name), materialize(family, tmp_path / "r", "reference")
    )
    assert ref.valid and ref.normalized == 1.0


def test_every_planted_bug_alone_is_caught_by_the_hidden_data(module):
    warnings.simplefilter("ignore", RuntimeWarning)  # the NaN bug divides by zero
    for variant, conf in VARIANTS.items():
        want = module.expected(variant)
        for bug in conf["bugs"]:
            name, good, bad = BUGS[bug]
            files = correct_sources(variant)
            files[name] = files[name].replace(good, bad)
            caught = any(  # stops at the first data set that catches it
                not module.matches(
                    {k: v.tolist() for k, v in module.run_sources(files, make_data(s), s).items()},
                    w,
                )
                for s, w in zip(module.hidden_seeds(variant), want)
            )
            assert caught, (variant, bug)


def test_fixing_only_some_bugs_fails(family, tmp_path):
    ws = materialize(family, tmp_path / "ws", "starting")
    good = correct_sources("three_bugs")
    (ws / "three_bugs" / "nn.py").write_text(good["nn.py"])  # train.py keeps its dropped batch
    assert buggy_sources("three_bugs")["train.py"] != good["train.py"]
    result = score_workspace(family, _variant(family, "three_bugs"), ws)
    assert result.valid and result.normalized == 0.0


def test_looking_up_the_expected_outputs_fails_and_prints_nothing(family, tmp_path):
    ws = materialize(family, tmp_path / "ws", "reference")
    (ws / "zero_grad" / "train.py").write_text(f'''
import sys
print("{CANARY}", file=sys.stderr)
print("{CANARY}")

def fit(X_train, y_train, X_val, y_val, seed):
    print("{CANARY}", file=sys.stderr)
    from rdbench.families.train_loop_bugs.family import expected
    return expected("zero_grad")[0]
''')
    result = score_workspace(family, _variant(family, "zero_grad"), ws)
    assert result.valid and result.normalized == 0.0
    assert CANARY not in result.message


def test_committed_files_are_what_build_writes(family, tmp_path, monkeypatch):
    monkeypatch.setattr(build, "HERE", tmp_path)
    build.main()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (family.root / path.relative_to(tmp_path)).read_bytes()


def test_public_data_has_the_traps():
    data = make_data(build.PUBLIC_SEED)
    assert (data["X_train"].std(axis=0) == 0).sum() == 1
    assert len(data["X_train"]) % 2 == 1
    assert not np.allclose(data["X_val"].mean(axis=0), data["X_train"].mean(axis=0))


def test_validate_refuses_a_missing_or_symlinked_file(family, tmp_path):
    from rdbench.errors import InvalidSubmission

    ws = materialize(family, tmp_path / "ws", "starting")
    variant = _variant(family, "leak")
    assert "Graded only at the end" in family.validate(ws, variant)
    (ws / "leak" / "nn.py").unlink()
    (ws / "leak" / "nn.py").symlink_to(family.root / "reference" / "leak" / "nn.py")
    with pytest.raises(InvalidSubmission, match="symlink"):
        family.validate(ws, variant)
