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
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pytest_pipeline.config import DEFAULT_REPORTS_DIR
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.fileio import ignore_in_git, write_json_atomic
from pytest_pipeline.results import RunRecord
from pytest_pipeline.runner import locks

LOCK_NAME = ".pytest-pipeline.lock"
_OWN_FILES = ("run.json", "junit.xml", "gate.json", "build.log", "report.html")
_OWN_DIRS = ("cells", "dist")
_UNSAFE = re.compile(r"[/\\\x00-\x1f]")


def check_cell_name(name: str) -> str:
    """A cell name becomes a folder name: it must not escape the reports folder."""
    if not name or name in (".", "..") or name.startswith(".") or _UNSAFE.search(name) or ":" in name:
        raise PipelineError(
            f"cell name {name!r} cannot be a folder name under the reports folder (no '/', '\\', ':', "
            "control characters or leading '.'); rename the environment or select other cells"
        )
    return name


@dataclass(frozen=True)
class Reports:
    root: Path

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
        return self.root / "cells" / check_cell_name(cell)

    def junit(self, cell: str) -> Path:
        return self.cell_dir(cell) / "junit.xml"

    def log(self, cell: str) -> Path:
        return self.cell_dir(cell) / "log.txt"

    def events(self, cell: str) -> Path:
        return self.cell_dir(cell) / "events.jsonl"

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def write_run_record(self, record: RunRecord) -> None:
        write_json_atomic(self.run_record, record.to_dict())


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


@contextlib.contextmanager
def open_reports(root: Path) -> Iterator[Reports]:
    """Lock ``root`` for this run and clear the previous run's outputs (ours only).

    Only files and folders this tool writes are removed, and only where a run wrote
    them (its lock file says so): a reports folder configured as a folder that holds
    other things keeps them.
    """
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
        held.enter_context(locks.hold(root / LOCK_NAME))
    except locks.LockBusy as busy:
        raise PipelineError(
            f"reports folder {root} is in use by another pytest-pipeline run ({busy.owner}); "
            "wait for it to finish or pass another --reports-dir",
            ExitCode.USAGE_ERROR,
        ) from None
    with held:
        # Without a previous run here, files of our names were written by `gate` or
        # `report --html` on their own (or by someone else): this run replaces the ones it
        # writes and leaves the rest.
        if used_before:
            for name in _OWN_FILES:
                (root / name).unlink(missing_ok=True)
            for name in _OWN_DIRS:
                shutil.rmtree(root / name, ignore_errors=True)
        ignore_in_git(root)
        yield Reports(root)
