"""The controller's stage state and the worker's wait, without xdist (fake config, fake sleep)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_pipeline.plugin.xdist_support import BARRIER, STATE_DIR, Controller, WorkerLink

STAGES = ("unit", "integration", "smoke")


class FakeConfig:
    def __init__(self, dist: str) -> None:
        self.dist = dist

    def getoption(self, name: str, default: Any = None) -> Any:
        return self.dist if name == "dist" else default


@pytest.fixture
def controller() -> Iterator[Controller]:
    made = Controller(FakeConfig("load"), STAGES)  # type: ignore[arg-type]
    yield made
    made.cleanup()
    assert not made.state_dir.exists()


def node(worker_id: str) -> SimpleNamespace:
    return SimpleNamespace(workerinput={"workerid": worker_id}, gateway=SimpleNamespace(id=worker_id))


def worker_for(controller: Controller, worker_id: str = "gw0", **kw: Any) -> WorkerLink:
    fake = node(worker_id)
    controller.pytest_configure_node(fake)
    return WorkerLink(fake.workerinput, **kw)


def test_worker_publishes_and_controller_learns_totals(controller: Controller) -> None:
    worker = worker_for(controller)
    worker.publish(["a", "b", "c"], ["unit", "unit", "smoke"], "pipeline: 3 tests staged")
    controller.pytest_xdist_node_collection_finished(node("gw0"), ["a", "b", "c"])
    assert controller.totals == {"unit": 2, "integration": 0, "smoke": 1}
    assert controller.stage_of("c") == "smoke"
    assert controller.summary == "pipeline: 3 tests staged"
    assert worker.state()["complete"] == ["integration"]  # nothing to wait for there


def test_stage_completes_when_all_its_tests_finished(controller: Controller) -> None:
    worker = worker_for(controller)
    worker.publish(["a", "b", "c"], ["unit", "unit", "smoke"], "")
    controller.pytest_xdist_node_collection_finished(node("gw0"), [])
    controller.record_finished("a", "unit")
    controller.record_finished("a", "unit")  # counted once
    assert "unit" not in worker.state()["complete"]
    controller.record_finished("b", "unit")
    assert "unit" in worker.state()["complete"]


def test_worker_waits_until_earlier_stages_complete(controller: Controller) -> None:
    polls: list[float] = []
    worker_ids = iter(["a", "b"])

    def sleep(seconds: float) -> None:
        # each poll, the "other worker" finishes one more unit test
        polls.append(seconds)
        controller.record_finished(next(worker_ids), "unit")

    worker = worker_for(controller, sleep=sleep)
    worker.publish(["a", "b", "c"], ["unit", "unit", "smoke"], "")
    controller.pytest_xdist_node_collection_finished(node("gw0"), [])
    assert worker.wait_for(["unit", "integration"], blocking=True) == []
    assert len(polls) == 2
    assert polls[1] > polls[0]  # backoff


def test_failure_in_an_earlier_stage_ends_the_wait_when_blocking(controller: Controller) -> None:
    worker = worker_for(controller, sleep=lambda s: pytest.fail("must not wait"))
    worker.publish(["a", "b"], ["unit", "smoke"], "")
    controller.pytest_xdist_node_collection_finished(node("gw0"), [])
    controller.record_failure("unit")
    assert worker.wait_for(["unit", "integration"], blocking=True) == ["unit"]


def test_failed_stages_follow_the_controller(controller: Controller) -> None:
    worker = worker_for(controller)
    assert worker.failed_stages() == []
    controller.record_failure("unit")
    assert worker.failed_stages() == ["unit"]
    controller.record_failure("integration")
    assert worker.failed_stages() == ["unit", "integration"]


def test_release_ends_every_wait(controller: Controller) -> None:
    worker = worker_for(controller, sleep=lambda s: pytest.fail("must not wait"))
    controller.pytest_testnodedown(node("gw1"), error="crashed")
    assert controller.released == "worker gw1 went down"
    assert worker.wait_for(["unit"], blocking=False) == []


def test_no_barrier_for_other_dist_modes(tmp_path: Path) -> None:
    controller = Controller(FakeConfig("loadscope"), STAGES)  # type: ignore[arg-type]
    try:
        fake = node("gw0")
        controller.pytest_configure_node(fake)
        assert fake.workerinput[BARRIER] is False
        assert Path(fake.workerinput[STATE_DIR]).is_dir()
        worker = WorkerLink(fake.workerinput, sleep=lambda s: pytest.fail("must not wait"))
        controller.record_failure("unit")
        assert worker.wait_for(["unit"], blocking=False) == ["unit"]
    finally:
        controller.cleanup()
