"""Fixtures of the human-baseline tests: the tiny test family, scripted humans."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from human_driver import ScriptedHuman, own_sockets

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


@pytest.fixture(autouse=True)
def no_tmux_socket_left() -> Iterator[None]:
    """Fail a test that leaves one of its tmux servers' sockets behind (and remove it)."""
    before = own_sockets()
    yield
    left = own_sockets() - before
    for path in left:  # so that the next test starts clean: no server, no socket
        subprocess.run(["tmux", "-S", str(path), "kill-server"], check=False, capture_output=True,
                       timeout=30)
        path.unlink(missing_ok=True)
    if left:
        names = ", ".join(sorted(path.name for path in left))
        pytest.fail(f"the test left tmux sockets behind: {names}")
