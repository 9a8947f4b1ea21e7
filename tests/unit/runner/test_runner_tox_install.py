"""tox's install steps for an environment, as ``tox run --installpkg WHEEL`` takes them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipeline_testkit import make_wheel
from pytest_pipeline.runner import tox_install
from pytest_pipeline.runner.toxenv import ToxEnv

UV = "/tools/bin/uv"


def uv_env(tmp_path: Path, **changes: object) -> ToxEnv:
    values: dict[str, object] = {
        "name": "py312",
        "tox_root": tmp_path,
        "env_dir": tmp_path / ".tox" / ".pipeline" / "py312",
        "runner": "uv-venv-runner",
        "install_command": (UV, "pip", "install", "{packages}"),
        "deps": ("pytest>=8", "attrs==23.2.*"),
    }
    values.update(changes)
    return ToxEnv(**values)  # type: ignore[arg-type]


def test_uv_runner_steps(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, ("attrs>=23", "colorama; sys_platform == 'win32'"))
    box = uv_env(tmp_path, constraints=("constraints.txt",))
    plan = tox_install.plan(box, interpreter="/py/python3.12", wheel=wheel)
    assert plan.create.argv == (
        UV, "venv", "-p", "/py/python3.12", "--allow-existing", f"--prompt={tmp_path.name}[py312]",
        "--python-preference", "system", str(box.env_dir),
    )  # fmt: skip
    deps, package_deps = plan.installs
    # tox's own parser orders the requirements; constraints go to both resolutions with uv
    assert deps.argv == (UV, "pip", "install", "attrs==23.2.*", "pytest>=8", "-c", "constraints.txt")
    assert package_deps.argv == (
        UV, "pip", "install", "attrs>=23", 'colorama; sys_platform == "win32"', "-c", "constraints.txt",
    )  # fmt: skip
    assert plan.package is not None
    assert plan.package.argv == (UV, "pip", "install", "--reinstall", "--no-deps", f"greeter@{wheel.path}")
    assert [step.label for step in plan.installs] == ["install_deps", "install_package_deps"]


def test_virtualenv_runner_steps(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, ("attrs>=23",))
    box = uv_env(
        tmp_path,
        runner="virtualenv",
        install_command=("python", "-I", "-m", "pip", "install", "{packages}"),
        constraints=("c.txt",),
    )
    plan = tox_install.plan(box, interpreter="/py/python3.12", wheel=wheel)
    assert plan.create.argv == (
        sys.executable,
        "-m",
        "virtualenv",
        str(box.env_dir),
        "--python=/py/python3.12",
    )
    assert plan.create.environ["VIRTUALENV_NO_PERIODIC_UPDATE"] == "True"
    deps, package_deps = plan.installs
    assert deps.argv[-2:] == ("-c", "c.txt")
    # tox's pip installer leaves the package's requirements unconstrained
    assert package_deps.argv == ("python", "-I", "-m", "pip", "install", "attrs>=23")
    assert plan.package is not None
    assert plan.package.argv[-3:] == ("--force-reinstall", "--no-deps", str(wheel.path))


def test_extras_select_requirements_as_tox_does(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        ("attrs>=23", "pytest; extra == 'test'", "greeter[docs]; extra == 'test'", "sphinx; extra == 'docs'"),
        extras=("test", "docs"),
    )
    assert tox_install.package_requirements(wheel.path, ()) == ["attrs>=23"]
    # an extra naming the package itself pulls in that extra's requirements too
    assert sorted(tox_install.package_requirements(wheel.path, ("test",))) == [
        "attrs>=23",
        "pytest",
        "sphinx",
    ]
    with pytest.raises(tox_install.UnsupportedInstall, match="extras not found"):
        tox_install.package_requirements(wheel.path, ("nope",))


def test_no_package_no_deps_no_installs(tmp_path: Path) -> None:
    plan = tox_install.plan(uv_env(tmp_path, deps=(), skip_install=True), interpreter="/p", wheel=None)
    assert (plan.installs, plan.package) == ((), None)
    skip = tox_install.plan(
        uv_env(tmp_path, package="skip"), interpreter="/p", wheel=make_wheel(tmp_path, ())
    )
    assert [step.label for step in skip.installs] == ["install_deps"]
    assert skip.package is None


def test_packages_go_where_the_install_command_says(tmp_path: Path) -> None:
    box = uv_env(tmp_path, install_command=(UV, "pip", "install", "{packages}", "--no-cache"), deps=("x",))
    plan = tox_install.plan(box, interpreter="/p", wheel=None)
    assert plan.installs[0].argv == (UV, "pip", "install", "x", "--no-cache")


def test_seed_site_packages_and_preference(tmp_path: Path) -> None:
    box = uv_env(tmp_path, uv_seed=True, system_site_packages=True, uv_python_preference="none")
    argv = tox_install.plan(box, interpreter="/p", wheel=None).create.argv
    assert "--seed" in argv
    assert "--system-site-packages" in argv
    assert "--python-preference" not in argv


def test_fingerprint_changes_with_every_step(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, ("attrs>=23",))
    one = tox_install.plan(uv_env(tmp_path), interpreter="/p", wheel=wheel).fingerprint()
    assert one == tox_install.plan(uv_env(tmp_path), interpreter="/p", wheel=wheel).fingerprint()
    other = tox_install.plan(uv_env(tmp_path, deps=("pytest>=9",)), interpreter="/p", wheel=wheel)
    assert other.fingerprint() != one
