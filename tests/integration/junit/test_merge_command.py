"""``pytest-pipeline merge``: arguments, summary line, problems, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from junit_checks import FAILURE, assert_valid, xml_case, xml_suite, xml_suites

from pytest_pipeline.cli import main
from pytest_pipeline.exitcodes import ExitCode


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    for cell in ("py311", "py312"):
        path = folder / f"results-{cell}" / "cells" / cell / "junit.xml"
        path.parent.mkdir(parents=True)
        path.write_text(
            xml_suites(xml_suite(xml_case("test_a"), xml_case("test_b", FAILURE))), encoding="utf-8"
        )
    return folder


def test_merge_a_folder_exits_0_even_with_failed_tests(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "merged.xml"
    assert main(["merge", str(results), "-o", str(output)]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert out.strip() == (
        f"merged 2 of 2 files into {output}: 4 tests in 2 cells, 2 suites "
        "(2 passed, 2 failed, 0 errors, 0 skipped)"
    )
    assert err == ""
    assert_valid(output)


def test_unreadable_input_exits_3_names_the_file_and_still_writes(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = results / "results-py313" / "cells" / "py313" / "junit.xml"
    broken.parent.mkdir(parents=True)
    broken.write_text("<testsuites><testsuite name='x' tests='1'", encoding="utf-8")
    output = tmp_path / "merged.xml"
    assert main(["merge", str(results), "-o", str(output)]) == ExitCode.INCOMPLETE
    out, err = capsys.readouterr()
    assert out.startswith("merged 2 of 3 files")
    assert err.splitlines() == [
        f"pytest-pipeline: not merged: {broken}: truncated: the XML ends before its root element is closed "
        "(line 1, column 12)"
    ]
    assert "py311" in output.read_text()


def test_a_merged_input_that_left_a_file_out_is_merged_and_exits_3(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = results / "py313.xml"
    broken.write_text("<testsuites><testsuite name='x' tests='1'", encoding="utf-8")
    first = tmp_path / "first.xml"
    assert main(["merge", str(results), "-o", str(first)]) == ExitCode.INCOMPLETE
    capsys.readouterr()
    second = tmp_path / "second.xml"
    assert main(["merge", str(first), "-o", str(second)]) == ExitCode.INCOMPLETE
    out, err = capsys.readouterr()
    assert out.startswith(f"merged 1 of 1 files into {second}: 4 tests in 2 cells")
    assert err.startswith(f"pytest-pipeline: not merged: {broken}: truncated")
    assert err.rstrip().endswith(f"(not merged into {first})")
    assert_valid(second)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/nothing-*.xml"], "nothing-*.xml' matched no files"),
        (["{empty}"], "holds no *.xml files"),
        (["{results}", "--max-text", "10"], "--max-text 10 is too small"),
        (["{results}", "-o", "{results}"], "is a directory"),
        (
            [
                "{results}/results-py311/cells/py311/junit.xml",
                "-o",
                "{results}/results-py311/cells/py311/junit.xml",
            ],
            "is also an input; write the merged file elsewhere",
        ),
    ],
)
def test_usage_errors_exit_4_with_one_line(
    results: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    (tmp_path / "empty").mkdir()
    values = {"results": str(results), "empty": str(tmp_path / "empty"), "tmp": str(tmp_path)}
    argv = ["merge", *(arg.format(**values) for arg in args)]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / "merged.xml")]
    assert main(argv) == ExitCode.USAGE_ERROR
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert message in err


def test_missing_output_option_and_unwritable_output_exit_4(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["merge", str(results)]) == ExitCode.USAGE_ERROR
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["merge", str(results), "-o", str(blocker / "merged.xml")]) == ExitCode.USAGE_ERROR
    assert f"cannot write -o {blocker / 'merged.xml'}" in capsys.readouterr().err


def test_options_cell_stage_name_and_globs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("a.xml", "b.xml"):
        (tmp_path / name).write_text(xml_suites(xml_suite(xml_case(f"t_{name}"))), encoding="utf-8")
    output = tmp_path / "out" / "merged.xml"
    code = main(
        ["merge", "*.xml", "-o", str(output), "--cell", "linux", "--default-stage", "smoke", "--name", "CI"]
    )
    assert code == ExitCode.OK
    text = output.read_text()
    assert '<testsuites name="CI"' in text
    assert '<testsuite name="linux: smoke" tests="2"' in text
    assert "merged 2 of 2 files" in capsys.readouterr().out


def test_console_script(results: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("pytest-pipeline")
    output = tmp_path / "merged.xml"
    result = subprocess.run(
        [str(script), "merge", str(results), "-o", str(output)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "4 tests in 2 cells" in result.stdout
