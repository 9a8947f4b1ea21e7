"""run.schema.json describes every run.json that RunRecord writes, and nothing else."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from pytest_pipeline.run_record import Artifact, CellRecord, CellStatus, RunRecord

SHA = "ab" * 32


def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((resources.files("pytest_pipeline") / "run.schema.json").read_text())
    return data


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def full_record() -> RunRecord:
    """Every field set, so every key to_dict can write is written."""
    cell = CellRecord(
        name="py312+attrs23.2",
        status=CellStatus.FAILED,
        tool="tox",
        env="py312",
        python="3.12",
        factors={"attrs": "23.2"},
        stages=("unit", "smoke"),
        exit_code=1,
        junit="cells/py312+attrs23.2/junit.xml",
        log="cells/py312+attrs23.2/log.txt",
        duration=2.5,
        started="2026-11-22T01:15:07+00:00",
        finished="2026-11-22T01:15:10+00:00",
        message="environment reused; tests failed",
        runs_pytest=True,
        ignore_outcome=True,
        tested="wheel",
        reused_from={"run": "20261122T011507Z-1234", "finished": "2026-11-22T01:10:00+00:00", "commit": "1a"},
    )
    return RunRecord(
        cells=(cell, CellRecord("lint", CellStatus.QUEUED, runs_pytest=False)),
        stages=("unit", "smoke"),
        artifact=Artifact("pkg-1.0-py3-none-any.whl", SHA),
        interrupted=True,
        started="2026-11-22T01:15:07+00:00",
        finished="2026-11-22T01:15:10+00:00",
        tool_versions={"tox": "4.67.15"},
        commit="1a2b3c4d" * 5,
        dirty=False,
        artifacts=(Artifact("pkg-1.0.tar.gz", SHA),),
        pytest_args=("-x", "-k", "smoke"),
        backend="auto",
        installer="uv",
    )


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("status", list(CellStatus))
def test_every_cell_status_validates(status: CellStatus) -> None:
    record = RunRecord(cells=(CellRecord("py312", status),))
    validator().validate(record.to_dict())


def test_a_record_with_every_key_validates() -> None:
    data = full_record().to_dict()
    assert {"commit", "dirty", "artifacts", "pytest_args", "backend", "installer"} <= set(data)
    validator().validate(data)


def test_the_schema_names_exactly_the_keys_a_record_writes() -> None:
    """A key added to RunRecord.to_dict without the schema (or the other way round) fails here."""
    data = full_record().to_dict()
    properties = schema()["properties"]
    assert set(properties) == set(data)
    assert set(schema()["$defs"]["cell"]["properties"]) == set(data["cells"][0])


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"version": 2}, "version"),
        ({"cells": [{"name": "py312", "status": "exploded"}]}, "cells"),
        ({"artifact": {"name": "pkg.whl", "sha256": "short"}}, "artifact"),
        ({"surprise": True}, ""),
    ],
)
def test_what_is_not_a_run_record_is_refused(change: dict[str, Any], path: str) -> None:
    data = {**RunRecord(cells=()).to_dict(), **change}
    errors = list(validator().iter_errors(data))
    assert errors
    assert any(".".join(str(part) for part in error.absolute_path).startswith(path) for error in errors)
