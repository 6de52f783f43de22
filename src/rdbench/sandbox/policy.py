"""The sandbox policy, defined once: what every bwrap sandbox and jail shows and hides.

`rdbench.sandbox.bwrap` (the long-lived sandbox), `rdbench.sandbox.jail` (one-shot jails
for scorers) and `rdbench.humans.local_sandbox` (the human fallback) all build their bwrap
command lines from this module: the read-only system mounts, the minimal /etc, the
environment allow-list, the namespaces, the in-sandbox user, and the provider names.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import PurePosixPath

from rdbench.errors import SandboxUnavailable

# Inspect sandbox provider names (the `--sandbox` choices map onto these).
BWRAP_PROVIDER = "bwrap"
HUMAN_LOCAL_PROVIDER = "rdbench_human_local"
LOCAL_PROVIDER = "local"

SANDBOX_UID = 1000
SANDBOX_HOME = "/home/agent"
# Host uid/gid a jail's user (1000 inside) maps to when the harness runs as root: a
# dedicated id, not root and not the long-lived sandbox's (65534, nobody).
JAIL_HOST_UID = 65533
SANDBOX_HOST_UID = 65534

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


@dataclass(frozen=True)
class SandboxPolicy:
    """What a bwrap sandbox or jail gets from the host.

    Attributes:
        system_ro: Host system trees bound read-only at the same path (symlinks copied).
        etc_ro: The few /etc entries bound read-only into an otherwise empty /etc.
        namespaces: bwrap's unshare flags (the network is added unless asked for).
        env: The environment allow-list every command starts from.
    """

    system_ro: tuple[str, ...] = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
    etc_ro: tuple[str, ...] = (
        "/etc/ld.so.cache",
        "/etc/ld.so.conf",
        "/etc/ld.so.conf.d",
        "/etc/alternatives",
        "/etc/localtime",
        "/etc/ssl/certs",
        "/etc/nsswitch.conf",
        "/etc/bash.bashrc",
        "/etc/profile",
        "/etc/inputrc",
        "/etc/mime.types",
        "/etc/os-release",  # Inspect's tool injection reads the distribution from it
        "/etc/debian_version",
    )
    namespaces: tuple[str, ...] = (
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    )
    env: tuple[tuple[str, str], ...] = tuple(SAFE_ENV.items())

    def namespace_args(self, network: bool = False) -> list[str]:
        """Return the unshare flags (plus `--unshare-net` unless `network`)."""
        return [*self.namespaces, *([] if network else ["--unshare-net"])]

    def system_mount_args(self) -> list[str]:
        """Return bwrap's arguments for the read-only system trees and the minimal /etc."""
        args: list[str] = []
        for path in self.system_ro:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
        args += ["--perms", "0755", "--dir", "/etc", "--perms", "0755", "--dir", "/etc/ssl"]
        for path in self.etc_ro:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        return args

    def base_env(self, python_bin: str) -> dict[str, str]:
        """Return the allow-listed environment with `python_bin` first on PATH."""
        env = dict(self.env)
        env["PATH"] = f"{python_bin}:{env['PATH']}"
        return env


POLICY = SandboxPolicy()


def parent_dir_args(path: str, made: set[str]) -> list[str]:
    """Return bwrap arguments creating `path`'s missing parents world-searchable (0755).

    bwrap copies the host's modes for the parents it creates, e.g. /root (0700), which the
    unprivileged user inside could not traverse. `made` (updated) skips parents already made.
    """
    args: list[str] = []
    parents = [str(p) for p in reversed(PurePosixPath(path).parents)][1:]
    for parent in parents:
        if parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", parent]
    return args


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
