"""The installer's own words for why a step failed, for a cell's one-line ``env-error``.

A failed install names the step and its exit code; the reason (a distribution the index
does not have, a runner tox does not know) is in the step's output, in the cell's log.
This finds the line in which uv, pip or tox says it, so the one line says what would fix it.
"""

from __future__ import annotations

from typing import IO

_WHY_STARTS = ("Because ", "ERROR: ", "error: ", "HandledError| ")
"""How the installers' own verdicts start: uv's resolver ("Because X was not found in
the package registry ..."), pip ("ERROR: No matching distribution found for X"), uv's
other errors ("error: Failed to fetch ...") and tox's ("ROOT: HandledError| runner ...
is not available (plugin may not be installed)")."""
_UV_MARKS = "\u00d7\u2570\u2500\u25b6\u2502 "
"""The marks uv draws before its messages (a cross, a tree's corner and arrow, a bar)."""
_WHY_MAX = 160
_WHY_READ = 64 * 1024


def log_position(log: IO[bytes]) -> int | None:
    try:
        log.flush()
        return log.tell()
    except (OSError, ValueError):
        return None


def why_failed(log: IO[bytes], since: int | None) -> str:
    """``": <the installer's own verdict>"`` from what the failed step wrote to the log
    after ``since``, so the one-line error says what would fix it; "" when none is found."""
    name = getattr(log, "name", None)
    if since is None or not isinstance(name, str):
        return ""
    try:
        log.flush()
        with open(name, "rb") as handle:
            handle.seek(max(since, log.tell() - _WHY_READ))
            text = handle.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""
    return installer_verdict(text)


def installer_verdict(output: str) -> str:
    """The last line of ``output`` in which an installer says why it failed (see
    :data:`_WHY_STARTS`), as ``": ..."``; "" when there is none."""
    raw = output.splitlines()
    bare = [_bare(line) for line in raw]
    for index in range(len(raw) - 1, -1, -1):
        line = bare[index]
        if not line.startswith(_WHY_STARTS):
            continue
        for after in range(index + 1, len(raw)):  # uv wraps a long verdict onto indented lines
            more = raw[after]
            if not more[:1].isspace() or not bare[after] or bare[after] != more.strip():
                break
            line += " " + bare[after]
        line = line.removeprefix("HandledError| ")  # tox's label, not its words
        return ": " + (line if len(line) <= _WHY_MAX else line[: _WHY_MAX - 1] + "…")
    return ""


def _bare(line: str) -> str:
    """A line without uv's marks, its ``cause:`` label (the cause is the verdict) and
    tox's logger name."""
    line = line.strip().lstrip(_UV_MARKS).strip()
    for label in ("cause:", "ROOT:"):
        if line.startswith(label):
            line = line[len(label) :].strip()
    return line
