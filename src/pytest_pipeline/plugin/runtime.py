"""The per-session plugin object: tag, select and order tests; block, wait, report.

``plugin.py`` builds one of these in ``pytest_configure`` and registers it. Everything
that runs per test lives here and stays cheap; readiness, JUnit and xdist helpers are
imported only when their feature is in use.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_pipeline.config import PipelineConfig, ReadyTarget
from pytest_pipeline.plugin.blocking import BlockState, blocked_message
from pytest_pipeline.plugin.budgets import budget_message, over_budget
from pytest_pipeline.plugin.ledger import Ledger
from pytest_pipeline.plugin.selection import (
    STAGE_KEY,
    Assignment,
    StageAssigner,
    select_and_order,
    strict_error,
)
from pytest_pipeline.plugin.stages import SOURCES, describe_selection
from pytest_pipeline.results import BLOCKED_TYPE, CELL_ENV, STAGE_ERROR, Outcome

if TYPE_CHECKING:
    from pytest_pipeline.plugin.xdist_support import Controller, WorkerLink

HOLD_KEY = pytest.StashKey[tuple[str, str]]()
"""Why a test must not run: ("blocked" | "not_ready", message)."""


def _display_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class PipelineRuntime:
    def __init__(
        self,
        config: pytest.Config,
        settings: PipelineConfig,
        selected: tuple[str, ...] | None,
        *,
        strict: bool,
        blocking: bool,
        enforce_budgets: bool,
        list_stages: bool,
    ) -> None:
        self.config = config
        self.settings = settings
        self.selected = selected
        self.stages = selected if selected is not None else settings.names
        self.order = {name: index for index, name in enumerate(settings.names)}
        self.strict = strict
        self.blocking = blocking
        self.enforce_budgets = enforce_budgets
        self.list_stages = list_stages
        self.budgets = {s.name: s.budget for s in settings.stages if s.budget is not None}
        self.retries = {s.name: s for s in settings.stages if s.retries}
        self.has_rerunfailures = config.pluginmanager.hasplugin("rerunfailures")
        self.assigner = StageAssigner(settings, config)
        self.block = BlockState(self.order)
        self.assignment: Assignment | None = None
        self.deselected = 0
        self.items: list[pytest.Item] = []
        self._current_index = -1
        self._ready: dict[str, str | None] = {}
        self._collect_failures: dict[str, str] = {}
        self._final_failures = 0
        self.worker: WorkerLink | None = None
        self.controller: Controller | None = None
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None:
            from pytest_pipeline.plugin.xdist_support import STATE_DIR, WorkerLink

            if STATE_DIR in workerinput:
                self.worker = WorkerLink(workerinput)
        elif self._distributing(config):
            from pytest_pipeline.plugin.xdist_support import Controller

            self.controller = Controller(config, self.stages)
            config.pluginmanager.register(self.controller, "pipeline-xdist-controller")
        # Only the process that sees every report keeps the ledger (not an xdist worker).
        self.ledger = None if workerinput is not None else Ledger(self._stage_of_unknown)

    @staticmethod
    def _distributing(config: pytest.Config) -> bool:
        """True on an xdist controller that will hand tests to workers (xdist's own test)."""
        if not config.pluginmanager.hasplugin("xdist") or config.getoption("collectonly"):
            return False
        return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))

    def _stage_of_unknown(self, nodeid: str) -> str | None:
        if self.controller is not None:
            return self.controller.stage_of(nodeid)
        return None

    # ------------------------------------------------------------------ header

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        names = self.settings.names
        source = self.settings.source
        where = "built-in defaults" if source is None else _display_path(source, config.rootpath)
        lines = [
            f"pipeline: stages {' > '.join(names)}; selected: {describe_selection(self.selected, names)}; "
            f"blocking {'on' if self.blocking else 'off'}; config: {where}"
        ]
        retries = [
            f"{s.name} {s.retries}" for s in self.settings.stages if s.retries and s.name in self.stages
        ]
        if retries:
            note = "" if self.has_rerunfailures else " (pytest-rerunfailures is not installed: no retries)"
            lines.append(f"pipeline: retries: {', '.join(retries)}{note}")
        budgets = [f"{name} {budget:g}s" for name, budget in self.budgets.items() if name in self.stages]
        if budgets:
            lines.append(
                f"pipeline: budgets: {', '.join(budgets)}{' (enforced)' if self.enforce_budgets else ''}"
            )
        for stage in self.settings.stages:
            if stage.ready and stage.name in self.stages:
                targets = ", ".join(str(t) for t in stage.ready)
                lines.append(f"pipeline: {stage.name} waits for {targets} (up to {stage.ready_timeout:g}s)")
        if self.controller is not None and not self.controller.barrier:
            lines.append(
                f"pipeline: --dist {self.controller.dist} does not hand out tests in stage order: stages "
                "may overlap, and a failure blocks only the later-stage tests that start after it "
                "(use --dist load for strict order)"
            )
        return lines

    def pytest_report_collectionfinish(
        self, config: pytest.Config, items: Sequence[pytest.Item]
    ) -> list[str]:
        if self.assignment is None:
            return []
        return [self._assignment_line(Counter(self.assignment.stages), self.assignment.sources)]

    def _assignment_line(self, per_stage: Counter[str], sources: Counter[str]) -> str:
        total = sum(per_stage.values())
        stages = ", ".join(f"{name} {per_stage.get(name, 0)}" for name in self.settings.names)
        how = ", ".join(f"{source} {sources[source]}" for source in SOURCES if sources.get(source))
        line = f"pipeline: {_plural(total, 'test')} staged: {stages}"
        if how:
            line += f" (stage from {how})"
        if self.deselected:
            line += f"; {self.deselected} deselected by --stage"
        return line

    # ------------------------------------------------------------------ collection

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        assignment = self.assigner.assign(items)
        self.assignment = assignment
        problems = list(assignment.problems)
        if self.strict and assignment.defaulted:
            problems.append(
                ("strict-stages", strict_error(assignment.defaulted, self.settings.default_stage))
            )
        for nodeid, message in problems:
            # Collection errors, like a test module that does not import: pytest then
            # runs nothing ("Interrupted: N errors during collection", exit 2), and
            # xdist forwards them from its workers (a UsageError would crash them).
            report = pytest.CollectReport(nodeid, "failed", message, [])
            setattr(report, STAGE_ERROR, True)  # kept through xdist's serialisation
            config.hook.pytest_collectreport(report=report)
        kept, deselected = select_and_order(items, assignment.stages, self.selected, self.order)
        if deselected:
            self.deselected = len(deselected)
            config.hook.pytest_deselected(items=deselected)
        items[:] = kept
        self.items = kept
        if self.retries and self.has_rerunfailures:
            self._add_retries(kept)
        if self.worker is not None:
            self.worker.publish(
                [item.nodeid for item in kept],
                [item.stash[STAGE_KEY] for item in kept],
                self._assignment_line(Counter(assignment.stages), assignment.sources),
            )

    def _add_retries(self, items: Sequence[pytest.Item]) -> None:
        # pytest-rerunfailures does the rerunning; a test's own flaky marker wins.
        for item in items:
            stage = self.retries.get(item.stash[STAGE_KEY])
            if stage is not None and item.get_closest_marker("flaky") is None:
                item.add_marker(pytest.mark.flaky(reruns=stage.retries, reruns_delay=stage.retry_delay))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        if not self.list_stages:
            return None
        if session.testsfailed and not self.config.getoption("continue_on_collection_errors"):
            return None  # pytest's own loop stops here ("Interrupted: N errors during collection")
        # From here on nothing may run, not even with --continue-on-collection-errors: the
        # list is printed and the loop ends; the collection errors still fail the session.
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            by_stage: dict[str, list[str]] = {stage: [] for stage in self.stages}
            for item in self.items:
                by_stage.setdefault(item.stash[STAGE_KEY], []).append(item.nodeid)
            verbose = self.config.getoption("verbose") > 0
            for stage, nodeids in by_stage.items():
                reporter.write_line(f"{stage}: {_plural(len(nodeids), 'test')}")
                if verbose:
                    for nodeid in nodeids:
                        reporter.write_line(f"  {nodeid}")
        return True

    # ------------------------------------------------------------------ running

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        stage = item.stash.get(STAGE_KEY, None)
        if stage is None:
            return None
        index = self.order[stage]
        if index > self._current_index:
            self._enter_stage(index)
        elif self.worker is not None and not self.worker.barrier:
            # without the barrier, another worker's failure can come at any time
            self.block.merge(self.worker.failed_stages())
        hold: tuple[str, str] | None = None
        blocker = self.block.blocker_for(stage) if self.blocking else None
        if blocker is not None:
            hold = ("blocked", blocked_message(blocker))
        else:
            not_ready = self._readiness(stage)
            if not_ready is not None:
                hold = ("not_ready", not_ready)
        if hold is None:
            return None
        # Run pytest's own protocol (so fixtures, logging and capture stay consistent),
        # with a setup that fails before any fixture, and without rerunfailures' loop.
        from _pytest.runner import runtestprotocol

        item.stash[HOLD_KEY] = hold
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        runtestprotocol(item, nextitem=nextitem, log=True)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def _enter_stage(self, index: int) -> None:
        self._current_index = index
        if self.worker is not None:
            earlier = [stage for stage in self.stages if self.order[stage] < index]
            self.block.merge(self.worker.wait_for(earlier, blocking=self.blocking))

    def _readiness(self, stage: str) -> str | None:
        if stage in self._ready:
            return self._ready[stage]
        settings = self.settings.stage(stage)
        result = None
        if settings.ready:
            from pytest_pipeline.plugin.readiness import wait_ready

            result = wait_ready(
                stage, settings.ready, settings.ready_timeout, waiting=self._say_waiting(stage)
            )
        self._ready[stage] = result
        return result

    def _say_waiting(self, stage: str) -> Callable[[ReadyTarget, str], None]:
        timeout = self.settings.stage(stage).ready_timeout

        def say(target: ReadyTarget, error: str) -> None:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(
                    f"pipeline: stage {stage} waits up to {timeout:g}s for {target} ({error})"
                )

        return say

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        hold = item.stash.get(HOLD_KEY, None)
        if hold is not None:
            pytest.fail(hold[1], pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        stage = item.stash.get(STAGE_KEY, None)
        if stage is None:
            return report
        # TestReport serialises extra attributes, so the xdist controller sees these too.
        setattr(report, "pipeline_stage", stage)  # noqa: B010
        when = report.when
        if when == "setup":
            hold = item.stash.get(HOLD_KEY, None)
            if hold is not None and report.failed:
                kind, message = hold
                report.longrepr = message
                setattr(report, f"pipeline_{kind}", message)
        elif when == "call":
            budget = self.budgets.get(stage)
            if budget is not None and over_budget(report.duration, budget):
                setattr(report, "pipeline_over_budget", budget)  # noqa: B010
                if self.enforce_budgets and report.passed and not hasattr(report, "wasxfail"):
                    report.outcome = "failed"
                    report.longrepr = budget_message(stage, report.duration, budget)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        if report.when == "setup" and getattr(report, "pipeline_blocked", None):
            return "blocked", "B", "BLOCKED"
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        stage: str | None = getattr(report, "pipeline_stage", None)
        if stage is None and self.controller is not None:
            stage = self.controller.stage_of(report.nodeid)
        if report.failed and stage is not None and not getattr(report, "pipeline_blocked", None):
            first = self.block.record_failure(stage)
            if self.controller is not None:
                if first:
                    self.controller.record_failure(stage)
                self._final_failures += 1
                maxfail = self.config.getoption("maxfail", 0)
                if maxfail and self._final_failures >= maxfail:
                    self.controller.release(f"--maxfail={maxfail} reached")
        if self.ledger is not None:
            entry = self.ledger.add(report)
            if self.controller is not None and entry is not None and entry.finished:
                self.controller.record_finished(entry.nodeid, entry.stage)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # A module that fails to import still belongs somewhere in the JUnit file:
        # its path rule, stage directory or the default stage.
        if report.failed and self.ledger is not None:
            relpath = report.nodeid.split("::", 1)[0]
            found = self.assigner.stage_for_relpath(relpath or None)
            self._collect_failures[report.nodeid] = found[0] if found else self.settings.default_stage

    # ------------------------------------------------------------------ reporting

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.controller is not None:
            self.controller.show_summary()  # not shown yet when no test started
        if self.ledger is None or not self.ledger.entries or self.config.get_verbosity() < -1:
            return
        from pytest_pipeline.plugin.summary import detail_lines, table_lines

        terminalreporter.write_sep("=", "pipeline stages")
        for line in table_lines(self.ledger, self.stages):
            terminalreporter.write_line(line)
        for line in detail_lines(self.ledger, self.stages):
            terminalreporter.write_line(line)
        if self.controller is not None and self.controller.released:
            terminalreporter.write_line(
                f"pipeline: stage barrier released ({self.controller.released}): later stages may have "
                "started before earlier ones finished"
            )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # trylast: after pytest's LogXML has written the file.
        try:
            if self.ledger is not None and self.config.getoption("xmlpath", None):
                self._rewrite_junit()
        finally:
            if self.controller is not None:
                self.controller.cleanup()

    def _rewrite_junit(self) -> None:
        from pytest_pipeline.plugin.junitxml import NOT_READY_TYPE, CaseInfo, case_key, regroup

        assert self.ledger is not None
        path = self._junit_path()
        if path is None or not path.is_file():
            return
        prefix = self.config.getoption("junitprefix", None)
        cases: dict[tuple[str, str], CaseInfo] = {}
        for nodeid, stage in self._collect_failures.items():
            cases[case_key(nodeid, prefix)] = CaseInfo(stage)
        for entry in self.ledger.entries.values():
            info = CaseInfo(
                entry.stage, failed_attempts=entry.failed_attempts, passed=entry.outcome is Outcome.PASSED
            )
            if entry.blocked:
                info.error_type, info.error_message = BLOCKED_TYPE, entry.blocked
            elif entry.not_ready:
                info.error_type, info.error_message = NOT_READY_TYPE, entry.not_ready
            cases[case_key(entry.nodeid, prefix)] = info
        regroup(
            path,
            stages=self.stages,
            cases=cases,
            suite_name=str(self.config.getini("junit_suite_name")),
            family=str(self.config.getini("junit_family")),
            cell=os.environ.get(CELL_ENV) or None,
            wall_times={
                stage: wall for stage in self.stages if (wall := self.ledger.wall_time(stage)) is not None
            },
        )

    def _junit_path(self) -> Path | None:
        try:  # the very path LogXML wrote to (it resolved it at configure time)
            from _pytest.junitxml import xml_key

            xml = self.config.stash.get(xml_key, None)
            if xml is not None:
                return Path(xml.logfile)
        except ImportError:  # pragma: no cover
            pass
        xmlpath = self.config.getoption("xmlpath", None)
        if not xmlpath:
            return None
        return Path(os.path.abspath(os.path.expanduser(os.path.expandvars(xmlpath))))
