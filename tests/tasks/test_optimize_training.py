"""optimize_training: source copying, hidden-data isolation, the trusted evaluator, calibration.

The end-to-end scorings train a real model in the jail (tens of seconds each): they are
marked slow; `rdbench check optimize_training` in .ci/run does the full calibration.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rdbench.errors import InvalidSubmission
from rdbench.tasks import load_families, materialize, score_workspace


@pytest.fixture(scope="module")
def family():
    fam = load_families(["optimize_training"])[0]
    fam.prepare()
    return fam


@pytest.fixture(scope="module")
def module(family):
    import importlib

    return importlib.import_module(type(family).__module__)


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(path.parent))
    return mod


def test_hidden_data_never_reaches_the_workspace(family, tmp_path):
    params_text = (family.hidden_dir / "params.json").read_text()
    seed = str(family.params()["seed"])
    for solution in ("starting", "reference"):
        workspace = materialize(family, tmp_path / solution, solution)
        names = {p.name for p in workspace.rglob("*")}
        assert "params.json" not in names and "test.npy" not in names
        assert {"train.py", "model.py", "make_data.py", "train.txt.gz"} <= names
        for path in workspace.rglob("*.py"):
            text = path.read_text()
            assert params_text not in text and f"--permute {seed}" not in text


def test_only_small_sources_reach_the_jail(module, tmp_path):
    workspace = tmp_path / "ws"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "train.py").write_text("print('hi')\n")
    (workspace / "pkg" / "helper.py").write_text("X = 1\n")
    (workspace / "weights.pt").write_bytes(b"\0" * 1000)
    (workspace / "data.npy").write_bytes(b"\0" * 1000)
    code = module.copy_sources(workspace, tmp_path / "code")
    assert sorted(p.relative_to(code).as_posix() for p in code.rglob("*") if p.is_file()) == [
        "pkg/helper.py",
        "train.py",
    ]
    (workspace / "big.py").write_text("#" * (module.MAX_SOURCE_BYTES + 1))
    with pytest.raises(InvalidSubmission, match="KB allowed"):
        module.copy_sources(workspace, tmp_path / "code2")


def test_trusted_model_matches_the_workspace_model(family):
    import torch

    trusted = _load(family.root / "evaluate.py", "ot_evaluate_for_tests")
    workspace_model = _load(family.workspace_dir / "model.py", "ot_model_for_tests")
    torch.manual_seed(0)
    ours = workspace_model.TinyGPT()
    theirs = trusted.TinyGPT()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    idx = torch.randint(0, workspace_model.VOCAB_SIZE, (2, workspace_model.CONTEXT))
    assert torch.equal(ours(idx), theirs(idx))


def _evaluate(family, weights: Path, tokens: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, str(family.root / "evaluate.py"), str(weights), str(tokens)],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def test_evaluator_rejects_weights_of_another_model(family, tmp_path):
    import torch

    tokens = tmp_path / "t.npy"
    np.save(tokens, (np.arange(8 * 129) % 77).astype(np.uint8).reshape(8, 129))
    torch.save({"tok.weight": torch.zeros(77, 64)}, tmp_path / "bad.pt")
    assert "do not fit" in _evaluate(family, tmp_path / "bad.pt", tokens)["error"]
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert "could not load" in _evaluate(family, tmp_path / "junk.pt", tokens)["error"]


def test_evaluator_gives_uniform_loss_for_a_zero_model(family, tmp_path):
    import torch

    trusted = _load(family.root / "evaluate.py", "ot_evaluate_for_tests2")
    state = {k: torch.zeros_like(v) for k, v in trusted.TinyGPT().state_dict().items()}
    torch.save(state, tmp_path / "zero.pt")
    tokens = tmp_path / "t.npy"
    np.save(tokens, (np.arange(8 * 129) % 77).astype(np.uint8).reshape(8, 129))
    # all-zero weights give all-zero logits: the loss is exactly log(77)
    loss = _evaluate(family, tmp_path / "zero.pt", tokens)["loss"]
    assert loss == pytest.approx(np.log(77), rel=1e-5)


def test_hidden_windows_are_spread_over_the_test_split(family, module):
    windows = np.load(family._data_dir() / "hidden" / "test.npy")
    assert windows.shape == (family.params()["test_windows"], module.CONTEXT + 1)
    tokens = np.arange(10_000)
    spread = module.test_windows(tokens, {"test_windows": 4})
    assert spread[0, 0] == 0 and spread[-1, -1] == 9_999
    assert (np.diff(spread, axis=1) == 1).all()


def test_relabelled_data_differs_from_the_plain_encoding(family):
    from rdbench.tasks._corpus import corpus_splits, encode_array

    data = np.load(family._data_dir() / "inputs" / "train.npy")
    plain = encode_array(corpus_splits()[0])
    assert len(data) == len(plain) and data.dtype == np.uint8
    assert not np.array_equal(data, plain)
    # a relabelling: one id maps to exactly one id
    pairs = set(zip(plain[:200000].tolist(), data[:200000].tolist()))
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})


def test_missing_train_script_is_invalid(family, tmp_path):
    (tmp_path / "ws").mkdir()
    with pytest.raises(InvalidSubmission, match="train.py is missing"):
        family.score(tmp_path / "ws", family.variants()[0])


def test_crashing_training_is_invalid_with_its_error(family, tmp_path):
    workspace = materialize(family, tmp_path / "ws", "reference")
    (workspace / "train.py").write_text("raise RuntimeError('kaboom')\n")
    result = score_workspace(family, family.variants()[0], workspace)
    assert not result.valid and "kaboom" in result.message


def test_untrained_weights_miss_the_target(family, tmp_path):
    workspace = materialize(family, tmp_path / "ws", "reference")
    (workspace / "train.py").write_text(
        "import argparse, torch\nfrom model import TinyGPT\n"
        "p = argparse.ArgumentParser(); p.add_argument('--data'); p.add_argument('--out');"
        " p.add_argument('--seed')\nargs = p.parse_args()\n"
        "torch.save(TinyGPT().state_dict(), args.out)\n"
    )
    result = score_workspace(family, family.variants()[0], workspace)
    assert not result.valid and "above the target" in result.message


def test_training_cannot_read_hidden_data_or_write_the_workspace(family, tmp_path):
    workspace = materialize(family, tmp_path / "ws", "reference")
    (workspace / "train.py").write_text(
        "import os, sys\n"
        "hidden = [p for p in ('/rdbench/hidden', '/rdbench/evaluate.py') if os.path.exists(p)]\n"
        "assert not hidden, hidden\n"
        "assert os.listdir('/rdbench/data') == ['train.npy'], os.listdir('/rdbench/data')\n"
        "try:\n    open('written.txt', 'w')\nexcept OSError:\n    pass\n"
        "else:\n    sys.exit('the workspace is writable')\n"
        "sys.exit('checks passed')\n"
    )
    result = score_workspace(family, family.variants()[0], workspace)
    assert not result.valid and "checks passed" in result.message


@pytest.mark.slow
def test_reference_scores_near_one(family, tmp_path):
    workspace = materialize(family, tmp_path / "ws", "reference")
    result = score_workspace(family, family.variants()[0], workspace)
    assert result.valid, result.message
    assert result.normalized == pytest.approx(1.0, abs=0.25)  # loose: shared CI machines


def _fake_runs(monkeypatch, family, times, losses):
    times, losses = list(times), list(losses)
    calls = []

    def timed(code, inputs, out_dir, params):
        calls.append(out_dir)
        return times.pop(0)

    monkeypatch.setattr(family, "_timed_training", timed)
    monkeypatch.setattr(family, "_evaluate", lambda weights, hidden: losses.pop(0))
    return calls


def test_short_runs_are_repeated_and_the_fastest_counts(family, monkeypatch, tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "train.py").write_text("pass\n")
    calls = _fake_runs(monkeypatch, family, [30.0, 20.0, 25.0], [1.6, 1.6, 1.6])
    assert family.score(workspace, family.variants()[0]) == 20.0
    assert len(calls) == 3 and len(set(calls)) == 3  # a fresh output folder per run
    # a long run is measured once
    calls = _fake_runs(monkeypatch, family, [100.0], [1.6])
    assert family.score(workspace, family.variants()[0]) == 100.0
    assert len(calls) == 1


def test_every_repeated_run_must_meet_the_target(family, monkeypatch, tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "train.py").write_text("pass\n")
    target = family.params()["target_loss"]
    _fake_runs(monkeypatch, family, [20.0, 19.0, 18.0], [target - 0.1, target + 0.01, 1.0])
    with pytest.raises(InvalidSubmission, match="above the target"):
        family.score(workspace, family.variants()[0])


def test_session_priority_is_skipped_where_autogroup_reads_empty(module, monkeypatch):
    """Kernels with autogroup disabled give an empty /proc/<pid>/autogroup (seen on a CI
    machine): raising the jail's priority is best effort and must then do nothing."""
    real_read_text = Path.read_text

    def read_text(self, *args, **kwargs):
        if self.name == "autogroup":
            return ""
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    assert module._autogroup_of("self") is None
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    try:
        module._raise_session_priority(child.pid, wait_s=0.2)  # returns, raises nothing
    finally:
        child.kill()
        child.wait()



def test_autogroup_of_a_vanished_process_is_none(module):
    assert module._autogroup_of("999999999") is None
