"""What the integration and end-to-end tests (and ``benchmarks/bench_matrix.py``) share:
our command line in a subprocess with a clean environment, a copy of the sample
project, the pyenv interpreters, whether a process still runs, git in a scratch repo.

Importable as ``pipeline_testkit`` from every test (``pythonpath = ["tests"]`` in
pyproject.toml); standard library only, so a benchmark script can import it too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_pipeline.runner.build import Wheel

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample-project"

SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "junit-10.xsd"
"""pytest's JUnit schema in the ../shared checkout beside the clone (there in CI)."""
VENDORED_SCHEMA = ROOT / "tests" / "data" / "junit-10.xsd"
"""A copy of it (MIT), so a plain clone runs the schema checks too; a test keeps them equal."""
JUNIT_SCHEMA = SHARED_SCHEMA if SHARED_SCHEMA.is_file() else VENDORED_SCHEMA

# What the test run itself (pytest, xdist, tox, nox) or a CI sets and a child run of ours
# must not inherit: it would change what the child's pytest or tox does, or make it
# think it runs in GitHub Actions, Azure Pipelines or GitLab CI (annotations, folded logs).
_CALLER_PREFIXES = ("PYTEST_", "TOX", "NOX", "CI", "GITHUB_", "TF_BUILD", "GITLAB_")


def clean_environ(**extra: str) -> dict[str, str]:
    """``os.environ`` without the caller's pytest/tox/nox/CI variables, then ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(_CALLER_PREFIXES)}
    env.update(extra)
    return env


def pipeline_argv(*args: str) -> list[str]:
    """``python -m pytest_pipeline ARGS`` with this interpreter (the dev venv's)."""
    return [sys.executable, "-m", "pytest_pipeline", *args]


def pipeline_cli(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``pytest-pipeline ARGS`` to its end: stdin closed, output captured, any exit
    code returned (the caller asserts it); ``env`` defaults to :func:`clean_environ`."""
    return subprocess.run(
        pipeline_argv(*args),
        cwd=cwd,
        env=clean_environ() if env is None else dict(env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def copy_sample(target: Path) -> Path:
    """A copy of ``examples/sample-project`` without the environments, caches and
    reports a run of it leaves behind (a test must start cold and write only here)."""
    ignore = shutil.ignore_patterns(
        ".tox", ".nox", ".pytest-pipeline", "pipeline-reports", "__pycache__", ".pytest_cache", "*.egg-info"
    )
    shutil.copytree(SAMPLE, target, ignore=ignore)
    return target


# --------------------------------------------------------------------------- interpreters


def pyenv_root() -> Path | None:
    """``$PYENV_ROOT``, else what ``pyenv root`` says; None without pyenv (never a fixed path)."""
    root = os.environ.get("PYENV_ROOT", "")
    pyenv = shutil.which("pyenv")
    if not root and pyenv:
        done = subprocess.run(
            [pyenv, "root"], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
        root = done.stdout.strip() if done.returncode == 0 else ""
    return Path(root) if root else None


def pyenv_bin_dir(minor: str) -> Path | None:
    """The ``bin`` folder of the newest CPython ``minor`` (``"3.12"``) pyenv has, or None."""
    root = pyenv_root()
    versions = root / "versions" if root else None
    if versions is None or not versions.is_dir():
        return None
    found = [
        (int(match.group(1)), folder / "bin")
        for folder in versions.iterdir()
        if (match := re.fullmatch(rf"{re.escape(minor)}\.(\d+)", folder.name))
        and (folder / "bin" / f"python{minor}").exists()
    ]
    return max(found)[1] if found else None


def pyenv_path(*minors: str) -> str:
    """``PATH`` with the pyenv ``bin`` folders of ``minors`` first; LookupError naming the
    first one that is not installed (a test skips, a benchmark stops)."""
    dirs = []
    for minor in minors:
        found = pyenv_bin_dir(minor)
        if found is None:
            raise LookupError(f"CPython {minor} is not installed under pyenv root {pyenv_root()}")
        dirs.append(str(found))
    return os.pathsep.join([*dirs, os.environ.get("PATH", "")])


# --------------------------------------------------------------------------- processes, git


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs; a zombie (dead, not yet reaped) does not (/proc on Linux)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


# Commits made by the tests themselves carry this identity, whatever the machine's git config.
_GIT_IDENTITY = ("-c", "user.name=Test", "-c", "user.email=test@example.invalid")


def git_run(
    cwd: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` in ``cwd``, stdin closed, output captured."""
    return subprocess.run(
        ["git", *_GIT_IDENTITY, *args],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=check,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def git(cwd: Path, *args: str) -> str:
    """``git ARGS`` in ``cwd`` that must succeed; its stdout, stripped."""
    return git_run(cwd, *args).stdout.strip()


def frozen(python: Path) -> set[str]:
    """The distributions installed for ``python`` (``uv pip freeze`` lines)."""
    done = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "freeze", "--python", str(python)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.splitlines())


def make_wheel(folder: Path, requires: tuple[str, ...] = (), extras: tuple[str, ...] = ()) -> Wheel:
    """A wheel file with only its METADATA (enough for what reads requirements)."""
    import zipfile

    from pytest_pipeline.run_record import Artifact
    from pytest_pipeline.runner.build import Wheel

    path = folder / "greeter-1.0-py3-none-any.whl"
    metadata = ["Metadata-Version: 2.1", "Name: greeter", "Version: 1.0"]
    metadata += [f"Provides-Extra: {extra}" for extra in extras]
    metadata += [f"Requires-Dist: {line}" for line in requires]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("greeter-1.0.dist-info/METADATA", "\n".join(metadata) + "\n")
    return Wheel(path, Artifact(path.name, "a" * 64), "greeter", requires)
