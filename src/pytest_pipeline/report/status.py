"""What ``pytest-pipeline status`` says: the last verdict, its commit and time, each cell's
result, and the last commit whose gate opened (from ``history.jsonl``).

:func:`gather` reads the files; :func:`to_json` and :func:`render_text` are pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate import history
from pytest_pipeline.report.untrusted import JsonObject, as_dict, as_list
from pytest_pipeline.run_record import RunRecord, read_origin
from pytest_pipeline.runner.summary import format_seconds

if TYPE_CHECKING:
    from pytest_pipeline.runner.reuse import StoreContents

STATUS_JSON_VERSION = 1
COUNT_WORDS = (
    ("failed", "failed"),
    ("errors", "errors"),
    ("blocked", "blocked"),
    ("passed", "passed"),
    ("skipped", "skipped"),
)


class CellRow(TypedDict):
    """One cell as ``status`` shows it: from ``run.json``; without one, from ``gate.json``
    (then only its name and status, as that file says them)."""

    name: str
    status: object
    python: str | None
    factors: dict[str, str]
    duration: float | None
    exit_code: int | None
    counts: dict[str, object] | None
    """The cell's counts in ``gate.json`` (None without a readable gate file)."""
    reused_from: dict[str, str] | None
    """The earlier run whose results the cell reused (None: it ran)."""


class RunTimes(TypedDict):
    started: str | None
    finished: str | None
    interrupted: bool


class StatusJson(TypedDict):
    """``status --format json``, version :data:`STATUS_JSON_VERSION` (keys are only ever
    added). Values taken from ``gate.json`` as it says them are ``object``."""

    version: int
    reports_dir: str
    verdict: object
    code: int
    headline: object
    decided: object
    commit: str | None
    branch: object
    dirty: object
    head: str | None
    head_matches: bool | None
    run: RunTimes | None
    cells: list[CellRow]
    last_open: dict[str, Any] | None
    last_recorded: dict[str, Any] | None
    history_entries: int
    store: dict[str, Any] | None
    problems: list[str]


@dataclass
class Status:
    reports: Path
    gate: JsonObject | None = None
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
    store: StoreContents | None = None
    """What the project's result store holds (results ``run`` may reuse)."""

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

    def cells(self) -> list[CellRow]:
        """Each cell of the last run with its status and counts, in run order."""
        counts = as_dict(as_dict((self.gate or {}).get("counts")).get("cells"))
        rows: list[CellRow] = []
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
                        "reused_from": dict(cell.reused_from) if cell.reused_from is not None else None,
                    }
                )
            return rows
        for item in as_list((self.gate or {}).get("cells")):
            entry = as_dict(item)
            name = entry.get("name")
            if isinstance(name, str):
                rows.append(
                    {
                        "name": name,
                        "status": entry.get("status"),
                        "python": None,
                        "factors": {},
                        "duration": None,
                        "exit_code": None,
                        "counts": _counts_or_none(counts.get(name)),
                        "reused_from": read_origin(entry.get("reused_from")),
                    }
                )
        return rows


def _git(gate: JsonObject | None) -> JsonObject:
    return as_dict((gate or {}).get("git"))


def _counts_or_none(value: object) -> dict[str, object] | None:
    return dict(value) if isinstance(value, Mapping) else None


def gather(reports: Path, *, head: str | None = None, project: Path | None = None) -> Status:
    """Read ``gate.json``, ``run.json`` and ``history.jsonl`` of the reports folder, and
    what ``project``'s result store holds."""
    from pytest_pipeline.gate import gatefile
    from pytest_pipeline.runner import reuse

    status = Status(reports=reports, head=head)
    if project is not None:
        status.store = reuse.contents(project)
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


def describe_counts(counts: JsonObject | None) -> str:
    if not counts:
        return "no results"
    parts = [f"{counts.get(key)} {word}" for key, word in COUNT_WORDS if counts.get(key)]
    text = ", ".join(parts) or "no tests"
    if counts.get("flaky"):
        text += f" ({counts['flaky']} flaky)"
    return text


def _commit_line(git: JsonObject, head: str | None) -> str:
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


def _recorded_line(entry: JsonObject, now: dt.datetime) -> str:
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
                    str(cell["status"]) + (" (reused)" if cell["reused_from"] else ""),
                    describe_counts(cell["counts"]),
                    format_seconds(duration) if duration else "",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    lines.append("")
    if status.store is not None:
        lines += store_lines(status.store, now)
    lines.append(_history_line(status, now))
    for problem in status.problems:
        lines.append(f"problem: {problem}")
    return "\n".join(lines) + "\n"


def store_lines(store: StoreContents, now: dt.datetime) -> list[str]:
    """``stored results: 8 (1.2 MiB of 200 MiB) in DIR, last used 2 min ago`` and a line per cell."""
    from pytest_pipeline.fileio import relative_to_cwd

    if not store.entries:
        return [
            f"stored results: none in {relative_to_cwd(store.path)} (run stores each cell's result for reuse)"
        ]
    used = dt.datetime.fromtimestamp(store.last_used, dt.timezone.utc) if store.last_used else None
    mib = 1024 * 1024
    lines = [
        f"stored results: {store.entries} ({store.size / mib:.1f} MiB of {store.max_size / mib:.0f} MiB) "
        f"in {relative_to_cwd(store.path)}, last used {_when(used.isoformat() if used else None, now)}"
    ]
    width = max(len(name) for name in store.cells) if store.cells else 0
    for name, tally in store.cells.items():
        lines.append(f"  {name:<{width}}  " + ", ".join(f"{n} {state}" for state, n in sorted(tally.items())))
    if store.damaged:
        lines.append(f"  {store.damaged} damaged (ignored; removed as the store is pruned)")
    return lines


def to_json(status: Status) -> StatusJson:
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
        "store": status.store.to_dict() if status.store is not None else None,
        "problems": [*status.problems, *([unfinished_message(status)] if status.unfinished else [])],
    }
