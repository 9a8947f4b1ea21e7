"""The quarantine file: known-flaky tests whose failures are reported but don't close the gate.

```toml
[[quarantine]]
id = "tests.integration.test_api::test_upload*"   # glob of classname::name (or path::name)
reason = "upstream sandbox times out, see #123"
expires = 2026-12-31                              # a TOML date; the last day it applies
cells = ["py312-*"]                               # optional: only in these cells
```

An entry is a promise with a date on it: after ``expires`` it stops applying, the
failures it covered count again, and the stale entry is itself reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pytest_pipeline import globs
from pytest_pipeline.config import Table, read_toml
from pytest_pipeline.errors import ConfigError
from pytest_pipeline.results import TestRef


@dataclass(frozen=True)
class QuarantineEntry:
    id: str
    reason: str
    expires: dt.date
    cells: tuple[str, ...] = ()
    """Cell globs the entry applies in; empty means every cell."""

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def matches(self, ref: TestRef) -> bool:
        if self.cells and not globs.matches_any_name(self.cells, ref.cell):
            return False
        if globs.matches_name(self.id, ref.test_id):
            return True
        # People think in pytest node ids (tests/test_x.py::test_a); JUnit has the file.
        return ref.file is not None and globs.matches_name(self.id, f"{ref.file}::{ref.name}")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "reason": self.reason, "expires": self.expires.isoformat()}
        if self.cells:
            data["cells"] = list(self.cells)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuarantineEntry:
        return cls(
            id=str(data["id"]),
            reason=str(data["reason"]),
            expires=dt.date.fromisoformat(data["expires"]),
            cells=tuple(str(cell) for cell in data.get("cells") or ()),
        )


@dataclass(frozen=True)
class Match:
    """What the quarantine says about one failing test."""

    active: QuarantineEntry | None
    expired: QuarantineEntry | None


def find(entries: tuple[QuarantineEntry, ...], ref: TestRef, today: dt.date) -> Match:
    """The first active entry covering ``ref``, else the first expired one, if any."""
    active = expired = None
    for entry in entries:
        if not entry.matches(ref):
            continue
        if not entry.expired(today):
            active = entry
            break
        if expired is None:
            expired = entry
    return Match(active=active, expired=None if active else expired)


def load(path: Path) -> tuple[QuarantineEntry, ...]:
    """Read and check a quarantine file; every error names the file, the entry and the fix."""
    if not path.is_file():
        raise ConfigError(f"quarantine file {path} does not exist; create it or fix the 'quarantine' path")
    data = read_toml(path)
    top = Table(data, "", str(path))
    raw_entries = top.get("quarantine", list, [])
    top._seen.add("quarantine")
    unknown = sorted(set(data) - {"quarantine"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key {unknown[0]!r}; write entries as [[quarantine]] tables"
        )
    entries = []
    for index, raw in enumerate(raw_entries, start=1):
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: quarantine entry {index} must be a table ([[quarantine]])")
        entries.append(_entry(Table(raw, f"quarantine #{index}", str(path))))
    return tuple(entries)


def _entry(table: Table) -> QuarantineEntry:
    test_id = table.get("id", str, "").strip()
    if not test_id:
        raise ConfigError(f"{table.where('id')}: required; the test id glob, e.g. 'tests.test_x::test_y*'")
    if not test_id.strip("*?:/. "):
        raise ConfigError(
            f"{table.where('id')}: {test_id!r} would quarantine every test; name the tests, "
            "e.g. 'tests.test_x::test_y*'"
        )
    reason = table.get("reason", str, "").strip()
    if not reason:
        raise ConfigError(
            f"{table.where('reason')}: required; say why the test is quarantined (an issue link)"
        )
    raw: object = table.get("expires", (dt.date, str), cast(object, None))
    if raw is None:
        raise ConfigError(
            f"{table.where('expires')}: required; a date such as 2026-12-31 after which it counts again"
        )
    if isinstance(raw, dt.datetime):  # a TOML datetime is a date too: keep its day
        expires = raw.date()
    elif isinstance(raw, dt.date):
        expires = raw
    else:
        try:
            expires = dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ConfigError(
                f"{table.where('expires')}: {raw!r} is not a date; write 2026-12-31 (a TOML date)"
            ) from None
    cells = table.get_str_list("cells")
    table.done()
    return QuarantineEntry(id=test_id, reason=reason, expires=expires, cells=cells)
