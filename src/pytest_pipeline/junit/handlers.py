"""expat's handlers for one JUnit file: a small state machine over the element stack that
turns elements into records (:mod:`pytest_pipeline.junit.records`).

It keeps what it retains small, whatever the file holds: nesting is capped at
:data:`MAX_DEPTH`, names and messages at :data:`MAX_NAME` and :data:`MAX_MESSAGE`
characters, outcome elements per testcase at :data:`MAX_RESULTS`, and texts (tracebacks,
captured output) to a cap with a visible marker where they were cut.

The testcase paths of :meth:`Handlers.start` and :meth:`Handlers.end` run once per test of
every input: they are inlined on purpose, and everything they use is a global of this module.
"""

from __future__ import annotations

from typing import Any

from pytest_pipeline.junit import identity
from pytest_pipeline.junit.records import (
    NO_ENTRIES,
    EmptySuite,
    Item,
    NotMerged,
    ResultEntry,
    StageTime,
    TestCaseRecord,
    UnreadableInput,
    weaker_than,
)
from pytest_pipeline.junit.text import TextBuffer, capped

MAX_DEPTH = 256
"""Deepest element nesting accepted. Real JUnit files nest a handful of levels."""
SUMMARY_TEXT = 512
"""Characters of an outcome's text kept when only summarizing (enough for a short message)."""
MAX_RESULTS = 8
"""Outcome elements kept per testcase element; more are counted, not kept."""
MAX_NAME = 8192
"""Characters kept of a name, classname, type, file or property value (they are held
for every pending test, so a hostile file must not make them huge)."""
MAX_MESSAGE = 4096
"""Characters kept of a ``message`` attribute, the same whether summarizing or merging."""

_SUITES = frozenset({"testsuites", "testsuite"})
_FINAL = frozenset({"failure", "error", "skipped"})
_RERUN = {"rerunFailure": "failure", "flakyFailure": "failure", "rerunError": "error", "flakyError": "error"}
_RERUN_PARTS = {"stackTrace": "text", "system-out": "out", "system-err": "err"}

_new_record = TestCaseRecord.__new__
"""A record without its ``__init__``: :meth:`Handlers.start` sets every slot itself."""


def _not_merged(case: TestCaseRecord) -> NotMerged:
    """A testcase of the not-merged suite: ``name`` is the input, its outcome's message
    ``"INPUT: why"``. Any testcase there counts, even one without an outcome: the file
    says an input is missing, and reading it must not say less."""
    path = case.name
    entry = case.primary()
    message = entry.message if entry is not None else ""
    message = message.removeprefix(f"{path}: ") or "listed as not merged"
    return NotMerged(path, message)


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


def _named(attrs: list[str]) -> dict[str, str]:
    """expat's flat attribute list as a dict (expat refuses a repeated attribute)."""
    pairs = iter(attrs)  # name, value, name, value...: cheaper than two slices
    # zip's strict= keyword alone costs half as much as the rest (a keyword call); the
    # list always has an even length.
    return dict(zip(pairs, pairs))  # noqa: B905


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


class Handlers:
    """expat's handlers for one file (see the module doc); ``items`` receives what it reads."""

    def __init__(
        self, default_cell: str, default_stage: str, max_text: int | None, items: list[Item]
    ) -> None:
        self.default_cell = default_cell
        self.default_stage = default_stage
        self.full = max_text is not None
        self.max_text = max_text if max_text is not None else SUMMARY_TEXT
        self.items = items
        self.stack: list[str] = []
        """Names of the open elements, the open testcase left out (it is :attr:`case`;
        ``inner`` counts what is open inside it)."""
        self.suites: list[_Suite] = []
        self.suite = _Suite(default_cell, default_stage, "")
        """The innermost open suite, ``suites[-1]`` (asked once per testcase)."""
        self.case: TestCaseRecord | None = None
        self.at_suite = False
        """The innermost open element is a suite and no testcase is open: where testcases start."""
        self.inner = 0
        """Elements open inside the open testcase (0 when none is open)."""
        self.case_props: dict[str, str] = {}
        self.rerun: ResultEntry | None = None
        # (depth of the element whose text is captured, target object, attribute, the
        # pieces of text so far, whether its cut keeps a tail): expat hands the pieces to
        # the list's own append, no Python call per piece.
        self.captures: list[tuple[int, TestCaseRecord | ResultEntry, str, list[str], bool]] = []
        self.cut: dict[int, TextBuffer] = {}
        """Depth -> the capped text of a capture that was open across a chunk (see
        :meth:`compact`)."""
        self.parser: Any = None

    # -- capture ------------------------------------------------------------------
    def _capture(self, target: TestCaseRecord | ResultEntry, attribute: str, *, tail: bool) -> None:
        pieces: list[str] = []
        self.captures.append((len(self.stack), target, attribute, pieces, tail and self.full))
        self.parser.CharacterDataHandler = pieces.append

    def compact(self) -> None:
        """Fold the pieces the open captures hold into capped texts (:class:`TextBuffer`):
        the reader calls this after every chunk it feeds, so a capture holds at most one
        chunk's text beyond its cap, however long the text in the file."""
        for depth, _, _, pieces, tail in self.captures:
            if pieces:
                buffer = self.cut.get(depth)
                if buffer is None:
                    buffer = self.cut[depth] = TextBuffer(self.max_text, tail=tail)
                buffer.feed("".join(pieces))
                pieces.clear()

    def _captured(self, depth: int, pieces: list[str], tail: bool) -> str:
        """The text a capture kept: its pieces, capped as a TextBuffer fed them would be."""
        text = "".join(pieces)
        buffer = self.cut.pop(depth, None) if self.cut else None
        if buffer is None:
            if len(text) <= self.max_text:
                return text  # the usual case: one short piece
            buffer = TextBuffer(self.max_text, tail=tail)
        buffer.feed(text)
        return buffer.value()

    # Set while nothing is captured: keeps expat reporting progress (see reader.MAX_TOKEN).
    # A builtin that ignores its argument, not a Python function: pretty-printed files
    # have a whitespace text node between any two elements.
    ignore_text = staticmethod(len)

    # -- handlers -----------------------------------------------------------------
    def start(self, name: str, attrs: list[str]) -> None:
        # ``attrs`` is expat's flat list ``[name, value, ...]`` (the reader sets
        # ordered_attributes: a list is cheaper for expat to build than a dict); elements
        # other than a testcase get a dict made of it (:func:`_named`).
        if name == "testcase" and self.at_suite:
            # The hot path (most elements are testcases), inlined: every bytecode here
            # runs once per test of every input.
            self.at_suite = False
            suite = self.suite
            suite.had_child = True
            if len(attrs) == 6 and attrs[0] == "classname" and attrs[2] == "name" and attrs[4] == "time":
                # pytest's testcase (xunit2): these three, in this order, read by position
                classname = attrs[1]
                test_name = attrs[3]
                try:
                    seconds = _SECONDS[attrs[5]]
                except KeyError:
                    seconds = _seconds(attrs[5])
                file = line = None
            else:
                named = _named(attrs)
                classname = named.get("classname", "")
                test_name = named.get("name", "")
                seconds = _seconds(named.get("time"))
                file, line = named.get("file"), named.get("line")
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
            if file is None:
                record.file = record.line = None
            else:
                record.file = capped(file, MAX_NAME)
                record.line = _parse_line(line)
            record.results = record.reruns = NO_ENTRIES
            record.dropped = record.dropped_reruns = record.size = 0
            record.out = record.err = ""
            return
        stack = self.stack
        case = self.case
        if len(stack) + (case is not None) >= MAX_DEPTH:  # the open testcase is a level too
            raise UnreadableInput(f"elements nested deeper than {MAX_DEPTH} levels; refused")
        if case is not None:
            self.inner += 1
            self._start_in_case(case, name, attrs)
        elif stack:
            self._start_outside_case(name, _named(attrs))
        else:
            self._start_root(name, _named(attrs))
        stack.append(name)
        # A testcase directly in a suite takes the fast path above; one anywhere else (in
        # a testcase, in <properties>) is ignored.
        self.at_suite = case is None and name in _SUITES

    def _start_root(self, name: str, attrs: dict[str, str]) -> None:
        if name not in _SUITES:
            raise UnreadableInput(f"root element is <{name}>, expected <testsuites> or <testsuite>")
        self.suite = _Suite(self.default_cell, self.default_stage, "", _suite_time(attrs))
        self.suites.append(self.suite)

    def _start_outside_case(self, name: str, attrs: dict[str, str]) -> None:
        """An element in a suite but in no testcase: a nested suite, or a suite's property."""
        stack = self.stack
        parent = stack[-1]
        if parent in _SUITES:
            if name in _SUITES:
                outer = self.suites[-1]
                outer.had_child = outer.had_suite = True
                self.suite = _Suite(outer.cell, outer.stage, outer.naming, _suite_time(attrs))
                self.suites.append(self.suite)
        elif name == "property" and parent == "properties" and len(stack) >= 2 and stack[-2] in _SUITES:
            self._suite_property(attrs)

    def _start_in_case(self, case: TestCaseRecord, name: str, attrs: list[str]) -> None:
        """An element in the open testcase: an outcome, an earlier attempt, captured output,
        a part of an earlier attempt, or a testcase property. ``attrs`` is expat's list:
        only the elements whose attributes are read get a dict of them."""
        stack = self.stack
        inner = self.inner  # this element counted: 1 is a child of the testcase
        parent = "testcase" if inner == 1 else stack[-1]
        if parent == "testcase":
            if name in _FINAL:
                self._outcome(case, name, _named(attrs))
            elif name in _RERUN:
                self._rerun(case, name, _named(attrs))
            elif name == "system-out" and self.full:
                self._capture(case, "out", tail=True)
            elif name == "system-err" and self.full:
                self._capture(case, "err", tail=True)
        elif parent in _RERUN and self.rerun is not None and self.full:
            attribute = _RERUN_PARTS.get(name)
            if attribute is not None:
                self._capture(self.rerun, attribute, tail=True)
        elif name == "property" and parent == "properties" and (inner == 2 or stack[-2] == "testcase"):
            named = _named(attrs)
            key = named.get("name")
            if key in identity.PROPERTIES:
                self.case_props[key] = capped(named.get("value", ""), MAX_NAME)

    def _outcome(self, case: TestCaseRecord, name: str, attrs: dict[str, str]) -> None:
        """A ``failure``/``error``/``skipped`` of the open testcase."""
        entry = _entry(name, attrs)
        if len(case.results) < MAX_RESULTS:
            case.add_result(entry)
        else:
            case.dropped += 1
            # Never drop the element that decides the outcome: a failure after eight
            # skips takes the place of a weaker one that was kept.
            weaker = weaker_than(case.results, entry.outcome)
            if weaker is None:
                return
            case.results[weaker] = entry
        self._capture(entry, "text", tail=True)

    def _rerun(self, case: TestCaseRecord, name: str, attrs: dict[str, str]) -> None:
        """An earlier attempt of the open testcase (Surefire's ``rerunFailure`` and kin)."""
        if len(case.reruns) >= MAX_RESULTS:
            case.dropped_reruns += 1
            return
        entry = _entry(_RERUN[name], attrs)
        case.add_rerun(entry)
        self.rerun = entry
        if self.full:
            self._capture(entry, "text", tail=True)

    def end(self, name: str) -> None:
        case = self.case
        if case is not None and not self.inner:
            # The open testcase's own end (everything inside it is closed): the hot path.
            self.case = None
            self.at_suite = True
            if self.case_props or self.suite.naming:
                self._end_identified(case)
                return
            self.items.append(case)
            return
        self.stack.pop()
        self._end(name)

    def _end_identified(self, case: TestCaseRecord) -> None:
        """The end of a testcase whose own properties or suite say more about it."""
        props = self.case_props
        self.case_props = {}  # they were this testcase's (see _start_in_case)
        if self.suites[-1].naming == identity.NOT_MERGED_PROPERTY:
            self.items.append(_not_merged(case))
            return
        self._identify(case, props)
        self.items.append(case)

    def _end(self, name: str) -> None:
        stack = self.stack
        captures = self.captures
        if captures and captures[-1][0] == len(stack):
            depth, target, attribute, pieces, tail = captures.pop()
            text = self._captured(depth, pieces, tail)
            current = getattr(target, attribute)
            setattr(target, attribute, current + text if current else text)
            self.parser.CharacterDataHandler = captures[-1][3].append if captures else self.ignore_text
        if self.case is not None:
            self.inner -= 1  # an element inside the open testcase
            if name in _RERUN:
                self.rerun = None
            return
        if name in _SUITES and (not stack or stack[-1] in _SUITES):
            suite = self.suites.pop()
            if self.suites:
                self.suite = self.suites[-1]
            if not suite.had_child and suite.naming != identity.NOT_MERGED_PROPERTY:
                self.items.append(EmptySuite(suite.cell, suite.stage))
            if suite.staged and suite.time is not None and not suite.had_suite:
                self.items.append(StageTime(suite.cell, suite.stage, suite.time))
        self.at_suite = bool(stack) and stack[-1] in _SUITES

    # -- testcases and suites --------------------------------------------------------
    def _identify(self, case: TestCaseRecord, props: dict[str, str]) -> None:
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
