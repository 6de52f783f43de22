"""One-shot bubblewrap jails: run one untrusted command with nothing but what it needs.

Scorers use this to run an agent's solution outside the agent's own sandbox: the
solution sees a read-only copy of the workspace and the inputs the trusted scorer hands
it, never the hidden expected results, the network or the harness's environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdbench.errors import SandboxUnavailable

# Host paths the tools inside need, bound read-only when they exist.
_SYSTEM_RO = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
# A minimal /etc: enough for the dynamic linker, locale and a user name, nothing else.
_ETC_RO = [
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/ssl/certs",
]
SANDBOX_UID = 1000
SANDBOX_HOME = "/home/agent"
SAFE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": SANDBOX_HOME,
    "USER": "agent",
    "TMPDIR": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "2",
}


def bwrap_path() -> str:
    """Return the path of the `bwrap` binary.

    Raises:
        SandboxUnavailable: bwrap is not installed.
    """
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: run `sudo apt-get install bubblewrap` "
            "(or scripts/setup.sh), or pass --sandbox local to run WITHOUT isolation"
        )
    return path


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
    """What a one-shot jail may see.

    Attributes:
        workspace: Host directory mounted at `/home/agent` (the working directory).
        workspace_writable: Mount the workspace read-write (default read-only).
        ro_binds: Extra read-only binds, host path -> path inside.
        rw_binds: Extra read-write binds, host path -> path inside.
        env: Extra environment variables (on top of a fixed safe set).
        network: Keep the host network (never for agents; default off).
        memory_mb: Address-space limit (rlimit) for the jailed process, None for none.
        max_processes: Process-count limit (rlimit), None for none.
    """

    workspace: Path | None = None
    workspace_writable: bool = False
    ro_binds: Mapping[str, str] = field(default_factory=dict)
    rw_binds: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    network: bool = False
    memory_mb: int | None = None
    max_processes: int | None = None


def jail_argv(spec: JailSpec, argv: Sequence[str]) -> list[str]:
    """Return the full command line (bwrap + options + argv) that runs `argv` jailed.

    Raises:
        SandboxUnavailable: bwrap is not installed.
    """
    args = [bwrap_path(), "--die-with-parent", "--new-session"]
    args += ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    args += ["--unshare-cgroup-try"]
    if not spec.network:
        args += ["--unshare-net"]
    args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
    for path in _SYSTEM_RO:
        if os.path.lexists(path):
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            else:
                args += ["--ro-bind", path, path]
    for path in _ETC_RO:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/home"]
    # After the tmpfs mounts: a venv that lives under /tmp or /home (a CI checkout, say)
    # must be bound on top of the private tmpfs, not hidden beneath it.
    runtime = python_runtime_paths()
    for path in runtime:
        args += ["--ro-bind", path, path]
    for path in masked_package_paths(runtime):
        args += ["--tmpfs", path]
    if spec.workspace is not None:
        flag = "--bind" if spec.workspace_writable else "--ro-bind"
        args += [flag, str(spec.workspace), SANDBOX_HOME]
    else:
        args += ["--dir", SANDBOX_HOME]
    for host, inside in spec.ro_binds.items():
        args += ["--ro-bind", str(host), str(inside)]
    for host, inside in spec.rw_binds.items():
        args += ["--bind", str(host), str(inside)]
    args += ["--chdir", SANDBOX_HOME, "--clearenv"]
    env = dict(SAFE_ENV)
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env['PATH']}"
    env.update(spec.env)
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--"]
    limits = []
    if spec.memory_mb is not None:
        limits.append(f"--as={spec.memory_mb * 1024 * 1024}")
    if spec.max_processes is not None:
        limits.append(f"--nproc={spec.max_processes}")
    if limits:
        args += ["prlimit", *limits, "--"]
    return args + list(argv)


def run_jailed(
    spec: JailSpec,
    argv: Sequence[str],
    *,
    timeout: float,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` in a one-shot jail and wait for it.

    Returns:
        The completed process (stdout and stderr captured as bytes).

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
