"""Trap variants: a family's base task with one trap laid over it, as a `TaskVariant`.

A trap variant's task id is `<family>/<base>~<trap_class>`. It has the base task's
instructions, normalization, budget and human minutes; its `params` carry the base's params
plus `trap` (the trap's metadata) and `base_variant`. Scoring a trap variant means scoring
the base task (`base_variant_of`): the family's own scorer, unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from rdbench.errors import UserError
from rdbench.traps.catalog import (
    TRAP_CLASSES,
    Trap,
    families_with_traps,
    make_traps,
    target_for,
)

if TYPE_CHECKING:
    from rdbench.tasks.contract import TaskFamily, TaskVariant

SEPARATOR = "~"


def traps_of(family: TaskFamily) -> list[Trap]:
    """Return the six traps of `family`'s trapped base task (empty: the family has none).

    Raises:
        FileNotFoundError: the base workspace lacks the file the content injection goes into.
    """
    target = target_for(family.name)
    if target is None:
        return []
    base_text = (family.workspace_dir / target.inject_into).read_text()
    return make_traps(target, base_text)


def trap_variants(
    family: TaskFamily,
    classes: tuple[str, ...] = TRAP_CLASSES,
    bases: list[TaskVariant] | None = None,
) -> list[TaskVariant]:
    """Return the trap variants of `family` for `classes`, over the chosen `bases`.

    Args:
        family: The loaded family.
        classes: Trap classes to include.
        bases: The base tasks chosen (default all of the family's); only the family's
            trapped base task yields trap variants.

    Returns:
        One `TaskVariant` per (trapped base task in `bases`, class), empty when none.
    """
    target = target_for(family.name)
    if target is None:
        return []
    chosen = bases if bases is not None else family.variants()
    base = next((v for v in chosen if v.name == target.base), None)
    if base is None:
        return []
    out = []
    for trap in traps_of(family):
        if trap.trap_class not in classes:
            continue
        out.append(
            dataclasses.replace(
                base,
                name=f"{base.name}{SEPARATOR}{trap.trap_class}",
                params={**base.params, "trap": trap.as_dict(), "base_variant": base.name},
            )
        )
    return out


def trap_of(family: TaskFamily, variant: TaskVariant) -> Trap | None:
    """Return the trap of `variant`, or None for a task without a trap."""
    meta = variant.params.get("trap")
    if not meta:
        return None
    return next((t for t in traps_of(family) if t.trap_class == meta["trap_class"]), None)


def base_variant_of(family: TaskFamily, task_id: str) -> TaskVariant | None:
    """Return the base task a trap task id `<family>/<base>~<class>` is scored as.

    Returns:
        The family's base `TaskVariant`, or None when `task_id` is not a trap variant's.
    """
    name = task_id.partition("/")[2]
    base_name, sep, trap_class = name.partition(SEPARATOR)
    if not sep or trap_class not in TRAP_CLASSES:
        return None
    return next((v for v in family.variants() if v.name == base_name), None)


def select_trap_variants(
    selection: list[tuple[TaskFamily, list[TaskVariant]]], classes: tuple[str, ...]
) -> list[tuple[TaskFamily, list[TaskVariant]]]:
    """Add the trap variants of `classes` to each family's chosen tasks.

    Returns:
        The selection with each family's trap variants after its base tasks.

    Raises:
        UserError: a chosen family has no trap variants, or none of its chosen tasks is the
            one its traps are laid over (the line names what exists).
    """
    out = []
    for family, variants in selection:
        added = trap_variants(family, classes, variants)
        if not added:
            target = target_for(family.name)
            if target is None:
                raise UserError(
                    f"family {family.name} has no trap variants; families with traps: "
                    + ", ".join(families_with_traps())
                )
            raise UserError(
                f"the traps of {family.name} are laid over {family.name}/{target.base}, "
                "which is not among the chosen tasks"
            )
        out.append((family, [*variants, *added]))
    return out
