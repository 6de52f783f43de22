"""A non-editable install puts rdbench (and hidden task data) inside the bound venv: it is masked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import rdbench
from rdbench.sandbox import jail
from rdbench.sandbox.jail import JailSpec, masked_package_paths, run_jailed

PACKAGE_DIR = os.path.realpath(os.path.dirname(rdbench.__file__))
INSTALL_ROOT = os.path.dirname(PACKAGE_DIR)  # plays the role of site-packages


def test_package_inside_a_bound_path_is_masked():
    assert masked_package_paths([INSTALL_ROOT]) == [PACKAGE_DIR]
    assert masked_package_paths(["/usr"]) == []


def test_jail_cannot_list_or_read_the_installed_package(monkeypatch, tmp_path):
    bound = [*jail.python_runtime_paths(), INSTALL_ROOT]
    monkeypatch.setattr(jail, "python_runtime_paths", lambda: bound)
    hidden = Path(PACKAGE_DIR) / "tasks" / "optimize_kernel" / "hidden" / "params.json"
    assert hidden.exists()
    probe = (
        "import os, sys\n"
        f"print(sorted(os.listdir({PACKAGE_DIR!r})))\n"
        f"print(os.path.exists({str(hidden)!r}))\n"
        f"print(os.path.isdir({INSTALL_ROOT!r}))\n"
    )
    result = run_jailed(JailSpec(workspace=tmp_path), [sys.executable, "-c", probe], timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().split()
    assert lines == ["[]", "False", "True"]
