"""Task families: the contract, the loader, host-side workspaces and scoring.

The Inspect adapter (`rdbench.tasks.inspect_adapter`) is not imported here, so listing
and checking families never loads Inspect.
"""

from rdbench.tasks.calibration import (
    Calibration,
    calibrate,
    load_calibration,
    remove_calibration,
)
from rdbench.tasks.contract import (
    Normalization,
    Resources,
    TaskFamily,
    TaskVariant,
)
from rdbench.tasks.loader import family_dirs, load_family, load_families, select_variants
from rdbench.tasks.workspace import (
    ScoreResult,
    materialize,
    score_solution,
    score_workspace,
    solution_files,
)

__all__ = [
    "Calibration",
    "Normalization",
    "Resources",
    "ScoreResult",
    "TaskFamily",
    "TaskVariant",
    "calibrate",
    "family_dirs",
    "load_calibration",
    "load_families",
    "load_family",
    "materialize",
    "remove_calibration",
    "score_solution",
    "score_workspace",
    "select_variants",
    "solution_files",
]
