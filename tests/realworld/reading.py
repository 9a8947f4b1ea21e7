"""What each side says, read from its output and files: tox's (nox's) status line for the
env, pytest's counts from its terminal summary lines or from our cell's JUnit file, and the
distributions installed in an environment."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# --------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class Counts:
    """pytest's outcome counts for one env (several pytest runs in it: summed)."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    errors: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def comparable(self) -> tuple[int, int, int, int, int]:
        """(passed, failed, skipped, xfailed, errors), an xpassed test counted as passed: a
        JUnit file cannot tell them apart (a strict xpass is a failure on both sides)."""
        return (self.passed + self.xpassed, self.failed, self.skipped, self.xfailed, self.errors)

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __str__(self) -> str:
        shown = [f"{value}{_SHORT[name]}" for name, value in self.to_dict().items() if value]
        return " ".join(shown) or "0 tests"


_SHORT = {"passed": "p", "failed": "f", "skipped": "s", "xfailed": "xf", "xpassed": "xp", "errors": "e"}
COUNTS_LEGEND = "counts: p passed, f failed, s skipped, xf xfailed, xp xpassed, e errors"

# pytest's last line: "==== 3 passed, 1 skipped in 0.12s ====", "3 passed in 83.10s (0:01:23)"
# with -q, "==== no tests ran in 0.01s ====". Words other than the outcomes (warnings,
# deselected, rerun, "subtests passed") are not outcomes of tests and are not counted.
_SUMMARY = re.compile(
    r"^=*\s*(?P<body>no tests ran|\d+ [a-z][a-z ]*(?:, \d+ [a-z][a-z ]*)*)"
    r" in \d+(?:\.\d+)?s(?: \([\d:.]+\))?\s*=*\s*$"
)
_OUTCOME_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "skipped": "skipped",
    "xfailed": "xfailed",
    "xpassed": "xpassed",
    "error": "errors",
    "errors": "errors",
}


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def summary_counts(line: str) -> Counts | None:
    """The counts of one pytest terminal summary line, None for any other line."""
    match = _SUMMARY.match(strip_ansi(line).strip())
    if match is None:
        return None
    values = dict.fromkeys(_SHORT, 0)
    body = match.group("body")
    if body != "no tests ran":
        for item in body.split(", "):
            number, word = item.split(" ", 1)
            if word in _OUTCOME_WORDS:
                values[_OUTCOME_WORDS[word]] += int(number)
    return Counts(**values)


def summed_counts(
    lines: Iterable[str], boundary: Callable[[str], bool], opens: Callable[[str], bool]
) -> Counts | None:
    """The sum, over the command outputs that ``opens`` starts, of the last pytest summary
    line in each (earlier ones are inner runs whose output a test printed: pytester's).
    Each command's output ends at the next ``boundary`` line. None when none has one."""
    total: Counts | None = None
    inside, last = False, None
    for raw in [*lines, None]:
        line = None if raw is None else strip_ansi(raw)
        if line is None or boundary(line):
            if last is not None:
                total = last if total is None else total + last
            inside, last = line is not None and opens(line), None
            continue
        if inside and (counts := summary_counts(line)) is not None:
            last = counts
    return total


# --------------------------------------------------------------------------- tox's output

# A line tox logs about an env: "py312: commands[0]> pytest", "py312: install_deps> ...",
# "py312: exit 1 (0.52 seconds) /path> pytest pid=1", "  py312: OK (3.1=setup[...] seconds)".
_TOX_LOG = re.compile(r"^\s*[^\s:]+: (?:[\w-]+(?:\[\d+\])?> |exit -?\d+ |OK\b|FAIL\b|SKIP\b)")


def tox_status(output: str, env: str) -> str | None:
    """tox's status line for ``env`` ("py312: OK (3.10=setup[...] seconds)"), or None."""
    pattern = re.compile(rf"^\s*{re.escape(env)}: (?:OK|FAIL|SKIP)\b.*$")
    found = [line.strip() for line in strip_ansi(output).splitlines() if pattern.match(line)]
    return found[-1] if found else None


def tox_counts(output: str, env: str) -> Counts | None:
    """pytest's counts in the output of ``env``'s commands_pre, commands and commands_post."""
    opens = re.compile(rf"^{re.escape(env)}: commands(?:_pre|_post)?\[\d+\]> ")
    return summed_counts(
        output.splitlines(), lambda line: bool(_TOX_LOG.match(line)), lambda line: bool(opens.match(line))
    )


def tox_env_dir(config_output: str) -> Path | None:
    """``env_dir`` from ``tox config -e ENV -k env_dir``."""
    match = re.search(r"^env_dir = (.+)$", strip_ansi(config_output), re.MULTILINE)
    return Path(match.group(1).strip()) if match else None


# --------------------------------------------------------------------------- nox's output

_NOX_LOG = "nox > "


def nox_status(output: str, session: str) -> str | None:
    """nox's closing line for ``session`` ("Session tests-3.12 was successful in 3 seconds")."""
    pattern = re.compile(
        rf"^{_NOX_LOG}Session {re.escape(session)} (?:was successful|failed|skipped|aborted)\b.*$"
    )
    found = [line.strip() for line in strip_ansi(output).splitlines() if pattern.match(line)]
    return found[-1] if found else None


def nox_ok(status: str) -> bool:
    return " was successful" in status


def nox_counts(output: str) -> Counts | None:
    """pytest's counts in the output of the session's commands (each follows a ``nox >`` line)."""

    def is_log(line: str) -> bool:
        return line.startswith(_NOX_LOG)

    return summed_counts(output.splitlines(), is_log, is_log)


def nox_env_dir(output: str, cwd: Path) -> Path | None:
    """The session's environment, from nox's "Creating virtual environment (uv) using
    python3.12 in .nox/tests-3-12" line (relative to the folder nox ran in)."""
    match = re.search(
        r"Creating virtual environment \([^)]*\) using \S+ in (.+)$", strip_ansi(output), re.MULTILINE
    )
    return cwd / match.group(1).strip() if match else None


# --------------------------------------------------------------------------- our reports


def junit_counts(path: Path) -> Counts | None:
    """Counts from a pytest JUnit file (our cell's): a testcase with <failure> is failed, with
    <error> an error (a test failing in its call and erroring in teardown is both, as pytest
    counts it), with <skipped type="pytest.xfail"> xfailed, with other <skipped> skipped,
    else passed (an xpassed test too). None when the file is missing or unreadable."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    values = dict.fromkeys(_SHORT, 0)
    for case in root.iter("testcase"):
        tags = {child.tag: child for child in case}
        if "failure" in tags:
            values["failed"] += 1
        if "error" in tags:
            values["errors"] += 1
        if "failure" in tags or "error" in tags:
            continue
        skipped = tags.get("skipped")
        if skipped is None:
            values["passed"] += 1
        elif skipped.get("type") == "pytest.xfail":
            values["xfailed"] += 1
        else:
            values["skipped"] += 1
    return Counts(**values)


def find_cell(run_json: Path, cell: str) -> dict[str, object] | None:
    """The cell's entry in our run.json, None when the file or the entry is missing."""
    try:
        record = json.loads(run_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for entry in record.get("cells", []):
        if isinstance(entry, dict) and entry.get("name") == cell:
            return entry
    return None


def our_env_dir(tree: Path, tool: str, cell: str) -> Path | None:
    """Where ``pytest-pipeline run`` put ``cell``'s environment in ``tree``, None if nowhere.

    The one place that knows it (run.json does not say): ``.tox/.pipeline/<cell>`` for tox,
    and for nox, the session's environment inside ``.nox/.pipeline/<cell's plain name>``
    (the ``--envdir`` of the cell, named without the characters a shell line breaks on)."""
    if tool == "tox":
        folder = tree / ".tox" / ".pipeline" / cell
        return folder if (folder / "pyvenv.cfg").is_file() else None
    plain = re.sub(r"[^A-Za-z0-9._+-]+", "-", cell).strip("-.")
    # a name that had to change gets a hash of the original: "<plain>-1a2b3c"
    named = re.compile(re.escape(plain) if plain == cell else rf"{re.escape(plain)}-[0-9a-f]{{6}}")
    base = tree / ".nox" / ".pipeline"
    envdirs = [folder for folder in sorted(base.glob("*")) if named.fullmatch(folder.name)]
    for envdir in envdirs:
        if (envdir / "pyvenv.cfg").is_file():
            return envdir
        found = sorted(cfg.parent for cfg in envdir.glob("*/pyvenv.cfg"))
        if found:
            return found[0]
    return None


# --------------------------------------------------------------------------- environments

NOT_COMPARED = frozenset({"pytest-pipeline-gate"})
"""Our plugin: never installed in a cell today, excluded in case a cell ever gets it."""


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def uv_binary() -> str:
    beside = Path(sys.executable).with_name("uv")
    if beside.is_file():
        return str(beside)
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            raise RuntimeError(
                "uv is needed to list an environment's distributions: pip install uv"
            ) from None
        return found


def distributions(env_dir: Path) -> dict[str, str] | None:
    """{canonical name: version} of everything installed in ``env_dir`` (the package under
    test too, however installed: wheel, sdist build, editable), our plugin excepted; one
    way for both sides (``uv pip list``, which needs no pip in the environment). None when
    the environment is not there."""
    python = env_dir / "bin" / "python"
    if not python.exists():
        return None
    done = subprocess.run(
        [uv_binary(), "pip", "list", "--python", str(python), "--format", "json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return None
    listed = {canonical_name(item["name"]): item["version"] for item in json.loads(done.stdout)}
    return {name: version for name, version in listed.items() if name not in NOT_COMPARED}
