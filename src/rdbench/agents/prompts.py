"""The scaffold's system prompts and working-time reminders (pure functions, no Inspect).

Prompts are rendered per attempt, with that attempt's working-time budget, so the agent is
told the budget it actually has.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdbench.agents.settings import ScaffoldSettings


def format_budget(seconds: float) -> str:
    """Return a duration for the agent to read: `8 hours`, `30 minutes`, `1 hour 30 minutes`.

    Returns:
        Whole hours and minutes (seconds only under one minute).
    """
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{int(round(seconds))} seconds"
    total_minutes = int(round(seconds / 60))
    hours, minutes = divmod(total_minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


_SCORE_VISIBLE = (
    "- `score`: scores the solution currently in your workspace with the task's official "
    "scorer and tells you its normalized score: 0 is the starting solution, 1 the reference "
    "solution written by an expert, higher is better and above 1 is possible. Every call is "
    "recorded. Scoring takes real time (it runs your solution), so use it to check progress, "
    "not after every small edit."
)
_SCORE_HIDDEN = (
    "- `score`: checks that the solution in your workspace is valid with the task's official "
    "scorer. This task does not reveal the score before the end."
)
_TOOL_LINES = {
    "bash": "- `bash`: runs a shell command in your workspace (the current directory).",
    "python": "- `python`: runs a Python script (print what you want to see).",
}

_FULL = """You are an expert AI research engineer working alone on an optimization task.

## Budget
You have {budget} of working time for this attempt. Working time is the time your model
calls and your tool calls take; it runs out whatever you are doing. You will get reminders
of the time left. When the budget is used up the attempt stops and your workspace is scored
as it is at that moment.

## Tools
{tools}
- `submit`: ends the attempt. The submission is your workspace (the text you pass is only a
  note). Submit when you cannot improve further in the time left.

## How you are scored
{scoring}

## Working well
- Read the task files first, then measure the starting solution before changing it.
- Make one change at a time, test it, and score it when you expect an improvement.
- Keep a valid solution in the workspace at all times: an invalid or broken workspace at the
  end can score nothing. Keep copies of your best version (e.g. `cp solution.py best.py`).
- Long-running commands block you: give them timeouts and prefer quick experiments."""

_MINIMAL = """Solve the task below. You have {budget} of working time.
Tools: {tool_names}, and `submit` to finish (your workspace is what gets scored)."""

_SMALL_MODEL = """You solve a programming task by calling tools. You have {budget}.
Tools: {tool_names}, submit.
To call a tool, reply with only one JSON object, for example:
{{"name": "bash", "arguments": {{"command": "ls"}}}}
{{"name": "score", "arguments": {{}}}}
{{"name": "submit", "arguments": {{"answer": "done"}}}}"""


def render_system_prompt(settings: ScaffoldSettings, budget_s: float, score_visible: bool) -> str:
    """Return the system prompt of `settings`' prompt variant for a budget of `budget_s`.

    Args:
        settings: The scaffold settings (its `prompt` and `tools` matter here).
        budget_s: The attempt's working-time budget in seconds.
        score_visible: Whether the task's `score` tool reveals the score.

    Returns:
        The prompt text, mentioning the budget and the tools.

    Raises:
        ValueError: an unknown prompt variant.
    """
    tool_names = ", ".join(f"`{t}`" for t in settings.tools)
    budget = format_budget(budget_s)
    if settings.prompt == "minimal":
        return _MINIMAL.format(budget=budget, tool_names=tool_names)
    if settings.prompt == "small-model":
        return _SMALL_MODEL.format(budget=budget, tool_names=", ".join(settings.tools))
    if settings.prompt != "full":
        raise ValueError(f"unknown prompt variant {settings.prompt!r}")
    lines = []
    for name in settings.tools:
        if name == "score":
            lines.append(_SCORE_VISIBLE if score_visible else _SCORE_HIDDEN)
        else:
            lines.append(_TOOL_LINES[name])
    scoring = (
        "Your final score is computed by the same scorer outside your reach when the attempt "
        "ends. The task says whether your best `score` result or your final workspace counts."
    )
    return _FULL.format(budget=budget, tools="\n".join(lines), scoring=scoring)


class ReminderSchedule:
    """Decides when to remind the agent of its remaining working time.

    One reminder fires the first time the remaining fraction of the budget falls to or below
    each threshold; if several thresholds were crossed since the last check, one reminder
    covers them all.
    """

    def __init__(self, fractions: Iterable[float]) -> None:
        self._pending = sorted({float(f) for f in fractions if 0 < float(f) < 1}, reverse=True)

    def due(self, elapsed_s: float, budget_s: float | None) -> str | None:
        """Return the reminder due at `elapsed_s` of working time, or None.

        Args:
            elapsed_s: Working time used so far, in seconds.
            budget_s: The attempt's working-time budget (None or <= 0: never remind).

        Returns:
            The reminder text, or None when no new threshold has been crossed.
        """
        if not budget_s or budget_s <= 0 or not self._pending:
            return None
        remaining = max(0.0, budget_s - elapsed_s)
        crossed = [f for f in self._pending if remaining <= f * budget_s]
        if not crossed:
            return None
        self._pending = [f for f in self._pending if f not in crossed]
        return reminder_text(elapsed_s, budget_s)


def reminder_text(elapsed_s: float, budget_s: float) -> str:
    """Return the reminder message for `elapsed_s` used of `budget_s` working seconds."""
    remaining = max(0.0, budget_s - elapsed_s)
    return (
        f"Time check: you have used {format_budget(elapsed_s)} of your {format_budget(budget_s)} "
        f"working-time budget; about {format_budget(remaining)} remain. When it runs out your "
        "workspace is scored as it is, so keep a valid solution in it."
    )
