"""The pipeline: read each file -> collapse reruns -> count (and render) each test.

:func:`summarize` and :func:`merge` run the same pipeline and return the same
:class:`~pytest_pipeline.results.ResultSummary`; ``merge`` also writes the merged file.
Each input file is all-or-nothing: if it turns out unreadable half-way (truncated, a
bomb, not XML), what was read of it is dropped and it becomes an ``InputProblem``, while
the other files are merged as usual. The merged file lists those problems (a suite of
errors, see the writer), and reading it back turns them into problems again: a merged
file never looks more complete than its inputs were.

A (cell, stage) group's results come from one input file (one pytest session writes one
file): a later file with results for a group that an earlier file gave is a duplicate (a
merged file next to the per-cell files it came from, one job's results downloaded twice)
and is left out the same way, as an ``InputProblem`` saying which file came first.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_pipeline.junit import reader
from pytest_pipeline.junit.collapse import CollapsedTest, Collapser, Emitted
from pytest_pipeline.junit.inputs import resolves_to, stat_or_none
from pytest_pipeline.junit.reader import UnreadableInput
from pytest_pipeline.junit.records import EmptySuite, NotMerged, ResultEntry, StageTime, TestCaseRecord
from pytest_pipeline.junit.render import single_outcome
from pytest_pipeline.junit.writer import Group, SpoolWriter
from pytest_pipeline.results import (
    Counts,
    InputProblem,
    Outcome,
    ResultSummary,
    TestRef,
    duplicate_results_message,
)

DEFAULT_MAX_TEXT = 64_000
MAX_GROUPS = 10_000
"""(cell, stage) groups accepted in one merge: a real matrix has far fewer, a hostile file
with a new cell per suite would otherwise grow memory without bound."""
Exclude = Callable[[Path, TestCaseRecord], bool]
"""Leaves a testcase element of an input out of a merge (see :func:`merge`)."""
_FAILED, _ERROR, _BLOCKED = Outcome.FAILED, Outcome.ERROR, Outcome.BLOCKED
MAX_REFS = 10_000
"""Failures (and, separately, flaky passes) listed by name in a summary; beyond this they
are only counted (``ResultSummary.failures_omitted``). Full texts are in the merged XML."""


class _Accumulator:
    """Counts collapsed tests into a summary, undoably per input file."""

    def __init__(
        self,
        summary: ResultSummary,
        writer: SpoolWriter | None,
        max_text: int,
        *,
        one_file_per_group: bool = True,
        shared_cell: str | None = None,
        list_tests: bool = True,
    ) -> None:
        self.summary = summary
        self.list_tests = list_tests
        """Whether failures and flaky passes are listed by name (``summary.failures`` and
        ``summary.flaky``): finding each one's message and line is most of what a test that
        did not pass costs, wasted on a caller that only wants the counts."""
        self.writer = writer
        self.max_text = max_text
        self.one_file_per_group = one_file_per_group
        self.shared_cell = shared_cell
        """The caller's default cell: its groups may come from several files (the caller
        said that files naming no cell are all that cell, e.g. ``merge --cell linux a.xml b.xml``)."""
        self.owners: dict[Group, str] = {}
        """The input file each group's results came from."""
        self.path = ""
        self.saved: dict[Group, Counts | None] = {}
        """Counts of the groups the current file changed, as they were before it."""
        self.not_merged: list[InputProblem] = []
        """Inputs the current file (a merged file) says its merge left out."""
        self.stage_times: dict[Group, float] = {}
        """Wall times the current file's suites give for their groups (see StageTime)."""
        self.marks = (0, 0, 0, 0)
        self.last_key: Group | None = None
        # The last group counted, unpacked (None: none yet in this input file).
        self.last_cell: str | None = None
        self.last_stage: str | None = None
        self.last_counts = Counts()

    def begin_file(self, path: str) -> None:
        summary = self.summary
        self.path = path
        self.saved = {}
        self.not_merged = []
        self.stage_times = {}
        self.last_key = self.last_cell = self.last_stage = None
        self.marks = (
            len(summary.failures),
            len(summary.flaky),
            summary.failures_omitted,
            summary.flaky_omitted,
        )
        if self.writer is not None:
            self.writer.begin_file()

    def commit(self) -> None:
        # A group's time is what this file says of its stage's wall time, where it says
        # so, in place of the sum of its testcases' durations (which overlap under xdist).
        groups = self.summary.groups
        for key, seconds in self.stage_times.items():
            before = self.saved.get(key)
            groups[key].time = (before.time if before is not None else 0.0) + seconds
        self.stage_times = {}
        for key, before in self.saved.items():
            if before is None:
                self.owners[key] = self.path
        self.saved = {}
        self.summary.problems.extend(self.not_merged)
        self.not_merged = []
        if self.writer is not None:
            self.writer.commit()

    def rollback(self) -> None:
        groups = self.summary.groups
        for key, counts in self.saved.items():
            if counts is None:
                del groups[key]
            else:
                groups[key] = counts
        self.saved = {}
        self.not_merged = []
        self.stage_times = {}
        self.last_key = self.last_cell = self.last_stage = None
        summary = self.summary
        del summary.failures[self.marks[0] :]
        del summary.flaky[self.marks[1] :]
        summary.failures_omitted, summary.flaky_omitted = self.marks[2], self.marks[3]
        if self.writer is not None:
            self.writer.rollback()

    def _counts(self, key: Group) -> Counts:
        if key == self.last_key:
            return self.last_counts
        groups = self.summary.groups
        counts = groups.get(key)
        if counts is None:
            if len(groups) >= MAX_GROUPS:
                raise UnreadableInput(f"more than {MAX_GROUPS} (cell, stage) groups in total; refused")
        elif key not in self.saved and self.one_file_per_group and key[0] != self.shared_cell:
            # Filled by an earlier file: this one repeats its results (see the module doc).
            earlier = self.owners.get(key, "an earlier input")
            raise UnreadableInput(duplicate_results_message(key[0], key[1], earlier))
        if key not in self.saved:
            self.saved[key] = None if counts is None else replace(counts)
        if counts is None:
            counts = groups[key] = Counts()
        self.last_key = key
        self.last_cell, self.last_stage = key
        self.last_counts = counts
        return counts

    def other(self, item: EmptySuite | StageTime | NotMerged) -> None:
        """An item of the input that is no testcase."""
        if type(item) is EmptySuite:
            self.empty_suite(item)
        elif type(item) is StageTime:
            key = (item.cell, item.stage)
            self._counts(key)
            self.stage_times[key] = self.stage_times.get(key, 0.0) + item.seconds
        else:
            assert isinstance(item, NotMerged)
            self.not_merged.append(item.problem(self.path))

    def empty_suite(self, suite: EmptySuite) -> None:
        self._counts((suite.cell, suite.stage))

    def take(self, emitted: list[Emitted]) -> None:
        """Count what the collapser emitted for the current input file (tests, and the
        file's other items at their place), in order, then hand it all to the writer.

        The loop runs once per test of every input: a test that passed at its only attempt
        (nearly every test: a record without entries) is counted in locals, the others by
        :meth:`accept`. Times add up one by one, in order, whichever way a test is counted."""
        cell, stage, counts = self.last_cell, self.last_stage, self.last_counts
        passed = 0  # passed tests counted since ``counts`` was last brought up to date
        time = counts.time
        for item in emitted:
            if type(item) is TestCaseRecord and not item.size:
                if item.cell is not cell or item.stage is not stage:  # equal strings: no harm
                    if passed:
                        counts.tests += passed
                        counts.passed += passed
                        counts.time = time
                        passed = 0
                    cell, stage = item.cell, item.stage
                    counts = self._counts((cell, stage))
                    time = counts.time
                passed += 1
                time += item.time
            else:
                if passed:
                    counts.tests += passed
                    counts.passed += passed
                    counts.time = time
                    passed = 0
                if type(item) is TestCaseRecord or type(item) is CollapsedTest:
                    self.accept(item)
                else:
                    self.other(item)  # type: ignore[arg-type]
                cell, stage, counts = self.last_cell, self.last_stage, self.last_counts
                time = counts.time
        if passed:
            counts.tests += passed
            counts.passed += passed
            counts.time = time
        if self.writer is not None:
            self.writer.add_all(emitted, self.max_text)

    def accept(self, test: TestCaseRecord | CollapsedTest) -> None:
        """Count one test (see :meth:`take`; the writer is not told)."""
        if type(test) is TestCaseRecord:
            if not test.size:
                counts = self._counts((test.cell, test.stage))
                counts.tests += 1
                counts.passed += 1
                counts.time += test.time
                return
            if single_outcome(test):
                self._accept_single(test)
                return
            test = CollapsedTest(test)
        assert isinstance(test, CollapsedTest)
        record = test.record
        outcome = record.outcome
        flaky = test.flaky
        self._counts((record.cell, record.stage)).add(outcome, test.time, flaky=flaky)
        if not self.list_tests:
            return
        if outcome.is_bad:
            self._ref(record, test.earlier, test.attempts, outcome, self.summary.failures)
        elif flaky:
            self._ref(record, test.earlier, test.attempts, outcome, self.summary.flaky)

    def _accept_single(self, record: TestCaseRecord) -> None:
        """:meth:`accept` of a test that ran once with one outcome element (a failure, an
        error, a skip), without collapsing it first."""
        outcome = record.results[0].outcome
        self._counts((record.cell, record.stage)).add(outcome, record.time)
        bad = outcome is _FAILED or outcome is _ERROR or outcome is _BLOCKED  # is_bad, inlined
        if bad and self.list_tests:
            self._ref(record, (), 1, outcome, self.summary.failures)

    def _ref(
        self,
        record: TestCaseRecord,
        earlier: Sequence[ResultEntry],
        attempts: int,
        outcome: Outcome,
        refs: list[TestRef],
    ) -> None:
        """List a test in ``refs``: ``record`` its last attempt, ``earlier`` what is known of
        the attempts before it (see :class:`CollapsedTest`)."""
        summary = self.summary
        if len(refs) >= MAX_REFS:
            if refs is summary.failures:
                summary.failures_omitted += 1
            else:
                summary.flaky_omitted += 1
            return
        primary = record.primary()
        if primary is not None:
            message = primary.short_message()
        else:  # a flaky pass: say how the last failed attempt failed
            message = earlier[-1].short_message() if earlier else ""
        from pytest_pipeline.tracebacks import failure_line  # here: a merge lists no tests

        # Where it failed (for CI annotations), not where the test starts (xunit1's line).
        shown = primary if primary is not None else (earlier[-1] if earlier else None)
        line = failure_line(shown.text, record.classname, record.file) if shown is not None else None
        refs.append(
            TestRef(
                cell=record.cell,
                stage=record.stage,
                classname=record.classname,
                name=record.name,
                outcome=outcome,
                message=message,
                file=record.file,
                line=record.line if line is None else line,
                attempts=attempts,
            )
        )


def _read_all(*args: Any, **kwargs: Any) -> ResultSummary:
    # Millions of short-lived records, none in a reference cycle: the cyclic garbage
    # collector would only re-scan the window and buffers over and over (~6% of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _pipeline(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


def _pipeline(
    inputs: Sequence[str | Path],
    writer: SpoolWriter | None,
    *,
    default_stage: str,
    default_cell: str | None,
    max_text: int | None,
    skip: Path | None = None,
    exclude: Exclude | None = None,
    one_file_per_group: bool = True,
    list_tests: bool = True,
) -> ResultSummary:
    summary = ResultSummary()
    accumulator = _Accumulator(
        summary,
        writer,
        max_text or DEFAULT_MAX_TEXT,
        one_file_per_group=one_file_per_group,
        shared_cell=default_cell,
        list_tests=list_tests,
    )
    # The collapser emits into one list, in order, with the file's other items at their
    # place; the accumulator takes the list after each batch the reader yields.
    emitted: list[Emitted] = []
    keep = emitted.append
    collapser = Collapser(keep)
    push = collapser.push
    push_all = collapser.push_all
    take = accumulator.take
    skip_resolved = skip.resolve() if skip is not None else None
    skip_stat = stat_or_none(skip) if skip is not None else None
    for path in _files(inputs):
        if skip_resolved is not None and resolves_to(path, skip_resolved, skip_stat):
            continue  # a directory input that holds the previous merged output
        summary.files.append(str(path))
        if path.is_dir():
            summary.problems.append(InputProblem(str(path), "a directory without any *.xml file"))
            continue
        accumulator.begin_file(str(path))
        try:
            for batch in reader.read(
                path, default_cell=default_cell, default_stage=default_stage, max_text=max_text
            ):
                if exclude is None:
                    push_all(batch, keep)
                else:
                    for item in batch:
                        if not isinstance(item, TestCaseRecord):
                            keep(item)
                        elif not exclude(path, item):
                            push(item)
                take(emitted)
                emitted.clear()
            collapser.flush()
            take(emitted)
            emitted.clear()
        except UnreadableInput as exc:
            problem = str(exc)  # an OSError here is the output's (disk full): not this input's fault
        else:
            accumulator.commit()
            continue
        emitted.clear()
        collapser.discard()
        accumulator.rollback()
        summary.problems.append(InputProblem(str(path), problem))
    return summary


def _files(inputs: Sequence[str | Path]) -> Iterator[Path]:
    """Files as given; a directory's ``*.xml`` files (the directory itself when it has none)."""
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            found = sorted(file for file in path.rglob("*.xml") if file.is_file())
            yield from found or [path]
        else:
            yield path


def summarize(
    inputs: Sequence[str | Path],
    *,
    default_stage: str = "unit",
    default_cell: str | None = None,
    one_file_per_group: bool = True,
) -> ResultSummary:
    """What ``inputs`` (JUnit files; directories are searched for ``*.xml``) say, without
    writing anything. Same result as :func:`merge` for the same inputs."""
    return _read_all(
        inputs,
        None,
        default_stage=default_stage,
        default_cell=default_cell,
        max_text=None,
        one_file_per_group=one_file_per_group,
    )


def merge(
    inputs: Sequence[str | Path],
    output: Path,
    *,
    default_stage: str = "unit",
    default_cell: str | None = None,
    max_text: int = DEFAULT_MAX_TEXT,
    suite_name: str = "pytest-pipeline",
    exclude: Exclude | None = None,
    one_file_per_group: bool | None = None,
    list_tests: bool = True,
) -> ResultSummary:
    """Merge ``inputs`` into one JUnit file at ``output`` (written atomically, also when
    some inputs were unreadable: those are listed in ``problems``, and in the merged file as
    one error each, so that whoever reads it sees that it is incomplete).

    ``max_text`` caps the kept texts (messages, tracebacks, captured output, earlier
    attempts' included) of each test together, in characters (at least 1024).
    ``exclude(path, testcase)`` returning true leaves that testcase element of that input
    out (``rerun`` drops the re-run tests' old results).

    With ``one_file_per_group`` an input with results for a (cell, stage) that an earlier
    input gave is left out as a problem (see the module doc), except for groups of
    ``default_cell``; ``False`` assembles groups from several files. The default is true,
    and false with ``exclude``: leaving some testcases of one input out is how a caller
    composes a group from several files (``rerun`` combines a cell's earlier file with its
    re-run's). ``list_tests=False`` leaves the summary's ``failures`` and ``flaky`` lists
    empty (its counts are the same): for a caller that only reports counts.
    Raises ``OSError`` when ``output`` cannot be written.
    """
    if max_text < reader.MIN_MAX_TEXT:
        raise ValueError(f"max_text must be at least {reader.MIN_MAX_TEXT} characters, got {max_text}")
    output = Path(output)
    writer = SpoolWriter(output)
    try:
        summary = _read_all(
            inputs,
            writer,
            default_stage=default_stage,
            default_cell=default_cell,
            max_text=max_text,
            skip=output,
            exclude=exclude,
            one_file_per_group=exclude is None if one_file_per_group is None else one_file_per_group,
            list_tests=list_tests,
        )
        writer.write(summary.groups.items(), suite_name, summary.total(), not_merged=summary.problems)
    finally:
        writer.close()
    return summary
