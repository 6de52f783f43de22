"""A lenient parser for tool calls that small models write as text.

Small local models rarely produce a provider's structured tool calls; they write JSON (or
something close to it) in their reply. This module finds such calls in text:

- fenced blocks: ```json {"name": "bash", "arguments": {"cmd": "ls"}} ```
- Hermes/Qwen tags: `<tool_call>{...}</tool_call>` (closing tag optional)
- bare JSON objects or lists of them anywhere in the text
- near-JSON: single quotes, Python literals (True/None), trailing commas
- several key spellings: name/function/tool/tool_name and arguments/parameters/args/input,
  OpenAI's nested `{"function": {"name": ..., "arguments": "<json string>"}}`
- Python-style calls of a known tool: `bash(cmd="ls")`, `score()`

When the tool schemas are given, only known tools are accepted, an argument under the wrong
name is moved to the tool's only parameter (e.g. `cmd` -> `command` for bash), and
arguments the tool does not have are dropped.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspect_ai.tool import ToolCall, ToolInfo

_NAME_KEYS = ("name", "function", "tool", "tool_name", "action", "command_name")
_ARG_KEYS = ("arguments", "parameters", "args", "input", "params", "action_input", "kwargs")
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_PY_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


@dataclass
class ParsedReply:
    """The result of parsing a model's reply.

    Attributes:
        tool_calls: The calls found, in order of appearance.
        text: The reply with the recognised calls removed (the model's prose).
    """

    tool_calls: list[ToolCall] = field(default_factory=list)
    text: str = ""


def parse_tool_calls(
    text: str, tools: Sequence[ToolInfo] | None = None, id_prefix: str = "call"
) -> ParsedReply:
    """Find the tool calls written in `text`.

    Args:
        text: The model's reply.
        tools: The tools offered to the model; if given, calls of other names are ignored
            and misnamed single arguments are repaired.
        id_prefix: Prefix of the generated tool-call ids (`<prefix>_<n>`).

    Returns:
        A `ParsedReply` with the calls (possibly none) and the remaining prose.
    """
    schemas = {t.name: t for t in tools} if tools is not None else None
    found: list[tuple[int, int, str, dict[str, Any]]] = []  # (start, end, name, arguments)

    for start, end, payload in _candidates(text):
        if any(s <= start < e for s, e, _, _ in found):
            continue
        for name, arguments in _calls_in_payload(payload, schemas):
            found.append((start, end, name, arguments))
    if not found and schemas:
        found = list(_python_style_calls(text, schemas))

    found.sort(key=lambda item: item[0])
    calls = [
        ToolCall(id=f"{id_prefix}_{i}", function=name, arguments=arguments)
        for i, (_, _, name, arguments) in enumerate(found)
    ]
    prose = text
    for start, end in sorted({(s, e) for s, e, _, _ in found}, reverse=True):
        prose = prose[:start] + prose[end:]
    return ParsedReply(calls, prose.strip())


# -- finding candidate payloads -----------------------------------------------------------------
def _candidates(text: str) -> Iterable[tuple[int, int, str]]:
    """Yield (start, end, payload) for fenced blocks, tags, then bare JSON objects/lists."""
    for pattern in (_TAG, _FENCE):
        for match in pattern.finditer(text):
            yield match.start(), match.end(), match.group(1)
    for start, end in _balanced_spans(text):
        yield start, end, text[start:end]


def _balanced_spans(text: str) -> Iterable[tuple[int, int]]:
    """Yield spans of top-level balanced {...} or [...] groups, skipping quoted strings."""
    i = 0
    while i < len(text):
        if text[i] not in "{[":
            i += 1
            continue
        end = _match_close(text, i)
        if end is None:
            i += 1
            continue
        yield i, end
        i = end


_JSON_BRACKETS = {"{": "}", "[": "]"}


def _match_close(text: str, start: int, pairs: dict[str, str] = _JSON_BRACKETS) -> int | None:
    """Return the index just past the bracket that closes the one at `start`, or None.

    Only the brackets in `pairs` count, and none inside quoted strings; a closer of the wrong
    kind ends the match (None)."""
    closers = set(pairs.values())
    stack = [pairs[text[start]]]
    quote: str | None = None
    i = start + 1
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in pairs:
            stack.append(pairs[ch])
        elif ch in closers:
            if not stack or ch != stack[-1]:
                return None
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    return None


# -- interpreting a payload -----------------------------------------------------------------------
def _loads(payload: str) -> Any:
    """Parse JSON, then near-JSON (single quotes, Python literals, trailing commas)."""
    payload = payload.strip()
    if not payload:
        return None
    try:
        return json.loads(payload)
    except ValueError:
        pass
    relaxed = re.sub(r",\s*([}\]])", r"\1", payload)
    try:
        return json.loads(relaxed)
    except ValueError:
        pass
    pythonish = re.sub(r"\btrue\b", "True", relaxed)
    pythonish = re.sub(r"\bfalse\b", "False", pythonish)
    pythonish = re.sub(r"\bnull\b", "None", pythonish)
    try:
        return ast.literal_eval(pythonish)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    # A fenced block or tag may hold prose around the JSON: look inside it.
    for start, end in _balanced_spans(payload):
        if (start, end) != (0, len(payload)):
            inner = _loads(payload[start:end])
            if inner is not None:
                return inner
    return None


def _calls_in_payload(
    payload: str, schemas: dict[str, ToolInfo] | None
) -> list[tuple[str, dict[str, Any]]]:
    data = _loads(payload)
    items = data if isinstance(data, list) else [data]
    calls = []
    for item in items:
        call = _call_from_object(item, schemas)
        if call is not None:
            calls.append(call)
    return calls


def _call_from_object(
    obj: Any, schemas: dict[str, ToolInfo] | None
) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(obj, dict):
        return None
    # OpenAI style: {"type": "function", "function": {"name": ..., "arguments": "..."}}
    nested = obj.get("function")
    if isinstance(nested, dict) and "name" in nested:
        obj = nested
    name = next((obj[k] for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    if name is None:
        return None
    name = name.strip()
    raw_args: Any = next((obj[k] for k in _ARG_KEYS if k in obj), None)
    if raw_args is None:
        # Flat form: {"name": "bash", "cmd": "ls"}
        raw_args = {k: v for k, v in obj.items() if k not in _NAME_KEYS and k != "type"}
    if isinstance(raw_args, str):
        parsed = _loads(raw_args)
        raw_args = parsed if isinstance(parsed, dict) else raw_args
    if schemas is not None:
        if name not in schemas:
            return None
        arguments = _fit_arguments(raw_args, schemas[name])
    else:
        arguments = raw_args if isinstance(raw_args, dict) else {"input": raw_args}
    return name, arguments


def _fit_arguments(raw: Any, schema: ToolInfo) -> dict[str, Any]:
    """Repair arguments against the tool's parameters where the intent is unambiguous.

    A value for a one-parameter tool goes to that parameter whatever its key; keys the tool
    does not have are dropped (small models add stray ones, which the tool would reject).
    """
    params = list(schema.parameters.properties)
    if not isinstance(raw, dict):
        return {params[0]: raw} if len(params) == 1 else {}
    known = {k: v for k, v in raw.items() if k in params}
    if len(params) == 1 and not known and raw:
        return {params[0]: next(iter(raw.values()))}
    return known


def _python_style_calls(
    text: str, schemas: dict[str, ToolInfo]
) -> Iterable[tuple[int, int, str, dict[str, Any]]]:
    """Yield calls written like Python: `bash(cmd="ls")`, `bash("ls")`, `score()`."""
    for match in _PY_CALL.finditer(text):
        name = match.group(1)
        if name not in schemas:
            continue
        close = _match_close(text, match.end() - 1, {"(": ")"})
        if close is None:
            continue
        source = text[match.start() : close]
        try:
            node = ast.parse(source, mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(node, ast.Call):
            continue
        try:
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
            args = [ast.literal_eval(a) for a in node.args]
        except ValueError:
            continue
        params = list(schemas[name].parameters.properties)
        for param, value in zip(params, args):
            kwargs.setdefault(param, value)
        yield match.start(), close, name, _fit_arguments(kwargs, schemas[name]) if kwargs else {}
