"""Sandboxes: the `bwrap` Inspect sandbox provider and one-shot jails for scorers.

`rdbench.sandbox.provider` registers the provider (Inspect imports it through the
`inspect_ai` entry point); it is not imported here so that scorers using only the
one-shot jail do not load Inspect.
"""

from rdbench.sandbox.config import BwrapConfig
from rdbench.sandbox.jail import JailSpec, bwrap_path, jail_argv, run_jailed

__all__ = ["BwrapConfig", "JailSpec", "bwrap_path", "jail_argv", "run_jailed"]
