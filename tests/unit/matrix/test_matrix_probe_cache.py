"""The interpreter probe cache: an answer is reused while the executable is the same
file (path, modification time, size), and probed again whenever that is in doubt."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from pytest_pipeline.matrix.interpreters import Probe, find_all
from pytest_pipeline.matrix.probe_cache import ProbeCache, cache_file


class CountingProbe:
    """A fake probe: answers CPython ``version`` for every executable and counts the calls."""

    def __init__(self, version: str = "3.12.4") -> None:
        self.version = version
        self.calls: list[str] = []

    def __call__(self, executable: str, env: Mapping[str, str]) -> Probe | str:
        self.calls.append(executable)
        return Probe("CPython", self.version, executable)


def binary(folder: Path, name: str, content: bytes = b"\x7fELF fake interpreter") -> Path:
    """An executable file that is no script (the cache keeps only such answers)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    path.chmod(0o755)
    return path


def look_up(project: Path, bin_dir: Path, probe: CountingProbe, spec: str = "3.12") -> Probe | None:
    """One run's look-up: load the cache, find the interpreter, save the cache."""
    cache = ProbeCache.load(project, probe_fn=probe)
    found = find_all([spec], {"PATH": str(bin_dir)}, cwd=project, probe_fn=cache.probe)[spec]
    cache.save()
    if not found.found:
        return None
    return Probe(found.implementation or "", found.version or "", found.path or "")


def test_a_second_look_up_starts_no_interpreter(tmp_path: Path) -> None:
    exe = binary(tmp_path / "bin", "python3.12")
    probe = CountingProbe()
    first = look_up(tmp_path / "project", tmp_path / "bin", probe)
    second = look_up(tmp_path / "project", tmp_path / "bin", probe)
    assert first == second == Probe("CPython", "3.12.4", str(exe))
    assert probe.calls == [str(exe)]
    kept = json.loads(cache_file(tmp_path / "project").read_text(encoding="utf-8"))
    assert list(kept["entries"]) == [str(exe)]
    assert (tmp_path / "project" / ".pytest-pipeline" / ".gitignore").is_file()


def test_a_changed_modification_time_probes_again(tmp_path: Path) -> None:
    exe = binary(tmp_path / "bin", "python3.12")
    look_up(tmp_path / "project", tmp_path / "bin", CountingProbe("3.12.4"))
    stat = exe.stat()
    os.utime(exe, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # same size, new build
    upgraded = CountingProbe("3.12.5")
    found = look_up(tmp_path / "project", tmp_path / "bin", upgraded)
    assert upgraded.calls == [str(exe)]
    assert found is not None
    assert found.version == "3.12.5"


def test_a_changed_size_probes_again(tmp_path: Path) -> None:
    exe = binary(tmp_path / "bin", "python3.12")
    look_up(tmp_path / "project", tmp_path / "bin", CountingProbe())
    stat = exe.stat()
    exe.write_bytes(b"\x7fELF a longer, rebuilt interpreter")
    os.utime(exe, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time, other size
    again = CountingProbe()
    look_up(tmp_path / "project", tmp_path / "bin", again)
    assert again.calls == [str(exe)]


def test_a_retargeted_symlink_probes_again(tmp_path: Path) -> None:
    # A venv's python links to its base interpreter; a recreated venv links elsewhere.
    old = binary(tmp_path / "old", "python3.12")
    new = binary(tmp_path / "new", "python3.12")
    os.utime(new, ns=(old.stat().st_atime_ns, old.stat().st_mtime_ns))
    link = tmp_path / "venv" / "bin" / "python3.12"
    link.parent.mkdir(parents=True)
    link.symlink_to(old)
    look_up(tmp_path / "project", link.parent, CountingProbe())
    link.unlink()
    link.symlink_to(new)
    again = CountingProbe()
    look_up(tmp_path / "project", link.parent, again)
    assert again.calls == [str(link)]


@pytest.mark.parametrize(
    "damage",
    [
        "{ not json",
        "",
        '["a list"]',
        '{"schema": 1, "probe_code": "other", "entries": {}}',
        '{"schema": 99, "entries": {}}',
    ],
)
def test_a_damaged_cache_is_ignored_and_replaced(tmp_path: Path, damage: str) -> None:
    exe = binary(tmp_path / "bin", "python3.12")
    project = tmp_path / "project"
    cache_file(project).parent.mkdir(parents=True)
    cache_file(project).write_text(damage, encoding="utf-8")
    probe = CountingProbe()
    assert look_up(project, tmp_path / "bin", probe) == Probe("CPython", "3.12.4", str(exe))
    assert probe.calls == [str(exe)]
    look_up(project, tmp_path / "bin", probe)
    assert probe.calls == [str(exe)]  # the damaged file was replaced by a good one


def test_a_damaged_entry_is_probed_again(tmp_path: Path) -> None:
    exe = binary(tmp_path / "bin", "python3.12")
    project = tmp_path / "project"
    look_up(project, tmp_path / "bin", CountingProbe())
    kept = json.loads(cache_file(project).read_text(encoding="utf-8"))
    kept["entries"][str(exe)]["probe"]["version"] = 312  # not a string
    cache_file(project).write_text(json.dumps(kept), encoding="utf-8")
    again = CountingProbe()
    assert look_up(project, tmp_path / "bin", again) == Probe("CPython", "3.12.4", str(exe))
    assert again.calls == [str(exe)]


def test_scripts_and_failed_probes_are_never_kept(tmp_path: Path) -> None:
    # A shim script runs whatever its configuration names today: ask it every time.
    script = tmp_path / "shims" / "python3.12"
    script.parent.mkdir()
    script.write_text('#!/bin/sh\nexec python3.12 "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    probe = CountingProbe()
    look_up(tmp_path / "project", script.parent, probe)
    look_up(tmp_path / "project", script.parent, probe)
    assert probe.calls == [str(script)] * 2

    exe = binary(tmp_path / "bin", "python3.12")
    failures: list[str] = []

    def failing(executable: str, env: Mapping[str, str]) -> Probe | str:
        failures.append(executable)
        return "exit code 127"

    for _ in range(2):
        cache = ProbeCache.load(tmp_path / "project", probe_fn=failing)
        assert not find_all(["3.12"], {"PATH": str(exe.parent)}, probe_fn=cache.probe)["3.12"].found
        cache.save()
    assert failures == [str(exe)] * 2


def test_an_answer_whose_executable_is_gone_is_probed_again(tmp_path: Path) -> None:
    exe = binary(tmp_path / "bin", "python3.12")
    elsewhere = binary(tmp_path / "real", "python3.12")

    def answers_elsewhere(executable: str, env: Mapping[str, str]) -> Probe | str:
        calls.append(executable)
        return Probe("CPython", "3.12.4", str(elsewhere))

    calls: list[str] = []
    for _ in range(2):
        cache = ProbeCache.load(tmp_path / "project", probe_fn=answers_elsewhere)
        cache.probe(str(exe), {})
        cache.save()
    assert calls == [str(exe)]
    elsewhere.unlink()
    cache = ProbeCache.load(tmp_path / "project", probe_fn=answers_elsewhere)
    cache.probe(str(exe), {})
    assert calls == [str(exe)] * 2


def test_nothing_is_written_when_nothing_was_probed(tmp_path: Path) -> None:
    binary(tmp_path / "bin", "python3.12")
    project = tmp_path / "project"
    look_up(project, tmp_path / "bin", CountingProbe())
    before = cache_file(project).stat().st_mtime_ns
    os.utime(cache_file(project), ns=(before - 10**9, before - 10**9))
    look_up(project, tmp_path / "bin", CountingProbe())
    assert cache_file(project).stat().st_mtime_ns == before - 10**9


def test_a_read_only_project_just_gets_no_cache(tmp_path: Path) -> None:
    binary(tmp_path / "bin", "python3.12")
    project = tmp_path / "project"
    project.mkdir()
    (project / ".pytest-pipeline").write_text("a file where the folder would go", encoding="utf-8")
    probe = CountingProbe()
    assert look_up(project, tmp_path / "bin", probe) is not None
    assert look_up(project, tmp_path / "bin", probe) is not None
    assert len(probe.calls) == 2
