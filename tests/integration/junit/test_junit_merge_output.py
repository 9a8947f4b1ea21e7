"""The merged file: schema-valid, read back right by junitparser and by ourselves."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from junit_checks import (
    ERROR,
    FAILURE,
    SKIPPED,
    Read,
    assert_valid,
    junitparser_counts,
    xml_case,
    xml_suite,
    xml_suites,
)

from pytest_pipeline.junit import merge, pipeline, summarize
from pytest_pipeline.junit import writer as writer_module
from pytest_pipeline.junit.writer import SpoolWriter
from pytest_pipeline.results import Counts, InputProblem, ResultSummary

BLOCKED = '<error type="pytest_pipeline.blocked" message="blocked by a failure in stage unit"/>'


def cell_file(folder: Path, cell: str, *, fail: bool = True) -> Path:
    unit = xml_suite(
        xml_case("test_ok"),
        xml_case("test_bad", FAILURE if fail else ""),
        xml_case("test_skip", SKIPPED),
        *(xml_case("test_flaky") for _ in range(3)),
        props={"stage": "unit", "cell": cell},
    )
    smoke = xml_suite(
        xml_case("test_boot", ERROR if fail else ""),
        xml_case("test_blocked", BLOCKED),
        props={"stage": "smoke", "cell": cell},
    )
    path = folder / "cells" / cell / "junit.xml"
    path.parent.mkdir(parents=True)
    path.write_text(xml_suites(unit, smoke), encoding="utf-8")
    return path


def as_read(counts: Counts) -> Read:
    return Read(counts.tests, counts.failed, counts.errors + counts.blocked, counts.skipped)


def without_times(summary: ResultSummary) -> dict[str, object]:
    data = summary.to_dict()
    for group in data["groups"]:
        group.pop("time")
    data.pop("files")
    return data


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    return [cell_file(tmp_path, cell, fail=cell != "py313") for cell in ("py311", "py312", "py313")]


def test_one_suite_per_cell_and_stage_with_junitparser_reading_our_counts(
    tmp_path: Path, inputs: list[Path]
) -> None:
    output = tmp_path / "merged.xml"
    summary = merge(inputs, output)
    assert_valid(output)
    suites, total = junitparser_counts(output)
    assert suites == {f"{cell}: {stage}": as_read(counts) for (cell, stage), counts in summary.groups.items()}
    assert total == as_read(summary.total())
    group = summary.groups["py311", "unit"]
    assert group.time == pytest.approx(0.06)
    assert (group.tests, group.passed, group.failed, group.skipped, group.flaky) == (4, 2, 1, 1, 1)
    assert summary.groups["py313", "smoke"].blocked == 1
    root = ET.parse(output).getroot()
    assert root.attrib.keys() == {"name", "tests", "failures", "errors", "time"}  # no "skipped"
    assert root.get("name") == "pytest-pipeline"


def test_every_cell_is_distinguishable_by_classname_and_name(tmp_path: Path, inputs: list[Path]) -> None:
    output = tmp_path / "merged.xml"
    merge(inputs, output)
    cases = [(case.get("classname"), case.get("name")) for case in ET.parse(output).iter("testcase")]
    assert len(cases) == len(set(cases))
    assert ("py312.tests.test_mod", "test_bad [py312]") in cases
    assert len({name for _, name in cases}) == len(cases)  # GitLab's first-of-a-name rule keeps every cell


def test_summarize_and_merge_agree(tmp_path: Path, inputs: list[Path]) -> None:
    assert merge(inputs, tmp_path / "merged.xml").to_dict() == summarize(inputs).to_dict()


def test_merging_a_merged_file_keeps_cells_stages_and_names(tmp_path: Path, inputs: list[Path]) -> None:
    first = tmp_path / "first.xml"
    summary = merge(inputs, first)
    second = tmp_path / "second.xml"
    again = merge([first], second, default_cell="not-used")
    assert without_times(again) == without_times(summary)
    third = tmp_path / "third.xml"
    merge([second], third)
    assert third.read_bytes() == second.read_bytes()


def test_a_merged_file_lists_the_inputs_it_left_out_and_reads_them_back(
    tmp_path: Path, inputs: list[Path]
) -> None:
    """Reading a merged file says what reading its inputs said: an input left out is a
    problem again, named by its own path. Other consumers see one error per such input."""
    truncated = tmp_path / "py314.xml"
    truncated.write_text(inputs[0].read_text()[:200], encoding="utf-8")
    output = tmp_path / "merged.xml"
    summary = merge([*inputs, truncated], output)
    assert [problem.path for problem in summary.problems] == [str(truncated)]
    assert_valid(output)
    suites, total = junitparser_counts(output)
    assert suites["pytest-pipeline: inputs not merged"] == Read(tests=1, failures=0, errors=1, skipped=0)
    assert total.errors == as_read(summary.total()).errors + 1
    listed = ET.parse(output).getroot().find("testsuite[@name='pytest-pipeline: inputs not merged']")
    assert listed is not None
    error = listed.find("testcase/error")
    assert error is not None
    assert error.get("message") == str(summary.problems[0])

    read_back = summarize([output])
    assert read_back.problems == [
        InputProblem(str(truncated), f"{summary.problems[0].message} (not merged into {output})")
    ]
    assert without_times(read_back)["groups"] == without_times(summary)["groups"]
    # merging it again keeps the listing (and says so: an input is still missing)
    again = merge([output], tmp_path / "again.xml")
    assert [problem.path for problem in again.problems] == [str(truncated)]
    assert_valid(tmp_path / "again.xml")


def test_the_not_merged_suite_is_known_by_its_property_not_its_name(tmp_path: Path) -> None:
    """A suite of another tool with the same name holds tests; only our property marks a listing."""
    named_alike = xml_suite(xml_case("test_a"), name="pytest-pipeline: inputs not merged")
    path = tmp_path / "py311.xml"
    path.write_text(xml_suites(named_alike), encoding="utf-8")
    summary = summarize([path])
    assert summary.problems == []
    assert summary.total().passed == 1


def test_ref_lists_are_capped_but_counted(
    tmp_path: Path, inputs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "MAX_REFS", 3)
    summary = summarize(inputs)
    total = summary.total()
    assert len(summary.failures) == 3
    assert summary.failures_omitted == total.bad - 3
    assert ResultSummary.from_dict(summary.to_dict()).failures_omitted == summary.failures_omitted


def test_max_text_caps_a_tests_texts_together_keeping_head_and_tail(tmp_path: Path) -> None:
    trace = "\n".join(f"line {i}" for i in range(5000))
    noisy = f'<failure message="m">{trace}</failure><system-out>{trace}</system-out>'
    path = tmp_path / "py311.xml"
    # "t" failed twice (pytest-rerunfailures' attempts) and then failed for good: all
    # three attempts' tracebacks and output share one budget.
    path.write_text(xml_suites(xml_suite(xml_case("t", noisy), xml_case("t", noisy), xml_case("t", noisy))))
    output = tmp_path / "merged.xml"
    merge([path], output, max_text=2000)
    case = ET.parse(output).find(".//testcase")
    assert case is not None
    assert [child.tag for child in case] == ["failure", "rerunFailure", "rerunFailure", "system-out"]
    texts = [element.text for element in case.iter() if element.text]
    assert len(texts) == 6  # failure, system-out, and per earlier attempt stackTrace, system-out
    marker = re.compile(r"\n\[\.\.\. \d+ characters truncated by pytest-pipeline \.\.\.\]\n")
    for text in texts:
        assert text.startswith("line 0\n")
        assert text.endswith("line 4999")
        assert len(marker.findall(text)) == 1
    messages = [element.get("message", "") for element in case]
    kept = sum(len(marker.sub("", text)) for text in texts) + sum(map(len, messages))
    assert kept <= 2000
    with pytest.raises(ValueError, match="at least 1024"):
        merge([path], output, max_text=10)


def test_a_directory_input_does_not_read_the_output_inside_it(tmp_path: Path, inputs: list[Path]) -> None:
    output = tmp_path / "merged.xml"
    first = merge([tmp_path], output)
    again = merge([tmp_path], output)
    assert again.to_dict() == first.to_dict()
    assert str(output) not in again.files


def test_unwritable_output_raises_oserror(tmp_path: Path, inputs: list[Path]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FileExistsError):
        merge(inputs, blocker / "merged.xml")


def test_spool_writer_flushes_chunks_and_rolls_back_a_file(tmp_path: Path) -> None:
    output = tmp_path / "out.xml"
    writer = SpoolWriter(output, budget=50)
    a, b = ("a", "unit"), ("b", "unit")
    writer.begin_file()
    for index in range(20):
        writer.add(a, f"<testcase name='a{index}'/>\n")
    writer.commit()
    writer.begin_file()
    writer.add(a, "<testcase name='lost'/>\n")
    for index in range(20):
        writer.add(b, f"<testcase name='b{index}'/>\n")
    writer.rollback()
    writer.begin_file()
    writer.add(b, "<testcase name='kept'/>\n")
    writer.commit()
    assert len(writer.groups[a].chunks) > 1  # the budget made it spill to the spool
    writer.write([(a, Counts(tests=20)), (b, Counts(tests=1))], "all", Counts(tests=21))
    writer.close()
    root = ET.parse(output).getroot()
    names = [[case.get("name") for case in suite.iter("testcase")] for suite in root]
    assert names == [[f"a{index}" for index in range(20)], ["kept"]]
    assert not list(tmp_path.glob(".pytest-pipeline-spool-*"))  # unlinked at once


@pytest.mark.parametrize(
    ("cell", "classname", "name"),
    [("py311", "tests.mod", "test_a[1]"), ("c&<>", 'a"b', 'n\t<&>"\x85'), ("py312", "", "t")],
)
def test_fast_path_renders_like_the_general_path(
    tmp_path: Path, cell: str, classname: str, name: str
) -> None:
    from pytest_pipeline.junit.records import TestCaseRecord
    from pytest_pipeline.junit.render import render_passed

    record = TestCaseRecord(cell, "unit", classname, name, 0.5)
    writer = SpoolWriter(tmp_path / "out.xml")
    writer.begin_file()
    writer.add_all([record, record], 64_000)  # the second time through the cached classname
    assert writer.groups[cell, "unit"].parts == [render_passed(record, 64_000)] * 2
    writer.close()
    element = ET.fromstring(render_passed(record, 64_000))
    assert (element.get("classname"), element.get("name")) == (
        f"{cell}.{classname}" if classname else cell,
        f"{name} [{cell}]",
    )


def test_a_failing_output_is_not_blamed_on_an_input(
    tmp_path: Path, inputs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: SpoolWriter, *args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SpoolWriter, "add_all", disk_full)
    with pytest.raises(OSError, match="No space left"):
        merge(inputs, tmp_path / "merged.xml")
    assert not (tmp_path / "merged.xml").exists()


def test_a_small_buffer_spills_to_the_spool_and_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many passed tests (handed to the writer in batches), a few others, reruns, two
    # suites: with a buffer of a few lines the writer spills in the middle of batches.
    cases = []
    for index in range(1500):
        body = FAILURE if index % 97 == 0 else SKIPPED if index % 89 == 0 else ""
        cases.append(xml_case(f"test_{index}", body))
        if index % 211 == 0:
            cases.append(xml_case(f"test_{index}", ""))  # a rerun attempt
    paths = []
    for cell in ("py311", "py312"):
        path = tmp_path / "in" / f"{cell}.xml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            xml_suites(xml_suite(*cases[:900]), xml_suite(*cases[900:], props={"stage": "smoke"})),
            encoding="utf-8",
        )
        paths.append(path)
    roomy = merge(paths, tmp_path / "roomy.xml")
    spilled: list[int] = []
    flush = SpoolWriter._flush

    def counting_flush(self: SpoolWriter, spool: Any) -> None:
        spilled.append(len(spool.parts))
        flush(self, spool)

    monkeypatch.setattr(writer_module, "BUFFER_BUDGET", 300)
    monkeypatch.setattr(SpoolWriter, "_flush", counting_flush)
    tight = merge(paths, tmp_path / "tight.xml")
    assert sum(1 for parts in spilled if parts) > 100
    assert tight.to_dict() == roomy.to_dict()
    assert (tmp_path / "tight.xml").read_bytes() == (tmp_path / "roomy.xml").read_bytes()
