"""The reference-replay agent: applies a family's reference solution step by step.

It needs no model. Between steps it calls the real `score` tool, so its trajectory rises
from the starting solution (0) to the reference (1). It proves the whole path — sandbox,
scorer, intermediate scores, final score, log — works, and `rdbench demo` runs it.
"""

from __future__ import annotations

from inspect_ai.model import ChatMessageAssistant, ChatMessageTool, ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolCall
from inspect_ai.util import sandbox

from rdbench.tasks.inspect_adapter import _family, score_tool


def replay_steps(family_name: str) -> list[tuple[str, dict[str, bytes]]]:
    """Return the replay steps of a family: (description, {relative path: content}).

    A family may define `replay_steps()` (e.g. an intermediate solution before the
    reference); by default there is one step: write every file of `reference/`.
    """
    family = _family(family_name)
    custom = getattr(family, "replay_steps", None)
    if callable(custom):
        return list(custom())
    files = {
        path.relative_to(family.reference_dir).as_posix(): path.read_bytes()
        for path in sorted(family.reference_dir.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    return [("apply the reference solution", files)]


@solver
def replay_agent() -> Solver:
    """Return a solver that replays the reference solution, scoring before and after each step."""
    score = score_tool(visible=True)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        family_name = str(state.metadata["family"])
        call_index = 0

        async def call_score(note: str) -> None:
            nonlocal call_index
            call_index += 1
            call = ToolCall(id=f"score-{call_index}", function="score", arguments={})
            state.messages.append(ChatMessageAssistant(content=note, tool_calls=[call]))
            result = await score()
            state.messages.append(
                ChatMessageTool(content=str(result), tool_call_id=call.id, function="score")
            )

        await call_score("Scoring the starting solution.")
        for description, files in replay_steps(family_name):
            for rel, content in files.items():
                await sandbox().write_file(rel, content)
            await call_score(f"Step: {description}. Scoring it.")
        state.output = ModelOutput.from_content("replay", "Submitted the reference solution.")
        state.messages.append(state.output.message)
        return state

    return solve
