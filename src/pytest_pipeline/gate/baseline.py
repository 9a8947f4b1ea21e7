"""Compare with an earlier ``gate.json``: new failures, fixed tests, still-failing tests.

A test is identified by its cell and its ``classname::name`` id: the same test failing
in another cell is a new failure there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_pipeline.results import TestRef

Key = tuple[str, str]


def key(ref: TestRef) -> Key:
    return (ref.cell, ref.test_id)


@dataclass(frozen=True)
class Baseline:
    source: str
    failing: frozenset[Key]
    cells: frozenset[str]
    """Cells that reported in the baseline run."""
    commit: str | None = None

    def has(self, ref: TestRef) -> bool:
        return key(ref) in self.failing


@dataclass(frozen=True)
class BaselineDiff:
    source: str
    commit: str | None
    new_failures: tuple[TestRef, ...]
    still_failing: tuple[TestRef, ...]
    fixed: tuple[Key, ...]
    """Failing in the baseline, not failing now in a cell that reported now."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "commit": self.commit,
            "new_failures": [ref.to_dict() for ref in self.new_failures],
            "still_failing": [ref.to_dict() for ref in self.still_failing],
            "fixed": [{"cell": cell, "id": test_id} for cell, test_id in self.fixed],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaselineDiff:
        return cls(
            source=str(data["source"]),
            commit=data.get("commit"),
            new_failures=tuple(TestRef.from_dict(ref) for ref in data.get("new_failures") or ()),
            still_failing=tuple(TestRef.from_dict(ref) for ref in data.get("still_failing") or ()),
            fixed=tuple((str(item["cell"]), str(item["id"])) for item in data.get("fixed") or ()),
        )


def diff(baseline: Baseline, failures: Iterable[TestRef], reported_cells: Iterable[str]) -> BaselineDiff:
    new: list[TestRef] = []
    still: list[TestRef] = []
    now: set[Key] = set()
    for ref in failures:
        now.add(key(ref))
        (still if baseline.has(ref) else new).append(ref)
    reported = set(reported_cells)
    fixed = tuple(sorted(k for k in baseline.failing if k not in now and k[0] in reported))
    return BaselineDiff(baseline.source, baseline.commit, tuple(new), tuple(still), fixed)
