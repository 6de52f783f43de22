"""layer_shapes: start fails, reference passes, floor-for-ceil fails, the rules match torch."""

from __future__ import annotations

import json

import pytest

from rdbench.families.layer_shapes import stacks
from rdbench.tasks import load_families, materialize, score_workspace


@pytest.fixture(scope="module")
def family():
    return load_families(["layer_shapes"])[0]


def _variant(family, name):
    return next(v for v in family.variants() if v.name == name)


def _score(family, tmp_path, name, solution="starting", answer=None):
    ws = materialize(family, tmp_path / name, solution)
    if answer is not None:
        (ws / name / "answer.json").write_text(json.dumps(answer))
    return score_workspace(family, _variant(family, name), ws)


@pytest.mark.parametrize("name", list(stacks.SEEDS))
def test_start_fails_and_reference_passes(family, tmp_path, name):
    assert _score(family, tmp_path / "s", name).normalized == 0.0
    assert _score(family, tmp_path / "r", name, "reference").normalized == 1.0


def test_committed_files_are_what_the_generator_writes(family, tmp_path):
    stacks.write_workspace(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (family.root / path.relative_to(tmp_path)).read_bytes()


def test_ignoring_ceil_mode_fails(family, tmp_path):
    shape, layers = stacks.make_stack("conv")
    floor_layers = [
        (k, {**kw, "ceil_mode": False}) if "ceil_mode" in kw else (k, kw) for k, kw in layers
    ]
    wrong = stacks.output_shapes(shape, floor_layers)
    assert wrong != stacks.output_shapes(shape, layers)
    result = _score(family, tmp_path, "conv", answer=wrong)
    assert result.valid and result.normalized == 0.0


def test_malformed_and_symlinked_answers_are_invalid(family, tmp_path):
    assert not _score(family, tmp_path / "a", "mlp", answer=[[1, 2]]).valid  # one shape
    ws = materialize(family, tmp_path / "ws", "starting")
    (ws / "mlp" / "answer.json").unlink()
    (ws / "mlp" / "answer.json").symlink_to("/etc/hostname")
    result = score_workspace(family, _variant(family, "mlp"), ws)
    assert not result.valid and "symlink" in result.message


@pytest.mark.parametrize("name", list(stacks.SEEDS))
def test_shape_rules_agree_with_torch(name):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    shape, layers = stacks.make_stack(name)
    x = torch.zeros(*shape)
    for (kind, kw), want in zip(layers, stacks.output_shapes(shape, layers)):
        if kind == "Transpose":
            x = x.transpose(kw["dim0"], kw["dim1"])
        elif kind == "LayerNorm":
            x = nn.LayerNorm(kw["normalized_shape"])(x)
        elif kind == "Dropout":
            x = nn.Dropout(kw["p"])(x)
        elif kind in ("ReLU", "GELU", "Tanh", "Identity"):
            x = getattr(nn, kind)()(x)
        else:
            x = getattr(nn, kind)(**kw)(x)
        assert list(x.shape) == want, (kind, kw)
