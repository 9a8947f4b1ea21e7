"""A cell's JUnit file, from the pytest sessions it ran.

A tox environment may run pytest more than once (``pytest tests/unit`` then ``pytest
--doctest-modules src``); tox counts them all, and so must the cell. Each session the
in-cell plugin sees leaves its file in a folder beside the cell's ``junit.xml``
(:func:`sessions_dir`); once the commands are done they become that one file: the only
one as it is, several as one ``<testsuites>`` holding every session's suites.
"""

from __future__ import annotations

import contextlib
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from pytest_pipeline.fileio import write_text_atomic


def sessions_dir(junit: Path) -> Path:
    return junit.with_name("pytest-sessions")


def plugin_reported(events: Path) -> bool:
    """Whether a pytest session of the cell loaded the in-cell plugin (it writes events)."""
    try:
        return events.stat().st_size > 0
    except OSError:
        return False


def collect(folder: Path, junit: Path) -> list[str]:
    """The session files of ``folder`` as ``junit`` (the folder is removed). Returns the
    names of session files that could not be read: kept beside ``junit``, and the cell
    cannot pass with them."""
    files = sorted(folder.glob("*.xml"), key=lambda path: path.stat().st_mtime_ns) if folder.is_dir() else []
    broken: list[str] = []
    try:
        if len(files) == 1:
            files[0].replace(junit)
        elif files:
            broken = _join(files, junit)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
    return broken


def _join(files: list[Path], junit: Path) -> list[str]:
    root = ET.Element("testsuites", name="pytest tests")
    broken: list[str] = []
    for path in files:
        try:
            tree = ET.parse(path).getroot()
        except (ET.ParseError, OSError):
            # A session that died mid-write: kept for a look, never counted as passing.
            kept = junit.with_name(f"{junit.stem}-broken-{path.stem}.xml")
            shutil.copyfile(path, kept)
            broken.append(kept.name)
            continue
        root.extend(tree.findall("testsuite") if tree.tag == "testsuites" else [tree])
    for name in ("tests", "failures", "errors", "skipped"):
        root.set(name, str(sum(int(suite.get(name) or 0) for suite in root)))
    write_text_atomic(junit, '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode"))
    return broken
