"""Run one env on each side: tox (or nox) itself in one copy of the project, and
``pytest-pipeline run`` in another; each side's verdict, counts and distributions.

The reference side must have run, or the comparison means nothing: a tox that crashed, an
env it skipped, an env that runs pytest but printed no pytest summary line, an environment
that is not there: each is a ``CorpusError``. Our side is what is under test: whatever it
did is recorded and compared (no run.json, no JUnit file, no environment: "none")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline_testkit import clean_environ, pyenv_bin_dir
from realworld.corpus import Case, CorpusError
from realworld.reading import (
    Counts,
    distributions,
    find_cell,
    junit_counts,
    nox_counts,
    nox_env_dir,
    nox_ok,
    nox_status,
    our_env_dir,
    tox_counts,
    tox_env_dir,
    tox_status,
)

INTERPRETERS = ("3.10", "3.11", "3.12", "3.13")
SIDE_TIMEOUT = 1800.0
"""Seconds one side may take for one env (nox's own suite is the longest, a few minutes)."""


@dataclass(frozen=True)
class Side:
    """What one side said about one env."""

    verdict: str
    """"OK" or "FAIL" for tox/nox; our cell's status (passed, failed, env-error, ...)."""
    ok: bool
    counts: Counts | None
    packages: dict[str, str] | None
    detail: str
    """tox's status line, nox's closing line, or our cell's message."""
    log: Path


def side_environ() -> dict[str, str]:
    """The caller's environment without its pytest/tox/nox/CI variables or virtualenv, with
    every local CPython 3.10-3.13 from pyenv first on PATH, and no colour."""
    found = [str(path) for minor in INTERPRETERS if (path := pyenv_bin_dir(minor)) is not None]
    environ = clean_environ(PATH=os.pathsep.join([*found, os.environ.get("PATH", "")]), NO_COLOR="1")
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        environ.pop(name, None)
    return environ


def run_logged(
    argv: list[str], cwd: Path, environ: dict[str, str], log: Path, timeout: float
) -> tuple[int, str]:
    """Run ``argv`` to its end in its own process group, stdin closed, stdout and stderr
    together into ``log``; (exit code, output). On timeout the whole group is killed and the
    code is -9."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as sink:
        sink.write(f"$ {' '.join(argv)}\n(in {cwd})\n")
        sink.flush()
        process = subprocess.Popen(
            argv, cwd=cwd, env=environ, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = -9
    return code, log.read_text(encoding="utf-8", errors="replace")


def _last_lines(output: str, count: int = 15) -> str:
    return "\n".join(output.rstrip().splitlines()[-count:])


# --------------------------------------------------------------------------- tox / nox


def run_reference(case: Case, tree: Path, logs: Path, environ: dict[str, str]) -> Side:
    if case.project.tool == "tox":
        return _run_tox(case, tree, logs, environ)
    return _run_nox(case, tree, logs, environ)


def _run_tox(case: Case, tree: Path, logs: Path, environ: dict[str, str]) -> Side:
    env = case.env.name
    log = logs / f"{case.slug}.tox.log"
    code, output = run_logged(
        [sys.executable, "-m", "tox", "run", "-e", env, "--colored", "no"], tree, environ, log, SIDE_TIMEOUT
    )
    status = tox_status(output, env)
    if status is None:
        raise CorpusError(
            f"{case.id}: tox crashed or never ran {env} (exit {code}, log {log}):\n{_last_lines(output)}"
        )
    verdict = status.split(": ", 1)[1].split()[0]
    if verdict == "SKIP":
        raise CorpusError(
            f"{case.id}: tox skipped {env} ({status}): is its interpreter installed? (log {log})"
        )
    if (verdict == "OK") != (code == 0):
        raise CorpusError(f"{case.id}: tox exited {code} but says {status!r} (log {log})")
    counts = tox_counts(output, env)
    _require_counts(case, counts, status, log)
    return Side(verdict, code == 0, counts, _tox_packages(case, tree, environ, logs), status, log)


def _tox_packages(case: Case, tree: Path, environ: dict[str, str], logs: Path) -> dict[str, str]:
    log = logs / f"{case.slug}.tox-config.log"
    argv = [sys.executable, "-m", "tox", "config", "-e", case.env.name, "-k", "env_dir", "--colored", "no"]
    _, output = run_logged(argv, tree, environ, log, 300)
    env_dir = tox_env_dir(output)
    packages = distributions(env_dir) if env_dir else None
    if packages is None:
        raise CorpusError(f"{case.id}: tox's environment ({env_dir}) cannot be listed (log {log})")
    return packages


def _run_nox(case: Case, tree: Path, logs: Path, environ: dict[str, str]) -> Side:
    session = case.env.name
    log = logs / f"{case.slug}.nox.log"
    argv = [sys.executable, "-m", "nox", "-s", session, "--no-color"]
    code, output = run_logged(argv, tree, environ, log, SIDE_TIMEOUT)
    status = nox_status(output, session)
    if status is None:
        raise CorpusError(
            f"{case.id}: nox crashed or never ran {session} (exit {code}, log {log}):\n{_last_lines(output)}"
        )
    if " skipped" in status:
        raise CorpusError(
            f"{case.id}: nox skipped {session} ({status}): is its interpreter installed? (log {log})"
        )
    counts = nox_counts(output)
    _require_counts(case, counts, status, log)
    env_dir = nox_env_dir(output, tree)
    packages = distributions(env_dir) if env_dir else None
    if packages is None:
        raise CorpusError(f"{case.id}: nox's environment ({env_dir}) cannot be listed (log {log})")
    ok = nox_ok(status) and code == 0
    return Side("OK" if ok else "FAIL", ok, counts, packages, status.removeprefix("nox > "), log)


def _require_counts(case: Case, counts: Counts | None, status: str, log: Path) -> None:
    if case.env.runs_pytest and counts is None:
        raise CorpusError(
            f"{case.id}: no pytest summary line in the reference side's output ({status}); the env"
            f" is declared to run pytest: it ran none, or the manifest needs pytest = false (log {log})"
        )


# --------------------------------------------------------------------------- ours


def run_ours(case: Case, tree: Path, reports: Path, logs: Path, environ: dict[str, str]) -> Side:
    env = case.env.name
    log = logs / f"{case.slug}.ours.log"
    argv = [sys.executable, "-m", "pytest_pipeline", "run", "-e", env, "--reports-dir", str(reports)]
    if case.project.tool == "nox":
        argv += ["--tool", "nox"]
    code, output = run_logged(argv, tree, environ, log, SIDE_TIMEOUT)
    cell = find_cell(reports / "run.json", env)
    packages = _our_packages(tree, case)
    if cell is None:
        detail = f"no cell {env} in {reports / 'run.json'} (exit {code}): {_last_lines(output, 3)}"
        return Side(f"no-result(exit {code})", False, None, packages, detail, log)
    status = str(cell.get("status"))
    junit = cell.get("junit") or f"cells/{env}/junit.xml"
    counts = junit_counts(reports / str(junit))
    return Side(status, status == "passed", counts, packages, str(cell.get("message") or ""), log)


def _our_packages(tree: Path, case: Case) -> dict[str, str] | None:
    env_dir = our_env_dir(tree, case.project.tool, case.env.name)
    return distributions(env_dir) if env_dir else None
