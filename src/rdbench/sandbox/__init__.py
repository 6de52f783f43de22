"""Sandboxes: the `bwrap` Inspect sandbox provider and one-shot jails for scorers."""

from rdbench.sandbox.jail import JailSpec, bwrap_path, jail_argv, run_jailed

__all__ = ["JailSpec", "bwrap_path", "jail_argv", "run_jailed"]
