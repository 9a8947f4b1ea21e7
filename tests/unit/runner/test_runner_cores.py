"""Counting the CPUs the OS grants: affinity and the cgroup quota, read from fake
``/proc`` and ``/sys`` trees laid out as the kernel shows them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_pipeline.runner import cores

V2_MOUNT = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTS = (
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
)


def fake_root(tmp_path: Path, cgroup: str, mountinfo: str, files: dict[str, str]) -> Path:
    for name, text in {"proc/self/cgroup": cgroup, "proc/self/mountinfo": mountinfo, **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.fixture
def two_granted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cores, "granted_cpus", lambda: 2)


def test_v2_quota_of_the_process_group(tmp_path: Path) -> None:
    root = fake_root(
        tmp_path,
        "0::/system.slice/docker-abc.scope\n",
        V2_MOUNT,
        {"sys/fs/cgroup/system.slice/docker-abc.scope/cpu.max": "150000 100000\n"},
    )
    assert cores.cgroup_quota(root) == 1.5


def test_v2_max_is_no_quota(tmp_path: Path) -> None:
    files = {"sys/fs/cgroup/user.slice/cpu.max": "max 100000\n"}
    root = fake_root(tmp_path, "0::/user.slice\n", V2_MOUNT, files)
    assert cores.cgroup_quota(root) is None


def test_v2_parent_quota_limits_the_child(tmp_path: Path) -> None:
    root = fake_root(
        tmp_path,
        "0::/ci.slice/job-7/step\n",
        V2_MOUNT,
        {
            "sys/fs/cgroup/ci.slice/job-7/step/cpu.max": "max 100000\n",
            "sys/fs/cgroup/ci.slice/job-7/cpu.max": "300000 100000\n",
            "sys/fs/cgroup/ci.slice/cpu.max": "800000 100000\n",
        },
    )
    assert cores.cgroup_quota(root) == 3.0


def test_v2_container_sees_its_group_as_the_root(tmp_path: Path) -> None:
    """With a cgroup namespace /proc/self/cgroup says ``0::/`` and the mount is the group."""
    root = fake_root(tmp_path, "0::/\n", V2_MOUNT, {"sys/fs/cgroup/cpu.max": "200000 100000\n"})
    assert cores.cgroup_quota(root) == 2.0


def test_v1_quota_and_period(tmp_path: Path) -> None:
    root = fake_root(
        tmp_path,
        "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n",
        V1_MOUNTS,
        {
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000\n",
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
        },
    )
    assert cores.cgroup_quota(root) == 0.5


def test_v1_mount_of_the_group_itself(tmp_path: Path) -> None:
    """docker without a cgroup namespace: the host's path in /proc/self/cgroup, and the
    mount's root field is that same path, mounted at the usual place."""
    mounts = "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    root = fake_root(
        tmp_path,
        "3:cpu:/docker/abc\n",
        mounts,
        {"sys/fs/cgroup/cpu/cpu.cfs_quota_us": "400000\n", "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"},
    )
    assert cores.cgroup_quota(root) == 4.0


def test_v1_minus_one_is_no_quota(tmp_path: Path) -> None:
    root = fake_root(
        tmp_path,
        "4:cpu,cpuacct:/\n",
        V1_MOUNTS,
        {
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        },
    )
    assert cores.cgroup_quota(root) is None


def test_mount_points_with_escaped_spaces(tmp_path: Path) -> None:
    mounts = "30 23 0:26 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n"
    root = fake_root(tmp_path, "0::/a\n", mounts, {"sys/fs/my cgroup/a/cpu.max": "100000 100000\n"})
    assert cores.cgroup_quota(root) == 1.0


@pytest.mark.parametrize(
    "files",
    [
        {},  # no /proc at all (macOS, Windows)
        {"proc/self/cgroup": "0::/a\n", "proc/self/mountinfo": V2_MOUNT},  # no cpu.max
        {"proc/self/cgroup": "0::/a\n", "proc/self/mountinfo": V2_MOUNT, "sys/fs/cgroup/a/cpu.max": "junk\n"},
        {"proc/self/cgroup": "garbage\n", "proc/self/mountinfo": "garbage\n"},
    ],
)
def test_nothing_readable_is_no_quota(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cores.cgroup_quota(tmp_path) is None


@pytest.mark.usefixtures("two_granted")
@pytest.mark.parametrize(
    ("quota", "usable"), [("50000 100000", 1), ("150000 100000", 2), ("800000 100000", 2)]
)
def test_usable_is_the_smaller_with_the_quota_rounded_up(tmp_path: Path, quota: str, usable: int) -> None:
    root = fake_root(tmp_path, "0::/a\n", V2_MOUNT, {"sys/fs/cgroup/a/cpu.max": quota})
    found = cores.count(root)
    assert (found.usable, found.granted) == (usable, 2)
    assert "affinity 2, cgroup quota" in found.describe()


@pytest.mark.usefixtures("two_granted")
def test_without_a_quota_the_affinity_counts(tmp_path: Path) -> None:
    assert cores.count(tmp_path) == cores.Cores(usable=2, granted=2, quota=None)


def test_granted_is_the_affinity_not_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert cores.granted_cpus() == 2


def test_granted_prefers_process_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "process_cpu_count", lambda: 3, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert cores.granted_cpus() == 3
