"""Command-line arguments (files, globs, directories) -> the result files to read."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode

_GLOB_CHARS = frozenset("*?[")


def resolves_to(path: Path, target: Path, target_stat: os.stat_result | None) -> bool:
    """``path.resolve() == target``, for ``target`` resolved and ``target_stat`` its
    ``stat()`` (None when it does not exist), mostly without resolving ``path`` (a
    system call per folder of the path): paths that resolve alike are the same file,
    so a path that exists is ``target`` only if ``target`` exists and is that file."""
    try:
        stat = path.stat()
    except OSError:
        return path.resolve() == target  # missing or dangling: only its spelling can tell
    if target_stat is None or (stat.st_dev, stat.st_ino) != (target_stat.st_dev, target_stat.st_ino):
        return False
    return path.resolve() == target  # the same file; a hard link is another path


def stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _xml_files(folder: Path) -> list[Path]:
    # Every *.xml that is not a folder: a dangling link or a FIFO is reported by the
    # reader (code 3), never skipped, or a broken download would make a cell vanish.
    return [path for path in folder.rglob("*.xml") if not path.is_dir()]


def expand_inputs(args: Sequence[str | Path]) -> list[Path]:
    """Files as given, globs expanded (``**`` included), directories searched for
    ``*.xml`` recursively; sorted and de-duplicated.

    A glob matching nothing, or a directory without any ``*.xml``, is a usage error
    naming it: a CI step that downloads nothing must not merge "nothing" into success.
    A plain file name is kept even if it does not exist: reading it then reports it
    as a problem (code 3), like any other result that is missing.
    """
    if not args:
        raise PipelineError(
            "no input files given; pass JUnit XML files, globs or directories", ExitCode.USAGE_ERROR
        )
    found: dict[str, Path] = {}
    for arg in args:
        text = str(arg)
        paths: list[Path]
        if _GLOB_CHARS.intersection(text) and not Path(text).exists():
            import glob  # here: patterns are rare on a command line (the shell expands most)

            paths = []
            for match in glob.glob(text, recursive=True):
                path = Path(match)
                paths.extend(_xml_files(path) if path.is_dir() else [path])
            if not paths:
                raise PipelineError(
                    f"{text!r} matched no files; check the pattern (quote it so the shell leaves it alone)",
                    ExitCode.USAGE_ERROR,
                )
        elif Path(text).is_dir():
            paths = _xml_files(Path(text))
            if not paths:
                raise PipelineError(
                    f"directory {text!r} holds no *.xml files; pass the folder the JUnit files are in",
                    ExitCode.USAGE_ERROR,
                )
        else:
            paths = [Path(text)]
        for path in paths:
            found.setdefault(str(path.resolve()), path)
    return sorted(found.values(), key=str)
