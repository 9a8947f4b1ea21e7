"""Keep every test hermetic: no CI, colour or pytest settings leak in from the caller."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Variables that change what pytest-pipeline or pytest do; tests that need one set it.
_LEAKY_PREFIXES = ("PYTEST_PIPELINE_", "GITHUB_", "TF_BUILD", "SYSTEM_", "BUILD_", "GITLAB_", "CI_")
_LEAKY_NAMES = (
    "CI",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "NO_COLOR",
    "FORCE_COLOR",
    "PY_COLORS",
    "TOX_ENV_NAME",
)


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name in _LEAKY_NAMES or name.startswith(_LEAKY_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "120")


@pytest.fixture(scope="session")
def junit_schema() -> Path:
    """pytest's JUnit schema (see ``pipeline_testkit.JUNIT_SCHEMA``)."""
    from pipeline_testkit import JUNIT_SCHEMA

    return JUNIT_SCHEMA
