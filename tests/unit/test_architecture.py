"""The house's plan, kept: the packages form layers, imports only go down (or stay in a
package), no two modules import each other round, and the pytest plugin imports nothing
of the orchestrator. The layers table and the package list in docs/development.md are
checked against LAYERS and the source, so the drawing cannot drift.

Imports are read from the source: every ``import``, also those inside functions (a lazy
import is still a dependency), but not those under ``if TYPE_CHECKING:``, which only name
types for annotations (a hook specification may name the types of its implementations).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "pytest_pipeline"

LAYERS = {
    # what every part uses: results, settings, files, errors, our variable names
    "foundation": 0,
    # the three parts that stand on the foundation alone
    "plugin": 1,
    "junit": 1,
    "matrix": 1,
    # cell execution: discovery's cells, built and run
    "runner": 2,
    # the verdict over the results (and publish)
    "gate": 3,
    # where people run it and what they read
    "ci": 4,
    "report": 4,
    "rerun": 4,
    # the command line and the tox entry point own the flows
    "commands": 5,
    "entry": 6,
}
FOUNDATION = {
    "__init__",
    "config",
    "entry_points",
    "envvars",
    "errors",
    "exitcodes",
    "fileio",
    "git",
    "globs",
    "installed",
    "results",
    "run_record",
    "tool_output",
    "tracebacks",
    "cli_hooks",
    "cli_marks",
}
ENTRY = {"cli", "__main__", "tox_plugin"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    """The part (package or layer name) a module of ours belongs to."""
    parts = module.split(".")
    if len(parts) == 1:
        return "foundation"
    top = parts[1]
    if top in FOUNDATION:
        return "foundation"
    if top in ENTRY:
        return "entry"
    return top


def imports(path: Path) -> Iterator[str]:
    """The modules of ours that ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pytest_pipeline"):
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("pytest_pipeline"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (
                    candidate
                    if (SRC.parent / Path(*candidate.split("."))).exists() or _is_module(candidate)
                    else base
                )


def _is_module(name: str) -> bool:
    return (SRC.parent / Path(*name.split("."))).with_suffix(".py").is_file()


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        edges[module_name(path)] = {name for name in imports(path) if name != module_name(path)}
    return edges


def test_imports_only_go_down() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        for target in targets
        if LAYERS[part_of(target)] > LAYERS[part_of(module)]
    )
    assert upward == []


def test_the_parts_of_one_layer_do_not_import_each_other() -> None:
    sideways = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        for target in targets
        if part_of(target) != part_of(module)
        and LAYERS[part_of(target)] == LAYERS[part_of(module)]
        and part_of(module) != "foundation"
    )
    assert sideways == []


def test_no_import_cycle() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in edges:
                continue
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []


PLUGIN_MAY_IMPORT = {
    "pytest_pipeline.config",
    "pytest_pipeline.envvars",
    "pytest_pipeline.errors",
    "pytest_pipeline.fileio",
    "pytest_pipeline.results",
}
"""The foundation modules plugin/ needs, named one by one: the foundation also holds the
command line's own modules (cli_hooks, tool_output, git, ...), which a user's pytest run
must not load."""
PLUGIN_LOADS = PLUGIN_MAY_IMPORT | {"pytest_pipeline.exitcodes", "pytest_pipeline.globs"}
"""...and what those load in turn."""


def test_the_plugin_imports_nothing_of_the_orchestrator() -> None:
    """Everything that loads in a user's pytest run is plugin/ plus the few foundation
    modules it needs (to add one, add it to PLUGIN_MAY_IMPORT and keep it light)."""
    outside = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        if part_of(module) == "plugin"
        for target in targets
        if part_of(target) != "plugin" and target not in PLUGIN_MAY_IMPORT
    )
    assert outside == []


def test_what_the_plugin_imports_loads_nothing_more() -> None:
    edges = graph()
    loaded = {module for module in edges if part_of(module) == "plugin"}
    todo = list(loaded)
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in loaded:
                loaded.add(target)
                todo.append(target)
    assert sorted(name for name in loaded if part_of(name) != "plugin") == sorted(PLUGIN_LOADS)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=module_name)
def test_no_module_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 500, f"{module_name(path)} has {lines} lines: split it by job"


DEVELOPMENT_DOC = SRC.parents[1] / "docs" / "development.md"


def drawn_layers() -> list[tuple[str, int, str, str]]:
    """``(part, layer, what is in it, may import)`` of each row of the layers table in
    docs/development.md (the table after the heading "The layers", lowest first)."""
    text = DEVELOPMENT_DOC.read_text(encoding="utf-8")
    section = text.split("\n## The layers\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    return [(row[1].strip("`"), int(row[0]), row[2], row[3]) for row in rows[2:]]


def test_the_development_docs_draw_the_layers_as_they_are() -> None:
    """The drawing names the parts of LAYERS, in its order, on its layers."""
    assert [(part, layer) for part, layer, _, _ in drawn_layers()] == list(LAYERS.items())


def test_the_drawing_names_the_modules_of_the_foundation_and_the_entry_points() -> None:
    modules = {part: set(re.findall(r"`(\w+)(?:\.py)?`", what)) for part, _, what, _ in drawn_layers()}
    assert modules["foundation"] == FOUNDATION - {"__init__"}
    assert modules["entry"] == ENTRY


def test_the_drawing_names_what_the_plugin_may_import() -> None:
    (allowed,) = [may_import for part, _, _, may_import in drawn_layers() if part == "plugin"]
    assert {f"pytest_pipeline.{name}" for name in re.findall(r"`(\w+)`", allowed)} == PLUGIN_MAY_IMPORT


def test_the_development_docs_name_every_package() -> None:
    section = DEVELOPMENT_DOC.read_text(encoding="utf-8").split("\n## Where the parts are\n", 1)[1]
    drawn = set(re.findall(r"^  (\w+)/ ", section.split("\n## ", 1)[0], flags=re.MULTILINE))
    assert drawn == {path.parent.name for path in SRC.glob("*/__init__.py")}
