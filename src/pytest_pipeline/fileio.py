"""Atomic file writes (a reader sees the old file or the new one, never half of one),
the one way a file's sha256 is computed (artifacts, gate inputs, requirement files), and
how a path is shown to the user.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

# mkstemp creates files readable by their owner only; reports and gate.json should get
# the usual permissions, so apply the process umask the way open() would. Read once, at
# import, because reading it means setting it.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@overload
@contextlib.contextmanager
def atomic_writer(path: Path, mode: Literal["w"] = "w", encoding: str = "utf-8") -> Iterator[IO[str]]: ...
@overload
@contextlib.contextmanager
def atomic_writer(path: Path, mode: Literal["wb"], encoding: None = None) -> Iterator[IO[bytes]]: ...


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it over ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        if hasattr(os, "fchmod"):  # not on Windows before 3.13
            os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def copy_atomic(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` atomically: a full disk leaves no half a wheel."""
    with source.open("rb") as data, atomic_writer(target, "wb") as out:
        shutil.copyfileobj(data, out)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_writer(path) as handle:
        handle.write(text)


def write_json_atomic(path: Path, data: Any) -> None:
    import json  # here: most commands that write a file write no JSON (merge)

    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""No space left, over quota, over the file size limit: nothing more can be written there."""


def disk_full(error: BaseException) -> OSError | None:
    """The "no space left" error behind ``error`` (itself, or what it was raised from
    or while handling; the first one that names its file), or None when it is not
    about a full disk."""
    seen: set[int] = set()
    found: list[OSError] = []
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL:
            found.append(current)
        current = current.__cause__ or current.__context__
    named = [full for full in found if full.filename]
    return (named or found)[0] if found else None


def describe_disk_full(error: OSError) -> str:
    """``No space left on device (errno 28, ENOSPC)``: the words and the number to search for."""
    number = error.errno or 0
    name = errno.errorcode.get(number, "?")
    return f"{error.strerror or os.strerror(number)} (errno {number}, {name})"


def sha256_file(path: Path) -> str:
    """Hex sha256 of ``path``, read in 1 MiB blocks (a wheel or sdist need not fit in memory)."""
    import hashlib  # here: loading OpenSSL costs every command (and every pytest run) ~2 ms

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def relative_to_cwd(path: Path) -> Path:
    """``path`` relative to the current directory when it is below it (shorter to read,
    and what the user would type), else ``path`` as it is."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return path


def ignore_in_git(folder: Path) -> None:
    """A ``.gitignore`` of ``*`` in a folder of tool output (as ``.pytest_cache`` and
    ``.tox`` have), so it never shows in the project's ``git status``."""
    marker = folder / ".gitignore"
    if not marker.exists():
        with contextlib.suppress(OSError):
            marker.write_text("# Created by pytest-pipeline automatically.\n*\n", encoding="utf-8")
