"""What tox or nox said about a project's environments, before any selection.

This is the raw material of discovery and the thing the discovery cache stores: the
expensive part is asking the tool, turning its answer into cells is cheap and is done
again on every run (so a change of ``[tool.pytest-pipeline]`` never needs the tool).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from pytest_pipeline.matrix.model import Tool

LISTING_VERSION = 1


@dataclass(frozen=True)
class EnvInfo:
    """One tox environment or nox session as its tool describes it."""

    name: str
    default: bool
    """Run when the tool is called without a selection (tox ``env_list``, nox defaults)."""
    labels: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    """Resolved settings (tox keys such as ``commands``/``deps``; nox ``python``/``call_spec``)."""
    errors: Mapping[str, str] = field(default_factory=dict)
    """Setting -> the tool's error for settings that failed to load."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "labels": list(self.labels),
            "config": dict(self.config),
            "errors": dict(self.errors),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnvInfo:
        return cls(
            name=str(data["name"]),
            default=bool(data["default"]),
            labels=tuple(str(label) for label in data.get("labels", ())),
            config=dict(data.get("config", {})),
            errors={str(k): str(v) for k, v in dict(data.get("errors", {})).items()},
        )


@dataclass(frozen=True)
class Listing:
    tool: Tool
    tool_version: str
    config_file: str
    """The file the tool read, relative to the project (``tox.ini``, ``noxfile.py``)."""
    envs: tuple[EnvInfo, ...]
    source_format: str = "json"
    """How the tool was asked: ``json`` or ``ini`` (older tox 4 without ``--format``)."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The tool's global settings we asked for (tox core: ``work_dir``, ``env_list``, ...)."""

    def env(self, name: str) -> EnvInfo:
        for env in self.envs:
            if env.name == name:
                return env
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": LISTING_VERSION,
            "tool": self.tool,
            "tool_version": self.tool_version,
            "config_file": self.config_file,
            "source_format": self.source_format,
            "settings": dict(self.settings),
            "envs": [env.to_json() for env in self.envs],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Listing:
        if data.get("version") != LISTING_VERSION or data.get("tool") not in ("tox", "nox"):
            raise ValueError("unsupported listing")
        return cls(
            tool=cast(Tool, data["tool"]),
            tool_version=str(data["tool_version"]),
            config_file=str(data["config_file"]),
            source_format=str(data.get("source_format", "json")),
            settings=dict(data.get("settings", {})),
            envs=tuple(EnvInfo.from_json(env) for env in data["envs"]),
        )
