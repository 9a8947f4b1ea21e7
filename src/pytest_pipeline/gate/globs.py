"""Name globs for cells, tests and branches: ``*`` and ``?`` only.

``fnmatch`` would read ``[`` as a character class, but ``[`` is everywhere in
parametrized test ids (``test_add[1-2]``) and cell names stay literal too, so brackets
here always mean themselves.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=1024)
def compile_name_glob(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def matches(pattern: str, name: str) -> bool:
    return compile_name_glob(pattern).match(name) is not None


def matches_any(patterns: tuple[str, ...] | list[str], name: str) -> bool:
    return any(matches(pattern, name) for pattern in patterns)


def is_literal(pattern: str) -> bool:
    """A pattern without wildcards names exactly one thing."""
    return "*" not in pattern and "?" not in pattern
