"""No import cycles between our modules (``TYPE_CHECKING`` imports count too), and the other
distributions (the instrumentors, the stand-in) import only the public API of the core.

Read from the source with ``ast``, so a cycle hidden behind ``if TYPE_CHECKING:`` or inside a
function is found as well as one at module level.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

PACKAGES = [ROOT / "src" / "agentops_otel", *sorted((ROOT / "instrumentors").glob("*/src/*")),
            *sorted((ROOT / "standin").glob("src/*"))]
PUBLIC_CORE = {"agentops_otel", "agentops_otel.instrumentation"}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            parts = path.relative_to(package.parent).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``path`` imports, wherever in the file the import is."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from package import module`` depends on the module; ``from module import name`` on the module.
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
    return {target for target in targets if target in modules and target != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycles() -> None:
    graph = _graph()
    assert "agentops_otel._internal.registry" in graph["agentops_otel._internal.llm_call"]  # the walk sees imports
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_instrumentors_import_only_the_public_core() -> None:
    graph = _graph()
    instrumentors = [name for name in graph if name.split(".")[0] != "agentops_otel"]
    assert "agentops_otel_openai.endpoints" in instrumentors
    for name in instrumentors:
        targets = graph[name]
        core = {t for t in targets if t.split(".")[0] == "agentops_otel"}
        assert core <= PUBLIC_CORE, f"{name} imports {sorted(core - PUBLIC_CORE)}"
