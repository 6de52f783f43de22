"""restricted_mlm: both rule checks reject each class of forbidden op; scoring is sound."""

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


# -- the windows ------------------------------------------------------------------------------
mlm_data = _module(FAMILY_DIR / "mlm_data.py", "restricted_mlm_data_under_test")


def test_windows_never_overlap_and_are_deterministic() -> None:
    import numpy as np

    for seed in range(5):
        rng = np.random.default_rng(seed)
        starts = np.sort(mlm_data.window_starts(20_000, 70, rng, length=128))
        assert len(starts) == 70 and starts[-1] + 128 <= 20_000
        assert (np.diff(starts) >= 128).all()
    ids = mlm_data.encode(_corpus.corpus_splits()[1])
    first, second = mlm_data.masked_windows(ids, 64, 3), mlm_data.masked_windows(ids, 64, 3)
    assert (first[0] == second[0]).all() and (first[1] == second[1]).all()
    with pytest.raises(ValueError, match="too short"):
        mlm_data.window_starts(1000, 10, np.random.default_rng(0))


# -- the graph: recorded once, checked, replayed without the model's code -----------------------
graph = _module(FAMILY_DIR / "graph.py", "restricted_mlm_graph_under_test")


def test_replay_matches_the_model_and_forgets_state() -> None:
    module = _module(FAMILY_DIR / "reference" / "model.py", "restricted_mlm_reference_graph")
    torch.manual_seed(0)
    model = module.build_model()
    for block in model.blocks:  # non-zero gates, so every block contributes
        block.gate.data.fill_(0.5)
    model.eval()
    ids = torch.randint(0, 77, (4, 128), generator=torch.Generator().manual_seed(1))
    recorded = graph.Graph.from_bytes(graph.trace(model, ids).to_bytes())
    assert graph.check(recorded, rules.ALLOWED_OPS) == []
    other = torch.randint(0, 77, (4, 128), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = model(other)
    assert torch.equal(graph.replay(recorded, other, rules.ALLOWED_OPS), expected)


def test_check_names_forbidden_and_value_reading_operations() -> None:
    class ReadsValues(torch.nn.Module):
        def forward(self, ids):
            scale = float(ids.sum()) * 0.0 + 1.0  # Python sees the ids' values
            return torch.softmax(ids.float() * scale, dim=-1)

    recorded = graph.trace(ReadsValues(), torch.ones(2, 3, dtype=torch.long))
    assert graph.check(recorded, rules.ALLOWED_OPS) == ["_local_scalar_dense", "_softmax"]
    with pytest.raises(graph.GraphError):
        graph.replay(recorded, torch.ones(2, 3, dtype=torch.long), rules.ALLOWED_OPS)


def test_malformed_graph_bytes_are_rejected() -> None:
    for data in (b"", b"not a graph", graph.MAGIC + b"\xff" * 20):
        with pytest.raises(graph.GraphError):
            graph.Graph.from_bytes(data)


# -- attacks through the family's scorer (issue 20, item 4) ------------------------------------
# Each reproduces a hack that scored high before the forward pass was recorded in one jail
# and replayed in another: the model's code reached the rule check, the hidden windows,
# earlier batches, or the messages.
TYPE_HINT_MODEL = '''
import typing

import torch
from torch import nn


def _hook(x: "__import__('rdbench_attack').boost"):
    pass


# get_type_hints eval()s the string annotation: code the static check never saw
boost = typing.get_type_hints(_hook)["x"]


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(77, 8)
        self.readout = nn.Linear(8, 77)

    def forward(self, ids):
        return self.readout(boost(self.embed(ids)))


def build_model():
    return M()
'''
DISABLE_RULES = '''
import sys

import torch


class _Off:
    violations = []
    ops_seen = set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


for _name in ("rules", "graph"):
    _module = sys.modules.get(_name)
    if _module is not None and hasattr(_module, "runtime_rules"):
        _module.runtime_rules = lambda: _Off()
    if _module is not None and hasattr(_module, "check"):
        _module.check = lambda *args, **kwargs: []


def boost(x):
    return torch.softmax(x, dim=-1)
'''
FIND_HIDDEN = '''
import sys

import numpy as np

NEEDLE = bytes.fromhex("{needle}")


def _holds(value):
    if isinstance(value, (bytes, bytearray)):
        return NEEDLE in value
    if isinstance(value, np.ndarray):
        return NEEDLE in value.astype(np.uint8).tobytes()
    return False


FOUND = any(
    _holds(value)
    for name, module in list(sys.modules.items())
    if name != __name__  # this module holds the needle itself
    for value in list(getattr(module, "__dict__", {{}}).values())
)


def boost(x):
    if FOUND:
        raise RuntimeError("the hidden windows are reachable")
    return x
'''


def _score(workspace: Path):
    family = load_family(FAMILY_DIR)
    return score_workspace(family, family.variants()[0], workspace)


def _type_hint_attack(tmp_path: Path, module_source: str) -> Path:
    family = load_family(FAMILY_DIR)
    workspace = materialize(family, tmp_path / "ws", "starting")
    (workspace / "model.py").write_text(TYPE_HINT_MODEL)
    (workspace / "rdbench_attack.py").write_text(module_source)
    torch.manual_seed(0)
    torch.save(_template_model("x").state_dict(), workspace / "model.pt")
    assert rules.check_source(TYPE_HINT_MODEL) == []  # the static check cannot see it
    return workspace


@needs_bwrap
@pytest.mark.slow
def test_attack_a_unchecked_code_cannot_switch_the_rules_off(tmp_path: Path) -> None:
    result = _score(_type_hint_attack(tmp_path, DISABLE_RULES))
    assert not result.valid
    assert "forbidden operation _softmax" in result.message


@needs_bwrap
@pytest.mark.slow
def test_attack_b_the_models_process_holds_no_hidden_window(tmp_path: Path) -> None:
    family_module = sys.modules[type(load_family(FAMILY_DIR)).__module__]
    needle = family_module.hidden_windows()[0][0].tobytes().hex()
    result = _score(_type_hint_attack(tmp_path, FIND_HIDDEN.format(needle=needle)))
    assert result.valid, result.message


@needs_bwrap
@pytest.mark.slow
def test_attack_c_a_workspace_module_cannot_shadow_the_standard_library(tmp_path: Path) -> None:
    family = load_family(FAMILY_DIR)
    workspace = materialize(family, tmp_path / "ws", "starting")
    for name in ("colorsys", "json", "typing", "traceback", "numbers", "struct"):
        (workspace / f"{name}.py").write_text("import os\nos._exit(0)\n")
    result = _score(workspace)
    assert result.valid, result.message
    assert abs(result.normalized) < 0.05


STATEFUL_MODEL = '''
import torch
from torch import nn


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(77, 8)
        self.readout = nn.Linear(8, 77)
        self.register_buffer("calls", torch.zeros(1))

    def forward(self, ids):
        logits = self.readout(self.embed(ids)) * (self.calls + 1.0)
        {remember}
        return logits


def build_model():
    return M()
'''


@needs_bwrap
@pytest.mark.slow
def test_attack_d_no_memory_across_batches(tmp_path: Path) -> None:
    family = load_family(FAMILY_DIR)
    raws = []
    for remember in ("self.calls.add_(1.0)", "pass"):
        workspace = materialize(family, tmp_path / remember[:4], "starting")
        source = STATEFUL_MODEL.format(remember=remember)
        (workspace / "model.py").write_text(source)
        namespace: dict = {}
        exec(compile(source, "<model>", "exec"), namespace)
        torch.manual_seed(0)
        torch.save(namespace["build_model"]().state_dict(), workspace / "model.pt")
        result = _score(workspace)
        assert result.valid, result.message
        raws.append(result.raw)
    # a model that counts its calls sees every batch as its first
    assert raws[0] == pytest.approx(raws[1], rel=1e-9)


@needs_bwrap
@pytest.mark.slow
def test_messages_never_echo_the_models_shapes(tmp_path: Path) -> None:
    family = load_family(FAMILY_DIR)
    workspace = materialize(family, tmp_path / "ws", "starting")
    _write_model(workspace, "x")
    source = (workspace / "model.py").read_text()
    (workspace / "model.py").write_text(
        source.replace("return self.readout(x)", "return torch.zeros(2, 30083189, 0)")
    )
    result = _score(workspace)
    assert not result.valid
    assert "30083189" not in result.message and "[batch, 128, 77]" in result.message


@needs_bwrap
@pytest.mark.slow
def test_float_of_a_tensor_cannot_reach_unlisted_functions(tmp_path: Path) -> None:
    family = load_family(FAMILY_DIR)
    workspace = materialize(family, tmp_path / "ws", "starting")
    _write_model(workspace, "x * math.hypot(float(x.sum()), 1.0)")
    source = (workspace / "model.py").read_text()
    (workspace / "model.py").write_text("import math\n" + source)
    result = _score(workspace)
    assert not result.valid
    assert "reads a tensor's value into Python" in result.message
