"""One verdict being reached: what it decides on, and what it has found so far.

The checks (:mod:`.cell_checks`, :mod:`.stage_checks`, :mod:`.failure_checks`,
:mod:`.artifact_checks`) each add their findings to a :class:`Decision`;
:func:`pytest_pipeline.gate.verdict.decide` runs them in order and turns the findings
into the :class:`~pytest_pipeline.gate.verdict.Verdict`. Nothing here reads a file, a
clock or the environment.
"""

from __future__ import annotations

import datetime as dt

from pytest_pipeline import globs
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate.evidence import GateResults, LoadedRun
from pytest_pipeline.gate.findings import Kind, Note, Quarantined, Reason, ReasonKind
from pytest_pipeline.gate.policy import Policy, PolicyFiles
from pytest_pipeline.gate.provenance import Provenance
from pytest_pipeline.results import TestRef
from pytest_pipeline.run_record import CellRecord


class Decision:
    def __init__(
        self, results: GateResults, policy: Policy, files: PolicyFiles, context: Provenance, now: dt.datetime
    ) -> None:
        self.results = results
        self.policy = policy
        self.files = files
        self.context = context
        self.today = now.astimezone(dt.timezone.utc).date() if now.tzinfo else now.date()
        self.reasons: list[Reason] = []
        self.notes: list[Note] = []
        self.quarantined: list[Quarantined] = []
        self.cancelled: list[tuple[LoadedRun, CellRecord]] = []
        self.explained: set[str] = set()
        """Cells whose own status already explains why they have no (good) results:
        they get no "ran no tests" reason on top."""
        self.stopped_at_collection: set[str] = set()
        """Cells where pytest stopped at a collection error that closes the gate: it ran
        no test, so their empty stages are that error, not one more reason each."""
        self.by_exit_code: set[str] = set()
        """Cells with no per-test results, judged by their exit code (as tox judges them)."""
        self.ignored_outcome = {
            cell.name for run in results.runs for cell in run.record.cells if cell.ignore_outcome
        }

    def reason(self, code: ExitCode, kind: ReasonKind, message: str, **where: str | None) -> None:
        self.reasons.append(Reason(code, kind, message, **where))

    def note(self, kind: Kind, message: str, **where: str | None) -> None:
        self.notes.append(Note(kind, message, **where))

    def cell_required(self, cell: str) -> bool:
        if cell in self.ignored_outcome and cell not in self.policy.required_cells:
            return False  # tox's ignore_outcome, unless the policy names the cell itself
        return globs.matches_any_name(self.policy.required_cells, cell)

    def in_scope(self, ref: TestRef) -> bool:
        return self.cell_required(ref.cell) and self.policy.stage_required(ref.stage)

    def all_cells(self) -> set[str]:
        return self.results.reported_cells | self.results.run_cells | set(self.results.expected_cells)
