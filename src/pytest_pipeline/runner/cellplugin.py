"""A tiny pytest plugin loaded only inside matrix cells: live events for the orchestrator.

It appends JSON lines to ``$PYTEST_PIPELINE_EVENTS`` (one file per cell, written by one
process: xdist workers' reports arrive at the controller): when the first test of a
stage starts reporting, and each final test outcome. The orchestrator tails the file to
show which stage a cell is in and to stop everything on the first failure under
``--fail-fast``. Without the variable it does nothing. Standard library only: it runs in
the user's environment.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any

import pytest

EVENTS_ENV = "PYTEST_PIPELINE_EVENTS"
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


def _final_outcome(report: pytest.TestReport) -> str | None:
    """One outcome per test: a failure in any phase, else the call's result, else a
    skip at setup. Rerun attempts (``outcome == "rerun"``) are not final."""
    if str(report.outcome) == "rerun":  # pytest-rerunfailures' attempts
        return None
    if report.failed:
        if report.when == "setup" and report.longreprtext.startswith(BLOCKED_PREFIX):
            return "blocked"
        return "failed" if report.when == "call" else "error"
    if report.when == "call":
        return "passed" if report.passed else "skipped"
    if report.when == "setup" and report.skipped:
        return "skipped"
    return None


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get(EVENTS_ENV)
    if not path or hasattr(config, "workerinput"):  # xdist workers: the controller reports
        return
    events = _Events(open(path, "a", encoding="utf-8"))  # noqa: SIM115 - closed in unconfigure
    config.pluginmanager.register(events, "pytest_pipeline_cell_events")


def pytest_unconfigure(config: pytest.Config) -> None:
    events = config.pluginmanager.get_plugin("pytest_pipeline_cell_events")
    if isinstance(events, _Events):
        events.close()
