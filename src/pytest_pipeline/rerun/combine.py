"""Fold a re-run's results into the reports folder of the run it repeats.

The re-run runs in a folder of its own (the runner clears the folder it runs in). Then:

- a cell re-run whole gets the re-run's files as they are;
- a cell re-run test by test gets a JUnit file holding its earlier results minus the
  re-run tests, plus the re-run's results for those (matched by stage, classname and
  name), so its passing tests still count. If the re-run ran more tests than were asked
  for (the filter fell back to the whole cell), its file replaces the old one instead;
- each replaced file is kept beside the new one as ``<name>.previous`` (one level; a name
  that no ``*.xml`` glob picks up), and new files are written atomically;
- ``run.json`` lists every cell, re-run ones replaced, and the merged ``junit.xml`` is
  written again. The caller then asks the gate.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from pytest_pipeline import junit
from pytest_pipeline.fileio import copy_atomic
from pytest_pipeline.junit.reader import TestCaseRecord, UnreadableInput, read
from pytest_pipeline.results import ResultSummary
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord
from pytest_pipeline.runner.outputs import Reports

CELL_FILES = ("junit.xml", "log.txt", "events.jsonl")
PREVIOUS = ".previous"
Identity = tuple[str, str, str]


def identities(path: Path, default_stage: str) -> set[Identity] | None:
    """(stage, classname, name) of every test in ``path``; None when it cannot be read."""
    found: set[Identity] = set()
    try:
        for batch in read(path, default_stage=default_stage):
            for item in batch:
                if isinstance(item, TestCaseRecord):
                    found.add((item.stage, item.classname, item.name))
    except UnreadableInput:
        return None
    return found


def combine_junit(
    previous: Path, new: Path, output: Path, *, asked: int, default_stage: str
) -> tuple[ResultSummary | None, str]:
    """Write the cell's combined JUnit file to ``output``; returns its summary (None when
    the re-run's file is unreadable: the caller keeps the re-run's own file) and how."""
    ran = identities(new, default_stage)
    if ran is None:
        return None, "its new report is unreadable"
    if len(ran) > asked or not previous.is_file():
        copy_atomic(new, output)
        return junit.summarize([output], default_stage=default_stage), "the whole cell ran"

    def replaced(path: Path, test: TestCaseRecord) -> bool:
        return path == previous and (test.stage, test.classname, test.name) in ran

    summary = junit.merge([previous, new], output, default_stage=default_stage, exclude=replaced)
    return summary, f"re-ran {len(ran)} of its tests"


def status_from(summary: ResultSummary, rerun: CellRecord) -> CellStatus:
    """A combined cell's status, from the combined results when pytest reported."""
    if rerun.status not in (CellStatus.PASSED, CellStatus.FAILED, CellStatus.NO_TESTS):
        return rerun.status
    total = summary.total()
    if total.bad:
        return CellStatus.FAILED
    if total.tests == 0:
        return CellStatus.NO_TESTS
    return CellStatus.PASSED


def install_cell(main: Reports, staged: Path, cell: str) -> None:
    """Move the cell's current files aside (``*.previous``) and put the staged ones in place."""
    folder = main.cell_dir(cell)
    folder.mkdir(parents=True, exist_ok=True)
    for name in CELL_FILES:
        current = folder / name
        if current.is_file():
            os.replace(current, folder / (name + PREVIOUS))
    for name in CELL_FILES:
        source = staged / name
        if source.is_file():
            copy_atomic(source, folder / name)


def stage_cells(
    main: Reports,
    rerun: Reports,
    cells: Mapping[str, CellRecord],
    asked: Mapping[str, int],
    default_stage: str,
) -> dict[str, CellRecord]:
    """Prepare each re-run cell's files in the re-run folder (combining JUnit files of
    cells re-run test by test) and return its record for the combined run."""
    records: dict[str, CellRecord] = {}
    for name, ran in cells.items():
        records[name] = ran
        new = rerun.junit(name)
        if name in asked and new.is_file() and ran.junit:
            combined = rerun.cell_dir(name) / "junit.combined.xml"
            summary, how = combine_junit(
                main.junit(name), new, combined, asked=asked[name], default_stage=default_stage
            )
            if summary is not None:
                os.replace(combined, new)
                message = f"{how}; {ran.message}" if ran.message else how
                records[name] = dataclasses.replace(ran, status=status_from(summary, ran), message=message)
    return records


def combined_record(old: RunRecord, new: RunRecord, replaced: Mapping[str, CellRecord]) -> RunRecord:
    """The last run's record with the re-run cells' records in their places."""
    dirty = None if old.dirty is None and new.dirty is None else bool(old.dirty or new.dirty)
    return RunRecord(
        cells=tuple(replaced.get(cell.name, cell) for cell in old.cells),
        stages=old.stages or new.stages,
        artifact=old.artifact or new.artifact,
        interrupted=new.interrupted,
        started=old.started,
        finished=new.finished,
        tool_versions=dict(new.tool_versions) or dict(old.tool_versions),
        commit=new.commit or old.commit,
        dirty=dirty,
        artifacts=old.artifacts,
        # How the cells ran: the re-run reuses the last run's (the command sets the pytest
        # arguments it chose; the runner's own record holds the re-run filter's too).
        pytest_args=old.pytest_args,
        backend=old.backend,
        installer=old.installer,
    )
