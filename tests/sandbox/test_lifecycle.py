"""Lifecycle of bwrap sandboxes: limits, cleanup (also after a crash), errors, shell, Inspect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest

from rdbench.errors import SandboxUnavailable
from rdbench.sandbox import provider as provider_module
from rdbench.sandbox.config import BwrapConfig, load_config
from rdbench.sandbox.runtime import list_records, process_start_time, reap_stale, runtime_dir

pytestmark = pytest.mark.anyio


# ----------------------------------------------------------------------- limits and cleanup


async def test_limits_are_written_to_the_cgroups(open_sandbox) -> None:
    config = BwrapConfig(memory_mb=300, max_processes=77, cpus=0.5)
    async with open_sandbox(config) as sandbox:
        paths = sandbox.sandbox.record.cgroups
        if not paths:
            pytest.skip("no usable cgroups on this machine (rlimit fallback)")
        values = {}
        for path in paths:
            for name in ("memory.limit_in_bytes", "memory.max", "pids.max", "cpu.cfs_quota_us",
                         "cpu.max"):
                if Path(path, name).exists():
                    values[name] = Path(path, name).read_text().strip()
        memory = values.get("memory.max") or values.get("memory.limit_in_bytes")
        assert memory == str(300 * 1024 * 1024)
        assert values["pids.max"] == "77"
        assert values.get("cpu.cfs_quota_us", "50000") == "50000" or values["cpu.max"].startswith(
            "50000"
        )


async def test_cleanup_leaves_no_process_cgroup_or_file(open_sandbox) -> None:
    async with open_sandbox() as sandbox:
        await sandbox.exec(["sh", "-c", "sleep 300 >/dev/null 2>&1 &"])
        record = sandbox.sandbox.record
        assert record.sandbox_alive()
    deadline = time.time() + 5
    while time.time() < deadline and process_start_time(record.init_pid) is not None:
        time.sleep(0.05)
    assert process_start_time(record.bwrap_pid) is None
    assert process_start_time(record.init_pid) is None
    assert not record.directory.exists()
    assert all(not Path(p).exists() for p in record.cgroups)


def test_crashed_harness_leaves_nothing_after_reap(tmp_path: Path) -> None:
    # a harness that starts a sandbox with a background process, then dies by SIGKILL
    script = textwrap.dedent(
        """
        import anyio, json, sys, time
        from rdbench.sandbox.provider import BwrapSandboxEnvironment as B
        async def main():
            envs = await B.sample_init("crash", None, {})
            sb = envs["default"]
            await sb.exec(["sh", "-c", "sleep 300 >/dev/null 2>&1 &"])
            r = sb.sandbox.record
            print(json.dumps([r.id, r.bwrap_pid, r.init_pid, r.cgroups]), flush=True)
            time.sleep(300)
        anyio.run(main)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    sandbox_id, bwrap_pid, init_pid, cgroup_paths = json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # bwrap dies with its parent and takes the whole PID namespace with it
    deadline = time.time() + 5
    while time.time() < deadline and (
        process_start_time(bwrap_pid) or process_start_time(init_pid)
    ):
        time.sleep(0.05)
    assert process_start_time(bwrap_pid) is None and process_start_time(init_pid) is None
    # what is left on disk (state, cgroup dirs) goes at the next task start / cli cleanup
    assert sandbox_id in reap_stale()
    assert not (runtime_dir() / sandbox_id).exists()
    assert all(not Path(p).exists() for p in cgroup_paths)


def test_ctrl_c_in_the_harness_leaves_nothing(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import anyio, json, time
        from rdbench.sandbox.provider import BwrapSandboxEnvironment as B
        async def main():
            envs = await B.sample_init("ctrlc", None, {})
            sb = envs["default"]
            await sb.exec(["sh", "-c", "sleep 300 >/dev/null 2>&1 &"])
            r = sb.sandbox.record
            print(json.dumps([r.id, r.bwrap_pid, r.init_pid, r.cgroups]), flush=True)
            await anyio.sleep(300)
        anyio.run(main)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    sandbox_id, bwrap_pid, init_pid, cgroup_paths = json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    # no reaping needed: the harness's exit hook destroyed everything
    assert process_start_time(bwrap_pid) is None and process_start_time(init_pid) is None
    assert not (runtime_dir() / sandbox_id).exists()
    assert all(not Path(p).exists() for p in cgroup_paths)


async def test_cli_cleanup_destroys_a_running_sandbox(open_sandbox) -> None:
    async with open_sandbox() as sandbox:
        record = sandbox.sandbox.record
        await provider_module.BwrapSandboxEnvironment.cli_cleanup(record.id)
        assert record.id not in [r.id for r in list_records()]
        assert not record.directory.exists()


# ----------------------------------------------------------------------- errors and config


def test_missing_bwrap_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(provider_module, "_CGROUP_VERSION", None)
    with pytest.raises(SandboxUnavailable) as info:
        provider_module.check_available()
    message = str(info.value)
    assert "\n" not in message and "apt-get install bubblewrap" in message


def test_unusable_forced_cgroup_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provider_module, "_CGROUP_VERSION", None)
    monkeypatch.setenv("RDBENCH_CGROUP", "v2")
    monkeypatch.setenv("RDBENCH_CGROUP_PARENT", "/nonexistent/cgroup")
    with pytest.raises(SandboxUnavailable) as info:
        provider_module.check_available()
    assert "\n" not in str(info.value) and "RDBENCH_CGROUP=none" in str(info.value)


def test_disabled_user_namespaces_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = open

    def fake_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path) == "/proc/sys/user/max_user_namespaces":
            from io import StringIO

            return StringIO("0\n")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(provider_module, "_CGROUP_VERSION", None)
    monkeypatch.setattr(provider_module.os, "geteuid", lambda: 1000)
    monkeypatch.setattr("builtins.open", fake_open)
    with pytest.raises(SandboxUnavailable) as info:
        provider_module.check_available()
    assert "\n" not in str(info.value) and "sysctl -w user.max_user_namespaces" in str(info.value)


def test_rlimit_fallback_without_cgroups(monkeypatch: pytest.MonkeyPatch) -> None:
    from rdbench.sandbox import cgroups

    monkeypatch.setenv("RDBENCH_CGROUP", "none")
    assert cgroups.detect() == "none"


async def test_sandbox_without_cgroups_still_limits_memory(
    monkeypatch: pytest.MonkeyPatch, open_sandbox
) -> None:
    monkeypatch.setattr(provider_module, "_CGROUP_VERSION", None)
    monkeypatch.setenv("RDBENCH_CGROUP", "none")
    try:
        async with open_sandbox(BwrapConfig(memory_mb=200)) as sandbox:
            assert sandbox.sandbox.record.cgroups == []
            result = await sandbox.exec(
                ["python", "-c", "x = bytearray(400 * 1024 * 1024); print('ALLOCATED')"]
            )
            assert "ALLOCATED" not in result.stdout and "MemoryError" in result.stderr
    finally:
        provider_module._CGROUP_VERSION = None


def test_config_from_file_and_bad_config(tmp_path: Path) -> None:
    good = tmp_path / "bwrap.yaml"
    good.write_text("memory_mb: 512\nnetwork: loopback\n")
    assert load_config(str(good)) == BwrapConfig(memory_mb=512, network="loopback")
    assert load_config(None) == BwrapConfig()
    assert load_config({"cpus": 1.5}).cpus == 1.5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"memory_mb": -1, "nonsense": 1}))
    with pytest.raises(SandboxUnavailable) as info:
        load_config(str(bad))
    assert "\n" not in str(info.value)
    with pytest.raises(SandboxUnavailable):
        load_config(str(tmp_path / "missing.yaml"))


async def test_ro_binds_are_visible_and_read_only(tmp_path: Path, open_sandbox) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("a,b\n1,2\n")
    async with open_sandbox(BwrapConfig(ro_binds={str(data): "/data"})) as sandbox:
        result = await sandbox.exec(["sh", "-c", "cat /data/train.csv; echo x > /data/new"])
        assert "1,2" in result.stdout and result.returncode != 0
    assert not (data / "new").exists()


async def test_default_exec_timeout(open_sandbox) -> None:
    async with open_sandbox(BwrapConfig(default_exec_timeout=1)) as sandbox:
        with pytest.raises(TimeoutError):
            await sandbox.exec(["sleep", "10"])


async def test_missing_program_is_a_failed_result(shared_sandbox) -> None:
    result = await shared_sandbox.exec(["no-such-program-xyz"])
    assert result.returncode == 127 and "no-such-program-xyz" in result.stderr


# ----------------------------------------------------------------------- rdbench shell


async def test_shell_command_runs_in_the_sandbox(shared_sandbox) -> None:
    await shared_sandbox.write_file("note.txt", "from the harness")
    connection = await shared_sandbox.connection()
    result = subprocess.run(
        [*connection.command.split(), "-c", "cat note.txt; echo; id -u; pwd; exit 3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert result.stdout == "from the harness\n1000\n/home/agent\n"


async def test_shell_interactive_via_connection(shared_sandbox) -> None:
    pexpect = pytest.importorskip("pexpect")
    connection = await shared_sandbox.connection()
    child = pexpect.spawn(connection.command, encoding="utf-8", timeout=20)
    try:
        child.expect(r"agent@sandbox")
        child.sendline("echo $((6*7)); test -t 0 && echo IS-A-TTY")
        child.expect("42")
        child.expect("IS-A-TTY")
        child.sendline("exit 4")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 4


async def test_shell_lists_and_rejects_unknown(shared_sandbox) -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "rdbench.cli", "shell"], capture_output=True, text=True, timeout=60
    )
    assert shared_sandbox.sandbox.id in listing.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "rdbench.cli", "shell", "no-such-sandbox"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "no running sandbox" in unknown.stderr


# ----------------------------------------------------------------------- through Inspect


def test_inspect_eval_with_bwrap_sandbox(tmp_path: Path) -> None:
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes
    from inspect_ai.solver import Generate, TaskState, solver
    from inspect_ai.util import SandboxEnvironmentSpec, sandbox

    @solver
    def run_in_sandbox():  # type: ignore[no-untyped-def]
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            result = await sandbox().exec(["sh", "-c", "cat data.txt; id -u; echo $OPENAI_API_KEY"])
            state.output.completion = result.stdout
            return state

        return solve

    os.environ["OPENAI_API_KEY"] = "sk-should-not-leak"
    try:
        task = Task(
            dataset=[
                Sample(
                    input="x", target="hello-from-files", files={"data.txt": "hello-from-files"}
                ),
                Sample(input="y", target="hello-from-files", files={"data.txt": "hello-from-files"},
                       sandbox=SandboxEnvironmentSpec("bwrap", BwrapConfig(memory_mb=512))),
            ],
            solver=run_in_sandbox(),
            scorer=includes(),
            sandbox="bwrap",
        )
        # a thread of its own: the async tests' event loop may still own this one
        with ThreadPoolExecutor(1) as pool:
            [log] = pool.submit(
                eval, task, model="mockllm/model", log_dir=str(tmp_path), display="none"
            ).result()
    finally:
        del os.environ["OPENAI_API_KEY"]
    assert log.status == "success", log.error
    assert log.samples is not None
    for sample in log.samples:
        assert sample.output.completion.startswith("hello-from-files1000\n")
        assert "sk-should-not-leak" not in sample.output.completion
        assert sample.scores is not None and sample.scores["includes"].value == "C"


async def test_concurrent_sandboxes_are_independent(open_sandbox) -> None:
    results: dict[int, str] = {}

    async def one(i: int) -> None:
        async with open_sandbox(BwrapConfig(memory_mb=256, disk_mb=32)) as sandbox:
            await sandbox.write_file("me.txt", str(i))
            result = await sandbox.exec(["sh", "-c", "cat me.txt; ls /home/agent | wc -l"])
            results[i] = result.stdout

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(one, i)
    assert results == {i: f"{i}1\n" for i in range(10)}


def test_inspect_injected_tools_work_in_bwrap(tmp_path: Path) -> None:
    # text_editor and bash_session run through Inspect's injected sandbox-tools binary
    # (written to /var/tmp and run as the sandbox's only, non-root user)
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes
    from inspect_ai.solver import Generate, TaskState, solver
    from inspect_ai.tool import bash_session, text_editor

    @solver
    def use_tools():  # type: ignore[no-untyped-def]
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            editor = text_editor()
            await editor(command="create", path="/home/agent/hello.py", file_text="print(6*7)\n")
            shell = bash_session()
            out = await shell(action="type_submit", input="python hello.py; id -u")
            state.output.completion = str(out)
            return state

        return solve

    task = Task(dataset=[Sample(input="x", target="42")], solver=use_tools(), scorer=includes(),
                sandbox="bwrap")
    with ThreadPoolExecutor(1) as pool:
        [log] = pool.submit(
            eval, task, model="mockllm/model", log_dir=str(tmp_path), display="none"
        ).result()
    assert log.status == "success", log.error
    assert log.samples is not None
    completion = log.samples[0].output.completion
    assert "42" in completion and "1000" in completion


async def test_human_cli_installs_into_the_sandbox(open_sandbox) -> None:
    # Inspect's human_cli installs its `task` command under /opt as the default user
    from inspect_ai.agent._human.install import install_human_agent

    async with open_sandbox() as sandbox:
        await install_human_agent(None, [], "", False, sandbox_env=sandbox)
        result = await sandbox.exec(["sh", "-c", "test -x /opt/human_agent/task.py && echo ok"])
        assert result.stdout == "ok\n", result
        assert "task start" in await sandbox.read_file("/home/agent/.bashrc")


async def test_rootless_mode_basics(monkeypatch: pytest.MonkeyPatch, open_sandbox) -> None:
    # the path users without root take (bwrap maps their uid to 1000), forced as root
    monkeypatch.setenv("RDBENCH_SANDBOX_ROOTLESS", "1")
    async with open_sandbox(BwrapConfig(memory_mb=256)) as sandbox:
        await sandbox.write_file("x/in.txt", "data")
        assert await sandbox.read_file("x/in.txt") == "data"
        result = await sandbox.exec(
            ["sh", "-c", "id -u; grep CapEff /proc/self/status; cat /root/.bashrc; "
             "unshare -U true && echo NESTED; cat /proc/1/environ"]
        )
        assert result.stdout.startswith("1000\nCapEff:\t0000000000000000\n")
        assert "NESTED" not in result.stdout and "Permission denied" in result.stderr
        with pytest.raises(TimeoutError):
            await sandbox.exec(["sh", "-c", "sleep 300 & sleep 300"], timeout=1)
        assert "sleep" not in (await sandbox.exec(["ps", "-eo", "args"])).stdout
