"""Result files from an untrusted build: bombs, external entities, broken and hostile files.

Each bad file becomes one ``InputProblem`` naming it, while the good files beside it are
still merged; nothing of a bad file leaks into the counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junit_checks import FAILURE, assert_valid, xml_case, xml_suite, xml_suites

from pytest_pipeline.junit import merge, summarize

GOOD = xml_suites(xml_suite(xml_case("a"), xml_case("b", FAILURE)))

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuites><testsuite name="x" tests="1" failures="1" errors="0">
<testcase classname="c" name="n"><failure message="&lol9;">&lol9;</failure></testcase>
</testsuite></testsuites>
"""


def quadratic_blowup() -> str:
    entity = "x" * 200_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "{entity}">]>'
        f'<testsuites><testsuite name="x" tests="1" failures="1" errors="0"><testcase classname="c" name="n">'
        f'<failure message="m">{"&a;" * 20_000}</failure></testcase></testsuite></testsuites>'
    )


def external_entity(target: Path) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY secret SYSTEM "{target.as_uri()}">]>'
        '<testsuites><testsuite name="x" tests="1" failures="1" errors="0"><testcase classname="c" name="n">'
        '<failure message="m">&secret;</failure></testcase></testsuite></testsuites>'
    )


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("bomb.xml", BILLION_LAUGHS, "declares XML entities"),
        ("quadratic.xml", quadratic_blowup(), "declares XML entities"),
        (
            "param.xml",
            '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>'
            "<testsuites/>",
            "declares XML entities",
        ),
        ("undefined.xml", "<testsuites><testsuite>&nope;</testsuite></testsuites>", "undefined entity"),
        ("empty.xml", "", "empty file"),
        ("blank.xml", "  \n\t\n", "no XML element in the file"),
        ("truncated.xml", GOOD[: len(GOOD) // 2], "truncated"),
        ("binary.xml", bytes(range(256)) * 10, "binary data"),
        ("text.xml", "this is a build log, not XML\n", "not well-formed XML"),
        ("html.xml", "<html><body>502 Bad Gateway</body></html>", "root element is <html>"),
        ("junk.xml", GOOD + "<testsuites/>", "not well-formed XML: junk after document element"),
        ("deep.xml", "<testsuites>" + "<testsuite>" * 100_000, "nested deeper than 256 levels"),
    ],
)
def test_bad_file_is_one_problem_and_the_good_file_is_still_merged(
    tmp_path: Path, name: str, data: str | bytes, expected: str
) -> None:
    good = write(tmp_path, "py311.xml", GOOD)
    bad = write(tmp_path, name, data)
    output = tmp_path / "merged.xml"
    summary = merge([good, bad], output)
    assert [(problem.path, expected in problem.message) for problem in summary.problems] == [(str(bad), True)]
    assert "\n" not in summary.problems[0].message
    assert list(summary.groups) == [("py311", "unit")]
    assert summary.files == [str(good), str(bad)]
    assert_valid(output)
    assert summarize([good, bad]).to_dict() == summary.to_dict()


def test_external_entity_is_never_resolved(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", "TOP-SECRET-TOKEN")
    path = write(tmp_path, "xxe.xml", external_entity(secret))
    output = tmp_path / "merged.xml"
    summary = merge([path], output)
    assert "declares XML entities" in summary.problems[0].message
    assert "TOP-SECRET-TOKEN" not in output.read_text()


def test_a_doctype_without_entities_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "dtd.xml", '<?xml version="1.0"?><!DOCTYPE testsuites>' + GOOD.split("?>", 1)[1])
    assert summarize([path]).problems == []


def test_missing_file_and_directory_are_problems(tmp_path: Path) -> None:
    missing = tmp_path / "missing.xml"
    folder = tmp_path / "folder.xml"
    folder.mkdir()
    summary = summarize([missing, folder])
    assert [problem.path for problem in summary.problems] == [str(missing), str(folder)]
    assert "cannot be read: No such file or directory" in summary.problems[0].message
    assert "directory without any *.xml file" in summary.problems[1].message


def test_a_file_broken_half_way_contributes_nothing(tmp_path: Path) -> None:
    cases = "".join(xml_case(f"t{i}", FAILURE if i % 3 == 0 else "") for i in range(3000))
    text = xml_suites(xml_suite(cases, props={"stage": "smoke"}))
    broken = write(tmp_path, "py312.xml", text[: len(text) - 100])
    good = write(tmp_path, "py311.xml", GOOD)
    output = tmp_path / "merged.xml"
    summary = merge([good, broken], output)
    assert list(summary.groups) == [("py311", "unit")]
    assert all(ref.cell == "py311" for ref in summary.failures)
    text = output.read_text()
    # listed as not merged, but no suite or test of it
    assert "py312: smoke" not in text
    assert "[py312]" not in text
    assert "truncated" in summary.problems[0].message


def test_huge_attribute_is_refused_without_holding_it(tmp_path: Path) -> None:
    message = "m" * (20 * 1024 * 1024)
    path = write(
        tmp_path, "attr.xml", xml_suites(xml_suite(xml_case("a", f'<failure message="{message}"/>')))
    )
    summary = summarize([path])
    assert "larger than 16 MB" in summary.problems[0].message


def test_control_characters_from_references_come_out_valid(tmp_path: Path) -> None:
    # Tabs and carriage returns written as references must survive the round trip
    # (a raw tab in an attribute is normalised to a space by any XML parser).
    body = '<failure message="tab&#9;cr&#13;end">line\r\nnext \U0001f600 &#x9;</failure>'
    path = write(tmp_path, "ctl.xml", xml_suites(xml_suite(xml_case("a\u0085b", body))))
    output = tmp_path / "merged.xml"
    merge([path], output)
    assert_valid(output)
    failure = ET.parse(output).find(".//failure")
    assert failure is not None
    assert failure.get("message") == "tab\tcr\rend"
    assert failure.text == "line\nnext \U0001f600 \t"


_MEMORY_PROBE = """
import json, sys
from pathlib import Path
from pytest_pipeline.junit import merge
summary = merge([Path(sys.argv[1])], Path(sys.argv[2]))
print(json.dumps({"problems": [str(p) for p in summary.problems], "tests": summary.total().tests}))
"""

# Linux folds the peak of the process that forked into the child's own ru_maxrss, so
# a child of this (big) pytest process would inherit pytest's peak. A small wrapper
# runs the probe and reports the probe's peak from RUSAGE_CHILDREN instead.
_WRAPPER = """
import json, resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True).stdout
data = json.loads(out)
data["maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(data))
"""


def test_huge_text_node_is_capped_and_memory_stays_bounded(tmp_path: Path) -> None:
    block = "E   AssertionError: very long output line\n" * 25_000  # ~1 MB
    path = tmp_path / "noisy.xml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<testsuites><testsuite name="s" tests="2" failures="1" errors="0">')
        handle.write('<testcase classname="c" name="noisy"><failure message="m">')
        for _ in range(60):
            handle.write(block)
        handle.write("</failure><system-out>")
        for _ in range(60):
            handle.write(block)
        handle.write(
            '</system-out></testcase><testcase classname="c" name="quiet"/></testsuite></testsuites>'
        )
    output = tmp_path / "merged.xml"
    probe = [sys.executable, "-c", textwrap.dedent(_MEMORY_PROBE), str(path), str(output)]
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_WRAPPER), *probe], capture_output=True, text=True, check=True
    )
    data = json.loads(result.stdout)
    assert data["problems"] == []
    assert data["tests"] == 2
    # The file is ~126 MB; a reader holding either text in memory could not stay under.
    assert data["maxrss_mb"] < 60, data
    text = output.read_text()
    assert len(text) < 200_000
    assert text.count("characters truncated by pytest-pipeline") == 2


_POISONED_LXML = """
raise RuntimeError("lxml must not be used by the merger")
"""


def test_results_do_not_depend_on_lxml(tmp_path: Path) -> None:
    # A poisoned lxml on the path: importing it would fail the run.
    fake = tmp_path / "site" / "lxml"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(_POISONED_LXML)
    good = write(tmp_path, "py311.xml", GOOD)
    bomb = write(tmp_path, "bomb.xml", BILLION_LAUGHS)
    script = (
        "import json, sys; from pytest_pipeline.junit import summarize; "
        "s = summarize(sys.argv[1:]); print(json.dumps(s.to_dict())); "
        "assert 'lxml' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-c", script, str(good), str(bomb)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert json.loads(result.stdout) == summarize([good, bomb]).to_dict()


def test_huge_names_and_messages_are_capped(tmp_path: Path) -> None:
    name = "n" * 100_000
    message = "m" * 100_000
    case = f'<testcase classname="{name}" name="{name}"><failure message="{message}"/></testcase>'
    path = write(tmp_path, "big-names.xml", xml_suites(xml_suite(case)))
    (ref,) = summarize([path]).failures
    assert len(ref.classname) < 9000
    assert len(ref.name) < 9000
    assert "characters truncated by pytest-pipeline" in ref.name
    assert len(ref.message) <= 300


def test_a_flood_of_cells_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_pipeline.junit import pipeline

    monkeypatch.setattr(pipeline, "MAX_GROUPS", 50)
    flood = "".join(xml_suite(xml_case("t"), props={"cell": f"c{i}"}) for i in range(60))
    good = write(tmp_path, "py311.xml", GOOD)
    path = write(tmp_path, "flood.xml", xml_suites(flood))
    summary = summarize([good, path])
    assert "more than 50 (cell, stage) groups" in summary.problems[0].message
    assert list(summary.groups) == [("py311", "unit")]


def test_suites_nested_inside_a_testcase_are_ignored(tmp_path: Path) -> None:
    # They used to pop the enclosing suite's state and crash the reader (IndexError).
    odd = xml_case("a", '<testsuite name="x"><testsuite name="y"/></testsuite>')
    path = write(tmp_path, "py311.xml", xml_suites(xml_suite(odd, xml_case("b", FAILURE))))
    summary = merge([path], tmp_path / "merged.xml")
    assert summary.problems == []
    assert summary.groups[("py311", "unit")].tests == 2
    assert summary.groups[("py311", "unit")].failed == 1
    assert_valid(tmp_path / "merged.xml")


@pytest.mark.parametrize("time", ["-0", "-0.000", "-1.5", "nan", "1e400", "x"])
def test_odd_times_are_written_as_zero(tmp_path: Path, time: str) -> None:
    cases = xml_suite(xml_case("a", time=time), xml_case("b", time="2.5"))
    path = write(tmp_path, "py311.xml", xml_suites(cases))
    output = tmp_path / "merged.xml"
    summary = merge([path], output)
    times = [case.get("time") for case in ET.parse(output).getroot().iter("testcase")]
    assert times == ["0.000", "2.500"]
    assert summary.groups[("py311", "unit")].time == 2.5
    assert_valid(output)
