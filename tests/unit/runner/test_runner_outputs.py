"""The reports folder: safe cell names, clearing our own files only, one run at a time, and
what its lock file says of the run (running, finished, failed)."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path

import pytest

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.run_record import RunRecord
from pytest_pipeline.runner import locks
from pytest_pipeline.runner.outputs import (
    LOCK_NAME,
    RunMark,
    check_cell_name,
    check_root,
    open_reports,
    unfinished_run,
)


@pytest.mark.parametrize("name", ["py312", "py312-django50", "tests-3.12(attrs='23.2')", "a b"])
def test_safe_cell_names(name: str) -> None:
    assert check_cell_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a\x00b", "c:x", "a\nb"])
def test_unsafe_cell_names(name: str) -> None:
    with pytest.raises(PipelineError, match="cell names become folder names") as info:
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


# --------------------------------------------------------------------------- the run's mark


def _lock_says(root: Path) -> RunMark | None:
    return RunMark.parse((root / LOCK_NAME).read_text())


def test_the_lock_says_running_until_the_run_record_is_written(tmp_path: Path) -> None:
    with open_reports(tmp_path, run_id="r1") as reports:
        mark = _lock_says(tmp_path)
        assert mark is not None
        assert (mark.run, mark.pid, mark.state) == ("r1", os.getpid(), "running")
        assert (tmp_path / LOCK_NAME).read_text().splitlines()[0] == str(os.getpid())  # the owner's line
        reports.write_run_record(RunRecord(cells=()))
        assert _lock_says(tmp_path) == dataclasses.replace(mark, state="finished")
    assert unfinished_run(tmp_path) is None


def test_a_run_that_stops_on_an_error_before_its_record_is_marked_failed(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="the build failed"), open_reports(tmp_path, run_id="r1"):
        raise PipelineError("the build failed", ExitCode.INCOMPLETE)
    mark = _lock_says(tmp_path)
    assert mark is not None
    assert mark.state == "failed"
    why = unfinished_run(tmp_path)
    assert why is not None
    assert why.startswith(f"the run r1 (pid {os.getpid()}, started ")
    assert "stopped on an error before it recorded how its cells ended" in why


def test_a_run_killed_before_its_record_leaves_an_unfinished_folder(tmp_path: Path) -> None:
    killed = RunMark("r1", 4242, "2026-12-05T10:00:00+00:00")  # the lock is free: its holder is gone
    (tmp_path / LOCK_NAME).write_text(killed.text())
    assert unfinished_run(tmp_path) == (
        "the run r1 (pid 4242, started 2026-12-05T10:00:00+00:00) never finished (it was killed); "
        "the reports of its cells are partial: run it again"
    )


def test_a_run_still_in_progress_is_unfinished_too(tmp_path: Path) -> None:
    with open_reports(tmp_path, run_id="r1"):
        why = unfinished_run(tmp_path)
    assert why is not None
    assert why.endswith("is still running; judge its results when it is done")


@pytest.mark.parametrize("text", ["", "1234\n", "1234\nnot json\n", '1234\n{"run": "r1"}\n'])
def test_a_lock_without_a_mark_is_no_unfinished_run(tmp_path: Path, text: str) -> None:
    (tmp_path / LOCK_NAME).write_text(text)  # an older version's lock, or none at all
    assert RunMark.parse(text) is None
    assert unfinished_run(tmp_path) is None
    assert unfinished_run(tmp_path / "elsewhere") is None


def test_a_full_disk_in_the_reports_folder_is_one_error_naming_it(tmp_path: Path) -> None:
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "cells" / "a" / "log.txt"))
    with pytest.raises(PipelineError) as info, open_reports(tmp_path):
        raise full
    assert info.value.code is ExitCode.INCOMPLETE
    assert info.value.message.startswith(
        f"reports folder {tmp_path}: No space left on device (errno 28, ENOSPC) writing {full.filename}; "
    )
    assert "free some space there or pass another --reports-dir" in info.value.message
    assert _lock_says(tmp_path).state == "failed"  # type: ignore[union-attr]


def test_a_full_disk_elsewhere_is_left_as_it_is(tmp_path: Path) -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/somewhere/else")
    with pytest.raises(OSError, match="No space left") as info, open_reports(tmp_path / "reports"):
        raise full
    assert info.value is full
