"""fix_embedding: structured corruption, no hidden text in the workspace, sound scoring."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from rdbench.tasks import _corpus
from rdbench.tasks.loader import family_dirs, load_family
from rdbench.tasks.workspace import materialize, score_solution, score_workspace

torch = pytest.importorskip("torch")
FAMILY_DIR = family_dirs()["fix_embedding"]
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")


def _module(name: str):
    module_name = f"fix_embedding_{name}_under_test"
    if module_name not in sys.modules:
        sys.path.insert(0, str(FAMILY_DIR))  # corrupt.py and make_* import their siblings
        try:
            spec = importlib.util.spec_from_file_location(module_name, FAMILY_DIR / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(FAMILY_DIR))
    return sys.modules[module_name]


def _weights(folder: str) -> dict:
    return torch.load(FAMILY_DIR / folder / "model.pt", weights_only=True)


def test_corruption_permutes_rotates_and_scales_only_the_embedding() -> None:
    corrupt = _module("corrupt")
    torch.manual_seed(0)
    state = _module("model").build_model().state_dict()
    damaged = corrupt.corrupt(state)
    for key in state:
        if key != "tok_emb.weight":
            assert torch.equal(state[key], damaged[key]), key
    before, after = state["tok_emb.weight"].double(), damaged["tok_emb.weight"].double()
    # a rotation keeps the row norms: the damaged norms are the scaled, permuted originals
    norms_before = sorted((before.norm(dim=1) * corrupt.SCALE).tolist())
    norms_after = sorted(after.norm(dim=1).tolist())
    assert norms_before == pytest.approx(norms_after, rel=1e-6)  # float32 storage
    assert not torch.allclose(before * corrupt.SCALE, after)


def test_shipped_starting_and_reference_differ_only_in_the_embedding() -> None:
    start, reference = _weights("starting"), _weights("reference")
    assert start.keys() == reference.keys()
    for key in start:
        same = torch.equal(start[key], reference[key])
        assert same == (key != "tok_emb.weight"), key


def test_model_files_are_small() -> None:
    for folder in ("starting", "reference"):
        assert (FAMILY_DIR / folder / "model.pt").stat().st_size < 5 * 1024**2


@pytest.mark.parametrize("solution", ["starting", "reference"])
def test_hidden_text_never_enters_the_workspace(tmp_path: Path, solution: str) -> None:
    family = load_family(FAMILY_DIR)
    workspace = materialize(family, tmp_path / "ws", solution)
    contents = ""
    for path in workspace.rglob("*"):
        if path.is_file() and path.suffix != ".pt":
            data = path.read_bytes()
            contents += (gzip.decompress(data) if path.suffix == ".gz" else data).decode("latin-1")
    train_text = _corpus.corpus_splits()[0]
    for doc in _corpus.split_documents()[2]:
        verse = max(doc.text.splitlines(), key=len)
        if verse not in train_text:
            assert verse not in contents, doc.title
    assert {"model.py", "lm_eval.py", "evaluate.py", "model.pt"} <= {
        p.name for p in workspace.iterdir()
    }


def test_scorer_windows_match_lm_eval() -> None:
    family_module = sys.modules[type(load_family(FAMILY_DIR)).__module__]
    lm_eval = _module("lm_eval")
    hidden_text = _corpus.corpus_splits()[2]
    expected = lm_eval.evaluation_windows(
        hidden_text, family_module.HIDDEN_WINDOWS, family_module.HIDDEN_SEED
    )
    assert torch.equal(torch.from_numpy(family_module.hidden_windows()).long(), expected)


@needs_bwrap
@pytest.mark.slow
def test_scorer_uses_its_own_model_code_and_rejects_bad_weights(tmp_path: Path) -> None:
    family = load_family(FAMILY_DIR)
    variant = family.variants()[0]
    workspace = materialize(family, tmp_path / "ws", "reference")
    (workspace / "model.py").unlink()
    (workspace / "model.py").write_text("raise SystemExit('agent code must not run')\n")
    result = score_workspace(family, variant, workspace)
    assert result.valid and abs(result.normalized - 1.0) < 0.05, result.message
    state = _weights("reference")
    state["tok_emb.weight"] = state["tok_emb.weight"][:, :64]
    torch.save(state, workspace / "model.pt")
    result = score_workspace(family, variant, workspace)
    assert not result.valid and "does not fit" in result.message


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("solution,expected", [("starting", 0.0), ("reference", 1.0)])
def test_starting_and_reference_scores(solution: str, expected: float) -> None:
    family = load_family(FAMILY_DIR)
    result = score_solution(family, family.variants()[0], solution)
    assert result.valid, result.message
    assert abs(result.normalized - expected) < 0.05
