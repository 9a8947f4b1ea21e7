"""gate.json reading (what publish and baselines trust), the schema itself, plan files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_pipeline.errors import ConfigError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate import gatefile, render
from pytest_pipeline.gate.evidence import GateResults
from pytest_pipeline.gate.inputs import expected_cells_from
from pytest_pipeline.gate.verdict import Note, NoteKind, Reason, ReasonKind, Verdict
from pytest_pipeline.results import Counts, ResultSummary

MINIMAL: dict[str, Any] = {
    "version": 1,
    "verdict": "open",
    "code": 0,
    "git": {"commit": "a" * 40, "dirty": False},
    "ci": None,
    "artifacts": [{"name": "x.whl", "sha256": "f" * 64}],
    "failures": [
        {"cell": "py310", "stage": "unit", "classname": "t", "name": "x", "id": "t::x", "outcome": "failed"}
    ],
    "cells": [{"name": "py310", "reported": True}, {"name": "py312", "reported": False}],
    "reasons": [],
}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "gate.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_read_minimal(tmp_path: Path) -> None:
    record = gatefile.read(write(tmp_path, MINIMAL))
    assert record.open
    assert record.commit == "a" * 40
    assert record.artifacts[0].name == "x.whl"
    assert record.failures[0].test_id == "t::x"
    assert record.reported_cells == ("py310",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{", "is not JSON"),
        ("[]", "not a JSON object"),
        ({**MINIMAL, "version": 2}, "gate file version 2 is not supported"),
        ({k: v for k, v in MINIMAL.items() if k != "version"}, "gate file version None is not supported"),
        ({**MINIMAL, "verdict": "maybe"}, "verdict must be 'open' or 'closed'"),
        ({**MINIMAL, "code": "0"}, "verdict must be 'open' or 'closed' and code an integer"),
        ({**MINIMAL, "artifacts": [{"name": "x.whl", "sha256": "XYZ"}]}, "lowercase hex sha256"),
        ({**MINIMAL, "git": "abc"}, "git must be an object"),
        ({**MINIMAL, "outputs": ["gate.json"]}, "inputs and outputs must be objects"),
        ({**MINIMAL, "inputs": ["x.xml"]}, "inputs and outputs must be objects"),
        ({**MINIMAL, "failures": [{"cell": "c"}]}, "is not a valid gate file (KeyError"),
    ],
)
def test_unusable_gate_file(tmp_path: Path, data: object, message: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(gatefile.GateFileError) as info:
        gatefile.read(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_paths_the_gate_read_and_wrote(tmp_path: Path) -> None:
    """publish does not count them as a dirty tree; a file without ``outputs`` (an earlier
    writer's) has none."""
    data = {**MINIMAL, "inputs": {"paths": ["junit/"]}, "outputs": {"paths": ["gate.json", "att.json"]}}
    record = gatefile.read(write(tmp_path, data))
    assert record.input_paths == ("junit/",)
    assert record.output_paths == ("gate.json", "att.json")
    assert gatefile.read(write(tmp_path, MINIMAL)).output_paths == ()


def test_missing_gate_file(tmp_path: Path) -> None:
    with pytest.raises(gatefile.GateFileError, match="does not exist"):
        gatefile.read(tmp_path / "nope.json")


def test_open_needs_code_zero(tmp_path: Path) -> None:
    assert not gatefile.read(write(tmp_path, {**MINIMAL, "code": 1})).open


def test_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(gatefile.schema())


def test_schema_rejects_open_verdict_with_reasons() -> None:
    validator = jsonschema.Draft202012Validator(gatefile.schema())
    errors = list(validator.iter_errors({"verdict": "open", "code": 1}))
    assert any("0 was expected" in error.message for error in errors)


# --------------------------------------------------------------------------- plan


@pytest.mark.parametrize(
    ("data", "cells"),
    [
        (
            {"cells": [{"name": "py310"}, {"name": "lint", "runs_pytest": False}, {"name": "py312"}]},
            ("py310", "lint", "py312"),
        ),
        (["a", "b"], ("a", "b")),
    ],
)
def test_expected_cells_from_plan(tmp_path: Path, data: object, cells: tuple[str, ...]) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    assert expected_cells_from(path) == cells


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "not JSON"),
        ('{"x": 1}', "expected an object with a 'cells' list"),
        ('{"cells": [{}]}', "has no name"),
    ],
)
def test_bad_plan(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        expected_cells_from(path)
    assert message in info.value.message


# --------------------------------------------------------------------------- render


def test_headlines() -> None:
    failed = Verdict(
        ExitCode.TESTS_FAILED,
        (
            Reason(ExitCode.TESTS_FAILED, "failed", "x", cell="a"),
            Reason(ExitCode.TESTS_FAILED, "failed", "x", cell="a"),
            Reason(ExitCode.TESTS_FAILED, "failed", "x", cell="b"),
        ),
    )
    assert render.headline(failed) == "GATE CLOSED (1): 3 failed in 2 cells"
    missing = Verdict(ExitCode.INCOMPLETE, (Reason(ExitCode.INCOMPLETE, "missing-cell", "x", cell="py311"),))
    assert render.headline(missing) == "GATE CLOSED (3): 1 cell missing"
    assert render.headline(Verdict(ExitCode.OK, ())) == "GATE OPEN (0)"
    noted = Verdict(ExitCode.OK, (), notes=(Note("missing-interpreter", "x", cell="py399"),))
    assert render.headline(noted) == "GATE OPEN (0): 1 note"


@pytest.mark.parametrize(
    ("env", "tty", "colour"),
    [
        ({}, False, False),
        ({}, True, True),
        ({"NO_COLOR": "1"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
    ],
)
def test_colour_only_on_a_terminal(env: dict[str, str], tty: bool, colour: bool) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    assert render.use_colour(Stream(), env) is colour


def test_grid_shows_how_cells_without_pytest_ended() -> None:
    verdict = Verdict(
        ExitCode.TESTS_FAILED,
        (
            Reason(ExitCode.TESTS_FAILED, "cell-failed", "runs no pytest ... exit code 1", cell="lint"),
            Reason(ExitCode.TESTS_FAILED, "cell-failed", "exited with code 1 but ...", cell="py310"),
        ),
        notes=(Note("no-pytest", "passed by its exit code 0", cell="docs"),),
        required_stages=("unit",),
        required_cells=("docs", "lint", "py310"),
    )
    results = GateResults(ResultSummary(groups={("py310", "unit"): Counts(tests=2, passed=2)}))
    rows = {line.split()[0]: line for line in render.grid(verdict, results)[1:]}
    assert rows["docs"].endswith("— no pytest, exit 0")
    assert rows["lint"].endswith("✗ commands failed")
    assert rows["py310"].endswith("2 passed")  # a pytest cell that failed after its tests keeps its counts


def test_reasons_are_capped_on_screen() -> None:
    reasons = tuple(
        Reason(ExitCode.TESTS_FAILED, "failed", f"m{i}", cell="c", test=f"t{i}") for i in range(25)
    )
    lines = render.lines(Verdict(ExitCode.TESTS_FAILED, reasons), GateResults(), "gate.json")
    assert lines[0] == "GATE CLOSED (1): 25 failed in 1 cell"
    assert sum(line.startswith("  [1]") for line in lines) == render.MAX_REASONS
    assert "  ... 15 more in gate.json" in lines
    assert lines[-1] == "gate file: gate.json"


def test_every_reason_kind_has_a_headline_phrase() -> None:
    """A kind without one would show as its bare string in the headline."""
    assert set(render._PHRASES) == set(ReasonKind)


def test_the_schema_names_every_kind() -> None:
    defs = gatefile.schema()["$defs"]
    assert defs["reason"]["properties"]["kind"]["enum"] == [kind.value for kind in ReasonKind]
    assert defs["note"]["properties"]["kind"]["enum"] == [kind.value for kind in (*ReasonKind, *NoteKind)]
