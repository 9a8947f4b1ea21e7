from __future__ import annotations

from pathlib import Path

from pytest_pipeline.runner.events import EventTail


def test_tail_returns_complete_lines_once(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    tail = EventTail(path)
    assert tail.read() == []  # no file yet
    path.write_bytes(b'{"event":"stage","stage":"unit"}\n{"event":"te')
    assert tail.read() == [{"event": "stage", "stage": "unit"}]
    with path.open("ab") as handle:
        handle.write(b'st","outcome":"failed"}\nnot json\n[1]\n')
    assert tail.read() == [{"event": "test", "outcome": "failed"}]
    assert tail.read() == []
