"""Sandboxes: the `bwrap` Inspect sandbox provider and one-shot jails for scorers.

`rdbench.sandbox.provider` registers the provider (Inspect imports it through the
`inspect_ai` entry point); it is not imported here so that scorers using only the
one-shot jail do not load Inspect. The names below load on first use, so that the jail's
host-side runner (`rdbench.sandbox._jail_run`) starts without pydantic.

Family scorers: run the agent's code with `run_jailed` (or `jail_argv`) and read every
file it wrote with `read_jail_output` (no links followed, no FIFOs, size-capped).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BwrapConfig": "rdbench.sandbox.config",
    "JailSpec": "rdbench.sandbox.jail",
    "bwrap_path": "rdbench.sandbox.policy",
    "jail_argv": "rdbench.sandbox.jail",
    "read_jail_output": "rdbench.sandbox.jail",
    "run_jailed": "rdbench.sandbox.jail",
    "POLICY": "rdbench.sandbox.policy",
    "SandboxPolicy": "rdbench.sandbox.policy",
    "BWRAP_PROVIDER": "rdbench.sandbox.policy",
    "HUMAN_LOCAL_PROVIDER": "rdbench.sandbox.policy",
    "LOCAL_PROVIDER": "rdbench.sandbox.policy",
}

__all__ = list(_EXPORTS)  # noqa: PLE0605 (the names load lazily, see __getattr__)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rdbench.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
