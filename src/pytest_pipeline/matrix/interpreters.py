"""Is a cell's interpreter on this machine? Looked for the way virtualenv/tox and nox do.

A spec such as ``3.12`` is looked for as ``python3.12`` on PATH, then as ``python3``
and ``python`` whose version matches; ``pypy3.10`` as ``pypy3.10``, ``pypy3``,
``pypy``. Every candidate is *run* once (``-I -S``, a few milliseconds) to read its
real version, because a name on PATH proves nothing: a pyenv shim for an inactive
version exists and fails when started. pyenv shims are resolved without starting
them (a shim costs ~0.3 s): pyenv's documented order (``PYENV_VERSION``, then the
nearest ``.python-version``, then ``$PYENV_ROOT/version``) names the versions whose
``bin/`` folder the shim would run. A missing interpreter is data (the cell is shown
as missing), never an exception.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

PROBE_TIMEOUT = 15.0
# What a probe asks; a change here invalidates the answers kept by .probe_cache.
PROBE_CODE = (
    "import platform, sys, sysconfig;"
    "print(platform.python_implementation());"
    "print('.'.join(map(str, sys.version_info[:3])));"
    "print(sys.executable);"
    "print(sysconfig.get_config_var('Py_GIL_DISABLED') or 0)"
)
_SPEC = re.compile(r"^(?P<impl>[a-z]+?)?(?P<version>\d+(?:\.\d+){0,2})?(?P<threaded>t?)$")


@dataclass(frozen=True)
class Probe:
    """What an executable says about itself."""

    implementation: str
    """``CPython``, ``PyPy``, ..."""
    version: str
    executable: str
    free_threaded: bool = False


@dataclass(frozen=True)
class Interpreter:
    spec: str | None
    found: bool
    path: str | None = None
    version: str | None = None
    implementation: str | None = None
    reason: str | None = None
    """Why it is missing, with what to do about it."""


ProbeFn = Callable[[str, Mapping[str, str]], "Probe | str"]
"""``(executable, env) -> Probe`` or an error text; tests pass a fake."""


def probe(executable: str, env: Mapping[str, str]) -> Probe | str:
    try:
        proc = subprocess.run(
            [executable, "-I", "-S", "-c", PROBE_CODE],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) < 4:
        return (proc.stderr or proc.stdout).strip() or f"exit code {proc.returncode}"
    return Probe(lines[0].strip(), lines[1].strip(), lines[2].strip(), lines[3].strip() not in ("0", ""))


@dataclass(frozen=True)
class Spec:
    implementation: str
    """``cpython`` or another lower-case implementation name (``pypy``)."""
    version: tuple[int, ...]
    free_threaded: bool = False

    def names(self, *, generic: bool = sys.platform == "win32") -> list[str]:
        """Executable names to try, most specific first."""
        base = "python" if self.implementation == "cpython" else self.implementation
        dotted = ".".join(map(str, self.version[:2]))
        suffix = "t" if self.free_threaded else ""
        names = []
        if dotted:
            names.append(f"{base}{dotted}{suffix}")
        # Every POSIX install (make install, distro packages, venvs, pyenv, uv) has
        # python3.X beside python3, so the generic names add nothing there but more
        # probes; Windows installs only have the generic ones.
        if generic or not dotted or len(self.version) < 2:
            if self.version and not self.free_threaded:
                names.append(f"{base}{self.version[0]}")
            if not self.free_threaded:
                names.append(base)
        return list(dict.fromkeys(names))

    def accepts(self, found: Probe) -> bool:
        if found.implementation.lower() != self.implementation:
            return False
        if self.free_threaded != found.free_threaded:
            return False
        have = tuple(int(part) for part in found.version.split(".") if part.isdigit())
        return have[: len(self.version)] == self.version


def parse_spec(spec: str) -> Spec | None:
    """``3.12`` / ``pypy3.10`` / ``3.13t`` -> :class:`Spec`; None for what we can't read."""
    match = _SPEC.match(spec.strip().lower())
    if not match or not (match.group("impl") or match.group("version")):
        return None
    impl = match.group("impl") or "cpython"
    if impl in ("python", "py"):
        impl = "cpython"
    version = tuple(int(part) for part in (match.group("version") or "").split(".") if part)
    return Spec(impl, version, bool(match.group("threaded")))


def _search_path(environ: Mapping[str, str]) -> list[Path]:
    return [Path(entry) for entry in environ.get("PATH", os.defpath).split(os.pathsep) if entry]


def _executables(name: str, directories: Iterable[Path]) -> Iterable[Path]:
    suffixes = [""]
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        suffixes = [".exe", ""]
    for directory in directories:
        for suffix in suffixes:
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                yield candidate


_SHIM_MARK = b"pyenv"


def pyenv_targets(candidate: Path, env: Mapping[str, str], cwd: Path) -> list[Path] | None:
    """The executables a pyenv shim would run, in pyenv's order; None if not a shim.

    ``system`` stands for the rest of PATH and is left to the PATH search itself.
    """
    if candidate.parent.name != "shims":
        return None
    try:
        with candidate.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    if not head.startswith(b"#!") or _SHIM_MARK not in head:
        return None
    root_match = re.search(rb'PYENV_ROOT="([^"]+)"', head)
    root = Path(root_match.group(1).decode()) if root_match else candidate.parent.parent
    versions = _pyenv_versions(root, env, cwd)
    return [
        root / "versions" / version / "bin" / candidate.name
        for version in versions
        if version != "system" and (root / "versions" / version / "bin" / candidate.name).is_file()
    ]


def _pyenv_versions(root: Path, env: Mapping[str, str], cwd: Path) -> list[str]:
    if env.get("PYENV_VERSION"):
        return [v for v in env["PYENV_VERSION"].split(":") if v]
    for folder in (cwd, *cwd.parents):
        found = _read_version_file(folder / ".python-version")
        if found is not None:
            return found
    return _read_version_file(root / "version") or ["system"]


def _read_version_file(path: Path) -> list[str] | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return [word for line in text.splitlines() for word in line.split() if not word.startswith("#")]


def find(
    spec: str | None,
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    probe_fn: ProbeFn = probe,
) -> Interpreter:
    """Look for ``spec``; ``None`` means the interpreter this command runs on.

    ``cwd`` is where the tool will run (the project): pyenv's ``.python-version``
    files are looked up from there.
    """
    env = dict(os.environ if environ is None else environ)
    where = cwd or Path.cwd()
    if spec is None:
        version = ".".join(map(str, sys.version_info[:3]))
        return Interpreter(None, True, sys.executable, version, platform.python_implementation())
    if os.path.isabs(spec) or os.sep in spec or (os.altsep and os.altsep in spec):
        return _check_path(spec, env, probe_fn)
    parsed = parse_spec(spec)
    if parsed is None:
        return Interpreter(spec, False, reason=f"cannot read the interpreter spec {spec!r}")
    directories = _search_path(env)
    tried: list[str] = []
    inactive_shim: str | None = None
    seen: set[str] = set()
    for name in parsed.names():
        for found in _executables(name, directories):
            targets = pyenv_targets(found, env, where)
            if targets is not None and not targets:
                inactive_shim = inactive_shim or name
                continue
            for candidate in targets or [found]:
                key = os.path.realpath(candidate)
                if key in seen:
                    continue
                seen.add(key)
                result = _try(spec, parsed, candidate, env=env, probe_fn=probe_fn, tried=tried)
                if result is not None:
                    return result
    first = parsed.names()[0]
    if inactive_shim:
        reason = (
            f"{inactive_shim} on PATH is a pyenv shim for a version that is not active; "
            "activate it (pyenv global/local, or PYENV_VERSION) or put its bin folder on PATH"
        )
    elif tried:
        reason = f"no {first} on PATH ({'; '.join(tried[:3])}); install Python {spec} or put it on PATH"
    else:
        reason = f"no {first} on PATH; install Python {spec} or put it on PATH"
    return Interpreter(spec, False, reason=reason)


def _try(
    spec: str, parsed: Spec, candidate: Path, *, env: Mapping[str, str], probe_fn: ProbeFn, tried: list[str]
) -> Interpreter | None:
    answer = probe_fn(str(candidate), env)
    if isinstance(answer, Probe):
        if parsed.accepts(answer):
            # The real executable, not a shim: faster to start and what a venv should use.
            path = answer.executable or str(candidate)
            return Interpreter(spec, True, path, answer.version, answer.implementation)
        tried.append(f"{candidate} is {answer.implementation} {answer.version}")
    else:
        tried.append(f"{candidate} does not start")
    return None


def _check_path(spec: str, env: Mapping[str, str], probe_fn: ProbeFn) -> Interpreter:
    path = Path(spec)
    if not path.is_file():
        return Interpreter(spec, False, reason=f"{spec} does not exist; fix base_python or install it")
    answer = probe_fn(spec, env)
    if isinstance(answer, Probe):
        return Interpreter(spec, True, spec, answer.version, answer.implementation)
    first_line = answer.splitlines()[0] if answer else ""
    return Interpreter(spec, False, reason=f"{spec} does not start: {first_line}")


def find_all(
    specs: Sequence[str | None],
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    probe_fn: ProbeFn = probe,
) -> dict[str | None, Interpreter]:
    """Each distinct spec once, a few at a time (each probe is a short subprocess)."""
    unique = list(dict.fromkeys(specs))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda spec: find(spec, environ, cwd=cwd, probe_fn=probe_fn), unique)
        return dict(zip(unique, results, strict=True))
