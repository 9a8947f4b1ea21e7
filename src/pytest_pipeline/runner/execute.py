"""Run one cell and say how it ended.

How a cell runs is decided by :mod:`.tox_route` (``plan`` shows it) and done by its
backend (:mod:`.backends`). In every case the cell's pytest gets our plugin
(:mod:`.inject`), each pytest session of the cell leaves a JUnit file that ends up in
``cells/<cell>/junit.xml``, and the status comes from the exit code and that file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.run_record import CellRecord, CellStatus, describe_exit, now_iso
from pytest_pipeline.runner import backends, cell_junit, locks, reuse
from pytest_pipeline.runner.backends.base import Attempt, CellJob
from pytest_pipeline.runner.context import Cancel, Notify, RunContext, StopReason, env_folder, env_lock
from pytest_pipeline.runner.process import write_log_line
from pytest_pipeline.runner.xdist_workers import AUTO_VARIABLE

# The ``tox run`` exit code for "interrupted" and pytest's own; both mean the same here.
_PYTEST_INTERRUPTED = 2


# --------------------------------------------------------------------------- status


def classify(
    *,
    exit_code: int | None,
    junit: bool,
    cancelled: StopReason | None,
) -> tuple[CellStatus, str]:
    """How a cell ended, from the test command's exit code and whether it left a report.

    A process that left no report is trusted by its exit code and said to be so (nox's
    rule); a report with a non-zero exit is a failure whose details are in the report.
    """
    if cancelled == "interrupted":
        return CellStatus.INTERRUPTED, "interrupted"
    if cancelled == "fail-fast":
        return CellStatus.CANCELLED, "stopped by --fail-fast"
    if cancelled == "timed-out":
        return CellStatus.TIMED_OUT, "timed out"
    if exit_code is None:
        return CellStatus.CRASHED, "the test command did not run"
    if not junit:
        if exit_code == 0:
            return CellStatus.CRASHED, "exit 0 but no JUnit report: did the commands run pytest?"
        return CellStatus.CRASHED, f"no report: {describe_exit(exit_code)}"
    if exit_code == 0:
        return CellStatus.PASSED, ""
    if exit_code == 1:
        return CellStatus.FAILED, "tests failed"
    if exit_code == 5:
        return CellStatus.NO_TESTS, "no tests ran"
    if exit_code == _PYTEST_INTERRUPTED:
        return CellStatus.FAILED, "pytest stopped early (exit 2: collection errors or an interruption)"
    if exit_code < 0:
        return CellStatus.CRASHED, f"pytest {describe_exit(exit_code)}; see the log"
    return CellStatus.CRASHED, f"pytest exited with {exit_code} (internal or usage error); see the log"


def classify_by_exit_code(exit_code: int | None, *, runs_pytest: bool = False) -> tuple[CellStatus, str]:
    """A cell with no per-test results (lint, docs, unittest) has only its exit code to
    say, as for tox. Its record then says ``runs_pytest: false``: the gate judges it by
    that code and expects no stage results from it."""
    why = (
        "no per-test results (no pytest session loaded the pipeline plugin)"
        if runs_pytest
        else "runs no pytest"
    )
    if exit_code == 0:
        return CellStatus.PASSED, f"{why}: judged by its exit code"
    return CellStatus.FAILED, f"{why}: exited with {exit_code}"


def junit_present(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


# --------------------------------------------------------------------------- one cell


def record_of(cell: Cell, status: CellStatus, message: str = "") -> CellRecord:
    """A record naming ``cell`` as every record of it does (run, not started or crashed);
    how it ran (exit code, files, times) is filled in by whoever ran it."""
    return CellRecord(
        name=cell.name,
        status=status,
        tool=cell.tool,
        env=cell.env,
        python=cell.python,
        factors=dict(cell.factors),
        stages=tuple(cell.stages),
        message=message,
        runs_pytest=cell.runs_pytest,
        ignore_outcome=cell.ignore_outcome,
        tested=_tested(cell),
    )


def _tested(cell: Cell) -> str:
    """What of the project a cell's tests see (see ``CellRecord.tested``)."""
    if cell.tool == "nox":
        return "source"
    installs = not cell.config.get("skip_install") and cell.config.get("package") != "skip"
    return "wheel" if installs else "nothing"


def run_cell(ctx: RunContext, cell: Cell, cancel: Cancel, notify: Notify) -> CellRecord:
    try:
        return _run_cell(ctx, cell, cancel, notify)
    finally:
        if ctx.slots is not None:  # reused, failed, cancelled, done: no cell waits for this one
            ctx.slots.retire(cell.name)


def _run_cell(ctx: RunContext, cell: Cell, cancel: Cancel, notify: Notify) -> CellRecord:
    reports = ctx.reports
    reports.cell_dir(cell.name).mkdir(parents=True, exist_ok=True)
    junit, log_path, events = reports.junit(cell.name), reports.log(cell.name), reports.events(cell.name)
    sessions = cell_junit.sessions_dir(junit)
    started_at, started = now_iso(), time.monotonic()
    base = dataclasses.replace(
        record_of(cell, CellStatus.RUNNING), log=reports.relative(log_path), started=started_at
    )

    waited = 0.0

    def record(status: CellStatus, message: str, exit_code: int | None = None) -> CellRecord:
        return dataclasses.replace(
            base,
            status=status,
            exit_code=exit_code,
            junit=reports.relative(junit) if junit_present(junit) else None,
            duration=time.monotonic() - started - waited,
            finished=now_iso(),
            message=message,
        )

    with log_path.open("ab") as log:
        stages = ",".join(cell.stages) or "all"
        write_log_line(log, f"pytest-pipeline: cell {cell.name} ({cell.tool} {cell.env}), stages {stages}")
        if cell.missing:
            write_log_line(log, f"pytest-pipeline: interpreter {cell.python} not found on this machine")
            return record(CellStatus.MISSING_INTERPRETER, f"python {cell.python} not found")
        if ctx.ahead is not None:
            ctx.ahead.settle(cell.name, cancel.event)  # its environment begun while the package built
        lock = env_lock(env_folder(cell, ctx.project))
        try:
            with locks.hold(
                lock,
                wait=True,
                cancel=cancel.event,
                on_wait=lambda owner: notify(phase=f"waiting for {owner}"),
            ):
                attempt = _dispatch(
                    ctx, cell, sessions=sessions, events=events, log=log, cancel=cancel, notify=notify
                )
        except locks.LockBusy:
            attempt = Attempt(cancelled=True)
        finally:
            broken = cell_junit.collect(sessions, junit)
        waited = attempt.waited
        if attempt.reused is not None:
            now = record(CellStatus.PASSED, "; ".join(attempt.notes))
            return _reused(attempt.reused, now, reports.cell_dir(cell.name), log)
        by_exit_code = False
        if attempt.cancelled and cancel.reason is not None:
            status, message = classify(exit_code=attempt.exit_code, junit=False, cancelled=cancel.reason)
        elif attempt.env_error is not None:
            status, message = CellStatus.ENV_ERROR, attempt.env_error
        elif broken:
            status, message = (
                CellStatus.CRASHED,
                f"a pytest session left an unreadable JUnit file ({broken[0]})",
            )
        elif not junit_present(junit) and not cell_junit.plugin_reported(events):
            # No pytest session of ours ran: unittest, a lint env, or a pytest that did
            # not load the plugin. tox judges it by its exit code, and so do we.
            by_exit_code = True
            status, message = classify_by_exit_code(attempt.exit_code, runs_pytest=cell.runs_pytest)
            message = "; ".join([*attempt.notes, message])
        else:
            status, message = classify(
                exit_code=attempt.exit_code, junit=junit_present(junit), cancelled=None
            )
            message = "; ".join([*attempt.notes, message] if message else attempt.notes)
        write_log_line(
            log, f"pytest-pipeline: cell {cell.name}: {status.value}" + (f" - {message}" if message else "")
        )
        done = record(status, message, attempt.exit_code)
        if by_exit_code:
            done = dataclasses.replace(done, runs_pytest=False)
    _keep(ctx, done, attempt.reuse_inputs, reports.cell_dir(cell.name))
    return done


def _reused(stored: reuse.Stored, now: CellRecord, folder: Path, log: IO[bytes]) -> CellRecord:
    """The cell's record and files from an earlier run whose inputs were these very ones."""
    reuse.restore(stored, folder, skip=("log.txt",))
    write_log_line(log, f"pytest-pipeline: {stored.describe()}: nothing that feeds this cell changed")
    earlier_log = stored.folder / "log.txt"
    if earlier_log.is_file():
        write_log_line(log, "pytest-pipeline: the earlier run's log follows")
        log.write(earlier_log.read_bytes())
        log.flush()
    earlier = CellRecord.from_dict(stored.record)
    junit = now.junit or (earlier.junit and f"cells/{now.name}/junit.xml")
    return dataclasses.replace(
        now,
        status=earlier.status,
        exit_code=earlier.exit_code,
        junit=junit if (folder / "junit.xml").is_file() else None,
        runs_pytest=earlier.runs_pytest,
        message="; ".join(
            [*filter(None, [now.message, stored.describe()]), *_outcome_notes(earlier.message)]
        ),
        reused_from=dict(stored.origin),
    )


def _outcome_notes(message: str) -> list[str]:
    """An earlier record's message without what it said of its environment then."""
    return [
        part for part in message.split("; ") if part and not part.startswith(("environment ", "through tox"))
    ]


def _keep(ctx: RunContext, done: CellRecord, inputs: reuse.Inputs | None, folder: Path) -> None:
    """Store a result that depends on its inputs alone, for a later run to reuse."""
    if inputs is None or ctx.reuse is None or done.reused_from is not None:
        return
    if reuse.flaky(folder / "junit.xml"):
        return
    origin = {**ctx.reuse.origin, "finished": done.finished or ""}
    # A store that cannot be written costs the next run a run, nothing more.
    with contextlib.suppress(OSError):
        reuse.save(ctx.project, inputs, record=done.to_dict(), origin=origin, cell_dir=folder)


def _dispatch(
    ctx: RunContext,
    cell: Cell,
    *,
    sessions: Path,
    events: Path,
    log: IO[bytes],
    cancel: Cancel,
    notify: Notify,
) -> Attempt:
    def inject(base: Mapping[str, str], *, python_path: bool = False) -> dict[str, str]:
        environ = ctx.injection.environment(
            base,
            cell=cell.name,
            stages=cell.stages,
            junit_dir=sessions.resolve(),
            config=ctx.config_file,
            events=events.resolve(),
            pytest_args=ctx.pytest_args,
            python_path=python_path,
        )
        budget = ctx.slots.workers(cell.name) if ctx.slots is not None else None
        if budget is not None:  # -n auto: as many workers as the cell holds slots (see .slots)
            environ[AUTO_VARIABLE] = str(budget)
        return environ

    route = ctx.route(cell)
    write_log_line(log, f"pytest-pipeline: runs {route.kind}: {route.why}")
    job = CellJob(ctx=ctx, cell=cell, route=route, inject=inject, log=log, cancel=cancel, notify=notify)
    return backends.for_route(route.kind).run(job)
