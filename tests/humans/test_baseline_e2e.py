"""A scripted human takes a whole baseline attempt through a real terminal.

Logs in (the clock starts), scores twice (once on a broken workspace), pauses, resumes,
loses the connection and logs in again, scores, submits. The log must hold the human
clock (without the pause), every intermediate score on that clock, the session recording,
and read back into an Attempt row and trajectory.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import pytest
from human_driver import Background, wait_for_login_command

BUDGET_S = 120  # a backstop: the script submits long before
PAUSE_S = 3.0


def _bwrap_supports_humans() -> str | None:
    """Why the bwrap sandbox cannot host a human attempt here (None if it can)."""
    import importlib.util

    import anyio

    if importlib.util.find_spec("rdbench._cli.shell") is None:
        return "`rdbench shell` (the bwrap login command) does not exist yet"

    async def probe() -> str | None:
        from rdbench.sandbox.config import BwrapConfig
        from rdbench.sandbox.provider import BwrapSandboxEnvironment

        envs = await BwrapSandboxEnvironment.sample_init("probe", BwrapConfig(), {})
        try:
            # where Inspect's human agent installs its commands, services and recordings
            result = await envs["default"].exec(
                [
                    "sh",
                    "-c",
                    "mkdir -p /opt/human_agent /var/tmp/sandbox-services"
                    " && command -v script python3",
                ]
            )
            return (
                None
                if result.success
                else f"bwrap sandbox lacks what the human agent needs: {result.stderr.strip()}"
            )
        finally:
            await BwrapSandboxEnvironment.sample_cleanup("probe", BwrapConfig(), envs, False)

    try:
        return anyio.run(probe)
    except Exception as ex:
        return f"bwrap sandbox unavailable: {type(ex).__name__}: {ex}"


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", ["local", "bwrap"])
def test_scripted_attempt(tmp_path: Path, fixture_families: Path, human, sandbox: str) -> None:
    from inspect_ai.log import read_eval_log

    from rdbench.humans import run_baseline
    from rdbench.humans.agent import BUDGET_KEY

    if sandbox == "bwrap" and (reason := _bwrap_supports_humans()) is not None:
        pytest.skip(reason)
    connect_file = tmp_path / "connect.json"
    ada = human("ada")
    walls: dict[str, float] = {}
    screens: dict[str, str] = {}

    def script() -> None:
        ada.login(wait_for_login_command(connect_file))
        screens["first"] = ada.run("echo 3 > answer.txt; task score")
        screens["broken"] = ada.run("echo oops > answer.txt; task score")
        walls["broken_scored"] = time.monotonic()
        screens["crash"] = ada.run("echo crash > answer.txt; task score")
        ada.run("task stop")
        walls["pause_start"] = time.monotonic()
        time.sleep(PAUSE_S)
        screens["paused_score"] = ada.run("task score")
        ada.run("task start")
        walls["pause_end"] = time.monotonic()
        ada.run("echo 7 > answer.txt")
        ada.drop()
        # logging in again resumes the same attempt: same workspace, same clock
        ada.login(wait_for_login_command(connect_file))
        screens["after_reconnect"] = ada.run("cat answer.txt; task status")
        screens["second"] = ada.run("task score")
        walls["second_scored"] = time.monotonic()
        ada.type("task submit")
        ada.wait_for("Yes (y) or No (n)")
        ada.type("y")
        ada.wait_for("Thank you for working on this task")

    driver = Background(script)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = run_baseline(
            "human_fixture",
            budget_s=BUDGET_S,
            log_dir=tmp_path / "logs",
            baseliner="Ada Lovelace",
            sandbox=sandbox,
            display="none",
            connect_file=connect_file,
        )
    driver.join()
    assert any("NO isolation" in str(w.message) for w in caught) == (sandbox == "local")

    # what the human saw
    assert "Score: 0.3000" in screens["first"]
    assert "Score: invalid" in screens["broken"] and "does not hold a number" in screens["broken"]
    assert "Scoring failed" in screens["crash"] and "attempt continues" in screens["crash"]
    assert "Task is stopped" in screens["paused_score"]
    assert (
        screens["after_reconnect"].lstrip().startswith("7")
        and "Running" in screens["after_reconnect"]
    )
    assert "Score: 0.7000" in screens["second"]

    # the log
    assert log.status == "success"
    assert log.eval.model == "none/none"
    assert log.eval.metadata == {
        "rdbench_attempt_length_s": BUDGET_S,
        "rdbench_agent": "human",
        "rdbench_scaffold": "human",
        "rdbench_is_human": True,
        "rdbench_baseliner": "Ada Lovelace",
    }
    log = read_eval_log(log.location)  # what is on disk, not what is in memory
    sample = log.samples[0]
    assert sample.error is None
    assert sample.metadata["time_limit_s"] == BUDGET_S
    human_state = sample.store[BUDGET_KEY]
    assert human_state["ended_by"] == "submit"
    human_s = human_state["human_working_s"]
    pause = walls["pause_end"] - walls["pause_start"]
    # Inspect's working time is the human clock; the pause is excluded from both.
    assert abs(sample.working_time - human_s) < 1.0
    assert sample.working_time < sample.total_time - pause + 1.0

    final = sample.scores["rdbench_scorer"]
    assert final.value == pytest.approx(0.7)
    trajectory = final.metadata["trajectory"]
    assert [p["raw"] for p in trajectory] == [3.0, None, 7.0]
    assert [p["valid"] for p in trajectory] == [True, False, True]
    stamps = [p["working_s"] for p in trajectory]
    assert stamps == sorted(stamps) and stamps[-1] <= human_s
    # the pause lies between the 2nd and 3rd score: its wall time is not on the clock
    # (1 s of slack: the script sees the output a little after the clock is read)
    wall_between = walls["second_scored"] - walls["broken_scored"]
    assert 0 < stamps[2] - stamps[1] <= wall_between - pause + 1.0
    intermediate = [e for e in sample.events if e.event == "score" and e.intermediate]
    assert [e.working_start for e in intermediate] == stamps
    assert math.isnan(intermediate[1].score.value)
    assert [e.score.value for e in intermediate][0::2] == [pytest.approx(0.3), pytest.approx(0.7)]

    # the clock's start/stop are in the transcript, and the session is recorded
    actions = [
        e.data["action"]
        for e in sample.events
        if e.event == "info" and isinstance(e.data, dict) and "action" in e.data
    ]
    assert actions[:3] == ["stop", "start", "stop"] and "start" in actions[3:]
    logs = sample.store["HumanAgentState:logs"]
    inputs = "".join(v for k, v in logs.items() if k.endswith(".input"))
    assert "task score" in inputs and "echo 7 > answer.txt" in inputs
    assert len([k for k in logs if k.endswith(".timing")]) == 2  # two logins, two recordings

    # the Attempt row and trajectory, as the analysis reads them
    from rdbench.records import read_eval_log_file

    attempts, points = read_eval_log_file(log.location)
    assert len(attempts) == 1
    row = attempts.iloc[0]
    assert bool(row["is_human"]) and row["agent"] == "human" and row["scaffold"] == "human"
    assert row["model"] == "Ada Lovelace"
    assert row["task_family"] == "human_fixture" and row["task_id"] == "human_fixture/main"
    assert row["time_limit_s"] == BUDGET_S
    assert row["working_time_s"] == pytest.approx(human_s, abs=1.0)
    assert row["score"] == pytest.approx(0.7) and row["score_raw"] == pytest.approx(7.0)
    assert list(points["working_s"]) == pytest.approx(stamps)
    assert list(points["score_raw"])[0::2] == [3.0, 7.0] and math.isnan(list(points["score"])[1])

    # a reviewer replays what the baseliner did
    import shutil
    import subprocess

    from rdbench.humans.sessions import extract_sessions

    outputs = extract_sessions(log.location, tmp_path / "replay")
    assert len(outputs) == 2
    if shutil.which("scriptreplay"):
        replay = subprocess.run(
            [
                "scriptreplay",
                "--log-timing",
                str(outputs[0].with_suffix(".timing")),
                "--log-out",
                str(outputs[0]),
                "--divisor",
                "1000",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert replay.returncode == 0 and "Score: 0.3000" in replay.stdout
