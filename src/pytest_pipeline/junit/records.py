"""What the reader yields: one record per ``<testcase>`` element, and the few other facts
a file states (an empty suite, a stage's wall time, an input a merge left out).

Records are plain ``__slots__`` classes, not dataclasses: a merge makes one per testcase
element of every input (millions), and the reader fills them without calling a
constructor (see :meth:`pytest_pipeline.junit.handlers.Handlers.start`).
"""

from __future__ import annotations

from typing import Any

from pytest_pipeline.junit.text import short_message
from pytest_pipeline.results import BLOCKED_MESSAGE_PREFIX, BLOCKED_TYPE, InputProblem, Outcome

_SETUP_BLOCKED = 'failed on setup with "' + BLOCKED_MESSAGE_PREFIX
TEARDOWN_PREFIX = "failed on teardown with "
"""Start of pytest's message for an error raised while tearing a test down."""


class UnreadableInput(Exception):
    """The file cannot be read as JUnit XML; the message is one line, without the path."""


class ResultEntry:
    """One outcome element: ``failure``/``error``/``skipped`` of a testcase, or an earlier
    attempt (``kind`` is then ``failure`` or ``error``, from Surefire's rerun elements or
    from a collapsed rerun)."""

    __slots__ = ("err", "kind", "message", "out", "outcome", "text", "type")

    def __init__(self, kind: str, type_: str, message: str, text: str = "") -> None:
        self.kind = kind
        self.type = type_
        self.message = message
        self.text = text
        self.out = ""
        self.err = ""
        # Decided once (kind, type and message never change): it is asked for several
        # times per test on the way to the merged file.
        self.outcome = _entry_outcome(kind, type_, message)

    def short_message(self) -> str:
        return short_message(self.message, self.text)


# Globals: ``Outcome.FAILED`` is a lookup through the enum's class, asked per entry read.
_FAILED, _SKIPPED, _BLOCKED, _ERROR = Outcome.FAILED, Outcome.SKIPPED, Outcome.BLOCKED, Outcome.ERROR


def _entry_outcome(kind: str, type_: str, message: str) -> Outcome:
    if kind == "failure":
        return _FAILED
    if kind == "skipped":
        return _SKIPPED
    if (
        type_ == BLOCKED_TYPE
        or message.startswith(BLOCKED_MESSAGE_PREFIX)
        or message.startswith(_SETUP_BLOCKED)
    ):
        return _BLOCKED
    return _ERROR


_STRENGTH = {Outcome.PASSED: 0, Outcome.SKIPPED: 1, Outcome.BLOCKED: 2, Outcome.ERROR: 3, Outcome.FAILED: 4}
"""Which outcome element decides a testcase's outcome (:attr:`TestCaseRecord.outcome`)."""


def weaker_than(results: list[ResultEntry], outcome: Outcome) -> int | None:
    """Index of the last kept outcome element weaker than ``outcome``, or None."""
    strength = _STRENGTH[outcome]
    for index in range(len(results) - 1, -1, -1):
        if _STRENGTH[results[index].outcome] < strength:
            return index
    return None


NO_ENTRIES: Any = ()
"""The empty ``results``/``reruns`` all records share until they get an entry."""


class TestCaseRecord:
    """One ``<testcase>`` element as read (one attempt, before reruns are collapsed)."""

    __test__ = False

    __slots__ = (
        "cell",
        "classname",
        "dropped",
        "dropped_reruns",
        "err",
        "file",
        "line",
        "name",
        "out",
        "reruns",
        "results",
        "size",
        "stage",
        "time",
    )

    def __init__(self, cell: str, stage: str, classname: str, name: str, time: float) -> None:
        # Handlers.start() makes records without this method: keep the two alike.
        self.cell = cell
        self.stage = stage
        self.classname = classname
        self.name = name
        self.time = time
        self.file: str | None = None
        self.line: int | None = None
        # Most testcases have neither: share one empty tuple instead of two new lists
        # (a tuple, so that appending to it by mistake fails loudly). See add_result().
        self.results: list[ResultEntry] = NO_ENTRIES
        self.reruns: list[ResultEntry] = NO_ENTRIES
        self.dropped = 0
        """Outcome elements beyond the reader's cap (:data:`~.handlers.MAX_RESULTS`), counted only."""
        self.dropped_reruns = 0
        """Rerun elements beyond that cap, counted only."""
        self.out = ""
        self.err = ""
        self.size = 0
        """Outcome and rerun entries kept, counted by :meth:`add_result` and
        :meth:`add_rerun`: 0 exactly when the element has neither, a test that passed at
        this attempt (what the merge's fast paths ask). Counted in entries, not characters,
        so that summaries (which keep little text) and merges collapse exactly alike, and
        so bounds the collapse window's memory (texts are capped)."""

    def add_result(self, entry: ResultEntry) -> None:
        if self.results is NO_ENTRIES:
            self.results = [entry]
        else:
            self.results.append(entry)
        self.size += 1

    def add_rerun(self, entry: ResultEntry) -> None:
        if self.reruns is NO_ENTRIES:
            self.reruns = [entry]
        else:
            self.reruns.append(entry)
        self.size += 1

    @property
    def outcome(self) -> Outcome:
        """Final outcome of this element, its strongest outcome element (:data:`_STRENGTH`):
        a failure wins over an error (pytest's teardown error after a failed call), an
        error over a block, anything over a skip (a skip whose teardown failed)."""
        results = self.results
        if len(results) == 1:
            return results[0].outcome
        outcome = Outcome.PASSED
        for entry in results:
            if _STRENGTH[entry.outcome] > _STRENGTH[outcome]:
                outcome = entry.outcome
        return outcome

    def primary(self) -> ResultEntry | None:
        """The outcome element that decides :attr:`outcome` (the first of its kind)."""
        results = self.results
        if len(results) == 1:
            return results[0]
        outcome = self.outcome
        for entry in self.results:
            if entry.outcome is outcome:
                return entry
        return None


class EmptySuite:
    """A leaf ``<testsuite>`` without testcases: its (cell, stage) reported, and ran nothing."""

    __slots__ = ("cell", "stage")

    def __init__(self, cell: str, stage: str) -> None:
        self.cell = cell
        self.stage = stage


class StageTime:
    """A leaf ``<testsuite>`` that names its stage: its ``time`` is the stage's wall time
    (the plugin writes it so: tests under xdist overlap, so their durations add up to more
    than the stage took)."""

    __slots__ = ("cell", "seconds", "stage")

    def __init__(self, cell: str, stage: str, seconds: float) -> None:
        self.cell = cell
        self.stage = stage
        self.seconds = seconds


class NotMerged:
    """An input that the merge which wrote this file left out, as that file lists it (the
    suite marked :data:`~pytest_pipeline.junit.identity.NOT_MERGED_PROPERTY`).

    Not a test: the reason a merged file is incomplete, so that reading the merged file
    reports the same problem that reading its inputs did."""

    __slots__ = ("message", "path")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def problem(self, merged_file: str) -> InputProblem:
        return InputProblem(self.path, f"{self.message} (not merged into {merged_file})")


Item = TestCaseRecord | EmptySuite | StageTime | NotMerged
