from __future__ import annotations

import shlex

import pytest

from pytest_pipeline.matrix.runs_pytest import Kind, classify_text, nox_session_kind, tox_env_kind


@pytest.mark.parametrize(
    "command",
    [
        "pytest",
        "pytest {posargs} -x",
        "py.test tests",
        "/project/.tox/py312/bin/pytest -q",
        "python -m pytest",
        "/project/.tox/py310/bin/python -m pytest --cov",
        "python3.12 -W error -X dev -m pytest",
        "python -mpytest",
        "coverage run -m pytest",
        "coverage run --parallel-mode --source pkg -m pytest tests",
        "python -m coverage run -m pytest",
        "- pytest -x",
        "'!python' -m pytest",
        "uv run pytest",
        "poetry run --no-ansi pytest",
        "env PYTHONDEVMODE=1 pytest",
        "FOO=1 pytest",
        'sh -c "cd tests && pytest -x"',
        r"C:\project\.tox\py312\Scripts\python.exe -m pytest",
    ],
)
def test_commands_that_run_pytest(command: str) -> None:
    assert classify_text(command) is Kind.PYTEST


@pytest.mark.parametrize(
    "command",
    [
        "python -c 'print(1)'",
        "sphinx-build -W docs docs/_build",
        "ruff check .",
        "mypy src",
        "python -m mypy src",
        "python setup.py test",
        "pre-commit run --all-files",
        "echo pytest",
        "python -m pip install pytest",
        "coverage report",
    ],
)
def test_commands_that_do_not(command: str) -> None:
    assert classify_text(command) is Kind.OTHER


@pytest.mark.parametrize("command", ["pytest-pipeline run", "python -m pytest_pipeline run -p auto"])
def test_the_orchestrator_itself_is_recognised(command: str) -> None:
    assert classify_text(command) is Kind.ORCHESTRATOR


def test_an_environment_runs_pytest_when_any_command_does() -> None:
    config = {"commands": ["python -m pip list", shlex.join(["pytest", "-k", "not slow"])]}
    assert tox_env_kind(config) is Kind.PYTEST


def test_commands_pre_alone_do_not_make_a_test_environment() -> None:
    assert tox_env_kind({"commands_pre": ["pytest --version"], "commands": ["mypy src"]}) is Kind.OTHER


def test_unbalanced_quotes_do_not_crash() -> None:
    assert tox_env_kind({"commands": ["pytest 'unclosed"]}) is Kind.PYTEST


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        ({"name": "tests", "python": "3.12", "tags": []}, Kind.PYTEST),
        ({"name": "check", "python": "3.12", "tags": ["lint"]}, Kind.OTHER),
        ({"name": "lint", "python": "3.12", "tags": []}, Kind.OTHER),
        ({"name": "docs-build", "python": "3.12", "tags": []}, Kind.OTHER),
        ({"name": "tests", "python": False, "tags": []}, Kind.OTHER),
        ({"name": "tests", "python": None, "tags": []}, Kind.PYTEST),
        ({"name": "coverage", "python": None, "tags": []}, Kind.PYTEST),
        ({"name": "release", "python": None, "tags": []}, Kind.OTHER),
        ({"name": "check", "python": None, "tags": ["unit"]}, Kind.PYTEST),
    ],
)
def test_nox_sessions_are_judged_by_interpreter_tags_and_name(config: dict[str, object], kind: Kind) -> None:
    assert nox_session_kind(config) is kind
