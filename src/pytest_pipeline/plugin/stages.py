"""Stage names on the command line: ``--stage=unit,smoke``, ``--stage=all``, repeatable.

Pure functions over the declared stage list; the plugin turns :class:`ConfigError`
into ``pytest.UsageError`` (exit 4).

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pytest_pipeline.errors import ConfigError

ALL = "all"

Source = Literal["hook", "marker", "path", "directory", "default"]
"""How a test got its stage, strongest first (the order in which they are tried)."""
SOURCES: tuple[Source, ...] = ("hook", "marker", "path", "directory", "default")


def parse_selection(values: Iterable[str] | None, known: Sequence[str]) -> tuple[str, ...] | None:
    """The selected stages in declared order, or None when ``--stage`` was not given.

    Each value may be a comma list; ``all`` selects every declared stage.
    """
    if values is None:
        return None
    values = list(values)
    if not values:
        return None
    chosen: set[str] = set()
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if not name:
                raise ConfigError(
                    f"--stage={value}: empty stage name; write --stage=unit or --stage=unit,smoke"
                )
            if name == ALL:
                chosen.update(known)
            elif name in known:
                chosen.add(name)
            else:
                raise ConfigError(
                    f"--stage={value}: unknown stage {name!r}; known stages: {', '.join(known)} (or {ALL})"
                )
    return tuple(name for name in known if name in chosen)


def describe_selection(selected: tuple[str, ...] | None, known: Sequence[str]) -> str:
    """``"unit, smoke"`` for a selection, ``"all"`` when every stage runs."""
    if selected is None or tuple(selected) == tuple(known):
        return ALL
    return ", ".join(selected)
