"""Streaming JUnit XML writer: one ``<testsuite>`` per (cell, stage), in bounded memory.

A suite's counts go in its opening tag, but they are known only after its last
testcase. So each group's testcases are rendered as they come and spooled: kept in
memory up to a small budget, then appended to one temporary file (beside the output,
unlinked at once) as chunks. At the end the header of each suite is written with its
final counts, followed by its chunks copied back from the spool. Memory is the buffer
budget plus a few integers per chunk, whatever the total size.

Per input file the writer is transactional (:meth:`SpoolWriter.begin_file`,
:meth:`~SpoolWriter.commit`, :meth:`~SpoolWriter.rollback`): an input found
unreadable half-way contributes nothing, not half of its tests.

Inputs left out (unreadable, or repeating another input's results) are listed at the end
as one suite of errors (:func:`not_merged_suite`), so the merged file never looks complete
when it is not.

The output follows ``junit-10.xsd`` (the Surefire schema): no attributes it does not
allow (``file``/``line`` of xunit1 testcases and testcase properties are dropped), suite
times with at most three decimals, and characters XML 1.0 forbids replaced by ``#xNN``
the way pytest does.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from pytest_pipeline.fileio import atomic_writer
from pytest_pipeline.junit.collapse import CollapsedTest, Emitted
from pytest_pipeline.junit.identity import (
    NAMING_PROPERTY,
    NAMING_VALUE,
    NOT_MERGED_PROPERTY,
    NOT_MERGED_SUITE,
    NOT_MERGED_TYPE,
    display_names,
)
from pytest_pipeline.junit.records import EmptySuite, ResultEntry, TestCaseRecord
from pytest_pipeline.junit.text import share
from pytest_pipeline.results import BLOCKED_TYPE, Counts, InputProblem, Outcome

BUFFER_BUDGET = 4 * 1024 * 1024
"""Characters of rendered testcases held in memory before they go to the spool."""
COPY_BLOCK = 1024 * 1024

Group = tuple[str, str]

_SPECIAL = re.compile('[&<>"]')
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _invalid(match: re.Match[str]) -> str:
    return f"#x{ord(match.group()):02X}"


# What escape_attr() and escape_text() change, as ASCII bytes: testing a text's bytes for
# them with bytes.translate is several times faster than str.isprintable() or a regex.
_ATTR_BYTES = bytes(range(32)) + b'&<>"'
_INVALID_BYTES = bytes([*range(9), 11, 12, *range(14, 32)])


def plain_attr(value: str) -> bool:
    """True when :func:`escape_attr` leaves ``value`` as it is (tested fast for ASCII)."""
    if value.isascii():
        data = value.encode("ascii")
        return len(data.translate(None, _ATTR_BYTES)) == len(data)
    return value.isprintable() and not ("&" in value or "<" in value or ">" in value or '"' in value)


def escape_attr(value: str) -> str:
    """``value`` ready to go between double quotes."""
    if plain_attr(value):
        return value  # the common case
    value = (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )
    return _INVALID.sub(_invalid, value)


def escape_text(value: str) -> str:
    """``value`` ready to be element content (``\\r`` kept as a reference, so it survives)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    if value.isascii():
        data = value.encode("ascii")
        if len(data.translate(None, _INVALID_BYTES)) == len(data):
            return value  # nothing XML 1.0 forbids: the usual traceback
    return _INVALID.sub(_invalid, value)


def format_time(seconds: float) -> str:
    """At most three decimals: the schema's SUREFIRE_TIME pattern."""
    return f"{max(seconds, 0.0):.3f}"


_TIMES: dict[float, str] = {}
"""Testcase times as written (``f"{t:.3f}"``): formatting a float costs as much as the
rest of a passed testcase's line, and pytest's times repeat a lot (three decimals)."""
MAX_TIMES = 4096


def testcase_time(seconds: float) -> str:
    """``f"{seconds:.3f}"`` for a testcase's time (never negative, never -0.0: see the reader)."""
    shown = _TIMES.get(seconds)
    if shown is None:
        if len(_TIMES) >= MAX_TIMES:
            _TIMES.clear()
        shown = _TIMES[seconds] = f"{seconds:.3f}"
    return shown


_REPEATED: dict[str, str] = {}
"""Short attribute values that repeat from test to test (outcome types, most messages),
escaped: asked for every test that did not pass."""
MAX_REPEATED = 4096


def _escape_repeated(value: str) -> str:
    """:func:`escape_attr`, remembered for short values (a bounded cache)."""
    shown = _REPEATED.get(value)
    if shown is None:
        shown = escape_attr(value)
        if len(value) <= 256:
            if len(_REPEATED) >= MAX_REPEATED:
                _REPEATED.clear()
            _REPEATED[value] = shown
    return shown


def _element(tag: str, type_: str, message: str, text: str) -> str:
    attrs = f' type="{_escape_repeated(type_)}"' if type_ else ""
    if message:
        attrs += f' message="{_escape_repeated(message)}"'
    if not text:
        return f"<{tag}{attrs}/>"
    return f"<{tag}{attrs}>{escape_text(text)}</{tag}>"


def render_passed(record: TestCaseRecord, max_text: int) -> str:
    """A testcase that passed at its only attempt (most of them): the fast path of :func:`render`."""
    cell = record.cell
    classname = record.classname
    name = record.name
    if not (cell + classname + name).isprintable() or _SPECIAL.search(cell + classname + name):
        cell = escape_attr(cell)
        classname = escape_attr(classname)
        name = escape_attr(name)
    if record.out or record.err:
        return _with_output(classname, name, cell, record, max_text)
    if classname:
        return f'<testcase classname="{cell}.{classname}" name="{name} [{cell}]" time="{record.time:.3f}"/>\n'
    return f'<testcase classname="{cell}" name="{name} [{cell}]" time="{record.time:.3f}"/>\n'


def _with_output(classname: str, name: str, cell: str, record: TestCaseRecord, max_text: int) -> str:
    classname = f"{cell}.{classname}" if classname else cell
    out, err = share((record.out, record.err), max_text)
    return (
        f'<testcase classname="{classname}" name="{name} [{cell}]" time="{record.time:.3f}">'
        f"{_captured(out, err)}</testcase>\n"
    )


def _captured(out: str, err: str) -> str:
    """A test's ``system-out`` and ``system-err`` elements (empty when it printed nothing)."""
    text = f"<system-out>{escape_text(out)}</system-out>" if out else ""
    if err:
        text += f"<system-err>{escape_text(err)}</system-err>"
    return text


def single_outcome(record: TestCaseRecord) -> bool:
    """``record``, a test's only attempt, has one outcome element and nothing to fold in:
    the usual test that did not pass (a failure, an error or a skip)."""
    return len(record.results) == 1 and not record.reruns and not record.dropped


def render_single(record: TestCaseRecord, max_text: int) -> str:
    """:func:`render` of a :func:`single_outcome` record, without collapsing it first."""
    classname, name = display_names(record.cell, record.classname, record.name)
    head = f'<testcase classname="{escape_attr(classname)}" name="{escape_attr(name)}"'
    return f'{head} time="{record.time:.3f}">{single_body(record, max_text)}'


def single_body(record: TestCaseRecord, max_text: int) -> str:
    """What follows the opening tag of a :func:`single_outcome` record (its outcome element,
    its captured output, the end tag): :func:`render_single` without the opening tag."""
    entry = record.results[0]
    type_ = BLOCKED_TYPE if entry.outcome is Outcome.BLOCKED else entry.type
    message, text, out, err = share((entry.message, entry.text, record.out, record.err), max_text)
    return f"{_element(entry.kind, type_, message, text)}{_captured(out, err)}</testcase>\n"


def render(test: CollapsedTest, max_text: int) -> str:
    """One collapsed test as a ``<testcase>`` element (with a trailing newline)."""
    record = test.record
    if test.elements == 1 and single_outcome(record):
        return render_single(record, max_text)  # writes what the general path below would
    classname, name = display_names(record.cell, record.classname, record.name)
    head = f'<testcase classname="{escape_attr(classname)}" name="{escape_attr(name)}" time="{test.time:.3f}"'
    earlier = test.earlier
    if not record.results and not earlier and not record.out and not record.err:
        return head + "/>\n"
    outcome = record.outcome
    primary = record.primary()
    texts: list[str] = []
    if primary is not None:
        texts += (primary.message, _primary_text(record, primary))
    for entry in earlier:
        texts += (entry.message, entry.text, entry.out, entry.err)
    texts += (record.out, record.err)
    # One budget for all of the test's texts: a test rerun ten times keeps no more than one.
    kept = iter(share(texts, max_text))
    parts = [head, ">"]
    if primary is not None:
        type_ = BLOCKED_TYPE if outcome is Outcome.BLOCKED else primary.type
        parts.append(_element(primary.kind, type_, next(kept), next(kept)))
    prefix = "flaky" if outcome is Outcome.PASSED else "rerun"
    for entry in earlier:
        message, text, out, err = next(kept), next(kept), next(kept), next(kept)
        parts.append(_earlier_attempt(prefix, entry, message=message, text=text, out=out, err=err))
    out, err = next(kept), next(kept)
    if test.omitted:
        parts.append(
            f'<{prefix}Failure type="pytest-pipeline.omitted" '
            f'message="{test.omitted} more earlier attempts not kept by pytest-pipeline"/>'
        )
    parts.append(f"{_captured(out, err)}</testcase>\n")
    return "".join(parts)


def _primary_text(record: TestCaseRecord, primary: ResultEntry) -> str:
    """The text of the outcome element that decides the test, followed by the others: the
    schema allows one outcome per consumer's reading, and the others (pytest's teardown
    error after a failure, a skip whose teardown failed) must stay readable."""
    text = primary.text
    if len(record.results) > 1 or record.dropped:
        others = [entry for entry in record.results if entry is not primary]
        text += "".join(f"\n\n[also reported: <{e.kind}> {e.message}]\n{e.text}" for e in others)
        if record.dropped:
            text += f"\n\n[{record.dropped} more outcome elements not kept by pytest-pipeline]"
    return text


def _earlier_attempt(prefix: str, entry: ResultEntry, *, message: str, text: str, out: str, err: str) -> str:
    """An earlier attempt as a ``rerunFailure``/``flakyError``-like element, its texts as kept."""
    tag = prefix + ("Failure" if entry.kind == "failure" else "Error")
    element = f'<{tag} type="{escape_attr(entry.type or entry.kind)}"'
    if message:
        element += f' message="{escape_attr(message)}"'
    if not (text or out or err):
        return element + "/>"
    parts = [element, ">"]
    if text:
        parts.append(f"<stackTrace>{escape_text(text)}</stackTrace>")
    if out:
        parts.append(f"<system-out>{escape_text(out)}</system-out>")
    if err:
        parts.append(f"<system-err>{escape_text(err)}</system-err>")
    parts.append(f"</{tag}>")
    return "".join(parts)


def suite_header(cell: str, stage: str, counts: Counts) -> str:
    properties = [("cell", cell), ("stage", stage), (NAMING_PROPERTY, NAMING_VALUE)]
    if counts.flaky:
        properties.append(("pytest-pipeline.flaky", str(counts.flaky)))
    if counts.blocked:
        properties.append(("pytest-pipeline.blocked", str(counts.blocked)))
    props = "".join(f'<property name="{escape_attr(k)}" value="{escape_attr(v)}"/>' for k, v in properties)
    name = escape_attr(f"{cell}: {stage}")
    return (
        f'<testsuite name="{name}" tests="{counts.tests}" failures="{counts.failed}" '
        f'errors="{counts.errors + counts.blocked}" skipped="{counts.skipped}" '
        f'time="{format_time(counts.time)}">\n<properties>{props}</properties>\n'
    )


def not_merged_suite(problems: Sequence[InputProblem]) -> str:
    """The suite listing the inputs a merge left out, one errored testcase each.

    A reporter shows it in red like any error, so nobody takes an incomplete merged file
    for a complete one; our reader knows it by its property and turns each testcase back
    into the input problem (``name`` the input, ``message`` ``"INPUT: why"``)."""
    cases = "".join(
        f'<testcase classname="{NOT_MERGED_TYPE}" name="{escape_attr(problem.path)}" time="0.000">'
        f'<error type="{NOT_MERGED_TYPE}" message="{escape_attr(str(problem))}">'
        f"pytest-pipeline merge left this input out: its tests are not in this file.</error>"
        "</testcase>\n"
        for problem in problems
    )
    count = len(problems)
    return (
        f'<testsuite name="{NOT_MERGED_SUITE}" tests="{count}" failures="0" errors="{count}" '
        f'skipped="0" time="0.000">\n'
        f'<properties><property name="{NOT_MERGED_PROPERTY}" value="{count}"/></properties>\n'
        f"{cases}</testsuite>\n"
    )


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
                        time = _TIMES[item.time]
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
