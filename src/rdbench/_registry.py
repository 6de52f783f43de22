"""Inspect entry point: registers rdbench's tasks, the `rdbench-local` model provider and
the `bwrap` sandbox provider.

Inspect loads this module (entry-point group `inspect_ai`, name `rdbench`) when it
resolves `rdbench/<family>` task names or the `bwrap` sandbox type. It sits above both
`rdbench.tasks` and `rdbench.agents` (the scaffolds build on the task adapter), so it is
where a family's Inspect task gets its default agent, rdbench's react scaffold.

Task arguments (`-T name=value`): `sandbox` (bwrap|local|docker; default bwrap),
`variants` (comma-separated variant names), `time_limit` (seconds).
"""

from __future__ import annotations

from collections.abc import Callable

from inspect_ai import Task, task

from rdbench.crosscheck.task import crosscheck  # noqa: F401  registers "rdbench/crosscheck"
from rdbench.models import local as _local_model  # noqa: F401  registers "rdbench-local"
from rdbench.sandbox import provider as _provider  # noqa: F401  registers sandbox "bwrap"
from rdbench.tasks.loader import family_dirs, load_family

__all__: list[str] = []


def _register(name: str) -> Callable[..., Task]:
    def make(
        sandbox: str = "bwrap",
        variants: str | None = None,
        time_limit: int | None = None,
    ) -> Task:
        from rdbench.agents import rdbench_agent
        from rdbench.tasks.inspect_adapter import family_task

        family = load_family(family_dirs()[name])
        chosen = None
        if variants:
            wanted = set(variants.split(","))
            chosen = [v for v in family.variants() if v.name in wanted]
        return family_task(
            family, variants=chosen, solver=rdbench_agent(score_visible=family.score_visible),
            sandbox_spec=sandbox, time_limit=time_limit,
        )

    make.__name__ = name
    make.__qualname__ = name
    make.__doc__ = f"rdbench task family `{name}`."
    return task(name=name)(make)


for _name in family_dirs():
    globals()[_name] = _register(_name)
    __all__.append(_name)
