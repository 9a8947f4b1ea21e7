"""fileio.sha256_file (the one file hash) and relative_to_cwd (the one way a path is shown)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pytest_pipeline.fileio import relative_to_cwd, sha256_file


def test_sha256_file_reads_in_blocks_and_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 8193  # a little over two 1 MiB blocks
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()


def test_relative_to_cwd_only_below_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    assert relative_to_cwd(tmp_path / "project" / "pipeline-reports" / "gate.json") == Path(
        "pipeline-reports/gate.json"
    )
    assert relative_to_cwd(Path("pipeline-reports")) == Path("pipeline-reports")
    outside = tmp_path / "elsewhere" / "gate.json"
    assert relative_to_cwd(outside) == outside
