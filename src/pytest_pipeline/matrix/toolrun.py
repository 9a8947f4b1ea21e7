"""Ask tox or nox a question in a subprocess, and turn its failure into one line.

Both tools are run with stdin closed and a time limit: a tool that waits for input
or hangs (a provisioning step, a noxfile that blocks) must not hang discovery.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_pipeline import envvars

NO_TOX_MATRIX_ENV = envvars.NO_TOX_MATRIX
"""Set for every tool we start: our tox plugin then declares no ``matrix`` environment, so
``tox config -e ALL`` lists only the project's own and a run can never start itself again.
(``tox_plugin`` spells it out too: it imports nothing of ours; a test keeps them equal.)"""

TIMEOUT = 300.0
"""Seconds; generous because tox may provision itself (``[tox] requires``) first."""


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], Path, Mapping[str, str]], Completed]
"""How discovery runs a tool: ``(argv, cwd, env) -> Completed``; tests pass a fake."""


class ToolTimeout(Exception):
    pass


def run_tool(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Completed:
    try:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolTimeout(f"{' '.join(argv[:4])} ... did not answer within {TIMEOUT:.0f}s") from None
    return Completed(proc.returncode, proc.stdout or "", proc.stderr or "")


def tool_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment, without colour: we parse what the tool prints."""
    env = dict(os.environ if environ is None else environ)
    for name in ("FORCE_COLOR", "PY_COLORS", "TOX_COLORED", "CLICOLOR_FORCE"):
        env.pop(name, None)
    env["NO_COLOR"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    # `tox config` makes an environment whose settings need its interpreter; for a missing
    # one, tox-uv's uv would download a Python just to answer (slowly, or not at all offline).
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    # Our tox plugin then declares no `matrix` environment, so discovery never lists the orchestrator.
    env[NO_TOX_MATRIX_ENV] = "1"
    return env


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
_PREFIXES = ("ROOT: HandledError| ", "ROOT: ", "nox > ")


def first_error_line(output: str, project_dir: Path | None = None) -> str:
    """The line of a tool's output that says what went wrong.

    For a Python traceback that is its last line (the exception), with the deepest
    frame inside the project added (``noxfile.py, line 7``); otherwise the first
    non-empty line, without the tool's log prefix.
    """
    lines = [_ANSI.sub("", line).rstrip() for line in output.splitlines()]
    lines = [line for line in lines if line.strip()]
    if not lines:
        return "(the tool printed nothing)"
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        message = next((line for line in reversed(lines) if not line.startswith(" ")), lines[-1])
        where = _project_frame(lines, project_dir)
        return f"{message} ({where})" if where else message
    for line in lines:
        stripped = line.strip()
        for prefix in _PREFIXES:
            if stripped.startswith(prefix):
                stripped = stripped[len(prefix) :]
                break
        if stripped:
            return stripped
    return lines[0].strip()


def _project_frame(lines: Sequence[str], project_dir: Path | None) -> str | None:
    found: str | None = None
    for line in lines:
        match = _FRAME.match(line)
        if not match:
            continue
        file = Path(match.group("file"))
        if project_dir is not None:
            try:
                file = file.resolve().relative_to(project_dir.resolve())
            except (ValueError, OSError):
                continue
        elif "site-packages" in file.parts:
            continue
        found = f"{file.as_posix()}, line {match.group('line')}"
    return found
