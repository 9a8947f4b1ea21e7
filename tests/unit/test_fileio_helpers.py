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


def test_a_full_disk_is_found_behind_other_errors_and_named() -> None:
    import errno

    from pytest_pipeline.fileio import describe_disk_full, disk_full

    named = OSError(errno.ENOSPC, "No space left on device", "reports/log.txt")
    outer = OSError(errno.ENOSPC, "No space left on device")  # a close() while it propagated
    outer.__context__ = named
    assert disk_full(outer) is named  # the one that names its file
    assert disk_full(RuntimeError("x")) is None
    assert disk_full(OSError(errno.EACCES, "Permission denied")) is None
    assert describe_disk_full(named) == "No space left on device (errno 28, ENOSPC)"
    quota = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert disk_full(quota) is quota


def test_copy_atomic_leaves_no_half_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import shutil

    from pytest_pipeline import fileio

    source = tmp_path / "a.whl"
    source.write_bytes(b"x" * 1000)
    fileio.copy_atomic(source, tmp_path / "dist" / "a.whl")
    assert (tmp_path / "dist" / "a.whl").read_bytes() == b"x" * 1000

    def full(data: object, out: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", full)
    with pytest.raises(OSError, match="No space left"):
        fileio.copy_atomic(source, tmp_path / "b.whl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.whl", "dist"]
