"""Fixtures of the report tests (builders in report_builders.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from report_builders import MATRIX, Case, write_reports

from pytest_pipeline.run_record import CellStatus


@pytest.fixture
def make_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Build a reports folder under ``tmp_path`` (the working directory: no git; a pyproject.toml
    declaring the stages unit and integration)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest-pipeline]\nstages = ["unit", "integration"]\n', encoding="utf-8"
    )

    def make(
        cells: dict[str, tuple[str, dict[str, str], CellStatus, list[Case] | None]] | None = None,
        *,
        gate: bool = True,
        name: str = "pipeline-reports",
    ) -> Path:
        root = tmp_path / name
        root.mkdir()
        return write_reports(root, MATRIX if cells is None else cells, gate=gate)

    return make
