"""Raise a timed jail's CPU priority, so that other work on a shared machine inflates the
times a timing family measures less.

Used by the timing families (optimize_kernel, optimize_training). Best effort: it needs
root (CAP_SYS_NICE) and the kernel's autogroup scheduler, and silently does nothing
without them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

#: Autogroup niceness of a timed jail's session (negative = higher priority): a session at
#: -20 outweighs about 87 sessions at nice 0.
PRIORITY_NICE = -20


def raise_session_priority(jail_pid: int, wait_s: float = 5.0, nice: int = PRIORITY_NICE) -> None:
    """Give the session of the jail started as `jail_pid` the autogroup niceness `nice`.

    The jail runs in a new session (`bwrap --new-session`), and Linux's autogroup scheduler
    shares the CPU fairly between sessions whatever a process's own niceness; so the
    session's autogroup niceness is raised instead, through /proc/<pid>/autogroup. Waits up
    to `wait_s` for the jail's session to appear. Returns nothing and raises nothing: not
    permitted, no autogroup, or the jail gone, it does nothing.
    """
    own = autogroup_of("self")
    if own is None:
        return  # no autogroup scheduling here (file absent or empty): nothing to do
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and _running(jail_pid):
        for pid in descendants(jail_pid):
            group = autogroup_of(str(pid))
            if group is None or group == own:
                continue  # gone, or has not yet started the jail's session
            try:
                Path(f"/proc/{pid}/autogroup").write_text(str(nice))
            except OSError:
                pass  # not permitted (no CAP_SYS_NICE), or gone
            return
        time.sleep(0.01)


def autogroup_of(pid: str) -> str | None:
    """Return the autogroup a process belongs to (e.g. "/autogroup-7897"), or None when the
    process is gone or the kernel reports none: with autogroup disabled (`noautogroup`, or
    kernel.sched_autogroup_enabled=0 on some kernels) /proc/<pid>/autogroup reads empty."""
    try:
        fields = Path(f"/proc/{pid}/autogroup").read_text().split()
    except OSError:
        return None
    return fields[0] if fields else None


def descendants(pid: int) -> list[int]:
    """Return the pids of every process below `pid` (from /proc's children lists)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.append(int(child))
            stack.append(int(child))
    return found


def _running(pid: int) -> bool:
    """Whether child `pid` has not exited yet (checked without reaping it)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False
