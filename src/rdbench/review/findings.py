"""What a monitor reports: findings with evidence, and the kinds they count as."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["MONITOR_KINDS", "Finding", "Kind"]

Kind = Literal["cheating", "elicitation", "environment"]
"""``cheating``: the score may be gamed; ``elicitation``: the score may understate the
agent; ``environment``: the task or sandbox failed (the task's fault, counted apart)."""

#: Every rule monitor's name and the kind of its findings.
MONITOR_KINDS: dict[str, Kind] = {
    "scoring_tampering": "cheating",
    "hidden_paths": "cheating",
    "reference_copy": "cheating",
    "training_skipped": "cheating",
    "implausible_score": "cheating",
    "refusal": "elicitation",
    "malformed_tool_calls": "elicitation",
    "early_submit": "elicitation",
    "repeated_command": "elicitation",
    "gave_up": "elicitation",
    "environment_error": "environment",
}


@dataclass(frozen=True)
class Finding:
    """One thing a monitor saw, with its evidence.

    ``message_index`` is the index in ``sample.messages`` of the message that triggered
    it (None when the evidence is the sample itself, e.g. its error); ``lines`` are the
    triggering lines, verbatim (each cut to 300 characters).
    """

    monitor: str
    kind: Kind
    summary: str
    message_index: int | None = None
    lines: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict."""
        data = asdict(self)
        data["lines"] = list(self.lines)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Return the finding stored by :meth:`to_dict`.

        Raises:
            KeyError, TypeError: ``data`` lacks a field or has one of the wrong type.
        """
        return cls(monitor=str(data["monitor"]), kind=data["kind"], summary=str(data["summary"]),
                   message_index=data.get("message_index"),
                   lines=tuple(str(x) for x in data.get("lines") or ()))
