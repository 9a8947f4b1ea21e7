"""Benchmark: what a fault costs, ``pytest-pipeline run`` against ``tox`` (issue 12).

Two generated projects, each with a tox.ini of two environments, py310 and py312 (the
pyenv interpreters 3.10 and 3.12), ``skip_install = true``, ``deps = pytest`` and
``commands = pytest -s``. Every side works on its own copy, in a temporary folder.

1. **Loud test**: its one test writes ``--megabytes`` (default 200) MB to ``sys.stdout``;
   ``-s`` in the tox command sends it past pytest's capture into the pipe of whoever
   runs the environment. Each side runs as a child of a tiny wrapper that reads and counts
   the side's own output, samples the side's ``VmHWM`` (its own peak RSS, from /proc)
   and reports ``ru_maxrss`` of everything it started (the largest process of the tree):

   * ``pytest-pipeline run -p auto --fresh``: the orchestrator's peak RSS and the size
     of each cell's ``log.txt`` (its cap: the log's first 1 MiB, then each command's
     last 4 MiB);
   * ``tox run-parallel -p auto`` (tox-uv's runner): tox's peak RSS, and how much of the
     output it prints (it holds a parallel environment's output and shows it on failure);
   * ``tox run`` (one environment after the other, its output streamed): the same.

   One warm-up run per side (the test prints nothing) creates the environments; only its
   peak RSS is printed, as a baseline.
   A run counts only if it exits 0 and every environment passed (tox says OK; run.json
   says passed, and each log.txt says how much it cut: what it kept plus what it cut is
   at least what the test printed).

2. **SIGKILL**: its one test writes a marker file and sleeps (``time.sleep(600)``). Once
   both environments' pytest processes run (both markers there), the benchmark sends
   SIGKILL to the orchestrator, as the OOM killer or a CI timeout would, and polls /proc
   every 5 ms until every process of the run is gone: the ones below the orchestrator
   when it was killed, and for ours every process carrying the run's
   ``PYTEST_PIPELINE_RUN`` (also its watchdog's exit is timed). It waits at most
   ``--wait`` seconds (default 5) and says how many still run then; those are killed by
   the benchmark, which leaves nothing running.

   * ``pytest-pipeline run -p auto``: "last cell process gone after X ms";
   * ``tox run-parallel -p auto`` (tox-uv's runner): "N processes still running after 5 s".

Every measurement is printed, then the medians and the comparison. A run that did not do
what it should stops the benchmark with the log's path (the temporary folder is kept then).

    python benchmarks/bench_faults.py                     # both parts, 3 runs per side
    python benchmarks/bench_faults.py --runs 5            # more runs
    python benchmarks/bench_faults.py --megabytes 50      # a smaller loud test
    python benchmarks/bench_faults.py --skip-loud         # part 2 only (or --skip-kill)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Environment and interpreters as the e2e tests set them up.
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))
from pipeline_testkit import alive, clean_environ, pipeline_argv, pyenv_path  # noqa: E402
from pytest_pipeline.runner.watchdog import RUN_MARKER, marked  # noqa: E402

CELLS = ("py310", "py312")
PYTHONS = ("3.10", "3.12")
MIB = 1 << 20

TOX_INI = """\
[tox]
envlist = py310, py312

[testenv]
skip_install = true
deps = pytest>=8
commands = pytest -s {posargs}
"""

PYPROJECT = """\
[tool.pytest.ini_options]
testpaths = ["tests"]
"""

# How many MB it prints is read from a file beside it, so a warm-up can print nothing.
LOUD_TEST = """\
import sys
from pathlib import Path


def test_prints_a_lot():
    megabytes = int((Path(__file__).parent / "megabytes.txt").read_text())
    chunk = ("x" * 99 + "\\n") * 10_000  # 1,000,000 bytes in lines of 100
    for _ in range(megabytes):
        sys.stdout.write(chunk)
    sys.stdout.flush()
"""

# The marker file is named by the pid, so the benchmark knows which process it is.
BLOCKED_TEST = """\
import os
import time
from pathlib import Path


def test_blocks():
    started = Path(__file__).parents[1] / "started"
    started.mkdir(exist_ok=True)
    (started / str(os.getpid())).touch()
    time.sleep(600)
"""

# Runs one command with its output (stdout and stderr) read and counted here; its first
# and last 64 KiB go to a file for the checks. A thread samples the command's own VmHWM
# (peak RSS since its exec) in /proc; ru_maxrss of RUSAGE_CHILDREN is the largest process
# of its whole tree. Started from this small wrapper, never from the benchmark process
# itself: Linux folds the forking process's peak into a child's ru_maxrss.
_WRAPPER = """\
import json, resource, subprocess, sys, threading
kept, argv = sys.argv[1], sys.argv[2:]
child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
peak, done = [0], threading.Event()
def sample():
    while not done.is_set():
        try:
            for line in open(f"/proc/{child.pid}/status"):
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        except OSError:
            pass
        done.wait(0.01)
sampler = threading.Thread(target=sample)
sampler.start()
head, tail, size = b"", b"", 0
while chunk := child.stdout.read1(1 << 20):
    size += len(chunk)
    if len(head) < 65536:
        head += chunk[: 65536 - len(head)]
    tail = (tail + chunk)[-65536:]
code = child.wait()
done.set()
sampler.join()
with open(kept, "wb") as out:
    out.write(head + (b"\\n[...]\\n" + tail if size > len(head) else b""))
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "own_kib": peak[0], "tree_kib": usage.ru_maxrss, "output": size}))
"""


class RunFailed(SystemExit):
    pass


# --------------------------------------------------------------------------- projects


def make_project(folder: Path, test: str) -> Path:
    (folder / "tests").mkdir(parents=True)
    (folder / "tox.ini").write_text(TOX_INI, encoding="utf-8")
    (folder / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (folder / "tests" / "test_fault.py").write_text(test, encoding="utf-8")
    return folder


def environment() -> dict[str, str]:
    """The pyenv interpreters first on PATH; bytecode caches on, as installed tools run."""
    try:
        path = pyenv_path(*PYTHONS)
    except LookupError as missing:
        sys.exit(f"{missing}: install it with pyenv")
    env = clean_environ(PATH=path, NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def ours(*extra: str) -> list[str]:
    return pipeline_argv("run", "-p", "auto", "-e", ",".join(CELLS), *extra)


TOX = [sys.executable, "-m", "tox"]
TOX_ENVS = ["-e", ",".join(CELLS), "--runner", "uv-venv-runner"]
TOX_PARALLEL = [*TOX, "run-parallel", "-p", "auto", "--parallel-no-spinner", *TOX_ENVS]
TOX_RUN = [*TOX, "run", *TOX_ENVS]


def note(log: Path, text: str) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(text if text.endswith("\n") else text + "\n")


# --------------------------------------------------------------------------- 1. loud test


@dataclass
class Loud:
    own_mb: float
    """The side's own process: VmHWM, sampled every 10 ms."""
    tree_mb: float
    """The largest process it started or was (ru_maxrss of the wrapper's children)."""
    output: int
    """Bytes the side printed."""
    logs: dict[str, tuple[int, int]]
    """Ours: each cell's log.txt size and the bytes it says it cut."""
    wall: float

    def __str__(self) -> str:
        logs = "  ".join(
            f"{cell} log.txt {size / MIB:.2f} MiB ({cut / 1e6:.1f} MB cut)"
            for cell, (size, cut) in self.logs.items()
        )
        return (
            f"own peak {self.own_mb:6.1f} MB  tree peak {self.tree_mb:6.1f} MB  "
            f"printed {self.output / 1e6:8.2f} MB  {self.wall:5.1f} s  {logs}"
        )


@dataclass
class LoudSide:
    name: str
    argv: list[str]
    folder: Path
    runs: list[Loud]


def wrapped(side: LoudSide, env: dict[str, str], log: Path) -> tuple[Loud, str]:
    """One run of ``side`` under the wrapper: its figures and what it printed (head, tail)."""
    kept = side.folder.parent / f"{side.folder.name}.out"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(kept), *side.argv],
        cwd=side.folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0 or not done.stdout.strip():
        raise RunFailed(f"the benchmark's wrapper failed for {side.name}: {done.stderr.strip()}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    printed = kept.read_text(encoding="utf-8", errors="replace")
    note(log, f"\n$ {' '.join(side.argv)}  (in {side.folder}; head and tail)\n{printed}\n{data}")
    if data["code"] != 0:
        raise RunFailed(f"{side.name} exited with {data['code']}, not 0; see {log}")
    loud = Loud(data["own_kib"] / 1024, data["tree_kib"] / 1024, data["output"], {}, wall)
    return loud, printed


def check_tox_passed(side: LoudSide, printed: str, log: Path) -> None:
    status = dict(re.findall(r"^\s*(\S+): (OK|FAIL|SKIP)\b", printed, re.MULTILINE))
    bad = {cell: status.get(cell, "absent") for cell in CELLS if status.get(cell) != "OK"}
    if bad:
        raise RunFailed(f"{side.name}: these environments did not pass: {bad}; see {log}")


_CUT = re.compile(rb"\[pytest-pipeline: ([\d,]+) bytes of output cut here")


def check_ours_passed(side: LoudSide, megabytes: int, log: Path) -> dict[str, tuple[int, int]]:
    """Every cell passed, and its log kept plus cut at least what the test printed;
    each log.txt's size and what it cut."""
    reports = side.folder / "pipeline-reports"
    record = json.loads((reports / "run.json").read_text(encoding="utf-8"))
    status = {cell["name"]: cell["status"] for cell in record["cells"]}
    bad = {cell: status.get(cell, "absent") for cell in CELLS if status.get(cell) != "passed"}
    if bad:
        raise RunFailed(f"{side.name}: these cells did not pass: {bad}; see {log}")
    sizes: dict[str, tuple[int, int]] = {}
    for cell in CELLS:
        path = reports / "cells" / cell / "log.txt"
        content = path.read_bytes()
        found = _CUT.search(content)
        cut = int(found.group(1).replace(b",", b"")) if found else 0
        if len(content) + cut < megabytes * 1_000_000:
            raise RunFailed(
                f"{side.name}: {path} holds {len(content):,} bytes and says {cut:,} were cut: "
                f"less than the {megabytes} MB the test printed; see {log}"
            )
        sizes[cell] = (len(content), cut)
    return sizes


def loud_part(root: Path, env: dict[str, str], runs: int, megabytes: int, log: Path) -> None:
    sides = [
        LoudSide("pytest-pipeline run", ours("--fresh"), root / "loud-ours", []),
        LoudSide("tox run-parallel", TOX_PARALLEL, root / "loud-tox-parallel", []),
        LoudSide("tox run", TOX_RUN, root / "loud-tox-run", []),
    ]
    print(f"[1] a test printing {megabytes} MB with -s, cells {', '.join(CELLS)}", flush=True)
    for side in sides:
        make_project(side.folder, LOUD_TEST)
        count = side.folder / "tests" / "megabytes.txt"
        count.write_text("0", encoding="utf-8")
        quiet, _ = wrapped(side, env, log)  # warm-up: creates the environments
        print(f"    {side.name:20} warm-up, the test prints nothing: own peak {quiet.own_mb:6.1f} MB")
        count.write_text(str(megabytes), encoding="utf-8")
    for round_ in range(runs):
        turn = round_ % len(sides)
        for side in sides[turn:] + sides[:turn]:
            loud, printed = wrapped(side, env, log)
            if side.argv[0:3] == TOX[0:3]:
                check_tox_passed(side, printed, log)
            else:
                loud.logs = check_ours_passed(side, megabytes, log)
            side.runs.append(loud)
            print(f"    {side.name:20} #{round_ + 1}  {loud}", flush=True)
    print(f"    medians of {runs}:")
    medians = {side.name: median_loud(side.runs) for side in sides}
    for name, loud in medians.items():
        print(f"    {name:20}     {loud}")
    mine = medians["pytest-pipeline run"]
    for name in ("tox run-parallel", "tox run"):
        print(f"    own peak, {name} / pytest-pipeline run: {medians[name].own_mb / mine.own_mb:5.2f}x")


def median_loud(runs: list[Loud]) -> Loud:
    cells = runs[0].logs
    return Loud(
        statistics.median(run.own_mb for run in runs),
        statistics.median(run.tree_mb for run in runs),
        int(statistics.median(run.output for run in runs)),
        {
            cell: (
                int(statistics.median(run.logs[cell][0] for run in runs)),
                int(statistics.median(run.logs[cell][1] for run in runs)),
            )
            for cell in cells
        },
        statistics.median(run.wall for run in runs),
    )


# --------------------------------------------------------------------------- 2. SIGKILL


def parents() -> dict[int, int]:
    """pid -> parent pid of every process (/proc)."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = int(stat.rsplit(") ", 1)[1].split()[1])
    return found


def descendants(pid: int) -> set[int]:
    below: dict[int, list[int]] = {}
    for child, parent in parents().items():
        below.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in below.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def environ_value(pid: int, name: str) -> str | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    prefix = f"{name}=".encode()
    values = [item[len(prefix) :] for item in environ.split(b"\0") if item.startswith(prefix)]
    return values[0].decode() if values else None


def watchdog_of(run_id: str) -> set[int]:
    """The run's watchdog: ``python -m pytest_pipeline.runner.watchdog RUN_ID GRACE``."""
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"pytest_pipeline.runner.watchdog" in argv and run_id.encode() in argv:
                found.add(int(entry.name))
    return found


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    tick = threading.Event()
    while not check():
        if time.monotonic() > deadline:
            return False
        tick.wait(0.05)
    return True


@dataclass
class KillSide:
    name: str
    argv: list[str]
    folder: Path
    marked: bool
    """Whether its processes carry PYTEST_PIPELINE_RUN (ours): those count too."""


@dataclass
class Killed:
    gone_ms: float | None
    """When the last cell process was gone (None: not within --wait)."""
    left: int
    """Processes still running after --wait seconds."""
    watchdog_ms: float | None
    """Ours: when the watchdog exited."""
    wait: float
    """Seconds waited after the SIGKILL."""
    processes: int
    """Processes below the killed one (and, ours, carrying the run's id) when it was
    killed: the cells' (the watchdog not counted)."""

    def __str__(self) -> str:
        text = f"{self.processes} cell processes at the kill; "
        if self.gone_ms is not None:
            text += f"last cell process gone after {self.gone_ms:6.1f} ms"
        else:
            text += f"{self.left} processes still running after {self.wait:g} s"
        if self.watchdog_ms is not None:
            text += f"; watchdog (the run's last process) exited after {self.watchdog_ms:6.1f} ms"
        return text


def started_tests(folder: Path) -> list[int]:
    """The pids of the tests that wrote their marker (see BLOCKED_TEST)."""
    markers = folder / "started"
    return sorted(int(path.name) for path in markers.iterdir()) if markers.is_dir() else []


def kill_run(side: KillSide, env: dict[str, str], wait: float, log: Path) -> Killed:
    """Start ``side``, SIGKILL it once every cell's test runs, and time what it leaves."""
    folder, output = side.folder, side.folder.parent / f"{side.folder.name}.out"
    shutil.rmtree(folder / "started", ignore_errors=True)
    with output.open("wb") as out:
        main = subprocess.Popen(
            side.argv, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    seen: set[int] = set()
    guards: set[int] = set()
    try:
        wait_for(lambda: len(started_tests(folder)) == len(CELLS) or main.poll() is not None, 600)
        tests = started_tests(folder)
        if len(tests) != len(CELLS) or main.poll() is not None:
            raise RunFailed(f"{side.name}: not every cell's test started ({len(tests)} did); see {output}")
        run_id = environ_value(tests[0], RUN_MARKER) if side.marked else None
        if side.marked and run_id is None:
            raise RunFailed(f"{side.name}: its test process {tests[0]} carries no {RUN_MARKER}; see {output}")
        guards = watchdog_of(run_id) if run_id else set()
        if run_id and not guards:
            raise RunFailed(f"{side.name}: no watchdog process for the run {run_id}; see {output}")
        seen = descendants(main.pid) | set(tests) | (set(marked(run_id)) if run_id else set())
        seen -= guards
        count = len(seen)
        start = time.perf_counter()
        main.send_signal(signal.SIGKILL)
        main.wait()
        gone_at = watch_gone(seen, guards, run_id, start, wait)
        left = sum(alive(pid) for pid in seen | guards)
        gone_ms = max(gone_at[pid] for pid in seen) if gone_at.keys() >= seen else None
        watchdog_ms = max(gone_at[pid] for pid in guards) if guards and gone_at.keys() >= guards else None
        killed = Killed(gone_ms, left, watchdog_ms, wait, count)
        times = ", ".join(f"{pid} {gone_at.get(pid, -1):.1f} ms" for pid in sorted(seen | guards))
        note(log, f"\n$ {' '.join(side.argv)}  (in {folder}): run {run_id}, gone: {times}; {killed}")
        return killed
    finally:
        if main.poll() is None:  # stopped early: its processes would be orphans
            seen |= descendants(main.pid)
            main.kill()
            main.wait()
        end_all(seen | guards)


def watch_gone(
    pids: set[int], guards: set[int], run_id: str | None, start: float, wait: float
) -> dict[int, float]:
    """When (ms after ``start``) each of ``pids`` and ``guards`` was seen gone, polling
    every 2 ms for at most ``wait`` seconds. ``pids`` grows by any process found carrying
    ``run_id`` once the known ones are gone (one the run started after our look)."""
    gone_at: dict[int, float] = {}
    while (elapsed := time.perf_counter() - start) < wait:
        for pid in (pids | guards) - gone_at.keys():
            if not alive(pid):
                gone_at[pid] = elapsed * 1000
        if gone_at.keys() >= pids | guards:
            late = set(marked(run_id)) - pids if run_id else set()
            if not late:
                break
            pids |= late
        time.sleep(0.002)
    return gone_at


def end_all(pids: Iterable[int]) -> None:
    """What the killed side left: the benchmark leaves nothing running."""
    pids = set(pids)
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if not wait_for(lambda: not any(alive(pid) for pid in pids), 30):
        raise RunFailed(f"processes {sorted(pid for pid in pids if alive(pid))} survived SIGKILL")


def kill_part(root: Path, env: dict[str, str], runs: int, wait: float, log: Path) -> None:
    sides = [
        KillSide("pytest-pipeline run", ours(), make_project(root / "kill-ours", BLOCKED_TEST), marked=True),
        KillSide(
            "tox run-parallel", TOX_PARALLEL, make_project(root / "kill-tox", BLOCKED_TEST), marked=False
        ),
    ]
    print(f"[2] SIGKILL to the orchestrator while both cells' tests sleep; wait {wait:g} s", flush=True)
    results: dict[str, list[Killed]] = {side.name: [] for side in sides}
    for round_ in range(runs):
        for side in sides:
            killed = kill_run(side, env, wait, log)
            results[side.name].append(killed)
            print(f"    {side.name:20} #{round_ + 1}  {killed}", flush=True)
    print(f"    medians of {runs}:")
    for name, measured in results.items():
        gone = [run.gone_ms for run in measured if run.gone_ms is not None]
        dog = [run.watchdog_ms for run in measured if run.watchdog_ms is not None]
        text = (
            f"last cell process gone after {statistics.median(gone):.1f} ms ({len(gone)} of {runs} runs)"
            if gone
            else "never gone within the wait"
        )
        if dog:
            text += f"; watchdog exited after {statistics.median(dog):.1f} ms"
        left = statistics.median(run.left for run in measured)
        print(f"    {name:20}     {text}; {left:g} processes still running after {wait:g} s")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="measured runs per side and part (default 3)")
    parser.add_argument("--megabytes", type=int, default=200, help="what the loud test prints (default 200)")
    parser.add_argument(
        "--wait", type=float, default=5.0, help="seconds to wait after the SIGKILL (default 5)"
    )
    parser.add_argument("--skip-loud", action="store_true", help="only part 2 (SIGKILL)")
    parser.add_argument("--skip-kill", action="store_true", help="only part 1 (loud test)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.megabytes < 1 or args.wait <= 0:
        parser.error("--runs and --megabytes must be at least 1, --wait above 0")
    if sys.platform != "linux":
        parser.error("needs Linux: processes are found and measured through /proc")
    env = environment()
    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    log = tmp / "bench.log"
    print(f"copies and the full output in {tmp}", flush=True)
    keep = args.keep
    try:
        if not args.skip_loud:
            loud_part(tmp, env, args.runs, args.megabytes, log)
        if not args.skip_kill:
            kill_part(tmp, env, args.runs, args.wait, log)
    except RunFailed:
        keep = True  # the message names a file in it
        raise
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
