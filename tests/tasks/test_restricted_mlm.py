"""restricted_mlm: both rule checks reject each class of forbidden op; scoring is sound."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from rdbench.tasks import _corpus
from rdbench.tasks.loader import family_dirs, load_family
from rdbench.tasks.workspace import materialize, score_solution, score_workspace

torch = pytest.importorskip("torch")
FAMILY_DIR = family_dirs()["restricted_mlm"]
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


rules = _module(FAMILY_DIR / "rules.py", "restricted_mlm_rules_under_test")

MODEL_TEMPLATE = """
import torch
from torch import nn
import torch.nn.functional as F


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(77, 8)
        self.readout = nn.Linear(8, 77)

    def forward(self, ids):
        x = self.embed(ids)
        x = {expr}
        return self.readout(x)


def build_model():
    return M()
"""
FORBIDDEN = {
    "softmax": ("F.softmax(x, dim=-1)", "_softmax"),
    "division": ("x / 2.0", "div"),
    "exp": ("torch.exp(x)", "exp"),
    "layer_norm": ("F.layer_norm(x, (8,))", "native_layer_norm"),
    "power": ("x ** 2", "pow"),
}


@pytest.mark.parametrize("kind", sorted(FORBIDDEN))
def test_static_check_rejects_each_forbidden_class(kind: str) -> None:
    expr, _ = FORBIDDEN[kind]
    violations = rules.check_source(MODEL_TEMPLATE.format(expr=expr))
    assert violations, kind
    assert all(v.line == 15 for v in violations)


def test_static_check_rejects_escape_hatches() -> None:
    for line in (
        "import numpy as np",
        "from torch.utils._python_dispatch import _disable_current_modes",
        "F.cross_entropy = None",
        "y = getattr(torch, 'exp')",
        "y = torch._C",
        "y = torch.os",
        "y = eval('1')",
    ):
        assert rules.check_source(line + "\n"), line


def test_static_check_accepts_starting_and_reference() -> None:
    for folder in ("starting", "reference"):
        assert rules.check_source((FAMILY_DIR / folder / "model.py").read_text()) == []


def _template_model(expr: str):
    namespace: dict = {}
    exec(compile(MODEL_TEMPLATE.format(expr=expr), "<model>", "exec"), namespace)
    torch.manual_seed(0)
    return namespace["build_model"]()


@pytest.mark.parametrize("kind", sorted(FORBIDDEN))
def test_runtime_check_rejects_each_forbidden_class(kind: str) -> None:
    expr, op = FORBIDDEN[kind]
    model = _template_model(expr)
    guard = rules.runtime_rules()
    with pytest.raises(rules.RuleViolation, match=op), torch.no_grad(), guard:
        model(torch.zeros(2, 128, dtype=torch.long))
    assert guard.violations == [op]


def test_runtime_check_records_a_caught_violation() -> None:
    guard = rules.runtime_rules()
    with guard:
        try:
            torch.sigmoid(torch.ones(3))
        except rules.RuleViolation:
            pass
    assert guard.violations == ["sigmoid"]


def test_runtime_check_blocks_leaving_torch_and_bit_hacks() -> None:
    with pytest.raises(rules.RuleViolation, match="numpy"), rules.runtime_rules():
        torch.ones(3).numpy()
    # 0x7EF311C7 - bits(x) approximates bits(1/x): reinterpreting float bits is division
    with pytest.raises(rules.RuleViolation, match="view.dtype"), rules.runtime_rules():
        torch.ones(3).view(torch.int32)


@pytest.mark.parametrize("folder", ["starting", "reference"])
def test_runtime_check_accepts_starting_and_reference(folder: str) -> None:
    module = _module(FAMILY_DIR / folder / "model.py", f"restricted_mlm_{folder}_model")
    model = module.build_model()
    model.load_state_dict(torch.load(FAMILY_DIR / folder / "model.pt", weights_only=True))
    guard = rules.runtime_rules()
    with torch.no_grad(), guard:
        logits = model(torch.full((2, 128), 2, dtype=torch.long))
    assert logits.shape == (2, 128, 77) and not guard.violations
    assert "embedding" in guard.ops_seen


@pytest.mark.parametrize("solution", ["starting", "reference"])
def test_hidden_text_never_enters_the_workspace(tmp_path: Path, solution: str) -> None:
    family = load_family(FAMILY_DIR)
    workspace = materialize(family, tmp_path / "ws", solution)
    contents = ""
    for path in workspace.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            contents += (gzip.decompress(data) if path.suffix == ".gz" else data).decode("latin-1")
    train_text = _corpus.corpus_splits()[0]
    # every hidden chapter's longest verse is absent (unless the same verse is also in train)
    for doc in _corpus.split_documents()[2]:
        verse = max(doc.text.splitlines(), key=len)
        if verse not in train_text:
            assert verse not in contents, doc.title
    assert "validation" in {p.stem.split(".")[0] for p in (workspace / "data").iterdir()}


def _write_model(workspace: Path, expr: str) -> None:
    (workspace / "model.py").write_text(MODEL_TEMPLATE.format(expr=expr))
    torch.save(_template_model(expr).state_dict(), workspace / "model.pt")


@needs_bwrap
@pytest.mark.slow
def test_scorer_rejects_a_forbidden_op_the_static_check_misses(tmp_path: Path) -> None:
    family = load_family(FAMILY_DIR)
    variant = family.variants()[0]
    workspace = materialize(family, tmp_path / "ws", "starting")
    _write_model(workspace, "torch.special.expit(x)")  # sigmoid under another name
    result = score_workspace(family, variant, workspace)
    assert not result.valid and "forbidden operation sigmoid" in result.message


@needs_bwrap
@pytest.mark.slow
def test_scorer_hides_the_text_of_model_errors(tmp_path: Path) -> None:
    family = load_family(FAMILY_DIR)
    variant = family.variants()[0]
    workspace = materialize(family, tmp_path / "ws", "starting")
    _write_model(workspace, "x if ids.sum() < 0 else ids.float().mul(1.0).max().long().item_()")
    result = score_workspace(family, variant, workspace)
    assert not result.valid
    assert "AttributeError at model.py:15" in result.message and "item_" not in result.message


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("solution,expected", [("starting", 0.0), ("reference", 1.0)])
def test_starting_and_reference_scores(solution: str, expected: float) -> None:
    family = load_family(FAMILY_DIR)
    result = score_solution(family, family.variants()[0], solution)
    assert result.valid, result.message
    assert abs(result.normalized - expected) < 0.05
