"""Where running sandboxes are recorded, and how stale ones are found and reaped.

Each sandbox has a directory `<runtime>/<id>/` (mode 0700) holding its control socket
`ctl.sock`, bwrap's stderr `bwrap.log` and `state.json` (pids with their start times,
cgroup paths, task and sample). A sandbox is *stale* when the harness that started it
is gone (crash, SIGKILL, Ctrl-C before cleanup): `reap_stale()` kills what is left and
removes its cgroups and directory. Processes are identified by pid *and* start time, so
a recycled pid is never killed by mistake.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdbench.sandbox import cgroups


def runtime_dir() -> Path:
    """Return (and create, mode 0700) the directory holding the state of running sandboxes.

    `RDBENCH_RUNTIME_DIR` overrides; otherwise /run/rdbench for root,
    $XDG_RUNTIME_DIR/rdbench, or /tmp/rdbench-<uid>.
    """
    explicit = os.environ.get("RDBENCH_RUNTIME_DIR")
    if explicit:
        path = Path(explicit)
    elif os.geteuid() == 0 and os.access("/run", os.W_OK):
        path = Path("/run/rdbench")
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "rdbench"
    else:
        path = Path(f"/tmp/rdbench-{os.geteuid()}")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def process_start_time(pid: int) -> int | None:
    """Return the start time (clock ticks since boot) of process `pid`, None if it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        if fields[0] == b"Z":
            return None
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def is_alive(pid: int, start_time: int | None) -> bool:
    """Return True when `pid` runs and is the same process that started at `start_time`."""
    current = process_start_time(pid)
    return current is not None and (start_time is None or current == start_time)


@dataclass
class SandboxRecord:
    """What is known about one running sandbox, as stored in its `state.json`."""

    id: str
    task: str
    sample: str
    created: float
    harness_pid: int
    harness_start: int | None
    bwrap_pid: int = 0
    bwrap_start: int | None = None
    init_pid: int = 0
    init_start: int | None = None
    cgroups: list[str] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        """The sandbox's directory under the runtime dir."""
        return runtime_dir() / self.id

    @property
    def socket_path(self) -> Path:
        """The control socket of the sandbox's init process."""
        return self.directory / "ctl.sock"

    def save(self) -> None:
        """Write the record atomically to `<dir>/state.json`."""
        tmp = self.directory / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(self.directory / "state.json")

    def harness_alive(self) -> bool:
        """Return True while the harness process that owns this sandbox runs."""
        return is_alive(self.harness_pid, self.harness_start)

    def sandbox_alive(self) -> bool:
        """Return True while the sandbox's bwrap process runs."""
        return self.bwrap_pid > 0 and is_alive(self.bwrap_pid, self.bwrap_start)


def list_records() -> list[SandboxRecord]:
    """Return the records of every sandbox in the runtime dir (oldest first)."""
    records = []
    for state in runtime_dir().glob("*/state.json"):
        try:
            records.append(SandboxRecord(**json.loads(state.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(records, key=lambda r: r.created)


def destroy(record: SandboxRecord) -> None:
    """Kill the sandbox of `record`, remove its cgroups and its directory (idempotent)."""
    # the kernel kills every process of a PID namespace whose init (the sandbox's PID 1)
    # dies; bwrap's own process would follow by itself, but is killed too for speed
    processes = ((record.init_pid, record.init_start), (record.bwrap_pid, record.bwrap_start))
    for pid, start in processes:
        if pid > 0 and is_alive(pid, start):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    cgroups.destroy_paths(record.cgroups)
    shutil.rmtree(record.directory, ignore_errors=True)


def reap_stale(*, all_of_them: bool = False, id: str | None = None) -> list[str]:
    """Destroy sandboxes whose harness is gone (or all / the one with `id`).

    Returns:
        The ids of the sandboxes destroyed.
    """
    reaped = []
    for record in list_records():
        if id is not None and record.id != id:
            continue
        if id is None and not all_of_them and record.harness_alive():
            continue
        destroy(record)
        reaped.append(record.id)
    # directories without a readable state (a crash mid-start) older than a minute
    now = time.time()
    for directory in runtime_dir().iterdir():
        if directory.is_dir() and not (directory / "state.json").exists():
            try:
                if now - directory.stat().st_mtime > 60:
                    shutil.rmtree(directory, ignore_errors=True)
            except OSError:
                pass
    reap_stale_temp_dirs()
    return reaped


# Temporary folders the scorers make (tasks.inspect_adapter, optimize_kernel) that a killed
# harness leaves behind in the temp dir.
STALE_TEMP_PREFIXES = ("rdbench-score-", "rdbench-kernel-")


def _paths_in_use() -> set[str]:
    """Resolved cwd, root and open-file paths of every process we can inspect."""
    used: set[str] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        links = [proc / "cwd", proc / "root"]
        try:
            links += list((proc / "fd").iterdir())
        except OSError:
            pass
        for link in links:
            try:
                used.add(os.readlink(link))
            except OSError:
                continue
    return used


def reap_stale_temp_dirs(min_age_s: float = 600.0, temp_dir: str | Path | None = None) -> list[Path]:
    """Remove scorers' temporary folders (``rdbench-score-*``, ``rdbench-kernel-*``) that a
    killed harness left: ours (same uid), untouched for ``min_age_s`` seconds, and no
    process has its cwd, root or an open file inside them.

    Args:
        min_age_s: how long a folder (and its top-level entries) must be unchanged.
        temp_dir: where to look (default: ``tempfile.gettempdir()``).

    Returns:
        The folders removed.
    """
    import tempfile

    base = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(STALE_TEMP_PREFIXES)]
    except OSError:
        return []
    now = time.time()
    old = []
    for path in candidates:
        try:
            if path.is_symlink() or not path.is_dir() or path.stat().st_uid != os.geteuid():
                continue
            newest = max([path.stat().st_mtime] + [c.lstat().st_mtime for c in path.iterdir()])
        except OSError:
            continue
        if now - newest >= min_age_s:
            old.append(path)
    if not old:
        return []
    used = _paths_in_use()
    removed = []
    for path in old:
        prefix = str(path.resolve())
        if any(u == prefix or u.startswith(prefix + "/") for u in used):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
