"""Environment names -> (interpreter, dependency set), so a matrix can be drawn as a grid.

tox names environments by factors joined with ``-`` (``py312-django50``); the
interpreter factor follows tox's own rules (``py312``, ``py3``, ``pypy310``,
``py313t``, ``cpython-3.13``), and every other factor is a dependency-set axis whose
value is read, when possible, from the environment's resolved ``deps`` (``attrs23``
with ``attrs==23.2.*`` -> ``{"attrs": "23.2"}``), because the digits in a name are
only a convention. nox says the same thing explicitly with ``python`` and
``call_spec``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath

# Same shapes tox 4 accepts as interpreter factors (tox/tox_env/python/api.py):
# ``py`` alone says nothing and is not an interpreter factor.
_PY_FACTOR = re.compile(
    r"^(?!py$)(?P<impl>py|pypy|cpython|jython|graalpy|rustpython|ironpython)"
    r"(?:(?P<version>[2-9]\.?[0-9]?[0-9]?)(?P<threaded>t?)(?P<debug>d?))?$"
)
_PY_EXPLICIT = re.compile(
    r"^(?:(?P<impl>cpython|pypy)-)?(?P<version>[23]\.[0-9]+)(?P<threaded>t?)(?P<debug>d?)$"
)
# What people write for base_python / nox python: ``python3.12``, ``3.12``, ``pypy-3.10``.
_PY_SPEC = re.compile(
    r"^(?P<impl>python|py|cpython|pypy|jython|graalpy|rustpython|ironpython)?-?"
    r"(?P<version>[2-9](?:\.?[0-9]{1,2})?)?(?P<threaded>t?)(?P<debug>d?)$"
)
# A dependency factor: a name and an optional version written as digits (``django50``,
# ``attrs23``, ``sqla1.4``, ``dj5_0``).
_DEP_FACTOR = re.compile(r"^(?P<name>[A-Za-z][A-Za-z_.]*?)[-_]?(?P<version>\d+(?:[._]\d+)*)?$")
_OPERATOR_RANK = {"===": 0, "==": 0, "~=": 1, ">=": 2, ">": 3, "<=": 4, "<": 5, "!=": 6}
_NAME_SEPARATORS = re.compile(r"[-_.]+")


def normalized_name(name: str) -> str:
    """A distribution name the way PEP 503 compares them (``Zope.Interface`` ->
    ``zope-interface``): packaging's ``canonicalize_name``, without importing packaging
    (~10 ms, with its tags and version modules) on every run that plans a matrix."""
    return _NAME_SEPARATORS.sub("-", name).lower()


def normalise_python(spec: str | None) -> str | None:
    """``py312``/``python3.12``/``cpython-3.12`` -> ``3.12``; ``pypy310`` -> ``pypy3.10``.

    ``None``, ``""`` and ``py``/``python`` (any interpreter) give ``None``. An absolute
    path is kept as it is. Anything unrecognised is returned unchanged, so a cell
    still shows what its tool asked for.
    """
    if spec is None:
        return None
    text = spec.strip()
    if not text or text.lower() in ("py", "python"):
        return None
    if _is_path(text):
        return text
    match = _PY_FACTOR.match(text.lower()) or _PY_EXPLICIT.match(text.lower()) or _PY_SPEC.match(text.lower())
    if not match:
        return text
    impl = (match.group("impl") or "").lower()
    version = _dotted(match.group("version") or "")
    suffix = (match.group("threaded") or "") + (match.group("debug") or "")
    if impl in ("", "py", "python", "cpython"):
        return f"{version}{suffix}" or None
    return f"{impl}{version}{suffix}"


def _dotted(version: str) -> str:
    """``312`` -> ``3.12``, ``3`` -> ``3``, ``3.12`` -> ``3.12`` (tox's MAJORMINOR rule)."""
    if not version or "." in version:
        return version
    return f"{version[0]}.{version[1:]}" if len(version) > 1 else version


def _is_path(text: str) -> bool:
    return "/" in text or "\\" in text or PurePath(text).is_absolute()


def python_factor(factor: str) -> str | None:
    """The normalised interpreter a single tox factor names, or None if it names none."""
    match = _PY_FACTOR.match(factor.lower()) or _PY_EXPLICIT.match(factor.lower())
    return normalise_python(factor) if match else None


@dataclass(frozen=True)
class ParsedName:
    """What an environment name says: its interpreter and its dependency-set factors."""

    python: str | None
    factors: Mapping[str, str] = field(default_factory=dict)


def parse_tox_env(name: str, deps: Iterable[str] = ()) -> ParsedName:
    """``py312-django50`` -> python ``3.12``, factors ``{"django": "5.0"}``.

    ``deps`` are the environment's resolved requirements: a factor whose name is a
    requirement there takes its version from it (``attrs23`` + ``attrs==23.2.*`` ->
    ``23.2``). A factor without digits (``cov``, ``lint``) is a flag with value ``""``.
    """
    # Read (with packaging) only once a factor has digits: the others don't use versions.
    requirement_versions: dict[str, str] | None = None
    python: str | None = None
    factors: dict[str, str] = {}
    parts = name.split("-")
    index = 0
    while index < len(parts):
        part = parts[index]
        pair = f"{part}-{parts[index + 1]}" if index + 1 < len(parts) else ""
        if pair and _PY_EXPLICIT.match(pair.lower()):
            python = python or normalise_python(pair)
            index += 2
            continue
        index += 1
        if not part:
            continue
        as_python = python_factor(part)
        if as_python is not None:
            python = python or as_python
            continue
        if part.lower() == "py":
            continue
        if requirement_versions is None and any(char.isdigit() for char in part):
            requirement_versions = _requirement_versions(deps)
        key, value = dependency_factor(part, requirement_versions)
        factors.setdefault(key, value)
    return ParsedName(python, factors)


def dependency_factor(factor: str, requirement_versions: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``django50`` -> ``("django", "5.0")``; ``lint`` -> ``("lint", "")``.

    Without a matching requirement, two digits read as MAJOR.MINOR (``django42``), a
    dotted or underscored version is kept (``sqla1_4`` -> ``1.4``), and longer digit
    runs are kept as written because their split is ambiguous.
    """
    match = _DEP_FACTOR.match(factor)
    if not match:
        return factor, ""
    name = match.group("name").rstrip("._")
    digits = match.group("version") or ""
    known = (requirement_versions or {}).get(normalized_name(name))
    if known is not None and digits:
        return name, known
    if not digits:
        return factor, ""
    version = digits.replace("_", ".")
    if "." not in version and len(version) == 2:
        version = f"{version[0]}.{version[1]}"
    return name, version


def _requirement_versions(deps: Iterable[str]) -> dict[str, str]:
    """Requirement name -> the first version its specifier mentions (``>=5.0,<5.1`` -> ``5.0``)."""
    versions: dict[str, str] = {}
    for line in deps:
        text = line.strip()
        if not text or text.startswith(("-", "#")):
            continue
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        # The version a pin is "about" is its lower end: ==, ~= or >= before < or !=.
        specifiers = sorted(requirement.specifier, key=lambda spec: _OPERATOR_RANK.get(spec.operator, 9))
        if specifiers:
            version = specifiers[0].version.rstrip(".*")
            versions.setdefault(normalized_name(requirement.name), version)
    return versions


def nox_factors(call_spec: Mapping[str, object]) -> dict[str, str]:
    """nox's ``call_spec`` (``{"attrs": "23.2"}``) -> factors; the interpreter is not one."""
    return {str(key): _plain(value) for key, value in call_spec.items() if key != "python"}


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
