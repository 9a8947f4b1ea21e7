"""The differential corpus (tests/realworld/corpus.toml): each case runs one env of a real
project, its config unmodified, with tox (or nox) and with ``pytest-pipeline run``, and
asserts that they agree on the verdict, pytest's counts and the installed distributions.

Which cases: ``PIPELINE_CORPUS=fast`` (the default: the plain ``pytest`` run, and so CI),
``all`` (``tox -e realworld``), or a comma list of project names. A case whose tox (nox)
side could not run at all fails with "NOT COMPARED" instead of passing on nothing.
"""

from __future__ import annotations

import os

import pytest

from realworld.compare import Results
from realworld.corpus import SELECT_VARIABLE, Case, CorpusError, load_manifest, select
from realworld.harness import CorpusRun

CASES = select(load_manifest(), os.environ.get(SELECT_VARIABLE, "fast"))


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    return CorpusRun(tmp_path_factory.mktemp("corpus"))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_cell_agrees_with_tox_or_nox(case: Case, corpus_run: CorpusRun, corpus_results: Results) -> None:
    try:
        comparison = corpus_run.compare(case)
    except CorpusError as problem:
        corpus_results.errors.append(str(problem))
        pytest.fail(f"NOT COMPARED: {problem}", pytrace=False)
    corpus_results.comparisons.append(comparison)
    if not comparison.agrees:
        pytest.fail(comparison.explain(), pytrace=False)
