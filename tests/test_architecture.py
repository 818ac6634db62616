"""The import rules of ARCHITECTURE.md, checked on the source: layers, no cycles, no imports
inside functions.

Imports are read with ``ast`` (module level and inside functions), so a rule cannot be dodged
by importing late. Only our own modules (``service``, ``scoring``) count; third-party imports
are free except Flask, which only the entry points may use.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "scoring")
WEB_LIBRARIES = ("flask", "flask_smorest", "werkzeug")

# Layer -> the layers it may import (besides itself). Layers are module-name prefixes; the
# longest matching prefix names a module's layer.
ENTRY = ("service.api", "service.web", "service.cli", "service.app", "service.worker")
BASE = ("service.errors", "service.config", "service.telemetry")
ALLOWED = {
    **{entry: ENTRY + BASE + ("service.usecases",) for entry in ENTRY},
    "service.usecases": BASE + ("service.domain", "service.policy", "service.audit",
                                "service.store", "service.engine", "service.decisions",
                                "service.signals", "service.connectors", "service.sandbox",
                                "scoring"),
    "service.domain": BASE + ("service.policy", "service.audit", "service.store",
                              "service.engine", "service.decisions", "service.signals",
                              "service.connectors", "service.sandbox", "scoring"),
    "service.policy": BASE + ("service.store",),
    "service.audit": BASE + ("service.store",),
    "service.signals": BASE + ("service.store", "service.audit", "service.sandbox"),
    "service.connectors": BASE + ("service.engine.ports",),
    "service.engine": ("service.errors", "service.sandbox", "service.decisions"),
    "service.decisions": ("service.sandbox",),
    "service.sandbox": (),
    "service.store": ("service.errors",),
    "service.errors": (),
    "service.config": (),
    "service.telemetry": (),
    "service": ("service.errors", "service.config"),      # the package __init__
    "scoring": ("service.errors",),
}
FLASK_ALLOWED = ENTRY



def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[:len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path):
    """Yield (imported name, line, inside a function) for every import in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for inner in ast.walk(node):
                if inner is not node:
                    functions.add(id(inner))
    for node in ast.walk(tree):
        late = id(node) in functions
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, late
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            for alias in node.names:
                child = f"{target}.{alias.name}"
                yield (child if child in MODULES else target), node.lineno, late


def _ours(name: str) -> str | None:
    """The module of ours ``name`` refers to (a submodule, else its nearest package)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _layer(module: str) -> str:
    best = ""
    for layer in ALLOWED:
        if (module == layer or module.startswith(layer + ".")) and len(layer) > len(best):
            best = layer
    return best


def _within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


GRAPH = {m: set() for m in MODULES}
LATE, WRONG_LAYER, FLASK = [], [], []
for _module, _path in MODULES.items():
    _layer_of = _layer(_module)
    for _name, _line, _late in _imports(_module, _path):
        if _name.split(".")[0] in WEB_LIBRARIES and not _within(_module, FLASK_ALLOWED):
            FLASK.append(f"{_module}:{_line} imports {_name}")
        target = _ours(_name)
        if target is None or target == _module:
            continue
        if _late:
            LATE.append(f"{_module}:{_line} imports {target} inside a function")
        GRAPH[_module].add(target)
        if not (_within(target, (_layer_of,)) or _within(target, ALLOWED[_layer_of])):
            WRONG_LAYER.append(f"{_module}:{_line} ({_layer_of}) imports {target}")


def test_every_module_has_a_layer():
    assert [m for m in MODULES if not _layer(m)] == []


def test_no_imports_of_our_modules_inside_functions():
    assert LATE == []


def test_layers_import_only_what_they_may():
    assert WRONG_LAYER == []


def test_only_entry_points_use_flask():
    assert FLASK == []


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_import_cycles():
    assert _cycles() == []


@pytest.mark.parametrize("rule", sorted(ALLOWED))
def test_each_layer_in_the_map_exists(rule):
    assert any(_within(m, (rule,)) for m in MODULES), f"{rule} names no module"
