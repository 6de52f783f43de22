"""A malformed family fails with one line naming the family, the file and the problem."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rdbench.errors import FamilyError, UserError
from rdbench.tasks import family_dirs, load_families, load_family

GOOD_FAMILY = """
from rdbench.tasks.contract import Normalization, TaskFamily

class Toy(TaskFamily):
    name = "{name}"
    human_minutes = 30.0
    normalization = Normalization(start=0.0, reference=10.0)

    def score(self, workspace, variant):
        return float((workspace / "answer.txt").read_text())
"""


def make_family(root: Path, name: str, source: str = GOOD_FAMILY, dirs=("workspace", "starting", "reference")) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "family.py").write_text(textwrap.dedent(source.format(name=name)))
    (folder / "instructions.md").write_text("Write a number into answer.txt.")
    for sub in dirs:
        (folder / sub).mkdir()
    return folder


def test_builtin_families_load():
    names = set(family_dirs())
    assert "optimize_kernel" in names
    for family in load_families(["optimize_kernel"]):
        assert family.variants()[0].task_id == "optimize_kernel/main"


def test_a_good_external_family_loads(tmp_path):
    family = load_family(make_family(tmp_path, "toy"))
    assert family.variants()[0].normalization(5.0) == 0.5


def test_import_error_names_family_file_and_line(tmp_path):
    folder = make_family(tmp_path, "broken", "import os\nraise RuntimeError('boom')\n")
    with pytest.raises(FamilyError) as info:
        load_family(folder)
    message = str(info.value)
    assert message.startswith("family broken:")
    assert "family.py:2" in message and "boom" in message
    assert "\n" not in message


def test_syntax_error_is_a_family_error(tmp_path):
    folder = make_family(tmp_path, "syntax", "def nope(:\n")
    with pytest.raises(FamilyError, match=r"family syntax: .*family.py:1 failed to import"):
        load_family(folder)


def test_missing_folder_is_named(tmp_path):
    folder = make_family(tmp_path, "nofolder", dirs=("workspace", "starting"))
    with pytest.raises(FamilyError, match=r"family nofolder: folder .*reference is missing"):
        load_family(folder)


def test_bad_normalization_is_named(tmp_path):
    source = GOOD_FAMILY.replace("reference=10.0", "reference=0.0")
    with pytest.raises(FamilyError, match=r"family badnorm: .*family.py.*start and reference must differ"):
        load_family(make_family(tmp_path, "badnorm", source))


def test_wrong_name_is_named(tmp_path):
    source = GOOD_FAMILY.replace('name = "{name}"', 'name = "other"')
    with pytest.raises(FamilyError, match="must equal the folder name"):
        load_family(make_family(tmp_path, "mismatch", source))


def test_missing_instructions_are_named(tmp_path):
    folder = make_family(tmp_path, "noinstr")
    (folder / "instructions.md").unlink()
    with pytest.raises(FamilyError, match=r"family noinstr: .*instructions.md is missing"):
        load_family(folder)


def test_unknown_family_lists_known_ones():
    with pytest.raises(UserError, match="unknown task family 'nope'; known families: .*optimize_kernel"):
        load_families(["nope"])


def test_cli_prints_one_line_and_exits_2_for_a_malformed_family(tmp_path):
    make_family(tmp_path, "broken", "raise ValueError('bad family')\n")
    env = {"RDBENCH_TASKS_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "rdbench.cli", "tasks", "broken"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "family broken:" in result.stderr and "bad family" in result.stderr
    assert "Traceback" not in result.stderr
