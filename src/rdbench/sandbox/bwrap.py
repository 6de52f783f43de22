"""One long-lived bwrap sandbox: start it, run requests in it, destroy it.

How a sandbox is built (see docs/sandbox.md for the whole picture):

1. The harness creates the sandbox's runtime directory and a listening unix socket in it.
2. bwrap starts with new user, mount, PID, IPC, UTS, network (and cgroup) namespaces, a
   root of its own (host /usr and /lib* read-only, a minimal synthesized /etc, the harness
   venv and its base interpreter read-only), size-limited tmpfs for /home/agent and /tmp,
   a fresh /proc and /dev, and a clean environment. It blocks (`--userns-block-fd`)
   until the harness has moved it into the sandbox's cgroups and, when the harness is
   root, written the user-namespace maps: uid/gid 1000 inside = 65534 (nobody) on the
   host, 0 = 0 only so that bwrap can set up the mounts.
3. The sandbox's PID 1 is `_server.py` (see there): it reads the sandbox's secret key
   from a pipe, closes every other inherited fd, and as namespace root chowns the
   workspace, takes `lo` down unless loopback was asked for, disables nested user
   namespaces and keeps only CAP_SETUID/CAP_SETGID (it stays namespace root, out of the
   agent's reach); it is non-dumpable, sets the rlimits and forks the supervisors that
   accept requests on the inherited socket, each becoming uid 1000 with no capabilities.
4. Every exec/read/write is one connection to that socket carrying the request's stdio
   file descriptors and a fresh nonce; each reply is tagged with an HMAC of the key,
   the nonce and the reply (`_Connection.verify`), so nothing but a supervisor can answer.

Without root, bwrap maps the harness's uid to 1000 itself (the usual rootless setup) and
the steps that need namespace root are skipped (`lo` stays up in the empty network
namespace; nested user namespaces stay allowed).
"""

from __future__ import annotations

import array
import fcntl
import functools
import hashlib
import hmac
import json
import marshal
import os
import secrets
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from rdbench.errors import SandboxUnavailable
from rdbench.sandbox import cgroups
from rdbench.sandbox.config import BwrapConfig
from rdbench.sandbox.jail import masked_package_paths
from rdbench.sandbox.policy import (
    POLICY,
    SANDBOX_HOME,
    SANDBOX_HOST_UID,
    SANDBOX_UID,
    bwrap_path,
    parent_dir_args,
)
from rdbench.sandbox.runtime import SandboxRecord, destroy, process_start_time
from rdbench.sandbox.staging import stage

# Host uid/gid the sandbox user (1000 inside) maps to when the harness runs as root.
HOST_UID_WHEN_ROOT = SANDBOX_HOST_UID
_SYSTEM_RO = list(POLICY.system_ro)
_PASSWD = (
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    f"agent:x:{SANDBOX_UID}:{SANDBOX_UID}:agent:{SANDBOX_HOME}:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
_GROUP = f"root:x:0:\nagent:x:{SANDBOX_UID}:\nnogroup:x:65534:\n"
_HOSTS = "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost\n"
_SERVER_SOURCE = Path(__file__).with_name("_server.py")
# Init runs from code compiled once by the harness (same interpreter): compiling its
# source in every sandbox would add milliseconds to each start.
_INIT_LOADER = (
    "import marshal; "
    "exec(marshal.load(open('/.rdbench/init.bin', 'rb')), {'__name__': '__main__'})"
)
_START_TIMEOUT = 30.0
_MAX_REPLY = 1 << 20  # longest JSON line accepted from a supervisor
_TAG_LEN = 64  # hex HMAC-SHA256 in front of every authenticated reply line


class ForgedReply(ConnectionError):
    """A reply on the control channel did not carry the sandbox's tag (not its supervisor)."""


def check_host_settings() -> None:
    """Refuse host settings under which the agent could attach to a supervisor.

    With fs.suid_dumpable = 1 every process becomes dumpable again when it changes its
    uid, so a supervisor dropping to uid 1000 would be open to ptrace for an instant.

    Raises:
        SandboxUnavailable: fs.suid_dumpable is 1.
    """
    try:
        value = Path("/proc/sys/fs/suid_dumpable").read_text().strip()
    except OSError:
        return
    if value == "1":
        raise SandboxUnavailable(
            "fs.suid_dumpable = 1 would let sandboxed processes trace the sandbox's "
            "supervisors: run `sudo sysctl -w fs.suid_dumpable=0` (or 2)"
        )


def sandbox_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment every command in a sandbox starts from (an allow-list).

    The harness's own environment is never consulted: no API keys, tokens or HOME leak.
    """
    env = POLICY.base_env(os.path.dirname(sys.executable))
    env["SHELL"] = "/bin/bash"
    env["LOGNAME"] = "agent"
    if extra:
        env.update(extra)
    return env


def _python_paths() -> list[str]:
    """Return the host directories the harness interpreter needs (venv and its base)."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}
    paths.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    keep = [p for p in paths if not any(p == s or p.startswith(s + "/") for s in _SYSTEM_RO)]
    return sorted(set(keep))


@functools.lru_cache(maxsize=1)
def _server_code() -> bytes:
    """Return init's code object, compiled and marshalled (cached per process)."""
    source = _SERVER_SOURCE.read_text(encoding="utf-8")
    return marshal.dumps(compile(source, "/.rdbench/init.py", "exec"))


def _has_controlling_tty() -> bool:
    """Return True when this process has a controlling terminal."""
    try:
        os.close(os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _detach_options(has_tty: bool) -> dict[str, object]:
    """Return the Popen options that put the sandbox in its own process group.

    With a controlling terminal the child also gets its own session (`setsid`), which
    detaches it from the terminal; `process_group` must then stay unset, since a session
    leader cannot `setpgid` and Popen would fail with EPERM.
    """
    if has_tty:
        return {"start_new_session": True}
    return {"process_group": 0}


def _data_fd(content: bytes) -> int:
    """Return the read end of a pipe already holding `content` (for bwrap --*-data)."""
    r, w = os.pipe()
    if len(content) > 60_000:
        # bwrap reads the pipe only after we have written everything: make it fit
        fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
    if len(content) > 1 << 20:
        raise ValueError("data too large for a pipe")
    os.write(w, content)
    os.close(w)
    return r


@dataclass
class ExecOutcome:
    """The result of one request to the sandbox's init process."""

    returncode: int | None = None
    killed: bool = False
    error: dict[str, Any] | None = None
    size: int | None = None


@dataclass
class BwrapSandbox:
    """A running bwrap sandbox and how to reach it."""

    config: BwrapConfig
    record: SandboxRecord
    process: subprocess.Popen[bytes] | None = None
    cgroup_set: cgroups.CgroupSet | None = None
    rlimits: dict[str, int] = field(default_factory=dict)
    # the secret the supervisors tag their replies with (never on disk, never in argv)
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @property
    def id(self) -> str:
        """The sandbox id (also the name of its runtime directory)."""
        return self.record.id

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def start(
        cls, config: BwrapConfig, *, task: str = "", sample: str = "", cgroup_version: str
    ) -> BwrapSandbox:
        """Start a sandbox and wait until its init process accepts requests.

        Returns:
            The running sandbox.

        Raises:
            SandboxUnavailable: bwrap is missing, cannot create namespaces, or cgroups fail.
        """
        sandbox_id = f"sb-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
        record = SandboxRecord(
            id=sandbox_id,
            task=task,
            sample=sample,
            created=time.time(),
            harness_pid=os.getpid(),
            harness_start=process_start_time(os.getpid()),
        )
        record.directory.mkdir(mode=0o700)
        self = cls(config=config, record=record)
        try:
            await self._start(cgroup_version)
        except BaseException:
            self.destroy()
            raise
        return self

    async def _start(self, cgroup_version: str) -> None:
        config = self.config
        mb = 1024 * 1024
        self.cgroup_set = cgroups.create(
            self.id,
            cgroups.Limits(config.memory_mb * mb, config.max_processes, config.cpus),
            cgroup_version,
        )
        self.record.cgroups = list(self.cgroup_set.paths)
        self.record.save()
        rlimits = {"RLIMIT_FSIZE": config.file_size_mb * mb, "RLIMIT_CORE": 0}
        if cgroup_version == "none":
            # last resort without cgroups: per-process address space, per-uid processes
            rlimits["RLIMIT_AS"] = config.memory_mb * mb
            rlimits["RLIMIT_NPROC"] = config.max_processes
        self.rlimits = rlimits

        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.record.socket_path))
        listener.listen(128)
        # RDBENCH_SANDBOX_ROOTLESS=1 takes the unprivileged path even as root (for tests)
        as_root = os.geteuid() == 0 and os.environ.get("RDBENCH_SANDBOX_ROOTLESS") != "1"
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        ready_r, ready_w = os.pipe()
        # init reads the key from a pipe: argv is readable inside (/proc/1/cmdline)
        key_fd = _data_fd(self.key)
        data_fds: list[int] = [key_fd]
        try:
            argv, bwrap_data = self._argv(info_w, block_r, as_root)
            data_fds += bwrap_data
            settings = {
                "home": SANDBOX_HOME,
                "network": config.network,
                "rlimits": rlimits,
                "listen_fd": listener.fileno(),
                "key_fd": key_fd,
            }
            encoded = marshal.dumps(settings).hex()
            argv += [sys.executable, "-I", "-S", "-c", _INIT_LOADER, encoded]
            log = open(self.record.directory / "bwrap.log", "wb")
            # the listening socket keeps its fd number inside; everything else is closed
            listen_fd = listener.fileno()
            try:
                self.process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=ready_w,
                    stderr=log,
                    env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                    pass_fds=(info_w, block_r, listen_fd, *data_fds),
                    # detach from the harness's controlling terminal, if it has one (a
                    # sandboxed /dev/tty must not reach it: TIOCSTI); setsid() is skipped
                    # otherwise because it costs ~7 ms where sched autogroup is on.
                    # setsid() already makes a new process group, and a session leader
                    # may not call setpgid() (EPERM), so only one of the two is asked for.
                    **_detach_options(_has_controlling_tty()),
                    cwd="/",
                )
            except OSError as ex:
                raise SandboxUnavailable(f"cannot run bwrap: {ex}") from ex
            finally:
                log.close()
            for fd in (info_w, block_r, ready_w, *data_fds):
                os.close(fd)
            info_w = block_r = ready_w = -1
            data_fds = []
            self.record.bwrap_pid = self.process.pid
            self.record.bwrap_start = process_start_time(self.process.pid)
            info = await self._read_json(info_r)
            if info is None:
                raise self._start_failure()
            child = int(info["child-pid"])
            self.record.init_pid = child
            self.record.init_start = process_start_time(child)
            self.record.save()
            if as_root:
                for kind in ("uid", "gid"):
                    Path(f"/proc/{child}/{kind}_map").write_text(
                        f"0 0 1\n{SANDBOX_UID} {HOST_UID_WHEN_ROOT} 1\n"
                    )
            # both bwrap processes join the cgroups before anything else is forked
            # bwrap's child (the sandbox's PID 1) joins the cgroups before it forks
            # anything; bwrap's own waiting process stays out (each move costs ~2 ms)
            self.cgroup_set.add(child)
            if as_root:
                try:
                    # keep the init process out of the OOM killer's way; its children reset to 0
                    Path(f"/proc/{child}/oom_score_adj").write_text("-1000")
                except OSError:
                    pass
            os.write(block_w, b"1")
            ready = await self._read_some(ready_r, _START_TIMEOUT)
            if ready != b"R":
                raise self._start_failure()
        finally:
            for fd in (info_r, info_w, block_r, block_w, ready_r, ready_w, *data_fds):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            listener.close()

    def _argv(self, info_fd: int, block_fd: int, as_root: bool) -> tuple[list[str], list[int]]:
        """Return bwrap's command line (up to `--`) and the data fds it reads."""
        config = self.config
        mb = 1024 * 1024
        args = [bwrap_path(), "--die-with-parent", "--unshare-user"]
        if as_root:
            # we write the uid/gid maps ourselves (see module docstring)
            args += ["--userns-block-fd", str(block_fd)]
            # init needs it (as namespace root only) to forbid nested user namespaces
            args += ["--cap-add", "CAP_SYS_RESOURCE"]
        else:
            args += ["--block-fd", str(block_fd), "--uid", str(SANDBOX_UID)]
            args += ["--gid", str(SANDBOX_UID), "--disable-userns"]
        args += ["--info-fd", str(info_fd), "--as-pid-1"]
        # --unshare-user is already there (it must precede --userns-block-fd's use)
        args += [a for a in POLICY.namespace_args() if a != "--unshare-user"]
        args += ["--hostname", "sandbox"]
        args += POLICY.system_mount_args()
        data_fds = []
        for content, dest in (
            (_PASSWD.encode(), "/etc/passwd"),
            (_GROUP.encode(), "/etc/group"),
            (_HOSTS.encode(), "/etc/hosts"),
            (b"sandbox\n", "/etc/hostname"),
            (_server_code(), "/.rdbench/init.bin"),
        ):
            fd = _data_fd(content)
            data_fds.append(fd)
            mode = "0600" if dest.startswith("/.rdbench") else "0644"
            args += ["--perms", mode, "--ro-bind-data", str(fd), dest]
        args += ["--proc", "/proc", "--dev", "/dev"]
        size = str(config.disk_mb * mb)
        args += ["--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/dev/shm"]
        # /var/tmp: where Inspect injects its sandbox tools (bash_session, text_editor)
        args += ["--perms", "0755", "--dir", "/var", "--size", size, "--tmpfs", "/var/tmp"]
        # /opt (the agent's): where Inspect's human_cli installs its `task` command
        args += ["--size", str(64 * mb), "--tmpfs", "/opt"]
        args += ["--size", size, "--tmpfs", SANDBOX_HOME]
        # After the tmpfs mounts: a venv under /tmp, /var/tmp, /opt or /home (a CI checkout,
        # say) must be bound on top of the private tmpfs, not hidden beneath it.
        made: set[str] = set()
        for path in _python_paths():
            args += parent_dir_args(path, made)
            args += ["--ro-bind", path, path]
        # a non-editable install of rdbench inside the bound venv carries the hidden data
        for path in masked_package_paths(list(_python_paths())):
            args += ["--tmpfs", path]
        for i, (host, inside) in enumerate(config.ro_binds.items()):
            if not os.path.exists(host):
                raise SandboxUnavailable(f"ro_binds: host path {host} does not exist")
            if not os.path.isabs(inside) or os.path.normpath(inside) in ("/", "/proc", "/dev"):
                raise SandboxUnavailable(f"ro_binds: {inside!r} must be an absolute path "
                                         "other than /, /proc and /dev")
            # staged under a neutral name: mountinfo inside shows no host path
            staged = self.record.directory / f"ro{i}"
            try:
                stage(host, staged)
            except OSError as ex:
                raise SandboxUnavailable(f"ro_binds: cannot stage {host}: {ex}") from ex
            args += parent_dir_args(inside, made)
            args += ["--ro-bind", str(staged), inside]
        args += ["--chdir", SANDBOX_HOME, "--clearenv"]
        for key, value in sandbox_env().items():
            args += ["--setenv", key, value]
        args += ["--"]
        return args, data_fds

    def _start_failure(self) -> SandboxUnavailable:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait()
        try:
            log = (self.record.directory / "bwrap.log").read_text(errors="replace").strip()
        except OSError:
            log = ""
        detail = log.splitlines()[-1] if log else "no output"
        hint = ""
        if "namespace" in log.lower() or "permission" in log.lower():
            hint = (
                "; enable unprivileged user namespaces "
                "(sysctl -w kernel.unprivileged_userns_clone=1 or "
                "kernel.apparmor_restrict_unprivileged_userns=0)"
            )
        return SandboxUnavailable(f"bwrap sandbox failed to start: {detail}{hint}")

    @staticmethod
    async def _read_some(fd: int, timeout: float) -> bytes:
        os.set_blocking(fd, False)
        with anyio.move_on_after(timeout):
            while True:
                try:
                    return os.read(fd, 1)
                except BlockingIOError:
                    await anyio.wait_readable(fd)
        return b""

    @staticmethod
    async def _read_json(fd: int) -> dict[str, Any] | None:
        os.set_blocking(fd, False)
        buf = b""
        with anyio.move_on_after(_START_TIMEOUT):
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except BlockingIOError:
                    await anyio.wait_readable(fd)
                    continue
                if not chunk:
                    return None
                buf += chunk
                try:
                    return json.loads(buf)
                except ValueError:
                    continue
        return None

    def alive(self) -> bool:
        """Return True while the sandbox's init process runs."""
        return self.process is not None and self.process.poll() is None

    def destroy(self) -> None:
        """Kill every process of the sandbox and remove its cgroups and files (idempotent)."""
        if self.process is not None:
            for pid in (self.record.init_pid, self.process.pid):
                if pid > 0 and self.process.poll() is None:
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass
            try:
                # bwrap exits once its PID namespace is empty: the cgroups are then too
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        destroy(self.record)

    # ---------------------------------------------------------------- requests

    async def request(self, op: dict[str, Any], fds: list[int]) -> _Connection:
        """Send one request (and the fds it needs) to the sandbox; return the connection.

        A supervisor killed (by the agent) between taking the connection and reading the
        request breaks the pipe before anything ran: the request is then sent again.

        Raises:
            ConnectionError: the sandbox is not running.
        """
        for _ in range(4):
            try:
                return await self._request_once(op, fds)
            except BrokenPipeError:
                if not self.alive():
                    break
        raise ConnectionError(f"sandbox {self.id} is not running (broken pipe)")

    async def _request_once(self, op: dict[str, Any], fds: list[int]) -> _Connection:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            sock.setblocking(False)
            try:
                sock.connect(str(self.record.socket_path))
            except BlockingIOError:
                await anyio.wait_writable(sock)
            nonce = secrets.token_bytes(16)
            payload = marshal.dumps({**op, "nonce": nonce})
            # one message (fds, length, request) so the supervisor wakes up once
            message = b"\0" + struct.pack(">I", len(payload)) + payload
            rights = array.array("i", fds)
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)] if fds else []
            sent = sock.sendmsg([message], ancillary)
            data = memoryview(message)[sent:]
            while data:
                try:
                    data = data[sock.send(data) :]
                except BlockingIOError:
                    await anyio.wait_writable(sock)
        except (FileNotFoundError, ConnectionRefusedError) as ex:
            sock.close()
            raise ConnectionError(f"sandbox {self.id} is not running ({ex.strerror})") from ex
        except BaseException:
            sock.close()
            raise
        return _Connection(sock, self.key, nonce)


class _Connection:
    """The client end of one request: authenticated JSON-line replies from the supervisor.

    Every reply line is `<tag> <json>`, the tag being HMAC-SHA256 with the sandbox's key
    over the request's nonce, the reply's body (exec output, file content) and the JSON.
    """

    def __init__(self, sock: socket.socket, key: bytes, nonce: bytes) -> None:
        self.sock = sock
        self._key = key
        self._nonce = nonce
        self._buf = b""

    async def line(self) -> bytes | None:
        """Return the next raw reply line (not yet authenticated), or None when the
        supervisor went away or sent an over-long line."""
        while b"\n" not in self._buf:
            if len(self._buf) > _MAX_REPLY:
                return None
            chunk = await self._recv(65536)
            if chunk is None:
                return None
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    @staticmethod
    def peek(line: bytes) -> dict[str, Any] | None:
        """Return the JSON of a reply line WITHOUT authenticating it (to learn body sizes)."""
        try:
            reply = json.loads(line[_TAG_LEN + 1 :])
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    def verify(self, line: bytes, body: bytes = b"") -> dict[str, Any] | None:
        """Return the reply of `line` once its tag matches `body`; None when malformed.

        Raises:
            ForgedReply: the tag is wrong: someone other than the supervisor answered.
        """
        tag, header = line[:_TAG_LEN], line[_TAG_LEN + 1 :]
        expected = hmac.new(self._key, self._nonce + body + header, hashlib.sha256)
        if not hmac.compare_digest(tag, expected.hexdigest().encode()):
            raise ForgedReply("a reply on the sandbox's control channel failed authentication")
        return self.peek(line)

    async def reply(self, body: bytes = b"") -> dict[str, Any] | None:
        """Return the next authenticated reply (its body, if any, known to be `body`), or
        None when the supervisor went away.

        What comes out of the sandbox is untrusted: an over-long or malformed reply is
        treated like a vanished supervisor.

        Raises:
            ForgedReply: the reply was not sent by the sandbox's supervisor.
        """
        line = await self.line()
        return None if line is None else self.verify(line, body)

    async def read_exact(self, n: int) -> bytes | None:
        """Return the next `n` raw bytes, or None when the supervisor went away first."""
        chunks, have = [self._buf], len(self._buf)
        while have < n:
            chunk = await self._recv(max(n - have, 65536))
            if chunk is None:
                return None
            chunks.append(chunk)
            have += len(chunk)
        data = b"".join(chunks)
        self._buf = data[n:]
        return data[:n]

    async def _recv(self, size: int) -> bytes | None:
        """Return the next bytes received (at most `size`, waiting for some), or None when
        the supervisor closed the connection or it broke."""
        while True:
            try:
                chunk = self.sock.recv(size)
            except BlockingIOError:
                await anyio.wait_readable(self.sock)
                continue
            except OSError:
                return None
            return chunk or None

    def send_kill(self) -> None:
        """Ask the supervisor to kill the request's whole process tree."""
        try:
            self.sock.send(b"k")
        except OSError:
            pass

    def close(self) -> None:
        """Close the connection (the supervisor kills the tree if it still runs)."""
        self.sock.close()
