"""Benchmark: command-line start-up, ``pytest-pipeline --version`` against tox's and nox's.

CI scripts call the tool many times. ``--version`` is answered before the command line
is built; every other command pays for building it (plugin manager, command modules,
entry-point scan, every subcommand's parser) before it does anything, which ``--help``
shows. Times, in the same run, alternating (one untimed warm-up each):

* ours:    ``python -m pytest_pipeline --version``, and ``--help`` (the whole command line)
* anchors: ``python -m tox --version``, ``python -m nox --version``
* floor:   ``python -c pass`` (the interpreter alone)

and prints best and median wall time of each, our median over each anchor's, and the
time above the floor. Also prints ``-X importtime``'s total for ours (best of 3).

    python benchmarks/bench_startup.py            # 21 runs each
    python benchmarks/bench_startup.py --runs 5   # a smoke run
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "pytest-pipeline": [sys.executable, "-m", "pytest_pipeline", "--version"],
    "pytest-pipeline --help": [sys.executable, "-m", "pytest_pipeline", "--help"],
    "tox": [sys.executable, "-m", "tox", "--version"],
    "nox": [sys.executable, "-m", "nox", "--version"],
    "python -c pass": [sys.executable, "-c", "pass"],
}


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def import_total_ms() -> float:
    """Sum of the top-level imports' cumulative times of ``--version`` (microseconds -> ms)."""
    best = float("inf")
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *COMMANDS["pytest-pipeline"][1:]],
            check=True,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        total = 0
        for line in done.stderr.splitlines()[1:]:
            _, cumulative, name = line.split("|")
            if not name.startswith("   "):  # nested imports are indented further
                total += int(cumulative)
        best = min(best, total / 1000)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    commands = {
        name: argv
        for name, argv in COMMANDS.items()
        if argv[1] != "-m" or importlib.util.find_spec(argv[2]) is not None
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():
        timed(argv)  # warm-up: bytecode caches, file system caches
    for _ in range(args.runs):
        for name, argv in commands.items():
            times[name].append(timed(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["python -c pass"]
    for name, values in times.items():
        print(
            f"{name:22s} median {medians[name] * 1000:6.1f} ms  best {min(values) * 1000:6.1f} ms  "
            f"above the interpreter {(medians[name] - floor) * 1000:6.1f} ms"
        )
    ours = medians["pytest-pipeline"]
    for anchor in ("tox", "nox"):
        if anchor in medians:
            print(f"ratio pytest-pipeline / {anchor} (median): {ours / medians[anchor]:.2f}")
    print(f"pytest-pipeline --version imports (-X importtime, best of 3): {import_total_ms():.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
