"""What ``pytest-pipeline status`` says: the last verdict, its commit and time, each cell's
result, and the last commit whose gate opened (from ``history.jsonl``).

:func:`gather` reads the files; :func:`to_json` and :func:`render_text` are pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate import history
from pytest_pipeline.results import RunRecord

STATUS_JSON_VERSION = 1
COUNT_WORDS = (
    ("failed", "failed"),
    ("errors", "errors"),
    ("blocked", "blocked"),
    ("passed", "passed"),
    ("skipped", "skipped"),
)


@dataclass
class Status:
    reports: Path
    gate: Mapping[str, Any] | None = None
    run: RunRecord | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    head: str | None = None
    """The commit checked out now (None outside git)."""
    problems: list[str] = field(default_factory=list)
    unfinished: bool = False
    """The folder has a history but neither gate.json nor run.json: a run cleared them
    when it started and never wrote new ones (killed, or still running)."""
    unfinished_why: str | None = None
    """What the run's lock says about it (killed, still running, stopped on an error)."""

    @property
    def code(self) -> int:
        """The last gate's code; 3 (incomplete) when there is no readable verdict."""
        code = self.gate.get("code") if self.gate else None
        if isinstance(code, int) and not isinstance(code, bool):
            return code
        return int(ExitCode.INCOMPLETE)

    @property
    def commit(self) -> str | None:
        value = _git(self.gate).get("commit")
        return value if isinstance(value, str) else None

    @property
    def last_open(self) -> dict[str, Any] | None:
        return history.last_open(self.entries)

    def cells(self) -> list[dict[str, Any]]:
        """Each cell of the last run with its status and counts, in run order."""
        counts = _mapping(_mapping((self.gate or {}).get("counts")).get("cells"))
        rows: list[dict[str, Any]] = []
        if self.run is not None:
            for cell in self.run.cells:
                rows.append(
                    {
                        "name": cell.name,
                        "status": cell.status.value,
                        "python": cell.python,
                        "factors": dict(cell.factors),
                        "duration": round(cell.duration, 3),
                        "exit_code": cell.exit_code,
                        "counts": _counts_or_none(counts.get(cell.name)),
                    }
                )
            return rows
        for item in (self.gate or {}).get("cells") or ():
            if isinstance(item, Mapping) and isinstance(item.get("name"), str):
                rows.append(
                    {
                        "name": item["name"],
                        "status": item.get("status"),
                        "python": None,
                        "factors": {},
                        "duration": None,
                        "exit_code": None,
                        "counts": _counts_or_none(counts.get(item["name"])),
                    }
                )
        return rows


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _git(gate: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _mapping((gate or {}).get("git"))


def _counts_or_none(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def gather(reports: Path, *, head: str | None = None) -> Status:
    """Read ``gate.json``, ``run.json`` and ``history.jsonl`` of the reports folder."""
    from pytest_pipeline.gate import gatefile

    status = Status(reports=reports, head=head)
    gate_path = reports / gatefile.GATE_FILE_NAME
    if gate_path.is_file():
        try:
            status.gate = gatefile.read(gate_path).to_dict()
        except gatefile.GateFileError as exc:
            status.problems.append(str(exc))
    run_path = reports / "run.json"
    if run_path.is_file():
        try:
            status.run = RunRecord.read(run_path)
        except (OSError, ValueError) as exc:
            status.problems.append(f"{run_path}: not a readable run record ({str(exc)[:200]})")
    status.entries = history.read(reports / history.HISTORY_NAME)
    if not gate_path.exists() and not run_path.exists() and status.entries:
        from pytest_pipeline.runner.outputs import unfinished_run

        status.unfinished = True
        status.unfinished_why = unfinished_run(reports)
    return status


def unfinished_message(status: Status) -> str:
    """The last run did not finish: in its lock's words when it left them."""
    if status.unfinished_why:
        return f"the last run in {status.reports} did not finish: {status.unfinished_why}"
    return (
        f"the last run in {status.reports} did not finish (no gate.json or run.json: it was killed, "
        "or is still running)"
    )


def _short(commit: object) -> str:
    return str(commit)[:12] if commit else "(no commit)"


def _when(value: object, now: dt.datetime) -> str:
    text = str(value or "")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text or "(unknown time)"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    moment = moment.astimezone(dt.timezone.utc)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({_ago(now - moment)})"


def _ago(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "in the future"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def describe_counts(counts: Mapping[str, Any] | None) -> str:
    if not counts:
        return "no results"
    parts = [f"{counts.get(key)} {word}" for key, word in COUNT_WORDS if counts.get(key)]
    text = ", ".join(parts) or "no tests"
    if counts.get("flaky"):
        text += f" ({counts['flaky']} flaky)"
    return text


def _commit_line(git: Mapping[str, Any], head: str | None) -> str:
    commit = git.get("commit")
    text = _short(commit)
    if git.get("branch"):
        text += f" on {git['branch']}"
    if "dirty" in git:
        text += ", uncommitted changes" if git.get("dirty") else ", clean tree"
    if head and commit and head != commit:
        text += f" (HEAD is now {_short(head)}: these results are of another commit)"
    return text


def _history_line(status: Status, now: dt.datetime) -> str:
    last = status.last_open
    where = status.reports / history.HISTORY_NAME
    if last is None:
        recorded = len(status.entries)
        return f"last open gate: none in {where} ({recorded} verdict{'s' if recorded != 1 else ''} recorded)"
    index = max(i for i, item in enumerate(status.entries) if item is last)
    since = len(status.entries) - 1 - index
    text = f"last open gate: {_short(last.get('commit'))}"
    if last.get("branch"):
        text += f" on {last['branch']}"
    text += f", decided {_when(last.get('decided'), now)}"
    gate = status.gate or {}
    if since == 0 and gate.get("verdict") == "open" and last.get("decided") == gate.get("finished"):
        return text + " (the verdict above)"
    return text + f" ({since} verdict{'s' if since != 1 else ''} ago)"


def _recorded_line(entry: Mapping[str, Any], now: dt.datetime) -> str:
    """One history entry: ``GATE OPEN (0) (1a2b3c4d5e6f on main, decided ...)``."""
    where = _short(entry.get("commit"))
    if entry.get("branch"):
        where += f" on {entry['branch']}"
    headline = entry.get("headline") or f"gate {entry.get('verdict')} ({entry.get('code')})"
    return f"{headline} ({where}, decided {_when(entry.get('decided'), now)})"


def render_text(status: Status, *, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    gate = status.gate
    lines: list[str] = []
    if gate is not None:
        lines.append(str(gate.get("headline") or f"gate {gate.get('verdict')} ({gate.get('code')})"))
        lines.append(f"  commit  {_commit_line(_git(gate), status.head)}")
        lines.append(f"  gate    decided {_when(gate.get('finished'), now)}")
    elif status.unfinished:
        lines.append(f"no verdict: {unfinished_message(status)}")
        lines.append(f"  last recorded verdict: {_recorded_line(status.entries[-1], now)}")
    else:
        lines.append(f"no verdict: {status.reports / 'gate.json'} is missing or unreadable")
    if status.run is not None and (status.run.started or status.run.finished):
        text = f"  run     {_when(status.run.started, now)}"
        if status.run.interrupted:
            text += ", interrupted"
        lines.append(text)
    cells = status.cells()
    if cells:
        tally: dict[str, int] = {}
        for cell in cells:
            tally[str(cell["status"])] = tally.get(str(cell["status"]), 0) + 1
        lines.append(f"  cells   {len(cells)}: " + ", ".join(f"{n} {state}" for state, n in tally.items()))
        lines.append("")
        rows = [("cell", "status", "tests", "time")]
        for cell in cells:
            duration = cell["duration"]
            rows.append(
                (
                    str(cell["name"]),
                    str(cell["status"]),
                    describe_counts(cell["counts"]),
                    f"{duration:.2f}s" if duration else "",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    lines.append("")
    lines.append(_history_line(status, now))
    for problem in status.problems:
        lines.append(f"problem: {problem}")
    return "\n".join(lines) + "\n"


def to_json(status: Status) -> dict[str, Any]:
    """``status --format json`` (``version`` 1; keys are only ever added)."""
    gate = status.gate or {}
    git = _git(gate)
    commit = status.commit
    run = status.run
    return {
        "version": STATUS_JSON_VERSION,
        "reports_dir": str(status.reports),
        "verdict": gate.get("verdict"),
        "code": status.code,
        "headline": gate.get("headline"),
        "decided": gate.get("finished"),
        "commit": commit,
        "branch": git.get("branch"),
        "dirty": git.get("dirty"),
        "head": status.head,
        "head_matches": (status.head == commit) if status.head and commit else None,
        "run": (
            {"started": run.started, "finished": run.finished, "interrupted": run.interrupted}
            if run is not None
            else None
        ),
        "cells": status.cells(),
        "last_open": status.last_open,
        "last_recorded": status.entries[-1] if status.entries else None,
        "history_entries": len(status.entries),
        "problems": [*status.problems, *([unfinished_message(status)] if status.unfinished else [])],
    }
