"""Benchmark: the run's package build, cold (a build) and warm (the kept build reused).

Times ``runner.build.build_or_reuse`` on a copy of PROJECT (``.git`` included), in a child
process per measurement, with the pytest_pipeline of each ``--src`` folder (default: this
checkout's): so the build of one version of the tool can be compared with another's on the
same project, each on its own copy. Cold runs pass ``rebuild=True`` (uv's own caches stay
warm, as on a developer's machine); warm runs find the build kept by the first one.
The sides take turns. Prints every time, the medians, and how many runs reused the kept build (a warm run
that rebuilds means the sources' key changed between runs).

    python benchmarks/bench_build.py examples/sample-project
    python benchmarks/bench_build.py PROJECT --src ../main/src --src src --runs 5
    python benchmarks/bench_build.py PROJECT --frontend python   # python -m build or pip wheel
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
from pathlib import Path
from pytest_pipeline.runner import build, envs

project, work, frontend, rebuild = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
uv = envs.find_uv() if frontend == "uv" else None
started = time.perf_counter()
built = build.build_or_reuse(
    project, work / "dist", cache=work / "cache", uv=uv, log=work / "build.log", rebuild=rebuild
)
elapsed = time.perf_counter() - started
build.keep(work / "cache", built)
print(json.dumps({"seconds": elapsed, "reused": built.reused, "wheel": built.wheel.path.name}))
"""


def measure(src: Path, project: Path, work: Path, frontend: str, *, rebuild: bool) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(project), str(work), frontend, "1" if rebuild else "0"],
        env={**os.environ, "PYTHONPATH": str(src)},
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        log = work / "build.log"
        shown = log.read_text() if log.exists() else ""
        raise SystemExit(f"build failed with {src}:\n{done.stderr}\n{shown}")
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--src", type=Path, action="append", help="a folder holding pytest_pipeline")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frontend", choices=("uv", "python"), default="uv")
    args = parser.parse_args()
    sources = [path.resolve() for path in args.src or [ROOT / "src"]]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as scratch:
        sides = []
        for index, src in enumerate(sources):
            copy = Path(scratch) / f"project-{index}" / args.project.resolve().name
            shutil.copytree(args.project, copy, symlinks=True)
            work = Path(scratch) / f"work-{index}"
            work.mkdir()
            measure(src, copy, work, args.frontend, rebuild=True)  # untimed: fills caches
            sides.append((src, copy, work))
        # The sides take turns, so a change in the machine's load falls on both.
        for name, rebuild in (("cold", True), ("warm", False)):
            runs: dict[Path, list[dict[str, object]]] = {src: [] for src in sources}
            for _ in range(args.runs):
                for src, copy, work in sides:
                    runs[src].append(measure(src, copy, work, args.frontend, rebuild=rebuild))
            for src, measured in runs.items():
                times = [float(str(run["seconds"])) for run in measured]
                listed = " ".join(f"{value:.3f}" for value in times)
                median = statistics.median(times)
                reused = sum(1 for run in measured if run["reused"])
                print(f"{src}  {name}: median {median:.3f} s  ({listed})  reused {reused}/{len(measured)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
