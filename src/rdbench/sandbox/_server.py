"""The sandbox's init process: runs as PID 1 inside every bwrap sandbox.

This file is NOT imported by the harness. The harness compiles it once, hands the code
object to bwrap as a read-only data file and runs it with `python -I -S` inside the
sandbox, so it may only use the standard library.

Protocol (one connection per request, on an inherited listening unix socket): the client
sends one message: a byte carrying the request's file descriptors (SCM_RIGHTS), a 4-byte
big-endian length and the request, a `marshal`-encoded dict (requests only ever come from
the harness; json would add its import time to every start). Init keeps a few pre-forked
*supervisors* blocked in `accept` on the socket. The one that takes a connection serves
the request and answers with one JSON line (JSON, because the harness must parse what
comes out of the sandbox safely); it then serves again if the request left no process
behind, else it exits. Init forks replacements so that two stay idle.

- {"op": "exec", "argv", "cwd", "env", "capture": limit} with 0 fds (or 1: stdin)
  -> {"exit": rc, "out": n, "err": m} followed by n bytes of stdout and m of stderr
  (the last `limit` bytes of each). Without "capture", the 3 fds are the command's
  stdio and the answer is {"exit": rc}; "tty": true makes fd 0 its controlling terminal.
  When the client writes anything or closes the connection first (timeout, cancel,
  crash), the supervisor answers {"killing": true}, kills the command's whole process
  tree and answers {"killed": true}. The supervisor is a child subreaper, so double-forked and `setsid`
  descendants are re-parented to it and found by the kill.
- {"op": "read", "path", "limit"} + 3 fds -> file bytes on fd 1, then {"ok": size}.
- {"op": "write", "path"} + 3 fds -> file bytes read from fd 0, then {"ok": size}.
- Errors: {"error": "<ExceptionName>", "errno": n, "message": strerror, "text": str}.
- A request carrying a "nonce" (every request from the harness) gets reply lines
  `<tag> <json>`: the tag is HMAC-SHA256 with the sandbox's key (read from a pipe at
  start) over nonce || body || json, the body being the exec output or the file read.

Why an init process rather than `nsenter` per exec: every process the sandbox ever runs
descends from it, so it inherits the sandbox's cgroup, rlimits, uid and namespaces with
no wrapper processes, and an exec is one posix_spawn by an already running supervisor.
"""

# C modules (and ctypes) only: `socket`, `signal`, `subprocess` and `json` would add tens
# of milliseconds of imports to every sandbox start on a loaded machine
import _signal as signal
import _socket as socket
import _stat as stat
import _struct as struct
import ctypes
import marshal
import os
import select
import sys
import time

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
SANDBOX_UID = 1000
CAP_SETGID, CAP_SETUID = 6, 7

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


_KEY = b""  # the per-sandbox secret (read from a pipe at start; never in argv or a file)
_SANDBOX_ROOT = False  # init stays namespace root (with CAP_SETUID/SETGID only)


class _Mac:
    """HMAC-SHA256 with the sandbox's secret over `nonce || body || header` of one reply.

    The harness sends a fresh nonce with each request and accepts a reply only with the
    right tag: a process that somehow held the listening socket could not answer for
    the supervisors. (`_sha256` and not `hmac`/`hashlib`: their imports cost start time.)
    """

    def __init__(self, nonce: bytes) -> None:
        import _sha256

        key = _KEY.ljust(64, b"\0")
        self._outer = _sha256.sha256(bytes(b ^ 0x5C for b in key))
        self._inner = _sha256.sha256(bytes(b ^ 0x36 for b in key))
        self._inner.update(nonce)

    def update(self, data: bytes) -> None:
        self._inner.update(data)

    def tag(self, header: bytes) -> bytes:
        self._inner.update(header)
        self._outer.update(self._inner.digest())
        return self._outer.hexdigest().encode()


def _json_str(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _dumps(message: dict) -> bytes:
    """Encode a flat dict of str/int/bool/None as JSON (the json module is slow to import)."""
    parts = []
    for key, value in message.items():
        if value is None:
            text = "null"
        elif value is True or value is False:
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = _json_str(str(value))
        parts.append(f"{_json_str(key)}: {text}")
    return ("{" + ", ".join(parts) + "}").encode("utf-8", "replace")


def _line(message: dict, nonce: bytes | None, mac: _Mac | None = None) -> bytes:
    """Return one reply line: `<tag> <json>` when the request carried a nonce, else `<json>`.

    `mac` (already fed with the reply's body) authenticates a body; without it the tag
    covers the header only.
    """
    header = _dumps(message)
    if nonce is None:  # `rdbench shell`'s client (its stdio are its own fds)
        return header + b"\n"
    return (mac or _Mac(nonce)).tag(header) + b" " + header + b"\n"


def _send(conn: socket.socket, message: dict, nonce: bytes | None = None,
          mac: _Mac | None = None) -> None:
    try:
        conn.sendall(_line(message, nonce, mac))
    except OSError:
        pass


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    chunks = []
    while n > 0:
        chunk = conn.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("client closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _receive_request(conn: socket.socket) -> tuple[dict, list[int]]:
    fds: list[int] = []
    # close-on-exec: the fds reach a command only where they are dup2'ed to 0-2
    msg, ancdata, _flags, _addr = conn.recvmsg(
        1, socket.CMSG_SPACE(3 * 4), socket.MSG_CMSG_CLOEXEC
    )
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(struct.unpack(f"{len(data) // 4}i", data[: len(data) - len(data) % 4]))
    if not msg:
        raise EOFError("empty request")
    (length,) = struct.unpack(">I", _recv_exact(conn, 4))
    # requests come from the harness only (the socket is outside the sandbox): marshal
    # is safe here and, unlike json, costs no import time at sandbox start
    return marshal.loads(_recv_exact(conn, length)), fds


def _descendants(root: int) -> list[int]:
    """Return the pids of every live descendant of `root`, read from /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: split after the last ')'
        fields = data[data.rfind(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_tree() -> None:
    """SIGKILL every descendant of this supervisor until none is left."""
    me = os.getpid()
    for _ in range(200):
        pids = _descendants(me)
        if not pids:
            return
        # stop first so nothing forks while we walk the tree, then kill
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        _reap()
        time.sleep(0.002)


def _error(conn: socket.socket, ex: BaseException, nonce: bytes | None) -> None:
    _send(
        conn,
        {
            "error": type(ex).__name__,
            "errno": getattr(ex, "errno", None),
            "message": getattr(ex, "strerror", None) or str(ex),
            "text": str(ex),
        },
        nonce,
    )


class _Tail:
    """The last `limit` bytes written to it (the exec output limit keeps the tail)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        while self.size - len(self.chunks[0]) >= self.limit and len(self.chunks) > 1:
            self.size -= len(self.chunks.pop(0))

    def value(self) -> bytes:
        data = b"".join(self.chunks)
        return data[-self.limit :] if len(data) > self.limit else data


# Signals init ignores (and Python ignores at start): commands get the defaults back.
_DEFAULT_SIGNALS = {
    signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD
}


def _which(name: str, env: dict) -> str:
    """Resolve a command name through the request's PATH, as execvp would."""
    if "/" in name:
        return name
    for directory in env.get("PATH", "/usr/bin:/bin").split(":"):
        path = os.path.join(directory or ".", name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    raise FileNotFoundError(2, "No such file or directory", name)


def _spawn(req: dict, stdin: int, stdout: int, stderr: int) -> int:
    """Start the request's command with the given stdio; return its pid.

    posix_spawn (vfork+exec in glibc) in a new process group: no setsid, which costs
    ~7 ms where the kernel's sched autogroup is on. A terminal (rdbench shell) needs a
    session and a controlling tty, which only subprocess's preexec_fn can give.
    """
    argv, env, cwd = list(req["argv"]), dict(req["env"]), req["cwd"]
    if not argv:
        raise ValueError("empty command")
    if req.get("tty"):
        import subprocess

        def make_controlling_tty() -> None:
            import fcntl
            import termios

            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        return subprocess.Popen(
            argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd, env=env,
            start_new_session=True, preexec_fn=make_controlling_tty,
        ).pid
    os.chdir(cwd)  # the supervisor serves one request at a time; the child inherits it
    path = _which(argv[0], env)
    try:
        return os.posix_spawn(
            path,
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, stdin, 0),
                (os.POSIX_SPAWN_DUP2, stdout, 1),
                (os.POSIX_SPAWN_DUP2, stderr, 2),
            ],
            setpgroup=0,
            setsigdef=_DEFAULT_SIGNALS,
            setsigmask=(),
        )
    except OSError as ex:
        raise type(ex)(ex.errno, ex.strerror, argv[0]) from None


def _do_exec(conn: socket.socket, req: dict, fds: list[int]) -> None:
    """Run a command; with "capture", collect its output and send it with the exit code.

    Capture mode (the harness's exec) gets 0 or 1 fd (stdin) and answers with one JSON
    line {"exit", "out", "err"} followed by that many raw stdout and stderr bytes: the
    harness then waits on a single socket. Otherwise (rdbench shell) the 3 passed fds
    are the command's stdio.
    """
    nonce = req.get("nonce")
    capture = req.get("capture")
    pipes: list[int] = []
    try:
        if capture is not None:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            pipes = [out_r, out_w, err_r, err_w]
            stdin = fds[0] if fds else os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
            if not fds:
                pipes.append(stdin)
            pid = _spawn(req, stdin, out_w, err_w)
            for fd in (out_w, err_w):
                os.close(fd)
                pipes.remove(fd)
        else:
            pid = _spawn(req, fds[0], fds[1], fds[2])
    except (OSError, ValueError) as ex:
        _error(conn, ex, nonce)
        for fd in pipes:
            os.close(fd)
        return
    finally:
        for fd in fds:
            os.close(fd)
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    tails: dict[int, _Tail] = {}
    if capture is not None:
        for fd in (out_r, err_r):
            tails[fd] = _Tail(int(capture))
            poller.register(fd, select.POLLIN)
    open_streams = set(tails)
    rc: int | None = None
    while rc is None or open_streams:
        events = dict(poller.poll())
        if conn.fileno() in events:
            # the client asked for a kill (timeout) or went away (cancelled, crashed);
            # "killing" tells it at once that we are running (and not stopped)
            _send(conn, {"killing": True}, nonce)
            _kill_tree()
            _send(conn, {"killed": True}, nonce)
            for fd in pipes:
                os.close(fd)
            os.close(pidfd)
            return
        for fd in open_streams & events.keys():
            data = os.read(fd, 1 << 16)
            if data:
                tails[fd].write(data)
            else:
                poller.unregister(fd)
                open_streams.discard(fd)
        if pidfd in events and rc is None:
            poller.unregister(pidfd)
            rc = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    os.close(pidfd)
    # a signal death is reported the way a shell reports it (128 + signal)
    code = rc if rc >= 0 else 128 - rc
    if capture is None:
        _send(conn, {"exit": code}, nonce)
        return
    out, err = tails[out_r].value(), tails[err_r].value()
    for fd in pipes:
        os.close(fd)
    mac = None
    if nonce is not None:
        mac = _Mac(nonce)
        mac.update(out + err)
    header = _line({"exit": code, "out": len(out), "err": len(err)}, nonce, mac)
    try:
        conn.sendall(header + out + err)
    except OSError:
        pass


def _open_regular(path: str, flags: int) -> int:
    """Open `path` without blocking (a FIFO would) and return the fd of a regular file.

    Raises:
        OSError: the path is missing, a directory, or not a regular file (a FIFO, a
            device, a link to one of our own pipes through /proc/self/fd).
    """
    fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", path)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(22, "Not a regular file", path)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _do_read(conn: socket.socket, req: dict, fds: list[int]) -> None:
    nonce = req.get("nonce")
    out = fds[1]
    mac = _Mac(nonce) if nonce is not None else None
    try:
        fd = _open_regular(req["path"], os.O_RDONLY)
        try:
            st = os.fstat(fd)
            limit = req.get("limit")
            if limit is not None and st.st_size > limit:
                _send(conn, {"error": "OutputLimitExceededError", "errno": None,
                             "message": str(st.st_size)}, nonce)
                return
            size = 0
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                if limit is not None and size > limit:
                    _send(conn, {"error": "OutputLimitExceededError", "errno": None,
                                 "message": str(size)}, nonce)
                    return
                if mac is not None:
                    mac.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view):]
        finally:
            os.close(fd)
    except OSError as ex:
        _error(conn, ex, nonce)
        return
    finally:
        for f in fds:
            os.close(f)
    # the tag covers the content: the harness checks it against what it drained
    _send(conn, {"ok": size}, nonce, mac)


def _do_write(conn: socket.socket, req: dict, fds: list[int]) -> None:
    nonce = req.get("nonce")
    src = fds[0]
    path = req["path"]
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if os.path.isdir(path):
            raise IsADirectoryError(21, "Is a directory", path)
        # no O_TRUNC before we know it is a regular file (not a FIFO or a device)
        fd = _open_regular(path, os.O_WRONLY | os.O_CREAT)
        size = 0
        try:
            os.ftruncate(fd, 0)
            while True:
                chunk = os.read(src, 1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except OSError as ex:
        _error(conn, ex, nonce)
        return
    finally:
        for f in fds:
            os.close(f)
    _send(conn, {"ok": size}, nonce)


def _supervise(conn: socket.socket) -> None:
    try:
        req, fds = _receive_request(conn)
    except (EOFError, OSError, ValueError):
        return
    nonce = req.get("nonce")
    if len(fds) not in (0, 1, 3):
        _send(conn, {"error": "ValueError", "errno": None,
                     "message": "expected 0, 1 or 3 fds"}, nonce)
        return
    op = req.get("op")
    if op == "exec":
        _do_exec(conn, req, fds)
    elif op == "read":
        _do_read(conn, req, fds)
    elif op == "write":
        _do_write(conn, req, fds)
    else:
        _send(conn, {"error": "ValueError", "errno": None, "message": f"bad op {op!r}"}, nonce)


def _idle_supervisor(listener: socket.socket, taken_w: int) -> None:
    """Body of a pre-forked supervisor: serve connections one at a time.

    Forking (and warming up) happens ahead of time, off the requests' critical path. A
    supervisor serves another request only when the previous one left no process behind,
    so the processes an exec leaves running are never part of a later exec's tree.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # SIGPIPE stays ignored: a vanished client must not kill us before we kill the tree
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if _SANDBOX_ROOT:
        _become_sandbox_user()
    # stdio still lead to the harness (bwrap.log, the start pipe): a read_file of a link
    # to /proc/self/fd/2 must not reach a host file
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    # The first process a freshly forked Python spawns costs milliseconds (page faults
    # all over the copied address space); pay that now, off the request's critical path.
    null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    try:
        dev_null = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
        os.waitpid(os.posix_spawn("/bin/true", ["true"], {}, file_actions=dev_null), 0)
    except OSError:
        pass
    finally:
        os.close(null)
    me = os.getpid()
    while True:
        try:
            fd, _ = listener._accept()
        except InterruptedError:
            continue
        conn = socket.socket(fileno=fd)
        os.write(taken_w, struct.pack("i", me))
        _supervise(conn)
        conn.close()
        # Serve again only if the request left no process behind: a later timeout kills
        # this supervisor's whole subtree, which must not include an earlier request's.
        _reap()
        if _descendants(me):
            return
        os.write(taken_w, struct.pack("i", -me))


def _set_loopback(up: bool) -> None:
    """Bring `lo` up or down (bwrap always brings it up in a new network namespace)."""
    import fcntl

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock.fileno(), siocgifflags, ifreq))[1]
        flags = flags | iff_up if up else flags & ~iff_up
        fcntl.ioctl(sock.fileno(), siocsifflags, struct.pack("16sH14x", b"lo", flags))
    finally:
        sock.close()


def _disable_user_namespaces() -> None:
    """Forbid nested user namespaces: kernel attack surface that no task needs.

    Needs CAP_SYS_RESOURCE in our user namespace (bwrap is asked to keep it for us).
    """
    try:
        with open("/proc/sys/user/max_user_namespaces", "w") as f:
            f.write("0")
    except OSError:
        pass


def _capset(caps: int) -> None:
    """Keep exactly the capabilities `caps` (a bit mask) as effective and permitted."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)(Data(caps & 0xFFFFFFFF, caps & 0xFFFFFFFF, 0),
                      Data(caps >> 32, caps >> 32, 0))
    if _libc.capset(ctypes.byref(header), data) != 0:
        raise SystemExit(f"rdbench sandbox init: capset failed (errno {ctypes.get_errno()})")


def _become_sandbox_user() -> None:
    """Turn a freshly forked supervisor (namespace root) into uid/gid 1000, no capabilities.

    The harness protects init from the OOM killer (-1000); the supervisors and their
    commands must not inherit that. As namespace root (host uid 0) the supervisor owns
    its own /proc files even though it is not dumpable, so it can raise its
    oom_score_adj to 0 *before* it becomes uid 1000: no process the agent can reach is
    ever dumpable (a dumpable supervisor would hand the agent the listening socket
    through pidfd_getfd, or its memory through /proc/<pid>/mem).
    """
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
    except OSError:
        pass
    os.setgroups([])
    os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)  # clears every capability
    _prctl(PR_SET_DUMPABLE, 0)  # the kernel resets it from fs.suid_dumpable on setuid
    if os.getuid() != SANDBOX_UID or os.geteuid() != SANDBOX_UID:
        os._exit(1)


def _setup_as_namespace_root(settings: dict) -> None:
    """Finish the sandbox as root *inside* its user namespace; keep only CAP_SETUID/SETGID.

    Only reached when the harness runs as host root: bwrap then leaves the command as
    namespace root (host uid 0 mapped to 0). Init stays namespace root for its whole life,
    so that the agent (uid 1000) can neither signal nor trace it, and keeps only the two
    capabilities a new supervisor needs to become uid 1000 (`_become_sandbox_user`).
    """
    for path in (settings["home"], "/opt"):
        if os.path.isdir(path):
            os.chown(path, SANDBOX_UID, SANDBOX_UID)
            os.chmod(path, 0o755)
    for path in ("/tmp", "/dev/shm", "/var/tmp"):
        if os.path.isdir(path):
            os.chmod(path, 0o1777)
    if settings["network"] == "none":
        _set_loopback(False)
    _disable_user_namespaces()
    # no capability can ever come back: empty bounding set, no new privileges on exec
    for cap in range(64):
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _capset((1 << CAP_SETGID) | (1 << CAP_SETUID))
    global _SANDBOX_ROOT
    _SANDBOX_ROOT = True
    # a change of credentials may clear bwrap's --die-with-parent signal: set it again
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _close_inherited(keep: set[int]) -> None:
    """Close every fd bwrap and the harness left us except stdio and `keep`."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def main() -> None:
    global _KEY
    settings = marshal.loads(bytes.fromhex(sys.argv[1]))
    listen_fd = int(settings["listen_fd"])
    key_fd = int(settings["key_fd"])
    _KEY = os.read(key_fd, 64)
    # commands must inherit no host fd (bwrap's block/info pipes, the key pipe)
    _close_inherited({listen_fd})
    if os.geteuid() == 0:
        _setup_as_namespace_root(settings)
    # not dumpable: the agent (same uid) cannot ptrace us or open /proc/1/fd
    _prctl(PR_SET_DUMPABLE, 0)
    import resource

    for name, value in settings.get("rlimits", {}).items():
        limit = getattr(resource, name)
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass
    listener = socket.socket(fileno=listen_fd)
    os.set_inheritable(listen_fd, False)
    # as PID 1 ignore terminal signals (SIGKILL from inside never reaches PID 1 anyway)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    _serve(listener, int(settings.get("spare_supervisors", 2)))


def _serve(listener: socket.socket, spare: int) -> None:
    """Keep `spare` idle supervisors blocked in accept() on the listener, forever."""
    import gc

    # objects that exist now are never collected: forked children do not copy their pages
    gc.collect()
    gc.freeze()
    taken_r, taken_w = os.pipe()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    idle: set[int] = set()
    busy: set[int] = set()
    announced = False

    def on_child(*_: object) -> None:
        # as PID 1, reap everything that exits: supervisors and re-parented orphans
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            idle.discard(pid)  # a supervisor that finished or died (e.g. `kill -9 -1`)
            busy.discard(pid)

    signal.signal(signal.SIGCHLD, on_child)
    signal.set_wakeup_fd(wake_w)
    refill_at = 0.0
    while True:
        # refill right away when no supervisor is idle; otherwise a little later, so that
        # the fork does not compete for the CPU with the request that was just taken
        if len(idle) == 0 or (len(idle) < spare and time.monotonic() >= refill_at):
            while len(idle) < spare:
                try:
                    pid = os.fork()
                except OSError:
                    break  # out of processes (a fork bomb at the pids limit): retry later
                if pid == 0:
                    try:
                        signal.set_wakeup_fd(-1)
                        for fd in (taken_r, wake_r, wake_w):
                            os.close(fd)
                        _idle_supervisor(listener, taken_w)
                    finally:
                        os._exit(0)
                idle.add(pid)
        if not announced:
            # tell the harness we are ready, then let stdout go nowhere
            announced = True
            os.write(1, b"R")
            null = os.open("/dev/null", os.O_WRONLY)
            os.dup2(null, 1)
            os.close(null)
        wait = None if len(idle) >= spare else max(0.0, refill_at - time.monotonic()) or 0.2
        ready, _, _ = select.select([taken_r, wake_r], [], [], wait)
        if wake_r in ready:
            os.read(wake_r, 4096)  # a signal arrived; SIGCHLD already handled
        if taken_r in ready:
            data = os.read(taken_r, 4096)
            for (pid,) in struct.iter_unpack("i", data[: len(data) - len(data) % 4]):
                if pid > 0:
                    idle.discard(pid)
                    busy.add(pid)
                elif -pid in busy:  # back from a request, warm and ready (unless it died)
                    busy.discard(-pid)
                    idle.add(-pid)
            refill_at = time.monotonic() + 0.02


if __name__ == "__main__":
    main()
