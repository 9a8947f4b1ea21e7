"""The environment every end-to-end run gets: the caller's, without its pytest/tox/nox/CI
variables, with CPython 3.10 and 3.12 from pyenv first on PATH (the sample's matrix), no colour."""

from __future__ import annotations

import pytest

from pipeline_testkit import clean_environ, pyenv_path


@pytest.fixture(scope="session")
def environ() -> dict[str, str]:
    try:
        path = pyenv_path("3.10", "3.12")
    except LookupError as missing:
        pytest.skip(str(missing))
    return clean_environ(PATH=path, NO_COLOR="1")
