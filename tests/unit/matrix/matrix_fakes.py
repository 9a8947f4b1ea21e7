"""Fakes for matrix discovery: a tool runner that answers from recorded output."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_pipeline.matrix.toolrun import Completed

DATA = Path(__file__).parent / "data"


def recorded(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@dataclass
class FakeTox:
    """Answers ``tox config``: JSON through ``-o`` like tox >= 4.47, or INI on stdout.

    ``json_text=None`` behaves like an older tox that rejects ``--format``.
    """

    json_text: str | None = None
    ini_text: str = ""
    returncode: int = 0
    error_output: str = ""
    log_output: str = ""
    """What tox logs besides its answer (warnings)."""
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Completed:
        argv = list(argv)
        self.calls.append(argv)
        if "--format" in argv:
            if self.json_text is None:
                return Completed(2, "", "tox: error: unrecognized arguments: --format json -o x\n")
            if self.returncode not in (0, 255):
                return Completed(self.returncode, self.error_output, "")
            Path(argv[argv.index("-o") + 1]).write_text(self.json_text, encoding="utf-8")
            return Completed(self.returncode, self.log_output, "")
        if self.returncode not in (0, 255):
            return Completed(self.returncode, self.error_output, "")
        return Completed(self.returncode, self.ini_text, "")


@dataclass
class FakeNox:
    """Answers ``nox --list-sessions --json``: ``every`` for ``-k True``, else ``default``."""

    every: list[dict[str, object]] = field(default_factory=list)
    default: list[dict[str, object]] | None = None
    failure: Completed | None = None
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Completed:
        self.calls.append(list(argv))
        if self.failure is not None:
            return self.failure
        sessions = self.every if "-k" in argv else (self.every if self.default is None else self.default)
        return Completed(0, "a noxfile may print things first\n" + json.dumps(sessions) + "\n", "")


def nox_session(
    name: str, python: object = None, call_spec: Mapping[str, str] | None = None, tags: Sequence[str] = ()
) -> dict[str, object]:
    """One entry of ``nox --list-sessions --json``."""
    spec = dict(call_spec or {})
    friendly = name
    if isinstance(python, str):
        friendly += f"-{python}"
    if spec:
        friendly += "(" + ", ".join(f"{k}={v!r}" for k, v in spec.items()) + ")"
    return {
        "session": friendly,
        "name": name,
        "description": "",
        "python": python,
        "tags": list(tags),
        "call_spec": spec,
    }


Runner = Callable[[Sequence[str], Path, Mapping[str, str]], Completed]


def no_tool(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Completed:
    raise AssertionError(f"the tool must not run here: {list(argv)}")
