"""Rerun attempts of one test -> one test with its final outcome.

Two ways attempts show up in JUnit files:

- pytest-rerunfailures (``--reruns``) writes one ``<testcase>`` per attempt with the same
  classname and name; the earlier attempts are *empty* elements (or a ``<skipped>``
  when the call was skipped and the teardown failed): only the last attempt keeps its
  failure details. Empty earlier attempts look exactly like passes, so counting
  elements would count every rerun as an extra pass.
- Maven Surefire writes one ``<testcase>`` with ``<rerunFailure>``/``<rerunError>``
  (failed in the end) or ``<flakyFailure>``/``<flakyError>`` (passed in the end)
  children, one per earlier attempt.

Both become one test: the last attempt's outcome, every earlier attempt as a
failure/error entry (written back as ``rerun*`` or ``flaky*`` elements), ``attempts``
counted, and *flaky* when it passed after failed attempts.

pytest 9 also writes a failed call followed by a teardown error as two ``<testcase>``
elements (a failure, then an error whose message starts ``failed on teardown with``).
That is one attempt of one test: the error is folded into the failed attempt, and the
test counts once, as failed.

Attempts are matched by (cell, stage, classname, name) among the last :data:`WINDOW`
distinct tests of the same file: with pytest-xdist, one worker's attempts interleave
with other workers' tests, so strict adjacency is not enough, while a bounded window
keeps memory bounded. Attempts further apart than that are counted as separate tests.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from pytest_pipeline.junit.records import (
    TEARDOWN_PREFIX,
    EmptySuite,
    NotMerged,
    ResultEntry,
    StageTime,
    TestCaseRecord,
)
from pytest_pipeline.results import Outcome

_PASSED = Outcome.PASSED  # a global: Outcome.PASSED is a lookup through the enum's class

WINDOW = 128
"""Distinct tests of one file that may still receive attempts."""
BUDGET = 256
"""Outcome/rerun entries (each with texts capped at ``max_text``) the window may hold
before it emits its oldest tests early: bounds memory when many tests fail noisily."""
MAX_EARLIER = 10
"""Earlier attempts whose details are kept per test; further ones are only counted."""

PLACEHOLDER_TYPE = "rerun"
"""``type`` of an earlier attempt whose element carried no details (pytest-rerunfailures)."""

Key = tuple[str, str, str, str]


class CollapsedTest:
    """One test in one cell after its attempts were collapsed."""

    __test__ = False

    __slots__ = ("elements", "record", "retired", "size", "time")

    def __init__(self, record: TestCaseRecord) -> None:
        self.record = record
        """The last attempt (the one whose outcome is final)."""
        self.elements = 1
        """``<testcase>`` elements that were attempts of this test."""
        self.retired: list[ResultEntry] = []
        """Earlier elements as failure/error entries, oldest first (up to :data:`MAX_EARLIER`)."""
        self.time = record.time
        self.size = record.size

    @property
    def attempts(self) -> int:
        """How many times the test ran. One element counts its Surefire rerun children;
        several elements (pytest-rerunfailures) are the attempts themselves, and rerun
        children on them only describe those attempts (our own plugin adds them)."""
        if self.elements == 1:
            return 1 + len(self.record.reruns) + self.record.dropped_reruns
        return self.elements

    @property
    def earlier(self) -> list[ResultEntry]:
        """Details of the earlier attempts, as far as they are known, oldest first."""
        if self.elements == 1:
            return self.record.reruns
        if self.record.reruns and all(entry.type == PLACEHOLDER_TYPE for entry in self.retired):
            return self.record.reruns  # the elements said nothing; the children do
        return self.retired

    @property
    def omitted(self) -> int:
        """Earlier attempts without an entry in :attr:`earlier` (beyond the caps)."""
        return max(0, self.attempts - 1 - len(self.earlier))

    @property
    def outcome(self) -> Outcome:
        return self.record.outcome

    @property
    def flaky(self) -> bool:
        return self.attempts > 1 and self.record.outcome is _PASSED

    def add(self, record: TestCaseRecord) -> None:
        """Take ``record``, the next element with the same identity."""
        self.time += record.time
        self.size += record.size
        previous = self.record
        if _is_teardown_part(previous, record):
            previous.results = [*previous.results, *record.results]
            previous.out += record.out
            previous.err += record.err
            return
        if len(self.retired) < MAX_EARLIER:
            self.retired.append(_as_earlier_attempt(previous, self.elements))
        self.elements += 1
        self.record = record


def _is_teardown_part(previous: TestCaseRecord, record: TestCaseRecord) -> bool:
    """``record`` is pytest's separate element for the teardown error of ``previous``."""
    if len(record.results) != 1:
        return False
    entry = record.results[0]
    if entry.kind != "error" or not entry.message.startswith(TEARDOWN_PREFIX):
        return False
    kinds = {result.kind for result in previous.results}
    return "failure" in kinds and "error" not in kinds


def _as_earlier_attempt(record: TestCaseRecord, number: int) -> ResultEntry:
    """An attempt that was followed by another one, as a failure/error entry."""
    for entry in record.results:
        if entry.kind in ("failure", "error"):
            earlier = ResultEntry(entry.kind, entry.type, entry.message, entry.text)
            break
    else:
        # pytest-rerunfailures keeps only the last attempt's details.
        earlier = ResultEntry(
            "failure",
            PLACEHOLDER_TYPE,
            f"attempt {number} did not pass; the test runner recorded no details of it",
        )
    earlier.out = record.out
    earlier.err = record.err
    return earlier


Emitted = TestCaseRecord | CollapsedTest | EmptySuite | StageTime | NotMerged
"""What a merge takes after each batch of the reader: the tests the collapser emitted,
and the file's other items at their place, in order."""


class Collapser:
    """Feeds records through the window and emits each test once it is complete.

    A test seen once is emitted as its bare :class:`TestCaseRecord` (the common case,
    kept cheap); one with several attempts as a :class:`CollapsedTest`. Tests are emitted
    in the order they leave the window; the merge emits into a list (``emit`` is its
    ``append``) and takes the list after each batch of the reader.
    """

    def __init__(
        self,
        emit: Callable[[TestCaseRecord | CollapsedTest], None],
        *,
        window: int = WINDOW,
        budget: int = BUDGET,
    ) -> None:
        self.emit = emit
        self.window = window
        self.budget = budget
        self.pending: OrderedDict[Key, TestCaseRecord | CollapsedTest] = OrderedDict()
        self.size = 0

    def push(self, record: TestCaseRecord) -> None:
        key = (record.cell, record.stage, record.classname, record.name)
        test = self.pending.setdefault(key, record)
        if test is not record or record.size:
            self._push_more(key, test, record)
        elif len(self.pending) > self.window:
            self._emit(self.pending.popitem(False)[1])

    def push_all(self, items: Iterable[object], other: Callable[[Any], None]) -> None:
        """:meth:`push` each :class:`TestCaseRecord` of ``items``, in order; anything else
        (an empty suite) goes to ``other`` at its place. The same as calling push() per
        record, in one loop: this runs once per testcase of every input."""
        pending = self.pending
        setdefault = pending.setdefault
        popitem = pending.popitem
        window = self.window
        emit = self.emit
        room = max(window - len(pending), 0)  # new tests it takes before it emits its oldest
        for record in items:
            if type(record) is not TestCaseRecord:
                other(record)
                continue
            key = (record.cell, record.stage, record.classname, record.name)
            test = setdefault(key, record)
            if test is not record or record.size:
                self._push_more(key, test, record)
                room = max(window - len(pending), 0)
            elif room:
                room -= 1
            else:  # the window is full: its oldest test is complete
                oldest = popitem(False)[1]
                if oldest.size:
                    self.size -= oldest.size
                emit(oldest)

    def _push_more(self, key: Key, test: TestCaseRecord | CollapsedTest, record: TestCaseRecord) -> None:
        """push() past the common case: ``record`` is another attempt of a pending test,
        or has outcome entries (which count against the budget)."""
        pending = self.pending
        if test is not record:
            if type(test) is TestCaseRecord:
                test = pending[key] = CollapsedTest(test)
            test.add(record)  # type: ignore[union-attr]
            pending.move_to_end(key)
        if record.size:
            self.size += record.size
            if self.size > self.budget:
                self._evict()
                return
        if len(pending) > self.window:
            self._emit(pending.popitem(False)[1])

    def _emit(self, test: TestCaseRecord | CollapsedTest) -> None:
        """Emit a test that left the window."""
        if test.size:
            self.size -= test.size
        self.emit(test)

    def _evict(self) -> None:
        pending = self.pending
        while pending and (len(pending) > self.window or self.size > self.budget):
            self._emit(pending.popitem(last=False)[1])

    def flush(self) -> None:
        """End of a file: every pending test is complete."""
        pending = self.pending
        popitem = pending.popitem
        emit = self.emit
        while pending:  # oldest first; no size to keep count of: the window ends empty
            emit(popitem(False)[1])
        self.size = 0

    def discard(self) -> None:
        """The file turned out unreadable: forget its pending tests."""
        self.pending.clear()
        self.size = 0
