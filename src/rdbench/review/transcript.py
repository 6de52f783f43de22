"""One attempt's transcript, flattened for the monitors: what the agent did, in order.

Built from an Inspect ``EvalSample`` (read with Inspect's own log reader). Each tool call
becomes an :class:`Action` (the assistant message index is its evidence address), each
assistant text an :class:`Utterance`; the attempt's score trajectory, budget and error
come from rdbench's log fields (``rdbench.logschema``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdbench.errors import UserError
from rdbench.logschema import (
    SCORER_NAME,
    EvalMetadata,
    FinalScoreMetadata,
    LogSchemaError,
    SampleMetadata,
)

__all__ = ["Action", "FamilyFiles", "ReviewInputError", "Transcript", "Utterance",
           "family_files", "read_transcripts", "transcript_from_sample"]


class ReviewInputError(UserError):
    """A log cannot be reviewed (missing, corrupt, not an Inspect log): one line."""


@dataclass(frozen=True)
class Action:
    """One tool call and what came back.

    ``index`` is the assistant message's index in ``sample.messages``; ``text`` is the
    command (bash), the code (python) or the JSON of the arguments (other tools).
    """

    index: int
    function: str
    arguments: dict[str, Any]
    text: str
    result: str = ""
    error_type: str | None = None
    error: str | None = None
    parse_error: str | None = None

    @property
    def is_code(self) -> bool:
        """True for bash/python calls (whose text runs in the sandbox)."""
        return self.function in ("bash", "python") and self.error_type is None

    @property
    def canonical(self) -> str:
        """The call as one string (function + sorted arguments), for spotting repeats."""
        return f"{self.function} {json.dumps(self.arguments, sort_keys=True)}"


@dataclass(frozen=True)
class Utterance:
    """One assistant message's text (its ``index`` in ``sample.messages``)."""

    index: int
    text: str


@dataclass(frozen=True)
class FamilyFiles:
    """What a monitor needs to know about the attempt's task family (read on the host).

    ``provided`` are the workspace-relative paths the task gives the agent;
    ``reference`` maps the reference solution's relative paths to their text;
    ``hidden_names`` are the names of the files only the scorer sees.
    """

    name: str
    root: str
    provided: tuple[str, ...] = ()
    reference: dict[str, str] = field(default_factory=dict)
    hidden_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """One attempt, flattened: actions, utterances, scores, budget, error."""

    log: str
    sample_id: str
    epoch: int
    family: str | None
    actions: tuple[Action, ...]
    utterances: tuple[Utterance, ...]
    trajectory: tuple[float, ...]
    """Normalized score of every intermediate ``score`` call, in order (NaN: invalid)."""
    final_score: float
    success_threshold: float
    working_time_s: float
    time_limit_s: float
    error: str | None
    files: FamilyFiles | None
    agent: str | None = None
    """The agent label of the log (``rdbench_agent``, else the model), if known."""

    @property
    def budget_used(self) -> float:
        """Return the fraction of the working-time budget used (NaN if unknown)."""
        if not self.time_limit_s or math.isnan(self.time_limit_s):
            return math.nan
        return self.working_time_s / self.time_limit_s

    @property
    def solved(self) -> bool:
        """Return True when the final score reaches the task's success threshold."""
        return math.isfinite(self.final_score) and self.final_score >= self.success_threshold

    @property
    def key(self) -> str:
        """Return the attempt's id within its log: ``sample_id#epoch``."""
        return f"{self.sample_id}#{self.epoch}"


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _action_text(function: str, arguments: dict[str, Any]) -> str:
    if function == "bash" and isinstance(arguments.get("command"), str):
        return arguments["command"]
    if function == "python" and isinstance(arguments.get("code"), str):
        return arguments["code"]
    return json.dumps(arguments, sort_keys=True)


@lru_cache(maxsize=64)
def family_files(name: str) -> FamilyFiles | None:
    """Return what the monitors need from family ``name`` (None if it is not installed).

    Returns:
        The family's provided workspace files, reference texts and hidden file names,
        or None when no family of that name is on the search path.
    """
    from rdbench.tasks.loader import family_dirs, load_family

    folder = family_dirs().get(name)
    if folder is None:
        return None
    try:
        family = load_family(folder)
    except UserError:
        return None

    def listing(root: Path) -> list[Path]:
        if not root.is_dir():
            return []
        return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)

    provided = {str(p.relative_to(family.workspace_dir)) for p in listing(family.workspace_dir)}
    provided |= {str(p.relative_to(family.starting_dir)) for p in listing(family.starting_dir)}
    reference: dict[str, str] = {}
    for path in listing(family.reference_dir):
        if path.stat().st_size > 1_000_000:
            continue
        try:
            reference[str(path.relative_to(family.reference_dir))] = path.read_text()
        except UnicodeDecodeError:
            continue
    hidden = tuple(sorted({p.name for p in listing(family.hidden_dir)}))
    return FamilyFiles(name=name, root=str(family.root), provided=tuple(sorted(provided)),
                       reference=reference, hidden_names=hidden)


def transcript_from_sample(sample: Any, log: str = "", agent: str | None = None) -> Transcript:
    """Flatten one Inspect ``EvalSample`` into a :class:`Transcript`.

    Returns:
        The transcript (family files looked up by the sample's ``family`` metadata).

    Raises:
        ReviewInputError: the sample's rdbench metadata has the wrong shape.
    """
    from inspect_ai.model import ChatMessageAssistant, ChatMessageTool

    try:
        meta = SampleMetadata.from_metadata(sample.metadata, where=f"{log} sample {sample.id}")
    except LogSchemaError as ex:
        raise ReviewInputError(str(ex)) from None
    results: dict[str, ChatMessageTool] = {}
    for message in sample.messages:
        if isinstance(message, ChatMessageTool) and message.tool_call_id:
            results[message.tool_call_id] = message
    actions: list[Action] = []
    utterances: list[Utterance] = []
    for index, message in enumerate(sample.messages):
        if not isinstance(message, ChatMessageAssistant):
            continue
        if message.text.strip():
            utterances.append(Utterance(index, message.text))
        for call in message.tool_calls or []:
            arguments = call.arguments if isinstance(call.arguments, dict) else {}
            reply = results.get(call.id)
            error = reply.error if reply is not None else None
            actions.append(Action(
                index=index,
                function=call.function,
                arguments=arguments,
                text=_action_text(call.function, arguments),
                result=reply.text if reply is not None else "",
                error_type=error.type if error is not None else None,
                error=error.message if error is not None else None,
                parse_error=call.parse_error,
            ))
    # react takes the submit call out of the final assistant message; the ToolEvent keeps it
    if not any(a.function == "submit" for a in actions):
        last = max((i for i, m in enumerate(sample.messages) if isinstance(m, ChatMessageAssistant)),
                   default=None)
        for event in sample.events or []:
            if getattr(event, "event", None) == "tool" and event.function == "submit":
                arguments = event.arguments if isinstance(event.arguments, dict) else {}
                actions.append(Action(index=last if last is not None else len(sample.messages),
                                      function="submit", arguments=arguments,
                                      text=_action_text("submit", arguments),
                                      result=str(event.result or "")))
                break
    final = (sample.scores or {}).get(SCORER_NAME)
    trajectory: tuple[float, ...] = ()
    final_score = math.nan
    threshold = _float(meta.success_threshold)
    if final is not None:
        try:
            fm = FinalScoreMetadata.from_metadata(final.metadata, where=f"{log} sample {sample.id}")
        except LogSchemaError as ex:
            raise ReviewInputError(str(ex)) from None
        trajectory = tuple(p.normalized for p in fm.trajectory or [])
        final_score = _float(fm.normalized)
        if math.isnan(threshold):
            threshold = _float(fm.success_threshold)
    return Transcript(
        log=log,
        sample_id=str(sample.id),
        epoch=int(sample.epoch or 1),
        family=meta.family,
        actions=tuple(actions),
        utterances=tuple(utterances),
        trajectory=trajectory,
        final_score=final_score,
        success_threshold=1.0 if math.isnan(threshold) else threshold,
        working_time_s=_float(sample.working_time),
        time_limit_s=_float(meta.time_limit_s),
        error=sample.error.message if sample.error is not None else None,
        files=family_files(meta.family) if meta.family else None,
        agent=agent,
    )


def read_transcripts(path: str | Path) -> list[Transcript]:
    """Read every sample of one Inspect log (``.eval`` or ``.json``) as transcripts.

    Returns:
        One :class:`Transcript` per sample, in the log's order.

    Raises:
        ReviewInputError: the file is missing, not an Inspect log, corrupt or truncated,
            or holds no samples (one line naming the file).
    """
    from inspect_ai.log import read_eval_log

    path = Path(path)
    if not path.is_file():
        raise ReviewInputError(f"{path}: no such file")
    if path.suffix not in (".eval", ".json"):
        raise ReviewInputError(f"{path}: not an Inspect log (expected .eval or .json)")
    try:
        log = read_eval_log(str(path), resolve_attachments=True)
    except Exception as ex:  # noqa: BLE001 - zip/zstd/JSON/pydantic errors: "cannot read"
        reason = str(ex).splitlines()[0] if str(ex) else type(ex).__name__
        raise ReviewInputError(f"{path}: cannot read Inspect log ({reason[:200]})") from None
    if not log.samples:
        raise ReviewInputError(f"{path}: the log holds no samples (nothing to review)")
    try:
        agent = EvalMetadata.from_metadata(log.eval.metadata).agent or log.eval.model
    except LogSchemaError:
        agent = log.eval.model
    return [transcript_from_sample(sample, str(path), agent) for sample in log.samples]
