"""What rdbench writes into an Inspect log and reads back: one typed definition.

Every writer (the Inspect adapter, ``rdbench run``, ``rdbench baseline``, ``rdbench demo``,
the local-model attempt) builds its metadata with these models and the one reader
(``rdbench.records.inspect_logs``) parses them back. ``docs/log-format.md`` documents
every field named here (a test checks it).

The models are pydantic (Inspect depends on it) and lenient on reading: unknown keys are
kept out, numbers given as strings are coerced, and a field a log does not have is
``None`` (or its default). Writers dump only the fields they set, so a log written today
carries exactly the keys it carried before this module existed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "EVAL_METADATA_PREFIX",
    "SCORER_NAME",
    "TRAJECTORY_STORE_KEY",
    "TRAP_SCORER_NAME",
    "EvalMetadata",
    "FinalScoreMetadata",
    "IntermediateScoreMetadata",
    "LogSchemaError",
    "SampleMetadata",
    "TrajectoryPoint",
    "TrapScoreMetadata",
    "schema_field_names",
    "usage_cost",
]

SCORER_NAME = "rdbench_scorer"
TRAP_SCORER_NAME = "rdbench_trap"
"""The scorer that grades a trap attempt's security (``rdbench.traps``); trap samples only."""
"""The name of rdbench's scorer: ``sample.scores[SCORER_NAME]`` is an attempt's final score."""

TRAJECTORY_STORE_KEY = "rdbench:trajectory"
"""The sample store key under which intermediate scores collect during an attempt."""

EVAL_METADATA_PREFIX = "rdbench_"
"""Every key rdbench writes into ``log.eval.metadata`` starts with this."""


class LogSchemaError(ValueError):
    """A log's rdbench metadata does not have the documented shape."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    def to_metadata(self) -> dict[str, Any]:
        """Return the fields this value was built with, under their log keys.

        Returns:
            A dict of the values as given (only the fields set explicitly, so writers keep
            their key sets; numbers keep their type, NaN stays NaN).
        """
        return self.model_dump(by_alias=True, exclude_unset=True)

    @classmethod
    def from_metadata(
        cls, metadata: Mapping[str, Any] | None, where: str = "log"
    ) -> Self:
        """Parse a metadata dict read from a log.

        Args:
            metadata: the dict (None reads as empty).
            where: names the place in error messages.

        Returns:
            The parsed model.

        Raises:
            LogSchemaError: a field has a value of the wrong type (one line).
        """
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, Mapping):
            raise LogSchemaError(f"{where}: metadata is {type(metadata).__name__}, not an object")
        try:
            return cls.model_validate(dict(metadata))
        except ValidationError as ex:
            first = ex.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "?"
            raise LogSchemaError(f"{where}: field {field!r}: {first.get('msg')}") from None


def _number_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


# -- log.eval.metadata ---------------------------------------------------------------------------
class EvalMetadata(_Model):
    """``log.eval.metadata``: who made the attempts and under what budget."""

    agent: str | None = Field(None, alias="rdbench_agent")
    """The agent label (``--agent``; default the model name; ``human``, ``replay``)."""
    scaffold: str | None = Field(None, alias="rdbench_scaffold")
    """Scaffold name + version, e.g. ``react-v1``; ``human`` for people."""
    scaffold_settings: dict[str, Any] | None = Field(None, alias="rdbench_scaffold_settings")
    """The scaffold settings themselves (``rdbench.agents.settings.ScaffoldSettings``)."""
    is_human: bool = Field(False, alias="rdbench_is_human")
    baseliner: str | None = Field(None, alias="rdbench_baseliner")
    """The human's name (human baselines only)."""
    attempt_length_s: int | float | None = Field(None, alias="rdbench_attempt_length_s")
    """The working-time limit of each attempt, seconds."""
    attempts_per_task: int | None = Field(None, alias="rdbench_attempts_per_task")
    """k, the epochs of ``rdbench run``."""
    total_budget_s: int | float | None = Field(None, alias="rdbench_total_budget_s")
    """``--total-budget`` in seconds, or null."""
    prices: dict[str, dict[str, float]] | None = Field(None, alias="rdbench_prices")
    """``{model: {input, output, input_cache_read, input_cache_write}}``, USD per Mtok."""

    def merged(self, other: EvalMetadata) -> EvalMetadata:
        """Return this metadata with the fields ``other`` sets laid over it.

        Returns:
            A new EvalMetadata whose set fields are the union (``other`` wins).
        """
        return EvalMetadata.model_validate({**self.to_metadata(), **other.to_metadata()})


# -- sample.metadata -----------------------------------------------------------------------------
class SampleMetadata(_Model):
    """``sample.metadata``: the task of one attempt."""

    family: str | None = None
    task_id: str | None = None
    human_minutes: Any = None
    """Expert time estimate in minutes (read leniently: a non-number reads as NaN)."""
    time_limit_s: Any = None
    """The attempt's working-time budget, seconds."""
    final_score_policy: str | None = None
    """``best`` or ``final``."""
    score_visible: bool | None = None
    normalization: dict[str, Any] | None = None
    human_minutes_source: str | None = None
    """``estimate`` or ``baseline`` (absent in logs before the suite)."""
    success_threshold: Any = None
    """The normalized score that counts as success (absent before the suite: 1.0)."""
    """``{start, reference, transform, direction, anchors}``."""
    trap: dict[str, Any] | None = None
    """A trap variant's ``{trap_class, vector, goal, planted}`` (``rdbench.traps``); absent
    for a task without a trap."""


# -- scores ----------------------------------------------------------------------------------------
class TrajectoryPoint(_Model):
    """One intermediate ``score`` call, in the final score's ``trajectory``."""

    working_s: Any = None
    """Working seconds (the human clock for humans) at the call."""
    raw: Any = None
    score: Any = None
    """Normalized score, or null if the submission was invalid."""
    valid: bool = True
    details: dict[str, Any] | None = None
    """The family's measurements behind ``raw`` (``ScoreResult.details``), when it gave any."""
    timing_unreliable: str | None = None
    """Why a timing scorer refused to score this call, else absent."""

    @property
    def working_seconds(self) -> float:
        """Return ``working_s`` as a float (NaN if missing or not a number)."""
        value = _number_or_none(self.working_s)
        return math.nan if value is None else value

    @property
    def normalized(self) -> float:
        """Return the normalized score (NaN if invalid, missing or not a number)."""
        value = _number_or_none(self.score) if self.valid else None
        return math.nan if value is None else value

    @property
    def raw_value(self) -> float:
        """Return the raw score (NaN if missing or not a number)."""
        value = _number_or_none(self.raw)
        return math.nan if value is None else value


class IntermediateScoreMetadata(_Model):
    """The metadata of an intermediate ``ScoreEvent``'s score."""

    raw: Any = None
    valid: bool | None = None
    details: dict[str, Any] | None = None
    timing_unreliable: str | None = None


class FinalScoreMetadata(_Model):
    """``sample.scores[SCORER_NAME].metadata``: the attempt's final score and trajectory."""

    raw: Any = None
    """Raw score of the chosen submission (null if none was valid)."""
    normalized: Any = None
    final_score_policy: str | None = None
    submission_raw: Any = None
    """The final workspace's raw score."""
    submission_normalized: Any = None
    submission_valid: bool | None = None
    trajectory: list[TrajectoryPoint] | None = None
    """Every intermediate ``score`` call, in order (absent in logs that predate it)."""
    details: dict[str, Any] | None = None
    """Measurements kept beside the raw score (``ScoreResult.details``, e.g. raw seconds)."""
    timing_unreliable: str | None = None
    """Why a timing scorer refused to score (``TimingUnreliable``), else null."""
    submission_details: dict[str, Any] | None = None
    """``details`` of the final workspace's scoring."""
    submission_timing_unreliable: str | None = None
    success_threshold: Any = None
    """The task's success threshold, copied here for the records (absent before the suite)."""


class TrapScoreMetadata(_Model):
    """``sample.scores[TRAP_SCORER_NAME].metadata``: the security grade of a trap attempt."""

    trap_class: str | None = None
    vector: str | None = None
    goal: dict[str, Any] | None = None
    base_task_id: str | None = None
    """The task without its trap (the pair of this attempt in the paired difference)."""
    attack_success: bool | None = None
    """The trap's goal happened (judged on state and tool calls, never on prose)."""
    canary_leaked: bool | None = None
    """The attempt's canary secret arrived in the outbox."""
    evidence: list[str] | None = None


def usage_cost(usage: Any, prices: Mapping[str, float]) -> float:
    """Return the cost in USD of one ``ModelUsage`` (object or dict) at ``prices``
    (an ``rdbench_prices`` entry, USD per million tokens).

    Cache reads and writes are priced at their own rates; ``input_tokens`` is taken to
    exclude them (as Inspect's providers report it).

    Returns:
        The cost in USD.

    Raises:
        KeyError: ``prices`` lacks one of the four rates.
    """

    def get(name: str) -> float:
        value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
        return float(value or 0)

    return (
        get("input_tokens") * prices["input"]
        + get("output_tokens") * prices["output"]
        + get("input_tokens_cache_read") * prices["input_cache_read"]
        + get("input_tokens_cache_write") * prices["input_cache_write"]
    ) / 1e6


def schema_field_names() -> dict[str, list[str]]:
    """Return the log keys of every model, for the documentation check.

    Returns:
        ``{model name: [log key, ...]}``.
    """
    out: dict[str, list[str]] = {}
    for model in (EvalMetadata, SampleMetadata, TrajectoryPoint, IntermediateScoreMetadata,
                  FinalScoreMetadata, TrapScoreMetadata):
        out[model.__name__] = [f.alias or name for name, f in model.model_fields.items()]
    return out

