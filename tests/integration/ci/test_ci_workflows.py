"""init-ci: every generated file passes its CI's published schema (offline, through
check-jsonschema's vendored copies) and has the jobs, dependencies and conditions the
fan-out / fan-in / publish design needs."""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from pytest_pipeline import ci, cli
from pytest_pipeline.ci import templates
from pytest_pipeline.ci.gitlab import GitLabCI
from pytest_pipeline.ci.provider import WorkflowOptions

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = {
    "github": ROOT / "examples" / "ci" / "github" / "pipeline.yml",
    "azure": ROOT / "examples" / "ci" / "azure-pipelines.yml",
    "gitlab": ROOT / "examples" / "ci" / ".gitlab-ci.yml",
}
CELLS = [
    {"name": "py310-attrs23", "python": "3.10"},
    {"name": "py312-attrs24", "python": "3.12"},
    {"name": "pypy", "python": "pypy3.10"},
]


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def init_ci(*args: str) -> int:
    return cli.main(["init-ci", *args])


@pytest.fixture
def generated(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name in ("github", "azure", "gitlab"):
        paths[name] = tmp_path / f"{name}.yml"
        assert init_ci(name, "--output", str(paths[name])) == 0
    return paths


def steps_running(steps: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [s for s in steps if text in str(s.get("run", s.get("bash", s.get("script", ""))))]


# --------------------------------------------------------------------------- schemas


@pytest.mark.parametrize("provider", ["github", "azure", "gitlab"])
def test_generated_workflow_passes_the_schema(
    generated: dict[str, Path],
    tmp_path: Path,
    provider: str,
    check_schema: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    no_publish = tmp_path / f"{provider}-no-publish.yml"
    assert init_ci(provider, "--no-publish", "--python", "3.13", "-o", str(no_publish)) == 0
    result = check_schema(provider, generated[provider], no_publish)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.parametrize("provider", ["github", "azure", "gitlab"])
def test_the_schema_check_has_teeth(
    generated: dict[str, Path],
    tmp_path: Path,
    provider: str,
    check_schema: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """The same check rejects the file with one structural mistake."""
    text = generated[provider].read_text(encoding="utf-8")
    broken_text = {
        "github": text.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1),
        "azure": text.replace("dependsOn: Test", "dependsOnn: Test", 1),
        "gitlab": text.replace("strategy: depend", "strategy: wait", 1),
    }[provider]
    assert broken_text != text
    broken = tmp_path / "broken.yml"
    broken.write_text(broken_text, encoding="utf-8")
    result = check_schema(provider, broken)
    assert result.returncode == 1, result.stdout + result.stderr


def test_the_gitlab_child_pipeline_passes_the_schema(
    tmp_path: Path, check_schema: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    child = tmp_path / "pipeline-cells.yml"
    child.write_text(GitLabCI({}).matrix_output(CELLS), encoding="utf-8")
    with_os = tmp_path / "pipeline-cells-os.yml"
    with_os.write_text(
        GitLabCI({}).matrix_output([{**c, "os": "saas-linux-small-amd64"} for c in CELLS]), "utf-8"
    )
    result = check_schema("gitlab", child, with_os)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- GitHub


def test_github_fans_out_fans_in_and_publishes_after_merge(generated: dict[str, Path]) -> None:
    wf = load(generated["github"])
    assert set(wf["on"]) >= {"push", "pull_request"}
    jobs = wf["jobs"]
    assert list(jobs) == ["plan", "test", "gate", "publish"]
    plan, test, gate, publish = (jobs[k] for k in ("plan", "test", "gate", "publish"))

    assert steps_running(plan["steps"], "uv build"), "built once, in the plan job"
    [emit] = steps_running(plan["steps"], "--format github")
    assert '>> "$GITHUB_OUTPUT"' in emit["run"]
    assert plan["outputs"]["matrix"] == "${{ steps." + emit["id"] + ".outputs.matrix }}"

    assert test["needs"] == "plan"
    assert test["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert test["strategy"]["fail-fast"] is False
    assert not steps_running(test["steps"], "uv build"), "cells install the plan job's build"
    [run] = steps_running(test["steps"], "pytest-pipeline run")
    assert run["run"] == 'pytest-pipeline run --cell "$CELL" --installpkg dist/*.whl'
    assert run["env"] == {"CELL": "${{ matrix.cell }}"}, "no ${{ }} inside the script (injection)"
    [upload] = [s for s in test["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "pipeline-reports/"

    assert set(gate["needs"]) == {"plan", "test"}
    assert gate["if"] == "always()"
    [verdict] = steps_running(gate["steps"], "pytest-pipeline gate")
    assert "--expect-cells-from pipeline-reports/plan.json" in verdict["run"]
    assert "if" not in verdict, "the gate step decides the job's result"
    for step in steps_running(gate["steps"], "pytest-pipeline merge") + steps_running(
        gate["steps"], "ci-report"
    ):
        assert step["if"] == "always()"

    assert publish["needs"] == "gate"
    assert publish["if"] == (
        "github.event_name == 'push' && "
        "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
    )
    [release] = steps_running(publish["steps"], "twine upload")
    assert release["run"].startswith(
        "pytest-pipeline publish --gate pipeline-reports/gate.json -- twine upload dist/*"
    )
    downloads = [s["with"]["name"] for s in publish["steps"] if "download-artifact" in s.get("uses", "")]
    assert sorted(downloads) == ["dist", "gate"], "publishes the tested build with its verdict"


def test_github_matrix_keys_match_the_workflow(generated: dict[str, Path]) -> None:
    from pytest_pipeline.ci.github import GitHubActions

    text = generated["github"].read_text(encoding="utf-8")
    used = set(re.findall(r"matrix\.(\w+)", text))
    line = GitHubActions({}).matrix_output(CELLS)
    produced = set(json.loads(line.split("=", 1)[1])["include"][0])
    assert used <= produced, f"the workflow reads {used - produced} that the plan does not write"


# --------------------------------------------------------------------------- Azure


def test_azure_is_a_stages_pipeline_with_a_gate_and_a_guarded_publish(generated: dict[str, Path]) -> None:
    wf = load(generated["azure"])
    stages = {stage["stage"]: stage for stage in wf["stages"]}
    assert list(stages) == ["Test", "Gate", "Publish"]
    jobs = {job["job"]: job for job in stages["Test"]["jobs"]}
    [emit] = [s for s in jobs["plan"]["steps"] if "--format azure" in s.get("bash", "")]
    assert emit["name"] == "emit"
    assert jobs["test"]["dependsOn"] == "plan"
    assert jobs["test"]["strategy"]["matrix"] == "$[ dependencies.plan.outputs['emit.matrix'] ]"
    assert jobs["test"]["pool"]["vmImage"] == "$(vmImage)"
    [publish_reports] = [s for s in jobs["test"]["steps"] if s.get("publish") == "pipeline-reports"]
    assert publish_reports["condition"] == "always()"
    assert publish_reports["artifact"] == "pipeline-reports-$(key)"

    assert stages["Gate"]["dependsOn"] == "Test"
    assert stages["Gate"]["condition"] == "always()"
    gate_steps = stages["Gate"]["jobs"][0]["steps"]
    assert any(
        "pytest-pipeline gate" in s.get("bash", "") and "--expect-cells-from" in s["bash"] for s in gate_steps
    )
    assert any("ci-report" in s.get("bash", "") and "--junit" in s["bash"] for s in gate_steps)

    assert stages["Publish"]["dependsOn"] == "Gate"
    assert stages["Publish"]["condition"] == (
        "and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'), "
        "ne(variables['Build.Reason'], 'PullRequest'))"
    )
    publish_steps = stages["Publish"]["jobs"][0]["steps"]
    assert any(
        "pytest-pipeline publish" in s.get("bash", "") and "twine upload" in s["bash"] for s in publish_steps
    )


def test_azure_default_branch_option(tmp_path: Path) -> None:
    out = tmp_path / "a.yml"
    assert init_ci("azure", "--default-branch", "trunk", "-o", str(out)) == 0
    assert "eq(variables['Build.SourceBranch'], 'refs/heads/trunk')" in out.read_text(encoding="utf-8")


def test_azure_matrix_variables_match_the_pipeline(generated: dict[str, Path]) -> None:
    from pytest_pipeline.ci.azure import AzurePipelines

    text = generated["azure"].read_text(encoding="utf-8")
    line = AzurePipelines({}).matrix_output(CELLS)
    produced = set(next(iter(json.loads(line.split("]", 1)[1]).values())))
    for variable in ("cell", "python", "vmImage", "key"):
        assert variable in produced
        assert f"$({variable})" in text


# --------------------------------------------------------------------------- GitLab


def test_gitlab_parent_builds_plans_and_triggers_the_child(generated: dict[str, Path]) -> None:
    wf = load(generated["gitlab"])
    assert wf["stages"] == ["plan", "test"]
    assert "pipeline-reports/pipeline-cells.yml" in wf["plan"]["artifacts"]["paths"]
    assert any(
        "--format gitlab > pipeline-reports/pipeline-cells.yml" in line for line in wf["plan"]["script"]
    )
    trigger = wf["cells"]
    assert trigger["needs"] == ["plan"]
    assert trigger["trigger"]["include"] == [
        {"artifact": "pipeline-reports/pipeline-cells.yml", "job": "plan"}
    ]
    assert trigger["trigger"]["strategy"] == "depend", "the parent's status is the child's (the gate's)"
    assert trigger["variables"]["PARENT_PIPELINE_ID"] == "$CI_PIPELINE_ID"
    assert trigger["variables"]["PARENT_PIPELINE_SOURCE"] == "$CI_PIPELINE_SOURCE"
    assert trigger["variables"]["PIPELINE_PUBLISH"] == "true"


def test_gitlab_child_has_cells_gate_and_guarded_publish() -> None:
    child = YAML(typ="safe").load(io.StringIO(GitLabCI({}).matrix_output(CELLS)))
    assert child["stages"] == ["test", "gate", "publish"]
    test = child["test"]
    assert test["needs"] == [{"pipeline": "$PARENT_PIPELINE_ID", "job": "plan"}]
    assert test["parallel"]["matrix"] == [
        {"CELL": "py310-attrs23", "IMAGE": "python:3.10", "KEY": "py310-attrs23"},
        {"CELL": "py312-attrs24", "IMAGE": "python:3.12", "KEY": "py312-attrs24"},
        {"CELL": "pypy", "IMAGE": "pypy:3.10", "KEY": "pypy"},
    ]
    assert test["artifacts"]["when"] == "always"
    gate = child["gate"]
    assert {"job": "test"} in gate["needs"]
    assert gate["when"] == "always"
    assert any(
        "pytest-pipeline gate --expect-cells-from pipeline-reports/plan.json" in line
        for line in gate["script"]
    )
    assert any('--reports-dir "pipeline-reports/fan-in/$KEY"' in line for line in test["script"])
    assert gate["artifacts"]["reports"]["junit"] == "pipeline-reports/junit.xml"
    publish = child["publish"]
    assert {"job": "gate"} in publish["needs"]
    assert publish["rules"] == [
        {
            "if": '$PIPELINE_PUBLISH == "true" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH '
            '&& $PARENT_PIPELINE_SOURCE == "push"'
        }
    ]
    assert any(line.startswith("pytest-pipeline publish --gate") for line in publish["script"])


def test_gitlab_no_publish_leaves_the_child_publish_off(tmp_path: Path) -> None:
    out = tmp_path / "g.yml"
    assert init_ci("gitlab", "--no-publish", "-o", str(out)) == 0
    assert "PIPELINE_PUBLISH" not in load(out)["cells"]["variables"]


@pytest.mark.parametrize("provider", ["github", "azure"])
def test_no_publish_drops_the_publish_job(tmp_path: Path, provider: str) -> None:
    out = tmp_path / "wf.yml"
    assert init_ci(provider, "--no-publish", "-o", str(out)) == 0
    text = out.read_text(encoding="utf-8")
    assert "twine" not in text
    assert "@@" not in text


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("provider", ["github", "azure", "gitlab"])
def test_examples_are_the_generators_output(provider: str) -> None:
    pm = cli.plugin_manager(load_entry_points=False)
    expected = ci.get(pm, provider).workflow(WorkflowOptions())
    where = EXAMPLES[provider].relative_to(ROOT)
    assert EXAMPLES[provider].read_text(encoding="utf-8") == expected, (
        f"examples drifted; regenerate: pytest-pipeline init-ci {provider} --force -o {where}"
    )


def test_no_placeholder_survives_rendering() -> None:
    for name in ("github.yml", "azure-pipelines.yml", "gitlab-ci.yml"):
        assert "@@" not in templates.render(name, WorkflowOptions())
    assert "@@" not in GitLabCI({}).matrix_output(CELLS)


def test_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "pipeline.yml"
    target.write_text("mine\n", encoding="utf-8")
    assert init_ci("github", "-o", str(target)) == 4
    assert "already exists; pass --force" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert init_ci("github", "-o", str(target), "--force") == 0
    assert target.read_text(encoding="utf-8") == EXAMPLES["github"].read_text(encoding="utf-8")


def test_default_path_is_at_the_repository_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert init_ci("github") == 0
    assert init_ci("azure") == 0
    assert init_ci("gitlab") == 0
    assert (tmp_path / ".github" / "workflows" / "pipeline.yml").is_file()
    assert (tmp_path / "azure-pipelines.yml").is_file()
    assert (tmp_path / ".gitlab-ci.yml").is_file()


def test_stdout_and_unknown_provider(capsys: pytest.CaptureFixture[str]) -> None:
    assert init_ci("gitlab", "-o", "-") == 0
    assert capsys.readouterr().out == EXAMPLES["gitlab"].read_text(encoding="utf-8")
    assert init_ci("jenkins") == 4
    assert "unknown CI provider 'jenkins'; choose one of azure, github, gitlab" in capsys.readouterr().err


# The gate records whether the working tree is clean and publish refuses a verdict given on
# a dirty tree, so whatever a job downloads into its checkout must be build or test output.
OUTPUT_DIRS = ("dist", "pipeline-reports")


def _is_output(path: str) -> bool:
    return path.strip("./").split("/")[0] in OUTPUT_DIRS


def test_github_downloads_only_into_output_folders(generated: dict[str, Path]) -> None:
    jobs = load(generated["github"])["jobs"]
    for name in ("test", "gate", "publish"):
        for step in jobs[name]["steps"]:
            if "download-artifact" in step.get("uses", ""):
                assert _is_output(step["with"]["path"]), (name, step)


def test_gitlab_artifacts_land_only_in_output_folders(generated: dict[str, Path]) -> None:
    parent = load(generated["gitlab"])
    child = YAML(typ="safe").load(io.StringIO(GitLabCI({}).matrix_output(CELLS)))
    for job in (parent["plan"], child["test"], child["gate"]):
        for path in job["artifacts"]["paths"]:
            assert _is_output(path), path
