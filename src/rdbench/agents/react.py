"""rdbench's react scaffold: Inspect's `react` with bash, python, `score` and submit."""

from __future__ import annotations

from inspect_ai.agent import Agent, AgentPrompt, react
from inspect_ai.tool import bash, python

from rdbench.tasks.inspect_adapter import score_tool

SCAFFOLD_VERSION = "react-v1"

SYSTEM_PROMPT = """You are an expert AI research engineer working on an optimization task.
Your workspace is the current directory. Use the bash and python tools to inspect files, run
experiments and improve the solution. Use the `score` tool to score your current solution
with the task's official scorer: 0 is the starting solution, 1 the reference solution, and
higher is better. You have a limited working-time budget; keep a valid solution in the
workspace at all times, because the workspace is scored when time runs out. When you are
done, call `submit` (the submission is your workspace; the answer text is ignored)."""


def rdbench_agent(score_visible: bool = True, timeout: int = 600) -> Agent:
    """Return the default react agent for rdbench tasks.

    Args:
        score_visible: Whether the `score` tool reveals the score (False: it only validates).
        timeout: Per-command timeout of the bash and python tools, in seconds.
    """
    return react(
        name="rdbench_react",
        description="rdbench react scaffold",
        prompt=AgentPrompt(instructions=SYSTEM_PROMPT),
        tools=[bash(timeout=timeout), python(timeout=timeout), score_tool(visible=score_visible)],
    )
