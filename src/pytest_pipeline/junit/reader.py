"""Safe, streaming read of one JUnit XML file into testcase records.

Result files can come from an untrusted pull-request build, so the reader:

- uses the standard library's expat directly (never lxml, so results do not depend on
  what is installed) and feeds it the file in chunks: memory does not grow with the
  file, and deep nesting cannot hit a ``RecursionError`` (expat is not recursive; our
  own element stack is capped at :data:`MAX_DEPTH`);
- refuses any entity declaration (internal or external) and any external entity
  reference, the way ``defusedxml`` does: that stops billion-laughs and quadratic-blowup
  bombs before a single expansion, and never opens a file or URL named by the input;
- refuses a single token (a start tag with its attributes, a comment, ...) larger than
  :data:`MAX_TOKEN` bytes, which expat would otherwise have to hold in memory whole;
- keeps every text it retains (messages, tracebacks, captured output) to a cap, with a
  visible marker where it cut.

Anything unreadable raises :class:`UnreadableInput` with a one-line message; the caller
turns it into an :class:`~pytest_pipeline.results.InputProblem` and keeps going.
"""

from __future__ import annotations

import pyexpat
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pytest_pipeline.junit import identity
from pytest_pipeline.results import BLOCKED_MESSAGE_PREFIX, BLOCKED_TYPE, InputProblem, Outcome

MAX_DEPTH = 256
"""Deepest element nesting accepted. Real JUnit files nest a handful of levels."""
MAX_TOKEN = 16 * 1024 * 1024
"""Largest single XML token (bytes) accepted; bigger ones are refused, not buffered."""
CHUNK = 1024 * 1024
SUMMARY_TEXT = 512
"""Characters of an outcome's text kept when only summarizing (enough for a short message)."""
MESSAGE_SOURCE = 400
"""A short message without a ``message`` attribute is taken from this many leading characters."""
SHORT_MESSAGE = 300
MAX_RESULTS = 8
"""Outcome elements kept per testcase element; more are counted, not kept."""
MIN_MAX_TEXT = 1024
MAX_NAME = 8192
"""Characters kept of a name, classname, type, file or property value (they are held
for every pending test, so a hostile file must not make them huge)."""
MAX_MESSAGE = 4096
"""Characters kept of a ``message`` attribute, the same whether summarizing or merging."""

_SUITES = frozenset({"testsuites", "testsuite"})
_FINAL = frozenset({"failure", "error", "skipped"})
_RERUN = {"rerunFailure": "failure", "flakyFailure": "failure", "rerunError": "error", "flakyError": "error"}
_RERUN_PARTS = {"stackTrace": "text", "system-out": "out", "system-err": "err"}
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


def _entry_outcome(kind: str, type_: str, message: str) -> Outcome:
    if kind == "failure":
        return Outcome.FAILED
    if kind == "skipped":
        return Outcome.SKIPPED
    if (
        type_ == BLOCKED_TYPE
        or message.startswith(BLOCKED_MESSAGE_PREFIX)
        or message.startswith(_SETUP_BLOCKED)
    ):
        return Outcome.BLOCKED
    return Outcome.ERROR


_STRENGTH = {Outcome.PASSED: 0, Outcome.SKIPPED: 1, Outcome.BLOCKED: 2, Outcome.ERROR: 3, Outcome.FAILED: 4}
"""Which outcome element decides a testcase's outcome (:attr:`TestCaseRecord.outcome`)."""


def _weaker_than(results: list[ResultEntry], outcome: Outcome) -> int | None:
    """Index of the last kept outcome element weaker than ``outcome``, or None."""
    strength = _STRENGTH[outcome]
    for index in range(len(results) - 1, -1, -1):
        if _STRENGTH[results[index].outcome] < strength:
            return index
    return None


def short_message(message: str, text: str) -> str:
    """First non-blank line of ``message``, else of the start of ``text``, capped."""
    for source in (message, text[:MESSAGE_SOURCE]):
        for raw in source.splitlines():
            line = raw.strip()
            if line:
                return line if len(line) <= SHORT_MESSAGE else line[: SHORT_MESSAGE - 3] + "..."
    return ""


_NONE: Any = ()


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
        # _Reader.start() makes records without this method: keep the two alike.
        self.cell = cell
        self.stage = stage
        self.classname = classname
        self.name = name
        self.time = time
        self.file: str | None = None
        self.line: int | None = None
        # Most testcases have neither: share one empty tuple instead of two new lists
        # (a tuple, so that appending to it by mistake fails loudly). See add_result().
        self.results: list[ResultEntry] = _NONE
        self.reruns: list[ResultEntry] = _NONE
        self.dropped = 0
        """Outcome elements beyond :data:`MAX_RESULTS`, counted but not kept."""
        self.dropped_reruns = 0
        """Rerun elements beyond :data:`MAX_RESULTS`, counted but not kept."""
        self.out = ""
        self.err = ""
        self.size = 0
        """Outcome and rerun entries kept (for the collapse window's memory budget)."""

    def add_result(self, entry: ResultEntry) -> None:
        if self.results is _NONE:
            self.results = [entry]
        else:
            self.results.append(entry)

    def add_rerun(self, entry: ResultEntry) -> None:
        if self.reruns is _NONE:
            self.reruns = [entry]
        else:
            self.reruns.append(entry)

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


_new_record = TestCaseRecord.__new__


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


def _not_merged(case: TestCaseRecord) -> NotMerged:
    """A testcase of the not-merged suite: ``name`` is the input, its outcome's message
    ``"INPUT: why"``. Any testcase there counts, even one without an outcome: the file
    says an input is missing, and reading it must not say less."""
    path = case.name
    entry = case.primary()
    message = entry.message if entry is not None else ""
    message = message.removeprefix(f"{path}: ") or "listed as not merged"
    return NotMerged(path, message)


Item = TestCaseRecord | EmptySuite | StageTime | NotMerged


class TextBuffer:
    """Collects one text node in pieces, keeping at most ``limit`` characters.

    With ``tail`` the kept text is the head and the tail (where a traceback's last
    lines, the useful ones, are) around a marker saying how much was cut; without it,
    only the head is kept, silently (used when only a short message is needed).
    """

    __slots__ = ("dropped", "head", "limit", "parts", "size", "tail", "tail_limit")

    def __init__(self, limit: int, *, tail: bool) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.tail_limit = limit // 2 if tail else 0
        self.head: str | None = None
        self.tail = ""
        self.dropped = 0

    def feed(self, data: str) -> None:
        if self.head is None:
            self.size += len(data)
            self.parts.append(data)
            if self.size > self.limit:
                joined = "".join(self.parts)
                self.parts = []
                self.head = joined[: self.limit - self.tail_limit]
                self._feed_tail(joined[len(self.head) :])
        else:
            self._feed_tail(data)

    def _feed_tail(self, data: str) -> None:
        if not self.tail_limit:
            self.dropped += len(data)
            return
        tail = self.tail + data
        if len(tail) > self.tail_limit:
            self.dropped += len(tail) - self.tail_limit
            tail = tail[-self.tail_limit :]
        self.tail = tail

    def value(self) -> str:
        if self.head is None:
            return "".join(self.parts)
        if not self.tail_limit:
            return self.head
        return f"{self.head}\n[... {self.dropped} characters truncated by pytest-pipeline ...]\n{self.tail}"


_MARKER = re.compile(r"\n\[\.\.\. (\d+) characters truncated by pytest-pipeline \.\.\.\]\n")


def capped(text: str, limit: int) -> str:
    """``text`` cut like a :class:`TextBuffer` with a tail would cut it.

    Cutting a text that was cut before (the reader caps each text, the writer then caps
    a test's texts together) counts the characters the earlier marker stood for, so the
    one marker left says how much of the original is missing."""
    if len(text) <= limit:
        return text
    buffer = TextBuffer(limit, tail=True)
    buffer.feed(text)
    if buffer.head is not None and "truncated by pytest-pipeline" in text:
        middle = text[len(buffer.head) : len(text) - len(buffer.tail)]
        for marker in _MARKER.finditer(middle):
            buffer.dropped += int(marker.group(1)) - len(marker.group(0))
    return buffer.value()


def share(texts: Sequence[str], budget: int) -> list[str]:
    """The texts of one test, cut so that together they keep at most ``budget`` characters
    (plus one marker per cut text): texts shorter than an equal share stay whole, the
    longer ones split what is left equally, each keeping its head and its tail."""
    if sum(map(len, texts)) <= budget:
        return list(texts)
    limits = [0] * len(texts)
    left = budget
    by_length = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    for done, index in enumerate(by_length):
        limits[index] = min(len(texts[index]), left // (len(texts) - done))
        left -= limits[index]
    return [capped(text, limit) for text, limit in zip(texts, limits, strict=True)]


def _parse_time(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = float(value.replace(",", ""))  # Surefire writes 1,234.5
        except ValueError:
            return 0.0
    return seconds if 0.0 < seconds < 1e12 else 0.0  # also drops nan, inf and -0.0


_SECONDS: dict[str, float] = {}
"""``time`` attribute -> seconds: pytest writes three decimals, so values repeat a lot."""
MAX_SECONDS = 4096


def _seconds(value: str | None) -> float:
    """:func:`_parse_time`, remembered (a bounded cache)."""
    seconds = _parse_time(value)
    if value is not None and len(value) <= 32:  # a hostile file's huge values are not kept
        if len(_SECONDS) >= MAX_SECONDS:
            _SECONDS.clear()
        _SECONDS[value] = seconds
    return seconds


def _parse_line(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _entry(kind: str, attrs: dict[str, str]) -> ResultEntry:
    type_ = attrs.get("type", "")
    message = attrs.get("message", "")
    if len(type_) > MAX_NAME:
        type_ = capped(type_, MAX_NAME)
    if len(message) > MAX_MESSAGE:
        message = capped(message, MAX_MESSAGE)
    return ResultEntry(kind, type_, message)


class _Suite:
    """Effective cell/stage/naming of a suite, inherited from its parents.

    ``naming`` says how its testcases are read: ``""`` as written,
    :data:`~identity.NAMING_VALUE` with the cell taken out of their names again, and
    :data:`~identity.NOT_MERGED_PROPERTY` as inputs a merge left out (:class:`NotMerged`).
    """

    __slots__ = ("cell", "had_child", "had_suite", "naming", "stage", "staged", "time")

    def __init__(self, cell: str, stage: str, naming: str, time: float | None = None) -> None:
        self.cell = cell
        self.stage = stage
        self.naming = naming
        self.had_child = False
        self.had_suite = False
        self.time = time
        """The suite's ``time`` attribute (None: absent or not a number)."""
        self.staged = False
        """The suite names its stage in a property (then ``time`` is the stage's wall time)."""


def _suite_time(attrs: dict[str, str]) -> float | None:
    """A suite's ``time`` (as :func:`_parse_time` reads a testcase's), None when absent."""
    value = attrs.get("time")
    return None if value is None else _parse_time(value)


class _Reader:
    """expat handlers: a small state machine over the element stack."""

    def __init__(
        self, default_cell: str, default_stage: str, max_text: int | None, items: list[Item]
    ) -> None:
        self.default_cell = default_cell
        self.default_stage = default_stage
        self.full = max_text is not None
        self.max_text = max_text if max_text is not None else SUMMARY_TEXT
        self.items = items
        self.stack: list[str] = []
        self.suites: list[_Suite] = []
        self.case: TestCaseRecord | None = None
        self.at_suite = False
        """The innermost open element is a suite and no testcase is open: where testcases start."""
        self.inner = 0
        """Elements open inside the open testcase (0 when none is open)."""
        self.case_props: dict[str, str] = {}
        self.rerun: ResultEntry | None = None
        # (depth of the element whose text is captured, target object, attribute, buffer)
        self.captures: list[tuple[int, Any, str, TextBuffer]] = []
        self.parser: Any = None

    # -- capture ------------------------------------------------------------------
    def _capture(self, target: Any, attribute: str, *, tail: bool) -> None:
        buffer = TextBuffer(self.max_text, tail=tail and self.full)
        self.captures.append((len(self.stack), target, attribute, buffer))
        self.parser.CharacterDataHandler = buffer.feed

    # Set while nothing is captured: keeps expat reporting progress (see MAX_TOKEN).
    # A builtin that ignores its argument, not a Python function: pretty-printed files
    # have a whitespace text node between any two elements.
    _ignore_text = staticmethod(len)

    # -- handlers -----------------------------------------------------------------
    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "testcase" and self.at_suite:
            # The hot path (most elements are testcases), inlined: every bytecode here
            # runs once per test of every input.
            self.at_suite = False
            suite = self.suites[-1]
            suite.had_child = True
            try:  # subscripts, cheaper than get(); pytest writes all three
                classname = attrs["classname"]
                test_name = attrs["name"]
                seconds = _SECONDS[attrs["time"]]
            except KeyError:
                classname = attrs.get("classname", "")
                test_name = attrs.get("name", "")
                seconds = _seconds(attrs.get("time"))
            if len(classname) + len(test_name) > MAX_NAME:  # one test for both, then each
                classname, test_name = capped(classname, MAX_NAME), capped(test_name, MAX_NAME)
            # What TestCaseRecord(...) does, without calling a class (which costs as much
            # as the rest of this path): a bare instance, every slot stored here.
            record = self.case = _new_record(TestCaseRecord)
            record.cell = suite.cell
            record.stage = suite.stage
            record.classname = classname
            record.name = test_name
            record.time = seconds
            if "file" in attrs:
                record.file = capped(attrs["file"], MAX_NAME)
                record.line = _parse_line(attrs.get("line"))
            else:
                record.file = record.line = None
            record.results = record.reruns = _NONE
            record.dropped = record.dropped_reruns = record.size = 0
            record.out = record.err = ""
            if self.case_props:
                self.case_props = {}
            self.stack.append(name)
            return
        self._start(name, attrs)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        stack = self.stack
        depth = len(stack)
        if depth >= MAX_DEPTH:
            raise UnreadableInput(f"elements nested deeper than {MAX_DEPTH} levels; refused")
        case = self.case
        if not depth:
            if name not in _SUITES:
                raise UnreadableInput(f"root element is <{name}>, expected <testsuites> or <testsuite>")
            self.suites.append(_Suite(self.default_cell, self.default_stage, "", _suite_time(attrs)))
        elif case is None:
            parent = stack[-1]
            if parent in _SUITES:
                if name in _SUITES:
                    outer = self.suites[-1]
                    outer.had_child = outer.had_suite = True
                    self.suites.append(_Suite(outer.cell, outer.stage, outer.naming, _suite_time(attrs)))
            elif name == "property" and parent == "properties" and depth >= 2 and stack[-2] in _SUITES:
                self._suite_property(attrs)
        else:
            self.inner += 1
            parent = stack[-1]
            if parent == "testcase":
                if name in _FINAL:
                    if len(case.results) < MAX_RESULTS:
                        entry = _entry(name, attrs)
                        case.add_result(entry)
                        self._capture(entry, "text", tail=True)
                    else:
                        case.dropped += 1
                        # Never drop the element that decides the outcome: a failure after
                        # eight skips takes the place of a weaker one that was kept.
                        entry = _entry(name, attrs)
                        weaker = _weaker_than(case.results, entry.outcome)
                        if weaker is not None:
                            case.results[weaker] = entry
                            self._capture(entry, "text", tail=True)
                elif name in _RERUN:
                    if len(case.reruns) < MAX_RESULTS:
                        entry = _entry(_RERUN[name], attrs)
                        case.add_rerun(entry)
                        self.rerun = entry
                        if self.full:
                            self._capture(entry, "text", tail=True)
                    else:
                        case.dropped_reruns += 1
                elif name == "system-out" and self.full:
                    self._capture(case, "out", tail=True)
                elif name == "system-err" and self.full:
                    self._capture(case, "err", tail=True)
            elif parent in _RERUN and self.rerun is not None and self.full:
                attribute = _RERUN_PARTS.get(name)
                if attribute is not None:
                    self._capture(self.rerun, attribute, tail=True)
            elif name == "property" and parent == "properties" and stack[-2] == "testcase":
                key = attrs.get("name")
                if key in identity.PROPERTIES:
                    self.case_props[key] = capped(attrs.get("value", ""), MAX_NAME)
        stack.append(name)
        # A testcase directly in a suite takes the fast path in start(); one anywhere
        # else (in a testcase, in <properties>) is ignored.
        self.at_suite = case is None and name in _SUITES

    def end(self, name: str) -> None:
        self.stack.pop()
        case = self.case
        if case is not None and not self.inner:
            # The open testcase's own end (everything inside it is closed): the hot path.
            self.case = None
            self.at_suite = True
            if self.case_props or self.suites[-1].naming:
                if self.suites[-1].naming == identity.NOT_MERGED_PROPERTY:
                    self.items.append(_not_merged(case))
                    return
                self._identify(case)
            if case.results or case.reruns:
                # Counted in entries, not characters, so that summaries (which keep
                # little text) and merges collapse exactly alike; texts are capped.
                case.size = len(case.results) + len(case.reruns)
            self.items.append(case)
            return
        self._end(name)

    def _end(self, name: str) -> None:
        stack = self.stack
        captures = self.captures
        if captures and captures[-1][0] == len(stack):
            _, target, attribute, buffer = captures.pop()
            text = buffer.value()
            current = getattr(target, attribute)
            setattr(target, attribute, current + text if current else text)
            self.parser.CharacterDataHandler = captures[-1][3].feed if captures else self._ignore_text
        if self.case is not None:
            self.inner -= 1  # an element inside the open testcase
            if name in _RERUN:
                self.rerun = None
            return
        if name in _SUITES and (not stack or stack[-1] in _SUITES):
            suite = self.suites.pop()
            if not suite.had_child and suite.naming != identity.NOT_MERGED_PROPERTY:
                self.items.append(EmptySuite(suite.cell, suite.stage))
            if suite.staged and suite.time is not None and not suite.had_suite:
                self.items.append(StageTime(suite.cell, suite.stage, suite.time))
        self.at_suite = bool(stack) and stack[-1] in _SUITES

    # -- testcases and suites --------------------------------------------------------
    def _identify(self, case: TestCaseRecord) -> None:
        props = self.case_props
        if props:
            # xunit1: pytest may write the stage (and cell) on the testcase itself.
            case.stage = props.get("stage") or case.stage
            case.cell = props.get("cell") or case.cell
        if self.suites[-1].naming:
            case.classname, case.name = identity.original_names(case.cell, case.classname, case.name)

    def _suite_property(self, attrs: dict[str, str]) -> None:
        key = attrs.get("name")
        if key not in identity.PROPERTIES:
            return
        value = capped(attrs.get("value", ""), MAX_NAME)
        suite = self.suites[-1]
        if key == "stage" and value:
            suite.stage = value
            suite.staged = True
        elif key == "cell" and value:
            suite.cell = value
        elif key == identity.NAMING_PROPERTY:
            suite.naming = value
        elif key == identity.NOT_MERGED_PROPERTY:
            suite.naming = key


def _refuse_entities(*_: object) -> None:
    raise UnreadableInput("the file declares XML entities (a possible entity-expansion bomb); refused")


def _refuse_external(*_: object) -> int:
    raise UnreadableInput("the file references an external entity; refused")


def _expat_problem(exc: pyexpat.ExpatError, fed: int, seen_root: bool) -> str:
    code = getattr(exc, "code", None)
    message = pyexpat.errors.messages.get(code, str(exc)) if code is not None else str(exc)
    where = f"line {exc.lineno}, column {exc.offset}"
    if fed == 0:
        return "empty file"
    truncated = (
        pyexpat.errors.codes[pyexpat.errors.XML_ERROR_NO_ELEMENTS],
        pyexpat.errors.codes[pyexpat.errors.XML_ERROR_UNCLOSED_TOKEN],
        pyexpat.errors.codes[pyexpat.errors.XML_ERROR_PARTIAL_CHAR],
    )
    if code in truncated:
        if not seen_root:
            return "no XML element in the file (blank or cut before the root element)"
        return f"truncated: the XML ends before its root element is closed ({where})"
    return f"not well-formed XML: {message} ({where})"


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False  # UTF-16 or UTF-8 byte-order mark: expat decodes these
    if head.startswith((b"<\x00", b"\x00<")):
        return False  # UTF-16 without a mark, recognised by its first '<' (XML 1.0 appendix F)
    return b"\x00" in head


def read(
    path: Path,
    *,
    default_cell: str | None = None,
    default_stage: str = "unit",
    max_text: int | None = None,
) -> Iterator[list[Item]]:
    """Yield the testcases of ``path`` in batches, in file order.

    ``max_text`` keeps outcome texts, rerun details and captured output up to that
    many characters each (head and tail); ``None`` keeps only what a short message
    needs (summaries). Raises :class:`UnreadableInput` (possibly after some batches:
    the caller decides what to do with those), also when the file cannot be opened or read.
    """
    if max_text is not None and max_text < MIN_MAX_TEXT:
        raise ValueError(f"max_text must be at least {MIN_MAX_TEXT} characters, got {max_text}")
    cell = default_cell or identity.cell_from_path(path)
    items: list[Item] = []
    reader = _Reader(cell, default_stage, max_text, items)
    # No interning of element and attribute names: it costs a hash and a lookup for every
    # name of every element, and a name here is compared once or twice, then dropped.
    parser = pyexpat.ParserCreate(intern=None)
    reader.parser = parser
    parser.buffer_text = True
    parser.buffer_size = 64 * 1024
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader._ignore_text
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_external
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        yield from _feed(path, parser, items, reader)
    finally:
        reader.parser = None  # break the parser <-> handler cycle: no garbage collector needed


def _cannot_read(exc: OSError) -> UnreadableInput:
    return UnreadableInput(f"cannot be read: {exc.strerror or exc}")


def _feed(path: Path, parser: Any, items: list[Item], reader: _Reader) -> Iterator[list[Item]]:
    fed = 0
    try:
        # stat first: opening a FIFO would wait for a writer forever
        if not stat.S_ISREG(path.stat().st_mode):
            raise UnreadableInput("not a regular file (a FIFO, device or socket); pass the JUnit file")
        handle = path.open("rb")
    except OSError as exc:
        raise _cannot_read(exc) from None
    with handle:
        feed: Callable[[bytes, bool], int] = parser.Parse
        while True:
            try:
                chunk = handle.read(CHUNK)
            except OSError as exc:
                raise _cannot_read(exc) from None
            if fed == 0 and chunk and _looks_binary(chunk[:512]):
                raise UnreadableInput("binary data, not an XML file")
            try:
                feed(chunk, not chunk)
            except pyexpat.ExpatError as exc:
                raise UnreadableInput(_expat_problem(exc, fed + len(chunk), bool(reader.suites))) from None
            except RecursionError:  # pragma: no cover - expat is iterative; kept as a guard
                raise UnreadableInput("nesting too deep; refused") from None
            fed += len(chunk)
            if fed - max(parser.CurrentByteIndex, 0) > MAX_TOKEN:
                raise UnreadableInput(
                    f"a single XML token is larger than {MAX_TOKEN // (1024 * 1024)} MB; refused"
                )
            if items:
                yield items[:]
                items.clear()
            if not chunk:
                break
