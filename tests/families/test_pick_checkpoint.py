"""pick_checkpoint: start fails, reference passes, a naive pick fails, a symlink is refused."""

from __future__ import annotations

import re
import shutil

import pytest

from rdbench.families.pick_checkpoint import gen
from rdbench.tasks import load_families, materialize, score_workspace


@pytest.fixture(scope="module")
def family():
    return load_families(["pick_checkpoint"])[0]


def _variant(family, name):
    return next(v for v in family.variants() if v.name == name)


def _score(family, tmp_path, name, solution="starting", answer=None):
    ws = materialize(family, tmp_path / name, solution)
    if answer is not None:
        (ws / name / "answer.txt").write_text(answer)
    return score_workspace(family, _variant(family, name), ws)


@pytest.mark.parametrize("name", list(gen.SEEDS))
def test_start_fails_and_reference_passes(family, tmp_path, name):
    start = _score(family, tmp_path / "s", name, "starting")
    assert start.valid and start.normalized == 0.0
    ref = _score(family, tmp_path / "r", name, "reference")
    assert ref.valid and ref.normalized == 1.0


def test_committed_files_are_what_the_generator_writes(family, tmp_path):
    gen.write_workspace(tmp_path)
    for sub in ("workspace", "reference", "starting"):
        for path in (tmp_path / sub).rglob("*"):
            if path.is_file():
                assert (
                    path.read_bytes()
                    == (family.root / sub / path.relative_to(tmp_path / sub)).read_bytes()
                ), path


def test_the_lowest_logged_loss_of_a_deleted_checkpoint_fails(family, tmp_path):
    text, answer = gen.make_log("resumed")
    evals = [(float(v), int(s)) for s, v in re.findall(r"step=(\d+) val_loss=([\d.]+)\n", text)]
    naive = f"ckpt/step_{min(evals)[1]:06d}.pt"
    assert naive != answer and f"deleted {naive}" in text
    result = _score(family, tmp_path, "resumed", answer=naive + "\n")
    assert result.valid and result.normalized == 0.0
    # the right answer with './' and quotes is accepted
    assert _score(family, tmp_path / "b", "resumed", answer=f"'./{answer}'\n").normalized == 1.0


def test_a_symlinked_answer_is_refused(family, tmp_path):
    ws = materialize(family, tmp_path / "ws", "starting")
    target = tmp_path / "outside.txt"
    target.write_text(gen.make_log("lowest_val")[1])
    (ws / "lowest_val" / "answer.txt").unlink()
    (ws / "lowest_val" / "answer.txt").symlink_to(target)
    result = score_workspace(family, _variant(family, "lowest_val"), ws)
    assert not result.valid and "symlink" in result.message
    shutil.rmtree(ws)


def test_two_lines_are_invalid(family, tmp_path):
    result = _score(family, tmp_path, "lowest_val", answer="a.pt\nb.pt\n")
    assert not result.valid and "exactly one" in result.message
