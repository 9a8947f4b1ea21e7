"""installed: importlib.metadata's answers about this tool's environment, asked once per process."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator

import pytest

from pytest_pipeline import installed


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    installed.version.cache_clear()
    installed.entry_point_distributions.cache_clear()
    yield
    installed.version.cache_clear()
    installed.entry_point_distributions.cache_clear()


def test_versions_are_importlib_s() -> None:
    assert installed.version("pluggy") == importlib.metadata.version("pluggy")
    assert installed.version("no-such-distribution-here") is None


def test_each_version_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A run asks for tox's version for every cell and for the gate: one METADATA parse.
    asked: list[str] = []
    real = importlib.metadata.version

    def counting(name: str) -> str:
        asked.append(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", counting)
    for _ in range(4):
        installed.version("pluggy")
        installed.version("no-such-distribution-here")
    assert asked == ["pluggy", "no-such-distribution-here"]


def test_entry_points_of_a_group_with_their_distributions() -> None:
    expected = [
        (entry.name, entry.dist.name if entry.dist else None, entry.dist.version if entry.dist else None)
        for entry in importlib.metadata.entry_points(group="tox")
    ]
    assert list(installed.entry_point_distributions("tox")) == expected
    assert ("pipeline", "pytest-pipeline-gate", installed.version("pytest-pipeline-gate")) in expected
    assert installed.entry_point_distributions("tox") is installed.entry_point_distributions("tox")
