"""The budget is enforced on the human clock, with a warning at 80%."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from human_driver import Background, wait_for_login_command

# Long enough that logging in and one command fit before the 80% warning on a loaded CI machine.
BUDGET_S = 20


@pytest.mark.slow
def test_budget_warns_then_ends_the_attempt(tmp_path: Path, fixture_families: Path, human) -> None:
    from inspect_ai.log import read_eval_log

    from rdbench.humans import run_baseline
    from rdbench.humans.agent import BUDGET_KEY

    connect_file = tmp_path / "connect.json"
    bob = human("bob")
    seen: dict[str, str] = {}

    def script() -> None:
        bob.login(wait_for_login_command(connect_file))
        bob.run("echo 2 > answer.txt")
        # each new prompt shows a new notice: press Enter until the warning shows
        deadline = time.monotonic() + BUDGET_S + 5
        while "80% used" not in bob.screen() and time.monotonic() < deadline:
            bob.type("")
            time.sleep(0.25)
        seen["warning"] = bob.screen()

    driver = Background(script)
    with pytest.warns(UserWarning):
        log = run_baseline(
            "human_fixture",
            budget_s=BUDGET_S,
            log_dir=tmp_path / "logs",
            baseliner="Bob",
            sandbox="local",
            display="none",
            connect_file=connect_file,
        )
    driver.join()
    assert "(80% used)" in seen.get("warning", "<the scripted human did not reach the warning>")

    sample = read_eval_log(log.location).samples[0]
    assert sample.error is None
    state = sample.store[BUDGET_KEY]
    assert state["ended_by"] == "budget"
    assert BUDGET_S <= state["human_working_s"] < BUDGET_S + 1.0
    assert sample.working_time == pytest.approx(state["human_working_s"], abs=1.0)
    # the workspace is scored as it was when the time ran out
    assert sample.scores["rdbench_scorer"].value == pytest.approx(0.2)
    actions = [
        e.data.get("action")
        for e in sample.events
        if e.event == "info" and isinstance(e.data, dict)
    ]
    assert actions.index("budget_warning") < actions.index("budget_exhausted")
    # the session recording is read before the attempt ends, as on submit
    assert any(k.endswith(".input") for k in sample.store["HumanAgentState:logs"])
