"""Configuration of the `bwrap` sandbox: the limits and mounts of one sample's sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rdbench.errors import SandboxUnavailable


class BwrapConfig(BaseModel):
    """Limits and extra mounts of one sample's bwrap sandbox (all fields have defaults).

    Attributes:
        memory_mb: Memory limit of the whole sandbox (cgroup; RLIMIT_AS as a fallback).
        max_processes: Maximum number of processes/threads (cgroup pids; RLIMIT_NPROC fallback).
        cpus: CPU quota in cores (cgroup cpu; no fallback).
        disk_mb: Size cap of the workspace `/home/agent` (a size-limited tmpfs); `/tmp`
            gets its own tmpfs of the same size. Both count against `memory_mb`.
        file_size_mb: Largest file a process may write (RLIMIT_FSIZE).
        network: "none" (no interface at all is up) or "loopback" (only `lo`).
        default_exec_timeout: Timeout in seconds for execs that give none (None: no limit).
        file_timeout: Deadline in seconds of one `read_file` / `write_file`.
        ro_binds: Extra read-only binds, host path -> path inside (e.g. a task's data).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_mb: int = Field(default=4096, gt=0)
    max_processes: int = Field(default=512, gt=0)
    cpus: float = Field(default=2.0, gt=0)
    disk_mb: int = Field(default=2048, gt=0)
    file_size_mb: int = Field(default=1024, gt=0)
    network: Literal["none", "loopback"] = "none"
    default_exec_timeout: int | None = None
    file_timeout: float = Field(default=300.0, gt=0)
    ro_binds: dict[str, str] = Field(default_factory=dict)

    def __hash__(self) -> int:
        # Inspect keys its sandbox caches by config: hash by value, dict field included
        return hash(self.model_dump_json())


def load_config(config: object) -> BwrapConfig:
    """Return the `BwrapConfig` for an Inspect sandbox config value.

    Accepts None (defaults), a `BwrapConfig`, a dict, or the path of a JSON/YAML file
    holding the fields.

    Raises:
        SandboxUnavailable: the file is missing or does not hold a valid config.
    """
    if config is None:
        return BwrapConfig()
    if isinstance(config, BwrapConfig):
        return config
    try:
        if isinstance(config, BaseModel):
            return BwrapConfig.model_validate(config.model_dump())
        if isinstance(config, dict):
            return BwrapConfig.model_validate(config)
        if isinstance(config, str):
            path = Path(config)
            if not path.is_file():
                raise SandboxUnavailable(
                    f"bwrap sandbox config file not found: {config} (give a JSON or YAML "
                    "file with BwrapConfig fields, or no config for the defaults)"
                )
            text = path.read_text(encoding="utf-8")
            if path.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text) or {}
            else:
                data = json.loads(text)
            return BwrapConfig.model_validate(data)
    except (ValidationError, ValueError) as ex:
        first = str(ex).splitlines()
        detail = "; ".join(line.strip() for line in first[:3])
        raise SandboxUnavailable(f"invalid bwrap sandbox config {config!r}: {detail}") from ex
    raise SandboxUnavailable(f"unsupported bwrap sandbox config of type {type(config).__name__}")
