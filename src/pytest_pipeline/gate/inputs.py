"""Find and read what the gate decides on: JUnit files, folders of them, run records.

An input is one of:

- a ``run.json`` written by ``pytest-pipeline run`` (a :class:`RunRecord`); its cells'
  JUnit paths are relative to the folder holding it;
- a folder: every ``run.json`` below it (a CI fan-out downloads one per job), and then
  only the JUnit files they name; without any run.json, every ``*.xml`` below it (a
  file without a cell property belongs to the cell its name says: ``py311.xml`` or
  ``py311/junit.xml`` -> ``py311``, see :mod:`pytest_pipeline.junit.identity`);
- a JUnit XML file (a merged file carries its cells as properties);
- a glob of these, for shells that did not expand it.

A reports folder whose run has not finished (its lock file says so, see
:func:`pytest_pipeline.runner.outputs.unfinished_run`) is named in
:attr:`GateResults.unfinished_runs`, whichever input lies in it or below it: a killed
run's cells may have written some reports, and those must never pass for the matrix.

Nothing that was asked for is dropped silently: a named path that does not exist is
refused before anything is written (:func:`check_named`, a usage error); the default
reports folder missing, a folder with no results, a file that cannot be read, all become
input problems (code 3). So does
a JUnit file with results for a (cell, stage) that an earlier file already gave (a merged
``junit.xml`` next to the per-cell files it came from): it is left out instead of counting
every test twice, as ``merge`` does. A file named twice is read once.
"""

from __future__ import annotations

import glob
import json
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pipeline.errors import ConfigError
from pytest_pipeline.gate.evidence import CellReport, GateResults, LoadedRun
from pytest_pipeline.results import InputProblem, ResultSummary, duplicate_results_message
from pytest_pipeline.run_record import Artifact, RunRecord

RUN_RECORD_NAME = "run.json"

Reader = Callable[[list[Path], "str | None"], ResultSummary]
"""Reads JUnit files into a summary: ``reader(files, default_cell)``."""
Group = tuple[str, str]


def junit_reader(default_stage: str) -> Reader:
    """The real reader, :func:`pytest_pipeline.junit.summarize`, imported when first used."""

    def read(files: list[Path], default_cell: str | None) -> ResultSummary:
        from pytest_pipeline import junit

        return junit.summarize(files, default_stage=default_stage, default_cell=default_cell)

    return read


@dataclass
class _Found:
    run_records: list[Path] = field(default_factory=list)
    junit: list[tuple[Path, str | None]] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    examined: list[Path] = field(default_factory=list)
    """Every input path that exists (files, folders, what globs matched)."""


def load(paths: Iterable[str], reader: Reader, *, expected_cells: Iterable[str] = ()) -> GateResults:
    found = _find(paths)
    summary = ResultSummary()
    summary.problems.extend(found.problems)
    owners: dict[Group, str] = {}
    """The file each (cell, stage) group's results came from."""
    read: set[Path] = set()
    runs: list[LoadedRun] = []
    artifacts: dict[tuple[str, str], Artifact] = {}
    seen_cells: dict[str, str] = {}
    for path in found.run_records:
        loaded = _load_run(path, reader, summary, owners, read)
        if loaded is None:
            continue
        runs.append(loaded)
        for cell in loaded.record.cells:
            if cell.name in seen_cells:
                summary.problems.append(
                    InputProblem(
                        str(path),
                        f"cell {cell.name!r} is also in {seen_cells[cell.name]}; "
                        "one run record per job, each cell once (remove the stale copy)",
                    )
                )
            seen_cells.setdefault(cell.name, str(path))
        for artifact in _artifacts(path, loaded.record):
            artifacts.setdefault((artifact.name, artifact.sha256), artifact)
    for file, default_cell in found.junit:
        if not _first_read(file, read):
            continue
        part = reader([file], default_cell)
        repeated = _claim(part, str(file), owners)
        if repeated is not None:
            summary.files.extend(part.files)
            summary.problems.append(InputProblem(str(file), repeated))
            continue
        summary.extend(part)
    return GateResults(
        summary=summary,
        runs=tuple(runs),
        expected_cells=tuple(dict.fromkeys(expected_cells)),
        artifacts=tuple(artifacts.values()),
        unfinished_runs=unfinished_runs(found.examined),
    )


def check_named(paths: Iterable[str]) -> None:
    """Refuse a named input that does not exist, or a pattern that matches nothing.

    A typo, or a CI download that did not happen: a usage error before anything is
    written, so the last gate.json stays as it was. (The default input, the reports
    folder, is not named: its absence is a reason with code 3, see :func:`load`.)
    """
    for text in paths:
        if os.path.lexists(text):
            continue  # a dangling link or an unreadable file is a problem load() reports
        if glob.has_magic(text):
            if not glob.glob(text, recursive=True):
                raise ConfigError(
                    f"input {text}: no file matches this pattern; check it (nothing was written)"
                )
            continue
        raise ConfigError(
            f"input {text}: no such file or folder; check the path (did the job download it?); "
            "nothing was written"
        )


def unfinished_runs(paths: Iterable[Path]) -> tuple[tuple[str, str], ...]:
    """(folder, why) for each reports folder of an unfinished run that holds one of
    ``paths`` (a file in it, the folder itself or one above it)."""
    from pytest_pipeline.fileio import relative_to_cwd
    from pytest_pipeline.runner.outputs import LOCK_NAME, unfinished_run

    folders: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            folders.update((lock.parent.absolute(), None) for lock in sorted(path.rglob(LOCK_NAME)))
        folders.update((folder, None) for folder in path.absolute().parents)
    found = []
    for folder in folders:
        why = unfinished_run(folder)
        if why is not None:
            found.append((str(relative_to_cwd(folder)), why))
    return tuple(found)


def _find(paths: Iterable[str]) -> _Found:
    found = _Found()
    for text in paths:
        path = Path(text)
        if not path.exists() and glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                found.problems.append(InputProblem(text, "no file matches this pattern"))
            for match in matches:
                _classify(Path(match), found)
            continue
        if not path.exists():
            found.problems.append(
                InputProblem(text, "no such file or folder; check the path (did the job upload it?)")
            )
            continue
        _classify(path, found)
    return found


def _classify(path: Path, found: _Found) -> None:
    found.examined.append(path)
    if path.is_dir():
        # Not only regular files: a broken one is reported, never skipped.
        records = sorted(p for p in path.rglob(RUN_RECORD_NAME) if not p.is_dir())
        if records:
            found.run_records.extend(records)
            return
        xml_files = sorted(p for p in path.rglob("*.xml") if not p.is_dir())
        if not xml_files:
            found.problems.append(
                InputProblem(str(path), f"folder holds no {RUN_RECORD_NAME} and no JUnit *.xml file")
            )
        # The reader names the cell of a file without a cell property after the file
        # (``py311.xml`` -> ``py311``; ``py311/junit.xml`` -> ``py311``).
        found.junit.extend((file, None) for file in xml_files)
    elif path.suffix == ".json":
        found.run_records.append(path)
    else:
        found.junit.append((path, None))


def _first_read(file: Path, read: set[Path]) -> bool:
    """True the first time ``file`` (resolved) comes up: a file named twice counts once."""
    try:
        resolved = file.resolve()
    except OSError:
        return True
    if resolved in read:
        return False
    read.add(resolved)
    return True


def _claim(part: ResultSummary, source: str, owners: dict[Group, str]) -> str | None:
    """The problem when ``part`` (one file's results) has a (cell, stage) group that an
    earlier file gave; otherwise its groups are recorded as ``source``'s, and None."""
    for key in part.groups:
        earlier = owners.get(key)
        if earlier is not None:
            return duplicate_results_message(key[0], key[1], earlier)
    for key in part.groups:
        owners[key] = source
    return None


def _load_run(
    path: Path, reader: Reader, summary: ResultSummary, owners: dict[Group, str], read: set[Path]
) -> LoadedRun | None:
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block, /dev/zero never end
            summary.problems.append(
                InputProblem(str(path), "is not a regular file; pass the run.json itself")
            )
            return None
        record = RunRecord.read(path)
    except OSError as exc:
        summary.problems.append(InputProblem(str(path), f"cannot be read ({exc.strerror})"))
        return None
    except ValueError as exc:
        summary.problems.append(InputProblem(str(path), f"is not a run record ({_short(exc)})"))
        return None
    folder = path.parent
    reports: dict[str, CellReport] = {}
    for cell in record.cells:
        if cell.junit is None:
            reports[cell.name] = CellReport(path=None, readable=False)
            continue
        junit = folder / cell.junit
        shown = str(junit)
        if not _inside(junit, folder):
            # run.json can come from an untrusted build: it must not point elsewhere.
            reports[cell.name] = CellReport(shown, False, f"{cell.junit} is outside {folder}")
            continue
        if not junit.is_file():
            reports[cell.name] = CellReport(shown, False, f"{shown} does not exist")
            continue
        if not _first_read(junit, read):
            reports[cell.name] = CellReport(shown, True)  # already counted: named by another record
            continue
        cell_summary = reader([junit], cell.name)
        problems = cell_summary.problems
        cell_summary.problems = []
        repeated = None if problems else _claim(cell_summary, shown, owners)
        if repeated is not None:
            reports[cell.name] = CellReport(shown, False, repeated)
            continue
        summary.extend(cell_summary)
        if problems:
            # A problem about another file (an input a merged file says it left out) names it.
            why = "; ".join(p.message if p.path == shown else str(p) for p in problems)
            reports[cell.name] = CellReport(shown, False, why)
        else:
            reports[cell.name] = CellReport(shown, True)
    return LoadedRun(source=str(path), record=record, reports=reports)


def _artifacts(path: Path, record: RunRecord) -> list[Artifact]:
    found = [record.artifact] if record.artifact else []
    found.extend(record.artifacts)  # a run that built several (a wheel and an sdist)
    return found


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


# --------------------------------------------------------------------------- expected cells


def expected_cells_from(path: Path) -> tuple[str, ...]:
    """Cell names from ``pytest-pipeline plan --format json`` output (or a list of names)."""
    try:
        data: Any = json.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(
            f"--expect-cells-from {path}: cannot be read ({exc.strerror}); check the path"
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"--expect-cells-from {path}: not JSON ({_short(exc)}); pass plan --format json output"
        ) from None
    cells = data.get("cells") if isinstance(data, dict) else data
    if not isinstance(cells, list):
        raise ConfigError(
            f"--expect-cells-from {path}: expected an object with a 'cells' list, or a list of names"
        )
    names: list[str] = []
    for item in cells:
        # A lint/docs cell (runs_pytest false) is expected too: it writes no JUnit file,
        # but its run record says how its commands ended, and the gate judges it by that.
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise ConfigError(f"--expect-cells-from {path}: cell entry {item!r} has no name")
        names.append(name)
    return tuple(names)
