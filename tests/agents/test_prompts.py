"""Scaffold settings, prompts rendered with the budget, and working-time reminders."""

from __future__ import annotations

import pytest

from rdbench.agents.prompts import ReminderSchedule, format_budget, render_system_prompt
from rdbench.agents.settings import SCAFFOLDS, ScaffoldSettings, get_scaffold
from rdbench.errors import UserError


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45 seconds"), (60, "1 minute"), (1800, "30 minutes"), (3600, "1 hour"),
     (5400, "1 hour 30 minutes"), (8 * 3600, "8 hours")],
)
def test_format_budget(seconds, text):
    assert format_budget(seconds) == text


@pytest.mark.parametrize("name", sorted(SCAFFOLDS))
def test_every_prompt_states_the_budget_and_the_tools(name):
    settings = get_scaffold(name)
    prompt = render_system_prompt(settings, 5400, score_visible=True)
    assert "1 hour 30 minutes" in prompt
    for tool in settings.tools:
        assert tool in prompt
    assert "submit" in prompt


def test_full_prompt_explains_score_tool_and_submission():
    prompt = render_system_prompt(get_scaffold("react"), 1800, score_visible=True)
    assert "30 minutes of working time" in prompt
    assert "0 is the starting solution, 1 the reference" in prompt
    assert "The submission is your workspace" in prompt
    hidden = render_system_prompt(get_scaffold("react"), 1800, score_visible=False)
    assert "does not reveal the score" in hidden
    assert "0 is the starting solution" not in hidden


def test_settings_are_named_versioned_and_serializable():
    import json

    settings = get_scaffold("react").with_attempt_length(1800)
    data = settings.as_dict()
    assert data["label"] == "react-v1" and data["attempt_length_s"] == 1800
    assert json.loads(json.dumps(data)) == data
    assert len({s.label for s in SCAFFOLDS.values()}) == len(SCAFFOLDS)
    with pytest.raises(Exception):
        settings.version = 2  # frozen


def test_unknown_scaffold_is_a_user_error():
    with pytest.raises(UserError, match="unknown scaffold 'nope'.*react"):
        get_scaffold("nope")


def test_reminders_fire_once_per_threshold_at_the_right_working_times():
    schedule = ReminderSchedule((0.5, 0.25, 0.1))
    budget = 1000.0
    fired = {t: schedule.due(t, budget) for t in (0, 100, 499, 500, 600, 749, 750, 760, 899, 905, 990)}
    assert [t for t, text in fired.items() if text] == [500, 750, 905]
    assert "used 8 minutes" in fired[500] and "about 8 minutes remain" in fired[500]
    assert "about 2 minutes remain" in fired[905]


def test_one_reminder_covers_several_crossed_thresholds():
    schedule = ReminderSchedule((0.5, 0.25, 0.1))
    assert schedule.due(950, 1000) is not None
    assert schedule.due(990, 1000) is None  # all three thresholds were covered at once


def test_no_reminders_without_budget_or_thresholds():
    assert ReminderSchedule((0.5,)).due(900, None) is None
    assert ReminderSchedule(()).due(900, 1000) is None
    assert ReminderSchedule((0.0, 1.0, 1.5)).due(999, 1000) is None  # out-of-range ignored


def test_custom_settings_object():
    settings = ScaffoldSettings(name="mine", version=3, prompt="minimal", tools=("bash",))
    assert settings.label == "mine-v3"
    assert "`bash`" in render_system_prompt(settings, 600, True)
