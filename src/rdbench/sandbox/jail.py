"""One-shot bubblewrap jails: run one untrusted command with nothing but what it needs.

Scorers use this to run an agent's solution outside the agent's own sandbox: the
solution sees a read-only copy of the workspace and the inputs the trusted scorer hands
it, never the hidden expected results, the network or the harness's environment.
"""

from __future__ import annotations

import marshal
import os
import stat
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdbench.errors import InvalidSubmission
from rdbench.sandbox.policy import (
    JAIL_HOST_UID,
    POLICY,
    SAFE_ENV,
    SANDBOX_HOME,
    SANDBOX_UID,
    bwrap_path,
    parent_dir_args,
)

_SYSTEM_RO = list(POLICY.system_ro)
# Inside the jail (as namespace root, root mode only): forbid nested user namespaces,
# then become uid/gid 1000 with no capability and no way to gain one, and run the command.
_DROP = (
    "echo 0 > /proc/sys/user/max_user_namespaces || exit 125; "
    "exec setpriv --reuid=1000 --regid=1000 --clear-groups --bounding-set=-all "
    '--inh-caps=-all --no-new-privs -- "$@"'
)
DEFAULT_OUTPUT_LIMIT = 1 << 20

__all__ = [
    "SAFE_ENV",
    "SANDBOX_HOME",
    "SANDBOX_UID",
    "JailSpec",
    "bwrap_path",
    "jail_argv",
    "read_jail_output",
    "run_jailed",
]


def python_runtime_paths() -> list[str]:
    """Return the host directories that make this interpreter and its packages work.

    The harness's venv and its base interpreter are bound read-only at the same paths, so
    `sys.executable` runs inside with numpy (and torch, where installed). The rdbench source
    itself is not bound, so hidden task files in the package are not reachable.
    """
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    return sorted(p for p in paths if not any(p.startswith(s + "/") for s in _SYSTEM_RO))


def masked_package_paths(bound: list[str]) -> list[str]:
    """Return rdbench's own installed folders that lie inside the bound `bound` paths.

    A non-editable install puts rdbench (with every family's hidden scoring data) into the
    venv's site-packages, which sandboxes bind read-only so that python works inside. These
    folders are then covered with an empty tmpfs so the hidden data stays out of reach.
    """
    import rdbench

    package_dir = os.path.realpath(os.path.dirname(rdbench.__file__))
    return [package_dir] if any(package_dir.startswith(b + "/") for b in bound) else []


@dataclass
class JailSpec:
    """What a one-shot jail may see and use.

    Attributes:
        workspace: Host directory mounted at `/home/agent` (the working directory).
        workspace_writable: Mount the workspace read-write (default read-only).
        ro_binds: Extra read-only binds, host path -> path inside. A file is copied in
            (a symlink is refused); a directory is staged under a neutral name.
        rw_binds: Extra read-write binds, host directory -> path inside. The jail writes
            into a staged copy; when it ends, the host directory gets what it left,
            minus links, FIFOs, sockets and devices, with setuid/setgid bits cleared.
        env: Extra environment variables (on top of a fixed safe set).
        network: Keep the host network (never for agents; default off).
        memory_mb: Memory limit of the whole jail (cgroup; RLIMIT_AS per process only
            where no cgroup is usable), None for none. /tmp and /home count against it.
        max_processes: Process-count limit (cgroup pids; RLIMIT_NPROC fallback), None for none.
        cpus: CPU quota in cores (cgroup only), None for none.
        disk_mb: Size cap of each of the jail's tmpfs, /tmp and /home.
        output_limit: Most bytes of stdout, and of stderr, the caller receives; the rest
            is read and discarded.
        live_ro_binds: Host directories bound read-only as they are, not staged, host
            path -> path inside: files the caller adds while the jail runs appear inside.
        live_rw_binds: Host directories bound read-write as they are: the caller sees the
            jail's writes while it runs (and the jail may leave links there, so read with
            `read_jail_output`, which follows none).

    Live binds are for scorers that hold a protocol with a long-lived jail
    (optimize_kernel publishes each input after its clock starts and reads each output
    before the jail ends). Their host path shows in the jail's /proc/self/mountinfo, so
    bind only fresh temporary directories that hold nothing but the protocol's files.
    """

    workspace: Path | None = None
    workspace_writable: bool = False
    ro_binds: Mapping[str, str] = field(default_factory=dict)
    rw_binds: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    network: bool = False
    memory_mb: int | None = None
    max_processes: int | None = None
    cpus: float | None = None
    disk_mb: int = 1024
    output_limit: int = DEFAULT_OUTPUT_LIMIT
    live_ro_binds: Mapping[str, str] = field(default_factory=dict)
    live_rw_binds: Mapping[str, str] = field(default_factory=dict)


def _as_root() -> bool:
    # not RDBENCH_SANDBOX_ROOTLESS: as root, bwrap's own --uid would map 1000 to host root
    return os.geteuid() == 0


def jail_argv(spec: JailSpec, argv: Sequence[str]) -> list[str]:
    """Return the full command line that runs `argv` jailed (see `_jail_run`).

    The command line starts a small host process that stages the binds, maps the jail's
    user to an unprivileged host id, applies the cgroup limits, bounds the output and
    runs bwrap; it exits with the command's status (125: the jail could not be set up).

    Raises:
        SandboxUnavailable: bwrap is not installed.
    """
    as_root = _as_root()
    mb = 1024 * 1024
    args = [bwrap_path(), "--die-with-parent", "--new-session"]
    args += POLICY.namespace_args(network=spec.network)
    if as_root:
        # we write the maps ourselves (1000 -> JAIL_HOST_UID); CAP_SYS_RESOURCE lets the
        # jail's first process forbid nested user namespaces before it drops to uid 1000
        args += ["--cap-add", "CAP_SYS_RESOURCE"]
    else:
        args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--disable-userns"]
    args += ["--hostname", "sandbox"]
    args += POLICY.system_mount_args()
    size = str(spec.disk_mb * mb)
    args += ["--proc", "/proc", "--dev", "/dev"]
    # world-writable /tmp (the jailed uid does not own the tmpfs roots bwrap makes)
    args += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    args += ["--size", size, "--tmpfs", "/home"]
    # After the tmpfs mounts: a venv that lives under /tmp or /home (a CI checkout, say)
    # must be bound on top of the private tmpfs, not hidden beneath it.
    runtime = python_runtime_paths()
    made: set[str] = set()
    for path in runtime:
        args += parent_dir_args(path, made)
        args += ["--ro-bind", path, path]
    for path in masked_package_paths(runtime):
        args += ["--tmpfs", path]
    binds: list[tuple[str, str, str]] = []
    if spec.workspace is not None:
        kind = "rw" if spec.workspace_writable else "ro"
        binds.append((kind, os.path.abspath(spec.workspace), SANDBOX_HOME))
    binds += [("ro", os.path.abspath(h), str(i)) for h, i in spec.ro_binds.items()]
    binds += [("rw", os.path.abspath(h), str(i)) for h, i in spec.rw_binds.items()]
    binds += [("live-ro", os.path.abspath(h), str(i)) for h, i in spec.live_ro_binds.items()]
    binds += [("live-rw", os.path.abspath(h), str(i)) for h, i in spec.live_rw_binds.items()]
    for _, _, inside in binds:
        args += parent_dir_args(inside, made)
    tail = [] if spec.workspace is not None else ["--perms", "0777", "--dir", SANDBOX_HOME]
    tail += ["--chdir", SANDBOX_HOME, "--clearenv"]
    env = POLICY.base_env(os.path.dirname(sys.executable))
    env.update(spec.env)
    for key, value in env.items():
        tail += ["--setenv", key, value]
    inner = ["/bin/sh", "-c", _DROP, "rdbench-jail", *argv] if as_root else list(argv)
    limits = None
    if spec.memory_mb is not None or spec.max_processes is not None or spec.cpus is not None:
        limits = {
            "memory_bytes": (spec.memory_mb or 1 << 20) * mb,
            "max_processes": spec.max_processes or 1 << 20,
            "cpus": spec.cpus or float(os.cpu_count() or 1),
        }
    rlimits = []
    if spec.memory_mb is not None:
        rlimits.append(f"--as={spec.memory_mb * mb}")
    if spec.max_processes is not None:
        rlimits.append(f"--nproc={spec.max_processes}")
    plan = {
        "bwrap": args,
        "binds": binds,
        "tail": tail,
        "inner": inner,
        "as_root": as_root,
        "host_uid": JAIL_HOST_UID if as_root else os.geteuid(),
        "limits": limits,
        "rlimits": rlimits,
        "output_limit": int(spec.output_limit),
    }
    launcher = [sys.executable, "-I", "-m", "rdbench.sandbox._jail_run"]
    return [*launcher, marshal.dumps(plan).hex()]


def run_jailed(
    spec: JailSpec,
    argv: Sequence[str],
    *,
    timeout: float,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` in a one-shot jail and wait for it.

    Returns:
        The completed process: stdout and stderr as bytes, each at most
        `spec.output_limit` long (the command's status; 125 if the jail could not start).

    Raises:
        SandboxUnavailable: bwrap is missing.
        subprocess.TimeoutExpired: the command ran past `timeout` (it is killed).
    """
    return subprocess.run(
        jail_argv(spec, argv),
        input=input,
        # never the harness's own stdin, which may be the user's terminal
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def read_jail_output(
    path: str | os.PathLike[str], *, max_bytes: int, base: str | os.PathLike[str] | None = None
) -> bytes:
    """Return the content of a file a jail wrote, without following any link.

    Family scorers must read what the agent's code produced with this, never with
    `open()` / `Path.read_bytes()`: a jailed program can leave a symlink (to any file the
    scorer may read, e.g. /etc/shadow) or a FIFO (which would hang the scorer) where its
    output should be. The file is opened with O_NOFOLLOW and O_NONBLOCK, checked to be a
    regular file with `fstat`, and read up to `max_bytes`. With `base`, `path` is taken
    relative to it and every directory on the way is opened without following links too
    (use it when the path has components the jail could have made).

    Returns:
        The file's bytes.

    Raises:
        InvalidSubmission: the file is missing, a link, not a regular file, or larger
            than `max_bytes` (the message names the file, never its target).
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    dir_fd = None
    try:
        if base is not None:
            parts = Path(name).parts
            if Path(name).is_absolute() or ".." in parts or not parts:
                raise InvalidSubmission(f"{name}: not a plain relative path")
            dir_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            for part in parts[:-1]:
                next_fd = os.open(part, flags | os.O_DIRECTORY, dir_fd=dir_fd)
                os.close(dir_fd)
                dir_fd = next_fd
            name = parts[-1]
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError as ex:
        raise InvalidSubmission(f"{os.fspath(path)} is missing") from ex
    except OSError as ex:  # ELOOP: a symlink; ENOTDIR: a link on the way
        raise InvalidSubmission(f"{os.fspath(path)} is not a regular file") from ex
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidSubmission(f"{os.fspath(path)} is not a regular file")
        if st.st_size > max_bytes:
            raise InvalidSubmission(f"{os.fspath(path)} is larger than {max_bytes} bytes")
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise InvalidSubmission(f"{os.fspath(path)} is larger than {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
