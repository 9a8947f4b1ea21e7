"""Environment fingerprints, install commands and the commands' environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_pipeline.results import Artifact
from pytest_pipeline.runner import envs
from pytest_pipeline.runner.build import Wheel


def wheel(tmp_path: Path, sha: str = "a" * 64, requires: tuple[str, ...] = ("attrs>=23",)) -> Wheel:
    path = tmp_path / "greeter-1.0-py3-none-any.whl"
    return Wheel(path, Artifact(path.name, sha), "greeter", requires)


def spec(tmp_path: Path, **changes: object) -> envs.EnvSpec:
    values: dict[str, object] = {
        "folder": tmp_path / "env",
        "interpreter": "/usr/bin/python3.12",
        "interpreter_version": "3.12.1",
        "deps": ("pytest>=8",),
        "wheel": wheel(tmp_path),
        "root": tmp_path,
    }
    values.update(changes)
    return envs.EnvSpec(**values)  # type: ignore[arg-type]


UV = envs.Installer("/bin/uv")
PIP = envs.Installer(None)


def make_python(folder: Path) -> None:
    python = envs.bin_dir(folder) / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")


def test_dependency_args_split_options() -> None:
    deps = ["pytest>=8", "-r requirements.txt", "--constraint=c.txt", "-e ./lib", "# comment", " "]
    assert envs.dependency_args(deps) == ["pytest>=8", "-r", "requirements.txt", "-c", "c.txt", "-e", "./lib"]


def test_plan_action(tmp_path: Path) -> None:
    folder = tmp_path / "env"
    new = spec(tmp_path).fingerprint(UV)
    assert envs.plan_action(None, new, folder) == "created"
    assert envs.plan_action(new, new, folder) == "created"  # no interpreter in the folder
    make_python(folder)
    assert envs.plan_action(new, new, folder) == "reused"
    rebuilt = spec(tmp_path, wheel=wheel(tmp_path, sha="b" * 64)).fingerprint(UV)
    assert envs.plan_action(new, rebuilt, folder) == "package-reinstalled"
    new_requirement = spec(
        tmp_path, wheel=wheel(tmp_path, sha="b" * 64, requires=("attrs>=24",))
    ).fingerprint(UV)
    assert envs.plan_action(new, new_requirement, folder) == "created"
    assert envs.plan_action(new, spec(tmp_path, deps=("pytest>=9",)).fingerprint(UV), folder) == "created"
    assert envs.plan_action(new, spec(tmp_path).fingerprint(PIP), folder) == "created"
    assert (
        envs.plan_action(new, spec(tmp_path, interpreter_version="3.12.2").fingerprint(UV), folder)
        == "created"
    )
    assert envs.plan_action(new, spec(tmp_path, pins=("attrs==23.2.*",)).fingerprint(UV), folder) == "created"


def test_fingerprint_follows_requirement_files(tmp_path: Path) -> None:
    (tmp_path / "req.txt").write_text("pytest\n")
    before = spec(tmp_path, deps=("-r req.txt",)).fingerprint(UV)
    (tmp_path / "req.txt").write_text("pytest\nhypothesis\n")
    after = spec(tmp_path, deps=("-r req.txt",)).fingerprint(UV)
    assert before != after


def test_uv_install_command_uses_overrides_for_pins(tmp_path: Path) -> None:
    s = spec(tmp_path, pins=("attrs==23.2.*",), extras=("test",), resolution="lowest-direct")
    argv = envs._install_command(s, UV, tmp_path)
    assert argv is not None
    assert argv[:5] == ["/bin/uv", "pip", "install", "--python", str(s.python)]
    assert "pytest>=8" in argv
    assert f"greeter[test] @ {(tmp_path / 'greeter-1.0-py3-none-any.whl').as_uri()}" in argv
    assert argv[argv.index("--override") + 1] == str(tmp_path / "overrides.txt")
    assert (tmp_path / "overrides.txt").read_text() == "attrs==23.2.*\n"
    assert argv[argv.index("--resolution") + 1] == "lowest-direct"


def test_pip_install_command_replaces_pinned_deps(tmp_path: Path) -> None:
    s = spec(tmp_path, deps=("pytest>=8", "attrs==24.2.*"), pins=("attrs==23.2.*",))
    argv = envs._install_command(s, PIP, tmp_path)
    assert argv is not None
    assert argv[:4] == [str(s.python), "-m", "pip", "install"]
    assert "attrs==24.2.*" not in argv
    assert "attrs==23.2.*" in argv
    assert argv[-2:] == ["-c", str(tmp_path / "pins.txt")]


def test_skip_install_without_deps_installs_nothing(tmp_path: Path) -> None:
    assert envs._install_command(spec(tmp_path, deps=(), wheel=None), UV, tmp_path) is None


def test_package_only_reinstall(tmp_path: Path) -> None:
    uv = envs._reinstall_package_command(spec(tmp_path), UV)
    assert uv[uv.index("--reinstall-package") + 1] == "greeter"
    assert "--no-deps" in uv
    pip = envs._reinstall_package_command(spec(tmp_path), PIP)
    assert "--force-reinstall" in pip
    assert "--no-deps" in pip


def test_resolution_needs_uv(tmp_path: Path) -> None:
    import io
    import threading

    with pytest.raises(envs.EnvError, match="needs uv"):
        envs.prepare(
            spec(tmp_path, resolution="lowest-direct"),
            PIP,
            log=io.BytesIO(),
            cancel=threading.Event(),
            environ={},
        )


def test_environ_for_commands_filters_like_tox(tmp_path: Path) -> None:
    base = {"HOME": "/home/me", "SECRET": "x", "UV_CACHE_DIR": "/c", "PATH": "/usr/bin"}
    env = envs.environ_for_commands(
        tmp_path / "env", base, pass_env=["HOME", "UV_*"], set_env={"PYTHONHASHSEED": "1"}
    )
    assert env["HOME"] == "/home/me"
    assert env["UV_CACHE_DIR"] == "/c"
    assert "SECRET" not in env
    assert env["PYTHONHASHSEED"] == "1"
    assert env["PATH"].split(":")[0] == str(tmp_path / "env" / "bin")
    assert env["VIRTUAL_ENV"] == str(tmp_path / "env")


def test_find_uv_prefers_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\n")
    uv.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert envs.find_uv() == str(uv)


def test_overlay_on_a_nox_environment_with_uv(tmp_path: Path) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    overlay = envs.Overlay(python, wheel(tmp_path), pins=("attrs==23.2.*",), resolution="lowest-direct")
    (argv,) = envs.overlay_commands(overlay, UV, tmp_path)
    assert argv[:5] == ["/bin/uv", "pip", "install", "--python", str(python)]
    # the run's wheel replaces the package the session built from source
    requirement = f"greeter @ {(tmp_path / 'greeter-1.0-py3-none-any.whl').as_uri()}"
    assert argv[argv.index("--reinstall-package") + 1 : argv.index("--reinstall-package") + 3] == [
        "greeter",
        requirement,
    ]
    # the pins as overrides, as in a cell's own environment
    assert argv[argv.index("--override") + 1 :][:2] == [str(tmp_path / "overrides.txt"), "attrs==23.2.*"]
    assert (tmp_path / "overrides.txt").read_text() == "attrs==23.2.*\n"
    # the session already installed the highest versions: they must not be kept as preferences
    assert argv[argv.index("--resolution") :] == ["--resolution", "lowest-direct", "--upgrade"]


def test_overlay_with_pip_and_what_it_cannot_do(tmp_path: Path) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    overlay = envs.Overlay(python, wheel(tmp_path), pins=("attrs==23.2.*",))
    reinstall, pins = envs.overlay_commands(overlay, PIP, tmp_path)
    assert reinstall[:6] == [str(python), "-m", "pip", "install", "--no-deps", "--force-reinstall"]
    assert pins == [str(python), "-m", "pip", "install", "attrs==23.2.*", "-c", str(tmp_path / "pins.txt")]
    lowest = envs.Overlay(python, wheel(tmp_path), resolution="lowest-direct")
    with pytest.raises(envs.EnvError, match="needs uv"):
        envs.overlay_commands(lowest, PIP, tmp_path)
    # a session that did not install the package, in a cell without pins: nothing to do
    assert envs.overlay_commands(envs.Overlay(python, None, resolution="lowest-direct"), UV, tmp_path) == []


def test_installed_reads_the_dist_info_folders(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    (site / "My_Pkg-1.0.dist-info").mkdir(parents=True)
    assert envs.installed(tmp_path, "my-pkg")
    assert not envs.installed(tmp_path, "greeter")
