"""Commands as tox prints them, when a cell needs tox itself, and how a cell ended."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_pipeline.matrix.model import Cell
from pytest_pipeline.results import CellStatus
from pytest_pipeline.runner.execute import (
    Command,
    classify,
    env_folder,
    interpreter_of,
    native_blockers,
    parse_command,
    record_of,
)


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


NATIVE = {
    "commands": ["pytest"],
    "runner": "uv-venv-runner",
    "package": "sdist",
    "dependency_groups": [],
    "install_command": "/somewhere/bin/uv pip install '{packages}'",
}


def test_native_when_tox_config_is_plain() -> None:
    assert native_blockers(NATIVE, "auto") == []
    assert native_blockers({**NATIVE, "runner": "virtualenv"}, "auto") == []
    default_pip = "python -I -m pip install '{opts}' '{packages}'"
    assert native_blockers({**NATIVE, "install_command": default_pip}, "auto") == []
    assert native_blockers({**NATIVE, "package": "editable"}, "auto") == []
    assert native_blockers({**NATIVE, "package": "skip"}, "auto") == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"runner": "uv-venv-lock-runner"}, "runner = uv-venv-lock-runner"),
        ({"package": "external"}, "package = external"),
        ({"dependency_groups": ["test"]}, "dependency_groups"),
        ({"install_command": "python -m pip install --no-binary :all: {packages}"}, "install_command = "),
    ],
)
def test_tox_fallback_for_what_we_cannot_reproduce(change: dict[str, object], reason: str) -> None:
    reasons = native_blockers({**NATIVE, **change}, "auto")
    assert len(reasons) == 1
    assert reasons[0].startswith(reason)


def test_tox_backend_and_unknown_commands_force_tox() -> None:
    assert native_blockers(NATIVE, "tox") == ["backend = 'tox' is configured"]
    assert native_blockers({}, "auto") == ["tox did not report the environment's commands"]


@pytest.mark.parametrize(
    ("exit_code", "junit", "cancelled", "status"),
    [
        (0, True, None, CellStatus.PASSED),
        (1, True, None, CellStatus.FAILED),
        (5, True, None, CellStatus.NO_TESTS),
        (2, True, None, CellStatus.FAILED),  # collection errors: the report says which
        (3, True, None, CellStatus.CRASHED),
        (4, True, None, CellStatus.CRASHED),
        (1, False, None, CellStatus.CRASHED),
        (-9, False, None, CellStatus.CRASHED),
        (0, False, None, CellStatus.CRASHED),
        (None, False, None, CellStatus.CRASHED),
        (-15, False, "interrupted", CellStatus.INTERRUPTED),
        (-15, True, "fail-fast", CellStatus.CANCELLED),
        (-15, False, "timed-out", CellStatus.TIMED_OUT),
    ],
)
def test_classify(exit_code: int | None, junit: bool, cancelled: str | None, status: CellStatus) -> None:
    got, message = classify(exit_code=exit_code, junit=junit, cancelled=cancelled)  # type: ignore[arg-type]
    assert got is status
    assert (message == "") == (status is CellStatus.PASSED)


def test_classify_says_when_it_trusts_the_exit_code() -> None:
    assert classify(exit_code=1, junit=False, cancelled=None)[1] == "no report: trusting exit code 1"


def test_env_folder_is_beside_tox_envs_never_one_of_them(tmp_path: Path) -> None:
    cell = Cell("py312-x", "tox", "py312-x", config={"env_dir": str(tmp_path / "work" / "py312-x")})
    assert env_folder(cell, tmp_path) == tmp_path / "work" / ".pipeline" / "py312-x"
    assert env_folder(Cell("a", "tox", "a"), tmp_path) == tmp_path / ".tox" / ".pipeline" / "a"
    assert env_folder(Cell("s", "nox", "s"), tmp_path) == tmp_path / ".nox" / ".pipeline" / "s"
    assert env_folder(Cell("s+attrs23.2", "nox", "s"), tmp_path).name == "s+attrs23.2"


def test_nox_env_folders_have_plain_names_of_their_own(tmp_path: Path) -> None:
    # a venv's scripts fail under a folder named like a call, once its path is long
    names = ("tests-3.12(attrs='24.2')", "tests-3.12(attrs='24-2')", 'tests-3.12(attrs="24.2")')
    folders = {env_folder(Cell(name, "nox", name), tmp_path).name for name in names}
    assert len(folders) == len(names)
    for folder in folders:
        assert re.fullmatch(r"tests-3\.12-attrs-24.2-[0-9a-f]{6}", folder), folder


def test_a_cell_record_carries_tox_s_ignore_outcome() -> None:
    assert record_of(
        Cell("py312", "tox", "py312", config={"ignore_outcome": True}), CellStatus.FAILED
    ).ignore_outcome
    assert not record_of(Cell("py312", "tox", "py312", config={}), CellStatus.FAILED).ignore_outcome
    assert not record_of(
        Cell("tests", "nox", "tests", config={"ignore_outcome": True}), CellStatus.FAILED
    ).ignore_outcome


def test_interpreter_of_uses_discovery_answer() -> None:
    cell = Cell("c", "tox", "c", python="3.12", python_path="/x/python3.12", python_version="3.12.1")
    assert interpreter_of(cell) == ("/x/python3.12", "3.12.1")


def test_environments_without_pytest_are_judged_by_exit_code() -> None:
    from pytest_pipeline.runner.execute import classify_by_exit_code

    assert classify_by_exit_code(0) == (CellStatus.PASSED, "runs no pytest: judged by its exit code")
    assert classify_by_exit_code(2) == (CellStatus.FAILED, "runs no pytest: exited with 2")


def test_nox_axis_cells_get_their_own_environment_the_run_s_wheel_and_their_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nox makes the environment, we install the wheel and the pins, nox runs the tests:
    every command a cell runs, with a fake in place of the processes."""
    from pytest_pipeline.results import Artifact
    from pytest_pipeline.runner import envs, execute
    from pytest_pipeline.runner.build import Wheel
    from pytest_pipeline.runner.inject import Injection
    from pytest_pipeline.runner.outputs import Reports
    from pytest_pipeline.runner.process import CommandResult

    project = tmp_path / "proj"
    project.mkdir()
    reports = Reports(tmp_path / "reports")
    commands: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(argv: list[str], *, env: dict[str, str], **_: object) -> CommandResult:
        commands.append((list(argv), dict(env)))
        if "--install-only" in argv:  # what nox makes: a venv named after the session, the package in it
            venv = Path(argv[argv.index("--envdir") + 1]) / "tests-3-12"
            envs.python_in(venv).parent.mkdir(parents=True)
            envs.python_in(venv).write_text("")
            (venv / "lib" / "python3.12" / "site-packages" / "greeter-1.0.dist-info").mkdir(parents=True)
        if "--no-install" in argv:
            cell = env["PYTEST_PIPELINE_CELL"]
            reports.junit(cell).write_text("<testsuite/>")
        return CommandResult(tuple(argv), 0)

    monkeypatch.setattr(execute, "run_command", fake_run)
    monkeypatch.setattr(envs, "run_command", fake_run)
    built = tmp_path / "greeter-1.0-py3-none-any.whl"
    ctx = execute.RunContext(
        project=project,
        reports=reports,
        injection=Injection(tmp_path / "inject"),
        wheel=Wheel(built, Artifact(built.name, "a" * 64), "greeter", ()),
        installer=envs.Installer("/bin/uv"),
        environ={"PATH": "/usr/bin"},
        tool_config=project / "noxfile.py",
    )
    envdirs = []
    for value in ("23.2", "24.2"):
        cell = Cell(f"tests-3.12+attrs{value}", "nox", "tests-3.12", pins=(f"attrs=={value}.*",))
        commands.clear()
        record = execute.run_cell(ctx, cell, execute.Cancel(), lambda **_: None)
        assert record.status is CellStatus.PASSED, record
        assert f"pinned attrs=={value}.*" in record.message
        (make, make_env), (install, _), (test, test_env) = commands
        assert make[make.index("-s") + 1] == "tests-3.12"
        envdir = Path(make[make.index("--envdir") + 1])
        assert envdir == (project / ".nox" / ".pipeline" / cell.name).resolve()
        assert "--install-only" in make
        assert "PYTEST_ADDOPTS" not in make_env  # only the tests get our plugin
        python = envs.python_in(envdir / "tests-3-12")
        assert install[:5] == ["/bin/uv", "pip", "install", "--python", str(python)]
        assert "--reinstall-package" in install
        assert f"greeter @ {built.as_uri()}" in install
        assert install[-1] == f"attrs=={value}.*"
        assert test[test.index("--envdir") + 1] == str(envdir)
        assert test[-2:] == ["--no-install", "--reuse-venv=yes"]
        assert "-p pipeline" in test_env["PYTEST_ADDOPTS"]
        envdirs.append(envdir)
    assert envdirs[0] != envdirs[1]  # two axis cells of one session never share a venv
