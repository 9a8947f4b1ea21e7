"""The wheel ships every file the package reads at run time besides its modules (the HTML
report's stylesheet, the gate file's JSON Schema, py.typed). An editable install reads them
from the source tree, so only a built wheel shows one missing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pytest_pipeline.runner import build, envs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "pytest_pipeline"


def data_files() -> list[str]:
    return sorted(
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    )


def test_the_wheel_holds_every_data_file_of_the_package(tmp_path: Path) -> None:
    uv = envs.find_uv()
    if uv is None:
        pytest.skip("needs uv to build the wheel")
    expected = data_files()
    assert "pytest_pipeline/report/html/report.css" in expected
    wheel = build.build_wheel(ROOT, tmp_path / "dist", project=ROOT, uv=uv, log=tmp_path / "build.log")
    with zipfile.ZipFile(wheel.path) as archive:
        assert [name for name in expected if name not in archive.namelist()] == []
        css = archive.read("pytest_pipeline/report/html/report.css")
    assert css == (PACKAGE / "report" / "html" / "report.css").read_bytes()
