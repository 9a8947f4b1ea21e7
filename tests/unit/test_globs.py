"""The glob dialects, by name: each setting keeps the dialect it always had."""

from __future__ import annotations

import re

import pytest

from pytest_pipeline import globs
from pytest_pipeline.errors import ConfigError


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("py3*", "py312-django5", True),
        ("py31?", "py312", True),
        ("tests.test_calc::test_div[0]", "tests.test_calc::test_div[0]", True),
        ("tests.test_calc::test_div[0]", "tests.test_calc::test_div0", False),
        ("py31[23]", "py312", False),
        ("refs/tags/v*", "refs/tags/v1.0", True),
    ],
)
def test_names_keep_brackets_literal(pattern: str, name: str, expected: bool) -> None:
    assert globs.matches_name(pattern, name) is expected


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [("py31[23]", "py312", True), ("py31[!23]", "py312", False), ("py3*", "PY312", False)],
)
def test_fnmatch_reads_brackets_as_a_class_and_case(pattern: str, name: str, expected: bool) -> None:
    assert globs.fnmatch(name, pattern) is expected


def test_what_counts_as_a_wildcard_in_each_dialect() -> None:
    assert globs.is_literal_name("py31[23]")
    assert not globs.is_literal_name("py31?")
    assert globs.is_fnmatch_glob("py31[23]")
    assert not globs.is_fnmatch_glob("py312")


def test_path_globs_span_folders_only_with_two_stars() -> None:
    assert globs.path_glob("tests/**/test_*.py", "here").match("tests/a/b/test_x.py")
    assert not globs.path_glob("tests/*.py", "here").match("tests/a/test_x.py")
    assert globs.path_glob("tests/e2e", "here").match("tests/e2e/test_x.py")
    with pytest.raises(ConfigError, match=re.escape("here: path rule 'tests/[' has an unbalanced")):
        globs.path_glob("tests/[", "here")
