"""``expand_inputs``: files, globs and folders from a command line -> the files to read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.junit import expand_inputs


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for relative in ("a/cells/py311/junit.xml", "a/cells/py312/junit.xml", "b/x.xml", "b/notes.txt", "c.xml"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<testsuites/>")
    return tmp_path


def test_folders_globs_and_files_sorted_and_deduplicated(tree: Path) -> None:
    found = expand_inputs(
        [str(tree / "c.xml"), str(tree / "a"), str(tree / "**" / "junit.xml"), str(tree / "b")]
    )
    assert [path.relative_to(tree).as_posix() for path in found] == [
        "a/cells/py311/junit.xml",
        "a/cells/py312/junit.xml",
        "b/x.xml",
        "c.xml",
    ]


def test_a_glob_matching_a_folder_takes_its_xml_files(tree: Path) -> None:
    found = expand_inputs([str(tree / "?")])
    assert [path.name for path in found] == ["junit.xml", "junit.xml", "x.xml"]


def test_same_file_through_relative_and_absolute_paths_is_read_once(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    assert len(expand_inputs(["c.xml", str(tree / "c.xml"), "./c.xml"])) == 1


def test_a_missing_plain_file_is_kept_for_the_reader_to_report(tree: Path) -> None:
    assert expand_inputs([str(tree / "missing.xml")]) == [tree / "missing.xml"]


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("nothing-*.xml", "matched no files"),
        ("b/*.json", "matched no files"),
        ("empty", "holds no *.xml files"),
    ],
)
def test_empty_patterns_and_folders_are_usage_errors_naming_them(
    tree: Path, monkeypatch: pytest.MonkeyPatch, arg: str, message: str
) -> None:
    monkeypatch.chdir(tree)
    (tree / "empty").mkdir()
    with pytest.raises(PipelineError, match=re.escape(message)) as info:
        expand_inputs(["c.xml", arg])
    assert info.value.code is ExitCode.USAGE_ERROR
    assert repr(arg) in info.value.message


def test_no_arguments_is_a_usage_error() -> None:
    with pytest.raises(PipelineError, match="no input files"):
        expand_inputs([])
