"""Fixtures of the agent tests."""

from __future__ import annotations

import pytest
from inspect_ai.model import ModelOutput
from scripted_model import tool_call, write_reference_command


@pytest.fixture
def fast_solution_steps() -> list[ModelOutput]:
    """bash (write the reference), score, bash, score, submit."""
    return [
        tool_call("bash", command=write_reference_command()),
        tool_call("score"),
        tool_call("bash", command="ls -l > listing.txt && cat listing.txt"),
        tool_call("score"),
        tool_call("submit", answer="done"),
    ]
