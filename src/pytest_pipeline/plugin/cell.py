"""A tiny pytest plugin loaded only inside matrix cells: the cell's settings, its JUnit
file, and live events for the orchestrator.

* ``$PYTEST_PIPELINE_STAGES``: the stages the cell runs, unless the command line names
  some itself (``--stage``).
* ``$PYTEST_PIPELINE_JUNIT_DIR``: every pytest session of the cell leaves its JUnit file
  there (the orchestrator joins them: a tox env may run pytest more than once). When the
  project's command line has its own ``--junitxml``, that file is written as the project
  wants and copied there once pytest (and our stage regrouping) has finished with it;
  otherwise the session writes there directly.
* ``$PYTEST_PIPELINE_EVENTS``: JSON lines (one file per cell, written by one process:
  xdist workers' reports arrive at the controller): when the first test of a stage
  starts reporting, and each final test outcome. The orchestrator tails the file to
  show which stage a cell is in and to stop everything on the first failure under
  ``--fail-fast``.

Without the variables it does nothing, and so it does in a pytest session started inside
the cell's own (``pytester``, a test that runs pytest in a subprocess): those are the
project's tests of its own, not the cell's sessions (``$PYTEST_PIPELINE_ACTIVE`` marks
the cell's session while it runs). Standard library only: it runs in the user's
environment.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

import pytest

from pytest_pipeline import envvars

EVENTS_ENV = envvars.EVENTS
JUNIT_DIR_ENV = envvars.JUNIT_DIR
STAGES_ENV = envvars.STAGES
ACTIVE_ENV = envvars.ACTIVE
_OWN_JUNIT = pytest.StashKey[Path]()
_OUTER = pytest.StashKey[bool]()
BLOCKED_PREFIX = "blocked by a failure in stage "
"""``results.BLOCKED_MESSAGE_PREFIX``, repeated to keep this module free of our imports."""


class _Events:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.stage: str | None = None

    def emit(self, **event: Any) -> None:
        self.stream.write(json.dumps(event, separators=(",", ":")) + "\n")
        self.stream.flush()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.emit(event="collected", tests=len(session.items))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        stage = getattr(report, "pipeline_stage", None)
        if stage is not None and stage != self.stage:
            self.stage = stage
            self.emit(event="stage", stage=stage)
        outcome = _final_outcome(report)
        if outcome is not None:
            self.emit(event="test", outcome=outcome, stage=stage, nodeid=report.nodeid)

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        self.emit(event="finished", exitstatus=int(exitstatus))

    def close(self) -> None:
        self.stream.close()


_SUBTEST_REPORTS = frozenset({"SubtestReport", "SubTestReport"})
"""pytest 9's own subtests and pytest-subtests log a report per ``subTest``/``subtests.test``
besides the test's own (pytest's summary counts the test once; so does the live view)."""


def _final_outcome(report: pytest.TestReport) -> str | None:
    """One outcome per test: a failure in any phase, else the call's result, else a
    skip at setup. Rerun attempts (``outcome == "rerun"``) are not final."""
    if str(report.outcome) == "rerun":  # pytest-rerunfailures' attempts
        return None
    if type(report).__name__ in _SUBTEST_REPORTS and not report.failed:
        return None  # a subtest that passed or skipped: the test itself reports once
    if report.failed:
        if report.when == "setup" and report.longreprtext.startswith(BLOCKED_PREFIX):
            return "blocked"
        return "failed" if report.when == "call" else "error"
    if report.when == "call":
        return "passed" if report.passed else "skipped"
    if report.when == "setup" and report.skipped:
        return "skipped"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # tryfirst: before pytest's junitxml and our stage plugin read these options.
    worker = hasattr(config, "workerinput")
    if not worker:
        if os.environ.get(ACTIVE_ENV):
            return  # a session inside the cell's session: the project's, not ours
        os.environ[ACTIVE_ENV] = str(os.getpid())
        config.stash[_OUTER] = True
    stages = os.environ.get(STAGES_ENV)
    if stages and not config.getoption("pipeline_stage", None):
        config.option.pipeline_stage = [stages]
    junit_dir = os.environ.get(JUNIT_DIR_ENV)
    if junit_dir and not worker:
        target = Path(junit_dir) / f"pytest-{os.getpid()}-{time.time_ns()}.xml"
        if config.getoption("xmlpath", None):
            config.stash[_OWN_JUNIT] = target  # the project's file, copied at the end
        else:
            Path(junit_dir).mkdir(parents=True, exist_ok=True)
            config.option.xmlpath = str(target)
    path = os.environ.get(EVENTS_ENV)
    if not path or worker:  # xdist workers: the controller reports
        return
    events = _Events(open(path, "a", encoding="utf-8"))  # noqa: SIM115 - closed in unconfigure
    config.pluginmanager.register(events, "pytest_pipeline_cell_events")


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:  # after pytest's LogXML wrote the file and our stage plugin regrouped it
        target = session.config.stash.get(_OWN_JUNIT, None)
        written = _junit_written(session.config)
        if target is not None and written is not None and written.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(written, target)


def _junit_written(config: pytest.Config) -> Path | None:
    try:  # the path LogXML resolved at configure time
        from _pytest.junitxml import xml_key

        xml = config.stash.get(xml_key, None)
        return Path(xml.logfile) if xml is not None else None
    except ImportError:  # pragma: no cover - a pytest without it
        return None


def pytest_unconfigure(config: pytest.Config) -> None:
    events = config.pluginmanager.get_plugin("pytest_pipeline_cell_events")
    if isinstance(events, _Events):
        events.close()
    if config.stash.get(_OUTER, False):
        os.environ.pop(ACTIVE_ENV, None)
