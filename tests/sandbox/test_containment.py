"""Hostile attempts from inside a bwrap sandbox: every one must be contained.

Each test plays an agent trying to get out (network, secrets, the harness, the host's
files, resources) and asserts that it failed. After every test an autouse fixture starts
a *new* sandbox and runs a command in it: the harness survived and the next sample works.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from inspect_ai.util import SandboxUserUnsupportedError

import rdbench
from rdbench.sandbox.config import BwrapConfig

pytestmark = pytest.mark.anyio


async def sh(  # type: ignore[no-untyped-def]
    sandbox, script: str, timeout: int | None = 30, **kwargs
):
    """Run a shell script in the sandbox and return its ExecResult."""
    return await sandbox.exec(["sh", "-c", script], timeout=timeout, **kwargs)


async def py(sandbox, code: str, timeout: int | None = 30):  # type: ignore[no-untyped-def]
    """Run Python code (the harness interpreter, as tasks do) in the sandbox."""
    return await sandbox.exec(["python", "-c", code], timeout=timeout)


@pytest.fixture(autouse=True)
async def next_sample_works(anyio_backend: str, open_sandbox):  # type: ignore[no-untyped-def]
    """After each attack: the harness is alive and a brand-new sandbox runs normally."""
    yield
    async with open_sandbox() as sandbox:
        result = await sandbox.exec(["sh", "-c", "echo ok; id -u"], timeout=30)
        assert result.stdout == "ok\n1000\n", result


# ----------------------------------------------------------------------- network


async def test_tcp_to_the_internet_fails(shared_sandbox) -> None:
    code = (
        "import socket\n"
        "s = socket.socket(); s.settimeout(3)\n"
        "try:\n    s.connect(('1.1.1.1', 80)); print('CONNECTED')\n"
        "except OSError as e:\n    print('blocked', e)\n"
    )
    result = await py(shared_sandbox, code)
    assert "blocked" in result.stdout and "CONNECTED" not in result.stdout


async def test_udp_send_fails(shared_sandbox) -> None:
    code = (
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "try:\n    s.sendto(b'x', ('8.8.8.8', 53)); print('SENT')\n"
        "except OSError as e:\n    print('blocked', e)\n"
    )
    result = await py(shared_sandbox, code)
    assert "blocked" in result.stdout and "SENT" not in result.stdout


async def test_dns_resolution_fails(shared_sandbox) -> None:
    code = (
        "import socket\n"
        "try:\n    print('RESOLVED', socket.getaddrinfo('example.com', 80))\n"
        "except OSError as e:\n    print('blocked', e)\n"
    )
    # one short try per name server, so that the test is quick
    result = await shared_sandbox.exec(
        ["python", "-c", code], env={"RES_OPTIONS": "timeout:1 attempts:1"}, timeout=30
    )
    assert "blocked" in result.stdout and "RESOLVED" not in result.stdout


async def test_host_loopback_listener_unreachable(shared_sandbox) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        code = (
            "import socket\n"
            "s = socket.socket(); s.settimeout(1)\n"
            f"try:\n    s.connect(('127.0.0.1', {port})); print('CONNECTED')\n"
            "except OSError as e:\n    print('blocked', e)\n"
        )
        result = await py(shared_sandbox, code)
    assert "blocked" in result.stdout and "CONNECTED" not in result.stdout


def _host_addresses() -> list[str]:
    addresses = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            addresses.add(str(info[4][0]))
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            addresses.add(s.getsockname()[0])
        except OSError:
            pass
    return sorted(a for a in addresses if not a.startswith("127.")) or ["10.0.2.15"]


async def test_host_addresses_unreachable(shared_sandbox) -> None:
    with socket.socket() as server:
        server.bind(("0.0.0.0", 0))
        server.listen(8)
        port = server.getsockname()[1]
        for address in _host_addresses():
            code = (
                "import socket\n"
                "s = socket.socket(); s.settimeout(1)\n"
                f"try:\n    s.connect(({address!r}, {port})); print('CONNECTED')\n"
                "except OSError as e:\n    print('blocked', e)\n"
            )
            result = await py(shared_sandbox, code)
            assert "blocked" in result.stdout, (address, result)


async def test_no_interface_is_up_without_loopback(shared_sandbox) -> None:
    result = await sh(shared_sandbox, "cat /proc/net/dev")
    interfaces = [line.split(":")[0].strip() for line in result.stdout.splitlines()[2:]]
    assert interfaces == ["lo"]
    code = (
        "import socket\n"
        "s = socket.socket()\n"
        "try:\n    s.bind(('127.0.0.1', 0)); s.listen(); c = socket.socket();"
        " c.settimeout(1); c.connect(s.getsockname()); print('LOOPBACK WORKS')\n"
        "except OSError as e:\n    print('blocked', e)\n"
    )
    assert "blocked" in (await py(shared_sandbox, code)).stdout


async def test_loopback_config_allows_only_local_traffic(open_sandbox) -> None:
    async with open_sandbox(BwrapConfig(network="loopback")) as sandbox:
        code = (
            "import socket\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "c = socket.socket(); c.connect(s.getsockname()); print('local ok')\n"
            "o = socket.socket(); o.settimeout(3)\n"
            "try:\n    o.connect(('1.1.1.1', 80)); print('CONNECTED')\n"
            "except OSError as e:\n    print('blocked', e)\n"
        )
        result = await py(sandbox, code)
        assert "local ok" in result.stdout and "blocked" in result.stdout, result


async def test_host_abstract_unix_socket_unreachable(shared_sandbox) -> None:
    name = f"rdbench-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("\0" + name)
        server.listen(1)
        code = (
            "import socket\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            f"try:\n    s.connect('\\0{name}'); print('CONNECTED')\n"
            "except OSError as e:\n    print('blocked', e)\n"
        )
        result = await py(shared_sandbox, code)
    assert "blocked" in result.stdout and "CONNECTED" not in result.stdout


# ----------------------------------------------------------------------- secrets


async def test_host_secret_file_not_readable(shared_sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "expected_output.secret"
    secret.write_text("TOP-SECRET-ANSWER")
    result = await sh(shared_sandbox, f"cat {shlex.quote(str(secret))}; echo rc=$?")
    assert "TOP-SECRET-ANSWER" not in result.stdout
    assert "No such file" in result.stderr


async def test_harness_home_not_readable(shared_sandbox) -> None:
    home = Path.home()
    secret = home / f".rdbench-test-secret-{uuid.uuid4().hex}"
    secret.write_text("HOME-SECRET")
    try:
        result = await sh(shared_sandbox, f"cat {shlex.quote(str(secret))}; ls -a {home}")
        assert "HOME-SECRET" not in result.stdout
        assert secret.name not in result.stdout
    finally:
        secret.unlink()


async def test_rdbench_source_and_hidden_task_files_not_visible(shared_sandbox) -> None:
    package_dir = Path(rdbench.__file__).parent
    result = await sh(
        shared_sandbox,
        f"ls {shlex.quote(str(package_dir))} {shlex.quote(str(package_dir / 'tasks'))}; "
        "find / -xdev -name '_registry.py' 2>/dev/null | head",
    )
    assert result.returncode != 0 or result.stdout.strip() == ""
    assert "_registry.py" not in result.stdout


async def test_harness_environment_not_inherited(
    monkeypatch: pytest.MonkeyPatch, open_sandbox
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-secret-key-123")
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token_456")
    async with open_sandbox() as sandbox:
        result = await sh(sandbox, "env; cat /proc/self/environ /proc/1/environ 2>/dev/null")
        assert "sk-fake-secret" not in result.stdout
        assert "hf_fake_token" not in result.stdout
        assert "HOME=/home/agent" in result.stdout
        assert f"HOME={Path.home()}\n" not in result.stdout or str(Path.home()) == "/home/agent"


async def test_runtime_dir_and_control_socket_not_visible(shared_sandbox) -> None:
    from rdbench.sandbox.runtime import runtime_dir

    result = await sh(shared_sandbox, f"ls -la {shlex.quote(str(runtime_dir()))} 2>&1")
    assert "ctl.sock" not in result.stdout and result.returncode != 0


async def test_other_sandbox_is_invisible(shared_sandbox, open_sandbox) -> None:
    await shared_sandbox.write_file("mine.txt", "A")
    await sh(shared_sandbox, "sh -c 'sleep 30; : marker-a1b2' >/dev/null 2>&1 &", timeout=5)
    try:
        async with open_sandbox() as other:
            result = await sh(other, "ls /home/agent; ps aux")
            assert "mine.txt" not in result.stdout and "marker-a1b2" not in result.stdout
    finally:
        await sh(shared_sandbox, "pkill -f marker-a1b2; rm -f mine.txt; :")


# ----------------------------------------------------------------------- host files


@pytest.mark.parametrize(
    "target",
    ["/usr/bin/rdbench-pwned", "/etc/passwd", f"{sys.prefix}/pwned", "/pwned", "/root/pwned"],
)
async def test_write_outside_workspace_fails(shared_sandbox, target: str) -> None:
    result = await sh(shared_sandbox, f"echo pwned > {shlex.quote(target)}")
    assert result.returncode != 0
    assert not (Path(target).exists() and "pwned" in Path(target).read_text(errors="ignore"))


async def test_write_file_outside_workspace_fails(shared_sandbox) -> None:
    with pytest.raises(OSError):
        await shared_sandbox.write_file("/usr/lib/rdbench-pwned", "pwned")
    assert not Path("/usr/lib/rdbench-pwned").exists()


async def test_sandbox_tmp_is_private(shared_sandbox) -> None:
    name = f"rdbench-private-{uuid.uuid4().hex}"
    await sh(shared_sandbox, f"echo x > /tmp/{name}")
    assert not Path("/tmp", name).exists()
    await sh(shared_sandbox, f"rm -f /tmp/{name}")


async def test_no_host_devices(shared_sandbox) -> None:
    result = await sh(shared_sandbox, "ls /dev")
    devices = set(result.stdout.split())
    assert not devices & {"sda", "vda", "mem", "kmem", "port", "kvm", "nvme0"}


async def test_no_sysfs_or_cgroup_control(shared_sandbox) -> None:
    result = await sh(
        shared_sandbox, "ls /sys/fs/cgroup 2>&1; echo 999999 > /sys/fs/cgroup/pids.max"
    )
    assert result.returncode != 0


# ----------------------------------------------------------------------- /proc, ptrace, privileges


async def test_init_process_environ_and_fds_not_readable(shared_sandbox) -> None:
    result = await sh(shared_sandbox, "cat /proc/1/environ; ls /proc/1/fd; cat /proc/1/maps")
    assert "Permission denied" in result.stderr
    assert result.stdout == ""


async def test_proc_1_root_is_the_sandbox_root(shared_sandbox) -> None:
    result = await sh(shared_sandbox, "ls /proc/1/root/ 2>&1; cat /proc/1/root/etc/shadow 2>&1")
    assert "shadow" not in result.stdout.split() or "root:" not in result.stdout
    # the host's /etc/shadow (if any) must not be reachable through /proc
    if Path("/etc/shadow").exists():
        assert Path("/etc/shadow").read_text(errors="ignore")[:20] not in result.stdout


async def test_only_sandbox_processes_visible(shared_sandbox) -> None:
    # A host process with a unique marker in its command line must not be visible, nor
    # this pytest process, nor the host's init. (No count of processes: other tests of the
    # module leave background jobs in the shared sandbox, and their number varies.)
    marker = f"rdbench-marker-{os.getpid()}"
    host_process = subprocess.Popen(["sh", "-c", "sleep 60", marker])
    try:
        result = await sh(shared_sandbox, "for p in /proc/[0-9]*; do tr '\\0' ' ' "
                                          "< $p/cmdline; echo; done")
    finally:
        host_process.kill()
        host_process.wait()
    assert result.returncode == 0, result
    assert "sh -c" in result.stdout  # the listing saw the sandbox's own processes
    assert marker not in result.stdout
    assert "pytest" not in result.stdout
    host_init = Path("/proc/1/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    inside = [line.strip() for line in result.stdout.splitlines()]
    assert host_init not in inside


async def test_ptrace_init_fails(shared_sandbox) -> None:
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "rc = libc.ptrace(16, 1, 0, 0)\n"  # PTRACE_ATTACH to the init process
        "print('rc', rc, os.strerror(ctypes.get_errno()))\n"
    )
    result = await py(shared_sandbox, code)
    assert "rc -1" in result.stdout, result


async def test_ptrace_harness_fails(shared_sandbox) -> None:
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"rc = libc.ptrace(16, {os.getpid()}, 0, 0)\n"
        "print('rc', rc, os.strerror(ctypes.get_errno()))\n"
    )
    result = await py(shared_sandbox, code)
    assert "rc -1" in result.stdout, result


async def test_no_capabilities_and_no_root(shared_sandbox) -> None:
    result = await sh(shared_sandbox, "grep -E 'CapEff|CapBnd|NoNewPrivs' /proc/self/status; id -u")
    assert "CapEff:\t0000000000000000" in result.stdout
    assert "CapBnd:\t0000000000000000" in result.stdout or os.geteuid() != 0
    assert "NoNewPrivs:\t1" in result.stdout
    assert result.stdout.strip().endswith("1000")
    code = "import os\ntry:\n    os.setuid(0); print('ROOT')\nexcept OSError:\n    print('denied')"
    assert "denied" in (await py(shared_sandbox, code)).stdout


async def test_mount_and_nested_namespace_fail(shared_sandbox) -> None:
    result = await sh(
        shared_sandbox,
        "mount -t tmpfs none /home/agent 2>&1 && echo MOUNTED; "
        "unshare -r true 2>&1 && echo UNSHARED; :",
    )
    assert "MOUNTED" not in result.stdout and "UNSHARED" not in result.stdout, result


async def test_exec_as_root_is_refused(shared_sandbox) -> None:
    with pytest.raises(SandboxUserUnsupportedError):
        await shared_sandbox.exec(["id"], user="root")


async def test_hostname_change_fails(shared_sandbox) -> None:
    result = await sh(shared_sandbox, "hostname pwned 2>&1; hostname")
    assert result.stdout.strip().endswith("sandbox")
    assert socket.gethostname() != "pwned"


# ----------------------------------------------------------------------- the harness


async def test_killing_the_harness_fails(fresh_sandbox) -> None:
    result = await sh(fresh_sandbox, f"kill -9 {os.getpid()} 2>&1; kill -9 {os.getppid()} 2>&1; :")
    assert os.getpid() > 0  # still here
    assert "No such process" in result.stdout or result.stdout == "", result


async def test_kill_everything_visible_keeps_sandbox_usable(fresh_sandbox) -> None:
    await sh(fresh_sandbox, "kill -9 -1; kill -9 1; :", timeout=10)
    # supervisors still dying from that SIGKILL may take (and lose) one more request:
    # it is reported as a failed command (137), never as a broken sandbox
    for _ in range(2):
        result = await fresh_sandbox.exec(["echo", "still here"], timeout=10)
        if result.returncode != 137:
            break
    assert result.stdout == "still here\n", result


# ----------------------------------------------------------------------- resources


async def test_fork_bomb_is_contained(fresh_sandbox) -> None:
    # a persistent bomb: every process keeps forking, retrying when the limit bites
    code = (
        "import os, time\n"
        "while True:\n"
        "    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)\n"
    )
    with pytest.raises(TimeoutError):
        await py(fresh_sandbox, code, timeout=3)
    result = await sh(fresh_sandbox, "ps -e --no-headers | wc -l", timeout=20)
    assert int(result.stdout.strip()) < 10, result  # the whole bomb was killed
    assert (await fresh_sandbox.exec(["echo", "ok"])).stdout == "ok\n"


async def test_shell_fork_bomb_leaves_sandbox_usable(fresh_sandbox) -> None:
    try:
        await sh(fresh_sandbox, "bomb() { bomb | bomb & }; bomb; sleep 60", timeout=3)
    except TimeoutError:
        pass
    result = await sh(fresh_sandbox, "sleep 1; ps -e --no-headers | wc -l", timeout=20)
    assert int(result.stdout.strip()) < 64, result  # never beyond max_processes
    assert (await fresh_sandbox.exec(["echo", "ok"])).stdout == "ok\n"


async def test_process_limit_enforced(fresh_sandbox) -> None:
    code = (
        "import os, time\n"
        "pids = []\n"
        "for _ in range(200):\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(30); os._exit(0)\n"
        "    pids.append(pid)\n"
        "print(len(pids))\n"
        "for pid in pids:\n    os.kill(pid, 9)\n"
    )
    result = await py(fresh_sandbox, code)
    assert 0 < int(result.stdout.split()[0]) < 64  # max_processes=64


async def test_memory_bomb_is_killed(fresh_sandbox) -> None:
    result = await py(fresh_sandbox, "x = bytearray(1024 * 1024 * 1024); print('ALLOCATED')")
    assert "ALLOCATED" not in result.stdout
    assert result.returncode != 0
    if fresh_sandbox.sandbox.record.cgroups:
        assert result.returncode == 137 and "killed by the memory limit" in result.stderr
    assert (await fresh_sandbox.exec(["echo", "ok"])).stdout == "ok\n"


async def test_disk_fill_is_capped(fresh_sandbox) -> None:
    result = await sh(
        fresh_sandbox,
        # files under the 32 MB file-size limit until the 64 MB workspace is full
        "for i in 1 2 3 4; do head -c 30000000 /dev/zero > /home/agent/fill$i || echo FULL; done;"
        " du -sm /home/agent",
        timeout=60,
    )
    assert "No space left" in result.stderr and "FULL" in result.stdout
    assert int(result.stdout.split()[-2]) <= 64
    await sh(fresh_sandbox, "rm -f /home/agent/fill*")


async def test_file_size_limit(fresh_sandbox) -> None:
    # file_size_mb=32 in a 64 MB /tmp: the rlimit, not the disk, stops this one
    result = await sh(
        fresh_sandbox, "head -c 40000000 /dev/zero > /tmp/big; echo rc=$?; wc -c < /tmp/big"
    )
    assert "rc=0" not in result.stdout
    assert int(result.stdout.split()[-1]) <= 32 * 1024 * 1024


async def test_runaway_past_timeout_is_killed_with_its_tree(fresh_sandbox) -> None:
    marker = uuid.uuid4().hex[:12]
    script = (
        f"setsid sh -c 'sleep 300 # d-{marker}' & "
        f"(sh -c 'sleep 300 # o-{marker}' &) ; "
        f"sleep 300 # p-{marker}"
    )
    with pytest.raises(TimeoutError):
        await sh(fresh_sandbox, script, timeout=1)
    result = await sh(fresh_sandbox, "ps -eo args")
    assert marker not in result.stdout, result.stdout


async def test_cpu_spin_past_timeout_is_killed(fresh_sandbox) -> None:
    with pytest.raises(TimeoutError):
        await sh(fresh_sandbox, "while :; do :; done", timeout=1)
    result = await sh(fresh_sandbox, "ps -eo args")
    assert "while" not in result.stdout


async def test_huge_output_is_truncated(shared_sandbox) -> None:
    from inspect_ai.util import SandboxEnvironmentLimits

    result = await sh(shared_sandbox, "head -c 100000000 /dev/zero | tr '\\0' x", timeout=60)
    assert result.returncode == 0
    assert len(result.stdout) <= SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE


async def test_endless_output_times_out(shared_sandbox) -> None:
    with pytest.raises(TimeoutError):
        await sh(shared_sandbox, "yes; yes >&2", timeout=2)


# ----------------------------------------------------------------------- file API traversal


async def test_read_file_symlink_to_host_path(shared_sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "hidden.txt"
    secret.write_text("HOST-SECRET")
    await sh(shared_sandbox, f"ln -sf {shlex.quote(str(secret))} link_to_host")
    with pytest.raises(FileNotFoundError):
        await shared_sandbox.read_file("link_to_host")
    await sh(shared_sandbox, "rm -f link_to_host")


async def test_read_file_dotdot_traversal(shared_sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "hidden.txt"
    secret.write_text("HOST-SECRET")
    with pytest.raises(FileNotFoundError):
        await shared_sandbox.read_file("../../../../../../.." + str(secret))


async def test_write_file_symlink_to_host_path(shared_sandbox, tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("original")
    await sh(shared_sandbox, f"ln -sf {shlex.quote(str(target))} link_out")
    try:
        await shared_sandbox.write_file("link_out", "pwned")
    except OSError:
        pass
    assert target.read_text() == "original"
    await sh(shared_sandbox, "rm -f link_out")


async def test_write_file_dotdot_traversal(shared_sandbox, tmp_path: Path) -> None:
    target = tmp_path / "new.txt"
    try:
        await shared_sandbox.write_file("../../../../../.." + str(target), "pwned")
    except OSError:
        pass
    assert not target.exists()


async def test_read_file_via_proc_root_symlink(shared_sandbox) -> None:
    await sh(shared_sandbox, "ln -sf /proc/1/root/.rdbench/init.py sneaky")
    with pytest.raises(PermissionError):
        await shared_sandbox.read_file("sneaky")
    await sh(shared_sandbox, "rm -f sneaky")
