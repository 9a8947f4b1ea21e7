"""Providers are plugins: registration, lookup, detection order, plugin errors."""

from __future__ import annotations

from collections.abc import Mapping

import pluggy
import pytest

from pytest_pipeline import ci, cli
from pytest_pipeline.ci.azure import AzurePipelines
from pytest_pipeline.ci.github import GitHubActions
from pytest_pipeline.ci.gitlab import GitLabCI
from pytest_pipeline.ci.provider import Provider
from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.errors import PipelineError


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return cli.plugin_manager(load_entry_points=False)


def test_builtin_providers_are_registered(pm: pluggy.PluginManager) -> None:
    assert ci.providers(pm) == {"gitlab": GitLabCI, "azure": AzurePipelines, "github": GitHubActions}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"GITHUB_ACTIONS": "true"}, GitHubActions),
        ({"TF_BUILD": "True"}, AzurePipelines),
        ({"GITLAB_CI": "true"}, GitLabCI),
        ({"CI": "true"}, None),
        ({"GITHUB_ACTIONS": "false"}, None),
        ({}, None),
    ],
)
def test_detection_from_the_environment(
    pm: pluggy.PluginManager, environ: dict[str, str], expected: type | None
) -> None:
    found = ci.detect(pm, environ)
    assert type(found) is expected if expected else found is None
    if found is not None:
        assert found.environ is environ


class Forgejo(GitHubActions):
    """Forgejo Actions sets GITHUB_ACTIONS=true too; a plugin can claim it first."""

    name = "forgejo"
    title = "Forgejo Actions"

    @classmethod
    def detect(cls, environ: Mapping[str, str]) -> bool:
        return environ.get("FORGEJO_ACTIONS") == "true"


class ForgejoPlugin:
    @hookimpl
    def pytest_pipeline_ci_providers(self) -> list[type[Provider]]:
        return [Forgejo]


def test_a_plugin_provider_is_asked_before_the_builtins(pm: pluggy.PluginManager) -> None:
    pm.register(ForgejoPlugin())
    assert next(iter(ci.providers(pm))) == "forgejo"
    both = {"GITHUB_ACTIONS": "true", "FORGEJO_ACTIONS": "true"}
    assert type(ci.detect(pm, both)) is Forgejo
    assert type(ci.detect(pm, {"GITHUB_ACTIONS": "true"})) is GitHubActions
    assert type(ci.get(pm, "forgejo")) is Forgejo


def test_two_providers_with_one_name_are_refused(pm: pluggy.PluginManager) -> None:
    class Impostor(Provider):
        name = "github"

    class Plugin:
        @hookimpl
        def pytest_pipeline_ci_providers(self) -> type[Provider]:
            return Impostor

    pm.register(Plugin())
    with pytest.raises(PipelineError, match="two CI providers are named 'github'"):
        ci.providers(pm)


@pytest.mark.parametrize("bad", [object, "github", Provider])
def test_a_plugin_returning_junk_is_named(pm: pluggy.PluginManager, bad: object) -> None:
    class Plugin:
        @hookimpl
        def pytest_pipeline_ci_providers(self) -> object:
            return bad

    pm.register(Plugin())
    with pytest.raises(PipelineError, match="CI provider plugin returned"):
        ci.providers(pm)


def test_unknown_provider_lists_the_known_ones(pm: pluggy.PluginManager) -> None:
    with pytest.raises(
        PipelineError, match="unknown CI provider 'jenkins'; choose one of azure, github, gitlab"
    ):
        ci.get(pm, "jenkins")


def test_base_provider_defaults_do_nothing_or_explain() -> None:
    class Minimal(Provider):
        name = "minimal"
        title = "Minimal CI"

    provider = Minimal({}, None)
    assert not provider.step_summary("x")
    with pytest.raises(PipelineError, match="Minimal CI has no dynamic-matrix format"):
        provider.matrix_output([{"name": "a"}])
    with pytest.raises(PipelineError, match="init-ci has no workflow for Minimal CI"):
        provider.workflow(ci.provider.WorkflowOptions())


@pytest.mark.parametrize(("cls", "limit"), [(GitHubActions, 256), (GitLabCI, 200)])
def test_matrix_limits(cls: type[Provider], limit: int) -> None:
    planned = [{"name": f"c{i}"} for i in range(limit + 1)]
    with pytest.raises(PipelineError, match=rf"{limit + 1} cells exceed .* limit of {limit} jobs"):
        cls({}).matrix_output(planned)
    assert cls({}).matrix_output(planned[:limit])


@pytest.mark.parametrize("cls", [GitHubActions, AzurePipelines, GitLabCI])
def test_an_empty_plan_is_an_error(cls: type[Provider]) -> None:
    with pytest.raises(PipelineError, match="the plan has no cells"):
        cls({}).matrix_output([])
