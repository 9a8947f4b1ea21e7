"""The differential harness fails loudly when the reference side could not run, and records
whatever our side left (or did not leave); fetching checks the pinned sha256.
tox, nox, pip and our command are replaced by canned outputs here."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from realworld import corpus, sides
from realworld.corpus import Case, CorpusError, Env, Project
from realworld.reading import Counts

TOX_OK = "py312: commands[0]> pytest\n===== 2 passed in 0.1s =====\n  py312: OK (1.0 seconds)\n"


def case(tool: str = "tox", env: str = "py312", *, runs_pytest: bool = True) -> Case:
    project = Project(name="demo", version="1.0", tool=tool, config="tox.ini", envs=())
    return Case(project, Env(env, runs_pytest=runs_pytest))


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[int, str]]:
    """Outputs by the first word after ``-m`` (tox, nox, pytest_pipeline); each call logs its argv."""
    outputs: dict[str, tuple[int, str]] = {"config": (0, "[testenv:py312]\nenv_dir = /nowhere\n")}

    def run_logged(
        argv: list[str], cwd: Path, environ: dict[str, str], log: Path, timeout: float
    ) -> tuple[int, str]:
        key = "config" if "config" in argv else argv[2]
        return outputs[key]

    monkeypatch.setattr(sides, "run_logged", run_logged)
    monkeypatch.setattr(sides, "distributions", lambda env_dir: {"demo": "1.0"})
    return outputs


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("Traceback (most recent call last):\nKeyError: 'x'\n", "tox crashed or never ran py312"),
        ("  py312: SKIP (0.01 seconds)\n", "tox skipped py312"),
        (
            "py312: commands[0]> pytest\nImportError\n  py312: FAIL code 4 (1 seconds)\n",
            "no pytest summary line",
        ),
    ],
)
def test_the_reference_side_that_did_not_run_is_never_compared(
    canned: dict[str, tuple[int, str]], tmp_path: Path, output: str, message: str
) -> None:
    canned["tox"] = (1 if "SKIP" not in output else 0, output)
    with pytest.raises(CorpusError, match=message):
        sides.run_reference(case(), tmp_path, tmp_path, {})


def test_a_reference_side_that_ran_gives_verdict_counts_and_packages(
    canned: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    canned["tox"] = (0, TOX_OK)
    side = sides.run_reference(case(), tmp_path, tmp_path, {})
    assert (side.verdict, side.ok, side.counts, side.packages) == (
        "OK",
        True,
        Counts(passed=2),
        {"demo": "1.0"},
    )


def test_a_unittest_env_needs_no_summary_line(canned: dict[str, tuple[int, str]], tmp_path: Path) -> None:
    canned["tox"] = (0, "py312: commands[0]> python -m unittest\nRan 3 tests\nOK\n  py312: OK (1 seconds)\n")
    side = sides.run_reference(case(runs_pytest=False), tmp_path, tmp_path, {})
    assert (side.ok, side.counts) == (True, None)


def test_a_nox_session_nox_did_not_run_is_never_compared(
    canned: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    canned["nox"] = (1, "nox > Error while collecting sessions.\n")
    with pytest.raises(CorpusError, match=r"nox crashed or never ran tests-3\.12"):
        sides.run_reference(case("nox", "tests-3.12"), tmp_path, tmp_path, {})


def test_our_side_without_results_is_recorded_as_none(
    canned: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    canned["pytest_pipeline"] = (4, "pytest-pipeline: error: unknown cell py312\n")
    side = sides.run_ours(case(), tmp_path, tmp_path / "reports", tmp_path, {})
    assert (side.verdict, side.ok, side.counts, side.packages) == ("no-result(exit 4)", False, None, None)


def test_our_side_reads_run_json_and_the_cells_junit(
    canned: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    canned["pytest_pipeline"] = (0, "")
    reports = tmp_path / "reports"
    (reports / "cells" / "py312").mkdir(parents=True)
    cell = {"name": "py312", "status": "passed", "junit": "cells/py312/junit.xml", "message": ""}
    (reports / "run.json").write_text(json.dumps({"cells": [cell]}))
    (reports / "cells" / "py312" / "junit.xml").write_text(
        '<testsuites><testsuite><testcase name="a"/><testcase name="b"/></testsuite></testsuites>'
    )
    side = sides.run_ours(case(), tmp_path, reports, tmp_path, {})
    assert (side.verdict, side.ok, side.counts) == ("passed", True, Counts(passed=2))


SDIST = Project(
    name="demo",
    version="1.0",
    tool="tox",
    config="tox.ini",
    envs=(),
    sdist="demo-1.0.tar.gz",
    sha256="0" * 64,
)


def test_a_fetched_file_with_another_sha256_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(corpus.CACHE_VARIABLE, str(tmp_path / "cache"))

    def download(project: Project, into: Path) -> Path:
        (into / "demo-1.0.tar.gz").write_bytes(b"not the pinned file")
        return into / "demo-1.0.tar.gz"

    monkeypatch.setattr(corpus, "_pip_download", download)
    with pytest.raises(CorpusError, match="the manifest pins 0000"):
        corpus.fetch(SDIST)
    assert not (tmp_path / "cache" / "demo-1.0.tar.gz").exists()


def test_a_cached_file_with_the_pinned_sha256_is_not_fetched_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(corpus.CACHE_VARIABLE, str(tmp_path))
    (tmp_path / "demo-1.0.tar.gz").write_bytes(b"pinned")
    pinned = Project(**{**SDIST.__dict__, "sha256": hashlib.sha256(b"pinned").hexdigest()})

    def no_download(project: Project, into: Path) -> Path:
        raise AssertionError("downloaded although cached")

    monkeypatch.setattr(corpus, "_pip_download", no_download)
    assert corpus.fetch(pinned) == tmp_path / "demo-1.0.tar.gz"
