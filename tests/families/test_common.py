"""rdbench.families._common: seeds, the jailed runner, safe output reads, graded variants."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rdbench.errors import FamilyError, InvalidSubmission
from rdbench.families._common import (
    BINARY,
    FamilyBase,
    VariantSpec,
    default_time_limit_s,
    read_json_output,
    read_output,
    rng,
    run_command,
    run_python,
    scratch_dirs,
    seed_for,
)

CANARY = "CANARY-7f3e9c"


# -- seeds -------------------------------------------------------------------------------------
def test_seed_is_stable_and_depends_on_every_part():
    assert seed_for("fam", "v1") == seed_for("fam", "v1")
    assert seed_for("fam", "v1") != seed_for("fam", "v2")
    assert seed_for("fam", 1) != seed_for("fam", "1")
    assert 0 <= seed_for("x") < 2**63
    # pinned: the same on every machine and Python version (sha256, not hash())
    assert seed_for("fam", "v1") == 7174052423945143993
    a, b = rng("fam", "v1").random(5), rng("fam", "v1").random(5)
    assert (a == b).all()
    assert not (a == rng("fam", "v2").random(5)).all()


# -- the jailed runner -------------------------------------------------------------------------
def _script(tmp_path: Path, body: str) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "solve.py").write_text(body)
    return ws


def test_run_python_passes_inputs_and_collects_outputs(tmp_path):
    ws = _script(
        tmp_path,
        "import json, sys\n"
        "x = json.load(open('/input/x.json'))\n"
        "json.dump({'y': 2 * x, 'arg': sys.argv[1]}, open('/output/y.json', 'w'))\n"
        "print('done')\n",
    )
    with scratch_dirs() as (inp, out):
        (inp / "x.json").write_text("21")
        run = run_python(ws, "solve.py", ["hello"], timeout=60, input_dir=inp, output_dir=out)
        assert run.ok and run.returncode == 0
        assert run.stdout == b"done\n"
        assert read_json_output(out, "y.json") == {"y": 42, "arg": "hello"}


def test_run_python_failure_message_never_carries_stderr(tmp_path):
    ws = _script(
        tmp_path, f"import sys\nsys.stderr.write('{CANARY}')\nprint('{CANARY}')\nsys.exit(3)\n"
    )
    run = run_python(ws, "solve.py", timeout=60)
    assert not run.ok and run.returncode == 3
    assert CANARY not in run.message
    assert "exit status 3" in run.message


def test_run_python_time_limit_and_missing_script(tmp_path):
    ws = _script(tmp_path, "import time\ntime.sleep(30)\n")
    run = run_python(ws, "solve.py", timeout=1.5)
    assert not run.ok and run.returncode is None and "time limit" in run.message
    missing = run_python(ws, "nothere.py", timeout=5)
    assert not missing.ok and "missing" in missing.message
    with pytest.raises(ValueError):
        run_python(ws, "../solve.py", timeout=5)


def test_run_python_cannot_see_the_host_or_write_the_workspace(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(CANARY)
    ws = _script(
        tmp_path,
        "import os, sys\n"
        f"print(os.path.exists({str(secret)!r}))\n"
        "try:\n    open('w.txt', 'w')\n    print('wrote')\nexcept OSError:\n    print('ro')\n",
    )
    run = run_python(ws, "solve.py", timeout=60)
    assert run.ok, run.message
    assert run.stdout.split() == [b"False", b"ro"]


# -- reading outputs ---------------------------------------------------------------------------
def test_read_output_refuses_symlinks_fifos_and_big_files(tmp_path):
    host = tmp_path / "host.txt"
    host.write_text(CANARY)
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "ok.txt").write_text("fine")
    (out / "sub" / "deep.txt").write_text("deep")
    assert read_output(out, "ok.txt") == b"fine"
    assert read_output(out, "sub/deep.txt") == b"deep"
    os.symlink(host, out / "link.txt")
    os.symlink(tmp_path, out / "dirlink")
    os.mkfifo(out / "fifo")
    for name in ("link.txt", "dirlink/host.txt", "fifo", "sub", "absent.txt"):
        with pytest.raises(InvalidSubmission) as info:
            read_output(out, name)
        assert CANARY not in str(info.value)
    (out / "big.bin").write_bytes(b"x" * 101)
    with pytest.raises(InvalidSubmission, match="larger"):
        read_output(out, "big.bin", max_bytes=100)
    assert read_output(out, "big.bin", max_bytes=101) == b"x" * 101
    (out / "bad.json").write_text("{nope")
    with pytest.raises(InvalidSubmission, match="not valid JSON"):
        read_json_output(out, "bad.json")
    with pytest.raises(ValueError):
        read_output(out, "../host.txt")


# -- graded variants ---------------------------------------------------------------------------
def _family(tmp_path: Path, specs, extra: str | None = None) -> FamilyBase:
    root = tmp_path / "demo_family"
    root.mkdir(parents=True)
    (root / "instructions.md").write_text('Solve it. JSON looks like {"a": 1}.\n')
    if extra is not None:
        (root / "instructions").mkdir()
        (root / "instructions" / "hard.md").write_text(extra)

    class Demo(FamilyBase):
        name = "demo_family"

        def score_variant(self, workspace, variant, spec):
            return float(spec.params["k"])

    Demo.specs = tuple(specs)
    Demo.human_minutes = Demo.specs[0].human_minutes if Demo.specs else 0.0
    return Demo(root)


def test_family_base_builds_graded_variants(tmp_path):
    fam = _family(
        tmp_path,
        [
            VariantSpec("easy", 3, {"k": 1}),
            VariantSpec("hard", 90, {"k": 7, "magic": "QX"}, success_threshold=0.8),
        ],
        extra="Magic is {{magic}}; {{unknown}} stays.\n",
    )
    easy, hard = fam.variants()
    assert (easy.task_id, easy.human_minutes, easy.time_limit_s) == ("demo_family/easy", 3.0, 600)
    assert hard.time_limit_s == 180 * 60 and hard.success_threshold == 0.8
    assert easy.normalization == BINARY and easy.success_threshold == 1.0
    assert hard.params == {"k": 7, "magic": "QX"}
    assert "Magic is QX; {{unknown}} stays." in hard.instructions
    fam2 = _family(tmp_path / "v", [VariantSpec("hard", 5)], extra="Task {{variant}}.")
    assert "Task hard." in fam2.instructions("hard")
    assert '{"a": 1}' in easy.instructions and "Magic" not in easy.instructions
    assert fam.score(tmp_path, hard) == 7.0


def test_default_time_limit_is_twice_the_human_time_within_bounds():
    assert default_time_limit_s(2) == 600
    assert default_time_limit_s(7.5) == 15 * 60
    assert default_time_limit_s(90) == 3 * 3600
    assert default_time_limit_s(300) == 8 * 3600


def test_family_base_rejects_bad_specs(tmp_path):
    with pytest.raises(FamilyError, match="defined twice"):
        _family(tmp_path / "a", [VariantSpec("x", 3), VariantSpec("x", 4)]).variants()
    with pytest.raises(FamilyError, match="human_minutes > 0"):
        _family(tmp_path / "b", [VariantSpec("x", 0)]).variants()
    with pytest.raises(FamilyError, match="no specs"):
        _family(tmp_path / "c", []).variants()
    with pytest.raises(FamilyError, match="no task variant"):
        _family(tmp_path / "d", [VariantSpec("x", 3)]).spec("y")


def test_run_python_runs_a_family_runner_from_the_input_folder(tmp_path):
    ws = _script(tmp_path, "def double(x):\n    return 2 * x\n")
    with scratch_dirs() as (inp, out):
        (inp / "runner.py").write_text(
            "import os, sys\nsys.path.insert(0, os.getcwd())\nimport solve\n"
            "open('/output/r.txt', 'w').write(str(solve.double(21)))\n"
        )
        run = run_python(ws, "/input/runner.py", timeout=60, input_dir=inp, output_dir=out)
        assert run.ok, run.message
        assert read_output(out, "r.txt") == b"42"
        with pytest.raises(ValueError):
            run_python(ws, "/etc/passwd", timeout=5, input_dir=inp)
        with pytest.raises(ValueError):
            run_python(ws, "/input/absent.py", timeout=5, input_dir=inp)


def test_run_command_runs_shell_scripts_with_python_on_path(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "go.sh").write_text(f"set -e\npython3 -c 'print(6 * 7)'\necho {CANARY} >&2\nexit 5\n")
    run = run_command(ws, ["bash", "go.sh"], timeout=60, label="go.sh")
    assert not run.ok and run.returncode == 5 and run.stdout == b"42\n"
    assert run.message == "go.sh failed (exit status 5)"
