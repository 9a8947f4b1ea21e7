"""Does an environment run pytest? Decided from what its tool says it runs.

tox shows each environment's resolved commands, so a command whose program is
``pytest``/``py.test``, or a Python running ``-m pytest`` (also ``{envpython} -m
pytest``, ``coverage run -m pytest``, ``uv run pytest``, ``sh -c "pytest ..."``), makes
it a test environment. nox does not show what a session runs, so there the rule is:
a session with an interpreter (``python="3.12"``) is a test session unless a tag or
its name says it is not (``lint``, ``docs``, ``mypy``, ... see :data:`NON_TEST_WORDS`);
a session with ``python=False`` runs no virtualenv and cannot get our plugin, so it
is not one; a session with ``python=None`` (nox's own interpreter) counts when its
name or a tag mentions tests.
``[tool.pytest-pipeline.run] include`` overrides all of this.
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Iterable, Sequence
from pathlib import PurePath, PureWindowsPath

from pytest_pipeline.matrix.tool_config import NoxSessionConfig, ToxEnvConfig


class Kind(enum.Enum):
    PYTEST = "pytest"
    OTHER = "other"
    ORCHESTRATOR = "orchestrator"
    """Runs pytest-pipeline itself (``tox -e matrix``): never a cell, or it would recurse."""


_PYTHON = re.compile(r"^(?:python|pypy|graalpy)(?:\d+(?:\.\d+)?t?)?(?:\.exe)?$", re.IGNORECASE)
_PYTEST = {"pytest", "py.test", "pytest.exe", "py.test.exe"}
_ORCHESTRATOR = {"pytest-pipeline", "pytest-pipeline.exe"}
# Python options that take a value in the next argument (``python -W error -m pytest``).
_PYTHON_OPTIONS_WITH_VALUE = {"-W", "-X", "--check-hash-based-pycs"}
# Runners that start a program from the environment: ``uv run pytest``.
_RUN_PREFIXES = {"uv": "run", "poetry": "run", "pdm": "run", "rye": "run", "hatch": "run"}

NON_TEST_WORDS = frozenset(
    {
        "lint",
        "linting",
        "docs",
        "doc",
        "typing",
        "types",
        "mypy",
        "pyright",
        "format",
        "fmt",
        "style",
        "build",
        "release",
        "publish",
        "dev",
    }
)
TEST_WORDS = re.compile(r"test|pytest|unit|integration|smoke|coverage|cov\b", re.IGNORECASE)


def _program(word: str) -> str:
    # Windows paths from a tox config read on Windows still name the program last.
    name = PureWindowsPath(word).name if "\\" in word else PurePath(word).name
    return name.lower()


def classify_command(argv: Sequence[str], _depth: int = 0) -> Kind:
    """What one command line runs."""
    args = list(argv)
    # tox prefixes: "-" ignores the exit code, "!" inverts it.
    while args and args[0] in ("-", "!"):
        args.pop(0)
    if args and args[0][:1] in ("-", "!") and len(args[0]) > 1 and not args[0].startswith("--"):
        args[0] = args[0][1:]
    while args and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", args[0]):  # FOO=1 pytest
        args.pop(0)
    if not args:
        return Kind.OTHER
    program = _program(args[0])
    rest = args[1:]
    if program in ("env", "env.exe"):
        return classify_command(rest, _depth)
    if program in _PYTEST:
        return Kind.PYTEST
    if program in _ORCHESTRATOR:
        return Kind.ORCHESTRATOR
    if program in _RUN_PREFIXES and rest and rest[0] == _RUN_PREFIXES[program]:
        return classify_command(_skip_options(rest[1:]), _depth)
    if program in ("coverage", "coverage.exe") and rest and rest[0] == "run":
        return _classify_coverage_run(rest[1:])
    if program in ("sh", "bash", "zsh", "dash") and len(rest) >= 2 and rest[0] == "-c" and _depth < 3:
        try:
            return classify_text(rest[1], _depth + 1)
        except ValueError:
            return Kind.OTHER
    if _PYTHON.match(program):
        return _classify_module_or_script(rest, _depth)
    return Kind.OTHER


def _skip_options(args: list[str]) -> list[str]:
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 1
    return args[index:]


def _classify_coverage_run(args: list[str]) -> Kind:
    """``coverage run [options] (-m module | script)``; its options take values, so
    look for ``-m pytest`` or a pytest script anywhere."""
    for index, arg in enumerate(args):
        if arg == "-m":
            module = args[index + 1] if index + 1 < len(args) else ""
            return Kind.PYTEST if module in ("pytest", "py.test") else Kind.OTHER
        if _program(arg) in _PYTEST:
            return Kind.PYTEST
    return Kind.OTHER


def _classify_module_or_script(args: list[str], depth: int) -> Kind:
    """After ``python`` or ``coverage run``: look for ``-m pytest``."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-m" and index + 1 < len(args):
            module = args[index + 1]
            if module in ("pytest", "py.test"):
                return Kind.PYTEST
            if module == "pytest_pipeline":
                return Kind.ORCHESTRATOR
            if module == "coverage" and index + 2 < len(args) and args[index + 2] == "run":
                return _classify_coverage_run(args[index + 3 :])
            return Kind.OTHER
        if arg.startswith("-m") and len(arg) > 2:
            return _classify_module_or_script(["-m", arg[2:], *args[index + 1 :]], depth)
        if arg == "-c" or not arg.startswith("-"):
            # a script or inline code: only a pytest script counts
            return Kind.PYTEST if _program(arg) in _PYTEST else Kind.OTHER
        if arg in _PYTHON_OPTIONS_WITH_VALUE or (arg.startswith("--") and "=" not in arg and arg != "--"):
            index += 2 if arg in _PYTHON_OPTIONS_WITH_VALUE else 1
            continue
        index += 1
    return Kind.OTHER


_WINDOWS_PATH = re.compile(r"^\s*[\"']?[A-Za-z]:\\")


def split_command(command: str) -> list[str]:
    """A command as tox prints it (shell-quoted); Windows paths keep their backslashes."""
    return shlex.split(command, posix=_WINDOWS_PATH.match(command) is None)


def classify_text(command: str, _depth: int = 0) -> Kind:
    """One printed command; ``&&``/``;`` chains are looked at in turn."""
    return classify_commands(_split_chain(split_command(command)), _depth)


def _split_chain(words: list[str]) -> list[list[str]]:
    chains: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "||", ";", "|"):
            chains.append([])
        else:
            chains[-1].append(word)
    return [chain for chain in chains if chain]


def classify_commands(commands: Iterable[Sequence[str]], _depth: int = 0) -> Kind:
    """The strongest verdict over several commands: orchestrator > pytest > other."""
    kinds = {classify_command(argv, _depth) for argv in commands}
    if Kind.ORCHESTRATOR in kinds:
        return Kind.ORCHESTRATOR
    if Kind.PYTEST in kinds:
        return Kind.PYTEST
    return Kind.OTHER


def tox_env_kind(config: ToxEnvConfig) -> Kind:
    """From tox's resolved ``commands`` (``commands_pre``/``_post`` don't make a test env)."""
    commands = config.get("commands") or []
    parsed: list[list[str]] = []
    for command in commands:
        try:
            parsed.extend(_split_chain(split_command(str(command))))
        except ValueError:  # unbalanced quotes: look at the words we can see
            parsed.append(str(command).split())
    return classify_commands(parsed)


def nox_session_kind(config: NoxSessionConfig) -> Kind:
    python = config.get("python")
    tags = {str(tag).lower() for tag in config.get("tags") or []}
    name = str(config.get("name") or "")
    if python is False:
        return Kind.OTHER
    name_words = {word.lower() for word in re.split(r"[^A-Za-z0-9]+", name) if word}
    if tags & NON_TEST_WORDS or name_words & NON_TEST_WORDS:
        return Kind.OTHER
    if python:
        return Kind.PYTEST
    if TEST_WORDS.search(name) or any(TEST_WORDS.search(tag) for tag in tags):
        return Kind.PYTEST
    return Kind.OTHER
