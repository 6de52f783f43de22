"""optimize_kernel's scorer: correctness checks, isolation of hidden data, and calibration."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rdbench.errors import InvalidSubmission
from rdbench.tasks import load_families, materialize, score_solution, score_workspace


@pytest.fixture(scope="module")
def family():
    fam = load_families(["optimize_kernel"])[0]
    fam.prepare()
    return fam


@pytest.fixture
def reference_workspace(family, tmp_path) -> Path:
    return materialize(family, tmp_path / "ws", "reference")


def _write_solution(workspace: Path, body: str) -> None:
    (workspace / "solution.py").write_text("import numpy as np\n" + body)


def test_hidden_files_never_reach_the_workspace(family, tmp_path):
    workspace = materialize(family, tmp_path / "ws", "starting")
    names = {p.name for p in workspace.rglob("*")}
    assert "params.json" not in names and "expected.npy" not in names
    assert {"solution.py", "check.py"} <= names


def test_reference_is_valid_and_near_one(family, reference_workspace):
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert result.valid, result.message
    assert result.normalized == pytest.approx(1.0, abs=0.25)  # loose: shared CI machines


def test_a_textbook_cumsum_is_wrong(family, reference_workspace):
    _write_solution(reference_workspace, "def scan(x, gates, decay):\n    return np.cumsum(x)\n")
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "wrong output" in result.message


def test_missing_solution_is_invalid(family, tmp_path):
    (tmp_path / "ws").mkdir()
    with pytest.raises(InvalidSubmission, match="solution.py is missing"):
        family.score(tmp_path / "ws", family.variants()[0])


def test_crash_on_import_is_invalid_with_its_error(family, reference_workspace):
    _write_solution(reference_workspace, "raise RuntimeError('kaboom')\n")
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "kaboom" in result.message


def test_prints_from_the_solution_do_not_break_the_protocol(family, reference_workspace):
    source = (reference_workspace / "solution.py").read_text()
    (reference_workspace / "solution.py").write_text(
        source.replace('    """Return y', '    print("ready done saved")\n    """Return y', 1)
    )
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert result.valid, result.message


def test_the_solution_cannot_read_the_expected_results(family, reference_workspace):
    expected = family._data_dir() / "expected.npy"
    assert expected.exists()
    _write_solution(
        reference_workspace,
        f"y = np.load({str(expected)!r})\n"
        "def scan(x, gates, decay):\n    return y\n",
    )
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "No such file" in result.message or "denied" in result.message


def test_the_solution_sees_a_read_only_workspace(family, reference_workspace):
    _write_solution(
        reference_workspace,
        "open('cheat.txt', 'w').write('x')\n"
        "def scan(x, gates, decay):\n    return x\n",
    )
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "Read-only file system" in result.message


@pytest.mark.slow
def test_starting_and_reference_calibration(family):
    """`rdbench check` criteria: start 0 +/- 0.05, reference 1 +/- 0.05."""
    variant = family.variants()[0]
    start = score_solution(family, variant, "starting")
    reference = score_solution(family, variant, "reference")
    assert start.valid and reference.valid
    assert start.normalized == pytest.approx(0.0, abs=0.05)
    assert reference.normalized == pytest.approx(1.0, abs=0.05)
