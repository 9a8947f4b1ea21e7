"""Streaming JUnit XML writer: one ``<testsuite>`` per (cell, stage), in bounded memory.

A suite's counts go in its opening tag, but they are known only after its last
testcase. So each group's testcases are rendered (:mod:`.render`) as they come and
spooled: kept in memory up to a small budget, then appended to one temporary file (beside
the output, unlinked at once) as chunks. At the end the header of each suite is written
with its final counts, followed by its chunks copied back from the spool. Memory is the
buffer budget plus a few integers per chunk, whatever the total size.

Per input file the writer is transactional (:meth:`SpoolWriter.begin_file`,
:meth:`~SpoolWriter.commit`, :meth:`~SpoolWriter.rollback`): an input found
unreadable half-way contributes nothing, not half of its tests.

Inputs left out (unreadable, or repeating another input's results) are listed at the end
as one suite of errors (:func:`~.render.not_merged_suite`), so the merged file never
looks complete when it is not.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from pytest_pipeline.fileio import atomic_writer
from pytest_pipeline.junit.collapse import CollapsedTest, Emitted
from pytest_pipeline.junit.records import EmptySuite, TestCaseRecord
from pytest_pipeline.junit.render import (
    TESTCASE_TIMES,
    escape_attr,
    format_time,
    not_merged_suite,
    plain_attr,
    render,
    render_passed,
    single_body,
    single_outcome,
    suite_header,
    testcase_time,
)
from pytest_pipeline.results import Counts, InputProblem

BUFFER_BUDGET = 4 * 1024 * 1024
"""Characters of rendered testcases held in memory before they go to the spool."""
COPY_BLOCK = 1024 * 1024

Group = tuple[str, str]


class _Spool:
    __slots__ = ("cell", "chunks", "classnames", "parts", "tail")

    def __init__(self, cell: str) -> None:
        self.chunks: list[tuple[int, int]] = []
        self.parts: list[str] = []
        self.cell = escape_attr(cell)
        self.tail = f' [{self.cell}]" time="'
        """What follows a passed testcase's name in its line, up to its time."""
        self.classnames: dict[str, str] = {}
        """classname -> its shown, escaped form (few distinct per suite, many tests each)."""

    def shown_classname(self, classname: str) -> str:
        classnames = self.classnames
        if len(classnames) > 1024:
            classnames.clear()  # a file with a new classname per test: stay bounded
        shown = f"{self.cell}.{escape_attr(classname)}" if classname else self.cell
        classnames[classname] = shown
        return shown

    @property
    def size(self) -> int:
        """Characters held in :attr:`parts` (summed when needed, not per testcase)."""
        return sum(map(len, self.parts))


class SpoolWriter:
    """Collects rendered testcases per group; :meth:`write` produces the merged file."""

    def __init__(self, output: Path, *, budget: int | None = None) -> None:
        self.output = output
        self.budget = BUFFER_BUDGET if budget is None else budget
        output.parent.mkdir(parents=True, exist_ok=True)
        # Beside the output: the same file system has to hold the result anyway, and
        # /tmp may be memory-backed.
        # Closed in close(): it lives as long as the writer, not one block.
        self.spool: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115
            prefix=".pytest-pipeline-spool-", dir=output.parent
        )
        self.offset = 0
        self.buffered = 0
        self.groups: dict[Group, _Spool] = {}
        self.touched: dict[Group, int] = {}
        """Groups changed by the current input file -> chunk count before it (-1: new)."""
        self.last_key: Group | None = None
        # The group of the last testcase added, unpacked (None: none yet in this input file).
        self.last_cell: str | None = None
        self.last_stage: str | None = None
        self.last_spool = _Spool("")

    def close(self) -> None:
        self.spool.close()

    # -- transactions per input file ---------------------------------------------
    def begin_file(self) -> None:
        self.touched = {}
        self._forget_last()

    def commit(self) -> None:
        self.touched = {}
        self._forget_last()

    def _forget_last(self) -> None:
        self.last_key = self.last_cell = self.last_stage = None

    def rollback(self) -> None:
        for key, chunk_count in self.touched.items():
            if chunk_count < 0:
                spool = self.groups.pop(key)
            else:
                spool = self.groups[key]
                del spool.chunks[chunk_count:]
            self.buffered -= spool.size
            spool.parts.clear()
        self.touched = {}
        self._forget_last()

    # -- adding -------------------------------------------------------------------
    def add(self, key: Group, text: str) -> None:
        spool = self.last_spool if key == self.last_key else self._open(key)
        spool.parts.append(text)
        self.buffered += len(text)
        if self.buffered > self.budget:
            self._flush_all()

    def add_all(self, emitted: Sequence[Emitted], max_text: int) -> None:
        """Render what the current input file emitted, in order (see
        :meth:`~pytest_pipeline.junit.pipeline._Accumulator.take`), into its groups.

        The hot path of a merge: a test that passed at its only attempt (nearly every
        test) is rendered inline, with the group's cached classnames and the cached times."""
        # Whether any name needs escaping, asked once for all of them (it is rare).
        plain = plain_attr("".join([item.name for item in emitted if type(item) is TestCaseRecord]))
        cell: str | None = None
        stage: str | None = None
        spool = self.last_spool
        classnames = spool.classnames
        tail = spool.tail
        append = spool.parts.append
        room = self.budget - self.buffered
        size = 0  # characters appended since self.buffered was last brought up to date
        for item in emitted:
            if type(item) is TestCaseRecord and not item.size:
                if item.cell is not cell or item.stage is not stage:  # equal strings: no harm
                    self.buffered += size  # opening a group may flush: be exact first
                    size = 0
                    cell, stage = item.cell, item.stage
                    if cell == self.last_cell and stage == self.last_stage:
                        spool = self.last_spool
                    else:
                        spool = self._open((cell, stage))
                    classnames = spool.classnames
                    tail = spool.tail
                    append = spool.parts.append
                    room = self.budget - self.buffered
                if item.out or item.err:
                    text = render_passed(item, max_text)
                else:
                    try:  # subscripts, cheaper than get(): both caches nearly always hit
                        classname = classnames[item.classname]
                        time = TESTCASE_TIMES[item.time]
                    except KeyError:
                        classname = classnames.get(item.classname) or spool.shown_classname(item.classname)
                        time = testcase_time(item.time)
                    name = item.name if plain else escape_attr(item.name)
                    text = f'<testcase classname="{classname}" name="{name}{tail}{time}"/>\n'
                append(text)
                size += len(text)
                if size > room:
                    self.buffered += size
                    size = 0
                    self._flush_all()
                    room = self.budget - self.buffered
            else:
                self.buffered += size
                size = 0
                self._add_other(item, max_text, plain=plain)
                cell = stage = None  # the next passed test looks its group up again
                room = self.budget - self.buffered
        self.buffered += size

    def _add_other(self, item: Emitted, max_text: int, *, plain: bool = False) -> None:
        """:meth:`add_all` of anything but a test that passed at its only attempt (``plain``:
        the record's name needs no escaping)."""
        if type(item) is TestCaseRecord:
            key = (item.cell, item.stage)
            if single_outcome(item):
                # render_single(), its opening tag from the group's caches as add_all()'s
                spool = self.last_spool if key == self.last_key else self._open(key)
                classname = spool.classnames.get(item.classname) or spool.shown_classname(item.classname)
                name = item.name if plain else escape_attr(item.name)
                time = testcase_time(item.time)
                text = f'<testcase classname="{classname}" name="{name}{spool.tail}{time}">'
                text += single_body(item, max_text)
            else:
                text = render(CollapsedTest(item), max_text)
            self.add(key, text)
        elif type(item) is CollapsedTest:
            self.add((item.record.cell, item.record.stage), render(item, max_text))
        elif type(item) is EmptySuite:
            self.touch((item.cell, item.stage))
        # A stage's wall time and an input a merge left out go in no suite's testcases.

    def _flush_all(self) -> None:
        for spool in self.groups.values():
            self._flush(spool)

    def _open(self, key: Group) -> _Spool:
        spool = self.groups.get(key)
        if spool is None:
            spool = self.groups[key] = _Spool(key[0])
            self.touched[key] = -1
        elif key not in self.touched:
            # Move what earlier files wrote out of the buffer, so a rollback can cut cleanly.
            self._flush(spool)
            self.touched[key] = len(spool.chunks)
        self.last_key = key
        self.last_cell, self.last_stage = key
        self.last_spool = spool
        return spool

    def touch(self, key: Group) -> None:
        """Make sure ``key`` gets a suite even if it has no testcases."""
        self._open(key)

    def _flush(self, spool: _Spool) -> None:
        if not spool.parts:
            return
        text = "".join(spool.parts)
        data = text.encode("utf-8")
        self.spool.seek(self.offset)
        self.spool.write(data)
        spool.chunks.append((self.offset, len(data)))
        self.offset += len(data)
        self.buffered -= len(text)
        spool.parts.clear()  # in place: add_all holds its append

    # -- the merged file ------------------------------------------------------------
    def write(
        self,
        groups: Iterable[tuple[Group, Counts]],
        suite_name: str,
        total: Counts,
        *,
        not_merged: Sequence[InputProblem] = (),
    ) -> None:
        """Write the merged file atomically: suites in the order of ``groups``, then the
        :func:`not_merged_suite` when an input was left out."""
        # The totals include the not-merged suite's errors: they are the sum of the suites.
        tests, errors = total.tests + len(not_merged), total.errors + total.blocked + len(not_merged)
        with atomic_writer(self.output, "wb") as out:
            out.write(
                (
                    '<?xml version="1.0" encoding="utf-8"?>\n'
                    f'<testsuites name="{escape_attr(suite_name)}" tests="{tests}" '
                    f'failures="{total.failed}" '
                    f'errors="{errors}" time="{format_time(total.time)}">\n'
                ).encode()
            )
            for key, counts in groups:
                out.write(suite_header(key[0], key[1], counts).encode("utf-8"))
                spool = self.groups.get(key)
                if spool is not None:
                    for offset, length in spool.chunks:
                        self._copy(out, offset, length)
                    if spool.parts:
                        out.write("".join(spool.parts).encode("utf-8"))
                out.write(b"</testsuite>\n")
            if not_merged:
                out.write(not_merged_suite(not_merged).encode("utf-8"))
            out.write(b"</testsuites>\n")

    def _copy(self, out: IO[bytes], offset: int, length: int) -> None:
        self.spool.seek(offset)
        while length > 0:
            block = self.spool.read(min(COPY_BLOCK, length))
            if not block:  # pragma: no cover - the spool is ours; a short read is a bug
                raise OSError("spool file ended early")
            out.write(block)
            length -= len(block)
