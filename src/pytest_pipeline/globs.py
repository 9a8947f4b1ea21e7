"""Globs, one dialect per kind of setting, each a named function.

Three dialects, and which setting uses which:

- :func:`matches_name` (``*`` and ``?`` only, ``[`` means itself): what the gate matches
  against names it did not choose. ``required-cells``, the quarantine file's ``id`` and
  ``cells``, ``publish-branches`` and ``--allow-branch``, and the gate's reading of
  ``[tool.pytest-pipeline.stage.<name>] cells`` for result files without a run record.
  ``[`` is everywhere in parametrized test ids (``test_add[1-2]``), so a quarantine id
  copied from a report must match that very test, not a character class.
- :func:`fnmatch` (the shell's ``*``, ``?`` and ``[...]`` classes, case-sensitive): how
  the matrix picks cells, as tox's ``-e`` users expect. ``-e``/``run.cells``,
  ``include``/``exclude`` and, when the plan is made,
  ``[tool.pytest-pipeline.stage.<name>] cells``.
- :func:`path_glob` (``**`` spans folders, ``*``/``?`` stay in one, ``[...]`` classes):
  the path rules of ``[tool.pytest-pipeline.paths]``, which name test files.

``stage.<name>.cells`` is read in two dialects: by :func:`fnmatch` when the plan assigns
stages to cells and by :func:`matches_name` when the gate checks result files. They
differ only for a pattern with ``[``.

PYTEST_DONT_REWRITE: the pytest plugin loads :mod:`pytest_pipeline.config`, which uses
:func:`path_glob`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

from pytest_pipeline.errors import ConfigError

_SHELL_MAGIC = re.compile(r"[*?\[]")


# --------------------------------------------------------------------------- names, literal brackets


@functools.lru_cache(maxsize=1024)
def name_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` in the :func:`matches_name` dialect, as a regular expression."""
    parts: list[str] = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def matches_name(pattern: str, name: str) -> bool:
    """``*`` and ``?`` are wildcards; every other character, ``[`` too, means itself."""
    return name_pattern(pattern).match(name) is not None


def matches_any_name(patterns: Iterable[str], name: str) -> bool:
    return any(matches_name(pattern, name) for pattern in patterns)


def is_literal_name(pattern: str) -> bool:
    """A :func:`matches_name` pattern without wildcards names exactly one thing."""
    return "*" not in pattern and "?" not in pattern


# --------------------------------------------------------------------------- the shell's dialect


def fnmatch(name: str, pattern: str) -> bool:
    """The shell's dialect, case-sensitive: ``*``, ``?``, ``[seq]`` and ``[!seq]``."""
    return fnmatchcase(name, pattern)


def is_fnmatch_glob(pattern: str) -> bool:
    """``pattern`` has a wildcard of the :func:`fnmatch` dialect (else it is a name)."""
    return _SHELL_MAGIC.search(pattern) is not None


# --------------------------------------------------------------------------- paths


def path_glob(pattern: str, where: str) -> re.Pattern[str]:
    """A path glob where ``**`` spans directories and ``*``/``?`` stay inside one.

    A pattern naming a directory (``tests/e2e`` or ``tests/e2e/``) also matches
    everything below it, which is what people mean by it. ``where`` names the setting
    in the one-line error a malformed pattern gets.
    """
    text = pattern.strip().replace("\\", "/")
    if not text or text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise ConfigError(f"{where}: path rule {pattern!r} must be a relative glob such as 'tests/e2e/**'")
    if text.count("[") != text.count("]"):
        raise ConfigError(f"{where}: path rule {pattern!r} has an unbalanced '[': close it or remove it")
    text = text.removeprefix("./").rstrip("/")
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        elif text[i] == "[":
            end = text.index("]", i)
            body = text[i + 1 : end]
            if not body:
                raise ConfigError(f"{where}: path rule {pattern!r} has an empty '[]'")
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    try:
        return re.compile("".join(out) + "(?:/.*)?$")
    except re.error as exc:
        raise ConfigError(f"{where}: path rule {pattern!r} is malformed ({exc})") from None
