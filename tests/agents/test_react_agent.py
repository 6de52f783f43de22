"""rdbench's react scaffold driven by a scripted mock model on optimize_kernel."""

from __future__ import annotations

import math

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

from rdbench.agents import rdbench_agent
from rdbench.tasks.inspect_adapter import family_task
from rdbench.tasks.loader import load_families

from scripted_model import scripted_attempt


def _score_events(sample):
    return [e for e in sample.events if getattr(e, "event", None) == "score"]


@pytest.mark.parametrize("sandbox", ["bwrap"])
def test_bash_score_twice_submit_on_optimize_kernel(tmp_path, fast_solution_steps, sandbox):
    family = load_families(["optimize_kernel"])[0]
    model = get_model("mockllm/model", custom_outputs=scripted_attempt(fast_solution_steps))
    task = family_task(
        family, solver=rdbench_agent(), sandbox_spec=sandbox, time_limit=600,
        metadata={"rdbench_agent": "scripted", "rdbench_scaffold": "react-v1"},
    )
    log = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success", log.error
    sample = log.samples[0]
    assert sample.error is None, sample.error

    intermediate = [e for e in _score_events(sample) if e.intermediate]
    assert len(intermediate) == 2
    first, second = intermediate
    assert first.working_start < second.working_start
    timed = [e for e in intermediate if not e.score.metadata.get("timing_unreliable")]
    if not timed:  # a busy machine may refuse to time every scoring (tested on its own)
        pytest.skip("this machine is too busy to time the scorer: "
                    f"{intermediate[0].score.metadata['timing_unreliable']}")
    for event in timed:
        assert event.score.metadata["valid"] is True, event.score.metadata
        # The reference normalizes to about 1 on an idle machine; under load it is slower,
        # but always clearly better than the starting solution.
        assert 0.0 < event.score.value < 2.0

    final = sample.scores["rdbench_scorer"]
    trajectory = final.metadata["trajectory"]
    assert [p["working_s"] for p in trajectory] == sorted(p["working_s"] for p in trajectory)
    assert final.metadata["final_score_policy"] == "best"
    timed_scores = [p["score"] for p in trajectory if p["score"] is not None]  # None: refused
    assert timed_scores
    assert final.value >= max(timed_scores) - 1e-9
    if math.isfinite(final.value):  # NaN only when the final scoring was refused as well
        assert final.metadata["normalized"] == pytest.approx(final.value)
    else:
        assert final.metadata.get("submission_timing_unreliable"), final.metadata

    # The prompt told the agent its real budget (the working limit).
    system = sample.messages[0]
    assert system.role == "system" and "10 minutes of working time" in system.text
    usage = sample.model_usage["mockllm/model"]
    assert usage.input_tokens == 5 * 1000 and usage.output_tokens == 5 * 100


def test_reminder_fires_on_the_working_time_clock(tmp_path):
    """Budget 12 s, remind at 60% left (after 4.8 s): not after a quick step, but after `sleep 5`."""
    from scripted_model import tool_call, write_reference_command

    from rdbench.agents.settings import ScaffoldSettings

    settings = ScaffoldSettings(name="test-reminders", version=1, reminder_fractions=(0.6,))
    steps = [
        tool_call("bash", command=write_reference_command()),
        tool_call("bash", command="sleep 5"),
        tool_call("submit", answer="done"),
    ]
    family = load_families(["optimize_kernel"])[0]
    model = get_model("mockllm/model", custom_outputs=scripted_attempt(steps))
    task = family_task(
        family, solver=rdbench_agent(settings=settings), sandbox_spec="bwrap", time_limit=12
    )
    log = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none")[0]
    messages = log.samples[0].messages
    reminders = [i for i, m in enumerate(messages) if m.role == "user" and "Time check" in m.text]
    assert len(reminders) == 1, [m.text for m in messages if m.role == "user"]
    before = messages[reminders[0] - 1]
    assert before.role == "tool" and before.function == "bash"
    assert messages[reminders[0] - 2].tool_calls[0].arguments == {"command": "sleep 5"}
    assert "of your 12 seconds working-time budget" in messages[reminders[0]].text


def test_context_policies_map_to_inspect_compaction_and_truncation():
    from inspect_ai.model import CompactionAuto

    from rdbench.agents.react import _context
    from rdbench.agents.settings import get_scaffold

    compaction, truncation = _context(get_scaffold("react-compact"))
    assert isinstance(compaction, CompactionAuto) and truncation == "auto"
    assert _context(get_scaffold("react")) == (None, "auto")
    assert _context(get_scaffold("small-model")) == (None, "disabled")
