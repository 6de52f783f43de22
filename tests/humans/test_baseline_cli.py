"""`rdbench baseline` from the command line: warning, login command, summary, exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from human_driver import wait_for_login_command


@pytest.mark.slow
def test_baseline_command(tmp_path: Path, fixture_families: Path, human) -> None:
    log_dir = tmp_path / "logs"
    argv = [sys.executable, "-m", "rdbench.cli", "baseline", "human_fixture/main"]
    argv += ["--budget", "10m", "--log-dir", str(log_dir), "--baseliner", "Grace Hopper"]
    argv += ["--sandbox", "local", "--display", "none"]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RDBENCH_TASKS_PATH": str(fixture_families)},
    )
    try:
        grace = human("grace")
        grace.login(
            wait_for_login_command(
                log_dir / "baseline-Grace-Hopper-human_fixture-main.connect.json"
            )
        )
        grace.run("echo 5 > answer.txt; task score")
        grace.type("task submit")
        grace.wait_for("Yes (y) or No (n)")
        grace.type("y")
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "NO isolation" in err
    assert "bwrap --dev-bind / /" in out  # the login command is printed
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("human_fixture/main: score 0.5000, working time")
    assert summary.endswith("of 600s, 1 intermediate score(s), ended by submit")
    assert len(list(log_dir.glob("*.eval"))) == 1
