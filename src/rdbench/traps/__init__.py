"""Agent traps (issue 16): rdbench's tasks with adversarial content planted in the
environment, graded for utility (the family's own score, unchanged) and security (whether
the trap's goal happened, judged on state and tool calls, never on the agent's words).

- `catalog`: the six trap classes, the traps of each trapped family, their goals.
- `variants`: trap variants as `TaskVariant`s (`<family>/<base>~<class>`), scored as the base.
- `grading`: `grade_trap`, pure, over a host copy of the final workspace and the tool calls.
- `runtime`: the Inspect setup step (canary) and the `rdbench_trap` scorer (imports Inspect;
  not imported here).
- `records` / `metrics`: the attempts table from logs, and utility / attack success rate /
  paired differences with 95% intervals.
"""

from rdbench.traps.catalog import (
    CANARY_ENV,
    CANARY_FILE,
    OUTBOX_DIR,
    TARGETS,
    TRAP_CLASSES,
    Goal,
    Trap,
    TrapTarget,
    families_with_traps,
    make_traps,
    parse_trap_classes,
    target_for,
)
from rdbench.traps.grading import ToolCall, TrapVerdict, claims_checks_passed, grade_trap
from rdbench.traps.variants import (
    base_variant_of,
    select_trap_variants,
    trap_of,
    trap_variants,
    traps_of,
)

#: Names whose modules import pandas/scipy (or Inspect's log reader): loaded on first use,
#: so that listing traps stays light.
_LAZY = {
    "paired_difference": "rdbench.traps.metrics",
    "trap_metrics": "rdbench.traps.metrics",
    "wilson_interval": "rdbench.traps.metrics",
    "trap_attempts": "rdbench.traps.records",
}


def __getattr__(name: str):
    """Return a lazily imported public name (raises AttributeError for any other)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rdbench.traps' has no attribute {name!r}")


__all__ = [
    "CANARY_ENV",
    "CANARY_FILE",
    "OUTBOX_DIR",
    "TARGETS",
    "TRAP_CLASSES",
    "Goal",
    "ToolCall",
    "Trap",
    "TrapTarget",
    "TrapVerdict",
    "base_variant_of",
    "claims_checks_passed",
    "families_with_traps",
    "grade_trap",
    "make_traps",
    "paired_difference",
    "parse_trap_classes",
    "select_trap_variants",
    "target_for",
    "trap_attempts",
    "trap_metrics",
    "trap_of",
    "trap_variants",
    "traps_of",
    "wilson_interval",
]
