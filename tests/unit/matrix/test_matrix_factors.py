from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_pipeline.matrix.factors import (
    dependency_factor,
    normalise_python,
    normalized_name,
    nox_factors,
    parse_tox_env,
    python_factor,
)


@pytest.mark.parametrize(
    ("name", "python", "factors"),
    [
        ("py312-django50", "3.12", {"django": "5.0"}),
        ("py310", "3.10", {}),
        ("py3", "3", {}),
        ("py", None, {}),
        ("py27", "2.7", {}),
        ("pypy310", "pypy3.10", {}),
        ("pypy3", "pypy3", {}),
        ("py313t", "3.13t", {}),
        ("py3.12-cov", "3.12", {"cov": ""}),
        ("cpython-3.13-lint", "3.13", {"lint": ""}),
        ("pypy-3.10", "pypy3.10", {}),
        ("3.11", "3.11", {}),
        ("lint", None, {"lint": ""}),
        ("docs", None, {"docs": ""}),
        ("django42-py311", "3.11", {"django": "4.2"}),
        ("py311-sqla1_4", "3.11", {"sqla": "1.4"}),
        ("py311-numpy126", "3.11", {"numpy": "126"}),
    ],
)
def test_tox_env_name_gives_interpreter_and_dependency_set(
    name: str, python: str | None, factors: dict[str, str]
) -> None:
    parsed = parse_tox_env(name)
    assert parsed.python == python
    assert dict(parsed.factors) == factors


@pytest.mark.parametrize(
    ("deps", "expected"),
    [
        (["attrs==23.2.*"], "23.2"),
        (["pytest>=8", "attrs>=23.2,<24"], "23.2"),
        (["attrs~=23.1"], "23.1"),
        (["Attrs == 23.2.0"], "23.2.0"),
    ],
)
def test_a_factor_takes_its_version_from_the_resolved_deps(deps: list[str], expected: str) -> None:
    # "attrs23" alone would read as 2.3; tox's resolved deps say what it really is
    assert parse_tox_env("py310-attrs23", deps).factors == {"attrs": expected}


def test_deps_that_do_not_mention_the_factor_leave_the_name_rule() -> None:
    assert parse_tox_env(
        "py310-django50", ["pytest", "-r requirements.txt", "not a requirement ["]
    ).factors == {"django": "5.0"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("python3.12", "3.12"),
        ("3.12", "3.12"),
        ("py312", "3.12"),
        ("cpython3.12", "3.12"),
        ("pypy3.10", "pypy3.10"),
        ("pypy-3.10", "pypy3.10"),
        ("3", "3"),
        ("python", None),
        ("", None),
        (None, None),
        ("3.13t", "3.13t"),
    ],
)
def test_interpreter_specs_are_normalised(spec: str | None, expected: str | None) -> None:
    assert normalise_python(spec) == expected


def test_an_absolute_interpreter_path_is_kept(tmp_path: object) -> None:
    path = "/opt/python/bin/python3.12"
    assert normalise_python(path) == path


def test_python_factor_ignores_dependency_factors() -> None:
    assert python_factor("django50") is None
    assert python_factor("py39") == "3.9"


def test_dependency_factor_without_digits_is_a_flag() -> None:
    assert dependency_factor("cov") == ("cov", "")


def test_nox_call_spec_becomes_factors_without_the_interpreter() -> None:
    assert nox_factors({"attrs": "23.2", "python": "3.12", "debug": True, "n": 3}) == {
        "attrs": "23.2",
        "debug": "yes",
        "n": "3",
    }


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcXYZ019._-", min_size=1, max_size=20))
def test_names_compare_as_packaging_compares_them(name: str) -> None:
    from packaging.utils import canonicalize_name

    assert normalized_name(name) == canonicalize_name(name)


def test_packaging_loads_only_for_a_factor_whose_version_deps_may_give() -> None:
    # packaging costs ~10 ms; most environment names (py312, py312-lint) never need it.
    probe = (
        "import sys\n"
        "from pytest_pipeline.matrix.factors import parse_tox_env\n"
        "print(parse_tox_env('py312-lint-pytestmain', ['pytest>=8', 'coverage']).factors)\n"
        "print('packaging' in sys.modules)\n"
        "print(parse_tox_env('py312-attrs23', ['attrs==23.2.*']).factors)\n"
        "print('packaging' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "{'lint': '', 'pytestmain': ''}",
        "False",
        "{'attrs': '23.2'}",
        "True",
    ]
