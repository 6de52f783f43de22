"""Attacks on the one-shot scoring jails by the agent's code they run (issue 19).

A scorer runs the agent's solution in a jail on the host. The solution may try to gain
privileges there (setuid files, nested user namespaces), plant links to host files where
the scorer reads its outputs, exhaust the scorer (output floods, memory across
processes, the tmpfs) or learn host paths (mountinfo, then error messages). Each of these
worked against the jail before it was hardened.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rdbench.errors import InvalidSubmission
from rdbench.sandbox import JailSpec, run_jailed

AS_ROOT = os.geteuid() == 0
JAIL_HOST_UID = 65533  # rdbench.sandbox.policy.JAIL_HOST_UID (checked below)


def _sh(script: str, spec: JailSpec, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return run_jailed(spec, ["sh", "-c", script], timeout=timeout)


def test_outputs_are_unprivileged_and_hold_no_setuid_file_or_link(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    script = (
        "cp /bin/true /rdbench/out/suid && chmod 4755 /rdbench/out/suid && "
        "ln -s /etc/shadow /rdbench/out/model.pt && mkfifo /rdbench/out/fifo && "
        "mkdir /rdbench/out/sub && ln -s /etc /rdbench/out/sub/etc && id -u"
    )
    proc = _sh(script, JailSpec(rw_binds={str(out): "/rdbench/out"}))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == b"1000"
    made = out / "suid"
    assert made.lstat().st_mode & (stat.S_ISUID | stat.S_ISGID) == 0
    if AS_ROOT:
        assert made.lstat().st_uid == JAIL_HOST_UID  # never host root
        from rdbench.sandbox.policy import JAIL_HOST_UID as configured

        assert configured == JAIL_HOST_UID
    assert sorted(p.name for p in out.iterdir()) == ["sub", "suid"]
    assert list((out / "sub").iterdir()) == []


def test_nested_user_namespaces_are_refused() -> None:
    proc = _sh("unshare -U true && echo NESTED", JailSpec())
    assert b"NESTED" not in proc.stdout


def test_tmp_and_home_are_size_capped() -> None:
    proc = _sh("df -k /tmp /home | tail -2", JailSpec(disk_mb=64))
    sizes = [int(line.split()[1]) for line in proc.stdout.decode().splitlines()]
    assert sizes and all(size <= 64 * 1024 for size in sizes), proc.stdout


@pytest.mark.slow
def test_memory_limit_covers_all_processes_together() -> None:
    """Three processes of 120 MB each under a 200 MB limit: the cgroup stops them.

    (A per-process RLIMIT_AS, the old jail's only bound, lets each of them through.)
    """
    from rdbench.sandbox import cgroups

    if cgroups.detect() == "none":
        pytest.skip("no usable cgroups here: only per-process rlimits apply")
    program = textwrap.dedent(
        """
        import subprocess, sys
        hog = "b = bytearray(120 << 20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(2)"
        procs = [subprocess.Popen([sys.executable, "-c", hog]) for _ in range(3)]
        print(" ".join(str(p.wait()) for p in procs))
        """
    )
    proc = run_jailed(
        JailSpec(memory_mb=200, max_processes=64), [sys.executable, "-c", program], timeout=120
    )
    assert proc.stdout.strip() != b"0 0 0", proc.stderr


_FLOOD = textwrap.dedent(
    """
    import json, resource
    from rdbench.sandbox import JailSpec, run_jailed
    run_jailed(JailSpec(), ["true"], timeout=60)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    proc = run_jailed(JailSpec(), ["sh", "-c", "head -c 400000000 /dev/zero; "
                                   "head -c 400000000 /dev/zero >&2"], timeout=240)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"kb": after - before, "out": len(proc.stdout), "err": len(proc.stderr)}))
    """
)


@pytest.mark.slow
def test_an_output_flood_does_not_grow_the_scorer() -> None:
    """800 MB of output raise the scorer's peak memory by a few MB at most."""
    proc = subprocess.run(
        [sys.executable, "-c", _FLOOD], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["out"] <= 1 << 20 and report["err"] <= (1 << 20) + 100
    assert report["kb"] < 32 * 1024, report


def test_mountinfo_and_messages_show_no_host_path(tmp_path: Path) -> None:
    hidden = tmp_path / "family" / "hidden"
    public = tmp_path / "family" / "public"
    workspace = tmp_path / "workspace"
    for path in (hidden, public, workspace):
        path.mkdir(parents=True)
    (public / "inputs.txt").write_text("in")
    (workspace / "solution.py").write_text("print(open('/rdbench/data/inputs.txt').read())")
    (tmp_path / "family" / "runner.py").write_text(
        "raise SystemExit(open('/proc/self/mountinfo').read())"
    )
    spec = JailSpec(
        workspace=workspace,
        ro_binds={
            str(public): "/rdbench/data",
            str(tmp_path / "family" / "runner.py"): "/rdbench/runner.py",
        },
    )
    proc = run_jailed(spec, [sys.executable, "solution.py"], timeout=60)
    assert proc.stdout.strip() == b"in"
    leak = run_jailed(spec, [sys.executable, "/rdbench/runner.py"], timeout=60)
    assert b"/rdbench/data" in leak.stderr  # the probe did read mountinfo
    assert str(tmp_path).encode() not in leak.stderr
    assert b"family" not in leak.stderr and b"workspace" not in leak.stderr


def test_a_symlinked_bind_source_is_refused_not_followed(tmp_path: Path) -> None:
    """What a jail left as `model.pt -> /etc/shadow` must not reach the next jail."""
    secret = tmp_path / "secret"
    secret.write_text("host secret")
    os.symlink(secret, tmp_path / "model.pt")
    spec = JailSpec(ro_binds={str(tmp_path / "model.pt"): "/rdbench/model.pt"})
    proc = run_jailed(spec, ["cat", "/rdbench/model.pt"], timeout=60)
    assert b"host secret" not in proc.stdout
    assert proc.returncode == 125
    assert b"/rdbench/model.pt" in proc.stderr  # says what is wrong ...
    assert str(tmp_path).encode() not in proc.stderr  # ... without a host path


def test_live_binds_show_files_added_while_the_jail_runs(tmp_path: Path) -> None:
    """A protocol jail (optimize_kernel) sees inputs published after it started, and its
    outputs are on the host before it ends."""
    from rdbench.sandbox import jail_argv

    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir(mode=0o777)
    os.chmod(outputs, 0o777)
    spec = JailSpec(live_ro_binds={str(inputs): "/rdbench/in"},
                    live_rw_binds={str(outputs): "/rdbench/out"})
    script = "read go; cat /rdbench/in/x > /rdbench/out/y; echo done; read quit"
    proc = subprocess.Popen(jail_argv(spec, ["sh", "-c", script]), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        (inputs / "x").write_text("published late")
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"done\n", proc.stderr.read1(4096)
        assert (outputs / "y").read_text() == "published late"  # the jail still runs
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_a_symlinked_live_bind_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    spec = JailSpec(live_rw_binds={str(tmp_path / "link"): "/rdbench/out"})
    proc = run_jailed(spec, ["true"], timeout=60)
    assert proc.returncode == 125
    assert b"/rdbench/out" in proc.stderr and str(tmp_path).encode() not in proc.stderr


def test_read_jail_output_refuses_links_fifos_and_oversize(tmp_path: Path) -> None:
    from rdbench.sandbox import read_jail_output

    (tmp_path / "ok.txt").write_bytes(b"fine")
    os.symlink("/etc/passwd", tmp_path / "link")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "big").write_bytes(b"x" * 100)
    os.symlink("/etc", tmp_path / "dirlink")
    assert read_jail_output(tmp_path / "ok.txt", max_bytes=10) == b"fine"
    began = time.monotonic()
    for name in ("link", "fifo"):
        with pytest.raises(InvalidSubmission, match="not a regular file"):
            read_jail_output(tmp_path / name, max_bytes=1 << 20)
    assert time.monotonic() - began < 5
    with pytest.raises(InvalidSubmission, match="larger"):
        read_jail_output(tmp_path / "big", max_bytes=10)
    with pytest.raises(InvalidSubmission):
        read_jail_output("dirlink/passwd", max_bytes=1 << 20, base=tmp_path)
    with pytest.raises(InvalidSubmission, match="missing"):
        read_jail_output(tmp_path / "absent", max_bytes=10)
