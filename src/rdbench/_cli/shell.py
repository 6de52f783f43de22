"""`rdbench shell`: open a shell in a running attempt's bwrap sandbox.

The shell is started by the sandbox's own init process (through its control socket in
the runtime dir, which only the harness's user can reach), so it runs exactly like the
agent's commands: same namespaces, uid 1000, cgroup limits and environment allow-list.
On a terminal the shell gets a fresh pseudo-terminal that this command relays; the host
terminal itself is never handed to the sandbox (that would allow TIOCSTI injection).
"""

from __future__ import annotations

import array
import json
import marshal
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any

import click

from rdbench.errors import UserError


def _records() -> list[Any]:
    from rdbench.sandbox.runtime import list_records

    return [r for r in list_records() if r.sandbox_alive()]


def _select(selector: str) -> Any:
    """Return the one running sandbox matching `selector` (id, id prefix, SAMPLE or SAMPLE/EPOCH).

    Raises:
        UserError: no sandbox, or more than one, matches.
    """
    records = _records()
    exact = [r for r in records if selector in (r.id, r.sample)]
    matches = exact or [
        r
        for r in records
        if r.id.startswith(selector)
        or r.sample.split("/")[0] == selector
        or r.sample.startswith(selector)
    ]
    if not matches:
        raise UserError(
            f"no running sandbox matches {selector!r}: run `rdbench shell` to list them"
        )
    if len(matches) > 1:
        ids = ", ".join(f"{r.id} ({r.sample or '-'})" for r in matches)
        raise UserError(f"{selector!r} matches {len(matches)} sandboxes ({ids}): give the id")
    return matches[0]


def _list() -> None:
    records = _records()
    if not records:
        click.echo("no running bwrap sandboxes")
        return
    click.echo(f"{'SANDBOX':<30} {'TASK':<28} {'SAMPLE/EPOCH':<16} {'AGE':>8}")
    now = time.time()
    for r in records:
        age = int(now - r.created)
        sample = r.sample or "-"
        click.echo(f"{r.id:<30} {r.task[:28]:<28} {sample:<16} {age // 60:>5}m{age % 60:02d}")


def _send_request(path: str, request: dict[str, Any], fds: list[int]) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as ex:
        sock.close()
        raise UserError(f"cannot reach the sandbox ({ex.strerror}): has it finished?") from ex
    sock.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    payload = marshal.dumps(request)
    sock.sendall(struct.pack(">I", len(payload)) + payload)
    return sock


class _Replies:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def read(self) -> list[dict[str, Any]] | None:
        """Return the complete replies now available, None when the supervisor is gone."""
        chunk = self.sock.recv(65536)
        if not chunk:
            return None
        self.buf += chunk
        out = []
        while b"\n" in self.buf:
            line, _, self.buf = self.buf.partition(b"\n")
            out.append(json.loads(line))
        return out


def _exit_code(replies: list[dict[str, Any]]) -> int | None:
    for reply in replies:
        if "error" in reply:
            raise UserError(f"cannot start the shell in the sandbox: {reply.get('text')}")
        if "exit" in reply:
            return int(reply["exit"])
        if reply.get("killed"):
            return 137
    return None


def _run_plain(path: str, request: dict[str, Any]) -> int:
    """Run with stdio relayed through pipes (this process's fds never enter the sandbox)."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    sock = _send_request(path, request, [in_r, out_w, err_w])
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    replies = _Replies(sock)
    sources = {0: in_w, out_r: 1, err_r: 2}
    code: int | None = None
    while code is None or out_r in sources or err_r in sources:
        waiting = [fd for fd in sources] + ([sock] if code is None else [])
        ready, _, _ = select.select(waiting, [], [])
        for fd in ready:
            if fd is sock:
                got = replies.read()
                code = 137 if got is None else _exit_code(got)
                continue
            data = os.read(fd, 65536)
            if data:
                try:
                    os.write(sources[fd], data)
                except BrokenPipeError:
                    pass
                continue
            if fd == 0:
                os.close(in_w)
            else:
                os.close(fd)
            del sources[fd]
    sock.close()
    return code


def _copy_winsize(src: int, dst: int) -> None:
    import fcntl
    import termios

    try:
        size = fcntl.ioctl(src, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(dst, termios.TIOCSWINSZ, size)
    except OSError:
        pass


def _run_pty(path: str, request: dict[str, Any]) -> int:
    """Run on a new pseudo-terminal relayed to this terminal; return the exit code."""
    import termios
    import tty

    master, slave = os.openpty()
    _copy_winsize(0, slave)
    sock = _send_request(path, {**request, "tty": True}, [slave, slave, slave])
    os.close(slave)
    replies = _Replies(sock)
    saved = termios.tcgetattr(0)
    signal.signal(signal.SIGWINCH, lambda *_: _copy_winsize(0, master))
    tty.setraw(0)
    code: int | None = None
    try:
        while code is None:
            ready, _, _ = select.select([0, master, sock], [], [])
            if 0 in ready:
                data = os.read(0, 4096)
                if not data:
                    break
                os.write(master, data)
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the shell closed the terminal
                    data = b""
                if data:
                    os.write(1, data)
            if sock in ready:
                got = replies.read()
                code = 137 if got is None else _exit_code(got)
        # flush what the shell wrote just before exiting
        while select.select([master], [], [], 0.05)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            os.write(1, data)
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, signal.SIG_DFL)
        sock.close()
        os.close(master)
    return 0 if code is None else code


@click.command("shell")
@click.argument("selector", required=False)
@click.option("-c", "--command", help="Run this shell command instead of an interactive shell.")
def shell(selector: str | None, command: str | None) -> None:
    """Open a shell in a running attempt's bwrap sandbox.

    SELECTOR is a sandbox id (or its prefix), a sample id, or SAMPLE/EPOCH. Without it,
    the running sandboxes are listed. The shell runs as the agent (uid 1000, cwd
    /home/agent) with the agent's limits and environment; exiting it leaves the
    sandbox running.
    """
    if selector is None:
        _list()
        return
    record = _select(selector)
    from rdbench.sandbox.bwrap import sandbox_env
    from rdbench.sandbox.jail import SANDBOX_HOME

    env = sandbox_env({"TERM": os.environ.get("TERM", "xterm-256color")})
    argv = ["bash", "-c", command] if command else ["bash", "-l"]
    request = {"op": "exec", "argv": argv, "cwd": SANDBOX_HOME, "env": env}
    path = str(record.socket_path)
    code = _run_pty(path, request) if os.isatty(0) else _run_plain(path, request)
    sys.exit(code)
