"""Benchmark: cells whose pytest runs ``-n auto``, on the machine's cores, three ways.

A generated project: ``--tests`` tests (default 200), each burning ``--ms`` milliseconds
(default 50) of CPU in pure Python (a fixed number of loop turns, measured once here, so
every side does the same work), and ``pytest -n auto`` in its tox commands and its nox
session, for 4 cells on the pyenv interpreters 3.10-3.13:

* ``pytest-pipeline run -p auto --fresh`` (every cell runs: no reused results here): each
  cell holds test slots for its workers; ``-n auto``
  gets a budget (``PYTEST_XDIST_AUTO_NUM_WORKERS``), so cells x workers <= the cores;
* ``tox run-parallel -p auto`` (tox-uv's runner): every env's xdist counts all the CPUs;
* ``nox -j auto --allow-parallel`` (uv backend, ``--reuse-venv yes``): nox's parallel
  mode, sessions in their own processes, each xdist again counting all the CPUs.

Cold runs are not the point here: each side first makes its environments (an untimed
run), then gets ``--runs`` timed warm runs, the sides taking turns run by run so that a
load that comes and goes on a shared machine falls on all alike. It prints every time,
the CPU time the run's processes used, the medians and the ratios (the other side's
median / ours).

A run counts only if it ran what it should: exit 0 and every cell passed (tox says OK,
nox "was successful", run.json "passed"), with all the tests. Anything else stops the
benchmark with the log's path.

    python benchmarks/bench_xdist.py                  # 200 tests x 50 ms, 3 warm runs per side
    python benchmarks/bench_xdist.py --runs 5 --tests 100
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from pipeline_testkit import clean_environ, pipeline_argv, pyenv_path  # noqa: E402

PYTHONS = ("3.10", "3.11", "3.12", "3.13")
CELLS = tuple(f"py{minor.replace('.', '')}" for minor in PYTHONS)
SESSIONS = tuple(f"tests-{minor}" for minor in PYTHONS)
GOAL = 1.3
"""Goal of issue 14: this many times faster than ``tox run-parallel`` (medians)."""


def turns_for(milliseconds: float) -> int:
    """Loop turns that take ``milliseconds`` of CPU here (the best of a few tries)."""
    turns = 200_000
    best = min(_burn_seconds(turns) for _ in range(5))
    return max(1, int(turns * milliseconds / 1000 / best))


def _burn_seconds(turns: int) -> float:
    start = time.process_time()
    total = 0
    for i in range(turns):
        total += i * i % 7
    return time.process_time() - start


def write_project(root: Path, *, tests: int, turns: int) -> Path:
    files = {
        "pyproject.toml": """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "burn"
            version = "1.0"

            [tool.hatch.build.targets.wheel]
            packages = ["src/burn"]
        """,
        "src/burn/__init__.py": """
            def burn(turns):
                total = 0
                for i in range(turns):
                    total += i * i % 7
                return total
        """,
        "tests/test_burn.py": f"""
            import pytest

            import burn

            @pytest.mark.parametrize("n", range({tests}))
            def test_burn(n):
                assert burn.burn({turns}) >= 0
        """,
        "tox.ini": f"""
            [tox]
            env_list = {", ".join(CELLS)}

            [testenv]
            deps =
                pytest>=8.2
                pytest-xdist>=3.5
            commands = pytest -n auto {{posargs}}
        """,
        "noxfile.py": f"""
            import nox

            @nox.session(python={list(PYTHONS)!r})
            def tests(session):
                session.install("pytest>=8.2", "pytest-xdist>=3.5", ".")
                session.run("pytest", "-n", "auto")
        """,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


@dataclass
class Side:
    name: str
    argv: list[str]
    expect: str
    """How a run proves it ran every cell: ``ours``, ``tox`` or ``nox``."""
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def sides() -> list[Side]:
    return [
        Side(
            # --fresh: nothing changes between the warm runs, and this measures the cores'
            # sharing, not the reuse of results (bench_matrix measures that).
            "pytest-pipeline run -p auto",
            pipeline_argv("run", "-p", "auto", "--fresh", "-e", ",".join(CELLS)),
            "ours",
        ),
        Side(
            "tox run-parallel -p auto (tox-uv)",
            [
                sys.executable,
                "-m",
                "tox",
                "run-parallel",
                "-p",
                "auto",
                "-e",
                ",".join(CELLS),
                "--parallel-no-spinner",
                "--runner",
                "uv-venv-runner",
                "--result-json",
                "tox-result.json",
            ],
            "tox",
        ),
        Side(
            "nox -j auto --allow-parallel (uv)",
            [
                sys.executable,
                "-m",
                "nox",
                "-j",
                "auto",
                "--allow-parallel",
                "-db",
                "uv",
                "--reuse-venv",
                "yes",
                "--non-interactive",
                "-s",
                *SESSIONS,
            ],
            "nox",
        ),
    ]


class RunFailed(SystemExit):
    pass


def check_ran(side: Side, output: str, folder: Path, tests: int, log: Path) -> None:
    """Every cell passed, and each pytest said ``N passed`` for all the tests: our
    cells' logs, tox's result journal (``--result-json``: run-parallel prints nothing of a
    passing env), nox's output."""
    if side.expect == "ours":
        record = json.loads((folder / "pipeline-reports" / "run.json").read_text(encoding="utf-8"))
        status = {cell["name"]: cell["status"] for cell in record["cells"]}
        bad = {cell: status.get(cell, "absent") for cell in CELLS if status.get(cell) != "passed"}
        outputs = [(folder / "pipeline-reports" / "cells" / cell / "log.txt").read_text() for cell in CELLS]
    elif side.expect == "tox":
        journal = json.loads((folder / "tox-result.json").read_text(encoding="utf-8"))["testenvs"]
        bad = {cell: "absent" for cell in CELLS if cell not in journal}
        bad |= {
            cell: "failed"
            for cell in CELLS
            if journal.get(cell, {}).get("result", {}).get("success") is False
        }
        outputs = [
            "".join(run.get("output", "") for run in journal.get(cell, {}).get("test", [])) for cell in CELLS
        ]
    else:
        ok = set(re.findall(r"Session (\S+) was successful", output))
        bad = {session: "not successful" for session in SESSIONS if session not in ok}
        outputs = re.split(r"Session \S+ was successful", output)
    if bad:
        raise RunFailed(f"{side.name}: these cells did not pass: {bad}; see {log}")
    ran = sum(bool(re.search(rf"\b{tests} passed\b", text)) for text in outputs)
    if ran < len(CELLS):
        raise RunFailed(f"{side.name}: {ran} of {len(CELLS)} cells said '{tests} passed'; see {log}")


def timed(side: Side, folder: Path, env: dict[str, str], tests: int, log: Path) -> tuple[float, float]:
    """Wall time and the CPU time of the run's processes (all children, reaped)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(side.argv, cwd=folder, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(side.argv)}  (in {folder})\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        raise RunFailed(f"{side.name} exited with {done.returncode}; see {log}")
    check_ran(side, done.stdout + done.stderr, folder, tests, log)
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="timed warm runs per side (default 3)")
    parser.add_argument("--tests", type=int, default=200, help="tests in the project (default 200)")
    parser.add_argument(
        "--ms", type=float, default=50.0, help="CPU milliseconds each test burns (default 50)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.runs < 1 or args.tests < 1:
        parser.error("--runs and --tests must be at least 1")
    try:
        env = clean_environ(PATH=pyenv_path(*PYTHONS), NO_COLOR="1")
    except LookupError as missing:
        sys.exit(f"{missing}: install it with pyenv")
    turns = turns_for(args.ms)
    tmp = Path(tempfile.mkdtemp(prefix="bench-xdist-"))
    log = tmp / "bench.log"
    print(f"{args.tests} tests x {args.ms:g} ms ({turns} loop turns), 4 cells; copies and output in {tmp}")
    all_sides = sides()
    try:
        folders = [write_project(tmp / f"side{index}", tests=args.tests, turns=turns) for index in range(3)]
        for side, folder in zip(all_sides, folders, strict=True):
            elapsed, _ = timed(side, folder, env, args.tests, log)
            print(f"  {side.name:36} environments made {elapsed:6.1f}s (not counted)", flush=True)
        for round_ in range(args.runs):
            for side, folder in zip(all_sides, folders, strict=True):
                elapsed, cpu = timed(side, folder, env, args.tests, log)
                side.times.append(elapsed)
                side.cpu.append(cpu)
                print(f"  {side.name:36} warm #{round_ + 1} {elapsed:6.1f}s  cpu {cpu:6.1f}s", flush=True)
        report(all_sides)
    except RunFailed:
        shutil.copyfile(log, Path(tempfile.gettempdir()) / "bench-xdist-failed.log")
        raise
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(all_sides: list[Side]) -> None:
    ours = all_sides[0]
    print()
    print(f"{'side':36} {'median':>8} {'best':>7} {'cpu median':>11}   runs (s)")
    for side in all_sides:
        runs = " ".join(f"{value:.1f}" for value in side.times)
        print(
            f"{side.name:36} {side.median:7.1f}s {min(side.times):6.1f}s "
            f"{statistics.median(side.cpu):10.1f}s   {runs}"
        )
    print()
    print("ratios of the medians (how many times faster pytest-pipeline is):")
    for other in all_sides[1:]:
        print(f"  {other.median / ours.median:4.2f}x  ({other.name} / {ours.name})")
    ratio = all_sides[1].median / ours.median
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"goal (>= {GOAL}x faster than tox run-parallel, medians): {verdict} ({ratio:.2f}x)")


if __name__ == "__main__":
    raise SystemExit(main())
