"""The lenient tool-call parser on the messy formats small models write."""

from __future__ import annotations

import pytest
from inspect_ai.tool import ToolInfo, ToolParam, ToolParams

from rdbench.models.toolcall_parser import parse_tool_calls


def _tool(name: str, *params: str) -> ToolInfo:
    return ToolInfo(
        name=name,
        description=f"The {name} tool.",
        parameters=ToolParams(
            properties={p: ToolParam(type="string") for p in params}, required=list(params)
        ),
    )


TOOLS = [_tool("bash", "command"), _tool("python", "code"), _tool("score"), _tool("submit", "answer")]


def _calls(text: str, tools=TOOLS):
    return [(c.function, c.arguments) for c in parse_tool_calls(text, tools).tool_calls]


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "bash", "arguments": {"command": "ls"}}',
        'Let me look.\n```json\n{"name": "bash", "arguments": {"command": "ls"}}\n```',
        '```\n{"name": "bash", "arguments": {"command": "ls"}}\n```\nthen I will score.',
        '<tool_call>\n{"name": "bash", "arguments": {"command": "ls"}}\n</tool_call>',
        '<tool_call>{"name": "bash", "arguments": {"command": "ls"}}',  # unclosed tag
        "{'name': 'bash', 'arguments': {'command': 'ls'}}",  # Python quotes
        '{"name": "bash", "arguments": {"command": "ls",},}',  # trailing commas
        '{"name": "bash", "parameters": {"command": "ls"}}',
        '{"tool": "bash", "args": {"command": "ls"}}',
        '{"function": {"name": "bash", "arguments": "{\\"command\\": \\"ls\\"}"}, "type": "function"}',
        '{"name": "bash", "arguments": "{\\"command\\": \\"ls\\"}"}',  # arguments as a JSON string
        '{"name": "bash", "arguments": {"cmd": "ls"}}',  # wrong argument name, one parameter
        '{"name": "bash", "arguments": "ls"}',  # bare string for a one-parameter tool
        '{"name": "bash", "command": "ls"}',  # flat form
        'I will run bash(command="ls") now.',  # Python-style call
        "bash('ls')",
    ],
)
def test_one_bash_call_in_many_formats(text):
    assert _calls(text) == [("bash", {"command": "ls"})]


def test_several_calls_in_order_and_prose_kept():
    text = (
        'First {"name": "bash", "arguments": {"command": "make"}} and then\n'
        '```json\n[{"name": "score", "arguments": {}}, {"name": "submit", "arguments": {"answer": "ok"}}]\n```'
    )
    parsed = parse_tool_calls(text, TOOLS)
    assert [(c.function, c.arguments) for c in parsed.tool_calls] == [
        ("bash", {"command": "make"}),
        ("score", {}),
        ("submit", {"answer": "ok"}),
    ]
    assert parsed.text.startswith("First") and "and then" in parsed.text
    assert "{" not in parsed.text
    assert [c.id for c in parsed.tool_calls] == ["call_0", "call_1", "call_2"]


def test_nested_braces_and_quotes_inside_arguments():
    code = 'print({"a": 1}["a"]) # }'
    text = '{"name": "python", "arguments": {"code": ' + __import__("json").dumps(code) + "}}"
    assert _calls(text) == [("python", {"code": code})]


def test_literals_true_false_null():
    text = "{'name': 'submit', 'arguments': {'answer': None}}"
    assert _calls(text) == [("submit", {"answer": None})]
    assert _calls('{"name": "submit", "arguments": {"answer": null}}') == [("submit", {"answer": None})]


@pytest.mark.parametrize(
    "text",
    [
        "I think the solution is fine.",
        '{"command": "ls"}',  # arguments without a tool name
        '{"name": "rm_everything", "arguments": {}}',  # not an offered tool
        '{"name": "bash", "arguments": {"command": "ls"',  # truncated
        "```json\nnot json at all\n```",
        "",
    ],
)
def test_no_call_found(text):
    assert _calls(text) == []


def test_unknown_names_accepted_without_schemas():
    assert _calls('{"name": "anything", "arguments": {"x": 1}}', tools=None) == [
        ("anything", {"x": 1})
    ]


def test_stray_arguments_are_dropped():
    text = '{"name": "bash", "arguments": {"command": "ls", "args": {"command": "ls"}}}'
    assert _calls(text) == [("bash", {"command": "ls"})]
    assert _calls('{"name": "score", "arguments": {"verbose": true}}') == [("score", {})]


def test_score_call_without_arguments():
    assert _calls('{"name": "score"}') == [("score", {})]
    assert _calls("score()") == [("score", {})]
