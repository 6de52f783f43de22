"""Task families: content, kept apart from the harness (`rdbench.tasks`).

Each sub-folder with a `family.py` is one family (see `rdbench.tasks.contract`). Adding a
family never touches harness code; helpers that several families share live in
`rdbench.families._common` rather than being copied into each.
"""

from rdbench.families._common import (
    BINARY,
    FamilyBase,
    JailRun,
    VariantSpec,
    default_time_limit_s,
    read_json_output,
    read_output,
    rng,
    run_command,
    run_python,
    scratch_dirs,
    seed_for,
)

__all__ = [
    "BINARY",
    "FamilyBase",
    "JailRun",
    "VariantSpec",
    "default_time_limit_s",
    "read_json_output",
    "read_output",
    "rng",
    "run_command",
    "run_python",
    "scratch_dirs",
    "seed_for",
]
