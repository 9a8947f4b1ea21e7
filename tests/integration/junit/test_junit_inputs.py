"""``expand_inputs``: files, globs and folders from a command line -> the files to read."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from junit_checks import xml_case, xml_suite, xml_suites

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.junit import expand_inputs, summarize


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


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_broken_entries_in_a_folder_are_read_and_reported_never_skipped(tmp_path: Path) -> None:
    """A dangling link, a FIFO (which would block an open() forever) and a device: each is
    one unreadable input (code 3), so a broken download cannot make a cell vanish."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "py312.xml").write_text(xml_suites(xml_suite(xml_case("t"))))
    (folder / "py311.xml").symlink_to(tmp_path / "gone.xml")
    os.mkfifo(folder / "py310.xml")
    (folder / "py39.xml").symlink_to("/dev/zero")
    found = expand_inputs([str(folder)])
    assert [path.name for path in found] == ["py310.xml", "py311.xml", "py312.xml", "py39.xml"]
    summary = summarize(found)
    problems = {Path(problem.path).name: problem.message for problem in summary.problems}
    assert problems == {
        "py310.xml": "not a regular file (a FIFO, device or socket); pass the JUnit file",
        "py311.xml": "cannot be read: No such file or directory",
        "py39.xml": "not a regular file (a FIFO, device or socket); pass the JUnit file",
    }
    assert summary.total().passed == 1


def test_duplicates_are_paths_that_resolve_alike_and_the_first_spelling_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # expand_inputs tells duplicates by stat and resolves only where that cannot tell:
    # it must keep exactly the paths a resolve() of every path keeps.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "x.xml").write_text("<testsuites/>")
    (tmp_path / "y.xml").write_text("<testsuites/>")
    os.link(tmp_path / "x.xml", tmp_path / "hard.xml")  # the same file, another path: kept
    (tmp_path / "link.xml").symlink_to(tmp_path / "x.xml")  # resolves to x.xml: a duplicate
    (tmp_path / "gone.xml").symlink_to(tmp_path / "nowhere.xml")  # dangling
    spellings = [
        ["link.xml", "x.xml", "hard.xml", "./x.xml", "d/../x.xml", "y.xml"],
        ["gone.xml", "nowhere.xml", "d/../nowhere.xml", "x.xml"],
        ["missing/../x.xml", "x.xml", "link.xml"],  # a missing folder that '..' leaves
    ]
    for args in spellings:
        reference: dict[str, str] = {}
        for arg in args:
            reference.setdefault(str(Path(arg).resolve()), arg)
        found = expand_inputs(args)
        assert [str(path) for path in found] == sorted(str(Path(arg)) for arg in reference.values()), args
