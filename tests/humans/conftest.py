"""Fixtures of the human-baseline tests: the tiny test family, scripted humans."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from human_driver import ScriptedHuman

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_families(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the tests' tiny `human_fixture` family on the family search path."""
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(FIXTURES))
    from rdbench.tasks.inspect_adapter import _family

    _family.cache_clear()
    return FIXTURES


@pytest.fixture
def human() -> Iterator[Callable[[str], ScriptedHuman]]:
    """Factory of scripted humans; their tmux servers are killed after the test."""
    made: list[ScriptedHuman] = []

    def make(name: str) -> ScriptedHuman:
        made.append(ScriptedHuman(name))
        return made[-1]

    yield make
    for person in made:
        person.close()
