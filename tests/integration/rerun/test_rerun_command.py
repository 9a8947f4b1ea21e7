"""``pytest-pipeline rerun --failed`` with the runner replaced by a fake that writes what a
re-run writes: the choice, the options given to the runner, the files folded back in, the
record, the gate and its history, the exit code. (tests/e2e has the real one.)"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest

from pipeline_testkit import git
from pytest_pipeline import cli
from pytest_pipeline.commands import run as runner
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.gate import history
from pytest_pipeline.junit import summarize
from pytest_pipeline.plugin.rerun_filter import selected
from pytest_pipeline.run_record import Artifact, CellRecord, CellStatus, RunRecord
from pytest_pipeline.runner import locks, outputs

STAGES = ("unit", "integration")
OK = ("unit", "tests.test_b", "test_ok", "tests/test_b.py::test_ok")
BAD = ("unit", "tests.test_b", "test_bad", "tests/test_b.py::test_bad")
LATER = ("integration", "tests.test_later", "test_later", "tests/test_later.py::test_later")
CaseKey = tuple[str, str, str, str]


def junit_xml(cell: str, results: Sequence[tuple[CaseKey, str]]) -> str:
    suites = dict.fromkeys(STAGES, "")
    for (stage, classname, name, _), outcome in results:
        inner = {
            "passed": "",
            "failed": '<failure message="assert 1 == 2">E   assert 1 == 2</failure>',
            "blocked": '<error type="pytest_pipeline.blocked" message="blocked by a failure in stage unit"/>',
        }[outcome]
        suites[stage] += (
            f"<testcase classname={quoteattr(classname)} name={quoteattr(name)} time='0.1'>{inner}</testcase>"
        )
    body = "".join(
        f'<testsuite name="pytest: {stage}"><properties><property name="stage" value="{stage}"/>'
        f'<property name="cell" value="{cell}"/></properties>{cases}</testsuite>'
        for stage, cases in suites.items()
    )
    return f'<?xml version="1.0" encoding="utf-8"?><testsuites>{body}</testsuites>'


def events(results: Sequence[tuple[CaseKey, str]]) -> str:
    lines = [{"event": "collected", "tests": len(results)}]
    lines += [{"event": "test", "outcome": outcome, "stage": t[0], "nodeid": t[3]} for t, outcome in results]
    lines.append({"event": "finished", "exitstatus": 1})
    return "".join(json.dumps(line) + "\n" for line in lines)


def write_cell(root: Path, name: str, results: Sequence[tuple[CaseKey, str]] | None, note: str) -> None:
    folder = root / "cells" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "log.txt").write_text(f"{note} log of {name}\n")
    if results is not None:
        (folder / "junit.xml").write_text(junit_xml(name, results))
        (folder / "events.jsonl").write_text(events(results))


def cell_record(name: str, status: CellStatus, junit: bool = True) -> CellRecord:
    return CellRecord(
        name=name,
        status=status,
        python="3.12",
        stages=STAGES,
        exit_code={CellStatus.PASSED: 0, CellStatus.FAILED: 1}.get(status, -9),
        junit=f"cells/{name}/junit.xml" if junit else None,
        log=f"cells/{name}/log.txt",
        duration=2.0,
        message="environment reused",
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose last run: cell a passed, b failed one test (and blocked one), c crashed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.pytest-pipeline]\nstages = ["unit", "integration"]\n')
    root = tmp_path / "pipeline-reports"
    wheel = root / "dist" / "pkg-1.0-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    wheel.write_bytes(b"not really a wheel")
    write_cell(root, "a", [(OK, "passed"), (LATER, "passed")], "old")
    write_cell(root, "b", [(OK, "passed"), (BAD, "failed"), (LATER, "blocked")], "old")
    write_cell(root, "c", None, "old")
    record = RunRecord(
        cells=(
            cell_record("a", CellStatus.PASSED),
            cell_record("b", CellStatus.FAILED),
            cell_record("c", CellStatus.CRASHED, junit=False),
        ),
        stages=STAGES,
        artifact=Artifact(wheel.name, hashlib.sha256(wheel.read_bytes()).hexdigest()),
        started="2026-11-20T10:00:00+00:00",
        finished="2026-11-20T10:01:00+00:00",
    )
    (root / "run.json").write_text(json.dumps(record.to_dict()))
    assert cli.main(["gate", "-q"]) == 3
    return tmp_path


class FakeRunner:
    """Stands in for ``commands.run.run_pipeline``: writes the re-run cells' files like the runner would."""

    def __init__(self, results: dict[str, list[tuple[CaseKey, str]] | None]) -> None:
        self.results = results
        self.options: runner.RunOptions | None = None
        self.selection: dict[str, list[str] | None] = {}

    def __call__(self, options: runner.RunOptions, **kwargs: Any) -> runner.RunResult:
        self.options = options
        for arg in options.pytest_args:
            if arg.startswith("--pipeline-rerun="):
                path = arg.split("=", 1)[1]
                self.selection = {cell: selected(path, cell) for cell in options.cells}
        root = Path(options.reports_dir or "x")
        cells = []
        for name in options.cells:
            results = self.results[name]
            write_cell(root, name, results, "new")
            bad = results is None or any(outcome != "passed" for _, outcome in results)
            status = (
                CellStatus.CRASHED if results is None else (CellStatus.FAILED if bad else CellStatus.PASSED)
            )
            cells.append(cell_record(name, status, junit=results is not None))
        record = RunRecord(cells=tuple(cells), stages=STAGES, finished="2026-11-20T11:00:00+00:00")
        (root / "run.json").write_text(json.dumps(record.to_dict()))
        return runner.RunResult(ExitCode.OK, record, None, root)


@pytest.fixture
def fake(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[dict[str, list[tuple[CaseKey, str]] | None]], FakeRunner]:
    def install(results: dict[str, list[tuple[CaseKey, str]] | None]) -> FakeRunner:
        instance = FakeRunner(results)
        monkeypatch.setattr(runner, "run_pipeline", instance)
        return instance

    return install


def load(root: Path) -> dict[str, dict[str, Any]]:
    return {cell["name"]: cell for cell in json.loads((root / "run.json").read_text())["cells"]}


def test_failed_tests_and_crashed_cell_are_re_run_and_folded_in(
    project: Path, fake: Callable[..., FakeRunner], capsys: pytest.CaptureFixture[str]
) -> None:
    root = project / "pipeline-reports"
    runner_fake = fake({"b": [(BAD, "passed"), (LATER, "passed")], "c": [(OK, "passed"), (LATER, "passed")]})
    capsys.readouterr()
    assert cli.main(["rerun", "--failed"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("re-running 2 of 3 cells:\n  b: failed, 2 tests\n  c: crashed, whole cell\n")
    assert "GATE OPEN (0)" in out
    options = runner_fake.options
    assert options is not None
    assert (options.cells, options.verdict) == (("b", "c"), False)
    assert options.installpkg == root.resolve() / "dist" / "pkg-1.0-py3-none-any.whl"
    assert options.pytest_args[:2] == ("-p", "pytest_pipeline.plugin.rerun_filter")
    assert len(options.pytest_args) == 3
    assert runner_fake.selection == {"b": [BAD[3], LATER[3]], "c": None}

    cells = load(root)
    assert {name: cell["status"] for name, cell in cells.items()} == {
        "a": "passed",
        "b": "passed",
        "c": "passed",
    }
    assert cells["b"]["message"] == "re-ran 2 of its tests; environment reused"
    summary = summarize([root / "cells" / "b" / "junit.xml"])
    assert {k: (v.tests, v.passed) for k, v in summary.groups.items()} == {
        ("b", "unit"): (2, 2),  # test_ok kept from the last run, test_bad re-run
        ("b", "integration"): (1, 1),
    }
    merged = summarize([root / "junit.xml"]).total()
    assert (merged.tests, merged.passed, merged.bad) == (7, 7, 0)
    # the replaced files are kept beside the new ones; cell a was not touched
    assert "old log of b" in (root / "cells" / "b" / "log.txt.previous").read_text()
    assert "new log of b" in (root / "cells" / "b" / "log.txt").read_text()
    assert (root / "cells" / "b" / "junit.xml.previous").is_file()
    assert sorted(p.name for p in (root / "cells" / "a").iterdir()) == [
        "events.jsonl",
        "junit.xml",
        "log.txt",
    ]
    record = json.loads((root / "run.json").read_text())
    assert (record["started"], record["finished"]) == (
        "2026-11-20T10:00:00+00:00",
        "2026-11-20T11:00:00+00:00",
    )
    assert record["artifact"]["name"] == "pkg-1.0-py3-none-any.whl"
    gate = json.loads((root / "gate.json").read_text())
    assert (gate["verdict"], gate["code"]) == ("open", 0)
    assert [entry["code"] for entry in history.read(root / history.HISTORY_NAME)] == [3, 0]
    assert not (project / ".pytest-pipeline" / "rerun").exists()  # scratch removed, and its folder


def test_still_failing_test_keeps_the_gate_closed(
    project: Path, fake: Callable[..., FakeRunner], capsys: pytest.CaptureFixture[str]
) -> None:
    fake({"b": [(BAD, "failed"), (LATER, "blocked")], "c": [(OK, "passed"), (LATER, "passed")]})
    assert cli.main(["rerun", "--failed"]) == 1
    root = project / "pipeline-reports"
    assert load(root)["b"]["status"] == "failed"
    groups = summarize([root / "cells" / "b" / "junit.xml"]).groups
    assert (groups[("b", "unit")].passed, groups[("b", "unit")].failed) == (1, 1)
    assert groups[("b", "integration")].blocked == 1
    assert "GATE CLOSED (1)" in capsys.readouterr().out


def test_when_the_filter_ran_the_whole_cell_its_report_replaces_the_old_one(
    project: Path, fake: Callable[..., FakeRunner]
) -> None:
    # the cell ran all its tests (a test to re-run was renamed): no old result is kept
    fake(
        {"b": [(OK, "passed"), (BAD, "passed"), (LATER, "passed")], "c": [(OK, "passed"), (LATER, "passed")]}
    )
    assert cli.main(["rerun", "--failed"]) == 0
    cells = load(project / "pipeline-reports")
    assert cells["b"]["message"] == "the whole cell ran; environment reused"
    total = summarize([project / "pipeline-reports" / "cells" / "b" / "junit.xml"]).total()
    assert (total.tests, total.passed) == (3, 3)


def test_whole_cells_option(
    project: Path, fake: Callable[..., FakeRunner], capsys: pytest.CaptureFixture[str]
) -> None:
    runner_fake = fake(
        {"b": [(OK, "passed"), (BAD, "passed"), (LATER, "passed")], "c": [(OK, "passed"), (LATER, "passed")]}
    )
    assert cli.main(["rerun", "--failed", "--whole-cells", "--", "-x", "-q"]) == 0
    assert "  b: failed, whole cell (--whole-cells)\n" in capsys.readouterr().out
    assert runner_fake.options is not None
    assert runner_fake.options.pytest_args == ("-x", "-q")  # no filter: every chosen cell runs whole


def test_crash_during_the_re_run_is_reported_as_such(project: Path, fake: Callable[..., FakeRunner]) -> None:
    fake({"b": None, "c": None})
    assert cli.main(["rerun", "--failed"]) == 3
    root = project / "pipeline-reports"
    assert load(root)["b"]["status"] == "crashed"
    assert not (root / "cells" / "b" / "junit.xml").exists()  # moved aside: it described the last run
    assert (root / "cells" / "b" / "junit.xml.previous").is_file()


def test_nothing_to_re_run(
    project: Path, fake: Callable[..., FakeRunner], capsys: pytest.CaptureFixture[str]
) -> None:
    fake({"b": [(BAD, "passed"), (LATER, "passed")], "c": [(OK, "passed"), (LATER, "passed")]})
    assert cli.main(["rerun", "--failed"]) == 0
    runner_fake = fake({})
    capsys.readouterr()
    assert cli.main(["rerun", "--failed"]) == 0
    assert (
        capsys.readouterr().out
        == "nothing to re-run: every cell of the last run finished cleanly (GATE OPEN (0))\n"
    )
    assert runner_fake.options is None


def test_head_moved_since_the_last_run_is_refused(
    project: Path, fake: Callable[..., FakeRunner], capsys: pytest.CaptureFixture[str]
) -> None:
    git(project, "init", "-q")
    (project / ".gitignore").write_text("pipeline-reports/\n")
    git(project, "add", ".gitignore", "pyproject.toml")
    git(project, "commit", "-q", "-m", "one")
    root = project / "pipeline-reports"
    record = json.loads((root / "run.json").read_text())
    record["commit"] = "0" * 40
    (root / "run.json").write_text(json.dumps(record))
    runner_fake = fake({})
    assert cli.main(["rerun", "--failed"]) == 4
    err = capsys.readouterr().err
    assert "HEAD moved since the last run (000000000000 -> " in err
    assert runner_fake.options is None


@pytest.mark.parametrize(
    ("setup", "argv", "message"),
    [
        (lambda root: None, ["rerun"], "say what to re-run: --failed"),
        (
            lambda root: (root / "run.json").unlink(),
            ["rerun", "--failed"],
            "nothing to re-run; run `pytest-pipeline run`",
        ),
        (
            lambda root: (root / "run.json").write_text("{"),
            ["rerun", "--failed"],
            "is not a readable run record",
        ),
        (
            lambda root: (root / "dist" / "pkg-1.0-py3-none-any.whl").write_bytes(b"another build"),
            ["rerun", "--failed"],
            "the package the last run tested is missing or changed",
        ),
        (lambda root: None, ["rerun", "--failed", "-p", "0"], "-p 0: expected 'auto' or a number"),
    ],
)
def test_usage_errors(  # noqa: PLR0917 - fixtures and parameters
    project: Path,
    fake: Callable[..., FakeRunner],
    capsys: pytest.CaptureFixture[str],
    setup: Callable[[Path], object],
    argv: list[str],
    message: str,
) -> None:
    setup(project / "pipeline-reports")
    runner_fake = fake({})
    assert cli.main(argv) == 4
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert runner_fake.options is None


def test_a_busy_reports_folder_is_refused(
    project: Path, fake: Callable[..., FakeRunner], capsys: pytest.CaptureFixture[str]
) -> None:
    runner_fake = fake({})
    root = project / "pipeline-reports"
    with locks.hold(root / outputs.LOCK_NAME):
        assert cli.main(["rerun", "--failed"]) == 4
    assert "is in use by another pytest-pipeline run" in capsys.readouterr().err
    assert runner_fake.options is None


def remember(project: Path, **how: Any) -> None:
    """Make the last run's record say how its cells ran (``run -- ARGS``, backend, installer)."""
    path = project / "pipeline-reports" / "run.json"
    data = json.loads(path.read_text())
    data.update(how)
    path.write_text(json.dumps(data))


FIXED = {"b": [(BAD, "passed"), (LATER, "passed")], "c": [(OK, "passed"), (LATER, "passed")]}


def test_the_last_runs_pytest_args_backend_and_installer_are_used_again(
    project: Path, fake: Callable[..., FakeRunner], capsys: pytest.CaptureFixture[str]
) -> None:
    remember(project, pytest_args=["-k", "smoke and not slow", "-x"], backend="tox", installer="pip")
    runner_fake = fake(FIXED)
    capsys.readouterr()
    assert cli.main(["rerun", "--failed"]) == 0
    options = runner_fake.options
    assert options is not None
    assert options.pytest_args[:2] == ("-p", "pytest_pipeline.plugin.rerun_filter")  # the filter first
    assert options.pytest_args[3:] == ("-k", "smoke and not slow", "-x")
    assert (options.backend, options.installer) == ("tox", "pip")
    out = capsys.readouterr().out
    assert "with the last run's pytest arguments: -k 'smoke and not slow' -x (new ones after --" in out
    # remembered for the next re-run too; the filter's own arguments are not
    record = json.loads((project / "pipeline-reports" / "run.json").read_text())
    assert record["pytest_args"] == ["-k", "smoke and not slow", "-x"]
    assert (record["backend"], record["installer"]) == ("tox", "pip")


def test_new_pytest_args_replace_the_remembered_ones(
    project: Path, fake: Callable[..., FakeRunner], capsys: pytest.CaptureFixture[str]
) -> None:
    remember(project, pytest_args=["-k", "smoke"])
    runner_fake = fake(FIXED)
    capsys.readouterr()
    assert cli.main(["rerun", "--failed", "--", "-q"]) == 0
    assert runner_fake.options is not None
    assert runner_fake.options.pytest_args[3:] == ("-q",)
    assert (runner_fake.options.backend, runner_fake.options.installer) == (None, None)  # none recorded
    assert "last run's pytest arguments" not in capsys.readouterr().out
    assert json.loads((project / "pipeline-reports" / "run.json").read_text())["pytest_args"] == ["-q"]


def test_no_pytest_args_forgets_them(project: Path, fake: Callable[..., FakeRunner]) -> None:
    remember(project, pytest_args=["-k", "smoke"])
    runner_fake = fake(FIXED)
    assert cli.main(["rerun", "--failed", "--no-pytest-args"]) == 0
    assert runner_fake.options is not None
    assert len(runner_fake.options.pytest_args) == 3  # only the filter
    assert "pytest_args" not in json.loads((project / "pipeline-reports" / "run.json").read_text())
