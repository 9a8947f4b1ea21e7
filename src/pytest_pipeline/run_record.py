"""``run.json`` as data: each cell's record (how it ended, what it ran with, where its
results are) and the run's. Written by the orchestrator, read by the gate, the reports,
``status`` and ``rerun``; a record written by one job of a CI fan-out is read by the
fan-in job, so everything round-trips through JSON with a version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from pytest_pipeline.results import RECORD_VERSION


def now_iso() -> str:
    """The time a record says something started or finished: UTC, to the second."""
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def describe_exit(code: int) -> str:
    """How a process ended, for people: ``exit code 3``, ``killed by SIGKILL (exit -9)``
    (a negative code is the signal that ended it, as :mod:`subprocess` reports it)."""
    if code >= 0:
        return f"exit code {code}"
    import signal

    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"killed by {name} (exit {code})"


class CellStatus(str, Enum):
    """How a cell of the matrix ended, as the orchestrator saw it."""

    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    """pytest ran and reported failures (details in the JUnit file)."""
    NO_TESTS = "no-tests"
    ENV_ERROR = "env-error"
    """The environment could not be created or installed."""
    CRASHED = "crashed"
    """The test process died or left no readable report."""
    MISSING_INTERPRETER = "missing-interpreter"
    INTERRUPTED = "interrupted"
    TIMED_OUT = "timed-out"
    """Ended by a time limit (``timeout``, ``run-timeout``) before it finished."""
    CANCELLED = "cancelled"
    """Not started or stopped by ``--fail-fast``."""

    @property
    def finished(self) -> bool:
        return self not in (CellStatus.QUEUED, CellStatus.RUNNING)


@dataclass(frozen=True)
class Artifact:
    """The built package under test; publish checks that this exact file goes out."""

    name: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Artifact:
        return cls(name=data["name"], sha256=data["sha256"])


@dataclass(frozen=True)
class CellRecord:
    """One cell of one run: what ran, how it ended, and where its files are.

    Paths are relative to the folder holding the run record, so the folder can be
    uploaded and downloaded as a whole (CI artifacts).
    """

    name: str
    status: CellStatus
    tool: str = "tox"
    env: str = ""
    python: str | None = None
    factors: Mapping[str, str] = field(default_factory=dict)
    stages: tuple[str, ...] = ()
    exit_code: int | None = None
    junit: str | None = None
    log: str | None = None
    duration: float = 0.0
    started: str | None = None
    finished: str | None = None
    message: str = ""
    runs_pytest: bool = True
    """False for an environment that runs no pytest (lint, docs, included on purpose): it
    writes no JUnit report, and its status comes from its exit code alone."""
    ignore_outcome: bool = False
    """The tox environment sets ``ignore_outcome = true``: its results are reported, and
    the gate requires the cell only when ``required-cells`` names it."""
    tested: str | None = None
    """What the cell's environment held of the project: ``wheel`` (the run's built wheel,
    whose sha256 is the run's artifact), ``source`` (what a nox session installed itself,
    from the source tree), ``nothing`` (no package installed); None in older records."""
    reused_from: Mapping[str, str] | None = None
    """The earlier run whose results these are (``run``, ``finished``, ``commit``), when
    the cell was not run again because nothing that feeds it changed; None: it ran."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "tool": self.tool,
            "env": self.env,
            "python": self.python,
            "factors": dict(self.factors),
            "stages": list(self.stages),
            "exit_code": self.exit_code,
            "junit": self.junit,
            "log": self.log,
            "duration": round(self.duration, 3),
            "started": self.started,
            "finished": self.finished,
            "message": self.message,
            "runs_pytest": self.runs_pytest,
            "ignore_outcome": self.ignore_outcome,
            "tested": self.tested,
            "reused_from": dict(self.reused_from) if self.reused_from is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellRecord:
        return cls(
            name=data["name"],
            status=CellStatus(data["status"]),
            tool=data.get("tool", "tox"),
            env=data.get("env", ""),
            python=data.get("python"),
            factors=dict(data.get("factors", {})),
            stages=tuple(data.get("stages", ())),
            exit_code=data.get("exit_code"),
            junit=data.get("junit"),
            log=data.get("log"),
            duration=float(data.get("duration", 0.0)),
            started=data.get("started"),
            finished=data.get("finished"),
            message=data.get("message", ""),
            runs_pytest=bool(data.get("runs_pytest", True)),
            ignore_outcome=data.get("ignore_outcome") is True,
            tested=data.get("tested") if data.get("tested") in TESTED else None,
            reused_from=read_origin(data.get("reused_from")),
        )


TESTED = ("wheel", "source", "nothing")


def describe_origin(origin: Mapping[str, Any]) -> str:
    """``reused from run R (finished, commit)``: how every output names reused results."""
    commit = str(origin.get("commit") or "")[:12] or "no commit"
    return f"reused from run {origin.get('run', '?')} ({origin.get('finished', '?')}, {commit})"


def read_origin(value: Any) -> dict[str, str] | None:
    """A ``reused_from`` mapping as read from a file: strings only, None if it is not one."""
    if not isinstance(value, Mapping):
        return None
    return {str(key): str(item) for key, item in value.items() if item is not None}


@dataclass(frozen=True)
class RunRecord:
    """``run.json``: what the orchestrator ran (every planned cell, finished or not)."""

    cells: tuple[CellRecord, ...]
    stages: tuple[str, ...] = ()
    artifact: Artifact | None = None
    interrupted: bool = False
    started: str | None = None
    finished: str | None = None
    tool_versions: Mapping[str, str] = field(default_factory=dict)
    version: int = RECORD_VERSION
    commit: str | None = None
    """The git commit the cells tested (the gate refuses results of another commit)."""
    dirty: bool | None = None
    """Whether the tree had uncommitted changes when the run started."""
    artifacts: tuple[Artifact, ...] = ()
    """Further packages built and tested besides ``artifact`` (an sdist next to the wheel)."""
    pytest_args: tuple[str, ...] = ()
    """Arguments given after ``--`` to every cell's pytest; ``rerun`` gives them again."""
    backend: str | None = None
    """How tox cells ran (``auto``: our environments, ``tox``: through tox); ``rerun`` keeps it."""
    installer: str | None = None
    """What made the environments (``uv`` or ``pip``); ``rerun`` keeps it, so the cells it
    re-runs reuse their environments."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": self.version,
            "stages": list(self.stages),
            "artifact": self.artifact.to_dict() if self.artifact else None,
            "interrupted": self.interrupted,
            "started": self.started,
            "finished": self.finished,
            "tool_versions": dict(self.tool_versions),
            "cells": [cell.to_dict() for cell in self.cells],
        }
        # Optional keys only when known, so older readers and fixtures see the same file.
        if self.commit is not None:
            data["commit"] = self.commit
        if self.dirty is not None:
            data["dirty"] = self.dirty
        if self.artifacts:
            data["artifacts"] = [artifact.to_dict() for artifact in self.artifacts]
        if self.pytest_args:
            data["pytest_args"] = list(self.pytest_args)
        if self.backend is not None:
            data["backend"] = self.backend
        if self.installer is not None:
            data["installer"] = self.installer
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        version = data.get("version")
        if version != RECORD_VERSION:
            raise ValueError(f"run record version {version!r} is not supported (expected {RECORD_VERSION})")
        artifact = data.get("artifact")
        return cls(
            cells=tuple(CellRecord.from_dict(cell) for cell in data.get("cells", ())),
            stages=tuple(data.get("stages", ())),
            artifact=Artifact.from_dict(artifact) if artifact else None,
            interrupted=bool(data.get("interrupted", False)),
            started=data.get("started"),
            finished=data.get("finished"),
            tool_versions=dict(data.get("tool_versions", {})),
            version=version,
            commit=data.get("commit"),
            dirty=data.get("dirty"),
            artifacts=tuple(Artifact.from_dict(item) for item in data.get("artifacts") or ()),
            pytest_args=tuple(str(arg) for arg in data.get("pytest_args") or ()),
            backend=data.get("backend"),
            installer=data.get("installer"),
        )

    @classmethod
    def read(cls, path: Path) -> RunRecord:
        """A ``run.json``: OSError when it cannot be read, ValueError saying what is wrong
        with what it holds (not JSON, not a run record, another version)."""
        raw = path.read_bytes()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return cls.from_dict(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{type(exc).__name__}: {exc}") from None
