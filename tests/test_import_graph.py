"""No import circle among gridline's own modules: a module that needs a module that needs it is two jobs.

Imports are read from the source (every ``import`` statement, also those inside functions, which is how
a circle usually hides), and the circles are the strongly connected components of the graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("gridline", "ingestion")


def _module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The known modules ``module`` imports anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import name`` imports the submodule pkg.name when there is one, else pkg.
            names |= {
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            }
    found = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = _module_files()
    known = set(files)
    return {module: _imported(module, path, known) for module, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_gridline_and_ingestion_have_no_import_circle():
    graph = import_graph()
    assert "ingestion.ingest" in graph and graph["ingestion.ingest"], "the graph was not read"
    assert circles(graph) == []


def test_the_check_finds_a_circle_hidden_in_a_function(tmp_path):
    # The shape of the circle this test was written against: a file reader importing its caller lazily.
    probe = tmp_path / "open311.py"
    probe.write_text("def pull():\n    from ingestion.ingest import ingest\n", encoding="utf-8")
    known = {"ingestion.ingest", "ingestion.sources.open311"}
    graph = {
        "ingestion.ingest": {"ingestion.sources.open311"},
        "ingestion.sources.open311": _imported("ingestion.sources.open311", probe, known),
    }
    assert circles(graph) == [["ingestion.ingest", "ingestion.sources.open311"]]
