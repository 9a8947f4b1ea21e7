"""One test or suite as JUnit XML text, for the merged file (see :mod:`.writer`).

The output follows ``junit-10.xsd`` (the Surefire schema): no attributes it does not
allow (``file``/``line`` of xunit1 testcases and testcase properties are dropped), suite
times with at most three decimals, and characters XML 1.0 forbids replaced by ``#xNN``
the way pytest does. A merge renders every test it reads: the functions a passed test
goes through are small, and their values that repeat (times, types, messages) cached.

Inputs left out (unreadable, or repeating another input's results) are listed at the end
as one suite of errors (:func:`not_merged_suite`), so the merged file never looks complete
when it is not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pytest_pipeline.junit.collapse import CollapsedTest
from pytest_pipeline.junit.identity import (
    NAMING_PROPERTY,
    NAMING_VALUE,
    NOT_MERGED_PROPERTY,
    NOT_MERGED_SUITE,
    NOT_MERGED_TYPE,
    display_names,
)
from pytest_pipeline.junit.records import ResultEntry, TestCaseRecord
from pytest_pipeline.junit.text import share
from pytest_pipeline.results import BLOCKED_TYPE, Counts, InputProblem, Outcome

# Globals: ``Outcome.BLOCKED`` is a lookup through the enum's class, asked per test rendered.
_BLOCKED, _PASSED = Outcome.BLOCKED, Outcome.PASSED
_SPECIAL = re.compile('[&<>"]')
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _invalid(match: re.Match[str]) -> str:
    return f"#x{ord(match.group()):02X}"


# What escape_attr() and escape_text() change, as ASCII bytes: testing a text's bytes for
# them with bytes.translate is several times faster than str.isprintable() or a regex.
_ATTR_BYTES = bytes(range(32)) + b'&<>"'
_INVALID_BYTES = bytes([*range(9), 11, 12, *range(14, 32)])
_TEXT_BYTES = _INVALID_BYTES + b"&<>\r"


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
    valid = False  # known to hold nothing XML 1.0 forbids
    if value.isascii():
        data = value.encode("ascii")
        if len(data.translate(None, _TEXT_BYTES)) == len(data):
            return value  # nothing to change: a skip's reason, most captured output
        # Asked of the text as read: the references put in below are valid
        valid = len(data.translate(None, _INVALID_BYTES)) == len(data)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    if valid:
        return value  # the usual traceback
    return _INVALID.sub(_invalid, value)


def format_time(seconds: float) -> str:
    """At most three decimals: the schema's SUREFIRE_TIME pattern."""
    return f"{max(seconds, 0.0):.3f}"


TESTCASE_TIMES: dict[float, str] = {}
"""Testcase times as written (``f"{t:.3f}"``): formatting a float costs as much as the
rest of a passed testcase's line, and pytest's times repeat a lot (three decimals)."""
MAX_TIMES = 4096


def testcase_time(seconds: float) -> str:
    """``f"{seconds:.3f}"`` for a testcase's time (never negative, never -0.0: see the reader)."""
    shown = TESTCASE_TIMES.get(seconds)
    if shown is None:
        if len(TESTCASE_TIMES) >= MAX_TIMES:
            TESTCASE_TIMES.clear()
        shown = TESTCASE_TIMES[seconds] = f"{seconds:.3f}"
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
    type_ = BLOCKED_TYPE if entry.outcome is _BLOCKED else entry.type
    message, text, out, err = entry.message, entry.text, record.out, record.err
    if len(message) + len(text) + len(out) + len(err) > max_text:  # rare: share() says what stays
        message, text, out, err = share((message, text, out, err), max_text)
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
        type_ = BLOCKED_TYPE if outcome is _BLOCKED else primary.type
        parts.append(_element(primary.kind, type_, next(kept), next(kept)))
    prefix = "flaky" if outcome is _PASSED else "rerun"
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
