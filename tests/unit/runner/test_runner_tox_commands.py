"""Commands run as ``tox run`` runs them: variables, program lookup, prefixes, exit codes.

tox's own behaviour is the reference; tests/integration/runner/test_runner_tox_fidelity.py
compares the two for real.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pytest_pipeline.runner import tox_commands
from pytest_pipeline.runner.tox_commands import Command, parse_command
from pytest_pipeline.runner.toxenv import ToxEnv


def env(tmp_path: Path, **changes: object) -> ToxEnv:
    values: dict[str, object] = {
        "name": "py312",
        "tox_root": tmp_path,
        "env_dir": tmp_path / ".tox" / ".pipeline" / "py312",
        "runner": "virtualenv",
        "install_command": ("python", "-I", "-m", "pip", "install", "{packages}"),
        "pass_env": ("HOME", "LANG", "FOO_*"),
    }
    values.update(changes)
    return ToxEnv(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pytest", Command(("pytest",))),
        ("pytest tests -x", Command(("pytest", "tests", "-x"))),
        # tox config quotes arguments the shell way
        ("python -c 'print('\"'\"'a b'\"'\"', \"c\")'", Command(("python", "-c", "print('a b', \"c\")"))),
        ("- python -c 'import sys'", Command(("python", "-c", "import sys"), ignore_exit=True)),
        ("-python -V", Command(("python", "-V"), ignore_exit=True)),
        ("'!python' -c 'raise SystemExit(1)'", Command(("python", "-c", "raise SystemExit(1)"), invert=True)),
        ("! python -V", Command(("python", "-V"), invert=True)),
        ("--version-like-program", Command(("--version-like-program",))),
    ],
)
def test_parse_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


def test_parse_command_accepts_argument_lists_and_skips_empty() -> None:
    assert parse_command(["pytest", "a b"]) == Command(("pytest", "a b"))
    assert parse_command("") is None
    assert parse_command("-") is None


def test_environment_as_tox_builds_it(tmp_path: Path) -> None:
    box = env(tmp_path, set_env={"X": "1", "PYTHONIOENCODING": "utf-8"}, disallow_pass_env=("FOO_SECRET",))
    base = {
        "HOME": "/h",
        "lang": "C",
        "FOO_A": "a",
        "FOO_SECRET": "s",
        "OTHER": "no",
        "PATH": "/usr/bin:/bin",
    }
    got = tox_commands.environment(box, base, seed="42", package=tmp_path / "p.whl")
    # pass_env matches case-insensitively (tox compiles the globs with IGNORECASE)
    assert {k: got[k] for k in ("HOME", "lang", "FOO_A")} == {"HOME": "/h", "lang": "C", "FOO_A": "a"}
    assert "OTHER" not in got
    assert "FOO_SECRET" not in got
    assert got["PATH"] == os.pathsep.join([str(box.env_dir / "bin"), "/usr/bin", "/bin"])
    assert got["X"] == "1"
    assert got["PYTHONHASHSEED"] == "42"
    assert got["PIP_DISABLE_PIP_VERSION_CHECK"] == "1"  # virtualenv runner's default set_env
    assert got["TOX_PACKAGE"] == str(tmp_path / "p.whl")
    assert "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI" not in got


def test_environment_set_env_wins_and_path_stays_first(tmp_path: Path) -> None:
    box = env(tmp_path, set_env={"PYTHONHASHSEED": "0", "PATH": "/custom:/usr/bin"})
    got = tox_commands.environment(box, {"PATH": "/usr/bin", "CI": "true"}, seed="42", package=None)
    assert got["PYTHONHASHSEED"] == "0"
    assert got["PATH"].split(os.pathsep) == [str(box.env_dir / "bin"), "/custom", "/usr/bin"]
    assert got["__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI"] == "true"
    assert "TOX_PACKAGE" not in got


def test_environment_of_tox_uv(tmp_path: Path) -> None:
    uv = tmp_path / "tools" / "uv"
    box = env(tmp_path, runner="uv-venv-runner", install_command=(str(uv), "pip", "install", "{packages}"))
    got = tox_commands.environment(box, {"PATH": "/usr/bin", "UV_PYTHON": "3.9"}, seed="1", package=None)
    # tox-uv: uv's own folder on PATH too, VIRTUAL_ENV set, UV_PYTHON dropped
    assert got["PATH"].split(os.pathsep)[:2] == [str(box.env_dir / "bin"), str(uv.parent)]
    assert got["VIRTUAL_ENV"] == str(box.env_dir)
    assert "UV_PYTHON" not in got
    assert "PIP_DISABLE_PIP_VERSION_CHECK" not in got


def test_hash_seed_follows_the_caller_like_tox() -> None:
    assert tox_commands.hash_seed({"PYTHONHASHSEED": "7"}) == "7"
    for given in ({}, {"PYTHONHASHSEED": ""}, {"PYTHONHASHSEED": "random"}):
        assert 1 <= int(tox_commands.hash_seed(given)) <= 4294967295


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_resolve_allows_the_environment_and_the_allowlist(tmp_path: Path) -> None:
    box = env(tmp_path, allowlist_externals=("make", "/opt/tools/*"))
    inside = executable(box.env_dir / "bin" / "pytest")
    outside = executable(tmp_path / "usr" / "bin" / "make")
    tool = executable(tmp_path / "opt" / "tools" / "lint")
    stray = executable(tmp_path / "usr" / "bin" / "git")
    path = os.pathsep.join([str(box.env_dir / "bin"), str(outside.parent), str(tool.parent)])
    environ = {"PATH": path}
    assert tox_commands.resolve(["pytest", "-x"], box, environ, tmp_path) == [str(inside), "-x"]
    assert tox_commands.resolve(["make"], box, environ, tmp_path) == [str(outside)]
    with pytest.raises(tox_commands.NotAllowed, match="git"):
        tox_commands.resolve(["git"], box, environ, tmp_path)
    assert stray.exists()
    with pytest.raises(tox_commands.CommandNotFound):
        tox_commands.resolve(["nothing-like-it"], box, environ, tmp_path)
    # /opt/tools/* only matches with the real prefix: the glob is the user's
    boxed = env(tmp_path, allowlist_externals=(f"{tool.parent}/*",))
    assert tox_commands.resolve(["lint"], boxed, environ, tmp_path) == [str(tool)]


def test_resolve_a_relative_path_from_the_commands_folder(tmp_path: Path) -> None:
    box = env(tmp_path, allowlist_externals=("*",))
    script = executable(tmp_path / "scripts" / "check")
    assert tox_commands.resolve(["scripts/check"], box, {"PATH": ""}, tmp_path) == [str(script)]


class FakeRun:
    def __init__(self, codes: Mapping[str, Sequence[int]]) -> None:
        self.codes = {name: list(values) for name, values in codes.items()}
        self.calls: list[str] = []

    def __call__(self, argv: Sequence[str], environ: Mapping[str, str]) -> tuple[int, bool]:
        name = Path(argv[0]).name
        self.calls.append(name)
        return self.codes[name].pop(0), False


def run_lines(tmp_path: Path, lines: Sequence[str], codes: Mapping[str, Sequence[int]], **changes: object):  # type: ignore[no-untyped-def]
    box = env(tmp_path, allowlist_externals=("*",), **changes)
    for name in codes:
        executable(box.env_dir / "bin" / name)
    fake = FakeRun(codes)
    outcome = tox_commands.run_set(
        lines,
        env=box,
        environ={"PATH": str(box.env_dir / "bin")},
        run=fake,
        log=io.BytesIO(),
        cancel=threading.Event(),
    )
    return outcome, fake.calls


def test_the_first_failure_stops_the_set(tmp_path: Path) -> None:
    outcome, calls = run_lines(tmp_path, ["a", "b", "c"], {"a": [0], "b": [3], "c": [0]})
    assert (outcome.exit_code, calls) == (3, ["a", "b"])


def test_ignore_errors_runs_on_and_keeps_the_first_code(tmp_path: Path) -> None:
    outcome, calls = run_lines(tmp_path, ["a", "b", "c"], {"a": [4], "b": [5], "c": [0]}, ignore_errors=True)
    assert (outcome.exit_code, calls) == (4, ["a", "b", "c"])


def test_prefixes_and_retries(tmp_path: Path) -> None:
    outcome, calls = run_lines(
        tmp_path, ["- a", "! b", "c"], {"a": [1], "b": [2], "c": [1, 1, 0]}, commands_retry=2
    )
    assert (outcome.exit_code, calls) == (0, ["a", "b", "c", "c", "c"])
    outcome, calls = run_lines(tmp_path, ["! b"], {"b": [0]})
    assert outcome.exit_code == 1  # an inverted success is a failure with code 1


def test_a_missing_program_is_exit_2_and_a_refused_one_stops_everything(tmp_path: Path) -> None:
    outcome, _ = run_lines(tmp_path, ["ghost"], {})
    assert (outcome.exit_code, outcome.not_found) == (tox_commands.ENOENT, "ghost")
    box = env(tmp_path)
    executable(tmp_path / "elsewhere" / "tool")
    outcome = tox_commands.run_set(
        ["tool", "tool"],
        env=box,
        environ={"PATH": str(tmp_path / "elsewhere")},
        run=FakeRun({}),
        log=io.BytesIO(),
        cancel=threading.Event(),
    )
    assert outcome.exit_code == 1
    assert outcome.not_allowed
    assert outcome.not_allowed.startswith("tool")


def test_run_all_orders_pre_main_post_like_tox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    codes = {"pre": 0, "main": 0, "post": 0}

    def fake(argv: Sequence[str], **_: object) -> tox_commands.CommandResult:  # type: ignore[name-defined]
        from pytest_pipeline.runner.process import CommandResult

        name = Path(argv[0]).name
        calls.append(name)
        return CommandResult(tuple(argv), codes[name])

    monkeypatch.setattr(tox_commands, "run_command", fake)
    box = env(
        tmp_path,
        commands_pre=("pre",),
        commands=("main",),
        commands_post=("post",),
        allowlist_externals=("*",),
    )
    for name in codes:
        executable(box.env_dir / "bin" / name)
    environ = {"PATH": str(box.env_dir / "bin")}

    def run() -> tox_commands.Outcome:
        calls.clear()
        return tox_commands.run_all(box, environ=environ, log=io.BytesIO(), cancel=threading.Event())

    assert (run().exit_code, calls) == (0, ["pre", "main", "post"])
    codes["pre"] = 7  # commands are skipped, commands_post still runs, the code is pre's
    outcome = run()
    assert (outcome.exit_code, calls) == (7, ["pre", "post"])
    assert "commands were not run" in outcome.notes[0]
    codes.update(pre=0, post=9)  # a failing commands_post fails the environment, as in tox
    outcome = run()
    assert (outcome.exit_code, calls) == (9, ["pre", "main", "post"])
    assert outcome.notes == ["commands_post failed (exit 9)"]
