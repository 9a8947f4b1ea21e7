"""Benchmark: ``pytest-pipeline run`` against ``tox run-parallel -p auto`` on the sample matrix.

Works on copies of ``examples/sample-project`` (4 cells: py310/py312 x attrs 23/24, on
the pyenv interpreters 3.10 and 3.12) in a temporary folder, one copy per side so no
side ever reuses another's environments. The sides:

* ``pytest-pipeline run``               (uv when installed: the default)
* ``pytest-pipeline run --installer pip`` (virtualenv + pip, for the plain-tox comparison)
* ``tox run-parallel -p auto --runner virtualenv``   (plain tox)
* ``tox run-parallel -p auto --runner uv-venv-runner`` (tox-uv, the fastest a tox user has)

Each side gets ``--cold-runs`` **cold** runs (no environments: ``.tox``, ``.nox``, our
caches removed; the uv/pip download caches stay warm for everyone), then ``--runs``
**warm** runs (the environments exist). The sides take turns, run by run, so a load
that comes and goes on a shared machine falls on all of them alike. It prints every
time, the medians and the best warm time, and the ratios tox / pytest-pipeline of the
medians. Both sides run the same four environments and all the tests (tox runs
``pytest`` without our plugin; we run the same tests in stage order with the smoke
stage's retry); both exit non-zero because 3.12 fails on purpose, which is fine.

Goals: at least 2x faster than tox-uv warm, clearly faster cold. Do not take figures on a
busy machine as final.

    python benchmarks/bench_matrix.py                      # 3 cold and 3 warm runs per side
    python benchmarks/bench_matrix.py --cold-runs 1 --runs 1   # quicker
    python benchmarks/bench_matrix.py --uv-only            # pytest-pipeline (uv) and tox-uv only
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The sample's copies, environment and interpreters are set up as the e2e tests do it.
sys.path.insert(0, str(ROOT / "tests"))
from pipeline_testkit import clean_environ, copy_sample, pipeline_argv, pyenv_path  # noqa: E402

CELLS = ("py310-attrs23", "py310-attrs24", "py312-attrs23", "py312-attrs24")
GOAL_WARM = 2.0


@dataclass
class Side:
    name: str
    argv: list[str]
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)

    @property
    def best_warm(self) -> float:
        return min(self.warm)

    @property
    def cold_median(self) -> float:
        return statistics.median(self.cold)

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm)


def environment() -> dict[str, str]:
    """What the end-to-end tests give a run: CPython 3.10 and 3.12 from pyenv first on PATH."""
    try:
        path = pyenv_path("3.10", "3.12")
    except LookupError as missing:
        sys.exit(f"{missing}: install it with pyenv")
    return clean_environ(PATH=path, NO_COLOR="1")


def make_cold(project: Path) -> None:
    for name in (".tox", ".nox", ".pytest-pipeline", "pipeline-reports"):
        shutil.rmtree(project / name, ignore_errors=True)


def timed(argv: Sequence[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    start = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(argv)}\n")
        out.flush()
        done = subprocess.run(list(argv), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    elapsed = time.perf_counter() - start
    # 1 is expected (3.12 fails on purpose); anything else means the side did not run
    if done.returncode not in (0, 1):
        sys.exit(f"{argv[:4]} ... exited with {done.returncode}; see {log}")
    return elapsed


def sides() -> list[Side]:
    envs = ",".join(CELLS)
    pipeline = pipeline_argv("run", "-p", "auto", "-e", envs)
    tox = [sys.executable, "-m", "tox", "run-parallel", "-p", "auto", "-e", envs, "--parallel-no-spinner"]
    return [
        Side("pytest-pipeline run (uv)", [*pipeline, "--installer", "uv"]),
        Side("pytest-pipeline run (pip)", [*pipeline, "--installer", "pip"]),
        Side("tox run-parallel (virtualenv)", [*tox, "--runner", "virtualenv"]),
        Side("tox run-parallel (tox-uv)", [*tox, "--runner", "uv-venv-runner"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="warm runs per side (default 3)")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold runs per side (default 3)")
    parser.add_argument("--uv-only", action="store_true", help="only pytest-pipeline run (uv) against tox-uv")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.runs < 1 or args.cold_runs < 1:
        parser.error("--runs and --cold-runs must be at least 1")
    env = environment()
    tmp = Path(tempfile.mkdtemp(prefix="bench-matrix-"))
    log = tmp / "bench.log"
    print(f"sample project copies and the full output: {tmp}")
    try:
        all_sides = sides()
        if args.uv_only:
            all_sides = [side for side in all_sides if "uv" in side.name]
        projects = [copy_sample(tmp / f"side{index}") for index in range(len(all_sides))]
        for round_ in range(args.cold_runs):
            for side, project in zip(all_sides, projects, strict=True):
                make_cold(project)
                side.cold.append(timed(side.argv, project, env, log))
                print(f"  {side.name:32} cold #{round_ + 1} {side.cold[-1]:6.1f}s", flush=True)
        for round_ in range(args.runs):
            for side, project in zip(all_sides, projects, strict=True):
                side.warm.append(timed(side.argv, project, env, log))
                print(f"  {side.name:32} warm #{round_ + 1} {side.warm[-1]:6.1f}s", flush=True)
        report(all_sides)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _times(values: list[float]) -> str:
    return " ".join(f"{value:.1f}" for value in values)


def report(all_sides: list[Side]) -> None:
    print()
    header = f"{'side':32} {'cold median':>12} {'warm median':>12} {'warm best':>10}"
    print(f"{header}   cold runs | warm runs (s)")
    for side in all_sides:
        print(
            f"{side.name:32} {side.cold_median:11.1f}s {side.warm_median:11.1f}s {side.best_warm:9.1f}s"
            f"   {_times(side.cold)} | {_times(side.warm)}"
        )
    print()
    by_name = {side.name: side for side in all_sides}
    pairs = [
        ("tox run-parallel (tox-uv)", "pytest-pipeline run (uv)"),
        ("tox run-parallel (virtualenv)", "pytest-pipeline run (uv)"),
        ("tox run-parallel (virtualenv)", "pytest-pipeline run (pip)"),
    ]
    print("ratios of the medians (how many times faster pytest-pipeline is):")
    for anchor_name, ours_name in pairs:
        if anchor_name in by_name and ours_name in by_name:
            anchor, ours = by_name[anchor_name], by_name[ours_name]
            print(
                f"  cold {anchor.cold_median / ours.cold_median:4.1f}x   "
                f"warm {anchor.warm_median / ours.warm_median:4.1f}x  ({anchor.name} / {ours.name})"
            )
    tox_uv, ours = by_name["tox run-parallel (tox-uv)"], by_name["pytest-pipeline run (uv)"]
    goal = tox_uv.best_warm / ours.best_warm
    verdict = "met" if goal >= GOAL_WARM else "NOT met"
    print(f"goal (>= {GOAL_WARM:.0f}x faster than tox-uv warm, best runs): {verdict} ({goal:.1f}x)")


if __name__ == "__main__":
    raise SystemExit(main())
