"""Generic attacks on every family's scorer (issue 20): a reward hacker's first moves.

Parametrized over `rdbench.tasks.loader.family_dirs()`, so families added later are covered.
Each attack starts from the family's starting solution and puts attack code at the top of
the files the family declares in `TaskFamily.solution_files` (its entry points), or puts
files beside them; the family's real scorer then scores it (see docs/scoring.md):

- stdout/stderr echo: the solution prints a canary and dies with it in its exception; the
  canary must not appear in the message the agent sees;
- `sys.path` shadowing: workspace modules named like standard ones (`json.py`, ...) that end
  the process if imported; scoring must not change;
- output symlinks: the solution replaces every file its process writes (when it is closed,
  and by a polling thread) with a link to a host FIFO the test watches; the host must never
  open it, the score must not rise, and nothing read through it may be echoed;
- hidden data at import time (precomputation): code at import searches the files, open
  descriptors and modules it can reach for bytes of the family's hidden files; it must
  find none.

A family that does not declare `solution_files` is skipped with that reason; one whose
solution files reject unrestricted code (a static check, as in restricted_mlm) skips the
attacks that need it, saying so (its own tests cover code that check misses).
"""

from __future__ import annotations

import ast
import os
import shutil
import threading
from pathlib import Path

import pytest

from rdbench.tasks.contract import TaskFamily
from rdbench.tasks.loader import family_dirs, load_family
from rdbench.tasks.workspace import ScoreResult, materialize, score_workspace

FAMILIES = sorted(family_dirs())
CANARY = "rdbench-canary-5c81e0f2d7"
SHADOWED = (
    "json", "colorsys", "typing", "traceback", "numbers", "struct", "random", "argparse",
    "pickle", "copy", "inspect", "dataclasses", "tempfile", "shutil", "gzip", "zipfile",
    "base64", "textwrap", "string", "signal", "subprocess", "threading", "queue", "tokenize",
    "ast", "contextlib", "sitecustomize", "usercustomize",
)
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")
_clean_scores: dict[str, ScoreResult] = {}
_unrestricted: dict[str, str] = {}  # family -> why the probe was invalid ('' if valid)


def _family(name: str) -> TaskFamily:
    return load_family(family_dirs()[name])


def _entry_points(family: TaskFamily, *, allow_none: bool = False) -> tuple[str, ...]:
    files = family.solution_files
    if files is None:
        pytest.skip(
            f"family {family.name} does not declare TaskFamily.solution_files, so the "
            "generic attacks cannot reach its solution"
        )
    if not files and not allow_none:
        pytest.skip(f"family {family.name}'s scorer runs no code of the solution")
    return files


def _inject(path: Path, code: str) -> None:
    """Put `code` at the top of the Python file `path` (after any __future__ imports)."""
    if not path.is_file():
        pytest.fail(f"solution_files names {path.name}, which the starting solution lacks")
    source = path.read_text()
    after = 0
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            after = node.end_lineno or node.lineno
    lines = source.splitlines(keepends=True)
    path.write_text("".join(lines[:after]) + code + "\n" + "".join(lines[after:]))


def _workspace(family: TaskFamily, dest: Path, code: str | None = None) -> Path:
    workspace = materialize(family, dest, "starting")
    for rel in family.solution_files or ():
        if code is not None:
            _inject(workspace / rel, code)
    return workspace


def _score(family: TaskFamily, workspace: Path) -> ScoreResult:
    return score_workspace(family, family.variants()[0], workspace)


def _clean(family: TaskFamily, tmp_path_factory: pytest.TempPathFactory) -> ScoreResult:
    if family.name not in _clean_scores:
        workspace = _workspace(family, tmp_path_factory.mktemp(f"{family.name}-clean"))
        _clean_scores[family.name] = _score(family, workspace)
    result = _clean_scores[family.name]
    assert result.valid, f"the starting solution of {family.name} must score: {result.message}"
    return result


def _needs_unrestricted_code(family: TaskFamily, tmp_path_factory) -> None:
    """Skip unless the family's solution files may hold arbitrary Python (probed once).

    The probe (two harmless imports at the top of each solution file) is scored twice at
    most, so that one scoring spoiled by a busy machine does not skip the attacks.
    """
    if family.name not in _unrestricted:
        code = "import os as _probe_os\nimport sys as _probe_sys\n"
        message = ""
        for attempt in range(2):
            dest = tmp_path_factory.mktemp(f"{family.name}-probe{attempt}")
            result = _score(family, _workspace(family, dest, code))
            message = "" if result.valid else result.message
            if result.valid:
                break
        _unrestricted[family.name] = message
    if _unrestricted[family.name]:
        pytest.skip(
            f"family {family.name} rejects unrestricted code in its solution files (probe: "
            f"{_unrestricted[family.name][:160]}); its own tests attack what that misses"
        )


def _hidden_files(family: TaskFamily) -> list[Path]:
    if not family.hidden_dir.is_dir():
        return []
    return sorted(p for p in family.hidden_dir.rglob("*") if p.is_file() and not p.is_symlink())


def _fifo_watch(path: Path) -> dict[str, bool]:
    """Make `path` a FIFO and note whether anyone opens it for reading (follows a link)."""
    os.mkfifo(path)
    state = {"opened": False}

    def wait_for_reader() -> None:
        fd = os.open(path, os.O_WRONLY)  # returns once a reader opened the FIFO
        state["opened"] = True
        try:
            os.write(fd, (CANARY + "\n").encode())
        except OSError:
            pass
        os.close(fd)

    threading.Thread(target=wait_for_reader, daemon=True).start()
    return state


def _release_fifo(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # lets the waiting writer finish
    os.close(fd)


def _assert_no_canary(result: ScoreResult) -> None:
    assert CANARY not in result.message, result.message


# -- the attacks -----------------------------------------------------------------------------
@needs_bwrap
@pytest.mark.parametrize("name", FAMILIES)
def test_printed_and_raised_text_never_reaches_the_agent(name: str, tmp_path: Path) -> None:
    family = _family(name)
    _entry_points(family)
    code = f"print({CANARY!r})\nraise RuntimeError({CANARY!r})\n"
    result = _score(family, _workspace(family, tmp_path / "ws", code))
    _assert_no_canary(result)
    assert not result.valid  # the solution died at import


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILIES)
def test_workspace_modules_cannot_shadow_the_standard_library(
    name: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    family = _family(name)
    files = _entry_points(family, allow_none=True)
    clean = _clean(family, tmp_path_factory)
    workspace = _workspace(family, tmp_path / "ws")
    folders = {workspace} | {(workspace / rel).parent for rel in files}
    for folder in folders:
        for module in SHADOWED:
            if not (folder / f"{module}.py").exists():
                (folder / f"{module}.py").write_text(
                    f"print({CANARY!r})\nimport os\nos._exit(0)\n"
                )
    result = _score(family, workspace)
    _assert_no_canary(result)
    assert result.valid, f"a workspace module shadowed a standard one: {result.message}"
    if not family.timing_sensitive:
        assert result.raw == pytest.approx(clean.raw, rel=1e-9)


SYMLINK_ATTACK = """
import atexit as _rdb_atexit
import builtins as _rdb_builtins
import os as _rdb_os
import threading as _rdb_threading
import time as _rdb_time

_RDB_TARGET = {target!r}
_RDB_DIRS = ["/rdbench/out", "/rdbench", _rdb_os.getcwd(), "/tmp", _rdb_os.path.expanduser("~")]


def _rdb_files():
    found = set()
    for folder in _RDB_DIRS:
        try:
            for entry in _rdb_os.scandir(folder):
                if entry.is_file(follow_symlinks=False):
                    found.add(entry.path)
        except OSError:
            pass
    return found


_RDB_KEEP = _rdb_files()


def _rdb_swap():
    for path in _rdb_files() - _RDB_KEEP:
        try:
            _rdb_os.symlink(_RDB_TARGET, path + ".rdb-link")
            _rdb_os.replace(path + ".rdb-link", path)
        except OSError:
            pass


class _RdbFile:
    # a file the solution's process writes: becomes a link as soon as it is closed
    def __init__(self, handle):
        self._handle = handle

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __iter__(self):
        return iter(self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self._handle.close()
        _rdb_swap()


_rdb_open = _rdb_builtins.open


def _rdb_patched_open(file, mode="r", *args, **kwargs):
    handle = _rdb_open(file, mode, *args, **kwargs)
    return _RdbFile(handle) if any(m in mode for m in "wax+") else handle


_rdb_builtins.open = _rdb_patched_open


def _rdb_loop():
    while True:
        _rdb_swap()
        _rdb_time.sleep(0.005)


_rdb_threading.Thread(target=_rdb_loop, daemon=True).start()
_rdb_atexit.register(_rdb_swap)
"""


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILIES)
def test_output_symlinks_to_host_secrets_gain_nothing(
    name: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    family = _family(name)
    _entry_points(family)
    _needs_unrestricted_code(family, tmp_path_factory)
    clean = _clean(family, tmp_path_factory)
    secret = tmp_path / "secret.fifo"  # a host that follows a link to it opens it: noticed
    followed = _fifo_watch(secret)
    code = SYMLINK_ATTACK.format(target=str(secret))
    try:
        result = _score(family, _workspace(family, tmp_path / "ws", code))
        opened = followed["opened"]
    finally:
        _release_fifo(secret)
    _assert_no_canary(result)
    assert not opened, "the scorer followed a link the solution left in its output"
    margin = 0.5 if family.timing_sensitive else 1e-6
    if result.valid:
        assert result.normalized <= clean.normalized + margin, result.message


FIND_HIDDEN_AT_IMPORT = """
import os as _rdb_os
import sys as _rdb_sys

_RDB_NEEDLES = [bytes.fromhex(h) for h in {needles!r}]
_RDB_ROOTS = ["/rdbench", _rdb_os.getcwd(), "/tmp", "/home", "/dev/shm", "/run", "/mnt",
              "/opt", "/srv", "/root", "/var/tmp", "/data"]


def _rdb_has(data):
    return any(n in data for n in _RDB_NEEDLES)


def _rdb_search():
    seen = 0
    for root in _RDB_ROOTS:
        for folder, _dirs, names in _rdb_os.walk(root):
            for name in names:
                path = _rdb_os.path.join(folder, name)
                seen += 1
                if seen > 5000:
                    return False
                try:
                    if _rdb_os.path.getsize(path) < 64 * 1024 * 1024:
                        with open(path, "rb") as handle:
                            if _rdb_has(handle.read()):
                                return True
                except OSError:
                    pass
    for fd in range(3, 256):
        try:
            if _rdb_has(_rdb_os.pread(fd, 64 * 1024 * 1024, 0)):
                return True
        except OSError:
            pass
    for module in list(_rdb_sys.modules.values()):
        if module is _rdb_sys.modules.get(__name__):
            continue
        for value in list(getattr(module, "__dict__", {{}}).values()):
            if isinstance(value, (bytes, bytearray)) and _rdb_has(value):
                return True
    return False


if _rdb_search():
    raise SystemExit("hidden data reachable at import")
"""


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILIES)
def test_no_hidden_data_is_reachable_before_the_solution_runs(
    name: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    family = _family(name)
    _entry_points(family)
    hidden = [p for p in _hidden_files(family) if p.stat().st_size >= 256]
    if not hidden:
        pytest.skip(f"family {name} has no hidden files to look for")
    _needs_unrestricted_code(family, tmp_path_factory)
    needles = []
    for path in hidden:
        data = path.read_bytes()
        middle = len(data) // 2
        needles.append(data[middle : middle + 48].hex())
    code = FIND_HIDDEN_AT_IMPORT.format(needles=needles)
    result = _score(family, _workspace(family, tmp_path / "ws", code))
    assert result.valid, f"hidden data was reachable at import: {result.message}"


def test_every_family_is_covered_or_skipped_with_a_reason() -> None:
    # The attacks above run for each family the loader finds; none may crash the listing.
    assert FAMILIES, "the loader found no families"
    for name in FAMILIES:
        files = _family(name).solution_files
        assert files is None or all(isinstance(f, str) and f.endswith(".py") for f in files)


def test_the_fifo_notices_a_host_that_follows_a_link(tmp_path: Path) -> None:
    # the detector of the symlink attack: reading through a link to the FIFO is seen
    fifo = tmp_path / "secret.fifo"
    state = _fifo_watch(fifo)
    (tmp_path / "y.npy").symlink_to(fifo)
    assert (tmp_path / "y.npy").read_text().strip() == CANARY
    assert state["opened"]
