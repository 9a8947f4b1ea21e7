"""Logging-command syntax and escaping of the built-in providers."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from pytest_pipeline.ci import azure, github, gitlab
from pytest_pipeline.results import Outcome, TestRef


def failure(**changes: object) -> TestRef:
    data: dict[str, object] = {
        "cell": "py312",
        "stage": "unit",
        "classname": "tests.unit.test_greet",
        "name": "test_hello",
        "outcome": Outcome.FAILED,
        "message": "assert 'a' == 'b'",
        "file": "tests/unit/test_greet.py",
        "line": 12,
    }
    data.update(changes)
    return TestRef(**data)  # type: ignore[arg-type]


def unescape_github(text: str) -> str:
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


def unescape_azure(text: str) -> str:
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%3B", ";"), ("%AZP25", "%")):
        text = text.replace(code, char)
    return text


# --------------------------------------------------------------------------- GitHub


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"),
        ("k:v,w", "k:v,w", "k%3Av%2Cw"),
        ("%0A literally", "%250A literally", "%250A literally"),
    ],
)
def test_github_escaping(raw: str, data: str, prop: str) -> None:
    assert github.escape_data(raw) == data
    assert github.escape_property(raw) == prop
    assert unescape_github(github.escape_property(raw)) == raw


def test_github_error_annotation_names_file_line_and_test() -> None:
    out = io.StringIO()
    github.GitHubActions({}, out).annotate(failure(message="boom: x, y\nsecond line"))
    line = out.getvalue()
    assert line.count("\n") == 1, "one command is one line"
    assert line.endswith("\n")
    match = re.fullmatch(r"::error (?P<props>[^:]*)::(?P<msg>.*)\n", line)
    assert match, line
    props = dict(item.split("=", 1) for item in match["props"].split(","))
    assert props["file"] == "tests/unit/test_greet.py"
    assert props["line"] == "12"
    assert unescape_github(props["title"]) == "py312 / unit: tests.unit.test_greet::test_hello"
    assert unescape_github(match["msg"]) == "boom: x, y\nsecond line"


def test_github_annotation_without_location_and_flaky_warning() -> None:
    out = io.StringIO()
    provider = github.GitHubActions({}, out)
    provider.annotate(failure(file=None, line=None, outcome=Outcome.PASSED, attempts=3), "warning")
    line = out.getvalue()
    assert line.startswith("::warning title=")
    assert "file=" not in line
    assert "line=" not in line
    assert "passed after 3 attempts" in line


def test_github_group_wraps_and_closes_on_error() -> None:
    out = io.StringIO()
    provider = github.GitHubActions({}, out)

    def fail_inside() -> None:
        with provider.group("cell py312\nstage unit"):
            out.write("inside\n")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_inside()
    assert out.getvalue() == "::group::cell py312%0Astage unit\ninside\n::endgroup::\n"


def test_github_step_summary_appends_to_the_file(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n", encoding="utf-8")
    provider = github.GitHubActions({"GITHUB_STEP_SUMMARY": str(target)}, io.StringIO())
    assert provider.step_summary("## ours")
    assert target.read_text(encoding="utf-8") == "earlier step\n## ours\n"
    assert not github.GitHubActions({}, io.StringIO()).step_summary("x"), "no file outside Actions"


def test_github_matrix_output_is_one_line_of_json() -> None:
    cells: list[dict[str, str | None]] = [
        {"name": "py310-attrs23", "python": "3.10"},
        {"name": "py", "python": None},
    ]
    text = github.GitHubActions({}).matrix_output(cells)
    assert "\n" not in text
    key, _, value = text.partition("=")
    assert key == "matrix"
    data = json.loads(value)
    assert data == {
        "include": [
            {"cell": "py310-attrs23", "python": "3.10", "os": "ubuntu-latest", "key": "py310-attrs23"},
            {"cell": "py", "python": "3.x", "os": "ubuntu-latest", "key": "py"},
        ]
    }


# --------------------------------------------------------------------------- Azure


@pytest.mark.parametrize("raw", ["plain", "50% done", "a;b]c", "x\r\ny", "%AZP25 already"])
def test_azure_escaping_round_trips(raw: str) -> None:
    escaped = azure.escape_property(raw)
    assert ";" not in escaped
    assert "]" not in escaped
    assert "\n" not in escaped
    assert unescape_azure(escaped) == raw
    assert unescape_azure(azure.escape_data(raw)) == raw


def test_azure_logissue() -> None:
    out = io.StringIO()
    azure.AzurePipelines({}, out).annotate(failure(message="bad; really]"))
    line = out.getvalue().rstrip("\n")
    match = re.fullmatch(r"##vso\[task\.logissue (?P<props>[^\]]*)\](?P<msg>.*)", line)
    assert match, line
    props = dict(item.split("=", 1) for item in match["props"].split(";"))
    assert props == {"type": "error", "sourcepath": "tests/unit/test_greet.py", "linenumber": "12"}
    assert unescape_azure(match["msg"]) == "py312 / unit: tests.unit.test_greet::test_hello: bad; really]"


def test_azure_matrix_output_variable() -> None:
    cells = [
        {"name": "py310-attrs23", "python": "3.10"},
        {"name": "3.12", "python": "3.12", "os": "windows-latest"},
    ]
    text = azure.AzurePipelines({}).matrix_output(cells)
    prefix = "##vso[task.setVariable variable=matrix;isOutput=true]"
    assert text.startswith(prefix)
    data = json.loads(unescape_azure(text[len(prefix) :]))
    assert list(data) == ["py310_attrs23", "cell_3_12_windows_latest"]
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) for name in data)
    assert data["py310_attrs23"] == {
        "cell": "py310-attrs23",
        "python": "3.10",
        "vmImage": "ubuntu-latest",
        "key": "py310-attrs23",
    }
    assert data["cell_3_12_windows_latest"]["vmImage"] == "windows-latest"


def test_azure_summary_and_junit(tmp_path: Path) -> None:
    out = io.StringIO()
    provider = azure.AzurePipelines({"AGENT_TEMPDIRECTORY": str(tmp_path)}, out)
    assert provider.step_summary("## hello")
    assert provider.publish_junit(tmp_path / "junit.xml")
    upload, publish = out.getvalue().splitlines()
    path = Path(upload.removeprefix("##vso[task.uploadsummary]"))
    assert path.parent == tmp_path
    assert path.read_text(encoding="utf-8") == "## hello"
    assert publish.startswith("##vso[results.publish type=JUnit;mergeResults=true;resultFiles=")
    assert str((tmp_path / "junit.xml").resolve()) in publish


def test_azure_group() -> None:
    out = io.StringIO()
    with azure.AzurePipelines({}, out).group("cell a"):
        out.write("log\n")
    assert out.getvalue() == "##[group]cell a\nlog\n##[endgroup]\n"


# --------------------------------------------------------------------------- GitLab


def test_gitlab_sections_are_collapsed_and_matched() -> None:
    out = io.StringIO()
    with gitlab.GitLabCI({}, out).group("cell py3.12 / attrs 24"):
        out.write("log\n")
    start, body, end, _ = out.getvalue().split("\n")
    match = re.fullmatch(
        r"\x1b\[0Ksection_start:(\d+):([A-Za-z0-9_.-]+)\[collapsed=true\]\r\x1b\[0K(.*)", start
    )
    assert match, repr(start)
    assert match[3] == "cell py3.12 / attrs 24"
    assert body == "log"
    end_match = re.fullmatch(r"\x1b\[0Ksection_end:(\d+):([A-Za-z0-9_.-]+)\r\x1b\[0K", end)
    assert end_match
    assert end_match[2] == match[2]
    assert int(end_match[1]) >= int(match[1])


def test_gitlab_has_no_annotations_or_summary_page(tmp_path: Path) -> None:
    out = io.StringIO()
    provider = gitlab.GitLabCI({}, out)
    provider.annotate(failure())
    assert out.getvalue() == ""
    assert not provider.step_summary("x")
    assert not provider.publish_junit(tmp_path / "junit.xml")


@pytest.mark.parametrize(
    ("python", "image"),
    [
        ("3.12", "python:3.12"),
        ("3.9", "python:3.9"),
        ("pypy3.10", "pypy:3.10"),
        ("3.x", "python:3"),
        ("3", "python:3"),
    ],
)
def test_gitlab_images(python: str, image: str) -> None:
    assert gitlab.image_for(python) == image
