"""Values of JSON files another build may have written (``gate.json``, ``history.jsonl``).

Only their version is checked when they are read, so a report takes each value as
``object`` until it has checked its type: :func:`as_str`, :func:`as_list` and
:func:`as_dict` give the value when it has the type asked for, else an empty one, so a
malformed file shows less instead of stopping the report.
"""

from __future__ import annotations

from collections.abc import Mapping

JsonObject = Mapping[str, object]
"""A JSON object as read, its values not checked yet."""


def as_str(value: object) -> str:
    return value if isinstance(value, str) else ""


def as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def as_dict(value: object) -> JsonObject:
    return value if isinstance(value, Mapping) else {}
