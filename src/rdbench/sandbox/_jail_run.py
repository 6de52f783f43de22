"""The host side of one jail run: `python -I -m rdbench.sandbox._jail_run PLAN`.

`jail.jail_argv` returns a command line that starts this module with the jail's plan
(hex-encoded marshal). It runs on the host, as the harness's user, for the lifetime of the
jail, and is what makes the jail as strict as the long-lived sandbox:

- it stages every bind under a root-only directory with neutral names (files copied,
  directories linked file by file), so the jail's /proc/self/mountinfo shows no host path
  and no symlink on the host is followed into the jail;
- as root it writes the jail's user-namespace maps itself: uid/gid 1000 inside is an
  unprivileged host id (`JAIL_HOST_UID`), never host root;
- it moves the jail into its own cgroups (memory, pids, cpu), removed when the jail
  ends (a watchdog process does it even when this process is SIGKILLed);
- it relays at most `output_limit` bytes of the jail's stdout and of its stderr and
  discards the rest, so a flood cannot grow the scorer's memory;
- after the jail is gone, it puts what the jail wrote into the read-write directories
  back in place, minus links, FIFOs, sockets and devices, with setuid/setgid bits cleared.

Exit status: the jailed command's (128 + N for a signal N), 125 when the jail could not
be set up (the reason on stderr).
"""

from __future__ import annotations

import json
import marshal
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from rdbench.errors import SandboxUnavailable
from rdbench.sandbox import cgroups
from rdbench.sandbox.runtime import runtime_dir
from rdbench.sandbox.staging import stage

_SETUP_FAILED = 125


def _sanitize(directory: Path) -> None:
    """Delete links, FIFOs, sockets and devices under `directory`; clear setuid/setgid."""
    for root, dirs, files in os.walk(directory, followlinks=False):
        for name in dirs + files:
            path = Path(root, name)
            st = path.lstat()
            if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
                if st.st_mode & 0o6000:
                    os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o6000)
            else:
                path.unlink()  # walk does not descend into symlinked directories
        dirs[:] = [d for d in dirs if not Path(root, d).is_symlink()]


def _mirror_back(stage: Path, host: Path) -> None:
    """Make host directory `host` hold what the jail left in `stage` (as a bind would)."""
    _sanitize(stage)
    for child in list(host.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    for child in stage.iterdir():
        shutil.move(str(child), str(host / child.name))


class _Plan:
    """The decoded plan and the resources this run created (removed by `cleanup`)."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.stage = runtime_dir() / f"jail-{secrets.token_hex(6)}"
        self.rw: list[tuple[Path, Path]] = []

    def bwrap_args(self) -> list[str]:
        """Return the bind arguments, staging every source under the stage directory."""
        self.stage.mkdir(mode=0o700)
        args: list[str] = []
        for i, (kind, host, inside) in enumerate(self.plan["binds"]):
            source = Path(host)
            if kind.startswith("live-"):
                args += self._live_bind(kind, source, inside)
                continue
            if kind == "rw" and (source.is_symlink() or not source.is_dir()):
                raise OSError(f"what the scorer binds at {inside} is not a directory")
            staged = self.stage / f"{kind}{i}"
            try:
                stage(source, staged)
            except OSError as ex:  # name the path inside only: the agent may see this
                reason = "a symlink" if source.is_symlink() else "missing or not a file"
                raise OSError(f"what the scorer binds at {inside} is {reason}") from ex
            if kind == "rw":
                os.chown(staged, self.plan["host_uid"], self.plan["host_uid"])
                self.rw.append((staged, source))
            args += ["--bind" if kind == "rw" else "--ro-bind", str(staged), inside]
        return args

    def _live_bind(self, kind: str, source: Path, inside: str) -> list[str]:
        """Return the arguments that bind directory `source` as it is (see JailSpec)."""
        # no symlink anywhere on the path: bwrap would follow it to wherever it points
        if os.path.realpath(source) != str(source) or not source.is_dir():
            raise OSError(f"what the scorer binds at {inside} is not a plain directory")
        if kind == "live-rw":
            os.chown(source, self.plan["host_uid"], self.plan["host_uid"])
            return ["--bind", str(source), inside]
        return ["--ro-bind", str(source), inside]

    def finish(self) -> None:
        """Put the read-write directories' contents back in place."""
        for staged, host in self.rw:
            _mirror_back(staged, host)

    def cleanup(self) -> None:
        """Remove the stage directory."""
        shutil.rmtree(self.stage, ignore_errors=True)


def _watchdog(paths: list[str], stage: Path) -> int:
    """Fork a process that removes the cgroups and the stage directory once this process
    is gone; return the fd whose closing (also by our death) tells it to."""
    r, w = os.pipe()
    if os.fork() == 0:
        try:
            os.close(w)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.setsid()
            os.read(r, 1)
            cgroups.destroy_paths(paths)
            shutil.rmtree(stage, ignore_errors=True)
        finally:
            os._exit(0)
    os.close(r)
    return w


def _read_info(fd: int) -> dict[str, Any]:
    data = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            raise OSError("bwrap exited during setup")
        data += chunk
        try:
            return json.loads(data)
        except ValueError:
            continue


def _relay(sources: dict[int, int], limit: int) -> None:
    """Copy each source fd to its target fd until EOF, at most `limit` bytes each."""
    import select

    left = {fd: limit for fd in sources}
    dropped = 0
    poller = select.poll()
    for fd in sources:
        poller.register(fd, select.POLLIN)
    open_fds = set(sources)
    while open_fds:
        for fd, _ in poller.poll():
            data = os.read(fd, 1 << 16)
            if not data:
                poller.unregister(fd)
                open_fds.discard(fd)
                continue
            keep = data[: left[fd]]
            dropped += len(data) - len(keep)
            left[fd] -= len(keep)
            view = memoryview(keep)
            try:
                while view:
                    view = view[os.write(sources[fd], view) :]
            except BrokenPipeError:
                left[fd] = 0
    if dropped:
        try:
            os.write(2, f"\n[rdbench jail: {dropped} bytes of output dropped]\n".encode())
        except OSError:
            pass


def run(plan: dict[str, Any]) -> int:
    """Run the jail of `plan`; return the exit status to exit with."""
    state = _Plan(plan)
    cgroup_set = cgroups.CgroupSet(version="none")
    watchdog = -1
    try:
        try:
            binds = state.bwrap_args()
            limits = plan["limits"]
            version = cgroups.detect() if limits else "none"
            if version != "none":
                cgroup_set = cgroups.create(state.stage.name, cgroups.Limits(**limits), version)
            watchdog = _watchdog(list(cgroup_set.paths), state.stage)
        except (OSError, SandboxUnavailable) as ex:
            os.write(2, f"rdbench jail: cannot set up the jail: {ex}\n".encode())
            return _SETUP_FAILED
        inner = list(plan["inner"])
        if version == "none" and plan["rlimits"]:
            inner = ["prlimit", *plan["rlimits"], "--", *inner]
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        argv = [*plan["bwrap"], *binds, "--info-fd", str(info_w)]
        if plan["as_root"]:
            argv += ["--userns-block-fd", str(block_r)]
        argv += plan["tail"] + ["--", *inner]
        proc = subprocess.Popen(
            argv,
            stdout=out_w,
            stderr=err_w,
            pass_fds=(info_w, block_r),
            start_new_session=True,
        )
        for fd in (info_w, block_r, out_w, err_w):
            os.close(fd)
        try:
            child = int(_read_info(info_r)["child-pid"])
            if plan["as_root"]:
                host = plan["host_uid"]
                for kind in ("uid", "gid"):
                    Path(f"/proc/{child}/{kind}_map").write_text(f"0 0 1\n1000 {host} 1\n")
            cgroup_set.add(child)
            os.write(block_w, b"1")
        except (OSError, ValueError, KeyError, SandboxUnavailable) as ex:
            proc.kill()
            os.write(2, f"rdbench jail: cannot start the jail: {ex}\n".encode())
        finally:
            for fd in (info_r, block_w):
                os.close(fd)
        _relay({out_r: 1, err_r: 2}, int(plan["output_limit"]))
        os.close(out_r)
        os.close(err_r)
        code = proc.wait()
        cgroup_set.destroy()  # anything the jail left running dies before we look
        state.finish()
        return code if code >= 0 else 128 - code
    finally:
        state.cleanup()
        cgroup_set.destroy()
        if watchdog >= 0:
            os.close(watchdog)


def main() -> None:
    """Entry point: decode the plan from argv[1] and exit with the jail's status."""
    # a caller's timeout kills us with SIGKILL (bwrap follows: --die-with-parent); a
    # SIGTERM or SIGINT should still clean up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    sys.exit(run(marshal.loads(bytes.fromhex(sys.argv[1]))))


if __name__ == "__main__":
    main()
