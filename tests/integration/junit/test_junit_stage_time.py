"""A stage's time is its wall time where its suite says so, through merge, gate and report."""

from __future__ import annotations

from pathlib import Path

from pytest_pipeline import junit

STAGED = """<testsuites>
<testsuite name="pytest: unit" time="2.000" tests="3">
<properties><property name="stage" value="unit"/><property name="cell" value="py312"/></properties>
<testcase classname="t" name="a" time="1.900"/>
<testcase classname="t" name="b" time="1.900"/>
<testcase classname="t" name="c" time="1.900"/>
</testsuite>
</testsuites>
"""

PLAIN = """<testsuite name="pytest" time="9.000" tests="2">
<testcase classname="t" name="a" time="1.500"/>
<testcase classname="t" name="b" time="1.000"/>
</testsuite>
"""


def test_a_staged_suite_gives_the_stage_s_wall_time(tmp_path: Path) -> None:
    (tmp_path / "staged.xml").write_text(STAGED)
    (tmp_path / "plain.xml").write_text(PLAIN)
    merged = tmp_path / "out" / "junit.xml"
    summary = junit.merge([tmp_path / "staged.xml", tmp_path / "plain.xml"], merged, default_cell="other")
    assert summary.groups[("py312", "unit")].time == 2.0  # not 5.7: the tests overlapped
    assert summary.groups[("other", "unit")].time == 2.5  # no stage property: the tests' sum
    # read again (the gate reads the merged file): the same times
    again = junit.summarize([merged])
    assert again.groups[("py312", "unit")].time == 2.0
    assert round(again.groups[("other", "unit")].time, 6) == 2.5


def test_two_sessions_of_a_stage_add_up(tmp_path: Path) -> None:
    twice = STAGED.replace("</testsuites>", STAGED.split("<testsuites>")[1].replace('name="a"', 'name="d"'))
    (tmp_path / "twice.xml").write_text(twice.replace("</testsuites>\n</testsuites>", "</testsuites>"))
    summary = junit.summarize([tmp_path / "twice.xml"])
    assert summary.groups[("py312", "unit")].time == 4.0
