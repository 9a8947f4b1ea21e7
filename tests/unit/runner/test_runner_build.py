"""The snapshot a build reads and the content key that lets a warm run skip rebuilding
unchanged sources (outside git here: a copy; git snapshots are in
tests/integration/runner/test_runner_snapshot.py), the choice of build frontend, and the
early build that runs while discovery asks tox for the matrix."""

from __future__ import annotations

import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.runner import build, snapshot


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text("[project]\nname='pkg'\n")
    return root


def identity(root: Path, tmp_path: Path, **options: Any) -> dict[str, Any]:
    """What a snapshot of ``root`` (no git here: a copy) says its sources are."""
    workdir = Path(tempfile.mkdtemp(dir=tmp_path))
    with snapshot.take(root, workdir, **options) as taken:
        assert taken.description.startswith("a copy of ")
        return taken.identity


def test_a_copy_snapshot_is_keyed_by_content_never_by_mtimes(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = identity(root, tmp_path)
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
        "build/lib/pkg/__init__.py",
    ):
        path = root / ignored
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("noise")
    assert identity(root, tmp_path) == first
    reports = root / "custom-reports"
    reports.mkdir()
    (reports / "junit.xml").write_text("<x/>")
    assert identity(root, tmp_path, skip=(reports,)) == first
    reports.joinpath("junit.xml").unlink()
    reports.rmdir()
    module = root / "src" / "pkg" / "__init__.py"
    stat = module.stat()
    os.utime(module, ns=(1, 1))  # another mtime, same content: same sources
    assert identity(root, tmp_path) == first
    module.write_text("x = 2\n")  # same size and mtime, other content: other sources
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = identity(root, tmp_path)
    assert second != first
    module.chmod(0o755)  # git keeps the executable bit: so does the key
    assert identity(root, tmp_path) != second
    module.chmod(0o644)
    # A subpackage named like an output folder is source: it would be in the wheel.
    subpackage = root / "src" / "pkg" / "build" / "__init__.py"
    subpackage.parent.mkdir()
    subpackage.write_text("")
    assert identity(root, tmp_path) != second


def test_a_copy_snapshot_holds_the_files_as_they_were_copied(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "link.py").symlink_to("src/pkg/__init__.py")
    os.mkfifo(root / "fifo")  # never opened: reading it would block
    workdir = tmp_path / "work"
    workdir.mkdir()
    with snapshot.take(root, workdir) as taken:
        (root / "src" / "pkg" / "__init__.py").write_text("x = 'later'\n")
        tree = taken.tree()
        assert (tree / "src" / "pkg" / "__init__.py").read_text() == "x = 1\n"
        assert os.readlink(tree / "link.py") == "src/pkg/__init__.py"
        assert not (tree / "fifo").exists()
        assert taken.description == "a copy of 3 files"
    assert not workdir.exists()


def make_wheel(folder: Path, name: str = "pkg") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            f"{name}-1.0.dist-info/METADATA", f"Name: {name}\nVersion: 1.0\nRequires-Dist: attrs>=23\n"
        )
    return path


def test_a_kept_build_is_reused_while_the_sources_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, temp_dir: Path
) -> None:
    root = project(tmp_path)
    builds: list[Path] = []

    def fake_build(sources: Path, out_dir: Path, *, project: Path, **_: object) -> build.Wheel:
        builds.append(project)
        return build.read_wheel(make_wheel(out_dir))

    monkeypatch.setattr(build, "build_wheel", fake_build)
    cache = tmp_path / "cache"

    def build_in(out: str, uv: str | None = None, **options: Any) -> build.Built:
        log = tmp_path / "b.log"
        return build.build_or_reuse(root, tmp_path / out, cache=cache, uv=uv, log=log, **options)

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
    build_in("out4", uv="/bin/uv")  # another frontend: another build
    assert len(builds) == 3
    assert list(temp_dir.iterdir()) == []  # no snapshot left behind


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
    command = build.build_command(tmp_path / "src", tmp_path / "d", "/bin/uv", project=tmp_path)
    assert command == ["/bin/uv", "build", "--wheel", "--out-dir", str(tmp_path / "d"), str(tmp_path / "src")]
    python = build.build_command(tmp_path / "src", tmp_path / "d", None, project=tmp_path)
    assert python[1:3] in (["-m", "build"], ["-m", "pip"])


def test_a_build_folder_in_the_project_or_the_current_folder_is_not_pypa_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `python -m pytest_pipeline` in the project: its folder first on sys.path, holding
    # the build/ folder of an in-place setuptools build (a namespace package to import)
    root = project(tmp_path)
    (root / "build" / "lib").mkdir(parents=True)
    (root / "build.dist-info").mkdir()
    monkeypatch.chdir(root)
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", ["", str(root), str(site), *sys.path])
    assert not build.pypa_build_installed(root)
    assert build.frontend(None, root) == "pip"
    assert build.frontend("/bin/uv", root) == "uv"
    # pypa/build installed where Python looks: its distribution's metadata is there
    (site / "build-1.2.2.dist-info").mkdir()
    (site / "build-1.2.2.dist-info" / "METADATA").write_text("Name: build\nVersion: 1.2.2\n")
    assert build.pypa_build_installed(root)
    assert build.build_command(tmp_path, tmp_path / "d", None, project=root)[1:3] == ["-m", "build"]


@pytest.fixture
def fake_builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """``build_wheel`` replaced by one that writes a wheel and a log: the projects it built."""
    built: list[Path] = []

    def fake_build(sources: Path, out_dir: Path, *, project: Path, log: Path, **_: object) -> build.Wheel:
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
    early.cancel()  # as the run does at its end: the snapshot's removal may still be going on
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

    def failing(sources: Path, out_dir: Path, *, project: Path, log: Path, **_: object) -> build.Wheel:
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


def test_a_file_that_cannot_be_read_is_named_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    module = root / "src" / "pkg" / "__init__.py"
    original = snapshot.copy_hashed

    def denied(source: Path, target: Path) -> str | None:  # root reads even a mode-000 file
        if source == module:
            raise PermissionError(13, "Permission denied", str(source))
        return original(source, target)

    monkeypatch.setattr(snapshot, "copy_hashed", denied)
    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(PipelineError) as raised:
        snapshot.take(root, workdir)
    assert raised.value.message == (
        f"cannot copy {module} for the build (Permission denied); "
        "fix that, or pass a prebuilt wheel with --installpkg"
    )
    assert raised.value.code == ExitCode.INCOMPLETE
    assert not workdir.exists()
