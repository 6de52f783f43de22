"""Fixtures for the bwrap sandbox tests: a running sandbox, and a fresh one per test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from rdbench.sandbox.config import BwrapConfig

if shutil.which("bwrap") is None:  # pragma: no cover - the project's setup installs it
    pytest.skip("bubblewrap is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run async tests (and Inspect's self-check) on asyncio, as Inspect does."""
    return "asyncio"


async def start_sandbox(config: BwrapConfig | None = None):  # type: ignore[no-untyped-def]
    """Return (environments, default sandbox) for a new bwrap sandbox."""
    from rdbench.sandbox.provider import BwrapSandboxEnvironment

    envs = await BwrapSandboxEnvironment.sample_init("test", config, {})
    return envs, envs["default"]


async def stop_sandbox(envs) -> None:  # type: ignore[no-untyped-def]
    """Destroy the sandboxes of `envs`."""
    from rdbench.sandbox.provider import BwrapSandboxEnvironment

    await BwrapSandboxEnvironment.sample_cleanup("test", None, envs, False)


@pytest.fixture(scope="module")
async def shared_sandbox(anyio_backend: str) -> AsyncIterator[object]:
    """One sandbox shared by the tests of a module (cheap checks that clean up after themselves)."""
    envs, sandbox = await start_sandbox(BwrapConfig(memory_mb=1024, disk_mb=256))
    yield sandbox
    await stop_sandbox(envs)


@pytest.fixture
async def fresh_sandbox(anyio_backend: str) -> AsyncIterator[object]:
    """A new sandbox for one test (for attacks that may leave the sandbox unusable)."""
    envs, sandbox = await start_sandbox(
        BwrapConfig(memory_mb=256, max_processes=64, disk_mb=64, file_size_mb=32)
    )
    yield sandbox
    await stop_sandbox(envs)


@asynccontextmanager
async def _open_sandbox(config: BwrapConfig | None = None) -> AsyncIterator[object]:
    envs, sandbox = await start_sandbox(config)
    try:
        yield sandbox
    finally:
        await stop_sandbox(envs)


@pytest.fixture
def open_sandbox() -> Callable[..., AbstractAsyncContextManager[object]]:
    """`async with open_sandbox(config) as sandbox:` starts and always destroys a sandbox."""
    return _open_sandbox


# Tests that take several seconds by design (they wait for timeouts or for a fork bomb to
# hit its limit). Inspect's self-check functions cannot be decorated, so mark them here.
_SLOW = {
    "test_exec_timeout_kills_process",
    "test_exec_timeout_kills_child_processes",
    "test_fork_bomb_is_contained",
    "test_shell_fork_bomb_leaves_sandbox_usable",
    "test_crashed_harness_leaves_nothing_after_reap",
    "test_inspect_injected_tools_work_in_bwrap",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the known multi-second sandbox tests `slow` (skip with -m 'not slow')."""
    for item in items:
        if getattr(item, "originalname", item.name) in _SLOW and "sandbox" in str(item.fspath):
            item.add_marker(pytest.mark.slow)
