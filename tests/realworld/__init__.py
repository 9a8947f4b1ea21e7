"""The differential tests: real projects' own tox envs and nox sessions, run by tox (nox) and
by ``pytest-pipeline run``, compared cell by cell (verdict, pytest's counts, installed
distributions).

- ``corpus.toml``: the projects, pinned by version and sdist sha256, and the envs compared;
- ``corpus``: reads the manifest, fetches (cached, sha256 checked) and unpacks the projects;
- ``reading``: what a side's output, JUnit file and environment say;
- ``sides``: runs one env on tox's (nox's) side and on ours;
- ``compare``: one cell's comparison, and the table;
- ``run_corpus.py``: the command line (``python tests/realworld/run_corpus.py --all``).

Standard library only, plus the ``uv`` the dev environment installs (to list an
environment's distributions), so the command line runs from the dev venv without pytest.
"""
