"""Every table of exit codes in the README and the docs says what ``exitcodes`` says
(issue 13: the meanings were written in several places and could drift).

A table of exit codes is a Markdown table whose first column is headed ``code``. It must
list every code once, name it as the enum does (a ``name`` column, when it has one), and
open each meaning with the code's short meaning (``ExitCode.meaning``, also what
``--help`` and the HTML report say), so a table may explain more but never say otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline.exitcodes import PRECEDENCE, ExitCode

ROOT = Path(__file__).resolve().parents[2]


def doc_files() -> list[Path]:
    docs = sorted(path for path in (ROOT / "docs").rglob("*.md") if "_build" not in path.parts)
    return [ROOT / "README.md", *docs]


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table as rows of cells, header first (the ``---`` line left out)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            row = cells(line)
            if not all(set(cell) <= set("-: ") for cell in row):
                current.append(row)
        elif current:
            found.append(current)
            current = []
    return found


def exit_code_tables() -> list[tuple[str, list[list[str]]]]:
    return [
        (f"{path.relative_to(ROOT)}, table {index}", table)
        for path in doc_files()
        for index, table in enumerate(tables(path.read_text(encoding="utf-8")), start=1)
        if table[0][0].lower() == "code"
    ]


def test_the_readme_has_its_table_of_exit_codes() -> None:
    assert [where for where, _ in exit_code_tables() if where.startswith("README.md")]


@pytest.mark.parametrize(("where", "table"), exit_code_tables(), ids=[w for w, _ in exit_code_tables()])
def test_a_table_of_exit_codes_says_what_exitcodes_says(where: str, table: list[list[str]]) -> None:
    header, rows = [name.lower() for name in table[0]], table[1:]
    assert [int(row[0]) for row in rows] == [code.value for code in ExitCode], f"{where}: the codes"
    for row in rows:
        code = ExitCode(int(row[0]))
        if "name" in header:
            assert row[header.index("name")].strip("`") == code.name, f"{where}: code {code.value}'s name"
        meaning = row[header.index("meaning")]
        assert meaning.startswith(code.meaning), f"{where}: code {code.value} must open with {code.meaning!r}"


def test_the_readme_states_the_precedence_of_exitcodes() -> None:
    order = " > ".join(str(code.value) for code in PRECEDENCE)
    assert f"**{order}**" in (ROOT / "README.md").read_text(encoding="utf-8")
