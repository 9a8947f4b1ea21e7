"""The HTML page: untrusted text never becomes markup, no way to fetch or run anything, what it shows."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.report.html import render
from pytest_pipeline.report.html.text import esc
from pytest_pipeline.report.model import FailureDetail, ReportData, TimedTest
from pytest_pipeline.results import Counts, Outcome, TestRef
from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class Elements(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def hostile_report() -> ReportData:
    cell = CellRecord(
        name=f"py312-{HOSTILE}",
        status=CellStatus.FAILED,
        python="3.12",
        factors={"attrs": HOSTILE},
        stages=("unit",),
        log="../../etc/passwd",
        message=HOSTILE,
        duration=3.0,
    )
    data = ReportData(
        root=Path("reports"),
        title=HOSTILE,
        run=RunRecord(cells=(cell,), stages=("unit",)),
        gate={
            "verdict": "closed",
            "code": 1,
            "headline": f"GATE CLOSED (1): {HOSTILE}",
            "reasons": [
                {
                    "code": 1,
                    "kind": "failed",
                    "message": HOSTILE,
                    "cell": cell.name,
                    "stage": "unit",
                    "test": HOSTILE,
                }
            ],
            "notes": [{"kind": "flaky", "message": HOSTILE, "cell": None, "stage": None, "test": None}],
            "quarantined": [
                {
                    "id": HOSTILE,
                    "cell": cell.name,
                    "stage": "unit",
                    "message": HOSTILE,
                    "quarantine": {"id": HOSTILE, "reason": HOSTILE, "expires": "2030-01-01"},
                }
            ],
            "git": {"commit": HOSTILE, "branch": HOSTILE, "dirty": True, "dirty_paths": [HOSTILE]},
            "ci": {"provider": HOSTILE, "url": "javascript:alert(1)"},
            "artifacts": [{"name": HOSTILE, "sha256": HOSTILE}],
            "tools": {HOSTILE: HOSTILE},
        },
    )
    data.groups[(cell.name, "unit")] = Counts(tests=1, failed=1)
    data.failures.append(
        FailureDetail(
            cell=cell.name,
            stage="unit",
            classname=HOSTILE,
            name=HOSTILE,
            outcome=Outcome.FAILED,
            message=HOSTILE,
            text=f"</pre>{HOSTILE}\x1b[31mred\x1b[0m",
            output=HOSTILE,
            file=HOSTILE,
            line=3,
        )
    )
    ref = TestRef(
        cell=cell.name,
        stage="unit",
        classname=HOSTILE,
        name=HOSTILE,
        outcome=Outcome.BLOCKED,
        message=HOSTILE,
    )
    data.blocked.append(ref)
    data.flaky.append(ref)
    data.slowest_tests.append(TimedTest(cell.name, "unit", HOSTILE, 2.0))
    return data


def test_hostile_text_never_becomes_markup() -> None:
    page = render(hostile_report())
    elements = parse(page)
    tags = {tag for tag, _ in elements.tags}
    assert "script" not in tags
    assert "img" not in tags
    for _, attrs in elements.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
    # The hostile string is shown, as text, in every place it came from.
    text = "".join(elements.text)
    assert text.count(HOSTILE) >= 10
    assert "\x1b" not in page  # colour codes of tracebacks are dropped
    assert "[31m" not in text


def test_page_cannot_fetch_or_run_anything() -> None:
    page = render(hostile_report())
    elements = parse(page)
    csp = [attrs for tag, attrs in elements.tags if tag == "meta" and attrs.get("http-equiv")]
    assert csp == [
        {
            "http-equiv": "Content-Security-Policy",
            "content": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
            "form-action 'none'",
        }
    ]
    for tag, attrs in elements.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed", "img", "base", "form"), tag
        assert "src" not in attrs
        href = attrs.get("href")
        if (
            href is not None
        ):  # in-page anchors only: the log path leaves the folder, the CI URL is javascript:
            assert href.startswith("#"), href
    assert "url(" not in page  # no CSS fetches either


def test_failure_traceback_is_one_click_away_in_details() -> None:
    data = ReportData(root=Path("r"), title="proj")
    data.failures.append(
        FailureDetail(
            cell="py312",
            stage="unit",
            classname="tests.test_a",
            name="test_one",
            outcome=Outcome.FAILED,
            message="assert 1 == 2",
            text="def test_one():\n>   assert 1 == 2\nE   assert 1 == 2",
        )
    )
    page = render(data)
    details = re.search(
        r"<details class=\"failure o-failed\"[^>]*><summary>(.*?)</summary>(.*?)</details>", page, re.S
    )
    assert details is not None
    summary, body = details.groups()
    assert "tests.test_a::test_one" in summary
    assert "assert 1 == 2" in summary
    assert "&gt;   assert 1 == 2" in body
    assert "<details open" not in page


def test_grid_links_a_failing_cell_to_its_first_failure() -> None:
    cell = CellRecord(name="py312", status=CellStatus.FAILED, python="3.12", stages=("unit",))
    data = ReportData(root=Path("r"), title="proj", run=RunRecord(cells=(cell,), stages=("unit",)))
    for name in ("test_a", "test_b"):
        data.failures.append(
            FailureDetail(
                cell="py312",
                stage="unit",
                classname="t",
                name=name,
                outcome=Outcome.FAILED,
                message="boom",
                text="boom",
            )
        )
    page = render(data)
    assert page.count('id="failures-of-1"') == 1
    assert '<a href="#failures-of-1">py312</a>' in page
    assert page.index('id="failures-of-1"') < page.index("t::test_b")


def test_every_mark_says_in_words_what_its_colour_says() -> None:
    cell = CellRecord(name="py312", status=CellStatus.FAILED, python="3.12", stages=("unit", "smoke"))
    data = ReportData(root=Path("r"), title="proj", run=RunRecord(cells=(cell,), stages=("unit", "smoke")))
    data.groups[("py312", "unit")] = Counts(tests=7, failed=1, passed=6)
    marks = [attrs for tag, attrs in parse(render(data)).tags if tag == "li" and attrs.get("class") == "mark"]
    assert [m["aria-label"] for m in marks] == ["unit: 1 failed, 6 passed", "smoke: not run"]


def test_without_gate_file_the_banner_says_so() -> None:
    data = ReportData(root=Path("r"), title="proj")
    page = render(data)
    assert "No gate verdict (gate.json is missing)" in page
    assert 'class="verdict closed"' in page
    assert "No test failed or errored." in page


def test_open_gate_banner() -> None:
    data = ReportData(
        root=Path("r"), title="proj", gate={"verdict": "open", "code": 0, "headline": "GATE OPEN (0)"}
    )
    page = render(data)
    assert 'class="verdict open"' in page
    assert "exit code 0 · gate open" in page


@pytest.mark.parametrize("code", list(ExitCode), ids=lambda code: code.name)
def test_the_banner_says_what_the_exit_code_means(code: ExitCode) -> None:
    gate = {"verdict": "open" if code is ExitCode.OK else "closed", "code": int(code)}
    page = render(ReportData(root=Path("r"), title="proj", gate=gate))
    assert f"exit code {int(code)} · {esc(code.meaning)}" in page


def test_omitted_counts_are_said() -> None:
    data = ReportData(root=Path("r"), title="proj", failures_omitted=5, blocked_omitted=2, flaky_omitted=1)
    data.blocked.append(TestRef("c", "unit", "k", "n", Outcome.BLOCKED, "blocked by a failure in stage unit"))
    data.flaky.append(TestRef("c", "unit", "k", "f", Outcome.PASSED, "warming up", attempts=2))
    page = render(data)
    assert 'Failures <span class="count">(5)</span>' in page
    assert "5 more failures not shown" in page
    assert "2 more blocked tests not listed" in page
    assert "1 more flaky test not listed" in page


def test_a_reused_cell_is_marked_with_the_run_it_came_from_and_hostile_origins_stay_text() -> None:
    origin = {"run": "R1", "finished": "2026-12-07T08:00:00+00:00", "commit": HOSTILE}
    reused = CellRecord(name="py312", status=CellStatus.PASSED, stages=("unit",), reused_from=origin)
    ran = CellRecord(name="py313", status=CellStatus.PASSED, stages=("unit",))
    data = ReportData(root=Path("reports"), title="t", run=RunRecord(cells=(reused, ran), stages=("unit",)))
    elements = parse(render(data))
    badges = [attrs for tag, attrs in elements.tags if tag == "span" and attrs.get("class") == "badge reused"]
    assert len(badges) == 2  # the matrix and the cells table, for py312 only
    assert all(
        str(attrs["title"]).startswith("reused from run R1 (2026-12-07T08:00:00+00:00, ") for attrs in badges
    )
    assert not any(tag in ("script", "img") for tag, _ in elements.tags)
