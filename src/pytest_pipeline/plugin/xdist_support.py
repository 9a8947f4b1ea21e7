"""Stage order and global blocking under pytest-xdist.

Collection runs on the workers, and each runs its own share of the tests, so two
things need coordination: a worker must not start a stage-N+1 test while a stage <= N
test still runs elsewhere (the *barrier*), and a failure on one worker must block the
later stages on all of them.

The controller sees every report (including xdist's crash reports), so it owns the
state: which stages are complete, which failed, and whether the barrier is released.
It writes that state atomically to a private directory it hands to the workers in
``workerinput``; each worker publishes its collection there (nodeid -> stage) and, at
its first test of a later stage, polls the state file with a short backoff.

With ``--dist load`` (the default of ``-n``) the controller hands out tests in
collection order, which is stage order, so every worker's queue is in stage order and
waiting is deadlock-free. Other modes do not keep that order: there the barrier is
off and order and blocking hold per worker (the header says so). A crashed worker or
a reached ``--maxfail`` releases the barrier rather than risk waiting forever.

Imported only when xdist is active.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_pipeline.results import STAGE_ERROR

STATE_DIR = "pytest_pipeline_state_dir"
BARRIER = "pytest_pipeline_barrier"
STATE_FILE = "state.json"
FIRST_POLL = 0.002
MAX_POLL = 0.1


def _write_json(path: Path, data: Any) -> None:
    # Atomic rename without fsync: the readers are on this machine, and this runs often.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def collection_file(state_dir: Path, worker_id: str) -> Path:
    return state_dir / f"collection-{worker_id}.json"


def barrier_applies(dist: str) -> bool:
    return dist == "load"


class Controller:
    """Registered on the xdist controller; keeps and publishes the global stage state."""

    def __init__(self, config: pytest.Config, stages: Sequence[str]) -> None:
        self.config = config
        self.stages = tuple(stages)
        self.dist = str(config.getoption("dist", "load"))
        self.barrier = barrier_applies(self.dist)
        self.state_dir = Path(tempfile.mkdtemp(prefix="pytest-pipeline-"))
        self.totals: dict[str, int] | None = None
        self.summary = ""
        """The worker's "N tests staged ..." line (the controller collects nothing itself)."""
        self.summary_shown = False
        self.stage_by_nodeid: dict[str, str] = {}
        self._done: Counter[str] = Counter()
        self._finished: set[str] = set()
        self.complete: list[str] = []
        self.failed: list[str] = []
        self.released = ""
        self._write()

    # -------------------------------------------------------------- xdist hooks

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[STATE_DIR] = str(self.state_dir)
        node.workerinput[BARRIER] = self.barrier

    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        if self.totals is not None:
            return  # every worker collects the same tests; the first one is enough
        data = _read_json(collection_file(self.state_dir, node.gateway.id))
        if not isinstance(data, dict):
            self.release(f"worker {node.gateway.id} published no stage map")
            return
        self.totals = {stage: int(data.get("totals", {}).get(stage, 0)) for stage in self.stages}
        self.summary = str(data.get("summary", ""))
        self.stage_by_nodeid = dict(data.get("stages", {}))
        self.complete = [stage for stage in self.stages if self.totals[stage] == 0]
        self._write()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self) -> None:
        # In-process, pytest prints how tests were staged when collection finishes; the
        # controller collects nothing, and the first test to start is the first moment
        # after every worker has collected (and after xdist's "N workers [M items]").
        self.show_summary()

    def show_summary(self) -> None:
        """Print the workers' "N tests staged ..." line, once."""
        if not self.summary or self.summary_shown:
            return
        self.summary_shown = True
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(self.summary)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # In-process, a stage error stops pytest before any test runs (exit 2). xdist
        # goes on after a worker's collection error, so the tests the error names would
        # run (in some stage); stop it the same way, unless the user asked to go on.
        if not (report.failed and getattr(report, STAGE_ERROR, False)):
            return
        if self.config.getoption("continue_on_collection_errors"):
            return
        dsession = self.config.pluginmanager.get_plugin("dsession")
        if dsession is not None and not getattr(dsession, "shouldstop", True):
            dsession.shouldstop = "stage errors during collection (see above)"

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        if error:
            self.release(f"worker {node.gateway.id} went down")

    # -------------------------------------------------------------- called by the runtime

    def stage_of(self, nodeid: str) -> str | None:
        return self.stage_by_nodeid.get(nodeid)

    def record_failure(self, stage: str) -> None:
        if stage not in self.failed:
            self.failed.append(stage)
            self._write()

    def record_finished(self, nodeid: str, stage: str) -> None:
        if nodeid in self._finished:
            return
        self._finished.add(nodeid)
        self._done[stage] += 1
        if self.totals is not None and stage not in self.complete and self._done[stage] >= self.totals[stage]:
            self.complete.append(stage)
            self._write()

    def release(self, why: str) -> None:
        if not self.released:
            self.released = why
            self._write()

    def cleanup(self) -> None:
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _write(self) -> None:
        _write_json(
            self.state_dir / STATE_FILE,
            {"complete": self.complete, "failed": self.failed, "released": self.released},
        )


class WorkerLink:
    """The worker's side: publish the collection, wait at stage boundaries."""

    def __init__(
        self,
        workerinput: Mapping[str, Any],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.state_dir = Path(workerinput[STATE_DIR])
        self.worker_id = str(workerinput.get("workerid", os.getpid()))
        self.barrier = bool(workerinput.get(BARRIER, False))
        self._parent_pid = os.getppid()
        self._sleep = sleep
        self._seen: tuple[int, int, int] | None = None
        self._failed: list[str] = []

    def publish(self, nodeids: Sequence[str], stages: Sequence[str], summary: str) -> None:
        totals = Counter(stages)
        _write_json(
            collection_file(self.state_dir, self.worker_id),
            {
                "totals": dict(totals),
                "summary": summary,
                "stages": dict(zip(nodeids, stages, strict=True)),
            },
        )

    def state(self) -> dict[str, Any]:
        data = _read_json(self.state_dir / STATE_FILE)
        return data if isinstance(data, dict) else {}

    def failed_stages(self) -> list[str]:
        """Failed stages as the controller last published them (re-read only when changed)."""
        try:
            stat = os.stat(self.state_dir / STATE_FILE)
        except OSError:
            return self._failed
        # every write is a rename of a new file, and the lists only grow
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            self._seen = seen
            self._failed = [str(stage) for stage in self.state().get("failed", ())]
        return self._failed

    def wait_for(self, earlier: Sequence[str], *, blocking: bool) -> list[str]:
        """Wait until every stage of ``earlier`` is complete on all workers; return failed stages.

        Returns at once without the barrier, when blocking applies to a failure in an
        earlier stage (those tests will not run anyway), or when the controller released
        the barrier or is gone.
        """
        delay = FIRST_POLL
        while True:
            state = self.state()
            failed = [str(stage) for stage in state.get("failed", ())]
            complete = set(state.get("complete", ()))
            if (
                not self.barrier
                or state.get("released")
                or all(stage in complete for stage in earlier)
                or (blocking and any(stage in earlier for stage in failed))
                or not self._controller_alive()
            ):
                return failed
            self._sleep(delay)
            delay = min(delay * 1.5, MAX_POLL)

    def _controller_alive(self) -> bool:
        # A popen worker is the controller's child: being re-parented means it died.
        # (Windows keeps reporting the dead parent's id, so there we rely on xdist.)
        return sys.platform == "win32" or os.getppid() == self._parent_pid
