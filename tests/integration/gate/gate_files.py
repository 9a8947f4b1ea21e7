"""Builders of the real files the gate reads: JUnit XML, run.json, plans, quarantine."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord

PYPROJECT = """\
[tool.pytest-pipeline]
stages = ["unit", "integration"]
{extra}
"""

OUTCOMES = {
    "passed": "",
    "failed": '<failure message="assert 1 == 2" type="AssertionError">trace</failure>',
    "error": '<error message="fixture db not found" type="Error">trace</error>',
    "skipped": '<skipped message="not today" type="pytest.skip"/>',
    "blocked": '<error message="blocked by a failure in stage unit" type="pytest_pipeline.blocked"/>',
    "flaky": '<flakyFailure message="timeout" type="TimeoutError">trace</flakyFailure>',
}


def testsuite(cell: str | None, stage: str, tests: Iterable[tuple[str, str]]) -> str:
    props = [f'<property name="stage" value="{stage}"/>']
    if cell is not None:
        props.append(f'<property name="cell" value="{cell}"/>')
    cases = "".join(
        f'<testcase classname="tests.test_{stage}" name={quoteattr(name)} time="0.01">'
        f"{OUTCOMES[outcome]}</testcase>"
        for name, outcome in tests
    )
    return f'<testsuite name="pytest"><properties>{"".join(props)}</properties>{cases}</testsuite>'


def junit(cell: str | None = None, **stages: Iterable[tuple[str, str]]) -> str:
    suites = "".join(testsuite(cell, stage, tests) for stage, tests in stages.items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites>{suites}</testsuites>\n'


GREEN = {"unit": [("test_a", "passed"), ("test_b", "passed")], "integration": [("test_c", "passed")]}


def green(cell: str | None = None) -> str:
    return junit(cell, **GREEN)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run_record(folder: Path, *cells: CellRecord, interrupted: bool = False) -> Path:
    record = RunRecord(cells=cells, stages=("unit", "integration"), interrupted=interrupted)
    return write(folder / "run.json", json.dumps(record.to_dict()))


def cell(
    name: str, status: CellStatus = CellStatus.PASSED, exit_code: int | None = 0, **kw: object
) -> CellRecord:
    junit_path = kw.pop("junit", f"cells/{name}/junit.xml")
    return CellRecord(
        name=name,
        status=status,
        exit_code=exit_code,
        junit=junit_path,  # type: ignore[arg-type]
        stages=("unit", "integration"),
        **kw,  # type: ignore[arg-type]
    )


def make_wheel(path: Path, name: str, version: str) -> Path:
    """A wheel whose METADATA says ``name`` ``version``, whatever ``path`` is called."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/__init__.py", "")
        archive.writestr(
            f"{name}-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        )
    return path


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuite name="x"><testcase classname="a" name="b"><failure message="&lol3;"/></testcase></testsuite>
"""
