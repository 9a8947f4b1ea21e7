"""Where a command finds the reports folder when it is not given one."""

from __future__ import annotations

from pathlib import Path

from pytest_pipeline.config import PipelineConfig
from pytest_pipeline.fileio import relative_to_cwd


def reports_dir(config: PipelineConfig) -> Path:
    """``reports-dir`` of ``[tool.pytest-pipeline]``, relative to the pyproject.toml it is
    set in (to the current directory without one), shown relative to where we are."""
    base = config.source.parent if config.source else Path.cwd()
    return relative_to_cwd(base / config.reports_dir)
