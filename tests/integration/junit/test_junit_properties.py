"""Property tests of the merger: for any mix of valid inputs, merged counts equal the
inputs' counts minus collapsed rerun attempts, the output always validates against the
schema, and junitparser reads the same counts as we report.

Inputs are generated as a model (files -> suites -> tests with a final outcome and
earlier failed attempts), rendered to JUnit XML in the shapes real tools write
(``<testsuites>`` or bare ``<testsuite>`` roots, nested suites, stage/cell properties,
pytest-rerunfailures' repeated elements, Surefire's rerun children, pytest's separate
teardown-error element), and the expected counts come from the model, not from the XML.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from junit_checks import Read, assert_valid, junitparser_counts

from pytest_pipeline.junit import merge, summarize
from pytest_pipeline.results import Counts

OUTCOMES = ("passed", "failed", "error", "skipped", "blocked")
STAGES = ("unit", "integration", "smoke")

# Any character XML 1.0 can carry, markup and non-BMP included.
text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")) | st.sampled_from("\n\t<>&\"'")
)
label = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=8)


@dataclass
class Case:
    name: str
    outcome: str
    earlier: int  # failed attempts before the final one
    surefire: bool  # earlier attempts as children (Surefire) or as elements (rerunfailures)
    teardown_split: bool  # pytest 9: a failed call's teardown error as a second element
    message: str
    time: int  # milliseconds
    stage: str | None  # xunit1: a testcase property overriding the suite's stage


@dataclass
class Suite:
    stage: str | None
    cases: list[Case]
    children: list[Suite] = field(default_factory=list)


@dataclass
class File:
    cell: str
    cell_in_property: bool
    bare_root: bool
    pretty: bool
    xunit1: bool  # pytest's legacy family: file/line attributes, testcase properties
    suites: list[Suite]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    outcome = draw(st.sampled_from(OUTCOMES))
    return Case(
        name=draw(text),
        outcome=outcome,
        earlier=draw(st.integers(0, 3)),
        surefire=draw(st.booleans()),
        teardown_split=outcome == "failed" and draw(st.booleans()),
        message=draw(text),
        time=draw(st.integers(0, 5000)),
        stage=draw(st.none() | st.sampled_from(STAGES)),
    )


def suites(depth: int = 2) -> st.SearchStrategy[Suite]:
    children = st.lists(suites(depth - 1), max_size=2) if depth else st.just([])
    return st.builds(Suite, st.none() | st.sampled_from(STAGES), st.lists(cases(), max_size=6), children)


@st.composite
def files(draw: st.DrawFn) -> list[File]:
    result = []
    for index in range(draw(st.integers(1, 4))):
        bare_root = draw(st.booleans())
        result.append(
            File(
                cell=f"cell{index}-{draw(label)}",
                cell_in_property=draw(st.booleans()),
                bare_root=bare_root,
                pretty=draw(st.booleans()),
                xunit1=draw(st.booleans()),
                suites=draw(st.lists(suites(), min_size=1, max_size=1 if bare_root else 3)),
            )
        )
    return result


def _outcome_element(case: Case) -> str:
    message = quoteattr(case.message)
    if case.outcome == "failed":
        return f"<failure message={message}>{escape(case.message)}</failure>"
    if case.outcome == "error":
        return f"<error message={message} type='RuntimeError'>{escape(case.message)}</error>"
    if case.outcome == "skipped":
        return f"<skipped message={message}/>"
    if case.outcome == "blocked":
        return "<error type='pytest_pipeline.blocked' message='blocked by a failure in stage unit'/>"
    return ""


def render_case(case: Case, index: int, xunit1: bool) -> tuple[list[str], int]:
    """The elements of one test and how many ``<testcase>`` elements that is."""
    attrs = f"classname='tests.mod{index % 3}' name={quoteattr(f't{index}_{case.name}')}"
    time = f"time='{case.time / 1000:.3f}'"
    final = _outcome_element(case)
    props = ""
    if xunit1:
        attrs += f" file='tests/mod{index % 3}.py' line='{index}'"
        if case.stage:
            props = f"<properties><property name='stage' value='{case.stage}'/></properties>"
            final = props + final
    if case.surefire and case.earlier:
        tag = "flakyFailure" if case.outcome == "passed" else "rerunFailure"
        children = "".join(
            f"<{tag} type='AssertionError' message='attempt {i}'/>" for i in range(case.earlier)
        )
        return [f"<testcase {attrs} {time}>{final}{children}</testcase>"], 1
    empty = f"<testcase {attrs} {time}>{props}</testcase>" if props else f"<testcase {attrs} {time}/>"
    elements = [empty] * case.earlier  # rerunfailures: empty earlier attempts
    elements.append(f"<testcase {attrs} {time}>{final}</testcase>")
    if case.teardown_split:
        teardown = props + "<error message='failed on teardown with &quot;RuntimeError&quot;'>trace</error>"
        elements.append(f"<testcase {attrs} {time}>{teardown}</testcase>")
    return elements, len(elements)


def render_suite(suite: Suite, cell: str | None, counter: list[int], sep: str, xunit1: bool) -> str:
    props = []
    if suite.stage:
        props.append(f"<property name='stage' value='{suite.stage}'/>")
    if cell:
        props.append(f"<property name='cell' value='{cell}'/>")
    body = [f"<properties>{''.join(props)}</properties>"] if props else []
    for case in suite.cases:
        elements, count = render_case(case, counter[1], xunit1)
        counter[0] += count
        counter[1] += 1
        body.extend(elements)
    body.extend(render_suite(child, None, counter, sep, xunit1) for child in suite.children)
    return f"<testsuite name='s' tests='0' failures='0' errors='0'>{sep}{sep.join(body)}{sep}</testsuite>"


def render_file(file: File, counter: list[int]) -> str:
    sep = "\n  " if file.pretty else ""
    cell = file.cell if file.cell_in_property else None
    suites_xml = [render_suite(suite, cell, counter, sep, file.xunit1) for suite in file.suites]
    if file.bare_root:
        return "<?xml version='1.0' encoding='utf-8'?>" + suites_xml[0]
    return f"<?xml version='1.0' encoding='utf-8'?><testsuites name='x'>{sep.join(suites_xml)}</testsuites>"


def expected_counts(files: list[File]) -> dict[tuple[str, str], Counts]:
    groups: dict[tuple[str, str], Counts] = {}

    def walk(suite: Suite, cell: str, stage: str, xunit1: bool) -> None:
        stage = suite.stage or stage
        if not suite.cases and not suite.children:
            groups.setdefault((cell, stage), Counts())
        for case in suite.cases:
            own_stage = (case.stage if xunit1 else None) or stage
            counts = groups.setdefault((cell, own_stage), Counts())
            counts.tests += 1
            if case.outcome == "passed":
                counts.passed += 1
                counts.flaky += case.earlier > 0
            elif case.outcome == "failed":
                counts.failed += 1
            elif case.outcome == "error":
                counts.errors += 1
            elif case.outcome == "skipped":
                counts.skipped += 1
            else:
                counts.blocked += 1
        for child in suite.children:
            walk(child, cell, stage, xunit1)

    for file in files:
        for suite in file.suites:
            walk(suite, file.cell, "unit", file.xunit1)
    return groups


def without_time(groups: dict[tuple[str, str], Counts]) -> dict[tuple[str, str], Counts]:
    return {key: Counts(**{**counts.to_dict(), "time": 0.0}) for key, counts in groups.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_merged_counts_are_the_inputs_minus_collapsed_attempts(model: list[File]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = []
        counter = [0, 0]  # testcase elements written, tests written
        for file in model:
            path = folder / f"{file.cell}.xml"
            path.write_text(render_file(file, counter), encoding="utf-8")
            paths.append(path)
        elements, tests = counter
        output = folder / "out" / "merged.xml"
        summary = merge(paths, output)

        assert summary.problems == []
        collapsed = sum(
            case.earlier + case.teardown_split if not case.surefire or not case.earlier else 0
            for file in model
            for case in _all_cases(file)
        )
        assert summary.total().tests == elements - collapsed == tests
        assert without_time(summary.groups) == without_time(expected_counts(model))
        assert sorted(ref.attempts for ref in summary.flaky) == sorted(
            case.earlier + 1
            for file in model
            for case in _all_cases(file)
            if case.outcome == "passed" and case.earlier
        )
        bad = Counter(ref.outcome.value for ref in summary.failures)
        total = summary.total()
        assert (bad["failed"], bad["error"], bad["blocked"]) == (total.failed, total.errors, total.blocked)

        assert_valid(output)
        suites, read_total = junitparser_counts(output)
        assert suites == {
            f"{cell}: {stage}": Read(c.tests, c.failed, c.errors + c.blocked, c.skipped)
            for (cell, stage), c in summary.groups.items()
        }
        assert read_total == Read(total.tests, total.failed, total.errors + total.blocked, total.skipped)
        assert summarize(paths).to_dict() == summary.to_dict()


def _all_cases(file: File) -> list[Case]:
    found: list[Case] = []

    def walk(suite: Suite) -> None:
        found.extend(suite.cases)
        for child in suite.children:
            walk(child)

    for suite in file.suites:
        walk(suite)
    return found
