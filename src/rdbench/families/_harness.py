"""Grade a function the agent wrote: run the family's harness script against it, jailed.

A thin layer over `rdbench.families._common.run_python` for families that grade the
agent's *module* rather than a program: the family's harness file is put into the run's
input folder (`/input`, read-only), imports the agent's module from the read-only
workspace, gets the scorer's inputs on stdin and prints one JSON line of results. The
expected results never enter the jail: the scorer compares on the host.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rdbench.errors import InvalidSubmission
from rdbench.families._common import INPUT_DIR, run_python, scratch_dirs


def run_harness(
    workspace: Path,
    harness: Path,
    stdin: bytes,
    *,
    timeout: float,
    memory_mb: int = 2048,
    max_processes: int = 64,
) -> Any:
    """Run `harness` (a family file) jailed, the workspace as its working directory, and
    return the JSON value of the last line it prints.

    Raises:
        InvalidSubmission: the run timed out, failed, or printed no JSON result; the
            message is the family's own words, never the solution's output.
        SandboxUnavailable: bwrap is missing.
    """
    with scratch_dirs("rdbench-harness-") as (inputs, _outputs):
        shutil.copyfile(harness, inputs / "harness.py")
        run = run_python(
            workspace,
            f"{INPUT_DIR}/harness.py",
            timeout=timeout,
            input_dir=inputs,
            memory_mb=memory_mb,
            max_processes=max_processes,
            env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
            stdin=stdin,
        )
    lines = run.stdout.decode("utf-8", errors="replace").strip().splitlines()
    if not run.ok or not lines:
        raise InvalidSubmission(
            f"the grading run failed ({run.message.replace('/input/harness.py', 'the harness')}); "
            "run the workspace's own checks to see the error"
        )
    try:
        return json.loads(lines[-1])
    except ValueError:
        raise InvalidSubmission("the grading run printed no result") from None
