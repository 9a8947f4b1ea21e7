"""Every pytest session of a cell ends up in its one JUnit file."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from pytest_pipeline.runner import cell_junit


def session(folder: Path, name: str, text: str, mtime: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    os.utime(folder / name, (mtime, mtime))


def test_one_session_becomes_the_file(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    sessions = cell_junit.sessions_dir(junit)
    session(sessions, "pytest-1.xml", "<testsuite tests='1'/>", 1)
    assert cell_junit.collect(sessions, junit) == []
    assert junit.read_text() == "<testsuite tests='1'/>"
    assert not sessions.exists()


def test_several_sessions_are_joined_in_order(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    sessions = cell_junit.sessions_dir(junit)
    session(
        sessions, "b.xml", "<testsuites><testsuite name='second' tests='2' failures='1'/></testsuites>", 2
    )
    session(sessions, "a.xml", "<testsuite name='first' tests='3' skipped='1'/>", 1)
    assert cell_junit.collect(sessions, junit) == []
    root = ET.parse(junit).getroot()
    assert [suite.get("name") for suite in root] == ["first", "second"]
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "1", "1")


def test_a_broken_session_is_kept_and_named(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    sessions = cell_junit.sessions_dir(junit)
    session(sessions, "a.xml", "<testsuite name='ok' tests='1'/>", 1)
    session(sessions, "b.xml", "<testsuite name='cut", 2)
    assert cell_junit.collect(sessions, junit) == ["junit-broken-b.xml"]
    assert (tmp_path / "junit-broken-b.xml").read_text() == "<testsuite name='cut"
    assert [suite.get("name") for suite in ET.parse(junit).getroot()] == ["ok"]


def test_no_sessions_no_file(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    assert cell_junit.collect(cell_junit.sessions_dir(junit), junit) == []
    assert not junit.exists()
    events = tmp_path / "events.jsonl"
    assert not cell_junit.plugin_reported(events)
    events.write_text('{"event":"collected"}\n')
    assert cell_junit.plugin_reported(events)
