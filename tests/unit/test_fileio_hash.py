"""fileio.sha256_file: the one file hash (artifacts, gate inputs, requirement files)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pytest_pipeline.fileio import sha256_file


def test_sha256_file_reads_in_blocks_and_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 8193  # a little over two 1 MiB blocks
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()
