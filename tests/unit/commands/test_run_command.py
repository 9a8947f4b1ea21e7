"""``pytest-pipeline run`` options: how -e/-m values become cell patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline import cli
from pytest_pipeline.commands.run import options_from
from pytest_pipeline.runner.run import RunOptions


def parse(*argv: str) -> RunOptions:
    pm = cli.plugin_manager(load_entry_points=False)
    args = cli.build_parser(pm).parse_args(["run", *argv])
    args.plugin_manager = pm  # as cli.main hands it to every command
    options = options_from(args)
    assert isinstance(options, RunOptions)
    return options


@pytest.mark.parametrize(
    ("argv", "cells"),
    [
        (["-e", "py310,py312", "-e", "lint"], ("py310", "py312", "lint")),
        (["-e", " py310 , ,py312 "], ("py310", "py312")),
        # a nox session name keeps the commas inside its parentheses
        (["-e", "tests-3.10(attrs='23.2', extra='x')"], ("tests-3.10(attrs='23.2', extra='x')",)),
        (
            ["-e", "tests(python='3.10', attrs='23.2'),lint"],
            ("tests(python='3.10', attrs='23.2')", "lint"),
        ),
        (["--cell", "py312@windows-latest"], ("py312@windows-latest",)),
        ([], ()),
    ],
)
def test_cell_patterns(tmp_path: Path, argv: list[str], cells: tuple[str, ...]) -> None:
    assert parse("--project", str(tmp_path), *argv).cells == cells


def test_labels_are_comma_lists(tmp_path: Path) -> None:
    assert parse("--project", str(tmp_path), "-m", "fast,slow", "-m", "ci").labels == ("fast", "slow", "ci")


@pytest.mark.parametrize(
    ("environ", "provider"),
    [({"GITHUB_ACTIONS": "true"}, "github"), ({"TF_BUILD": "True"}, "azure"), ({}, None)],
)
def test_the_ci_is_detected_so_that_cell_logs_are_folded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], provider: str | None
) -> None:
    for name in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    found = parse("--project", str(tmp_path)).ci
    assert (found.name if found else None) == provider
