"""How many CPUs this process may use: what the OS grants it, not what the machine has.

``os.cpu_count()`` counts the machine's CPUs. A process may get fewer:

* its CPU affinity (``taskset``, a cpuset): ``os.process_cpu_count()`` on 3.13+, else
  ``os.sched_getaffinity``;
* its cgroup's CPU quota (containers and CI runners: ``docker --cpus 2``, a Kubernetes
  limit): cgroup v2 ``cpu.max``, v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``. The
  affinity still shows every CPU of the host there, but the group gets only
  ``quota / period`` CPUs' worth of time; more busy processes than that only wait.

The usable count is the smaller of the two, a fractional quota rounded up (1.5 CPUs keep
two processes busy part of the time, as Go's runtime and the JVM count it), at least 1.
The cgroup files are found as the kernel describes them: ``/proc/self/cgroup`` names the
process's group, ``/proc/self/mountinfo`` where each hierarchy is mounted; a quota set on
a parent group limits the child too, so every level up to the mount is read.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Cores:
    usable: int
    """What ``-p auto`` means: the smaller of ``granted`` and the quota, at least 1."""
    granted: int
    """CPUs the process may run on (affinity)."""
    quota: float | None = None
    """CPUs' worth of time the cgroup allows (None: no quota)."""

    def describe(self) -> str:
        """``2 (affinity 4, cgroup quota 1.5)`` for ``plan``."""
        quota = f"cgroup quota {self.quota:g}" if self.quota is not None else "no cgroup quota"
        return f"{self.usable} (affinity {self.granted}, {quota})"


def count(root: Path = Path("/")) -> Cores:
    """The CPUs this process may use; ``root`` is where ``/proc`` and ``/sys`` are read
    (tests pass a folder of fake files)."""
    granted = granted_cpus()
    quota = cgroup_quota(root)
    usable = granted if quota is None else min(granted, math.ceil(quota))
    return Cores(usable=max(1, usable), granted=granted, quota=quota)


def granted_cpus() -> int:
    """The CPUs of this process's affinity (what ``os.process_cpu_count`` says on 3.13+)."""
    process_cpu_count = getattr(os, "process_cpu_count", None)
    if process_cpu_count is not None:
        return max(1, process_cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # macOS and Windows show no affinity


def cgroup_quota(root: Path = Path("/")) -> float | None:
    """CPUs' worth of time the process's cgroups allow (the smallest on its way up to
    the hierarchy's root), or None when no quota is set or nothing can be read."""
    try:
        groups = (root / "proc/self/cgroup").read_text(encoding="utf-8")
        mounts = (root / "proc/self/mountinfo").read_text(encoding="utf-8")
    except OSError:
        return None
    found = [
        quota
        for levels, read in _quota_folders(groups, mounts, root)
        for quota in map(read, levels)
        if quota is not None
    ]
    return min(found) if found else None


@dataclass(frozen=True)
class _Mount:
    root: str
    """The folder of the hierarchy that is mounted (``/`` unless a container sees a part)."""
    point: str
    fstype: str
    options: frozenset[str]


def parse_mountinfo(text: str) -> list[_Mount]:
    """The cgroup mounts of ``/proc/self/mountinfo``: ``ID PARENT MAJ:MIN ROOT POINT OPTS
    [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTS``."""
    mounts = []
    for line in text.splitlines():
        before, sep, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not sep or len(fields) < 5 or not tail or not tail[0].startswith("cgroup"):
            continue
        options = frozenset(tail[2].split(",")) if len(tail) > 2 else frozenset()
        mounts.append(_Mount(_unescape(fields[3]), _unescape(fields[4]), tail[0], options))
    return mounts


def _unescape(field: str) -> str:
    """mountinfo writes a space as ``\\040`` (octal escapes)."""
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


_Reader = Callable[[Path], float | None]


def _quota_folders(groups: str, mounts: str, root: Path) -> list[tuple[list[Path], _Reader]]:
    """For each hierarchy with a CPU quota file: the process's group folder and its
    parents up to the mount point, with the reader for that version's file."""
    cgroup_mounts = parse_mountinfo(mounts)
    found: list[tuple[list[Path], _Reader]] = []
    for line in groups.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        reader: _Reader
        if controllers == "":  # v2: "0::/path"
            mount = next((m for m in cgroup_mounts if m.fstype == "cgroup2"), None)
            reader = _read_v2
        elif "cpu" in controllers.split(","):
            mount = next((m for m in cgroup_mounts if m.fstype == "cgroup" and "cpu" in m.options), None)
            reader = _read_v1
        else:
            continue
        if mount is not None:
            found.append((_levels(root, mount, path), reader))
    return found


def _levels(root: Path, mount: _Mount, path: str) -> list[Path]:
    """Group ``path`` and its parents as folders under the mount point, deepest first.
    The mount shows its hierarchy from ``mount.root`` down (a container often sees its
    own group as the root): a group outside it (a cgroup namespace) is the mount point."""
    point = root / mount.point.lstrip("/")
    try:
        relative = PurePosixPath(path).relative_to(PurePosixPath(mount.root))
    except ValueError:
        return [point]
    parts = [part for part in relative.parts if part not in ("", ".")]
    return [point.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _read_v2(folder: Path) -> float | None:
    """``cpu.max``: ``QUOTA PERIOD`` in microseconds, ``max`` for none."""
    try:
        words = (folder / "cpu.max").read_text(encoding="utf-8").split()
    except OSError:
        return None
    return _ratio(words[0], words[1]) if len(words) == 2 and words[0] != "max" else None


def _read_v1(folder: Path) -> float | None:
    """``cpu.cfs_quota_us`` (``-1`` for none) over ``cpu.cfs_period_us``."""
    try:
        quota = (folder / "cpu.cfs_quota_us").read_text(encoding="utf-8").strip()
        period = (folder / "cpu.cfs_period_us").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return _ratio(quota, period)


def _ratio(quota: str, period: str) -> float | None:
    try:
        value, every = int(quota), int(period)
    except ValueError:
        return None
    if value <= 0 or every <= 0:
        return None
    return value / every
