"""The package layout holds: no import cycles between edgesim's subpackages, and the edge
pipeline imports nothing from the dev loop (metrics, request log and reload observe it from
above). Checked on the source with ast, so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import edgesim

PACKAGE = Path(edgesim.__file__).parent


def _unit(module: str) -> str:
    """The layer a module belongs to: its subpackage, or the top-level module itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports() -> dict[str, set[str]]:
    """Layer → the edgesim layers its modules import (type-checking-only imports excluded)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        source = _unit(module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.startswith("edgesim.") and _unit(name) != source:
                    graph.setdefault(source, set()).add(_unit(name))
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start)
        if found:
            return found
    return None


SUBPACKAGES = ("controlplane", "devloop", "distribution", "edge", "kvs", "runtime", "testing")


def test_no_import_cycles_between_subpackages_and_top_level_modules() -> None:
    graph = _imports()
    assert set(SUBPACKAGES) <= set(graph)
    assert _cycle(graph) is None


def test_edge_does_not_import_the_dev_loop_or_the_app() -> None:
    deps = _imports()["edge"]
    assert "devloop" not in deps
    assert not deps & {"app", "admin", "serve_cli", "cli"}


def test_libraries_know_nothing_of_http_serving() -> None:
    graph = _imports()
    for library in ("runtime", "kvs", "distribution"):
        assert not graph.get(library, set()) & {"edge", "devloop", "app", "controlplane"}, library


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
