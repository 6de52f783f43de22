"""Discover and load task families, failing with one clear line for a malformed one."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import math
import os
import sys
from pathlib import Path

from rdbench.errors import FamilyError, UserError
from rdbench.tasks.contract import TaskFamily, TaskVariant

#: Folders that hold one family each: the built-in ones, then RDBENCH_TASKS_PATH (os.pathsep-separated).
#: New families live in the `rdbench.families` package; the first five still sit beside the
#: harness in `rdbench.tasks` until they move.
BUILTIN_FAMILIES_DIRS = (Path(__file__).parent.parent / "families", Path(__file__).parent)
BUILTIN_FAMILIES_DIR = BUILTIN_FAMILIES_DIRS[1]
REQUIRED_DIRS = ("workspace", "starting", "reference")


def family_search_path() -> list[Path]:
    """Return the directories searched for family folders, built-ins first."""
    extra = [Path(p) for p in os.environ.get("RDBENCH_TASKS_PATH", "").split(os.pathsep) if p]
    return [*BUILTIN_FAMILIES_DIRS, *extra]


_said: set[str] = set()


def _say_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        logging.getLogger("rdbench").warning("warning: %s", message)


def tasks_path_problems() -> list[str]:
    """Return what is wrong with the folders on ``RDBENCH_TASKS_PATH`` (one line each): an
    entry that is missing or a file, a folder in it without ``family.py``, a family that a
    built-in (or an earlier entry) shadows.

    Returns:
        The problems, in search-path order (empty when all is well).
    """
    problems: list[str] = []
    seen: dict[str, Path] = {}
    builtin = set(BUILTIN_FAMILIES_DIRS)
    for base in family_search_path():
        from_env = base not in builtin
        if not base.is_dir():
            if from_env:
                what = "is a file, not a folder" if base.exists() else "does not exist"
                problems.append(f"RDBENCH_TASKS_PATH entry {base} {what}: ignored")
            continue
        for child in sorted(base.iterdir()):
            if not child.is_dir() or child.name.startswith((".", "_")):
                continue
            if not (child / "family.py").is_file():
                if from_env:
                    problems.append(f"{child} (on RDBENCH_TASKS_PATH) has no family.py: ignored")
                continue
            if child.name in seen:
                if from_env:
                    problems.append(
                        f"family {child.name} in {base} (RDBENCH_TASKS_PATH) is shadowed by "
                        f"{seen[child.name]}: ignored"
                    )
                continue
            seen[child.name] = child
    return problems


def family_dirs() -> dict[str, Path]:
    """Return every family folder found on the search path, by family name.

    What is wrong with ``RDBENCH_TASKS_PATH`` (:func:`tasks_path_problems`) is logged
    once per process, one warning line each.
    """
    if os.environ.get("RDBENCH_TASKS_PATH"):
        for problem in tasks_path_problems():
            _say_once(problem)
    found: dict[str, Path] = {}
    for base in family_search_path():
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (child / "family.py").is_file() and child.name not in found:
                found[child.name] = child
    return found


def load_family(path: Path) -> TaskFamily:
    """Import the family in folder `path` and check it against the contract.

    Returns:
        The family instance.

    Raises:
        FamilyError: one line naming the family, the file and the problem.
    """
    name = path.name
    family_py = path / "family.py"
    if not family_py.is_file():
        raise FamilyError(f"family {name}: {family_py} is missing")
    module_name = f"rdbench_family_{name}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, family_py)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as ex:  # any import failure of user code is a malformed family
        sys.modules.pop(module_name, None)
        line = _error_line(ex, family_py)
        raise FamilyError(
            f"family {name}: {family_py}{line} failed to import: {type(ex).__name__}: {ex}"
        ) from ex
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, TaskFamily)
        and obj is not TaskFamily
        and obj.__module__ == module_name
    ]
    if len(classes) != 1:
        raise FamilyError(
            f"family {name}: {family_py} must define exactly one TaskFamily subclass "
            f"(found {len(classes)})"
        )
    family = classes[0](path)
    _check_family(family, family_py)
    return family


def _error_line(ex: BaseException, file: Path) -> str:
    tb = ex.__traceback__
    line = None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == file:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and isinstance(ex, SyntaxError) and ex.lineno:
        line = ex.lineno
    return f":{line}" if line else ""


def _check_family(family: TaskFamily, family_py: Path) -> None:
    name = family.root.name
    if family.name != name:
        raise FamilyError(
            f"family {name}: {family_py} sets name={family.name!r}; it must equal the folder name"
        )
    for sub in REQUIRED_DIRS:
        if not (family.root / sub).is_dir():
            raise FamilyError(f"family {name}: folder {family.root / sub} is missing")
    if not family.human_minutes or family.human_minutes <= 0:
        raise FamilyError(f"family {name}: {family_py} must set human_minutes > 0")
    if family.time_limit_s <= 0:
        raise FamilyError(f"family {name}: {family_py} must set time_limit_s > 0")
    if family.final_score_policy not in ("best", "final"):
        raise FamilyError(
            f"family {name}: {family_py} final_score_policy must be 'best' or 'final'"
        )
    if type(family).score is TaskFamily.score:
        raise FamilyError(f"family {name}: {family_py} does not implement score()")
    try:
        variants = family.variants()
    except FamilyError:
        raise
    except FileNotFoundError as ex:
        raise FamilyError(f"family {name}: {ex.filename} is missing") from ex
    except ValueError as ex:  # Normalization validates itself
        raise FamilyError(f"family {name}: {family_py}: bad normalization: {ex}") from ex
    except Exception as ex:
        raise FamilyError(f"family {name}: {family_py}: variants() failed: {ex}") from ex
    if not variants:
        raise FamilyError(f"family {name}: {family_py} defines no task variants")
    for variant in variants:
        problem = variant.normalization.problem()
        if problem is not None:
            raise FamilyError(f"family {name}: {family_py}: bad normalization: {problem}")
        problem = variant_problem(variant)
        if problem is not None:
            raise FamilyError(f"task {variant.task_id}: {family_py}: {problem}")


def variant_problem(variant: TaskVariant) -> str | None:
    """Return what is wrong with a task's human minutes, their source or its success
    threshold (on the normalized scale: start 0, reference 1), or None if they are sound."""
    minutes = variant.human_minutes
    if not isinstance(minutes, (int, float)) or not math.isfinite(minutes) or minutes <= 0:
        return f"human_minutes must be a positive number of minutes, not {minutes!r}"
    if variant.human_minutes_source not in ("estimate", "baseline"):
        return (f"human_minutes_source must be 'estimate' or 'baseline', "
                f"not {variant.human_minutes_source!r}")
    threshold = variant.success_threshold
    if (not isinstance(threshold, (int, float)) or not math.isfinite(threshold)
            or not 0 < threshold <= 1):
        return (f"success_threshold {threshold!r} is outside the normalized scale: it must be "
                "above 0 (the starting solution) and at most 1 (the reference)")
    return None


def load_families(names: list[str] | None = None) -> list[TaskFamily]:
    """Load the named families (all of them when `names` is empty or None).

    Raises:
        UserError: a name matches no family (lists the known ones).
        FamilyError: a family is malformed.
    """
    dirs = family_dirs()
    if not names:
        return [load_family(path) for path in dirs.values()]
    families = []
    for raw in names:
        fam = raw.split("/")[0]
        if fam not in dirs:
            known = ", ".join(dirs) or "none"
            raise UserError(f"unknown task family {fam!r}; known families: {known}")
        families.append(load_family(dirs[fam]))
    return families


def select_variants(selectors: list[str] | None) -> list[tuple[TaskFamily, TaskVariant]]:
    """Resolve selectors `family` or `family/variant` to (family, variant) pairs.

    Raises:
        UserError: an unknown family or variant.
    """
    result: list[tuple[TaskFamily, TaskVariant]] = []
    cache: dict[str, TaskFamily] = {}
    for selector in selectors or list(family_dirs()):
        fam_name, _, variant_name = selector.partition("/")
        if fam_name not in cache:
            cache[fam_name] = load_families([fam_name])[0]
        family = cache[fam_name]
        variants = family.variants()
        if variant_name:
            chosen = [v for v in variants if v.name == variant_name]
            if not chosen:
                known = ", ".join(v.name for v in variants)
                raise UserError(
                    f"family {fam_name} has no task {variant_name!r}; its tasks: {known}"
                )
        else:
            chosen = variants
        for variant in chosen:
            if all(v.task_id != variant.task_id for _, v in result):
                result.append((family, variant))
    return result
