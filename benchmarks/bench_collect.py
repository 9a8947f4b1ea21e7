"""Benchmark: collecting one stage with the plugin against plain pytest's ``-m``.

Generates a suite of 20,000 tests (200 files x 100 tests, half ``@pytest.mark.unit``,
half ``@pytest.mark.integration``, some marked per class and per module) and times,
in the same run, alternating:

* ours:   ``pytest --collect-only -q --stage=unit``             (plugin active)
* anchor: ``pytest --collect-only -q -m unit -p no:pipeline``   (plain pytest)

Both select the same 10,000 tests (checked). Each command runs as a subprocess
``--runs`` times after one untimed warm-up each (which writes the bytecode caches both
share); prints best and median wall time of each and their ratios. Goal: < 1.10.

    python benchmarks/bench_collect.py              # 20,000 tests, 5 runs each
    python benchmarks/bench_collect.py --quick      # 2,000 tests, 3 runs: a smoke run
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.10

PYPROJECT = """\
[tool.pytest.ini_options]
markers = [
    "unit: fast tests",
    "integration: slower tests",
]

[tool.pytest-pipeline]
stages = ["unit", "integration", "smoke"]
"""


def module_source(index: int, tests: int) -> str:
    """One test module: marks on functions, on a class, and (every 10th file) on the module."""
    lines = ["import pytest", ""]
    if index % 10 == 9:
        stage = "unit" if index % 20 == 9 else "integration"
        lines += [f"pytestmark = pytest.mark.{stage}", ""]
        lines += [f"def test_m{n}():\n    assert {n} >= 0\n" for n in range(tests)]
        return "\n".join(lines)
    in_class = tests // 5
    lines += ["@pytest.mark.integration", "class TestGroup:"]
    lines += [f"    def test_c{n}(self):\n        assert {n} >= 0\n" for n in range(in_class)]
    for n in range(tests - in_class):
        stage = "unit" if n < (tests // 2) else "integration"
        lines += [f"@pytest.mark.{stage}", f"def test_f{n}():", f"    assert {n} >= 0", ""]
    return "\n".join(lines)


def generate(root: Path, files: int, tests: int) -> None:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    tests_dir = root / "tests"
    for index in range(files):
        folder = tests_dir / f"pkg{index // 50}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"test_mod{index}.py").write_text(module_source(index, tests), encoding="utf-8")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTEST_PIPELINE_"))}
    # Let the warm-up write bytecode caches (as on a developer's machine): otherwise
    # both sides spend most of their time re-rewriting the 20,000 test assertions.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONHASHSEED"] = "0"
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        output = done.stdout[-2000:] + done.stderr[-2000:]
        sys.exit(f"command failed ({done.returncode}): {' '.join(cmd)}\n{output}")
    return elapsed, done.stdout


def selected(output: str) -> int:
    match = re.search(r"(\d+)/(\d+) tests collected", output)
    if not match:
        sys.exit(f"cannot read the number of selected tests from:\n{output[-500:]}")
    return int(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--tests-per-file", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20 files x 100 tests, 3 runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.runs = 20, 3

    pytest_cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    commands = {
        "ours": [*pytest_cmd, "--stage=unit"],
        "anchor": [*pytest_cmd, "-m", "unit", "-p", "no:pipeline"],
    }
    root = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    try:
        generate(root, args.files, args.tests_per_file)
        env = clean_env()
        total = args.files * args.tests_per_file
        counts = {name: selected(run(cmd, root, env)[1]) for name, cmd in commands.items()}  # warm-up
        if counts["ours"] != counts["anchor"]:
            sys.exit(f"the two commands select different tests: {counts}")
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():  # alternate, so load changes hit both alike
                times[name].append(run(cmd, root, env)[0])
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"suite: {total:,} tests in {args.files} files; both select {counts['ours']:,} (stage unit)")
    print(f"runs: {args.runs} each, alternating, after one warm-up each")
    for name, cmd in commands.items():
        shown = " ".join(["pytest", *cmd[3:]])
        print(
            f"{name:7} best {min(times[name]):.3f}s  median {statistics.median(times[name]):.3f}s   {shown}"
        )
    best = min(times["ours"]) / min(times["anchor"])
    median = statistics.median(times["ours"]) / statistics.median(times["anchor"])
    print(f"ratio ours/anchor: best {best:.3f}  median {median:.3f}  (goal < {GOAL:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
