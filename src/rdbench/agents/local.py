"""One short, real attempt by the embedded local model (SmolLM2-135M), for `rdbench demo`.

No API key, no network: the model runs in-process on CPU (`rdbench.models.local`) inside the
`small-model` scaffold. It will score low — a 135M model cannot optimize a kernel — but the
attempt is real: model turns, tool calls in a sandbox, `score` calls, the final scorer and
an Inspect log that `inspect view` opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdbench.agents.settings import get_scaffold

LOCAL_SCAFFOLD = "small-model"
LOCAL_AGENT_LABEL = "smollm2-135m (local)"


def run_local_model_attempt(
    family: str = "optimize_kernel",
    log_dir: str | Path = "logs",
    time_limit: int = 300,
    sandbox: str = "bwrap",
    max_turns: int = 6,
    model: str | None = None,
    display: str = "plain",
) -> Any:
    """Run one short attempt by the local model on `family`'s first task; return its EvalLog.

    Args:
        family: The task family.
        log_dir: Where the log goes.
        time_limit: Working-time budget in seconds (model loading happens before it starts).
        sandbox: `bwrap` (default), `local` or `docker`.
        max_turns: Model turns before the attempt stops (each turn is a reply + tool result).
        model: The model (default `rdbench-local/smollm2-135m`).
        display: Inspect's display (`plain`, `rich`, `none`, ...).

    Returns:
        The attempt's `EvalLog` (status `success` even when the model does nothing useful).

    Raises:
        UserError: the local model's packages or files are missing (names what to install),
            or the family is unknown.
    """
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import GenerateConfig, get_model

    from rdbench.agents.react import rdbench_agent
    from rdbench.logschema import EvalMetadata
    from rdbench.models.local import DEFAULT_MODEL
    from rdbench.tasks.inspect_adapter import family_task
    from rdbench.tasks.loader import load_families

    from rdbench.agents.pricing import load_prices, price_for, register_prices

    loaded_family = load_families([family])[0]
    model_name = model or DEFAULT_MODEL
    prices = price_for(model_name, load_prices())
    if prices is not None:
        register_prices(model_name, prices)
    settings = get_scaffold(LOCAL_SCAFFOLD).with_attempt_length(float(time_limit))
    # Made (and loaded) here, so that loading the weights is not charged to the attempt.
    local_model = get_model(model_name, config=GenerateConfig(seed=0))
    task = family_task(
        loaded_family,
        variants=loaded_family.variants()[:1],
        solver=rdbench_agent(score_visible=loaded_family.score_visible, settings=settings),
        sandbox_spec=sandbox,
        time_limit=int(time_limit),
        # system + task + one assistant message and one tool result per turn
        message_limit=2 + 2 * max_turns,
        metadata=EvalMetadata(
            agent=LOCAL_AGENT_LABEL,
            scaffold=settings.label,
            scaffold_settings=settings.as_dict(),
            is_human=False,
            prices={model_name: prices} if prices is not None else {},
        ).to_metadata(),
    )
    logs = inspect_eval(
        task, model=local_model, log_dir=str(log_dir), display=display,  # type: ignore[arg-type]
        log_level="warning",
    )
    return logs[0]
