"""Named, versioned elicitation settings of rdbench's react scaffold.

Scores depend on elicitation: the prompt, the tools, the reminders and the attempt length
all move them. Every such choice lives in one frozen `ScaffoldSettings`, has a name and a
version, and is written into the log (`rdbench_scaffold`, `rdbench_scaffold_settings`), so
two scaffolds can be run on the same tasks and their difference read off the logs.

Change a built-in scaffold's behaviour only together with its `version`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from rdbench.errors import UserError

PromptVariant = Literal["full", "minimal", "small-model"]
ContextPolicy = Literal["compact", "truncate", "none"]
ToolName = Literal["bash", "python", "score"]


@dataclass(frozen=True)
class ScaffoldSettings:
    """Everything about the react scaffold that can change an agent's score.

    Attributes:
        name: Scaffold name (e.g. `react`).
        version: Bumped whenever the behaviour under this name changes.
        prompt: Which system prompt (see `rdbench.agents.prompts`).
        tools: Tools besides submit, in order.
        reminder_fractions: Remind the agent of its remaining working time once each time the
            remaining fraction of the budget falls to or below one of these (e.g. 0.5 = half
            the budget left). Empty: no reminders.
        context: `compact` (Inspect's automatic compaction near the context limit: native
            where the provider has it, else a summary), `truncate` (Inspect's trimming when
            the model reports a context overflow; counts no tokens), or `none`.
        compaction_threshold: Fraction of the context window that triggers compaction.
        tool_timeout_s: Per-call timeout of bash and python, in seconds.
        attempt_length_s: Working-time budget of one attempt (None: the task's default).
    """

    name: str
    version: int
    prompt: PromptVariant = "full"
    tools: tuple[ToolName, ...] = ("bash", "python", "score")
    reminder_fractions: tuple[float, ...] = (0.5, 0.25, 0.1, 0.05)
    context: ContextPolicy = "truncate"
    compaction_threshold: float = 0.8
    tool_timeout_s: int = 600
    attempt_length_s: float | None = None

    @property
    def label(self) -> str:
        """Return `<name>-v<version>`, the value stored as `rdbench_scaffold`."""
        return f"{self.name}-v{self.version}"

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict (the form stored in the log)."""
        data = asdict(self)
        data["tools"] = list(self.tools)
        data["reminder_fractions"] = list(self.reminder_fractions)
        data["label"] = self.label
        return data

    def with_attempt_length(self, seconds: float | None) -> ScaffoldSettings:
        """Return a copy with `attempt_length_s` set."""
        return replace(self, attempt_length_s=seconds)


# The built-in scaffolds. `react` is the default: its context policy (trim on overflow) counts
# no tokens, so it works offline with any provider. `react-compact` is the same elicitation
# with Inspect's automatic compaction, better for very long runs with frontier models (it
# counts tokens with the provider's counter or tiktoken, which downloads its encoding once).
# `react-minimal` is an ablation (short prompt, no reminders) to measure how much the
# elicitation matters; `small-model` suits the embedded local model (short prompt that
# spells out the tool-call format).
SCAFFOLDS: dict[str, ScaffoldSettings] = {
    s.name: s
    for s in (
        ScaffoldSettings(name="react", version=1),
        ScaffoldSettings(name="react-compact", version=1, context="compact"),
        ScaffoldSettings(
            name="react-minimal", version=1, prompt="minimal", reminder_fractions=(),
            context="truncate",
        ),
        ScaffoldSettings(
            name="small-model", version=1, prompt="small-model", tools=("bash", "score"),
            reminder_fractions=(0.5, 0.1), context="none", tool_timeout_s=120,
        ),
    )
}
DEFAULT_SCAFFOLD = "react"


def get_scaffold(name: str) -> ScaffoldSettings:
    """Return the built-in scaffold settings called `name`.

    Raises:
        UserError: no scaffold has that name (the message lists the known ones).
    """
    try:
        return SCAFFOLDS[name]
    except KeyError:
        raise UserError(
            f"unknown scaffold {name!r}: choose one of {', '.join(sorted(SCAFFOLDS))}"
        ) from None
