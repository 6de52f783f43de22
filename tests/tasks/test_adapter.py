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
