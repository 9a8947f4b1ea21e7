"""The source fingerprint that lets a warm run skip rebuilding an unchanged project, and the
early build that runs while discovery asks tox for the matrix."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.runner import build


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text("[project]\nname='pkg'\n")
    return root


def test_fingerprint_changes_with_sources_only(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = build.source_fingerprint(root)
    for ignored in (
        ".tox/py/x",
        ".nox/s/y",
        "pipeline-reports/run.json",
        "src/pkg/__pycache__/a.pyc",
        ".git/objects/z",
        # what a cell running pytest --cov leaves in the project, and other build output
        ".coverage",
        ".coverage.host.123",
        "coverage.xml",
        "htmlcov/index.html",
        "wheelhouse/pkg-1.0-py3-none-any.whl",
        "src/pkg.egg-info/PKG-INFO",
    ):
        path = root / ignored
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("noise")
    assert build.source_fingerprint(root) == first
    reports = root / "custom-reports"
    reports.mkdir()
    (reports / "junit.xml").write_text("<x/>")
    assert build.source_fingerprint(root, skip=(reports,)) == first
    module = root / "src" / "pkg" / "__init__.py"
    module.write_text("x = 2\n")
    os.utime(module, ns=(1, 1))
    second = build.source_fingerprint(root)
    assert second != first
    # A subpackage named like an output folder is source: it would be in the wheel.
    subpackage = root / "src" / "pkg" / "build" / "__init__.py"
    subpackage.parent.mkdir()
    subpackage.write_text("")
    assert build.source_fingerprint(root) != second


def test_fingerprint_follows_git_head(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / ".git" / "refs" / "heads").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".git" / "refs" / "heads" / "main").write_text("aaaa\n")
    first = build.source_fingerprint(root)
    (root / ".git" / "refs" / "heads" / "main").write_text("bbbb\n")
    assert build.source_fingerprint(root) != first


def make_wheel(folder: Path, name: str = "pkg") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            f"{name}-1.0.dist-info/METADATA", f"Name: {name}\nVersion: 1.0\nRequires-Dist: attrs>=23\n"
        )
    return path


def test_a_kept_build_is_reused_while_the_sources_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    builds: list[Path] = []

    def fake_build(project: Path, out_dir: Path, *, uv: str | None, log: Path, cancel: object) -> build.Wheel:
        builds.append(project)
        return build.read_wheel(make_wheel(out_dir))

    monkeypatch.setattr(build, "build_wheel", fake_build)
    cache = tmp_path / "cache"

    def build_in(out: str, **options: Any) -> build.Built:
        log = tmp_path / "b.log"
        return build.build_or_reuse(root, tmp_path / out, cache=cache, uv=None, log=log, **options)

    first = build_in("out1")
    assert not cache.exists()  # only read: a build nobody used is not kept
    build.keep(cache, first)
    second = build_in("out2")
    assert len(builds) == 1
    assert second.reused
    assert second.wheel.artifact == first.wheel.artifact
    assert second.wheel.path == tmp_path / "out2" / first.wheel.path.name
    assert "reused" in (tmp_path / "b.log").read_text()
    build_in("out3", rebuild=True)
    assert len(builds) == 2


def test_read_wheel(tmp_path: Path) -> None:
    wheel = build.read_wheel(make_wheel(tmp_path))
    assert wheel.project == "pkg"
    assert wheel.requires == ("attrs>=23",)
    assert len(wheel.artifact.sha256) == 64
    bad = tmp_path / "bad.whl"
    bad.write_text("not a zip")
    with pytest.raises(PipelineError, match="cannot be read as a wheel"):
        build.read_wheel(bad)


def test_build_command_prefers_uv(tmp_path: Path) -> None:
    assert build.build_command(tmp_path, tmp_path / "d", "/bin/uv")[:3] == ["/bin/uv", "build", "--wheel"]
    assert build.build_command(tmp_path, tmp_path / "d", None)[1:3] in (["-m", "build"], ["-m", "pip"])


@pytest.fixture
def fake_builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """``build_wheel`` replaced by one that writes a wheel and a log: the projects it built."""
    built: list[Path] = []

    def fake_build(project: Path, out_dir: Path, *, uv: str | None, log: Path, cancel: object) -> build.Wheel:
        built.append(project)
        log.write_text("built by the fake\n")
        return build.read_wheel(make_wheel(out_dir))

    monkeypatch.setattr(build, "build_wheel", fake_build)
    return built


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, for this test alone: where early builds stage."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_early_build_hands_its_wheel_and_log_to_the_reports(
    tmp_path: Path, fake_builds: list[Path], temp_dir: Path
) -> None:
    root = project(tmp_path)
    reports = tmp_path / "reports"
    early = build.EarlyBuild(root, uv=None).start()
    wheel = early.wheel(reports / "dist", reports / "build.log")
    assert fake_builds == [root]
    assert wheel.path == reports / "dist" / "pkg-1.0-py3-none-any.whl"
    assert (reports / "build.log").read_text() == "built by the fake\n"
    # kept for the next run in our own folder, which git ignores; nothing staged is left
    own = root / build.OWN_DIR
    assert (own / ".gitignore").read_text().splitlines()[-1] == "*"
    assert [p.name for p in build.cache_dir(root).glob("*/*.whl")] == [wheel.path.name]
    assert list(temp_dir.iterdir()) == []
    again = (
        build.EarlyBuild(root, uv=None).start().wheel(tmp_path / "r2" / "dist", tmp_path / "r2" / "build.log")
    )
    assert fake_builds == [root]  # unchanged sources: the cached build
    assert again.artifact == wheel.artifact


def test_an_early_build_the_run_never_takes_leaves_the_project_as_it_was(
    tmp_path: Path, fake_builds: list[Path], temp_dir: Path
) -> None:
    # discovery refused the run (a tox.ini that does not load) after the build finished
    root = project(tmp_path)
    before = sorted(root.rglob("*"))
    early = build.EarlyBuild(root, uv=None).start()
    early.cancel()  # waits for the build
    assert fake_builds == [root]
    assert sorted(root.rglob("*")) == before
    assert list(temp_dir.iterdir()) == []


def test_a_failed_early_build_names_the_reports_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)

    def failing(project: Path, out_dir: Path, *, uv: str | None, log: Path, cancel: object) -> build.Wheel:
        log.write_text("error: no backend\n")
        raise build.BuildFailed(project, 1, 0, log)

    monkeypatch.setattr(build, "build_wheel", failing)
    reports = tmp_path / "reports"
    early = build.EarlyBuild(root, uv=None).start()
    with pytest.raises(PipelineError) as raised:
        early.wheel(reports / "dist", reports / "build.log")
    assert raised.value.message == (
        f"building {root} failed (exit 1, 0 wheel(s)); see {reports / 'build.log'}, "
        "or pass a prebuilt wheel with --installpkg"
    )
    assert raised.value.code == ExitCode.INCOMPLETE
    assert (reports / "build.log").read_text() == "error: no backend\n"


def test_buildable(tmp_path: Path) -> None:
    assert not build.buildable(tmp_path)
    (tmp_path / "setup.py").write_text("")
    assert build.buildable(tmp_path)
    assert build.buildable(project(tmp_path))
