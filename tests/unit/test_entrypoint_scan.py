"""The cheap look for plugins: no false "nothing there", and pluggy runs when there is."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from pytest_pipeline import cli
from pytest_pipeline.entrypoint_scan import may_declare

GROUP = "pytest_pipeline"


def dist(site: Path, folder: str, entry_points: str | None) -> Path:
    path = site / folder
    path.mkdir(parents=True)
    (path / "METADATA").write_text("Metadata-Version: 2.1\nName: x\nVersion: 1\n", encoding="utf-8")
    if entry_points is not None:
        (path / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    return path


def test_nothing_declared(tmp_path: Path) -> None:
    dist(tmp_path, "a-1.0.dist-info", "[pytest11]\na = a\n\n[console_scripts]\npytest_pipeline = x:y\n")
    dist(tmp_path, "b-1.0.dist-info", None)
    (tmp_path / "c.egg-info").write_text("Name: c\n", encoding="utf-8")  # distutils: a file
    assert not may_declare(GROUP, [str(tmp_path), str(tmp_path / "missing")])


@pytest.mark.parametrize(
    ("folder", "text"),
    [
        ("plug-1.0.dist-info", "[pytest_pipeline]\njenkins = jenkins_pipeline\n"),
        ("Plug-1.0.DIST-INFO", "[console_scripts]\nx = y\n\n[ pytest_pipeline ]\nj = k\n"),
        ("plug.egg-info", "[pytest_pipeline]\nj = k\n"),
    ],
)
def test_a_declaring_distribution_is_seen(tmp_path: Path, folder: str, text: str) -> None:
    dist(tmp_path, folder, text)
    assert may_declare(GROUP, [str(tmp_path)])


def test_an_egg_folder_on_the_path(tmp_path: Path) -> None:
    egg = tmp_path / "plug-1.0-py3.11.egg"
    dist(egg, "EGG-INFO", "[pytest_pipeline]\nj = k\n")
    assert may_declare(GROUP, [str(egg)])


def test_what_cannot_be_listed_by_hand_counts_as_maybe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("x.py", "")
    assert may_declare(GROUP, [str(archive)])

    class Finder:
        @staticmethod
        def find_distributions(context: object = None) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert may_declare(GROUP, [])


def test_the_plugin_manager_asks_pluggy_only_when_a_plugin_may_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def record(self: object, group: str, name: str | None = None) -> int:
        calls.append(group)
        return 0

    monkeypatch.setattr("pluggy.PluginManager.load_setuptools_entrypoints", record)
    monkeypatch.setattr("pytest_pipeline.entrypoint_scan.may_declare", lambda group: False)
    cli.plugin_manager()
    assert calls == []
    monkeypatch.setattr("pytest_pipeline.entrypoint_scan.may_declare", lambda group: True)
    cli.plugin_manager()
    assert calls == [GROUP]
