"""How the differential harness reads each side: pytest's summary lines in tox's and nox's
output, tox's and nox's status lines, our JUnit file, and where our cell's environment is."""

from __future__ import annotations

from pathlib import Path

import pytest

from realworld.reading import (
    Counts,
    junit_counts,
    nox_counts,
    nox_env_dir,
    nox_status,
    our_env_dir,
    summary_counts,
    tox_counts,
    tox_env_dir,
    tox_status,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("===== 12 passed, 3 skipped in 0.52s =====", Counts(passed=12, skipped=3)),
        ("12 passed in 0.52s", Counts(passed=12)),  # -q
        (
            "== 1 failed, 5 passed, 2 xfailed, 1 xpassed, 2 errors, 3 warnings in 83.25s (0:01:23) ==",
            Counts(passed=5, failed=1, xfailed=2, xpassed=1, errors=2),
        ),
        ("=== 1 error in 0.10s ===", Counts(errors=1)),
        ("=== 4 passed, 2 deselected, 1 rerun, 2 subtests passed in 1.00s ===", Counts(passed=4)),
        ("========================= no tests ran in 0.01s =========================", Counts()),
        ("\x1b[32m===== \x1b[1m3 passed\x1b[0m\x1b[32m in 0.1s =====\x1b[0m", Counts(passed=3)),
    ],
)
def test_summary_line_counts(line: str, expected: Counts) -> None:
    assert summary_counts(line) == expected


@pytest.mark.parametrize(
    "line",
    ["collected 12 items", "tests/test_x.py ....  [100%]", "Ran 12 tests in 0.5s", "OK (skipped=2)", ""],
)
def test_other_lines_are_no_summary(line: str) -> None:
    assert summary_counts(line) is None


TOX_OUTPUT = """\
.pkg: _optional_hooks> python /x/_backend.py True flit_core.buildapi
py312: install_package> uv pip install --reinstall .tox/.tmp/package/1/demo-1.0.tar.gz
py312: commands[0]> pytest tests/unit
============================= test session starts ==============================
tests/test_outer.py .F                                                   [100%]
----------------------------- Captured stdout call -----------------------------
============================== 7 passed in 0.01s ===============================
=========================== short test summary info ============================
========================= 1 failed, 1 passed in 0.20s ==========================
py312: exit 1 (0.30 seconds) /p> pytest tests/unit pid=10
py312: commands[1]> coverage report
TOTAL     10   0   100%
py312: commands[2]> python -m pytest -q tests/integration
3 passed, 1 skipped in 0.05s
  py312: FAIL code 1 (2.00=setup[1.00]+cmd[1.00] seconds)
  evaluation failed :( (2.10 seconds)
"""


def test_tox_counts_sum_each_commands_last_summary_line() -> None:
    # The "7 passed" is an inner run a test printed (pytester); "coverage report" has none.
    assert tox_counts(TOX_OUTPUT, "py312") == Counts(passed=4, failed=1, skipped=1)


def test_tox_counts_are_none_without_a_pytest_run() -> None:
    output = (
        "py312: commands[0]> .tox/py312/bin/python -m unittest -v\n"
        "Ran 3 tests in 0.1s\n\nOK\n  py312: OK (1 seconds)\n"
    )
    assert tox_counts(output, "py312") is None
    assert tox_counts(TOX_OUTPUT, "py313") is None  # another env's commands are not this env's


def test_tox_status_line_of_the_env() -> None:
    assert tox_status(TOX_OUTPUT, "py312") == "py312: FAIL code 1 (2.00=setup[1.00]+cmd[1.00] seconds)"
    assert tox_status(TOX_OUTPUT, "py31") is None
    assert tox_status("  3.12: OK (1.0 seconds)\n", "3.12") == "3.12: OK (1.0 seconds)"


def test_tox_env_dir_from_tox_config() -> None:
    assert tox_env_dir("[testenv:py312]\nenv_dir = /p/.tox/py312\n") == Path("/p/.tox/py312")
    assert tox_env_dir("ROOT: no tox.ini\n") is None


NOX_OUTPUT = """\
nox > Running session tests-3.12
nox > Creating virtual environment (uv) using python3.12 in .nox/tests-3-12
nox > uv pip install . pytest
nox > pytest
============================= test session starts ==============================
=================== 3 passed, 1 skipped, 1 xfailed in 0.02s ====================
nox > coverage report
nox > Session tests-3.12 was successful in 2 seconds.
"""


def test_nox_counts_status_and_environment(tmp_path: Path) -> None:
    assert nox_counts(NOX_OUTPUT) == Counts(passed=3, skipped=1, xfailed=1)
    assert nox_status(NOX_OUTPUT, "tests-3.12") == "nox > Session tests-3.12 was successful in 2 seconds."
    assert nox_status(NOX_OUTPUT, "tests-3.1") is None
    assert nox_env_dir(NOX_OUTPUT, tmp_path) == tmp_path / ".nox" / "tests-3-12"


def test_junit_counts_read_outcomes_the_way_pytest_counts_them(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="unit">
  <testcase classname="t" name="a"/>
  <testcase classname="t" name="xpassed"/>
  <testcase classname="t" name="b"><failure message="x"/></testcase>
  <testcase classname="t" name="c"><failure message="x"/><error message="teardown"/></testcase>
  <testcase classname="t" name="d"><skipped type="pytest.skip" message="s"/></testcase>
  <testcase classname="t" name="e"><skipped type="pytest.xfail" message="x"/></testcase>
</testsuite><testsuite name="smoke"><testcase classname="t" name="f"><error message="collect"/></testcase>
</testsuite></testsuites>"""
    )
    assert junit_counts(junit) == Counts(passed=2, failed=2, skipped=1, xfailed=1, errors=2)


def test_junit_counts_survive_a_missing_or_broken_file(tmp_path: Path) -> None:
    assert junit_counts(tmp_path / "missing.xml") is None
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites><testsuite>")
    assert junit_counts(broken) is None


def test_counts_compare_xpassed_as_passed() -> None:
    assert Counts(passed=2, xpassed=1).comparable() == Counts(passed=3).comparable()
    assert Counts(passed=3).comparable() != Counts(passed=3, skipped=1).comparable()
    assert str(Counts(passed=3, xfailed=1)) == "3p 1xf"
    assert str(Counts()) == "0 tests"


def _venv(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return folder


def test_our_env_dir_for_tox_and_nox_cells(tmp_path: Path) -> None:
    assert our_env_dir(tmp_path, "tox", "py312") is None
    tox_env = _venv(tmp_path / ".tox" / ".pipeline" / "py312")
    assert our_env_dir(tmp_path, "tox", "py312") == tox_env
    nox_env = _venv(tmp_path / ".nox" / ".pipeline" / "tests-3.12" / "tests-3-12")
    _venv(tmp_path / ".nox" / ".pipeline" / "tests-3.1" / "tests-3-1")
    assert our_env_dir(tmp_path, "nox", "tests-3.12") == nox_env
    assert our_env_dir(tmp_path, "nox", "tests-3.12(attrs='24')") is None
    quoted = _venv(tmp_path / ".nox" / ".pipeline" / "tests-3.12-attrs-24-abc123" / "a1b2c3d4")
    assert our_env_dir(tmp_path, "nox", "tests-3.12(attrs='24')") == quoted
    (nox_env / "pyvenv.cfg").unlink()  # a plain name is never another cell's hashed one
    assert our_env_dir(tmp_path, "nox", "tests-3.12") is None
