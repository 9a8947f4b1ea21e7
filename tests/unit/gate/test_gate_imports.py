"""The gate package's imports, read from its source: no cycle inside it, nothing from above it.

Every import counts, also one inside a function (a lazy import is still a dependency).
The gate sits below the commands, the CI reporting and the reports: it is given typed
requests and never reaches up to them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_pipeline.gate

GATE = Path(pytest_pipeline.gate.__file__).parent
PACKAGE = "pytest_pipeline.gate"
ABOVE = ("pytest_pipeline.commands", "pytest_pipeline.ci", "pytest_pipeline.report", "pytest_pipeline.runner")
KNOWN_UPWARD = {
    # The reports folder's run lock (is its run finished?) still lives in runner/outputs.py;
    # it moves with the reports folder's one owner (issue 13, item 3).
    ("pytest_pipeline.gate.inputs", "pytest_pipeline.runner.outputs"),
}


def module_name(path: Path) -> str:
    return PACKAGE if path.name == "__init__.py" else f"{PACKAGE}.{path.stem}"


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports; ``from package import name`` counts as
    ``package.name`` when that is a module of the gate, else as ``package``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*PACKAGE.split(".")[: 3 - node.level], *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                names.add(candidate if candidate in MODULES else base)
    return names


MODULES = {module_name(path) for path in GATE.glob("*.py")}
GRAPH = {module_name(path): imported(path) for path in sorted(GATE.glob("*.py"))}


def internal(module: str) -> list[str]:
    return sorted(name for name in GRAPH[module] if name in MODULES and name != PACKAGE)


def find_cycle() -> list[str] | None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for name in internal(module):
            cycle = visit(name, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(GRAPH):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_the_gate_has_no_import_cycle() -> None:
    cycle = find_cycle()
    assert cycle is None, " -> ".join(cycle or ())


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_the_gate_imports_nothing_from_above_it(module: str) -> None:
    upward = sorted(
        name
        for name in GRAPH[module]
        if any(name == prefix or name.startswith(prefix + ".") for prefix in ABOVE)
        and (module, name) not in KNOWN_UPWARD
    )
    assert upward == [], f"{module} imports {', '.join(upward)}"


def test_the_gate_never_sees_a_command_line() -> None:
    """The commands turn their options into typed requests; the gate takes those."""
    assert [module for module, names in GRAPH.items() if "argparse" in names] == []


def test_the_known_upward_imports_are_still_there() -> None:
    """An exception that is no longer needed is removed from the list."""
    for module, name in KNOWN_UPWARD:
        assert name in GRAPH[module], f"{module} no longer imports {name}: drop it from KNOWN_UPWARD"


def test_the_checker_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from pytest_pipeline.gate import verdict\n"
        "def later():\n"
        "    from pytest_pipeline.report import status\n"
        "    from . import gatefile\n",
        encoding="utf-8",
    )
    found = imported(source)
    assert {
        "pytest_pipeline.gate.verdict",
        "pytest_pipeline.report",
        "pytest_pipeline.gate.gatefile",
    } <= found
