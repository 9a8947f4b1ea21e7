"""Every ``pytest-pipeline ...`` command the README and the docs show parses with the real
command-line parser (issue 13, item 7): a renamed option or a typo in the docs fails here.

Commands are taken from fenced code blocks (``bash``/``sh``/``console``; in ``console``
blocks only the ``$ `` lines) and from inline code spans that hold a whole command (no
``[OPTION]`` or ``a|b`` usage notation). ``tox -e matrix -- ARGS`` passes ARGS to ``run``,
so those are parsed as ``run ARGS``. Parsing never runs a command.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from pytest_pipeline import cli

ROOT = Path(__file__).resolve().parents[2]
SHELL_BLOCKS = ("bash", "sh", "shell", "console")
OPERATORS = {"&&", "||", ";", "|", "&", "(", ")"}


def doc_files() -> list[Path]:
    docs = sorted(path for path in (ROOT / "docs").rglob("*.md") if "_build" not in path.parts)
    return [ROOT / "README.md", *docs]


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """``(language, lines)`` of every fenced code block."""
    blocks: list[tuple[str, list[str]]] = []
    fence: str | None = None
    language = ""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None:
            match = re.match(r"^(`{3,}|~{3,})\s*([^\s`]*)", stripped)
            if match:
                fence, language, lines = match.group(1), match.group(2), []
        elif stripped.startswith(fence) and not stripped[len(fence) :].strip():
            blocks.append((language, lines))
            fence = None
        else:
            lines.append(line)
    return blocks


def shell_lines(language: str, lines: list[str]) -> list[str]:
    if language == "console":
        lines = [line.strip()[2:] for line in lines if line.strip().startswith("$ ")]
    joined: list[str] = []
    for line in lines:
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1] + " " + line.strip()
        else:
            joined.append(line.strip())
    return [line for line in joined if line]


def segments(line: str) -> list[list[str]]:
    """The simple commands of a shell line: split at ``&&``, ``;``, ``|`` ..., comments dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    parts: list[list[str]] = [[]]
    for token in lexer:
        if token in OPERATORS:
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def cli_arguments(words: list[str]) -> list[str] | None:
    """The arguments ``pytest-pipeline`` gets from this simple command, or None if it is not one."""
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words = words[1:]  # VAR=value before the command
    if words[:1] == ["pytest-pipeline"]:
        return words[1:]
    if len(words) >= 3 and words[1:3] == ["-m", "pytest_pipeline"] and words[0].startswith("python"):
        return words[3:]
    if words[:3] == ["tox", "-e", "matrix"]:
        return ["run", *words[4:]] if words[3:4] == ["--"] else ["run"]
    return None


def inline_commands(text: str) -> list[str]:
    """Inline code spans holding a whole command: a command with arguments. A bare
    ``pytest-pipeline merge`` names the command in prose; usage notation such as
    ``[--gate FILE]``, ``a|b`` or ``...`` is a synopsis, not a command."""
    spans = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", text)
    return [
        span
        for span in spans
        if re.match(r"^(pytest-pipeline|tox -e matrix) \S+ \S", span)
        and not re.search(r"[\[|]|\.\.\.|…|<", span)
    ]


def documented_commands() -> list[tuple[str, str, list[str]]]:
    """``(file, command line, arguments)`` of every command shown."""
    found: list[tuple[str, str, list[str]]] = []
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        lines = [
            line
            for language, block in fenced_blocks(text)
            if language in SHELL_BLOCKS
            for line in shell_lines(language, block)
        ]
        for line in [*lines, *inline_commands(text)]:
            for words in segments(line):
                arguments = cli_arguments(words)
                if arguments is not None:
                    found.append((str(path.relative_to(ROOT)), shlex.join(words), arguments))
    return found


COMMANDS = documented_commands()


def parse(arguments: list[str]) -> argparse.Namespace:
    parser = cli.build_parser(cli.plugin_manager(load_entry_points=False))
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return parser.parse_args(arguments)
    except SystemExit as exc:
        if exc.code == 0:  # --help, --version
            return argparse.Namespace(handler=print)
        pytest.fail(f"does not parse: {stderr.getvalue().strip()}")


def test_the_docs_show_commands_and_the_extractor_finds_them() -> None:
    files = {file for file, _, _ in COMMANDS}
    assert "README.md" in files
    assert len(files) >= 8
    assert len(COMMANDS) >= 45
    shown = {arguments[0] for _, _, arguments in COMMANDS if arguments}
    assert {"run", "plan", "gate", "publish", "merge", "rerun", "status", "report", "init-ci"} <= shown


@pytest.mark.parametrize(
    ("file", "line", "arguments"), COMMANDS, ids=[f"{file}: {line}" for file, line, _ in COMMANDS]
)
def test_a_documented_command_parses(file: str, line: str, arguments: list[str]) -> None:
    args = parse(arguments)
    assert getattr(args, "handler", None) is not None, f"{file}: {line!r} names no subcommand"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("pytest-pipeline run -p 2   # a comment", [["pytest-pipeline", "run", "-p", "2"]]),
        ("cd x && pytest-pipeline plan; echo $?", [["cd", "x"], ["pytest-pipeline", "plan"], ["echo", "$?"]]),
        (
            "A=1 pytest-pipeline publish -- twine upload 'dist/*'",
            [["A=1", "pytest-pipeline", "publish", "--", "twine", "upload", "dist/*"]],
        ),
    ],
)
def test_segments_split_a_shell_line_into_simple_commands(line: str, expected: list[list[str]]) -> None:
    assert segments(line) == expected


def test_a_wrong_option_does_not_parse() -> None:
    """The check can fail: an option no command has is refused."""
    with pytest.raises(pytest.fail.Exception, match="unrecognized arguments: --no-such-option"):
        parse(["run", "--no-such-option"])


def test_tox_matrix_arguments_are_parsed_as_runs() -> None:
    assert cli_arguments(["tox", "-e", "matrix", "--", "-p", "4"]) == ["run", "-p", "4"]
    assert cli_arguments(["python", "-m", "pytest_pipeline", "gate"]) == ["gate"]
    assert cli_arguments(["pytest", "--stage=unit"]) is None
