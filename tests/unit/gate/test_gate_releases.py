"""Which release a package file is, by its name and by its own metadata."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from pytest_pipeline.gate.releases import metadata_release, mislabelled, release_of, same_release

METADATA = "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


def wheel(path: Path, name: str = "My_Pkg", version: str = "1.0") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("my_pkg/__init__.py", "")
        archive.writestr(f"my_pkg-{version}.dist-info/METADATA", METADATA.format(name=name, version=version))
    return path


def sdist(path: Path, name: str = "my-pkg", version: str = "1.0") -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for member, text in (
            (f"{name}-{version}/setup.py", ""),
            (f"{name}-{version}/PKG-INFO", METADATA.format(name=name, version=version)),
        ):
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_release_of_a_file_name() -> None:
    assert release_of("My_Pkg-1.0-py3-none-any.whl") == ("my-pkg", "1.0")
    assert release_of("my-pkg-1.0.0.tar.gz") == ("my-pkg", "1.0.0")
    assert release_of("renamed.whl") is None


@pytest.mark.parametrize(
    ("published", "tested", "same"),
    [
        ("my_pkg-1.0-py3-none-any.whl", "my_pkg-1.0-py3-none-any.whl", True),
        ("My_Pkg-1.0-py3-none-any.whl", "my_pkg-1.0-py3-none-any.whl", True),
        ("my_pkg-1.0-py2.py3-none-any.whl", "my_pkg-1.0-py3-none-any.whl", True),
        ("my_pkg-2.0-py3-none-any.whl", "my_pkg-1.0-py3-none-any.whl", False),
        ("other-1.0-py3-none-any.whl", "my_pkg-1.0-py3-none-any.whl", False),
        ("renamed.whl", "my_pkg-1.0-py3-none-any.whl", False),
        ("app.pex", "app.pex", True),
        ("app2.pex", "app.pex", False),
    ],
)
def test_same_release(published: str, tested: str, same: bool) -> None:
    assert same_release(published, tested) is same


def test_metadata_of_a_wheel_and_an_sdist(tmp_path: Path) -> None:
    assert metadata_release(wheel(tmp_path / "x-9.9-py3-none-any.whl")) == ("my-pkg", "1.0")
    assert metadata_release(sdist(tmp_path / "x-9.9.tar.gz")) == ("my-pkg", "1.0")


@pytest.mark.parametrize("content", [b"not a zip", b""])
def test_an_unreadable_package_says_no_release(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "my_pkg-1.0-py3-none-any.whl"
    path.write_bytes(content)
    assert metadata_release(path) is None
    assert mislabelled(path) is None


def test_a_renamed_wheel_is_mislabelled(tmp_path: Path) -> None:
    path = wheel(tmp_path / "my_pkg-2.0-py3-none-any.whl")
    problem = mislabelled(path)
    assert problem is not None
    assert f"{path}: its name says my-pkg 2.0 but its own metadata says my-pkg 1.0" in problem


def test_a_renamed_sdist_is_mislabelled(tmp_path: Path) -> None:
    assert mislabelled(sdist(tmp_path / "my-pkg-1.0.tar.gz")) is None
    assert mislabelled(sdist(tmp_path / "other-1.0.tar.gz")) is not None


def test_a_wheel_named_as_built_is_not_mislabelled(tmp_path: Path) -> None:
    assert mislabelled(wheel(tmp_path / "my_pkg-1.0-py3-none-any.whl")) is None
