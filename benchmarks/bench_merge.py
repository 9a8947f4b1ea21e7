"""Benchmark: ``pytest-pipeline merge`` against a bare expat parse and ``junitparser merge`` (5.0.3).

1. 100 files x 1,000 testcases of realistic pytest xunit2 output (failures with
   tracebacks, skips, xfails, rerun attempts, captured output, one file per cell with
   the suite properties our plugin writes), all measured as whole processes in the same run:
   - ``pytest-pipeline merge`` of the files;
   - the anchor, a bare expat parse of the same files: a ``python -c`` that only feeds
     each file to ``xml.parsers.expat`` (``ParserCreate`` + ``ParseFile``) with start
     and end handlers that do nothing, so that every element reaches Python as ours
     must, and nothing is done with it. The same parse without any handler (expat alone,
     no element reaches Python) is printed too, for reference;
   - ``junitparser merge`` of the files.
   Ours and the expat parses run interleaved, round after round; each figure is the
   median of its rounds, in wall time and in CPU time (less disturbed on a busy machine).
   Goals: ours within 2.5x of the bare expat parse, and at least 20x faster than
   junitparser. The merged file is checked (exit code, test, failure and skip counts,
   testcase elements) and the benchmark fails if it is wrong.
2. 1,000,000 testcases in total (100 files x 10,000): ``pytest-pipeline merge`` alone;
   prints wall time and peak RSS. Goal: under 100 MB peak.

Every child runs with bytecode caches, as installed tools do (PYTHONDONTWRITEBYTECODE is
taken out of their environment); ours gets one unmeasured warm-up run.

Peak RSS is measured per child: each tool runs under a tiny wrapper that starts it and
reports ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of its own single child, so
one tool's peak cannot leak into the other's figure.

Generated data lives in a temporary directory and is removed afterwards.

    python benchmarks/bench_merge.py                 # both parts
    python benchmarks/bench_merge.py --skip-million  # part 1 only
    python benchmarks/bench_merge.py --rounds 9      # more interleaved rounds (default 5)
    python benchmarks/bench_merge.py --quick         # 10 files x 1,000 and 100,000: a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

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


def _testcase(rng: random.Random, module: int, index: int, cell: str) -> tuple[str, str]:
    """One test's element(s) and its final outcome (``passed``, ``failed`` or ``skipped``)."""
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
        ), "failed"
    if roll < 0.025:  # rerun twice, then passed (pytest-rerunfailures: empty earlier attempts)
        return f"{head} />{head} />{head} />", "passed"
    if roll < 0.03:  # rerun once, failed in the end
        text = TRACEBACK.format(line=index).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return (
            f'{head} />{head}><failure message="AssertionError: totals drift">{text}</failure></testcase>',
            "failed",
        )
    if roll < 0.08:
        return (
            f'{head}><skipped type="pytest.skip" message="needs network">'
            f"/src/tests/unit/test_module.py:{index}: needs network</skipped></testcase>"
        ), "skipped"
    if roll < 0.09:
        return f'{head}><skipped type="pytest.xfail" message="known bug #12" /></testcase>', "skipped"
    return f"{head} />", "passed"


@dataclass
class Generated:
    paths: list[Path]
    outcomes: Counter[str]
    """Final outcome -> how many tests (reruns collapsed): what a correct merge counts."""
    elements: int
    """``<testcase>`` elements written (rerun attempts are elements of their own)."""


def generate(folder: Path, files: int, cases: int, *, seed: int = 1) -> Generated:
    """``files`` JUnit files of ``cases`` tests each, the way pytest writes them (one line)."""
    rng = random.Random(seed)
    generated = Generated([], Counter(), 0)
    for number in range(files):
        cell = f"py3{10 + number % 4}-dep{number:03d}"
        tests = [_testcase(rng, index // 50, index, cell) for index in range(cases)]
        generated.outcomes.update(outcome for _, outcome in tests)
        body = "".join(element for element, _ in tests)
        generated.elements += body.count("<testcase ")
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
        generated.paths.append(path)
    return generated


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


def _rounds(commands: dict[str, list[str]], rounds: int) -> dict[str, Run]:
    """Each command run ``rounds`` times, interleaved (the order turns each round, so that
    none always runs first after another's disk and cache work), with the median wall time
    and the median CPU time of its runs. Any run that does not exit 0 ends the benchmark."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    names = list(commands)
    for round_ in range(rounds):
        turn = round_ % len(names)
        for name in names[turn:] + names[:turn]:
            run = _measure(commands[name])
            if run.code != 0:
                raise SystemExit(f"{name} exited {run.code}: {commands[name][:3]}")
            runs[name].append(run)
    return {
        name: Run(
            statistics.median(run.wall for run in measured),
            statistics.median(run.cpu for run in measured),
            max(run.peak_mb for run in measured),
            0,
        )
        for name, measured in runs.items()
    }


# The anchor: parsing the same files and nothing else, as a whole process of its own.
# With handlers, every element reaches Python (as it must for any merge written in
# Python) and nothing is done with it; without, expat alone.
_EXPAT_PARSE = """\
import sys
from xml.parsers.expat import ParserCreate

def start(name, attrs):
    pass

def end(name):
    pass

for path in sys.argv[1:]:
    parser = ParserCreate()
    if HANDLERS:
        parser.StartElementHandler = start
        parser.EndElementHandler = end
    with open(path, "rb") as handle:
        parser.ParseFile(handle)
"""


def _expat_parse(paths: list[Path], *, handlers: bool) -> list[str]:
    code = _EXPAT_PARSE.replace("HANDLERS", str(handlers))
    return [sys.executable, "-c", code, *map(str, paths)]


@dataclass(frozen=True)
class Merged:
    """What a merged file says: its root's counts and the elements it holds."""

    tests: int
    failures: int
    errors: int
    testcases: int
    failed: int
    """``<testcase>`` elements with a ``<failure>`` child."""
    skipped: int
    """``<testcase>`` elements with a ``<skipped>`` child."""


def _read_merged(path: Path) -> Merged:
    root_attrs: dict[str, str] = {}
    counts = Counter[str]()
    for event, element in ElementTree.iterparse(path, events=("start", "end")):
        if event == "start":
            if not root_attrs:
                root_attrs = dict(element.attrib)
            continue
        if element.tag == "testcase":
            counts["testcase"] += 1
            counts.update(child.tag for child in element if child.tag in ("failure", "skipped"))
            element.clear()
    return Merged(
        int(root_attrs.get("tests", -1)),
        int(root_attrs.get("failures", -1)),
        int(root_attrs.get("errors", -1)),
        counts["testcase"],
        counts["failure"],
        counts["skipped"],
    )


def _expected(data: Generated) -> Merged:
    """What a correct merge of ``data`` holds: one testcase per test (attempts collapsed)."""
    tests, failed = sum(data.outcomes.values()), data.outcomes["failed"]
    return Merged(tests, failed, 0, tests, failed, data.outcomes["skipped"])


def _check(tool: str, path: Path, expected: Merged) -> None:
    """Fail loudly when ``tool``'s merged file does not hold what it must: a fast wrong
    merge is no result."""
    found = _read_merged(path)
    if found != expected:
        raise SystemExit(
            f"{tool} wrote a wrong merged file {path}:\n  found    {found}\n  expected {expected}"
        )


def _ratio(slow: Run, fast: Run) -> str:
    return f"{slow.wall / fast.wall:5.2f}x wall, {slow.cpu / fast.cpu:5.2f}x CPU"


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
    parser.add_argument("--skip-million", action="store_true", help="only part 1 (expat, junitparser)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved runs of ours and expat (default 5)"
    )
    options = parser.parse_args(argv)
    files, big_files, big_cases = (10, 10, 10_000) if options.quick else (100, 100, 10_000)
    ours = _tool("pytest-pipeline")
    theirs = _tool("junitparser")
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as tmp:
        root = Path(tmp)
        data = generate(root / "small", files, 1_000)
        inputs = data.paths
        size = sum(path.stat().st_size for path in inputs) / 1e6
        print(f"[1] {files} files x 1,000 testcases ({size:.1f} MB of JUnit XML, {data.elements:,} elements)")
        _measure([ours, "merge", str(inputs[0]), "-o", str(root / "warm-up.xml")])  # bytecode caches
        measured = _rounds(
            {
                "ours": [ours, "merge", *map(str, inputs), "-o", str(root / "ours.xml")],
                "expat": _expat_parse(inputs, handlers=True),
                "expat alone": _expat_parse(inputs, handlers=False),
            },
            options.rounds,
        )
        _check("pytest-pipeline merge", root / "ours.xml", _expected(data))
        ours_run, expat, alone = measured["ours"], measured["expat"], measured["expat alone"]
        print(f"    pytest-pipeline merge:      {ours_run}  (median of {options.rounds}, output checked)")
        print(f"    bare expat parse:           {expat}  (trivial start/end handlers)")
        print(f"    expat parse, no handlers:   {alone}  (for reference)")
        theirs_run = _measure([theirs, "merge", *map(str, inputs), str(root / "theirs.xml")])
        if theirs_run.code != 0:
            raise SystemExit(f"junitparser merge exited {theirs_run.code}")
        # junitparser keeps every element (rerun attempts too) and writes no root counts.
        merged_theirs = _read_merged(root / "theirs.xml")
        if merged_theirs.testcases != data.elements:
            raise SystemExit(f"junitparser merged {merged_theirs.testcases} testcases of {data.elements}")
        print(f"    junitparser merge:          {theirs_run}  (one run)")
        print(f"    ours / bare expat:          {_ratio(ours_run, expat)}  goal: at most 2.5x")
        print(f"    ours / expat, no handlers:  {_ratio(ours_run, alone)}")
        print(f"    junitparser / ours:         {_ratio(theirs_run, ours_run)}  goal: at least 20x")
        if options.skip_million:
            return 0
        shutil.rmtree(root / "small")
        data = generate(root / "big", big_files, big_cases, seed=2)
        size = sum(path.stat().st_size for path in data.paths) / 1e6
        total = big_files * big_cases
        print(f"[2] {big_files} files x {big_cases:,} = {total:,} testcases ({size:.0f} MB of JUnit XML)")
        big = _measure([ours, "merge", str(root / "big"), "-o", str(root / "big.xml")])
        if big.code != 0:
            raise SystemExit(f"pytest-pipeline merge exited {big.code} on the big input")
        _check("pytest-pipeline merge", root / "big.xml", _expected(data))
        print(f"    pytest-pipeline merge: {big}  (output checked)")
        print(f"    goal: under 100 MB peak -> {'met' if big.peak_mb < 100 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
