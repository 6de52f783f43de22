"""A scripted "human" for the baseline tests: types into a real terminal (tmux) logged into
the attempt's sandbox with the login command the agent publishes, and reads the screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

SOCKET_PREFIX = "rdbench-test-"
"""Every tmux server the tests start is named so; `{SOCKET_PREFIX}{pid}-{name}`."""


def tmux_socket_dir() -> Path:
    """Return the folder where `tmux -L NAME` puts its sockets (`$TMUX_TMPDIR/tmux-UID`)."""
    base = os.environ.get("TMUX_TMPDIR") or "/tmp"
    return Path(os.path.realpath(base)) / f"tmux-{os.getuid()}"


def own_sockets() -> set[Path]:
    """Return the tmux sockets of this test process's servers that exist now."""
    folder = tmux_socket_dir()
    if not folder.is_dir():
        return set()
    return set(folder.glob(f"{SOCKET_PREFIX}{os.getpid()}-*"))


class ScriptedHuman:
    """Drives a shell in a tmux session on a private tmux server."""

    def __init__(self, name: str) -> None:
        if shutil.which("tmux") is None:
            pytest.skip("tmux is not installed")
        self.socket = f"{SOCKET_PREFIX}{os.getpid()}-{name}"
        self.session = name
        self._marker = 0
        self.transcript: list[str] = []

    def _tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def login(self, command: str, timeout: float = 60) -> None:
        """Open a terminal running the login command; wait for the shell's prompt."""
        # a session that outlives dropped ones keeps the tmux server up between logins
        # (fails harmlessly when it exists already)
        self._tmux("new-session", "-d", "-s", "keepalive", "sleep 600", check=False)
        self._tmux("new-session", "-d", "-s", self.session, "-x", "160", "-y", "50", command)
        self.wait_for("Task Instructions", timeout)
        self.run("true")

    def drop(self) -> None:
        """Lose the connection: the terminal disappears without logging out."""
        self._tmux("kill-session", "-t", self.session, check=False)

    def close(self) -> None:
        """Kill the tmux server and remove its socket (tmux leaves the socket file behind)."""
        self._tmux("kill-server", check=False)
        (tmux_socket_dir() / self.socket).unlink(missing_ok=True)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-S", "-2000", "-t", self.session)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise TimeoutError(f"{text!r} did not appear; screen:\n{self.screen()}")

    def type(self, keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, "-l", keys)
        self._tmux("send-keys", "-t", self.session, "Enter")

    def run(self, command: str, timeout: float = 60) -> str:
        """Type `command`, wait until it finished; return what it printed."""
        self._marker += 1
        # The typed line shows `"__DO""NE_n__"`; only the output shows `__DONE_n__`.
        done = f"__DONE_{self._marker}__"
        self.type(f'{command}; echo "__DO""NE_{self._marker}__"')
        screen = self.wait_for(done, timeout)
        output = screen.split(f'NE_{self._marker}__"', 1)[-1].split(done, 1)[0]
        self.transcript.append(f"$ {command}\n{output}")
        return output


def wait_for_login_command(connect_file: Path, timeout: float = 30) -> str:
    """Wait until the agent publishes its login command; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if connect_file.is_file():
            info = json.loads(connect_file.read_text())
            if info["status"] == "running":
                return str(info["command"])
        time.sleep(0.1)
    raise TimeoutError(f"no login command in {connect_file}")


class Background:
    """Run the scripted human in a thread while the eval runs in the test's thread."""

    def __init__(self, script: Callable[[], None]) -> None:
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self._thread.start()

    def _run(self, script: Callable[[], None]) -> None:
        try:
            script()
        except BaseException as ex:  # reported by join()
            self.error = ex

    def join(self, timeout: float = 30) -> None:
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error
