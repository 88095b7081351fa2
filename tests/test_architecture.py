"""The package's shape: no import cycle, evaluators independent of training, registries as the one source of
component names, and a CLI whose --help loads no torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ssl_ce

PACKAGE = Path(ssl_ce.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module_level_only: bool) -> set[str]:
    """The ssl_ce modules `path` imports (a `from package import name` counts as the submodule when there is
    one); imports under `if TYPE_CHECKING:` are for type checkers and never run."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Import) and (top or not module_level_only):
            found.update(a.name for a in node.names if a.name.startswith("ssl_ce"))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ssl_ce") and (
                top or not module_level_only):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
        nested = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, top and not nested)

    visit(tree, True)
    return found


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _graph(module_level_only: bool) -> dict[str, set[str]]:
    return {name: _imports(path, module_level_only) & set(MODULES) for name, path in MODULES.items()}


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = _graph(module_level_only=True)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path[path.index(nxt):], nxt]))
            if nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)


def test_the_graph_sees_imports() -> None:
    """The cycle check above is only worth its graph: known edges are in it."""
    graph = _graph(module_level_only=True)
    assert "ssl_ce.training.averaging" in graph["ssl_ce.training.loop"]
    assert "ssl_ce.registries" in graph["ssl_ce.config"]
    assert "ssl_ce.data.masks" not in graph["ssl_ce.registries"]  # built-ins load on look-up, by name


def test_evaluators_never_import_training() -> None:
    graph = _graph(module_level_only=False)
    for start in (m for m in MODULES if m.startswith("ssl_ce.evaluators")):
        seen, todo = set(), [start]
        while todo:
            module = todo.pop()
            assert not module.startswith("ssl_ce.training"), f"{start} reaches {module}"
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module] - seen)


def test_component_names_are_typed_only_where_components_register() -> None:
    """Outside the registering modules (and the recipes: configs, the report's runs), no code compares a
    method's or mask's name with a literal."""
    for name, path in MODULES.items():
        source = path.read_text()
        for needle in ('method.name == "', "method.name == '", 'mask == "center"', 'type == "center"'):
            assert needle not in source, f"{name} asks for a component by name: {needle}"


def test_help_does_not_import_torch() -> None:
    code = "import sys; from ssl_ce.cli import cli; cli.main(['--help'], standalone_mode=False); " \
           "print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("False"), done.stdout
