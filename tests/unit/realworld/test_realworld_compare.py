"""When a cell of the differential corpus agrees, and how the table shows it."""

from __future__ import annotations

from pathlib import Path

from realworld.compare import Comparison, Results, table
from realworld.corpus import Case, Env, Project
from realworld.reading import Counts
from realworld.sides import Side

PROJECT = Project(name="demo", version="1.0", tool="tox", config="tox.ini", envs=())
PACKAGES = {"demo": "1.0", "pytest": "9.2.0"}
THREE_PASSED = Counts(passed=3)


def side(
    verdict: str = "OK", counts: Counts | None = THREE_PASSED, packages: dict[str, str] | None = None
) -> Side:
    ok = verdict in ("OK", "passed")
    return Side(verdict, ok, counts, dict(PACKAGES) if packages is None else packages, "", Path("log"))


def compare(reference: Side, ours: Side, *, runs_pytest: bool = True) -> Comparison:
    return Comparison(Case(PROJECT, Env("py312", runs_pytest=runs_pytest)), reference, ours)


def test_a_cell_agrees_when_verdict_counts_and_packages_match() -> None:
    same = compare(side(), side("passed"))
    assert (same.verdict_agrees, same.counts_agree, same.packages_agree, same.agrees) == (
        True,
        True,
        True,
        True,
    )
    assert same.explain() == ""


def test_each_difference_makes_the_cell_disagree() -> None:
    verdict = compare(side(), side("env-error", counts=Counts(passed=3)))
    counts = compare(side(), side("passed", counts=Counts(passed=2, skipped=1)))
    packages = compare(side(), side("passed", packages={"demo": "1.0", "pytest": "8.2.1"}))
    for comparison in (verdict, counts, packages):
        assert not comparison.agrees
    assert not verdict.verdict_agrees
    assert counts.counts_agree is False
    assert packages.package_differences() == (["pytest==9.2.0"], ["pytest==8.2.1"])
    assert "only in tox's env: pytest==9.2.0" in packages.explain()


def test_missing_results_on_our_side_never_agree() -> None:
    no_junit = compare(side(), side("passed", counts=None))
    assert no_junit.counts_agree is False
    no_env = compare(side(), Side("passed", True, Counts(passed=3), None, "", Path("log")))
    assert not no_env.packages_agree
    assert "no environment" in no_env.explain()


def test_counts_are_not_compared_where_no_pytest_runs() -> None:
    unittest = compare(side(counts=None), side("passed", counts=None), runs_pytest=False)
    assert unittest.counts_agree is None
    assert unittest.agrees


def test_table_one_line_per_cell_and_totals() -> None:
    rows = [compare(side(), side("passed")), compare(side("FAIL", Counts(failed=1)), side("passed"))]
    text = table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["project", "cell", "tox/nox", "ours", "verdict", "counts", "packages"]
    assert lines[2].split() == ["demo", "py312", "OK", "3p", "passed", "3p", "yes", "yes", "yes"]
    assert lines[3].split() == ["demo", "py312", "FAIL", "1f", "passed", "3p", "NO", "NO", "yes"]
    assert lines[4] == "2 cells: 1 agree in all; verdict 1/2, counts 1/2, packages 2/2"


def test_results_keep_cases_not_compared() -> None:
    results = Results([compare(side(), side("passed"))], ["demo:py313: tox crashed"])
    assert not results.all_agree
    assert results.text().endswith("NOT COMPARED: demo:py313: tox crashed")
    assert results.to_dict()["not_compared"] == ["demo:py313: tox crashed"]
    assert results.to_dict()["totals"]["agree"] == 1
