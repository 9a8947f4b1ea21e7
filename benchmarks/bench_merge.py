"""Benchmark: ``pytest-pipeline merge`` against ``junitparser merge`` (5.0.3).

1. 100 files x 1,000 testcases of realistic pytest xunit2 output (failures with
   tracebacks, skips, xfails, rerun attempts, captured output, one file per cell with
   the suite properties our plugin writes): both tools merge them, each as a
   subprocess in the same run; prints both wall times, both peak RSS and the ratio.
   Goal: at least 20x faster.
2. 1,000,000 testcases in total (100 files x 10,000): ``pytest-pipeline merge`` alone;
   prints wall time and peak RSS. Goal: under 100 MB peak.

Both tools run with bytecode caches (as installed tools do); ours gets one unmeasured
warm-up run, and its (short, so noisier) measurement is the median of three.

Peak RSS is measured per child: each tool runs under a tiny wrapper that starts it and
reports ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of its own single child, so
one tool's peak cannot leak into the other's figure.

Generated data lives in a temporary directory and is removed afterwards.

    python benchmarks/bench_merge.py            # both parts
    python benchmarks/bench_merge.py --quick    # 10 files x 1,000 and 100,000: a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TRACEBACK = """\
    def test_checkout_total(cart):
        cart.add(Item("book", price=12))
>       assert cart.total() == 13, "totals drift"
E       AssertionError: totals drift
E       assert 12 == 13
E        +  where 12 = <bound method Cart.total of <shop.cart.Cart object at 0x7f2a1c3b9d60>>()

tests/unit/test_cart.py:{line}: AssertionError"""

# Runs one command, then prints its exit code, peak RSS (KiB on Linux) and CPU seconds as
# JSON. Linux folds the forking process's peak into a child's ru_maxrss, so the tools are
# started from this small wrapper, never from the (bigger) benchmark process itself.
_WRAPPER = """\
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "maxrss_kib": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime}))
"""


def _testcase(rng: random.Random, module: int, index: int, cell: str) -> str:
    classname = f"tests.unit.test_module_{module:03d}"
    name = f"test_behaviour_{index:05d}[{cell}-{index % 7}]"
    roll = rng.random()
    time_ = f"{rng.random() * 0.05:.3f}"
    head = f'<testcase classname="{classname}" name="{name}" time="{time_}"'
    if roll < 0.02:  # a failure with a traceback and captured output
        text = TRACEBACK.format(line=index).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return (
            f'{head}><failure message="AssertionError: totals drift&#10;assert 12 == 13">{text}</failure>'
            f"<system-out>checkout run {index}\nusing fixture cart\n</system-out></testcase>"
        )
    if roll < 0.025:  # rerun twice, then passed (pytest-rerunfailures: empty earlier attempts)
        return f"{head} />{head} />{head} />"
    if roll < 0.03:  # rerun once, failed in the end
        text = TRACEBACK.format(line=index).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'{head} />{head}><failure message="AssertionError: totals drift">{text}</failure></testcase>'
    if roll < 0.08:
        return (
            f'{head}><skipped type="pytest.skip" message="needs network">'
            f"/src/tests/unit/test_module.py:{index}: needs network</skipped></testcase>"
        )
    if roll < 0.09:
        return f'{head}><skipped type="pytest.xfail" message="known bug #12" /></testcase>'
    return f"{head} />"


def generate(folder: Path, files: int, cases: int, *, seed: int = 1) -> list[Path]:
    """``files`` JUnit files of ``cases`` tests each, the way pytest writes them (one line)."""
    rng = random.Random(seed)
    paths = []
    for number in range(files):
        cell = f"py3{10 + number % 4}-dep{number:03d}"
        body = "".join(_testcase(rng, index // 50, index, cell) for index in range(cases))
        path = folder / f"results-{cell}" / "cells" / cell / "junit.xml"
        path.parent.mkdir(parents=True)
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
            f'<testsuite name="pytest: unit" errors="0" failures="0" skipped="0" tests="{cases}" '
            'time="12.345" timestamp="2025-01-01T00:00:00+00:00" hostname="ci">'
            '<properties><property name="stage" value="unit" />'
            f'<property name="cell" value="{cell}" /></properties>'
            f"{body}</testsuite></testsuites>",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


# Both tools run the way installed tools run: with bytecode caches (a developer shell may
# set PYTHONDONTWRITEBYTECODE, which would make every run of ours compile its sources).
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Run:
    wall: float
    """Seconds, wall clock."""
    cpu: float
    """Seconds of CPU (user + system): less disturbed than wall time on a busy machine."""
    peak_mb: float
    code: int

    def __str__(self) -> str:
        seconds = f"{self.wall:7.2f} s wall ({self.cpu:6.2f} s CPU)"
        return f"{seconds}  peak {self.peak_mb:6.1f} MB  (exit {self.code})"


def _measure(command: list[str]) -> Run:
    """Wall and CPU seconds, peak RSS (MB) and exit code of ``command`` run as a child."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=False, env=_ENV
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"benchmark wrapper failed for {command[:2]}: {result.stderr.strip()}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return Run(elapsed, data["cpu"], data["maxrss_kib"] / 1024, int(data["code"]))


def _median(command: list[str], times: int) -> Run:
    """The run with the median wall time of ``times`` runs (short runs are noisy)."""
    runs = sorted((_measure(command) for _ in range(times)), key=lambda run: run.wall)
    return runs[len(runs) // 2]


def _tool(name: str) -> str:
    """The console script ``name`` next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found next to {sys.executable} or on PATH; install it first")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the script works")
    parser.add_argument("--skip-million", action="store_true", help="only the comparison with junitparser")
    options = parser.parse_args(argv)
    files, big_files, big_cases = (10, 10, 10_000) if options.quick else (100, 100, 10_000)
    ours = _tool("pytest-pipeline")
    theirs = _tool("junitparser")
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as tmp:
        root = Path(tmp)
        inputs = generate(root / "small", files, 1_000)
        size = sum(path.stat().st_size for path in inputs) / 1e6
        print(f"[1] {files} files x 1,000 testcases ({size:.1f} MB of JUnit XML)")
        _measure([ours, "merge", str(inputs[0]), "-o", str(root / "warm-up.xml")])  # bytecode caches
        ours_run = _median([ours, "merge", *map(str, inputs), "-o", str(root / "ours.xml")], 3)
        theirs_run = _measure([theirs, "merge", *map(str, inputs), str(root / "theirs.xml")])
        print(f"    pytest-pipeline merge: {ours_run}  (median of 3 runs)")
        print(f"    junitparser merge:     {theirs_run}")
        print(
            f"    ratio: pytest-pipeline is {theirs_run.wall / ours_run.wall:.1f}x faster in wall time "
            f"({theirs_run.cpu / ours_run.cpu:.1f}x in CPU time); goal: at least 20x"
        )
        if options.skip_million:
            return 0
        shutil.rmtree(root / "small")
        inputs = generate(root / "big", big_files, big_cases, seed=2)
        size = sum(path.stat().st_size for path in inputs) / 1e6
        total = big_files * big_cases
        print(f"[2] {big_files} files x {big_cases:,} = {total:,} testcases ({size:.0f} MB of JUnit XML)")
        big = _measure([ours, "merge", str(root / "big"), "-o", str(root / "big.xml")])
        print(f"    pytest-pipeline merge: {big}")
        print(f"    goal: under 100 MB peak -> {'met' if big.peak_mb < 100 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
