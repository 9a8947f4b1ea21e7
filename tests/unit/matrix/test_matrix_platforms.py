"""tox's ``platform``: cells not for this platform (or their CI runner's) are left out."""

from __future__ import annotations

import sys

import pytest

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix import platforms
from pytest_pipeline.matrix.model import Cell

OTHER = "no-such-platform"


def cell(name: str, platform: str | None = None, os: str | None = None, tool: str = "tox") -> Cell:
    config = {} if platform is None else {"platform": platform}
    return Cell(name, tool, name.partition("@")[0], config=config, os=os)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("label", "platform"),
    [
        ("ubuntu-latest", "linux"),
        ("ubuntu-24.04", "linux"),
        ("windows-2022", "win32"),
        ("macOS-latest", "darwin"),
        ("macos-14", "darwin"),
        ("self-hosted-gpu", None),
    ],
)
def test_ci_runner_labels_say_their_platform(label: str, platform: str | None) -> None:
    assert platforms.platform_of(label) == platform
    assert platforms.platform_of(None) == sys.platform


def test_the_whole_platform_must_match_as_in_tox() -> None:
    assert platforms.mismatch(cell("any")) is None
    assert platforms.mismatch(cell("here", sys.platform)) is None
    assert platforms.mismatch(cell("alternatives", f"{OTHER}|{sys.platform}")) is None
    assert platforms.mismatch(cell("prefix", sys.platform[:-1])) == (
        f"platform {sys.platform} does not match {sys.platform[:-1]}"
    )
    assert platforms.mismatch(cell("elsewhere", OTHER)) == f"platform {sys.platform} does not match {OTHER}"
    # nox has no such setting
    assert platforms.mismatch(cell("nox", OTHER, tool="nox")) is None


def test_a_cell_planned_for_a_ci_runner_is_judged_by_the_runner() -> None:
    assert platforms.mismatch(cell("w@windows-latest", "win32", os="windows-latest")) is None
    assert platforms.mismatch(cell("w@ubuntu-latest", "win32", os="ubuntu-latest")) == (
        "platform linux does not match win32"
    )
    assert platforms.mismatch(cell("w@gpu-box", "win32", os="gpu-box")) is None  # the job decides


def test_split_and_the_error_when_nothing_is_left() -> None:
    kept, off = platforms.split([cell("a"), cell("b", OTHER), cell("c", sys.platform)])
    assert [c.name for c in kept] == ["a", "c"]
    assert off == {"b": f"platform {sys.platform} does not match {OTHER}"}
    error = platforms.nothing_left({"b": "platform linux does not match win32", "c": "..."})
    assert error.message.startswith("no selected cell is for this platform: b: platform linux does not match")
    assert "(and 1 more)" in error.message


def test_an_invalid_platform_expression_is_a_usage_error_naming_the_env() -> None:
    with pytest.raises(PipelineError) as caught:
        platforms.mismatch(cell("py312", "linux("), "tox.ini")
    assert caught.value.code == 4
    assert caught.value.message.startswith(
        "tox.ini: [testenv:py312] platform 'linux(' is not a valid regular expression"
    )
