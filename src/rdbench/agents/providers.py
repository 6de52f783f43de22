"""Check, before an eval starts, that a model named `provider/model` can be used here.

Any Inspect provider works by name; this turns a missing API key or provider package into
one line naming what to set or install, instead of a traceback minutes into a run.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

from rdbench.errors import UserError


@dataclass(frozen=True)
class ProviderNeeds:
    """What a provider needs: importable modules (with their pip names) and API key variables."""

    modules: tuple[tuple[str, str], ...] = ()
    key_vars: tuple[str, ...] = ()
    note: str = ""


# The providers users name most; others are checked by Inspect itself when the model is made.
PROVIDERS: dict[str, ProviderNeeds] = {
    "anthropic": ProviderNeeds((("anthropic", "anthropic"),), ("ANTHROPIC_API_KEY",)),
    "openai": ProviderNeeds((("openai", "openai"),), ("OPENAI_API_KEY",)),
    "google": ProviderNeeds(
        (("google.genai", "google-genai"),), ("GOOGLE_API_KEY", "GEMINI_API_KEY", "VERTEX_API_KEY")
    ),
    "mistral": ProviderNeeds((("mistralai", "mistralai"),), ("MISTRAL_API_KEY",)),
    "grok": ProviderNeeds((("openai", "openai"),), ("XAI_API_KEY",)),
    "together": ProviderNeeds((("openai", "openai"),), ("TOGETHER_API_KEY",)),
    "openrouter": ProviderNeeds((("openai", "openai"),), ("OPENROUTER_API_KEY",)),
    "ollama": ProviderNeeds(
        (("openai", "openai"),), (), "serve the model with `ollama serve` (OLLAMA_BASE_URL)"
    ),
    "vllm": ProviderNeeds(
        (("openai", "openai"),), (), "set VLLM_BASE_URL to a running server or pip install vllm"
    ),
    "hf": ProviderNeeds((("transformers", "transformers"), ("torch", "torch"))),
}


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a missing parent package of a dotted name
        return False


def check_model(model: str, model_args: dict[str, Any] | None = None) -> None:
    """Raise a one-line `UserError` if `model` cannot be used on this machine.

    Checks the provider's Python package and API key (for the providers in `PROVIDERS`),
    the local model's files (`rdbench-local/...`), then asks Inspect to create the model,
    which runs each provider's own checks.

    Raises:
        UserError: the name has no provider part, the provider is unknown, a package is
            missing (names the pip package) or no API key is set (names the variable).
    """
    if "/" not in model:
        raise UserError(
            f"model {model!r} must be provider/name, e.g. anthropic/claude-sonnet-4-5, "
            "openai/gpt-4.1, ollama/llama3.1, rdbench-local/smollm2-135m"
        )
    provider = model.split("/", 1)[0]
    if provider == "rdbench-local":
        from rdbench.models.local import check_local_model_name, check_local_model_prerequisites

        gguf = (model_args or {}).get("gguf")
        check_local_model_name(model, str(gguf) if gguf else None)
        check_local_model_prerequisites()
    needs = PROVIDERS.get(provider)
    if needs is not None:
        missing = [pip for module, pip in needs.modules if not _module_available(module)]
        if missing:
            raise UserError(
                f"model {model}: the {provider} provider needs the Python package(s) "
                f"{', '.join(missing)}: pip install {' '.join(missing)}"
            )
        if needs.key_vars and not any(os.environ.get(var) for var in needs.key_vars):
            raise UserError(
                f"model {model}: no API key: set {' or '.join(needs.key_vars)} in the environment"
            )
    _check_with_inspect(model, model_args or {})


def _check_with_inspect(model: str, model_args: dict[str, Any]) -> None:
    import rdbench.models.local  # noqa: F401  registers rdbench-local even without the entry point
    from inspect_ai.model import get_model

    try:
        get_model(model, **model_args)
    except UserError:
        raise
    except Exception as ex:  # Inspect's PrerequisiteError, ValueError for unknown providers, ...
        text = " ".join(str(ex).split()) or type(ex).__name__
        raise UserError(f"model {model}: {text}") from ex
