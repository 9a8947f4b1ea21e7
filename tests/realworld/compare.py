"""One cell's comparison (verdict, counts, distributions), the table of a run, and its JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from realworld.corpus import Case
from realworld.reading import COUNTS_LEGEND
from realworld.sides import Side


@dataclass(frozen=True)
class Comparison:
    case: Case
    reference: Side
    """tox's (or nox's) side: the truth."""
    ours: Side

    @property
    def verdict_agrees(self) -> bool:
        return self.reference.ok == self.ours.ok

    @property
    def counts_agree(self) -> bool | None:
        """None where the env runs no pytest (nothing to compare)."""
        if not self.case.env.runs_pytest:
            return None
        ref, ours = self.reference.counts, self.ours.counts
        return ref is not None and ours is not None and ref.comparable() == ours.comparable()

    def package_differences(self) -> tuple[list[str], list[str]]:
        """(only in the reference's environment, only in ours) as ``name==version``; ours
        missing altogether is everything only on the reference side."""
        ref = {f"{name}=={version}" for name, version in (self.reference.packages or {}).items()}
        ours = {f"{name}=={version}" for name, version in (self.ours.packages or {}).items()}
        return sorted(ref - ours), sorted(ours - ref)

    @property
    def packages_agree(self) -> bool:
        return self.ours.packages is not None and self.package_differences() == ([], [])

    @property
    def agrees(self) -> bool:
        return self.verdict_agrees and self.counts_agree is not False and self.packages_agree

    def explain(self) -> str:
        """Every difference, one per line (empty when the cell agrees)."""
        tool, ref = self.case.project.tool, self.reference
        lines = []
        if not self.verdict_agrees:
            lines.append(f"verdict: {tool} {ref.verdict} ({ref.detail}); ours {self.ours.verdict}")
            if self.ours.detail:
                lines.append(f"  ours: {self.ours.detail}")
        if self.counts_agree is False:
            lines.append(f"counts: {tool} {_counts(self.reference)}; ours {_counts(self.ours)}")
        if not self.packages_agree:
            if self.ours.packages is None:
                lines.append("packages: our cell has no environment to list")
            else:
                only_ref, only_ours = self.package_differences()
                lines.append(f"packages: only in {tool}'s env: {', '.join(only_ref) or '-'}")
                lines.append(f"          only in ours: {', '.join(only_ours) or '-'}")
        if lines:
            lines.append(f"logs: {self.reference.log}  {self.ours.log}")
        return "\n".join(f"{self.case.id}: {line}" for line in lines)

    def to_dict(self) -> dict[str, Any]:
        only_ref, only_ours = self.package_differences()
        return {
            "project": self.case.project.name,
            "version": self.case.project.version,
            "cell": self.case.env.name,
            "tool": self.case.project.tool,
            "runs_pytest": self.case.env.runs_pytest,
            "reference": _side_dict(self.reference),
            "ours": _side_dict(self.ours),
            "agree": {
                "verdict": self.verdict_agrees,
                "counts": self.counts_agree,
                "packages": self.packages_agree,
                "all": self.agrees,
            },
            "packages_only_in_reference": only_ref,
            "packages_only_in_ours": only_ours,
        }


def _side_dict(side: Side) -> dict[str, Any]:
    return {
        "verdict": side.verdict,
        "ok": side.ok,
        "counts": side.counts.to_dict() if side.counts else None,
        "packages": side.packages,
        "detail": side.detail,
        "log": str(side.log),
    }


def _counts(side: Side) -> str:
    return str(side.counts) if side.counts is not None else "none"


def _result(comparison: Comparison, side: Side) -> str:
    verdict = ("OK" if side.ok else "FAIL") if side is comparison.reference else side.verdict
    counts = _counts(side) if comparison.case.env.runs_pytest else "(no pytest)"
    return f"{verdict} {counts}"


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "NO")


def totals(comparisons: Sequence[Comparison]) -> dict[str, int]:
    with_counts = [c for c in comparisons if c.counts_agree is not None]
    return {
        "cells": len(comparisons),
        "agree": sum(c.agrees for c in comparisons),
        "verdict": sum(c.verdict_agrees for c in comparisons),
        "counts": sum(bool(c.counts_agree) for c in with_counts),
        "counts_compared": len(with_counts),
        "packages": sum(c.packages_agree for c in comparisons),
    }


def table(comparisons: Sequence[Comparison]) -> str:
    """One line per cell, then the totals line and the legend; plain text."""
    header = ("project", "cell", "tox/nox", "ours", "verdict", "counts", "packages")
    rows = [header] + [
        (
            c.case.project.name,
            c.case.env.name,
            _result(c, c.reference),
            _result(c, c.ours),
            _yes(c.verdict_agrees),
            _yes(c.counts_agree),
            _yes(c.packages_agree),
        )
        for c in comparisons
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    sums = totals(comparisons)
    lines.append(
        f"{sums['cells']} cells: {sums['agree']} agree in all; verdict {sums['verdict']}/{sums['cells']},"
        f" counts {sums['counts']}/{sums['counts_compared']}, packages {sums['packages']}/{sums['cells']}"
    )
    lines.append(f"({COUNTS_LEGEND}; ours: the cell's status in run.json)")
    return "\n".join(lines)


@dataclass
class Results:
    """The comparisons of a run so far, and the cases that could not be compared."""

    comparisons: list[Comparison] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def all_agree(self) -> bool:
        return not self.errors and all(comparison.agrees for comparison in self.comparisons)

    def text(self) -> str:
        """The table, then every difference and every case not compared."""
        lines = [table(self.comparisons)]
        lines += [comparison.explain() for comparison in self.comparisons if not comparison.agrees]
        lines += [f"NOT COMPARED: {error}" for error in self.errors]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every cell, the totals, and the cases not compared."""
        return {
            "cells": [comparison.to_dict() for comparison in self.comparisons],
            "totals": totals(self.comparisons),
            "not_compared": list(self.errors),
        }
