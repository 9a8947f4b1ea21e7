"""Final outcome of every test, per stage, from the reports pytest logs.

Fed from ``pytest_runtest_logreport`` in the process that sees every report (the only
process, or the xdist controller). The terminal table and the JUnit rewrite read it.
Reports are duck-typed so that the rules can be tested with plain objects.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_pipeline.results import Counts, Outcome


@dataclass
class TestEntry:
    """Everything the summary and the JUnit rewrite need about one test."""

    __test__ = False  # not a pytest test class

    nodeid: str
    stage: str
    outcome: Outcome | None = None
    time: float = 0.0
    failed_attempts: list[str] = field(default_factory=list)
    """One short message (its first failure) per attempt pytest-rerunfailures retried."""
    blocked: str | None = None
    """The blocked message, when an earlier stage's failure kept this test from running."""
    not_ready: str | None = None
    """The readiness message, when the stage's services did not answer."""
    over_budget: tuple[float, float] | None = None
    """(call duration, budget) when the call took longer than the stage's budget."""
    finished: bool = False
    _attempt_rerun: bool = False

    @property
    def flaky(self) -> bool:
        return self.outcome is Outcome.PASSED and bool(self.failed_attempts)


# A call phase that neither passed nor failed was skipped (pytest.skip, xfail).
_CALL_OUTCOMES = {"passed": Outcome.PASSED, "failed": Outcome.FAILED}


def short_message(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    text = str(longrepr or report.outcome)
    return text.splitlines()[0] if text else ""


class Ledger:
    def __init__(self, stage_of: Callable[[str], str | None] = lambda nodeid: None) -> None:
        """``stage_of`` names the stage of reports that do not carry one (xdist crash reports)."""
        self.entries: dict[str, TestEntry] = {}
        self._stage_of = stage_of
        self.spans: dict[str, tuple[float, float]] = {}
        """Stage -> (first start, last stop) of its reports, in epoch seconds: its wall time
        (under xdist its tests overlap, and their durations add up to more)."""

    def add(self, report: Any) -> TestEntry | None:
        """Record one report; returns the entry (``entry.finished`` once its last report is in)."""
        nodeid: str = report.nodeid
        entry = self.entries.get(nodeid)
        if entry is None:
            stage = getattr(report, "pipeline_stage", None) or self._stage_of(nodeid)
            if stage is None:
                return None
            entry = self.entries[nodeid] = TestEntry(nodeid, stage)
        entry.time += float(getattr(report, "duration", 0.0) or 0.0)
        self._span(entry.stage, report)
        when = report.when
        outcome = report.outcome
        if when == "setup":
            entry._attempt_rerun = False
            entry.outcome = None
            entry.finished = False
        if outcome == "rerun":
            # One entry per retried attempt, even when its call and its teardown both failed.
            if not entry._attempt_rerun:
                entry.failed_attempts.append(short_message(report))
            entry._attempt_rerun = True
            return entry
        blocked = getattr(report, "pipeline_blocked", None)
        if blocked:
            entry.blocked = blocked
            entry.outcome = Outcome.BLOCKED
            return entry
        if when == "setup":
            if outcome == "failed":
                entry.outcome = Outcome.ERROR
                entry.not_ready = getattr(report, "pipeline_not_ready", None)
            elif outcome == "skipped":
                entry.outcome = Outcome.SKIPPED
        elif when == "call":
            budget = getattr(report, "pipeline_over_budget", None)
            if budget is not None:
                entry.over_budget = (float(report.duration), float(budget))
            entry.outcome = _CALL_OUTCOMES.get(outcome, Outcome.SKIPPED)
        elif when == "teardown":
            if outcome == "failed" and entry.outcome in (None, Outcome.PASSED, Outcome.SKIPPED):
                entry.outcome = Outcome.ERROR
            entry.finished = not entry._attempt_rerun
        else:  # xdist: the worker crashed while running this test
            entry.outcome = Outcome.FAILED if outcome == "failed" else entry.outcome
            entry.finished = True
        return entry

    def _span(self, stage: str, report: Any) -> None:
        start, stop = getattr(report, "start", None), getattr(report, "stop", None)
        if not isinstance(start, float) or not isinstance(stop, float):
            return
        first, last = self.spans.get(stage, (start, stop))
        self.spans[stage] = (min(first, start), max(last, stop))

    def wall_time(self, stage: str) -> float | None:
        span = self.spans.get(stage)
        return None if span is None else max(0.0, span[1] - span[0])

    def counts(self, stages: Iterable[str]) -> dict[str, Counts]:
        """Counts per stage, in the given order (stages without tests included); a stage's
        time is its wall time where the reports say when they ran."""
        table = {stage: Counts() for stage in stages}
        for entry in self.entries.values():
            counts = table.setdefault(entry.stage, Counts())
            if entry.outcome is None:
                continue  # interrupted before any phase decided: not counted
            counts.add(entry.outcome, entry.time, flaky=entry.flaky)
        for stage, counts in table.items():
            wall = self.wall_time(stage)
            if wall is not None:
                counts.time = wall
        return table

    def flaky(self) -> list[TestEntry]:
        return [entry for entry in self.entries.values() if entry.flaky]

    def over_budget(self) -> list[TestEntry]:
        return [entry for entry in self.entries.values() if entry.over_budget is not None]

    def blocked(self) -> list[TestEntry]:
        return [entry for entry in self.entries.values() if entry.outcome is Outcome.BLOCKED]
