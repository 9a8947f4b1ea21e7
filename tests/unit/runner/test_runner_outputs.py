"""The reports folder: safe cell names, clearing our own files only, one run at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.runner import locks
from pytest_pipeline.runner.outputs import LOCK_NAME, check_cell_name, check_root, open_reports


@pytest.mark.parametrize("name", ["py312", "py312-django50", "tests-3.12(attrs='23.2')", "a b"])
def test_safe_cell_names(name: str) -> None:
    assert check_cell_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a\x00b", "c:x", "a\nb"])
def test_unsafe_cell_names(name: str) -> None:
    with pytest.raises(PipelineError, match="cannot be a folder name") as info:
        check_cell_name(name)
    assert info.value.code is ExitCode.USAGE_ERROR


def test_open_reports_clears_only_our_outputs(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    (root / "cells" / "old").mkdir(parents=True)
    for name in ("run.json", "junit.xml", "gate.json", "notes.txt", LOCK_NAME):
        (root / name).write_text("old")  # a previous run's folder: its lock file is there
    with open_reports(root) as reports:
        assert not (root / "cells").exists()
        assert not (root / "run.json").exists()
        assert (root / "notes.txt").read_text() == "old"
        assert reports.junit("py312") == root / "cells" / "py312" / "junit.xml"
        assert reports.relative(reports.log("py312")) == "cells/py312/log.txt"


def test_a_folder_no_run_used_keeps_its_files(tmp_path: Path) -> None:
    # gate.json from a `gate` of its own, a junit.xml of someone else's: not a run's outputs
    for name in ("junit.xml", "gate.json"):
        (tmp_path / name).write_text("theirs")
    with open_reports(tmp_path):
        assert (tmp_path / "junit.xml").read_text() == "theirs"
        assert (tmp_path / "gate.json").read_text() == "theirs"
    with open_reports(tmp_path):  # now a run used it: the next run clears its outputs
        assert not (tmp_path / "junit.xml").exists()


@pytest.mark.parametrize("folder", ["dist", "cells"])
def test_a_folder_no_run_used_with_our_folder_names_is_refused(tmp_path: Path, folder: str) -> None:
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "mypkg-0.1.whl").write_text("theirs")
    refused = f"already holds {folder}/, not written by pytest-pipeline"
    with pytest.raises(PipelineError, match=refused) as info, open_reports(tmp_path):
        pass  # pragma: no cover
    assert info.value.code is ExitCode.USAGE_ERROR
    assert (tmp_path / folder / "mypkg-0.1.whl").read_text() == "theirs"
    assert not (tmp_path / LOCK_NAME).exists()  # refused before it was marked as a run's


@pytest.mark.parametrize("relative", [".", "..", "../.."])
def test_a_reports_folder_that_is_or_holds_the_project_is_refused(tmp_path: Path, relative: str) -> None:
    project = tmp_path / "a" / "b" / "project"
    project.mkdir(parents=True)
    refused = r"^--reports-dir .* (is the project folder|holds the project)"
    with pytest.raises(PipelineError, match=refused) as info:
        check_root(project / relative, project, "--reports-dir")
    assert info.value.code is ExitCode.USAGE_ERROR
    assert "pipeline-reports" in info.value.message


def test_a_reports_folder_inside_or_beside_the_project_is_fine(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for folder in (project / "pipeline-reports", project / "build" / "reports", tmp_path / "elsewhere"):
        check_root(folder, project, "--reports-dir")


def test_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    with open_reports(tmp_path) as reports:
        (reports.root / "run.json").write_text("{}")
        with (
            pytest.raises(PipelineError, match="in use by another pytest-pipeline run") as info,
            open_reports(tmp_path),
        ):
            pass  # pragma: no cover
        assert info.value.code is ExitCode.USAGE_ERROR
        # the refused run wrote and removed nothing
        assert (reports.root / "run.json").read_text() == "{}"
    with open_reports(tmp_path):
        pass


def test_lock_names_its_owner(tmp_path: Path) -> None:
    import os

    with (
        locks.hold(tmp_path / LOCK_NAME),
        pytest.raises(locks.LockBusy) as info,
        locks.hold(tmp_path / LOCK_NAME),
    ):
        pass  # pragma: no cover
    assert info.value.owner == f"pid {os.getpid()}"


def test_unwritable_reports_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(PipelineError, match="cannot be written"), open_reports(blocker / "reports"):
        pass  # pragma: no cover
