"""cgroup v2 set-up, checked against a fake hierarchy (this machine may only have v1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rdbench.errors import SandboxUnavailable
from rdbench.sandbox import cgroups


@pytest.fixture
def fake_v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory that looks like the root of a unified (v2) cgroup hierarchy."""
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("\n")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    monkeypatch.delenv("RDBENCH_CGROUP_PARENT", raising=False)
    monkeypatch.setenv("RDBENCH_CGROUP", "v2")
    return tmp_path


@pytest.mark.skipif(os.geteuid() != 0, reason="the default v2 parent is for root")
def test_v2_limits_are_written(fake_v2: Path) -> None:
    assert cgroups.detect() == "v2"
    limits = cgroups.Limits(memory_bytes=300 << 20, max_processes=77, cpus=1.5)
    created = cgroups.create("sb-test", limits, "v2")
    group = fake_v2 / "rdbench.slice" / "sb-test"
    assert created.paths == [str(group)]
    assert (group / "memory.max").read_text() == str(300 << 20)
    assert (group / "memory.swap.max").read_text() == "0"
    assert (group / "pids.max").read_text() == "77"
    assert (group / "cpu.max").read_text() == "150000 100000"
    # the controllers were enabled for the sandboxes' parent (a real cgroupfs then lists
    # them in the parent's cgroup.controllers; this fake does not)
    enabled = (fake_v2 / "cgroup.subtree_control").read_text()
    assert "+memory" in enabled and "+pids" in enabled


def test_v2_delegated_parent_without_memory_is_refused(
    fake_v2: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delegated = fake_v2 / "user.slice"
    delegated.mkdir()
    (delegated / "cgroup.controllers").write_text("cpu pids\n")
    monkeypatch.setenv("RDBENCH_CGROUP_PARENT", str(delegated))
    with pytest.raises(SandboxUnavailable) as info:
        cgroups.detect()
    assert "\n" not in str(info.value) and "RDBENCH_CGROUP=none" in str(info.value)


def test_auto_falls_back_to_none_without_any_cgroup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)  # empty: neither v2 nor v1
    monkeypatch.setenv("RDBENCH_CGROUP", "auto")
    monkeypatch.delenv("RDBENCH_CGROUP_PARENT", raising=False)
    assert cgroups.detect() == "none"
