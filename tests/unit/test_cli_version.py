"""``--version`` is answered before the command line is built: exactly when, and exactly
what, the full parser would print."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_pipeline import __version__, cli

TOKENS = [
    "--version", "--vers", "--v", "--ve", "--version=1", "--v=", "--versions", "--verbose", "-version",
    "-h", "--help", "--he", "--h", "-hv", "-x", "-V", "-v", "--bogus", "--bogus=1", "---x",
    "--", "-", "-5", "-5x", "-.5", "run", "plan", "status", "not-a-command", "x y", "-e", "py310",
]  # fmt: skip


def full_parser_prints_version(argv: list[str]) -> bool:
    """The oracle: what the built command line does with ``argv``."""
    parser = cli.build_parser(cli.plugin_manager(load_entry_points=False))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            return exc.code == 0 and out.getvalue() == f"pytest-pipeline {__version__}\n"
    return False


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=4))
def test_the_version_is_answered_exactly_when_the_parser_would_print_it(argv: list[str]) -> None:
    prints = full_parser_prints_version(argv)
    if cli.asks_for_version(argv):
        assert prints
    elif prints:  # left to the parser only where a token may be a negative number
        assert any(token[:2] in ("-5", "-.") for token in argv)


@pytest.mark.parametrize(
    ("argv", "answered"),
    [
        (["--version"], True),
        (["--vers"], True),
        (["--bogus", "-x", "--version"], True),  # unknown options are passed over first
        (["--version", "run", "--bogus"], True),
        (["-h", "--version"], False),  # help comes first
        (["run", "--version"], False),  # the subcommand's own options
        (["--", "--version"], False),
        (["--version=1"], False),  # argparse's error about the value
        ([], False),
    ],
)
def test_the_cases_argparse_decides(argv: list[str], answered: bool) -> None:
    assert cli.asks_for_version(argv) is answered
    assert full_parser_prints_version(argv) is answered


def test_main_prints_what_the_parser_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"pytest-pipeline {__version__}\n"


def test_a_terminal_too_narrow_for_the_version_gets_argparse_s_wrapping(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "16")
    assert cli.main(["--version"]) == 0
    wrapped = capsys.readouterr().out
    assert wrapped != f"pytest-pipeline {__version__}\n"
    parser = cli.build_parser(cli.plugin_manager(load_entry_points=False))
    with pytest.raises(SystemExit):
        parser.parse_args(["--version"])
    assert capsys.readouterr().out == wrapped


@pytest.mark.parametrize("columns", [None, "12", "200", "0", "-3", "wide"])
def test_terminal_columns_are_shutil_s(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert cli.terminal_columns() == shutil.get_terminal_size().columns


def test_version_loads_neither_the_plugin_manager_nor_the_parser() -> None:
    probe = (
        "import sys\n"
        "from pytest_pipeline.cli import main\n"
        "code = main(['--version'])\n"
        "loaded = ('pluggy', 'argparse', 'typing', 're', 'shutil', 'pytest_pipeline.commands')\n"
        "print(repr([code, [name for name in loaded if name in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL
    )
    assert done.stdout.splitlines() == [f"pytest-pipeline {__version__}", "[0, []]"]
