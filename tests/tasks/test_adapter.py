"""The Inspect adapter end to end on a toy family: intermediate scores, trajectory, final score."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.event import ScoreEvent
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from rdbench.tasks import load_families

TOY = """
from rdbench.errors import InvalidSubmission
from rdbench.tasks.contract import Normalization, TaskFamily

class {cls}(TaskFamily):
    name = "{name}"
    human_minutes = 30.0
    final_score_policy = "{policy}"
    normalization = Normalization(start=0.0, reference=10.0)

    def score(self, workspace, variant):
        try:
            return float((workspace / "answer.txt").read_text())
        except (OSError, ValueError) as ex:
            raise InvalidSubmission(f"answer.txt must hold a number: {{ex}}")

    def replay_steps(self):
        return [("halfway", {{"answer.txt": b"5"}}), ("reference", {{"answer.txt": b"10"}})]
"""


def make_toy(root: Path, name: str, policy: str = "best") -> None:
    folder = root / name
    for sub in ("workspace", "starting", "reference"):
        (folder / sub).mkdir(parents=True)
    (folder / "family.py").write_text(textwrap.dedent(TOY.format(cls=name.title(), name=name, policy=policy)))
    (folder / "instructions.md").write_text("Put the largest number you can into answer.txt.")
    (folder / "starting" / "answer.txt").write_text("0")
    (folder / "reference" / "answer.txt").write_text("10")
    (folder / "workspace" / "README.txt").write_text("workspace file")


@pytest.fixture
def toy_path(tmp_path, monkeypatch):
    make_toy(tmp_path / "families", "toy_best")
    make_toy(tmp_path / "families", "toy_final", policy="final")
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(tmp_path / "families"))
    return tmp_path


def _score_events(sample):
    return [e for e in sample.events if isinstance(e, ScoreEvent)]


def test_replay_agent_trajectory_rises_and_final_score_is_stored(toy_path):
    from rdbench.agents import replay_agent
    from rdbench.tasks.inspect_adapter import family_task

    family = load_families(["toy_best"])[0]
    task = family_task(family, solver=replay_agent(), sandbox_spec="local",
                       metadata={"rdbench_agent": "replay"})
    log = inspect_eval(task, model="none/none", log_dir=str(toy_path / "logs"), display="none")[0]
    assert log.status == "success", log.error
    sample = log.samples[0]
    assert sample.id == "toy_best/main"
    assert sample.metadata["human_minutes"] == 30.0
    assert sample.metadata["normalization"]["reference"] == 10.0

    intermediate = [e for e in _score_events(sample) if e.intermediate]
    assert [e.score.value for e in intermediate] == [0.0, 0.5, 1.0]
    times = [e.working_start for e in intermediate]
    assert times == sorted(times)

    final = sample.scores["rdbench_scorer"]
    assert final.value == 1.0
    trajectory = final.metadata["trajectory"]
    assert [p["score"] for p in trajectory] == [0.0, 0.5, 1.0]
    assert [p["raw"] for p in trajectory] == [0.0, 5.0, 10.0]
    assert all(b["working_s"] >= a["working_s"] for a, b in zip(trajectory, trajectory[1:]))
    assert final.metadata["submission_raw"] == 10.0
    assert log.eval.metadata["rdbench_agent"] == "replay"


def _usage() -> ModelUsage:
    return ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)


def _call(tool: str, **arguments) -> ModelOutput:
    output = ModelOutput.for_tool_call("mockllm/model", tool, arguments)
    output.usage = _usage()
    return output


def test_mockllm_react_agent_bash_score_twice_submit(toy_path):
    """A scripted react agent: bash, score, bash, score, submit."""
    from rdbench.agents import rdbench_agent
    from rdbench.tasks.inspect_adapter import family_task

    family = load_families(["toy_final"])[0]
    outputs = [
        _call("bash", command="echo 4 > answer.txt"),
        _call("score"),
        _call("bash", command="echo 7 > answer.txt"),
        _call("score"),
        _call("submit", answer="done"),
    ]
    model = get_model("mockllm/model", custom_outputs=outputs)
    task = family_task(family, solver=rdbench_agent(), sandbox_spec="local")
    log = inspect_eval(task, model=model, log_dir=str(toy_path / "logs"), display="none")[0]
    assert log.status == "success", log.error
    sample = log.samples[0]
    intermediate = [e for e in _score_events(sample) if e.intermediate]
    assert [e.score.value for e in intermediate] == [pytest.approx(0.4), pytest.approx(0.7)]
    assert intermediate[0].working_start < intermediate[1].working_start
    final = sample.scores["rdbench_scorer"]
    assert final.value == pytest.approx(0.7)
    assert final.metadata["final_score_policy"] == "final"
    tool_messages = [m.text for m in sample.messages if m.role == "tool"]
    assert any("Score: 0.4000" in text for text in tool_messages)


def test_invalid_final_submission_under_final_policy_is_nan(toy_path):
    from rdbench.agents import rdbench_agent
    from rdbench.tasks.inspect_adapter import family_task

    family = load_families(["toy_final"])[0]
    outputs = [
        _call("bash", command="echo 9 > answer.txt"),
        _call("score"),
        _call("bash", command="echo not-a-number > answer.txt"),
        _call("submit", answer="done"),
    ]
    model = get_model("mockllm/model", custom_outputs=outputs)
    task = family_task(family, solver=rdbench_agent(), sandbox_spec="local")
    log = inspect_eval(task, model=model, log_dir=str(toy_path / "logs"), display="none")[0]
    final = log.samples[0].scores["rdbench_scorer"]
    assert math.isnan(final.value)
    assert final.answer.startswith("invalid submission")
    assert final.metadata["trajectory"][0]["score"] == pytest.approx(0.9)


TIMED_TOY = """
import os
from pathlib import Path

from rdbench.errors import InvalidSubmission, TimingUnreliable
from rdbench.tasks.contract import Normalization, ScoreResult, TaskFamily

class ToyTimed(TaskFamily):
    name = "toy_timed"
    human_minutes = 30.0
    timing_sensitive = True
    normalization = Normalization(start=1.0, reference=0.1, transform="log", direction="lower")

    def score(self, workspace, variant):
        text = (workspace / "answer.txt").read_text().strip()
        if text == "busy":
            raise TimingUnreliable("timing unreliable: yardstick spread 31%")
        if text.startswith("busy-once:"):  # refused the first time it is scored only
            marker = Path(os.environ["RDBENCH_TASKS_PATH"]) / "refused-once"
            if not marker.exists():
                marker.write_text("")
                raise TimingUnreliable("timing unreliable: yardstick spread 40%")
            text = text.split(":", 1)[1]
        ratio = float(text)
        return ScoreResult(ratio, {"solution_s": [ratio * 2.0], "yardstick_s": [2.0]})
"""


@pytest.fixture
def timed_toy_path(tmp_path, monkeypatch):
    folder = tmp_path / "families" / "toy_timed"
    for sub in ("workspace", "starting", "reference"):
        (folder / sub).mkdir(parents=True)
    (folder / "family.py").write_text(textwrap.dedent(TIMED_TOY))
    (folder / "instructions.md").write_text("Make answer.txt small.")
    (folder / "starting" / "answer.txt").write_text("1.0")
    (folder / "reference" / "answer.txt").write_text("0.1")
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(tmp_path / "families"))
    return tmp_path


def test_details_are_logged_and_unreliable_timing_is_a_flag_not_a_score(
    timed_toy_path, monkeypatch
):
    """A family's ScoreResult details reach the log; a TimingUnreliable is recorded as a
    flag (NaN, not valid), the agent is told to try again, and the attempt goes on; the
    final scoring is tried again before a refusal stands."""
    import rdbench.tasks.inspect_adapter as adapter
    from rdbench.agents import rdbench_agent
    from rdbench.records.inspect_logs import read_eval_log_file
    from rdbench.tasks.inspect_adapter import family_task

    monkeypatch.setattr(adapter, "FINAL_TIMING_RETRY_PAUSES_S", (0.0, 0.0))

    family = load_families(["toy_timed"])[0]
    outputs = [
        _call("bash", command="echo 0.5 > answer.txt"),
        _call("score"),
        _call("bash", command="echo busy > answer.txt"),
        _call("score"),
        _call("submit", answer="done"),
    ]
    model = get_model("mockllm/model", custom_outputs=outputs)
    task = family_task(family, solver=rdbench_agent(), sandbox_spec="local")
    log = inspect_eval(task, model=model, log_dir=str(timed_toy_path / "logs"), display="none")[0]
    assert log.status == "success", log.error
    sample = log.samples[0]
    assert sample.error is None
    first, second = [e for e in _score_events(sample) if e.intermediate]
    assert first.score.metadata["details"] == {"solution_s": [1.0], "yardstick_s": [2.0]}
    assert "timing_unreliable" not in first.score.metadata
    assert math.isnan(second.score.value)
    assert second.score.metadata["valid"] is False
    assert second.score.metadata["timing_unreliable"] == "timing unreliable: yardstick spread 31%"
    tool_messages = [m.text for m in sample.messages if m.role == "tool"]
    assert any("timing unreliable, try again" in text and "31%" in text for text in tool_messages)
    assert not any("Score: invalid" in text for text in tool_messages)

    final = sample.scores["rdbench_scorer"]
    # policy "best": the valid intermediate score, with its details; the busy final
    # workspace is recorded as such and is no verdict
    assert final.value == pytest.approx(math.log(2) / math.log(10))
    assert final.metadata["details"]["yardstick_s"] == [2.0]
    assert final.metadata["submission_timing_unreliable"].endswith("spread 31%")
    assert final.metadata["submission_valid"] is False
    points = final.metadata["trajectory"]
    assert points[1]["timing_unreliable"].startswith("timing unreliable")
    assert "timing_unreliable" not in points[0] and points[0]["details"]["solution_s"] == [1.0]

    attempts, trajectory = read_eval_log_file(Path(log.location))
    assert attempts["score"].iloc[0] == pytest.approx(final.value)
    assert trajectory["score"].iloc[0] == pytest.approx(final.value)
    assert math.isnan(trajectory["score"].iloc[1])


def test_score_workspace_turns_timing_unreliable_into_a_flagged_result(timed_toy_path):
    from rdbench.tasks import score_solution

    family = load_families(["toy_timed"])[0]
    variant = family.variants()[0]
    result = score_solution(family, variant, "reference")
    assert result.valid and result.normalized == pytest.approx(1.0)
    assert result.details == {"solution_s": [0.2], "yardstick_s": [2.0]}
    assert result.as_dict()["details"] == result.details
    workspace = timed_toy_path / "busy"
    workspace.mkdir()
    (workspace / "answer.txt").write_text("busy")
    from rdbench.tasks import score_workspace

    busy = score_workspace(family, variant, workspace)
    assert not busy.valid and busy.raw is None and busy.normalized is None
    assert busy.timing_unreliable == "timing unreliable: yardstick spread 31%"
    assert busy.message.startswith("timing unreliable: yardstick spread 31% — ")
    assert "try again" in busy.message


def test_a_final_scoring_refused_once_is_retried(timed_toy_path, monkeypatch):
    """Load that comes and goes: the final scoring is tried again after a pause, and the
    second, reliable timing is the attempt's score."""
    import rdbench.tasks.inspect_adapter as adapter
    from rdbench.agents import rdbench_agent
    from rdbench.tasks.inspect_adapter import family_task

    monkeypatch.setattr(adapter, "FINAL_TIMING_RETRY_PAUSES_S", (0.0, 0.0))
    family = load_families(["toy_timed"])[0]
    outputs = [
        _call("bash", command="echo busy-once:0.5 > answer.txt"),
        _call("submit", answer="done"),
    ]
    model = get_model("mockllm/model", custom_outputs=outputs)
    task = family_task(family, solver=rdbench_agent(), sandbox_spec="local")
    log = inspect_eval(task, model=model, log_dir=str(timed_toy_path / "logs"), display="none")[0]
    assert log.status == "success", log.error
    final = log.samples[0].scores["rdbench_scorer"]
    assert (timed_toy_path / "families" / "refused-once").exists()  # it was refused once
    assert final.value == pytest.approx(math.log(2) / math.log(10))
    assert "submission_timing_unreliable" not in final.metadata
