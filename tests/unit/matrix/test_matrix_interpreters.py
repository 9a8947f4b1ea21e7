"""Interpreter look-up on a fake PATH of fake executables (shell scripts that answer the probe)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from pytest_pipeline.matrix import interpreters
from pytest_pipeline.matrix.interpreters import Probe, find, find_all, parse_spec

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake executables are shell scripts")


def fake_python(folder: Path, name: str, version: str, implementation: str = "CPython", ft: int = 0) -> Path:
    """An executable that prints what the real probe prints."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        f"#!/bin/sh\nprintf '%s\\n' {implementation} {version} {path} {ft}\n",
        encoding="utf-8",
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def broken(folder: Path, name: str, message: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 127\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def pyenv_shim(root: Path, name: str) -> Path:
    shims = root / "shims"
    shims.mkdir(parents=True, exist_ok=True)
    path = shims / name
    path.write_text(
        f'#!/usr/bin/env bash\nset -e\nexport PYENV_ROOT="{root}"\n'
        f'exec "{root}/libexec/pyenv" exec "$program" "$@"\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def env_with(*folders: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.pathsep.join(str(f) for f in folders), **extra}


def test_found_reports_path_and_real_version(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin", "python3.12", "3.12.4")
    found = find("3.12", env_with(tmp_path / "bin"), cwd=tmp_path)
    assert found.found
    assert found.version == "3.12.4"
    assert found.path == str(tmp_path / "bin" / "python3.12")
    assert found.implementation == "CPython"


def test_missing_is_data_with_a_fix_not_an_exception(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin", "python3.12", "3.12.4")
    missing = find("3.14", env_with(tmp_path / "bin"), cwd=tmp_path)
    assert not missing.found
    assert missing.path is None
    assert missing.reason == "no python3.14 on PATH; install Python 3.14 or put it on PATH"


def test_an_executable_whose_version_does_not_match_is_not_taken(tmp_path: Path) -> None:
    # a python3.12 that is really 3.11 (a stale symlink, say)
    fake_python(tmp_path / "a", "python3.12", "3.11.9")
    fake_python(tmp_path / "b", "python3.12", "3.12.1")
    found = find("3.12", env_with(tmp_path / "a", tmp_path / "b"), cwd=tmp_path)
    assert found.version == "3.12.1"
    assert found.path == str(tmp_path / "b" / "python3.12")


def test_pypy_is_looked_for_as_pypy(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin", "pypy3.10", "3.10.14", implementation="PyPy")
    fake_python(tmp_path / "bin", "python3.10", "3.10.14")
    found = find("pypy3.10", env_with(tmp_path / "bin"), cwd=tmp_path)
    assert (found.found, found.implementation, found.path) == (
        True,
        "PyPy",
        str(tmp_path / "bin" / "pypy3.10"),
    )
    cpython = find("3.10", env_with(tmp_path / "bin"), cwd=tmp_path)
    assert cpython.path == str(tmp_path / "bin" / "python3.10")


def test_major_only_spec_finds_python3(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin", "python3", "3.13.0")
    assert find("3", env_with(tmp_path / "bin"), cwd=tmp_path).version == "3.13.0"


def test_free_threaded_is_a_different_interpreter(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin", "python3.13", "3.13.0")
    fake_python(tmp_path / "bin", "python3.13t", "3.13.0", ft=1)
    assert find("3.13t", env_with(tmp_path / "bin"), cwd=tmp_path).path == str(
        tmp_path / "bin" / "python3.13t"
    )
    assert find("3.13", env_with(tmp_path / "bin"), cwd=tmp_path).path == str(tmp_path / "bin" / "python3.13")


def test_an_executable_that_does_not_start_is_missing(tmp_path: Path) -> None:
    broken(tmp_path / "bin", "python3.11", "cannot execute")
    missing = find("3.11", env_with(tmp_path / "bin"), cwd=tmp_path)
    assert not missing.found
    assert "does not start" in (missing.reason or "")


def test_inactive_pyenv_shim_is_missing_with_a_pyenv_hint_and_is_not_started(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    pyenv_shim(root, "python3.12")
    (root / "version").write_text("3.11.7\n", encoding="utf-8")
    fake_python(root / "versions" / "3.11.7" / "bin", "python3.11", "3.11.7")
    started: list[str] = []

    def probe(executable: str, env: Mapping[str, str]) -> Probe | str:
        started.append(executable)
        return interpreters.probe(executable, env)

    missing = find("3.12", env_with(root / "shims"), cwd=tmp_path, probe_fn=probe)
    assert not missing.found
    assert "pyenv shim for a version that is not active" in (missing.reason or "")
    assert started == []


def test_pyenv_shim_follows_pyenv_version_files_and_variable(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    pyenv_shim(root, "python3.12")
    real = fake_python(root / "versions" / "3.12.1" / "bin", "python3.12", "3.12.1")
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    # no version selected anywhere: inactive
    assert not find("3.12", env_with(root / "shims"), cwd=project / "sub").found
    # PYENV_VERSION (several versions, colon-separated)
    by_env = find("3.12", env_with(root / "shims", PYENV_VERSION="3.11.7:3.12.1"), cwd=project)
    assert by_env.path == str(real)
    # the nearest .python-version, looked up from where the tool runs
    (project / ".python-version").write_text("3.12.1\n", encoding="utf-8")
    assert find("3.12", env_with(root / "shims"), cwd=project / "sub").path == str(real)


def test_none_is_the_orchestrators_own_interpreter() -> None:
    own = find(None, {"PATH": ""})
    assert own.found
    assert own.path == sys.executable


def test_absolute_path_spec(tmp_path: Path) -> None:
    exe = fake_python(tmp_path / "opt", "python", "3.10.2")
    assert find(str(exe), {"PATH": ""}).version == "3.10.2"
    missing = find(str(tmp_path / "nope" / "python"), {"PATH": ""})
    assert not missing.found
    assert "does not exist" in (missing.reason or "")


def test_find_all_probes_each_spec_once(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin", "python3.12", "3.12.4")
    calls: list[str] = []

    def probe(executable: str, env: Mapping[str, str]) -> Probe | str:
        calls.append(executable)
        return interpreters.probe(executable, env)

    found = find_all(
        ["3.12", "3.12", "3.14", "3.12"], env_with(tmp_path / "bin"), cwd=tmp_path, probe_fn=probe
    )
    assert set(found) == {"3.12", "3.14"}
    assert calls == [str(tmp_path / "bin" / "python3.12")]


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("3.12", ["python3.12"]),
        ("3", ["python3", "python"]),
        ("pypy3.10", ["pypy3.10"]),
        ("pypy3", ["pypy3", "pypy"]),
        ("3.13t", ["python3.13t"]),
    ],
)
def test_names_tried_on_posix(spec: str, names: list[str]) -> None:
    parsed = parse_spec(spec)
    assert parsed is not None
    assert parsed.names(generic=False) == names


def test_windows_also_tries_the_generic_names() -> None:
    parsed = parse_spec("3.12")
    assert parsed is not None
    assert parsed.names(generic=True) == ["python3.12", "python3", "python"]
