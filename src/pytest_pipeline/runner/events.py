"""Read a cell's live events (``events.jsonl``, written by :mod:`.cellplugin`) as they come."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EventTail:
    """Return the complete lines appended since the last call; a half-written last
    line waits for the next call."""

    path: Path
    _offset: int = 0
    _partial: bytes = field(default=b"", repr=False)

    def read(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        events: list[dict[str, Any]] = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a test printing into the file by accident must not stop us
            if isinstance(event, dict):
                events.append(event)
        return events
