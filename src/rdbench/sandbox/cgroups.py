"""Per-sandbox cgroups: memory, pids and CPU limits on cgroup v2 or v1.

Users' machines mostly run the unified cgroup v2 hierarchy; the evaluation machines this
project grew up on mount cgroup v1 controllers under /sys/fs/cgroup/<controller> and an
almost empty v2 at /sys/fs/cgroup/unified. Both are supported: v2 is used when its
`memory` and `pids` controllers are available, else v1, else the caller falls back to
rlimits. `RDBENCH_CGROUP=v2|v1|none` forces a choice (a forced choice that cannot be
used raises `SandboxUnavailable`).

On v1 the sandbox's groups are nested under the harness's own groups, so any limit the
machine already puts on the harness also bounds the sandboxes.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from rdbench.errors import SandboxUnavailable

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
_PARENT_NAME = "rdbench"
_V1_CONTROLLERS = ("memory", "pids", "cpu")
_FIX = "run as root, delegate a cgroup (set RDBENCH_CGROUP_PARENT), or set RDBENCH_CGROUP=none"


@dataclass
class Limits:
    """What to enforce: bytes of memory, number of tasks, CPU cores."""

    memory_bytes: int
    max_processes: int
    cpus: float


@dataclass
class CgroupSet:
    """The cgroup directories of one sandbox (one per v1 controller, one on v2)."""

    version: str
    paths: list[str] = field(default_factory=list)

    def add(self, pid: int) -> None:
        """Move process `pid` into every group of the set.

        Raises:
            SandboxUnavailable: the kernel refused the move.
        """
        for path in self.paths:
            try:
                Path(path, "cgroup.procs").write_text(f"{pid}\n")
            except OSError as ex:
                raise SandboxUnavailable(
                    f"cannot move the sandbox into cgroup {path}: {ex.strerror}; {_FIX}"
                ) from ex

    def oom_kills(self) -> int:
        """Return how many processes the memory limit of this sandbox has killed so far."""
        for path in self.paths:
            for name in ("memory.events", "memory.oom_control"):  # v2, v1
                try:
                    lines = Path(path, name).read_text().splitlines()
                except OSError:
                    continue
                for line in lines:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and value.strip().isdigit():
                        return int(value)
        return 0

    def destroy(self) -> None:
        """Kill every process left in the groups and remove them (best effort, idempotent)."""
        destroy_paths(self.paths)


def destroy_paths(paths: list[str]) -> None:
    """Kill every process in each cgroup directory of `paths`, then remove the directories."""
    for path in paths:
        p = Path(path)
        if not p.exists():
            continue
        kill_file = p / "cgroup.kill"
        for _ in range(100):
            pids = _pids(p)
            if not pids:
                break
            if kill_file.exists():
                try:
                    kill_file.write_text("1")
                except OSError:
                    pass
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)
        for _ in range(100):
            try:
                p.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError as ex:
                if ex.errno != errno.EBUSY:
                    break
                time.sleep(0.01)


def _pids(path: Path) -> list[int]:
    try:
        return [int(x) for x in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _memberships(proc_cgroup: Path = PROC_SELF_CGROUP) -> list[tuple[list[str], str]]:
    """Return (controllers, path) per hierarchy this process is in (no controllers: v2)."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        found.append((controllers.split(",") if controllers else [], path))
    return found


def _own_cgroup(controller: str | None) -> str:
    """Return this process's cgroup path for a v1 controller (or v2 when None)."""
    for controllers, path in _memberships():
        wanted = not controllers if controller is None else controller in controllers
        if wanted:
            return path
    return "/"


def cpu_cgroup_folders(
    root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_SELF_CGROUP
) -> list[Path]:
    """Return the folders of this process's CPU cgroup and its ancestors, innermost first."""
    memberships = _memberships(proc_cgroup)
    v1_path = next((path for controllers, path in memberships if "cpu" in controllers), None)
    v2_path = next((path for controllers, path in memberships if not controllers), None)
    base: Path | None = None
    if v1_path is not None:  # v1 (or hybrid): the cpu controller has a hierarchy of its own
        base = next((root / name for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu")
                     if (root / name).is_dir()), None)
        path = v1_path
    elif v2_path is not None:
        base, path = root, v2_path
    if base is None:
        return []
    folder = base / path.lstrip("/")
    return [f for f in (folder, *folder.parents) if f == base or base in f.parents]


def cpu_quota(folders: list[Path] | None = None) -> float | None:
    """Return this process's cgroup CPU quota in cores, None when unlimited.

    The effective quota is the smallest one on the path from the process's own cgroup up to
    the root (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`);
    `folders` defaults to `cpu_cgroup_folders()`.
    """
    quotas = []
    for folder in cpu_cgroup_folders() if folders is None else folders:
        try:
            if (folder / "cpu.max").exists():
                quota, period = (folder / "cpu.max").read_text().split()[:2]
                if quota != "max":
                    quotas.append(int(quota) / int(period))
            elif (folder / "cpu.cfs_quota_us").exists():
                quota_us = int((folder / "cpu.cfs_quota_us").read_text())
                if quota_us > 0:
                    quotas.append(quota_us / int((folder / "cpu.cfs_period_us").read_text()))
        except (OSError, ValueError):
            continue
    return round(min(quotas), 3) if quotas else None


def _v2_parent() -> Path | None:
    """Return a writable v2 cgroup under which sandboxes can get memory+pids, or None."""
    explicit = os.environ.get("RDBENCH_CGROUP_PARENT")
    if explicit:
        return Path(explicit)
    if not (CGROUP_ROOT / "cgroup.controllers").exists():
        return None  # not a unified hierarchy
    if os.geteuid() != 0:
        return None  # needs a delegated cgroup: RDBENCH_CGROUP_PARENT
    return CGROUP_ROOT / f"{_PARENT_NAME}.slice"


def _v2_usable(parent: Path) -> bool:
    # a delegated parent must offer the controllers itself; a new one gets them from above
    source = parent if parent.exists() else parent.parent
    try:
        available = (source / "cgroup.controllers").read_text().split()
    except OSError:
        return False
    return "memory" in available and "pids" in available and os.access(source, os.W_OK)


def _v1_dirs() -> dict[str, Path] | None:
    dirs = {}
    for controller in _V1_CONTROLLERS:
        root = CGROUP_ROOT / controller
        if not (root / "cgroup.procs").exists():
            if controller == "cpu":
                continue  # CPU is optional
            return None
        dirs[controller] = root / _own_cgroup(controller).lstrip("/") / _PARENT_NAME
    if not os.access(dirs["memory"].parent, os.W_OK):
        return None
    return dirs


def detect() -> str:
    """Return which cgroup flavour this machine can use: "v2", "v1" or "none".

    Raises:
        SandboxUnavailable: RDBENCH_CGROUP forces a flavour that cannot be used.
    """
    forced = os.environ.get("RDBENCH_CGROUP", "auto").strip().lower()
    if forced == "none":
        return "none"
    if forced not in ("auto", "v1", "v2"):
        raise SandboxUnavailable(f"RDBENCH_CGROUP={forced!r} is not one of auto, v2, v1, none")
    v2 = _v2_parent()
    if forced in ("auto", "v2") and v2 is not None and _v2_usable(v2):
        return "v2"
    if forced in ("auto", "v1") and _v1_dirs() is not None:
        return "v1"
    if forced != "auto":
        raise SandboxUnavailable(f"cgroup {forced} is not usable here; {_FIX}")
    return "none"


def _write(path: Path, value: str, required: bool = True) -> None:
    try:
        path.write_text(value)
    except OSError as ex:
        if required:
            raise SandboxUnavailable(
                f"cannot set {path} = {value}: {ex.strerror}; {_FIX}"
            ) from ex


def create(name: str, limits: Limits, version: str) -> CgroupSet:
    """Create the cgroups of sandbox `name` with `limits` (`version` from `detect()`).

    Returns:
        The created groups (empty for version "none").

    Raises:
        SandboxUnavailable: a group cannot be created or a limit cannot be set.
    """
    cgroups = CgroupSet(version=version)
    try:
        if version == "v2":
            _create_v2(name, limits, cgroups)
        elif version == "v1":
            _create_v1(name, limits, cgroups)
    except SandboxUnavailable:
        cgroups.destroy()
        raise
    except OSError as ex:
        cgroups.destroy()
        raise SandboxUnavailable(f"cannot create the sandbox cgroup: {ex}; {_FIX}") from ex
    return cgroups


def _create_v2(name: str, limits: Limits, cgroups: CgroupSet) -> None:
    parent = _v2_parent()
    assert parent is not None
    if not parent.exists():
        parent.mkdir(exist_ok=True)
    for node in (parent.parent, parent):
        if node == CGROUP_ROOT.parent:
            continue
        wanted = [c for c in ("memory", "pids", "cpu") if c in _read(node / "cgroup.controllers")]
        enabled = _read(node / "cgroup.subtree_control")
        missing = [c for c in wanted if c not in enabled]
        if missing:
            _write(
                node / "cgroup.subtree_control",
                " ".join(f"+{c}" for c in missing),
                required=node == parent,
            )
    group = parent / name
    group.mkdir()
    cgroups.paths.append(str(group))
    _write(group / "memory.max", str(limits.memory_bytes))
    _write(group / "memory.swap.max", "0", required=False)
    _write(group / "pids.max", str(limits.max_processes))
    period = 100_000
    _write(group / "cpu.max", f"{int(limits.cpus * period)} {period}", required=False)


def _create_v1(name: str, limits: Limits, cgroups: CgroupSet) -> None:
    dirs = _v1_dirs()
    assert dirs is not None
    for controller, parent in dirs.items():
        if controller == "cpu" and limits.cpus >= (os.cpu_count() or 1):
            continue  # no effective CPU limit: spare the group (and a ~2 ms move)
        parent.mkdir(exist_ok=True)
        group = parent / name
        group.mkdir()
        cgroups.paths.append(str(group))
        if controller == "memory":
            _write(group / "memory.limit_in_bytes", str(limits.memory_bytes))
            # no swap either, where swap accounting exists
            _write(group / "memory.memsw.limit_in_bytes", str(limits.memory_bytes), False)
            _write(group / "memory.swappiness", "0", required=False)
        elif controller == "pids":
            _write(group / "pids.max", str(limits.max_processes))
        elif controller == "cpu":
            period = 100_000
            _write(group / "cpu.cfs_period_us", str(period), required=False)
            _write(group / "cpu.cfs_quota_us", str(int(limits.cpus * period)), required=False)


def _read(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []
