"""Ask nox for a project's sessions: ``nox --list-sessions --json -f noxfile.py``.

nox lists only the sessions it would run by default; ``-k True`` (a keyword
expression every session satisfies) lists all of them, including ``default=False``
ones and those ``nox.options.sessions`` leaves out. We ask both ways, at the same
time, to know the catalogue and the default selection.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pytest_pipeline.errors import PipelineError
from pytest_pipeline.matrix.listing import EnvInfo, Listing
from pytest_pipeline.matrix.tool_config import NoxSessionConfig
from pytest_pipeline.matrix.toolrun import Completed, Runner, ToolTimeout, first_error_line, run_tool

NOXFILE = "noxfile.py"


def nox_command() -> list[str]:
    """nox beside this package if it is installed there (``[nox]`` extra), else on PATH."""
    if importlib.util.find_spec("nox") is not None:
        return [sys.executable, "-m", "nox"]
    found = shutil.which("nox")
    if found:
        return [found]
    raise PipelineError(
        "nox is not installed: install it (pip install 'pytest-pipeline-gate[nox]') or use --tool tox"
    )


def nox_version(command: Sequence[str]) -> str:
    """The version without running nox when it is importable here (nox starts slowly)."""
    if command[:3] == [sys.executable, "-m", "nox"]:
        try:
            return importlib.metadata.version("nox")
        except importlib.metadata.PackageNotFoundError:
            pass
    # A nox on PATH: its file's identity stands in for the version in the cache key.
    path = Path(command[0])
    try:
        stat = path.stat()
    except OSError:
        return "unknown"
    return f"{path}@{stat.st_mtime_ns}"


def query(
    project_dir: Path,
    env: Mapping[str, str],
    *,
    runner: Runner = run_tool,
    command: Sequence[str] | None = None,
    version: str | None = None,
) -> Listing:
    command = list(command or nox_command())
    version = version or nox_version(command)
    noxfile = project_dir / NOXFILE
    if not noxfile.is_file():
        raise PipelineError(f"{noxfile}: no such file; write a noxfile.py or use --tool tox")
    base = [*command, "--list-sessions", "--json", "--no-color", "-f", str(noxfile)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        every = pool.submit(_run, runner, [*base, "-k", "True"], project_dir, env)
        default = pool.submit(_run, runner, base, project_dir, env)
        all_done, default_done = every.result(), default.result()
    all_sessions = _parse(all_done, noxfile, project_dir)
    default_names = {str(item.get("session")) for item in _parse(default_done, noxfile, project_dir)}
    return build_listing(all_sessions, default_names, version=version)


def _run(runner: Runner, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Completed:
    try:
        return runner(argv, cwd, env)
    except ToolTimeout as exc:
        raise PipelineError(f"{cwd / NOXFILE}: nox did not answer: {exc}; run `nox -l` there") from None
    except OSError as exc:
        raise PipelineError(f"cannot run nox ({exc.strerror}); install it or use --tool tox") from None


def _parse(done: Completed, noxfile: Path, project_dir: Path) -> list[dict[str, Any]]:
    data: Any = None
    if done.returncode == 0:
        # nox prints the JSON on one line; anything a noxfile prints comes before it.
        for line in reversed(done.stdout.splitlines()):
            if line.startswith("["):
                try:
                    data = json.loads(line)
                except ValueError:
                    data = None
                break
    if not isinstance(data, list):
        line = first_error_line(done.stderr + "\n" + done.stdout, project_dir)
        raise PipelineError(f"{noxfile}: nox cannot load it: {line}; fix it (`nox -l` shows the same error)")
    return [item for item in data if isinstance(item, dict) and item.get("session")]


def build_listing(sessions: Sequence[Mapping[str, Any]], default_names: set[str], *, version: str) -> Listing:
    infos: list[EnvInfo] = []
    seen: set[str] = set()
    for item in sessions:
        name = str(item["session"])
        if name in seen:
            continue
        seen.add(name)
        tags = [str(tag) for tag in item.get("tags") or []]
        config: NoxSessionConfig = {
            "name": str(item.get("name", name)),
            "python": item.get("python"),
            "call_spec": dict(item.get("call_spec") or {}),
            "description": str(item.get("description") or ""),
            "signatures": [str(s) for s in item.get("signatures", [])],
            "tags": tags,
        }
        infos.append(
            EnvInfo(
                name=name,
                default=name in default_names,
                labels=tuple(tags),
                config=config,
            )
        )
    return Listing(tool="nox", tool_version=version, config_file=NOXFILE, envs=tuple(infos))
