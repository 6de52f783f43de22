"""Fast checks of the human-baseline pieces: input parsing, CLI errors, the local
fallback's path mapping, double submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdbench.errors import UserError
from rdbench.humans.run import baseliner_slug, parse_budget, parse_selector


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("8h", 28800.0),
        ("90m", 5400.0),
        ("1.5h", 5400.0),
        ("45s", 45.0),
        ("30", 1800.0),
        ("1d", 86400.0),
    ],
)
def test_parse_budget(text: str, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0h", "-1h", "8 hours", "h", "1e3"])
def test_parse_budget_rejects(text: str) -> None:
    with pytest.raises(UserError, match="bad budget"):
        parse_budget(text)


def test_parse_selector() -> None:
    assert parse_selector("optimize_kernel") == ("optimize_kernel", None)
    assert parse_selector("fam/main") == ("fam", "main")
    for bad in ("", "/main", "fam/", "a/b/c"):
        with pytest.raises(UserError, match="FAMILY or FAMILY/TASK"):
            parse_selector(bad)


def test_baseliner_slug() -> None:
    assert baseliner_slug(" Ada Lovelace ") == "Ada-Lovelace"
    assert baseliner_slug("o'brien/x") == "o-brien-x"
    with pytest.raises(UserError, match="--baseliner"):
        baseliner_slug(" ../ ")


def test_cli_bad_budget_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rdbench.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "baseline",
                "human_fixture",
                "--budget",
                "soon",
                "--log-dir",
                str(tmp_path),
                "--baseliner",
                "x",
                "--sandbox",
                "local",
            ]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("rdbench: error: bad budget 'soon'")
    assert not list(tmp_path.iterdir())  # nothing written


def test_unknown_family_and_task(tmp_path: Path, fixture_families: Path) -> None:
    from rdbench.humans import run_baseline

    with pytest.raises(UserError, match="unknown task family 'nope'"):
        run_baseline("nope", budget_s=60, log_dir=tmp_path, baseliner="x", sandbox="local")
    with pytest.raises(UserError, match="unknown task 'human_fixture/other'.*human_fixture/main"):
        run_baseline(
            "human_fixture/other", budget_s=60, log_dir=tmp_path, baseliner="x", sandbox="local"
        )
    with pytest.raises(UserError, match="unknown sandbox 'docker'"):
        run_baseline(
            "human_fixture", budget_s=60, log_dir=tmp_path, baseliner="x", sandbox="docker"
        )


def test_local_sandbox_maps_private_paths() -> None:
    from rdbench.humans.local_sandbox import HumanLocalSandbox, _home

    box = HumanLocalSandbox()
    try:
        private = Path(box._private.name)
        assert box._host_path("/opt/human_agent/task.py") == str(
            private / "opt/human_agent/task.py"
        )
        assert box._host_path("/var/tmp/user-sessions/a.input") == str(
            private / "var_tmp/user-sessions/a.input"
        )
        assert box._host_path(f"{_home()}/.bashrc") == str(private / "home/.bashrc")
        assert box._host_path("/optional/x") == "/optional/x"  # a prefix of a name is not a parent
        assert box._host_path("answer.txt") == "answer.txt"  # relative: the workspace
    finally:
        box._private.cleanup()
        box.directory.cleanup()


@pytest.mark.anyio
async def test_second_submit_changes_nothing() -> None:
    from inspect_ai.agent._human.state import HumanAgentState
    from inspect_ai.util._store import Store

    from rdbench.humans.agent import HumanClock, _Quit, _Submit

    state = HumanAgentState(store=Store(), instructions="x")
    clock = HumanClock(state, budget_s=60, warn_fraction=0.8)
    state.running = True
    submit = _Submit(record_session=False, clock=lambda: clock).service(state)
    quit_ = _Quit(record_session=False, clock=lambda: clock).service(state)
    await submit("first")
    assert state.answer == "first" and clock.ended_by == "submit" and not state.running
    await submit("second")
    await quit_()
    assert state.answer == "first" and clock.ended_by == "submit"


@pytest.mark.anyio
async def test_local_sandbox_keeps_the_host_untouched() -> None:
    import shutil

    from rdbench.humans.local_sandbox import HumanLocalSandbox, _home

    if shutil.which("bwrap") is None:
        pytest.skip("bwrap is not installed")
    box = HumanLocalSandbox()
    try:
        result = await box.exec(
            [
                "sh",
                "-c",
                "mkdir -p /opt/rdbench-probe && echo hi > /opt/rdbench-probe/f"
                " && echo x >> ~/.bashrc && pwd",
            ]
        )
        assert result.success, result.stderr
        assert result.stdout.strip() == box.directory.name  # commands run in the workspace
        assert not Path("/opt/rdbench-probe").exists()
        assert await box.read_file("/opt/rdbench-probe/f") == "hi\n"
        assert (Path(box._private.name) / "home/.bashrc").read_text() == "x\n"
        connection = await box.connection()
        assert connection.command.startswith("bwrap ") and connection.command.endswith(
            "bash --login -i"
        )
        assert f"HOME={_home()}" in connection.command
    finally:
        box._private.cleanup()
        box.directory.cleanup()
