"""Greetings, with an attrs class and a timestamp."""

from __future__ import annotations

import datetime

import attrs

__all__ = ["Greeting", "greet", "stamp"]


@attrs.frozen
class Greeting:
    name: str
    punctuation: str = "!"

    def render(self) -> str:
        return f"Hello, {self.name}{self.punctuation}"


def greet(name: str) -> str:
    if not name.strip():
        raise ValueError("name must not be blank")
    return Greeting(name.strip()).render()


def stamp() -> str:
    # datetime.utcnow() is deprecated since Python 3.12: the sample's one
    # interpreter-specific failure (see README).
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
