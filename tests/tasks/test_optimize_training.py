"""optimize_training: source copying, hidden-data isolation, the trusted evaluator, timing.

The end-to-end scorings of a real training run take tens of seconds each: they are marked
slow; `rdbench check optimize_training` in .ci/run does the full calibration. The attacks
on the scorer are in test_optimize_training_attacks.py.
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
    for solution in ("starting", "reference"):
        workspace = materialize(family, tmp_path / solution, solution)
        names = {p.name for p in workspace.rglob("*")}
        assert not names & {"params.json", "test.npy", "test_windows.npy", "yardstick.py"}
        assert {"train.py", "model.py", "make_data.py", "train.txt.gz"} <= names
        for path in workspace.rglob("*.py"):
            assert params_text not in path.read_text()


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
    with pytest.raises(InvalidSubmission, match="total 64 KB, above the 64 KB allowed"):
        module.copy_sources(workspace, tmp_path / "code2")


def test_sources_that_carry_data_are_refused(family, module, tmp_path):
    """The plain-size cap let 57 KB of lzma'd weights in; the compressed cap bounds what the
    sources can carry, however encoded, while the shipped solutions use a little over a third of it."""
    import base64

    for solution in ("starting", "reference"):
        workspace = materialize(family, tmp_path / solution, solution)
        module.copy_sources(workspace, tmp_path / f"{solution}-code")
        sizes = [p.read_bytes() for p in sorted(workspace.rglob("*.py"))]
        assert module.compressed_size(sizes) < module.MAX_SOURCE_COMPRESSED_BYTES / 2
    workspace = materialize(family, tmp_path / "ws", "reference")
    blob = np.random.default_rng(0).bytes(module.MAX_SOURCE_COMPRESSED_BYTES)
    (workspace / "weights_blob.py").write_text(f"BLOB = {base64.b85encode(blob)!r}\n")
    assert sum(p.stat().st_size for p in workspace.rglob("*.py")) < module.MAX_SOURCE_BYTES
    with pytest.raises(InvalidSubmission, match=r"compress to \d+ KB, above the 8 KB allowed"):
        module.copy_sources(workspace, tmp_path / "code")


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
    windows = np.load(family._data_dir() / "test_windows.npy")
    assert windows.shape == (family.params()["test_windows"], module.CONTEXT + 1)
    tokens = np.arange(10_000)
    spread = module.test_windows(tokens, {"test_windows": 4})
    assert spread[0, 0] == 0 and spread[-1, -1] == 9_999
    assert (np.diff(spread, axis=1) == 1).all()


def test_every_relabelling_is_a_fresh_permutation(family, module):
    draws = [module.fresh_relabelling(module.VOCAB_SIZE) for _ in range(4)]
    for relabel in draws:
        assert relabel.dtype == np.uint8 and sorted(relabel.tolist()) == list(range(77))
    # drawn from the OS's entropy: four draws of 77! permutations are all different
    assert len({relabel.tobytes() for relabel in draws}) == 4
    # the training seed is public and fixed: it tells nothing about the relabelling
    assert family.params()["train_seed"] == 60917


def test_missing_train_script_is_invalid(family, tmp_path):
    (tmp_path / "ws").mkdir()
    with pytest.raises(InvalidSubmission, match="train.py is missing"):
        family.score(tmp_path / "ws", family.variants()[0])


def test_crashing_training_is_invalid_without_echoing_its_output(family, tmp_path):
    """The old scorer echoed the solution's stderr (and with it anything the jail shows,
    e.g. host paths in /proc/self/mountinfo); now only the exit code is reported."""
    workspace = materialize(family, tmp_path / "ws", "reference")
    (workspace / "train.py").write_text(
        "import sys\n"
        "print(open('/proc/self/mountinfo').read(), file=sys.stderr)\n"
        "raise RuntimeError('kaboom')\n"
    )
    result = score_workspace(family, family.variants()[0], workspace)
    assert not result.valid
    assert "exited with code 1" in result.message
    assert "kaboom" not in result.message and "/rdbench" not in result.message
    assert str(tmp_path) not in result.message and "rdbench-training-" not in result.message


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
        "hidden = ('/rdbench/hidden', '/rdbench/evaluate.py', '/rdbench/yardstick.py')\n"
        "if any(os.path.exists(p) for p in hidden):\n    sys.exit(3)\n"
        "if os.listdir('/rdbench/data') != ['train.npy']:\n    sys.exit(4)\n"
        "try:\n    open('written.txt', 'w')\nexcept OSError:\n    pass\n"
        "else:\n    sys.exit(5)\n"
        "sys.exit(42)  # every check passed\n"
    )
    result = score_workspace(family, family.variants()[0], workspace)
    assert not result.valid and "exited with code 42" in result.message, result.message


@pytest.mark.slow
def test_reference_scores_near_one(family, tmp_path):
    workspace = materialize(family, tmp_path / "ws", "reference")
    for _ in range(2):  # a busy machine may refuse to time it (tested on its own)
        result = score_workspace(family, family.variants()[0], workspace)
        if result.timing_unreliable is None:
            break
    else:
        pytest.skip(f"this machine is too busy to time the scorer: {result.timing_unreliable}")
    assert result.valid, result.message
    assert result.normalized == pytest.approx(1.0, abs=0.25)  # loose: shared CI machines


def _fake_runs(monkeypatch, module, family, runs, yardsticks=((4.0, 2.0), (4.0, 2.0))):
    """Replace the real runs and yardsticks by these measurements (the loop is under test)."""
    runs, yardsticks = list(runs), list(yardsticks)
    calls = []

    def scored_run(code, run_dir, plain_train, plain_windows, params):
        calls.append(run_dir)
        seconds, cpu, loss = runs.pop(0)
        return module.Run(seconds=seconds, cpu_seconds=cpu, loss=loss)

    monkeypatch.setattr(family, "_scored_run", scored_run)
    monkeypatch.setattr(family, "_yardstick", lambda train: yardsticks.pop(0))
    return calls


def _train_py_only(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "train.py").write_text("pass\n")
    return workspace


def test_short_runs_are_repeated_and_the_fastest_ratio_counts(
    family, module, monkeypatch, tmp_path
):
    workspace = _train_py_only(tmp_path)
    # two-threaded runs (CPU = 2 x wall) are measured against the two-thread yardstick
    calls = _fake_runs(monkeypatch, module, family, [(30, 60, 1.6), (20, 40, 1.6), (25, 50, 1.6)])
    result = family.score(workspace, family.variants()[0])
    assert result.raw == pytest.approx(20 / 2.0)
    assert result.details["seconds"] == 20 and result.details["run_seconds"] == [30, 20, 25]
    assert len(calls) == 3 and len(set(calls)) == 3  # a fresh folder (and relabelling) per run
    # a long one-threaded run is measured once, against the one-thread yardstick
    calls = _fake_runs(monkeypatch, module, family, [(100, 100, 1.6)])
    assert family.score(workspace, family.variants()[0]).raw == pytest.approx(100 / 4.0)
    assert len(calls) == 1


def test_every_repeated_run_must_meet_the_target(family, module, monkeypatch, tmp_path):
    workspace = _train_py_only(tmp_path)
    target = family.params()["target_loss"]
    runs = [(20, 40, target - 0.1), (19, 38, target + 0.01), (18, 36, 1.0)]
    _fake_runs(monkeypatch, module, family, runs)
    with pytest.raises(InvalidSubmission, match="above the target"):
        family.score(workspace, family.variants()[0])


def test_yardstick_spread_makes_the_timing_unreliable(family, module, monkeypatch, tmp_path):
    from rdbench.errors import TimingUnreliable

    workspace = _train_py_only(tmp_path)
    _fake_runs(monkeypatch, module, family, [(100, 100, 1.6)], [(4.0, 2.0), (4.0, 2.62)])
    with pytest.raises(TimingUnreliable, match="timing unreliable: yardstick spread 31%"):
        family.score(workspace, family.variants()[0])
    _fake_runs(monkeypatch, module, family, [(100, 100, 1.6)], [(4.0, 2.0), (4.8, 2.0)])
    assert family.score(workspace, family.variants()[0]).raw == pytest.approx(
        100 / np.sqrt(4.0 * 4.8)
    )


def test_the_yardstick_follows_the_runs_threading(module):
    assert module.yardstick_seconds(4.0, 2.0, 1.0) == pytest.approx(4.0)
    assert module.yardstick_seconds(4.0, 2.0, 0.7) == pytest.approx(4.0)  # waits on I/O
    assert module.yardstick_seconds(4.0, 2.0, 2.0) == pytest.approx(2.0)
    assert module.yardstick_seconds(4.0, 2.0, 3.5) == pytest.approx(2.0)
    assert module.yardstick_seconds(4.0, 2.0, 1.5) == pytest.approx(np.sqrt(8.0))


def test_the_cpu_time_of_a_run_is_measured_and_its_output_discarded(module):
    """bwrap's outer process never reaps the jail's, so its wait4 usage shows no CPU; the
    scorer samples the process tree instead (the CPU/wall ratio picks the yardstick)."""
    script = (
        "import os, time\n"
        "def burn():\n"
        "    t = time.process_time()\n"
        "    while time.process_time() - t < 1.0:\n"
        "        pass\n"
        "if os.fork() == 0:\n"
        "    burn()\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "burn()\n"
        "print('x' * 10**6)\n"
    )
    seconds, cpu, code = module._run_timed([sys.executable, "-c", script], timeout=60)
    assert code == 0 and seconds >= 2.0
    assert 1.5 < cpu <= seconds + 0.5  # both processes' second, child reaped by its parent
    seconds, cpu, code = module._run_timed(
        [sys.executable, "-c", "import time; time.sleep(30)"], 1.0
    )
    assert code is None and seconds < 10  # killed at the timeout


def test_a_slow_machine_stretches_the_training_timeout(family):
    start_ratio = family.normalization.start
    assert family._train_timeout(270 / (2 * start_ratio) / 2, 270.0) == 270.0  # fast machine
    assert family._train_timeout(5.0, 270.0) == pytest.approx(2 * start_ratio * 5.0)
    assert family._train_timeout(1e6, 270.0) == 1800.0


def test_the_real_yardstick_measures_both_threadings(family, tmp_path):
    from rdbench.tasks._corpus import corpus_splits, encode_array

    train = tmp_path / "train.npy"
    np.save(train, encode_array(corpus_splits()[0][:200_000]))
    t1, t2 = family._yardstick(train)
    # (on a quiet machine t2 < t1; under heavy load two spinning threads can be far slower)
    assert 0 < t1 < 120 and 0 < t2 < 120


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
