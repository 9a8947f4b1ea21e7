"""What a publish command line shows it publishes, and what it hides: code given to a
shell or interpreter, a package path inside a larger argument."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline.gate import inline_code
from pytest_pipeline.gate.publish import publishable_files

CODE = "twine upload dist/*"


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (["sh", "-c", CODE], "`sh -c` runs code given on its command line ('twine upload dist/*')"),
        (["bash", "-ec", CODE], "`bash -ec` runs code"),
        (["zsh", "-c", CODE], "`zsh -c` runs code"),
        (["dash", "-c", CODE], "`dash -c` runs code"),
        (["/bin/sh", "-o", "pipefail", "-c", CODE], "`sh -c` runs code"),
        (["bash", "+x", "-c", CODE], "`bash -c` runs code"),
        (["fish", "--command", CODE], "`fish --command` runs code"),
        (["python", "-c", "import twine"], "`python -c` runs code"),
        (["python3", "-c", "import twine"], "`python -c` runs code"),
        (["/usr/bin/python3.12", "-Ic", "import twine"], "`python -Ic` runs code"),
        (["python", "-W", "ignore", "-c", "import twine"], "`python -c` runs code"),
        (["pypy3", "-c", "import twine"], "`python -c` runs code"),
        (["perl", "-e", "system 'twine'"], "`perl -e` runs code"),
        (["perl", "-E", "system 'twine'"], "`perl -E` runs code"),
        (["node", "-e", "upload()"], "`node -e` runs code"),
        (["node", "--eval", "upload()"], "`node --eval` runs code"),
        (["ruby", "-e", "upload"], "`ruby -e` runs code"),
        (["php", "-r", "upload();"], "`php -r` runs code"),
        (["env", "TWINE_USERNAME=x", "sh", "-c", CODE], "`sh -c` runs code"),
        (["env", "-i", "bash", "-c", CODE], "`bash -c` runs code"),
        (["sudo", "-u", "release", "sh", "-c", CODE], "`sh -c` runs code"),
        (["uv", "run", "python", "-c", "import twine"], "`python -c` runs code"),
        (["sh"], "`sh` reads its code from standard input"),
        (["bash", "-s", "dist/x.whl"], "`bash` reads its code from standard input"),
        (["python", "-"], "`python` reads its code from standard input"),
        (["env", "python3"], "`python` reads its code from standard input"),
        (["xargs", "twine", "upload"], "`xargs` builds the command from its standard input"),
        (["env", "xargs", "-0", "twine", "upload"], "`xargs` builds the command"),
    ],
)
def test_code_given_to_a_shell_or_interpreter_is_named(command: list[str], text: str) -> None:
    found = inline_code.find(command)
    assert found is not None
    assert text in found
    assert "name the package files as plain arguments" in found


@pytest.mark.parametrize(
    "command",
    [
        ["twine", "upload", "dist/*"],
        ["python", "-m", "twine", "upload", "dist/*"],
        ["python3", "-Im", "twine", "upload", "dist/*"],
        ["python", "-W", "ignore", "-m", "twine", "upload"],
        ["python", "-Wignore::ResourceWarning", "upload.py"],  # the c is inside -W's value
        ["python", "-X", "dev", "upload.py"],
        ["python", "upload.py", "dist/x.whl"],
        ["sh", "release.sh", "dist/x.whl"],
        ["bash", "-e", "release.sh"],  # -e is errexit for a shell
        ["bash", "-o", "errexit", "release.sh"],
        ["perl", "upload.pl", "dist/x.whl"],
        ["node", "-r", "ts-node/register", "upload.ts"],
        ["uv", "publish"],
        ["twine", "upload", "--repository", "python", "dist/x.whl"],
        ["twine", "upload", "dist/x.whl", "--repository", "python"],  # a value, not a program
    ],
)
def test_a_script_module_or_tool_is_not_inline_code(command: list[str]) -> None:
    assert inline_code.find(command) is None


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dist").mkdir()
    for name in ("pkg-1.0.tar.gz", "pkg-1.0-py3-none-any.whl"):
        (tmp_path / "dist" / name).write_bytes(b"package")
    (tmp_path / ".pypirc").write_text("[pypi]\n")
    return tmp_path


@pytest.mark.parametrize(
    ("command", "piece"),
    [
        (["curl", "-F", "file=@dist/pkg-1.0.tar.gz", "https://upload.example/"], "dist/pkg-1.0.tar.gz"),
        (["curl", "-Ffile=@untested/pkg-2.0.tar.gz", "https://upload.example/"], "untested/pkg-2.0.tar.gz"),
        (["curl", "--data-binary", "@dist/pkg-1.0-py3-none-any.whl"], "dist/pkg-1.0-py3-none-any.whl"),
        (["tool", "--file=dist/pkg-1.0.tar.gz"], "dist/pkg-1.0.tar.gz"),
        (["tool", "--files=dist/*"], "dist/*"),
        (["tool", "--folder=dist"], "dist"),
        (["scp", "x", "host:/srv/pkg-9.0.tar.gz"], "/srv/pkg-9.0.tar.gz"),
        (["tool", "--", "a.whl,b.whl"], "a.whl"),
    ],
)
def test_a_package_inside_a_larger_argument_is_hidden(dist: Path, command: list[str], piece: str) -> None:
    seen = publishable_files(command, [], [])
    assert len(seen.hidden) == 1, seen.hidden
    assert f"names a package file inside a larger string ({piece})" in seen.hidden[0]
    assert "name the package files as plain arguments" in seen.hidden[0]


def test_a_file_given_with_artifact_may_be_named_inside_an_argument(dist: Path) -> None:
    command = ["curl", "-F", "file=@dist/pkg-1.0.tar.gz", "https://x/"]
    seen = publishable_files(command, ["dist/pkg-1.0.tar.gz"], [])
    assert seen.hidden == []
    assert "dist/pkg-1.0.tar.gz" in [str(path) for path in seen.files]


@pytest.mark.parametrize(
    "command",
    [
        ["twine", "upload", "--config-file=.pypirc", "dist/pkg-1.0.tar.gz"],
        ["twine", "upload", "--repository-url=https://host/simple/pkg-1.0.tar.gz", "dist/pkg-1.0.tar.gz"],
        ["twine", "upload", "-u", "__token__", "dist/pkg-1.0.tar.gz"],
    ],
)
def test_options_that_name_no_package_hide_nothing(dist: Path, command: list[str]) -> None:
    seen = publishable_files(command, [], [])
    assert seen.hidden == []
    assert [str(path) for path in seen.files] == ["dist/pkg-1.0.tar.gz"]


def test_code_is_one_refusal_not_one_per_path_inside_it(dist: Path) -> None:
    seen = publishable_files(["sh", "-c", "twine upload --file=dist/pkg-1.0.tar.gz"], [], [])
    assert len(seen.hidden) == 1
    assert "`sh -c` runs code" in seen.hidden[0]
