"""RunRecord.read: the one reading of a run.json that gate, report, status and rerun share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_pipeline.run_record import CellRecord, CellStatus, RunRecord


def test_a_written_record_reads_back(tmp_path: Path) -> None:
    record = RunRecord(cells=(CellRecord("py312", CellStatus.PASSED, junit="cells/py312/junit.xml"),))
    path = tmp_path / "run.json"
    path.write_text(json.dumps(record.to_dict()))
    assert RunRecord.read(path) == record


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "Expecting"),
        ("[1, 2]", "not a JSON object"),
        ('{"version": 7, "cells": []}', "run record version 7 is not supported"),
        ('{"version": 1, "cells": [{"status": "passed"}]}', "KeyError: 'name'"),
        ('{"version": 1, "cells": ["py312"]}', "TypeError"),
        ('{"version": 1, "cells": [], "tool_versions": [1]}', "TypeError"),
        ('{"version": 1, "cells": [{"name": "a", "status": "nope"}]}', "'nope' is not a valid CellStatus"),
        ('{"version": 1, "cells": [{"name": "a", "status": "passed", "factors": "x"}]}', "dictionary update"),
    ],
)
def test_whatever_is_wrong_inside_is_a_value_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "run.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        RunRecord.read(path)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        RunRecord.read(tmp_path / "run.json")
