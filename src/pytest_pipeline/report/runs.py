"""The run record a report shows: the reports folder's own ``run.json``, or, in a CI fan-in
folder without one, its jobs' records as one run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pytest_pipeline.report.paths import inside, shown
from pytest_pipeline.results import InputProblem
from pytest_pipeline.run_record import RunRecord

MAX_RUN_RECORDS = 1_000
"""run.json files read below a fan-in folder (GitHub allows 256 jobs per matrix)."""


def job_records(root: Path) -> list[Path]:
    """``run.json`` files one level or more below ``root``: one per job of a CI fan-out."""
    if not root.is_dir():
        return []
    found = sorted(path for path in root.rglob("run.json") if path.is_file() and path.parent != root)
    return found[:MAX_RUN_RECORDS]


def run_records(root: Path, problems: list[InputProblem]) -> RunRecord | None:
    """The run record of ``root``; without one, the records of a fan-in folder's jobs as one
    (their cells' paths made relative to ``root``, and dropped when they leave it)."""
    own = root / "run.json"
    paths = [own] if own.is_file() else job_records(root)
    records: list[RunRecord] = []
    for path in paths:
        try:
            record = RunRecord.read(path)
        except (OSError, ValueError) as exc:
            problems.append(InputProblem(shown(path, root), f"not a readable run record ({str(exc)[:200]})"))
            continue
        if path.parent != root:
            for cell in record.cells:
                if cell.junit and _rebase(root, path.parent, cell.junit) is None:
                    problems.append(
                        InputProblem(
                            cell.junit, f"cell {cell.name}: path leaves {shown(path.parent, root)}; ignored"
                        )
                    )
            record = dataclasses.replace(
                record,
                cells=tuple(
                    dataclasses.replace(
                        cell,
                        junit=_rebase(root, path.parent, cell.junit),
                        log=_rebase(root, path.parent, cell.log),
                    )
                    for cell in record.cells
                ),
            )
        records.append(record)
    if len(records) <= 1:
        return records[0] if records else None
    first = records[0]
    return dataclasses.replace(
        first,
        cells=tuple(cell for record in records for cell in record.cells),
        started=min((r.started for r in records if r.started), default=None),
        finished=max((r.finished for r in records if r.finished), default=None),
        interrupted=any(r.interrupted for r in records),
    )


def _rebase(root: Path, folder: Path, relative: str | None) -> str | None:
    """A path relative to ``folder`` as a path relative to ``root``; None when it leaves ``folder``."""
    if not relative:
        return None
    target = inside(folder, relative)
    return None if target is None else target.relative_to(root.resolve()).as_posix()
