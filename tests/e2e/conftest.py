"""The environment every end-to-end run gets: the caller's, without its pytest/tox/nox/CI
variables, with CPython 3.10 and 3.12 from pyenv first on PATH (the sample's matrix), no colour;
and the differential corpus's table at the end of the run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline_testkit import clean_environ, pyenv_path
from realworld.compare import Results
from realworld.corpus import JSON_VARIABLE


@pytest.fixture(scope="session")
def environ() -> dict[str, str]:
    try:
        path = pyenv_path("3.10", "3.12")
    except LookupError as missing:
        pytest.skip(str(missing))
    return clean_environ(PATH=path, NO_COLOR="1")


# --------------------------------------------------------------------------- the differential corpus
# test_realworld_corpus.py records each cell's comparison here; the table is printed at the end
# of the run (and written as JSON to $PIPELINE_CORPUS_JSON when set: `tox -e realworld` sets it).

_CORPUS_RESULTS = pytest.StashKey[Results]()


@pytest.fixture(scope="session")
def corpus_results(pytestconfig: pytest.Config) -> Results:
    return pytestconfig.stash.setdefault(_CORPUS_RESULTS, Results())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    results = config.stash.get(_CORPUS_RESULTS, None)
    if results is None:
        return
    terminalreporter.section("differential corpus: tox/nox vs pytest-pipeline run")
    terminalreporter.write_line(results.text())
    target = os.environ.get(JSON_VARIABLE)
    if target:
        Path(target).write_text(json.dumps(results.to_dict(), indent=2) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"written: {target}")
