"""Environment locks: wait for the holder, give up on cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pytest_pipeline.runner import locks


def test_waiter_gets_the_lock_when_the_holder_leaves(tmp_path: Path) -> None:
    path = tmp_path / "env.lock"
    waiting = threading.Event()
    got = threading.Event()
    owners: list[str] = []

    def waiter() -> None:
        def on_wait(owner: str) -> None:
            owners.append(owner)
            waiting.set()

        with locks.hold(path, wait=True, on_wait=on_wait):
            got.set()

    with locks.hold(path):
        thread = threading.Thread(target=waiter)
        thread.start()
        assert waiting.wait(10)
        assert not got.is_set()
    thread.join(10)
    assert got.is_set()
    assert owners
    assert owners[0].startswith("pid ")


def test_cancel_stops_the_wait(tmp_path: Path) -> None:
    path = tmp_path / "env.lock"
    cancel = threading.Event()
    with locks.hold(path):
        cancel.set()
        with pytest.raises(locks.LockBusy), locks.hold(path, wait=True, cancel=cancel):
            pass  # pragma: no cover


def test_a_holder_finds_what_the_last_one_wrote_and_rewrites_it(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with locks.hold(path, content="1\nfirst\n") as held:
        assert held.previous == ""
        assert locks.is_held(path)
        held.write("1\nsecond\n")
        assert path.read_text() == "1\nsecond\n"
    assert not locks.is_held(path)
    with locks.hold(path) as held:
        assert held.previous == "1\nsecond\n"
    assert not locks.is_held(tmp_path / "none.lock")
