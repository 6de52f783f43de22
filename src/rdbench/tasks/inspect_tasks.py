"""One Inspect `@task` per task family, so `inspect eval rdbench/<family>` works.

Task arguments (`-T name=value`): `sandbox` (bwrap|local|docker; default bwrap),
`variants` (comma-separated variant names), `time_limit` (seconds).
"""

from __future__ import annotations

from collections.abc import Callable

from inspect_ai import Task, task

from rdbench.tasks.inspect_adapter import family_task
from rdbench.tasks.loader import family_dirs, load_family

__all__: list[str] = []


def _register(name: str) -> Callable[..., Task]:
    def make(
        sandbox: str = "bwrap",
        variants: str | None = None,
        time_limit: int | None = None,
    ) -> Task:
        family = load_family(family_dirs()[name])
        chosen = None
        if variants:
            wanted = set(variants.split(","))
            chosen = [v for v in family.variants() if v.name in wanted]
        return family_task(
            family, variants=chosen, sandbox_spec=sandbox, time_limit=time_limit
        )

    make.__name__ = name
    make.__qualname__ = name
    make.__doc__ = f"rdbench task family `{name}`."
    return task(name=name)(make)


for _name in family_dirs():
    globals()[_name] = _register(_name)
    __all__.append(_name)
