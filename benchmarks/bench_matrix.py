"""Benchmark: ``pytest-pipeline run`` against ``tox run-parallel -p auto`` on a whole matrix.

Two projects, each with its own configuration unmodified:

* ``--project sample`` (default): ``examples/sample-project``, 4 cells (py310/py312 x attrs
  23/24 on the pyenv interpreters 3.10 and 3.12). Both sides exit 1: 3.12 fails on purpose.
* ``--project pluggy``: pluggy 1.6.0's sdist from PyPI (sha256 pinned), its tox.ini's
  py310, py311, py312 and py313 on the pyenv interpreters 3.10 to 3.13. Both sides exit 0.
* ``--project attrs``: attrs 26.1.0's sdist (sha256 pinned), its tox.ini's py312-tests and
  py313-tests (tox-uv's uv-venv-lock-runner, ``pytest -n auto``). Both sides exit 1: one
  test fails on the pyenv CPython 3.12.1 (under tox too).

Each side works on its own copy in a temporary folder, so no side reuses another's
environments:

* ``pytest-pipeline run``                         (the project's tox runner: tox-uv here)
* ``tox run-parallel -p auto`` with tox-uv's runner (the fastest a tox user has)
* with ``--plain``: both again with tox's own virtualenv runner
  (``TOX_DEFAULT_RUNNER=virtualenv``, which tox and therefore our cells follow)

Each side gets ``--cold-runs`` **cold** runs (no environments: ``.tox``, ``.nox``, our
caches, kept build environment and result store removed; the uv/pip download caches stay
warm for everyone), then ``--runs`` runs with a test file **changed** before each
(environments warm; every cell runs again), then ``--runs`` runs with **nothing
changed** (our cells reuse their stored results; tox runs everything, as it always does).
The sides take turns, run by run, so a load that comes and goes on a shared machine falls
on all of them alike. It prints every time, the medians, and the ratios tox /
pytest-pipeline of the medians.

A run counts only if it ran what it should: each side's exit code is the expected one and
every environment ran its tests (tox says OK or FAIL for it, run.json says passed or
failed). Anything else stops the benchmark with the log's path: a wrong PATH must never
turn into "every run took 0.0 s".

    python benchmarks/bench_matrix.py                        # sample, 3 cold + 3 warm runs per side
    python benchmarks/bench_matrix.py --project pluggy       # pluggy 1.6.0, 4 interpreters
    python benchmarks/bench_matrix.py --project attrs        # attrs 26.1.0, 2 cells, pytest -n auto
    python benchmarks/bench_matrix.py --cold-runs 1 --runs 1 # quicker
    python benchmarks/bench_matrix.py --plain                # also tox's virtualenv runner, both sides
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The sample's copies, environment and interpreters are set up as the e2e tests do it.
sys.path.insert(0, str(ROOT / "tests"))
from pipeline_testkit import clean_environ, copy_sample, pipeline_argv, pyenv_path  # noqa: E402
from pytest_pipeline.runner import build_env  # noqa: E402


@dataclass(frozen=True)
class Project:
    cells: tuple[str, ...]
    pythons: tuple[str, ...]
    exit_code: int
    """What both sides must exit with (the sample fails on purpose on 3.12)."""
    copy: Callable[[Path, Path], Path]
    """``copy(cache, target)``: a fresh copy of the project in ``target``."""
    test_file: str
    """A test file the "changed" runs edit (a comment appended: every cell must run again)."""
    tox_runner: str | None = "uv-venv-runner"
    """The runner tox is told to use (``--runner``; tox-uv's), or None: the project's own."""


PLUGGY = ("pluggy", "1.6.0", "7dcc130b76258d33b90f61b658791dede3486c3e6bfb003ee5c9bfb396dd22f3")
ATTRS = ("attrs", "26.1.0", "d03ceb89cb322a8fd706d4fb91940737b6642aa36998fe130a9bc96c985eff32")


def sdist_copy(pinned: tuple[str, str, str]) -> Callable[[Path, Path], Path]:
    """``copy(cache, target)`` for a pinned sdist from the package index."""
    return lambda cache, target: unpack_sdist(pinned, cache, target)


def unpack_sdist(pinned: tuple[str, str, str], cache: Path, target: Path) -> Path:
    name, version, sha256 = pinned
    sdist = cache / f"{name}-{version}.tar.gz"
    if not sdist.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        subprocess.run([*command, f"{name}=={version}", "-d", str(cache)], check=True)
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != sha256:
        sys.exit(f"{sdist}: sha256 {digest}, expected {sha256}; delete it and run again")
    with tarfile.open(sdist) as archive:
        archive.extractall(target.parent, filter="data")
    (target.parent / f"{name}-{version}").rename(target)
    return target


PROJECTS = {
    "sample": Project(
        cells=("py310-attrs23", "py310-attrs24", "py312-attrs23", "py312-attrs24"),
        pythons=("3.10", "3.12"),
        exit_code=1,
        copy=lambda cache, target: copy_sample(target),
        test_file="tests/unit/test_greet.py",
    ),
    "pluggy": Project(
        cells=("py310", "py311", "py312", "py313"),
        pythons=("3.10", "3.11", "3.12", "3.13"),
        exit_code=0,
        copy=sdist_copy(PLUGGY),
        test_file="testing/test_hookcaller.py",
    ),
    # Its own runner (tox-uv's uv-venv-lock-runner: uv sync --locked) and pytest -n auto.
    # Both sides exit 1: TestPipe::test_wrapped_annotation fails on the CPython 3.12.1 here.
    "attrs": Project(
        cells=("py312-tests", "py313-tests"),
        pythons=("3.12", "3.13"),
        exit_code=1,
        copy=sdist_copy(ATTRS),
        test_file="tests/test_funcs.py",
        tox_runner=None,
    ),
}


@dataclass
class Side:
    name: str
    argv: list[str]
    tool: str
    """``tox`` or ``ours``: how to check that a run ran every cell."""
    extra_env: dict[str, str] = field(default_factory=dict)
    cold: list[float] = field(default_factory=list)
    changed: list[float] = field(default_factory=list)
    """Warm environments, a test file edited before each run."""
    unchanged: list[float] = field(default_factory=list)
    """Warm environments, nothing changed since the last run."""


def environment(project: Project) -> dict[str, str]:
    """What the end-to-end tests give a run: the project's pyenv interpreters first on PATH.

    Both sides run the way installed tools run, with bytecode caches: a developer shell
    may set PYTHONDONTWRITEBYTECODE, which would make every run compile its sources
    (ours, tox's and the cells' alike), as on no user's machine."""
    try:
        path = pyenv_path(*project.pythons)
    except LookupError as missing:
        sys.exit(f"{missing}: install it with pyenv")
    env = clean_environ(PATH=path, NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def make_cold(project: Path) -> None:
    for name in (".tox", ".nox", ".pytest-pipeline", "pipeline-reports"):
        shutil.rmtree(project / name, ignore_errors=True)
    # our kept build environment lives in the user's cache (as tox's .tox/.pkg, it is ours
    # to make on a cold run)
    shutil.rmtree(build_env.root(project), ignore_errors=True)


class RunFailed(SystemExit):
    pass


def check_ran(side: Side, project: Project, output: str, folder: Path, log: Path) -> None:
    """Every cell ran its tests: tox says OK or FAIL for each environment; run.json says
    passed or failed for each cell (not missing, skipped, env-error or crashed)."""
    if side.tool == "tox":
        status = dict(re.findall(r"^\s*(\S+): (OK|FAIL|SKIP)\b", output, re.MULTILINE))
        bad = {
            cell: status.get(cell, "absent")
            for cell in project.cells
            if status.get(cell) not in ("OK", "FAIL")
        }
    else:
        record = json.loads((folder / "pipeline-reports" / "run.json").read_text(encoding="utf-8"))
        status = {cell["name"]: cell["status"] for cell in record["cells"]}
        bad = {
            cell: status.get(cell, "absent")
            for cell in project.cells
            if status.get(cell) not in ("passed", "failed")
        }
    if bad:
        raise RunFailed(f"{side.name}: these cells did not run their tests: {bad}; see {log}")


def timed(side: Side, project: Project, folder: Path, env: dict[str, str], log: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        side.argv, cwd=folder, env={**env, **side.extra_env}, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(side.argv)}  (in {folder})\n{done.stdout}{done.stderr}")
    if done.returncode != project.exit_code:
        raise RunFailed(f"{side.name} exited with {done.returncode}, not {project.exit_code}; see {log}")
    check_ran(side, project, done.stdout + done.stderr, folder, log)
    return elapsed


def sides(project: Project, plain: bool) -> list[Side]:
    envs = ",".join(project.cells)
    pipeline = pipeline_argv("run", "-p", "auto", "-e", envs)
    tox = [sys.executable, "-m", "tox", "run-parallel", "-p", "auto", "-e", envs, "--parallel-no-spinner"]
    runner = ["--runner", project.tox_runner] if project.tox_runner else []
    found = [
        Side("pytest-pipeline run (tox-uv)", pipeline, "ours"),
        Side("tox run-parallel (tox-uv)", [*tox, *runner], "tox"),
    ]
    if plain:
        virtualenv = {"TOX_DEFAULT_RUNNER": "virtualenv"}
        found += [
            Side("pytest-pipeline run (virtualenv)", pipeline, "ours", virtualenv),
            Side("tox run-parallel (virtualenv)", [*tox, "--runner", "virtualenv"], "tox"),
        ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", choices=sorted(PROJECTS), default="sample")
    parser.add_argument("--runs", type=int, default=3, help="changed and unchanged runs per side (default 3)")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold runs per side (default 3)")
    parser.add_argument("--plain", action="store_true", help="also both sides with tox's virtualenv runner")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.runs < 1 or args.cold_runs < 1:
        parser.error("--runs and --cold-runs must be at least 1")
    project = PROJECTS[args.project]
    env = environment(project)
    tmp = Path(tempfile.mkdtemp(prefix="bench-matrix-"))
    log = tmp / "bench.log"
    print(f"{args.project}: copies and the full output in {tmp}")
    cache = Path.home() / ".cache" / "pytest-pipeline" / "bench"
    try:
        all_sides = sides(project, args.plain)
        folders = [project.copy(cache, tmp / f"side{index}") for index in range(len(all_sides))]
        for round_ in range(args.cold_runs):
            for side, folder in zip(all_sides, folders, strict=True):
                make_cold(folder)
                side.cold.append(timed(side, project, folder, env, log))
                print(f"  {side.name:34} cold #{round_ + 1} {side.cold[-1]:6.1f}s", flush=True)
        for round_ in range(args.runs):
            for side, folder in zip(all_sides, folders, strict=True):
                with (folder / project.test_file).open("a", encoding="utf-8") as handle:
                    handle.write(f"# edit {round_}\n")
                side.changed.append(timed(side, project, folder, env, log))
                print(f"  {side.name:34} changed #{round_ + 1} {side.changed[-1]:6.2f}s", flush=True)
        for round_ in range(args.runs):
            for side, folder in zip(all_sides, folders, strict=True):
                side.unchanged.append(timed(side, project, folder, env, log))
                print(f"  {side.name:34} unchanged #{round_ + 1} {side.unchanged[-1]:6.2f}s", flush=True)
        report(all_sides)
    except RunFailed:
        shutil.copyfile(log, Path(tempfile.gettempdir()) / "bench-matrix-failed.log")
        raise
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _median(values: list[float]) -> float:
    return statistics.median(values)


def report(all_sides: list[Side]) -> None:
    print()
    print(f"{'side':34} {'cold':>8} {'changed':>8} {'unchanged':>10}   (medians, s)")
    for side in all_sides:
        print(
            f"{side.name:34} {_median(side.cold):8.2f} {_median(side.changed):8.2f} "
            f"{_median(side.unchanged):10.2f}"
        )
    print()
    print("how many times faster pytest-pipeline is (medians; tox has no reuse: its warm run is")
    print("the anchor of both warm figures, its runs after an edit and without one alike):")
    for ours, anchor in zip(all_sides[::2], all_sides[1::2], strict=True):
        tox_warm = _median(anchor.changed + anchor.unchanged)
        print(
            f"  cold {_median(anchor.cold) / _median(ours.cold):5.2f}x   "
            f"one test file changed {tox_warm / _median(ours.changed):5.2f}x   "
            f"nothing changed {tox_warm / _median(ours.unchanged):5.2f}x  ({anchor.name} / {ours.name})"
        )


if __name__ == "__main__":
    raise SystemExit(main())
