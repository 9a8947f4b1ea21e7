"""The reports folder of a run, one run at a time.

::

    pipeline-reports/
      run.json                  what ran: every planned cell, its status and files (RunRecord)
      junit.xml                 all cells merged
      gate.json                 the verdict
      build.log                 output of the one package build
      dist/<wheel>              the one artifact every cell installed
      cells/<cell>/junit.xml    that cell's pytest report
      cells/<cell>/log.txt      environment setup and commands, stdout and stderr
      cells/<cell>/events.jsonl live events from the cell's pytest (stage, outcomes)
      report.html               the HTML report (run --html, pytest-pipeline report --html)

A lock file in the folder refuses a second concurrent run instead of mixing results. It
stays after the run and so marks the folder as a run's: only a folder that has it gets
the previous run's outputs removed. One without it that already holds a ``dist/`` or
``cells/`` (only ``run`` makes those, so they are someone else's) is refused rather than
written into, since the next run would clear them.

The lock file also says which run holds (or last held) the folder and whether it
finished (:class:`RunMark`): ``running`` from the start, ``finished`` once ``run.json``
is written, ``failed`` when the run stopped on an error before that. A folder whose run
is not ``finished`` never opens a gate (:func:`unfinished_run`): a killed run's cells may
have left some reports, never all of them. The next run in the folder ends what such a
run left running (found by its id, see :mod:`.watchdog`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pipeline.config import DEFAULT_REPORTS_DIR, PipelineConfig
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.fileio import describe_disk_full, disk_full, ignore_in_git, write_json_atomic
from pytest_pipeline.matrix.select import check_cell_name
from pytest_pipeline.run_record import RunRecord
from pytest_pipeline.runner import locks

LOCK_NAME = ".pytest-pipeline.lock"
_OWN_FILES = ("run.json", "junit.xml", "gate.json", "build.log", "report.html")
_OWN_DIRS = ("cells", "dist")


def locate(config: PipelineConfig, *, given: Path | None = None, project: Path | None = None) -> Path:
    """The reports folder, the one way every command finds it: ``--reports-dir`` as given
    (relative to where the user is), else ``[tool.pytest-pipeline] reports-dir`` (default
    ``pipeline-reports``) relative to the pyproject.toml that holds the setting, else to
    ``project`` (the project folder), else to the current folder."""
    if given is not None:
        return given
    base = config.source.parent if config.source is not None else (project or Path.cwd())
    return base / config.reports_dir


RUNNING, FINISHED, FAILED = "running", "finished", "failed"


@dataclass(frozen=True)
class RunMark:
    """What the reports folder's lock file says of the run that holds or last held it."""

    run: str
    pid: int
    started: str
    state: str = RUNNING

    def text(self) -> str:
        """The lock file's text: the pid alone on the first line (what :mod:`.locks`
        names the holder by), then this mark as JSON."""
        data = {"run": self.run, "pid": self.pid, "started": self.started, "state": self.state}
        return f"{self.pid}\n{json.dumps(data)}\n"

    @classmethod
    def parse(cls, text: str) -> RunMark | None:
        """None for a lock file without a mark (empty, or written before marks existed)."""
        lines = text.splitlines()
        try:
            data: Any = json.loads(lines[1]) if len(lines) > 1 else None
            if isinstance(data, dict):
                return cls(str(data["run"]), int(data["pid"]), str(data["started"]), str(data["state"]))
        except (ValueError, KeyError, TypeError):
            pass
        return None

    def describe(self) -> str:
        return f"the run {self.run} (pid {self.pid}, started {self.started})"


class _RunLock:
    """The lock this run holds on its reports folder, and the state it says."""

    def __init__(self, held: locks.Held, mark: RunMark) -> None:
        self.held = held
        self.mark = mark

    def set_state(self, state: str) -> None:
        self.mark = dataclasses.replace(self.mark, state=state)
        # Best effort: the lock file exists and keeps its size, but a failing disk may
        # refuse even that; the state then stays "running", which also never opens a gate.
        with contextlib.suppress(OSError):
            self.held.write(self.mark.text())


@dataclass(frozen=True)
class Reports:
    root: Path
    lock: _RunLock | None = field(default=None, compare=False, repr=False)
    """Set when this process holds the folder for a run (:func:`open_reports`)."""

    @property
    def run_record(self) -> Path:
        return self.root / "run.json"

    @property
    def merged(self) -> Path:
        return self.root / "junit.xml"

    @property
    def gate(self) -> Path:
        return self.root / "gate.json"

    @property
    def build_log(self) -> Path:
        return self.root / "build.log"

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    def cell_dir(self, cell: str) -> Path:
        return self.root / "cells" / check_cell_name(cell, "a cell of the run record")

    def junit(self, cell: str) -> Path:
        return self.cell_dir(cell) / "junit.xml"

    def log(self, cell: str) -> Path:
        return self.cell_dir(cell) / "log.txt"

    def events(self, cell: str) -> Path:
        return self.cell_dir(cell) / "events.jsonl"

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def write_run_record(self, record: RunRecord) -> None:
        """Write run.json; for the run that holds the folder, it is now finished: its
        record says how every cell ended (merging and the gate may still follow)."""
        write_json_atomic(self.run_record, record.to_dict())
        if self.lock is not None:
            self.lock.set_state(FINISHED)


def check_root(root: Path, project: Path, option: str) -> None:
    """Refuse a reports folder that is the project or holds it: our outputs (``dist/``,
    ``cells/``, ``junit.xml``) would land among the project's own files of those names.
    ``option`` names where the folder came from, for the message."""
    root, project = root.resolve(), project.resolve()
    if root == project or root in project.parents:
        where = "is the project folder" if root == project else f"holds the project {project}"
        raise PipelineError(
            f"{option} {root} {where}: the run's dist/, cells/ and junit.xml would land among the "
            f"project's own files; give the reports a folder of their own, such as "
            f"{DEFAULT_REPORTS_DIR} (the default)"
        )


def _own_dirs_present(root: Path) -> list[str]:
    return [f"{name}/" for name in _OWN_DIRS if (root / name).exists()]


def _check_writable(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".write-test-", dir=root)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise PipelineError(
            f"reports folder {root} cannot be written ({exc.strerror or exc}); "
            "pass a writable folder with --reports-dir or fix its permissions"
        ) from None


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def open_reports(
    root: Path, *, run_id: str | None = None, say: Callable[[str], None] | None = None
) -> Iterator[Reports]:
    """Lock ``root`` for the run ``run_id`` and clear the previous run's outputs (ours only).

    Only files and folders this tool writes are removed, and only where a run wrote
    them (its lock file says so): a reports folder configured as a folder that holds
    other things keeps them. What an unfinished previous run left running is ended,
    and ``say`` told so. A full disk under ``root`` ends the block in one
    :class:`PipelineError` (exit 3) that names the folder.
    """
    from pytest_pipeline.runner import watchdog

    mark = RunMark(run_id or watchdog.new_run_id(), os.getpid(), _now())
    used_before = (root / LOCK_NAME).exists()  # ask before locking: the lock creates the file
    foreign = [] if used_before else _own_dirs_present(root)
    if foreign:
        raise PipelineError(
            f"reports folder {root} already holds {', '.join(foreign)}, not written by pytest-pipeline; "
            "pass a folder of its own with --reports-dir (or [tool.pytest-pipeline] reports-dir)"
        )
    _check_writable(root)
    held = contextlib.ExitStack()
    try:
        lock = _RunLock(held.enter_context(locks.hold(root / LOCK_NAME, content=mark.text())), mark)
    except locks.LockBusy as busy:
        raise PipelineError(
            f"reports folder {root} is in use by another pytest-pipeline run ({busy.owner}); "
            "wait for it to finish or pass another --reports-dir",
            ExitCode.USAGE_ERROR,
        ) from None
    with held:
        _end_what_was_left(RunMark.parse(lock.held.previous), say)
        # Without a previous run here, files of our names were written by `gate` or
        # `report --html` on their own (or by someone else): this run replaces the ones it
        # writes and leaves the rest.
        if used_before:
            for name in _OWN_FILES:
                (root / name).unlink(missing_ok=True)
            for name in _OWN_DIRS:
                shutil.rmtree(root / name, ignore_errors=True)
        ignore_in_git(root)
        try:
            yield Reports(root, lock=lock)
        except BaseException as error:
            if lock.mark.state != FINISHED:
                lock.set_state(FAILED)
            full = disk_full(error)
            if full is not None and _under(full.filename, root):
                raise PipelineError(_full_message(root, full), ExitCode.INCOMPLETE) from None
            raise


def _end_what_was_left(previous: RunMark | None, say: Callable[[str], None] | None) -> None:
    """A previous run that never finished was killed: end what it left running."""
    from pytest_pipeline.runner import process, watchdog

    if previous is None or previous.state == FINISHED:
        return
    ended = watchdog.end_marked(previous.run, grace=process.GRACE_SECONDS)
    if ended and say is not None:
        say(f"ended {watchdog.processes(ended)} left by {previous.describe()}, which never finished")


def _under(filename: str | bytes | None, root: Path) -> bool:
    """Whether an error's file is in the reports folder (a log's write names none: it is)."""
    if filename is None:
        return True
    try:
        Path(os.fsdecode(filename)).resolve().relative_to(root.resolve())
    except (ValueError, OSError, TypeError):
        return False
    return True


def _full_message(root: Path, error: OSError) -> str:
    where = f" writing {error.filename}" if error.filename else ""
    return (
        f"reports folder {root}: {describe_disk_full(error)}{where}; the run stopped and its results "
        "are incomplete: free some space there or pass another --reports-dir"
    )


# --------------------------------------------------------------------------- the gate's view


def unfinished_run(folder: Path) -> str | None:
    """Why the results in the reports folder ``folder`` must not open a gate: its run
    has not finished (still running, killed, or stopped on an error); None when it has,
    or when no run of ours ever held it."""
    lock_file = folder / LOCK_NAME
    try:
        mark = RunMark.parse(lock_file.read_text(encoding="utf-8"))
    except OSError:
        return None
    if mark is None or mark.state == FINISHED:
        return None
    if mark.state == FAILED:
        return (
            f"{mark.describe()} stopped on an error before it recorded how its cells ended "
            "(see its output); run it again"
        )
    if locks.is_held(lock_file):
        return f"{mark.describe()} is still running; judge its results when it is done"
    return (
        f"{mark.describe()} never finished (it was killed); the reports of its cells are "
        "partial: run it again"
    )
