"""tox's answer -> listing, from recorded ``tox config`` output (JSON and the older INI text)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from matrix_fakes import FakeTox, recorded

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix import from_tox
from pytest_pipeline.matrix.cells import base_cells
from pytest_pipeline.matrix.toolrun import Completed

TOOL_PYTHON = "/toolenv/bin/python"  # what the recordings say tox ran on


def _sample_listing() -> from_tox.Listing:
    core, envs = from_tox.parse_json(json.loads(recorded("tox-config-sample.json")))
    return from_tox.build_listing(core, envs, version="4.67.15", config_file="tox.ini", source_format="json")


def test_json_lists_the_test_environments_in_env_list_order_without_packaging_envs() -> None:
    listing = _sample_listing()
    assert [env.name for env in listing.envs] == [
        "py310-attrs23",
        "py310-attrs24",
        "py312-attrs23",
        "py312-attrs24",
        "lint",
    ]
    assert all(env.default for env in listing.envs)
    assert listing.env("py312-attrs24").config["deps"] == ["pytest>=8", "attrs==24.2.*"]
    assert listing.settings["work_dir"] == "/project/.tox"


def test_sample_cells_have_interpreters_factors_and_lint_is_not_a_test_env() -> None:
    cells = {cell.name: cell for cell in base_cells(_sample_listing(), TOOL_PYTHON).cells}
    assert cells["py310-attrs23"].python == "3.10"
    assert dict(cells["py310-attrs23"].factors) == {"attrs": "23.2"}
    assert dict(cells["py312-attrs24"].factors) == {"attrs": "24.2"}
    assert cells["py312-attrs24"].runs_pytest
    assert not cells["lint"].runs_pytest
    # no interpreter factor: tox uses its own interpreter, which the cell calls None
    assert cells["lint"].python is None


def test_ini_text_of_an_older_tox_gives_the_same_environments_and_labels() -> None:
    core, envs = from_tox.parse_ini(recorded("tox-4.14-config-pluggy.ini"))
    listing = from_tox.build_listing(core, envs, version="4.14.2", config_file="tox.ini", source_format="ini")
    json_core, json_envs = from_tox.parse_json(json.loads(recorded("tox-config-pluggy.json")))
    modern = from_tox.build_listing(
        json_core, json_envs, version="4.67", config_file="tox.ini", source_format="json"
    )
    assert [env.name for env in listing.envs] == [env.name for env in modern.envs]
    assert listing.env("py311").labels == ("fast",) == modern.env("py311").labels
    assert listing.env("py311").config["deps"] == ["pytest", "hypothesis"]
    assert listing.env("py311").config["skip_install"] is False
    assert listing.env("py311").config["set_env"]["PYTHONIOENCODING"] == "utf-8"
    assert [env.name for env in listing.envs if env.default] == [
        "py310",
        "py311",
        "py312",
        "py313",
        "py314",
        "pypy3",
    ]


def test_older_tox_cannot_resolve_envpython_without_the_interpreter_and_that_is_not_fatal() -> None:
    core, envs = from_tox.parse_ini(recorded("tox-4.14-config-pluggy.ini"))
    listing = from_tox.build_listing(core, envs, version="4.14.2", config_file="tox.ini", source_format="ini")
    assert "failed to find interpreter" in listing.env("py310").errors["commands"]
    built = base_cells(listing, TOOL_PYTHON)
    cells = {cell.name: cell for cell in built.cells}
    assert cells["py310"].runs_pytest  # missing interpreter: still a cell, shown as missing later
    assert "py310" not in built.errors
    assert not cells["docs"].runs_pytest
    assert cells["py-weird.name"].runs_pytest


def test_without_the_interpreter_virtualenv_s_install_command_fails_and_that_is_not_fatal() -> None:
    # tox 4.67 with its own virtualenv runner (no tox-uv), an environment whose interpreter
    # is missing: these two settings come back as errors, its commands do not (seen on
    # pluggy 1.6.0's py39, which stopped discovery as a "broken" environment)
    data = json.loads(recorded("tox-config-pluggy.json"))
    data["env"]["py310"]["install_command"] = {"error": "NoInterpreter(['py310'])"}
    data["env"]["py310"]["env_site_packages_dir"] = {
        "error": "Skip(\"failed to find interpreter for Builtin discover of python_spec='py310'\")"
    }
    core, envs = from_tox.parse_json(data)
    listing = from_tox.build_listing(core, envs, version="4.67", config_file="tox.ini", source_format="json")
    assert "NoInterpreter" in listing.env("py310").errors["install_command"]
    built = base_cells(listing, TOOL_PYTHON)
    cells = {cell.name: cell for cell in built.cells}
    assert cells["py310"].runs_pytest  # a cell, shown as missing later, not a broken setting
    assert "py310" not in built.errors


def test_ini_multiline_values_exceptions_and_core_labels() -> None:
    text = "\n".join(
        [
            "ROOT: some log line before the output",
            "[testenv:a]",
            "commands =",
            "  pytest -x",
            "  python -m build",
            "deps = pytest",
            "base_python = # Exception: ValueError('boom')",
            "ignore_outcome = True",
            "skip_missing_interpreters = config",
            "",
            "[tox]",
            "env_list = a",
            "labels =",
            "  fast=a",
            "  b",
            "  slow=c",
        ]
    )
    core, envs = from_tox.parse_ini(text)
    assert envs["a"]["commands"] == ["pytest -x", "python -m build"]
    assert envs["a"]["deps"] == ["pytest"]
    assert envs["a"]["base_python"] == {"error": "ValueError('boom')"}
    assert envs["a"]["ignore_outcome"] is True
    assert envs["a"]["skip_missing_interpreters"] == "config"
    assert core["labels"] == {"fast": ["a", "b"], "slow": ["c"]}
    assert core["env_list"] == ["a"]


def test_an_environment_named_as_another_ones_package_env_is_not_a_cell() -> None:
    envs = {
        "py312": {"commands": ["pytest"], "package_env": "build", "base_python": ["py312"]},
        "build": {"commands": [], "base_python": ["py312"]},
        ".pkg": {"base_python": ["py312"]},
    }
    listing = from_tox.build_listing(
        {"env_list": []}, envs, version="4", config_file="tox.ini", source_format="json"
    )
    assert [env.name for env in listing.envs] == ["py312"]
    assert listing.envs[0].default  # an empty env_list: every environment is a default


def test_query_uses_json_and_the_orchestrators_tox(tmp_path: Path) -> None:
    fake = FakeTox(json_text=recorded("tox-config-sample.json"))
    listing = from_tox.query(tmp_path, {}, runner=fake, command=["tox"], version="4.67.15")
    assert listing.source_format == "json"
    assert len(fake.calls) == 1
    argv = fake.calls[0]
    assert argv[:6] == ["tox", "config", "-c", str(tmp_path), "-e", "ALL"]
    assert "--format" in argv
    assert "commands" in argv
    # tox config must not pick a random hash seed into what we cache
    assert argv[argv.index("--hashseed") + 1] == "notset"


def test_query_falls_back_to_ini_on_a_tox_without_format(tmp_path: Path) -> None:
    fake = FakeTox(json_text=None, ini_text=recorded("tox-4.14-config-pluggy.ini"))
    listing = from_tox.query(tmp_path, {}, runner=fake, command=["tox"], version="4.14.2")
    assert listing.source_format == "ini"
    assert len(fake.calls) == 2
    assert "--format" not in fake.calls[1]
    assert [env.name for env in listing.envs][:2] == ["py310", "py311"]


def test_a_config_tox_cannot_load_is_one_line_with_toxs_own_words(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[tox\n", encoding="utf-8")
    fake = FakeTox(
        json_text="",
        returncode=254,
        error_output="ROOT: HandledError| ToxIni failed loading tox.ini due to "
        "File contains no section headers.\nfile: 'tox.ini', line: 1\n'[tox\\n'\n",
    )
    with pytest.raises(PipelineError) as caught:
        from_tox.query(tmp_path, {}, runner=fake, command=["tox"], version="4.67.15")
    message = caught.value.message
    assert "\n" not in message
    assert str(tmp_path / "tox.ini") in message
    assert "ToxIni failed loading tox.ini due to File contains no section headers." in message
    assert "HandledError" not in message
    assert "fix it" in message


def test_a_traceback_is_reduced_to_its_exception_line(tmp_path: Path) -> None:
    output = (
        "Traceback (most recent call last):\n"
        '  File "/x/site-packages/tox/config/loader/ini/factor.py", line 144, in _expand\n'
        "    raise ValueError(variant_str)\n"
        "ValueError: py-weird.name+x\n"
    )
    fake = FakeTox(json_text="", returncode=1, error_output=output)
    with pytest.raises(PipelineError, match=r"tox cannot load it: ValueError: py-weird\.name\+x;"):
        from_tox.query(tmp_path, {}, runner=fake, command=["tox"], version="4.67.15")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"tox.ini": "[tox]\n"}, "tox.ini"),
        ({"tox.toml": "env_list = []\n"}, "tox.toml"),
        ({"pyproject.toml": "[tool.tox]\nenv_list = ['a']\n"}, "pyproject.toml"),
        ({"pyproject.toml": "[tool.tox.env.a]\n"}, "pyproject.toml"),
        ({"pyproject.toml": "[project]\nname = 'x'\n"}, None),
        ({"setup.cfg": "[tox:tox]\nenvlist = py\n"}, "setup.cfg"),
        ({"setup.cfg": "[metadata]\nname = x\n"}, None),
    ],
)
def test_config_file_detection(tmp_path: Path, files: dict[str, str], expected: str | None) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert from_tox.config_file(tmp_path) == expected


def test_tools_run_without_colour_and_without_our_matrix_env() -> None:
    from pytest_pipeline.matrix.toolrun import tool_environment
    from pytest_pipeline.tox_plugin import NO_TOX_MATRIX_ENV

    env = tool_environment({"FORCE_COLOR": "1", "PATH": "/bin"})
    assert "FORCE_COLOR" not in env
    assert env["NO_COLOR"] == "1"
    assert env[NO_TOX_MATRIX_ENV] == "1"
    assert env["PATH"] == "/bin"


def test_an_environment_running_the_orchestrator_is_never_a_cell() -> None:
    envs = {
        "py312": {"commands": ["pytest"], "base_python": ["py312"]},
        "matrix": {
            "commands": ["/toolenv/bin/python -m pytest_pipeline run -p auto"],
            "base_python": [TOOL_PYTHON],
        },
    }
    listing = from_tox.build_listing({}, envs, version="4", config_file="tox.ini", source_format="json")
    built = base_cells(listing, TOOL_PYTHON)
    assert [cell.name for cell in built.cells] == ["py312"]
    assert built.orchestrators == ("matrix",)


class MissingInterpreterTox:
    """tox config as tox-uv answers it when ``py38``'s settings need its (missing)
    interpreter: asked for py38 with its commands, it prints nothing but the failing
    ``uv venv`` of py38's folder; everything else answers."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Completed:
        argv = list(argv)
        self.calls.append(argv)
        names = argv[argv.index("-e") + 1]
        names = ["py38", "py312", "lint"] if names == "ALL" else names.split(",")
        keys = argv[argv.index("-k") + 1 :]
        if "py38" in names and "commands_pre" in keys:
            venv = self.work_dir / "py38"
            return Completed(2, f"ROOT: exit 2 (0.9 seconds) /p> uv venv -p cpython3.8 {venv} pid=1\n", "")
        envs = {
            name: {key: ["pytest"] if key == "commands" else str(self.work_dir / name) for key in keys}
            for name in names
        }
        Path(argv[argv.index("-o") + 1]).write_text(json.dumps({"env": envs, "tox": {"env_list": names}}))
        return Completed(0, "", "")


def test_an_environment_tox_cannot_resolve_does_not_hide_the_others(tmp_path: Path) -> None:
    fake = MissingInterpreterTox(tmp_path / ".tox" / ".pipeline")
    listing = from_tox.query(tmp_path, {}, runner=fake, command=["tox"], version="4.67.15")
    assert [env.name for env in listing.envs] == ["py38", "py312", "lint"]
    by_name = {env.name: env for env in listing.envs}
    assert by_name["py312"].config["commands"] == ["pytest"]
    # py38 keeps what needs no interpreter; the rest says why it is missing
    assert by_name["py38"].config["env_dir"] == str(tmp_path / ".tox" / ".pipeline" / "py38")
    assert by_name["py38"].errors["commands"].startswith(from_tox.UNRESOLVED)
    # ALL (fails at py38), the names, all but py38 (answers), py38 without the risky keys
    assert len(fake.calls) == 4
    assert fake.calls[2][fake.calls[2].index("-e") + 1] == "py312,lint"
    # as a cell: a test environment (named after an interpreter), not a broken one
    cells = base_cells(listing)
    assert "py38" not in cells.errors
    assert next(cell for cell in cells.cells if cell.name == "py38").runs_pytest


def test_an_env_whose_runner_is_not_installed_stays_a_cell_that_tox_runs(tmp_path: Path) -> None:
    # click 8.5.1 without tox-uv: `tox config -e ALL` logs the environments whose runner is
    # missing and leaves them out of its answer; `tox run -e py3.12` fails on it (254)
    data = {
        "env": {"style": {"commands": [["pre-commit", "run"]], "env_dir": str(tmp_path / "style")}},
        "tox": {"env_list": ["py3.12", "style"]},
    }
    unavailable = "environment py3.12 marked as unavailable, runner 'uv-venv-lock-runner' is not available"
    fake = FakeTox(json_text=json.dumps(data), log_output=f"py3.12: {unavailable}\n")
    listing = from_tox.query(tmp_path, {}, runner=fake, command=["tox"], version="4.67.17")
    assert listing.env("py3.12").errors["commands"] == (
        from_tox.UNRESOLVED
        + "environment py3.12 marked as unavailable, runner 'uv-venv-lock-runner' is not available"
    )
    built = base_cells(listing, TOOL_PYTHON)
    cells = {cell.name: cell for cell in built.cells}
    assert cells["py3.12"].runs_pytest  # named after an interpreter: a test cell, run through tox
    assert "py3.12" not in built.errors
    assert "commands" not in cells["py3.12"].config
