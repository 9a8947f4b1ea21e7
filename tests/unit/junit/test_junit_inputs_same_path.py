"""inputs.resolves_to: ``path.resolve() == target``, answered by stat where it can."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_pipeline.junit.inputs import resolves_to


def answer(path: Path, target: Path) -> bool:
    stat = target.stat() if target.exists() else None
    return resolves_to(path, target.resolve(), stat)


@pytest.mark.parametrize("output_exists", [True, False])
def test_agrees_with_comparing_resolved_paths(tmp_path: Path, output_exists: bool) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / "merged.xml"
    if output_exists:
        output.write_text("<testsuites/>")
    other = tmp_path / "other.xml"
    other.write_text("<testsuites/>")
    (tmp_path / "link.xml").symlink_to(output)  # dangling while the output does not exist
    (tmp_path / "folder-link").symlink_to(folder, target_is_directory=True)
    candidates = [
        output,
        folder / ".." / "out" / "merged.xml",
        tmp_path / "link.xml",
        tmp_path / "folder-link" / "merged.xml",
        other,
        tmp_path / "missing.xml",
        folder,
    ]
    if output_exists:
        os.link(output, tmp_path / "hard.xml")  # the same file, another path: not the output
        candidates.append(tmp_path / "hard.xml")
    for path in candidates:
        assert answer(path, output) == (path.resolve() == output.resolve()), path
