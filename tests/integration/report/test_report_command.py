"""``pytest-pipeline report --html``: where it writes, what it links, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_pipeline import cli


def test_report_html_writes_into_the_reports_folder(
    make_reports: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_reports()
    capsys.readouterr()
    assert cli.main(["report", "--html"]) == 0
    page = (root / "report.html").read_text(encoding="utf-8")
    assert capsys.readouterr().out == "report: pipeline-reports/report.html\n"
    assert page.startswith("<!DOCTYPE html>")
    assert "GATE CLOSED (3)" in page
    assert '<a href="cells/py312-attrs23/log.txt">cells/py312-attrs23/log.txt</a>' in page
    assert not list(root.glob(".report.html.*"))  # the atomic writer's temporary file is gone


def test_report_elsewhere_links_logs_relative_to_itself(
    make_reports: Callable[..., Path], tmp_path: Path
) -> None:
    make_reports(name="downloads")
    output = tmp_path / "site" / "index.html"
    assert cli.main(["report", "--reports-dir", "downloads", "--html", str(output)]) == 0
    page = output.read_text(encoding="utf-8")
    assert '<a href="../downloads/cells/py310-attrs23/log.txt">' in page
    assert (output.parent / "../downloads/cells/py310-attrs23/log.txt").is_file()


def test_reports_dir_from_configuration(make_reports: Callable[..., Path], tmp_path: Path) -> None:
    make_reports(name="custom-reports")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest-pipeline]\nstages = ["unit", "integration"]\nreports-dir = "custom-reports"\n'
    )
    assert cli.main(["report", "--html"]) == 0
    assert (tmp_path / "custom-reports" / "report.html").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report"], "choose a format: --html"),
        (["report", "--html", "--reports-dir", "nowhere"], "reports folder nowhere does not exist"),
        (["report", "--html", "--reports-dir", "empty"], "no run.json, gate.json or junit.xml"),
        (["report", "--html", "empty", "--reports-dir", "pipeline-reports"], "is a folder"),
    ],
)
def test_usage_errors(
    make_reports: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    make_reports()
    (tmp_path / "empty").mkdir()
    assert cli.main(argv) == 4
    err = capsys.readouterr().err
    assert err.startswith("pytest-pipeline: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
