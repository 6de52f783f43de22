"""Scripted mock-model helpers for the agent tests: only the model API boundary is mocked."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.model import ChatMessageAssistant, ModelOutput, ModelUsage

REFERENCE = (
    Path(__file__).resolve().parents[2] / "src" / "rdbench" / "tasks" / "optimize_kernel" / "reference"
)


def tool_call(tool: str, **arguments: object) -> ModelOutput:
    """A mock model turn calling `tool`, with explicit usage (no tokenizer download)."""
    output = ModelOutput.for_tool_call("mockllm/model", tool, arguments)
    output.usage = ModelUsage(input_tokens=1000, output_tokens=100, total_tokens=1100)
    return output


def write_reference_command() -> str:
    """A bash command that writes optimize_kernel's reference solution (fast to score)."""
    parts = []
    for name in ("scan.c", "solution.py"):
        text = (REFERENCE / name).read_text()
        assert "RDBENCH_EOF" not in text
        parts.append(f"cat > {name} <<'RDBENCH_EOF'\n{text}RDBENCH_EOF")
    return "\n".join(parts)


def scripted_attempt(steps: list[ModelOutput]):
    """Return a stateless mockllm `custom_outputs` callable: turn n of any attempt -> steps[n].

    Stateless (the turn is the number of assistant messages so far), so concurrent
    attempts (epochs) each follow the whole script.
    """

    def next_output(input, tools, tool_choice, config):  # noqa: A002 - Inspect's signature
        turn = sum(isinstance(m, ChatMessageAssistant) for m in input)
        return steps[min(turn, len(steps) - 1)].model_copy(deep=True)

    return next_output
