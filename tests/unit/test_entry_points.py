"""entry_points.may_declare: says no only where importlib.metadata finds no entry point
of the group, and yes (or "cannot tell") wherever it might find one."""

from __future__ import annotations

import importlib.metadata
import sys
import zipfile
from pathlib import Path

import pytest

from pytest_pipeline.entry_points import may_declare

GROUP = "pytest_pipeline"


def found_by_importlib(path: list[str]) -> list[str]:
    """The oracle: what pluggy's load_setuptools_entrypoints would load from ``path``."""
    return [
        ep.name
        for dist in importlib.metadata.distributions(path=path)
        for ep in dist.entry_points
        if ep.group == GROUP
    ]


def metadata_folder(site: Path, name: str, entry_points: str | bytes | None) -> Path:
    folder = site / name
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.partition('-')[0]}\nVersion: 1.0\n")
    if isinstance(entry_points, bytes):
        (folder / "entry_points.txt").write_bytes(entry_points)
    elif entry_points is not None:
        (folder / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("folder", "entry_points"),
    [
        ("ci_jenkins-1.0.dist-info", "[pytest_pipeline]\njenkins = ci_jenkins\n"),
        (
            "ci_jenkins-1.0.dist-info",
            "[console_scripts]\nx = y:z\n\n  [pytest_pipeline]  \njenkins = ci_jenkins\n",
        ),
        ("CI_Jenkins-1.0.DIST-INFO", "[pytest_pipeline]\njenkins = ci_jenkins\n"),
        ("ci_jenkins-1.0-py3.11.egg-info", "[pytest_pipeline]\njenkins = ci_jenkins\n"),
    ],
)
def test_a_distribution_declaring_the_group_is_seen(tmp_path: Path, folder: str, entry_points: str) -> None:
    metadata_folder(tmp_path, folder, entry_points)
    assert found_by_importlib([str(tmp_path)]) == ["jenkins"]
    assert may_declare(GROUP, [str(tmp_path)], finders=[])


def test_other_groups_naming_our_modules_are_not_the_group(tmp_path: Path) -> None:
    # pytest-pipeline's own metadata: its module names hold the group's name.
    metadata_folder(
        tmp_path,
        "pytest_pipeline_gate-0.1.0.dist-info",
        "[pytest11]\npipeline = pytest_pipeline.plugin\n\n[tox]\npipeline = pytest_pipeline.tox_plugin\n",
    )
    metadata_folder(tmp_path, "other-2.0.dist-info", None)
    metadata_folder(tmp_path, "legacy-1.0.egg-info", "[console_scripts]\nlegacy = legacy:main\n")
    (tmp_path / "single_file-1.0.egg-info").write_text("Metadata-Version: 1.0\nName: single-file\n")
    path = [str(tmp_path), str(tmp_path / "missing")]
    assert found_by_importlib(path) == []
    assert not may_declare(GROUP, path, finders=[])


def test_an_odd_section_header_naming_the_group_counts(tmp_path: Path) -> None:
    # importlib.metadata reads "[[pytest_pipeline]]" as the group: when in doubt, scan.
    metadata_folder(tmp_path, "odd-1.0.dist-info", "[[pytest_pipeline]]\nodd = odd\n")
    assert found_by_importlib([str(tmp_path)]) == ["odd"]
    assert may_declare(GROUP, [str(tmp_path)], finders=[])
    metadata_folder(tmp_path / "other", "odder-1.0.dist-info", "[ pytest_pipeline ]\nodder = odder\n")
    assert may_declare(GROUP, [str(tmp_path / "other")], finders=[])


def test_a_file_it_cannot_decode_leaves_the_answer_to_importlib(tmp_path: Path) -> None:
    metadata_folder(tmp_path, "latin-1.0.dist-info", b"[console_scripts]\nx = caf\xe9:main\n")
    assert may_declare(GROUP, [str(tmp_path)], finders=[])


def test_a_zip_or_egg_on_the_path_cannot_be_told_cheaply(tmp_path: Path) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(
            "zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n"
        )
        zipped.writestr("zipped-1.0.dist-info/entry_points.txt", "[pytest_pipeline]\nzipped = zipped\n")
    assert found_by_importlib([str(archive)]) == ["zipped"]
    assert may_declare(GROUP, [str(archive)], finders=[])
    egg = tmp_path / "old-1.0-py3.11.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    assert may_declare(GROUP, [str(egg)], finders=[])


def test_a_finder_that_lists_distributions_itself_cannot_be_read_around(tmp_path: Path) -> None:
    class OwnDistributions:
        def find_distributions(self, context: object = None) -> list[object]:
            return []

    class ModulesOnly:
        def find_spec(self, name: str, path: object = None, target: object = None) -> None:
            return None

    from importlib.machinery import PathFinder

    assert not may_declare(GROUP, [str(tmp_path)], finders=[ModulesOnly(), PathFinder])
    assert may_declare(GROUP, [str(tmp_path)], finders=[OwnDistributions(), PathFinder])


def test_this_environment_agrees_with_importlib() -> None:
    # The test environment has no plugin of the group: the cheap answer is no, as the scan's.
    assert found_by_importlib(sys.path) == []
    assert not may_declare(GROUP)
