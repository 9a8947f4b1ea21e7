"""Bytecode shared between environments of one interpreter: only for the very same file."""

from __future__ import annotations

import os
import py_compile
import shutil
import sys
from pathlib import Path

import pytest

from pytest_pipeline.runner import bytecode

TAG = sys.implementation.cache_tag


def make_env(folder: Path, *, home: str = "/opt/python/bin", version: str = "3.12.1") -> Path:
    site = folder / ("Lib" if sys.platform == "win32" else "lib/python3.12") / "site-packages"
    site.mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text(f"home = {home}\nversion_info = {version}\n", encoding="utf-8")
    return site


def compiled(site: Path, module: str) -> Path:
    """``module``'s bytecode in ``site``, compiled as an import would."""
    source = site / module
    return Path(py_compile.compile(str(source), cfile=None, doraise=True))


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """Two environments of one interpreter whose ``pkg/mod.py`` is one file (a hard link,
    as uv installs), the first with it compiled."""
    envs = tmp_path / ".pipeline"
    donor_site = make_env(envs / "py312-a")
    new_site = make_env(envs / "py312-b")
    (donor_site / "pkg").mkdir()
    (donor_site / "pkg" / "mod.py").write_text("VALUE = 1\n", encoding="utf-8")
    (new_site / "pkg").mkdir()
    os.link(donor_site / "pkg" / "mod.py", new_site / "pkg" / "mod.py")
    compiled(donor_site, "pkg/mod.py")
    return envs / "py312-a", donor_site, envs / "py312-b", new_site


def test_the_bytecode_of_the_same_file_is_linked(pair: tuple[Path, Path, Path, Path]) -> None:
    _, donor_site, new, new_site = pair
    assert bytecode.share(new) == 1
    theirs = donor_site / "pkg" / "__pycache__" / f"mod.{TAG}.pyc"
    mine = new_site / "pkg" / "__pycache__" / f"mod.{TAG}.pyc"
    assert os.path.samefile(theirs, mine)


def test_a_copy_of_the_source_is_not_the_same_file(pair: tuple[Path, Path, Path, Path]) -> None:
    _, donor_site, new, new_site = pair
    (new_site / "pkg" / "mod.py").unlink()
    shutil.copy2(donor_site / "pkg" / "mod.py", new_site / "pkg" / "mod.py")  # same content and mtime
    assert bytecode.share(new) == 0
    assert not (new_site / "pkg" / "__pycache__").exists()


def test_bytecode_already_there_is_kept(pair: tuple[Path, Path, Path, Path]) -> None:
    _, _, new, new_site = pair
    own = compiled(new_site, "pkg/mod.py")
    before = own.stat().st_ino
    assert bytecode.share(new) == 0
    assert own.stat().st_ino == before


def test_an_environment_of_another_interpreter_gives_nothing(pair: tuple[Path, Path, Path, Path]) -> None:
    donor, _, new, _ = pair
    (donor / "pyvenv.cfg").write_text("home = /opt/other/bin\nversion_info = 3.12.1\n", encoding="utf-8")
    assert bytecode.share(new) == 0
    (donor / "pyvenv.cfg").write_text("home = /opt/python/bin\nversion_info = 3.12.2\n", encoding="utf-8")
    assert bytecode.share(new) == 0


def test_nothing_is_linked_into_a_folder_that_is_no_environment(pair: tuple[Path, Path, Path, Path]) -> None:
    _, _, new, _ = pair
    (new / "pyvenv.cfg").unlink()
    assert bytecode.share(new) == 0


def test_a_module_missing_here_is_skipped(pair: tuple[Path, Path, Path, Path]) -> None:
    _, donor_site, new, new_site = pair
    (donor_site / "only_there.py").write_text("X = 2\n", encoding="utf-8")
    compiled(donor_site, "only_there.py")
    assert bytecode.share(new) == 1  # pkg/mod only
    assert not (new_site / "__pycache__").exists()


def test_base_interpreter_reads_venv_virtualenv_and_uv_files(tmp_path: Path) -> None:
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.4\n", encoding="utf-8")
    assert bytecode.base_interpreter(tmp_path) == ("/usr/bin", "3.11.4")
    (tmp_path / "pyvenv.cfg").write_text("home=/usr/bin\nimplementation=CPython\n", encoding="utf-8")
    assert bytecode.base_interpreter(tmp_path) is None  # no version: not known to be the same
