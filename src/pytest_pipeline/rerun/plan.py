"""Which cells, and which tests within them, ``rerun --failed`` runs again.

**Cells.** A cell is re-run when the last run did not finish it cleanly (``failed``,
``crashed``, ``env-error``, ``interrupted``, ``cancelled``, never finished), or when the
last gate gave a reason naming it (say a missing interpreter under
``missing-interpreters = "fail"``, a flaky pass under ``flaky = "fail"``). A failed cell
that no gate reason names (its failures were all quarantined) is not re-run.

**Tests.** pytest node ids cannot be rebuilt reliably from JUnit ``classname``/``name``
(xunit2 has no file, classes and packages both put dots in the classname, parameter ids
can hold anything), so they come from the cell's ``events.jsonl``, where our cell plugin
wrote each test's node id with its final outcome. Only the failed, errored and blocked
tests of a cell are re-run when all of these hold; otherwise the whole cell is:

- the cell's status is ``failed`` (pytest ran and reported);
- every gate reason naming the cell is about tests (``failed``, ``error``, ``blocked``),
  not about the cell (a command after pytest that failed, an unreadable report);
- its events file records exactly one finished pytest session;
- the number of bad node ids there equals the cell's bad tests in ``gate.json``
  (collection errors, for one, have no node id: then the counts differ).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord

NOT_CLEAN = frozenset(
    {
        CellStatus.FAILED,
        CellStatus.CRASHED,
        CellStatus.ENV_ERROR,
        CellStatus.INTERRUPTED,
        CellStatus.TIMED_OUT,
        CellStatus.CANCELLED,
        CellStatus.QUEUED,
        CellStatus.RUNNING,
    }
)
TEST_REASONS = frozenset({"failed", "error", "blocked"})
BAD_OUTCOMES = frozenset({"failed", "error", "blocked"})


@dataclass(frozen=True)
class CellEvents:
    """What a cell's ``events.jsonl`` says about its tests."""

    bad: tuple[str, ...] = ()
    """Node ids whose final outcome was failed, error or blocked, in order, once each."""
    sessions: int = 0
    """``collected`` events: pytest sessions that started."""
    finished: int = 0
    """``finished`` events: pytest sessions that ended."""


def read_events(lines: Iterable[str]) -> CellEvents:
    bad: dict[str, None] = {}
    sessions = finished = 0
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a half-written line, or a test printing into the file
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        if kind == "collected":
            sessions += 1
        elif kind == "finished":
            finished += 1
        elif kind == "test" and event.get("outcome") in BAD_OUTCOMES and isinstance(event.get("nodeid"), str):
            bad[event["nodeid"]] = None
    return CellEvents(tuple(bad), sessions, finished)


@dataclass(frozen=True)
class CellRerun:
    name: str
    why: str
    """Why the cell is re-run (its status, or the gate's reason)."""
    tests: tuple[str, ...] | None = None
    """Node ids to re-run; None: the whole cell."""
    whole_because: str = ""
    """Why the whole cell runs although it is one whose tests failed."""


@dataclass(frozen=True)
class RerunPlan:
    cells: tuple[CellRerun, ...]
    kept: tuple[str, ...]
    """Cells whose results are kept from the last run."""
    unfixable: tuple[str, ...] = field(default=())
    """Gate reasons that name no cell (an artifact mismatch, a stage no cell runs): no
    re-run can change them."""

    @property
    def selection(self) -> dict[str, list[str]]:
        """``{cell: [node ids]}`` for the cells re-run test by test (the cell filter's input)."""
        return {cell.name: list(cell.tests) for cell in self.cells if cell.tests is not None}


def _reasons(gate: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    reasons = (gate or {}).get("reasons")
    return [r for r in reasons if isinstance(r, Mapping)] if isinstance(reasons, list) else []


def _bad_count(gate: Mapping[str, Any] | None, cell: str) -> int | None:
    counts = (gate or {}).get("counts")
    cells = counts.get("cells") if isinstance(counts, Mapping) else None
    mine = cells.get(cell) if isinstance(cells, Mapping) else None
    if not isinstance(mine, Mapping):
        return None
    try:
        return int(mine.get("failed", 0)) + int(mine.get("errors", 0)) + int(mine.get("blocked", 0))
    except (TypeError, ValueError):
        return None


def _tests_or_why_not(
    cell: CellRecord,
    reasons: list[Mapping[str, Any]],
    gate: Mapping[str, Any] | None,
    events: CellEvents | None,
) -> tuple[tuple[str, ...] | None, str]:
    if cell.status is not CellStatus.FAILED:
        return None, ""
    other = sorted({str(r.get("kind")) for r in reasons if r.get("kind") not in TEST_REASONS})
    if other:
        return None, f"the gate's reason is about the cell ({', '.join(other)}), not its tests"
    if events is None:
        return None, "no events.jsonl to name its tests"
    if events.sessions != 1 or events.finished != 1:
        return (
            None,
            f"events.jsonl records {events.sessions} pytest sessions started, {events.finished} finished",
        )
    if not events.bad:
        return None, "events.jsonl names no failed test"
    expected = _bad_count(gate, cell.name)
    if expected is None:
        return None, "no gate.json counts to check the test names against"
    if expected != len(events.bad):
        return None, f"events.jsonl names {len(events.bad)} failed tests, the report counts {expected}"
    return events.bad, ""


def plan(
    record: RunRecord,
    gate: Mapping[str, Any] | None,
    events: Mapping[str, CellEvents | None],
    *,
    whole_cells: bool = False,
) -> RerunPlan:
    """What to re-run. ``events`` maps cell names to their parsed events (None: no file);
    ``whole_cells`` re-runs every selected cell whole."""
    reasons = _reasons(gate)
    by_cell: dict[str, list[Mapping[str, Any]]] = {}
    for reason in reasons:
        if isinstance(reason.get("cell"), str):
            by_cell.setdefault(reason["cell"], []).append(reason)
    names = {cell.name for cell in record.cells}
    unfixable = tuple(
        str(r.get("message"))
        for r in reasons
        if not isinstance(r.get("cell"), str) or r.get("cell") not in names
    )
    chosen: list[CellRerun] = []
    kept: list[str] = []
    for cell in record.cells:
        mine = by_cell.get(cell.name, [])
        # A failed cell that no reason names had only forgiven failures (quarantined).
        forgiven = cell.status is CellStatus.FAILED and gate is not None and not mine
        not_clean = cell.status in NOT_CLEAN and not forgiven
        if not mine and not not_clean:
            kept.append(cell.name)
            continue
        why = cell.status.value if not_clean else str(mine[0].get("kind", "gate reason"))
        if whole_cells:
            chosen.append(
                CellRerun(cell.name, why, None, "--whole-cells" if cell.status is CellStatus.FAILED else "")
            )
            continue
        tests, whole_because = _tests_or_why_not(cell, mine, gate, events.get(cell.name))
        chosen.append(CellRerun(cell.name, why, tests, whole_because))
    return RerunPlan(tuple(chosen), tuple(kept), unfixable)
