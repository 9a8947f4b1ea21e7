"""The corpus manifest: what it must declare, which cases a run selects, and the check that
a project's tree ships the config it is in the corpus for."""

from __future__ import annotations

from pathlib import Path

import pytest

from realworld.corpus import MANIFEST, CorpusError, Project, check_config, load_manifest, select


def test_the_manifest_pins_every_sdist_and_selects_a_fast_subset() -> None:
    projects = load_manifest()
    assert len([p for p in projects if p.sdist]) >= 8
    for project in projects:
        assert project.fixture or len(project.sha256 or "") == 64, project.name
        assert project.envs, project.name
    configs = {project.config for project in projects}
    assert {"tox.ini", "tox.toml", "pyproject.toml [tool.tox]", "noxfile.py"} <= configs
    fast = select(projects, "fast")
    assert fast
    assert {case.project.tool for case in fast} == {"tox", "nox"}
    assert len(select(projects, "all")) > len(fast)
    assert {case.project.name for case in select(projects, "click,pluggy")} == {"click", "pluggy"}


def test_an_unknown_project_is_refused() -> None:
    with pytest.raises(CorpusError, match=r"no project nosuch in corpus\.toml"):
        select(load_manifest(), "nosuch")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('tool = "make"\nsdist = "x.tar.gz"\nsha256 = "0"', "tool must be one of"),
        ('tool = "tox"\nsdist = "x.tar.gz"', "an sdist needs its sha256"),
        ('tool = "tox"', "either sdist"),
        ('tool = "tox"\nfixture = "x"\nfats = true', "unknown keys fats"),
    ],
)
def test_a_bad_entry_names_the_file_and_the_problem(tmp_path: Path, entry: str, message: str) -> None:
    manifest = tmp_path / "corpus.toml"
    manifest.write_text(f'[[project]]\nname = "x"\nversion = "1"\nconfig = "tox.ini"\nenvs = []\n{entry}\n')
    with pytest.raises(CorpusError, match=message) as raised:
        load_manifest(manifest)
    assert str(manifest) in str(raised.value)


def project(config: str) -> Project:
    return Project(name="x", version="1", tool="tox", config=config, envs=())


def test_a_tree_must_ship_the_config_it_is_chosen_for(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.pytest.ini_options]\n')
    with pytest.raises(CorpusError, match=r"ships no tox\.ini"):
        check_config(project("tox.ini"), tmp_path)
    with pytest.raises(CorpusError, match=r"has no \[tool\.tox\]"):
        check_config(project("pyproject.toml [tool.tox]"), tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.tox]\nenv_list = ["3.12"]\n')
    check_config(project("pyproject.toml [tool.tox]"), tmp_path)


def test_the_fixture_projects_ship_their_config() -> None:
    for entry in load_manifest():
        if entry.fixture:
            check_config(entry, MANIFEST.parent / "fixtures" / entry.fixture)
