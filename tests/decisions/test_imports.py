"""The decisions package imports at module level only, and its import graph has no cycle.

Read from the source with ``ast`` (nothing is imported), so a cycle hidden by an import inside a
function is found as well as one Python would trip over. An edge goes to the most specific
module named: ``from . import lexer`` is an edge to ``feel.lexer``, ``from .values import Range``
to ``feel.values``, ``from . import FeelError`` to the package ``__init__`` that defines it.
Importing a submodule also runs its parents' ``__init__``; that implicit edge is not counted, as
import linters do not count it either (a package may re-export its submodules).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_files(package_dir: Path) -> dict[str, Path]:
    """Map dotted module names (``service.decisions.feel.values``) to their files."""
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, known: set[str]) -> tuple[set[str], list[str]]:
    """Return the modules ``module`` imports (all of them, ours or not) and its nested imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    targets: set[str] = set()
    nested: list[str] = []
    top_level = set(map(id, tree.body))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if id(node) not in top_level:
            nested.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        base = _absolute(module, path.name == "__init__.py", node)
        if base == "__future__":
            continue
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            targets.add(candidate if candidate in known else base)
    return targets, nested


def import_graph(package_dir: Path) -> tuple[dict[str, set[str]], list[str], dict[str, set[str]]]:
    """Return (edges between the package's modules, nested imports, every import by module)."""
    files = module_files(package_dir)
    known = set(files)
    edges, nested, everything = {}, [], {}
    for module, path in files.items():
        targets, inner = imports_of(module, path, known)
        everything[module] = targets
        edges[module] = {t for t in targets if t in known and t != module}
        nested += inner
    return edges, nested, everything


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


DECISIONS = ROOT / "service" / "decisions"


def test_no_import_inside_a_function_or_class():
    _, nested, _ = import_graph(DECISIONS)
    assert nested == []


def test_no_import_cycle():
    edges, _, _ = import_graph(DECISIONS)
    assert cycles(edges) == []


def test_decisions_import_nothing_of_ours_but_the_sandbox():
    _, _, everything = import_graph(DECISIONS)
    foreign = sorted(f"{module} -> {target}" for module, targets in everything.items()
                     for target in targets
                     if target.split(".")[0] == "service"
                     and not target.startswith(("service.decisions", "service.sandbox")))
    assert foreign == []


def test_the_checker_sees_a_cycle_and_a_nested_import(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .a import g\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    edges, nested, _ = import_graph(package)
    assert cycles(edges) == [["pkg.a", "pkg.b"]]
    assert nested == ["pkg/b.py:2"]
