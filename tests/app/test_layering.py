"""Do the arrows point one way? Read from every module's imports (``ast``, nothing is imported): no door imports the
other door, and no import cycle among ``app/``'s modules at module level.

The two doors are the Connect pages (``app.admin`` and the Connect protocol in ``app.connect``) and the Forge door
(``app.forge``); what both use lives in the domain or a neutral module (``app.presenters``, ``app.answers``,
``app.admin_check``, ``app.jira``, ``app.tenants``…). Imports made inside a function run later, when every module
is loaded: they break a cycle rather than make one, so they aren't edges here — but each hides a dependency, so
they are counted, and their number may only go down.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
SHARED_FOR_NOW: set[str] = set()
# Function-level imports of app/ modules (82 when this test was written); new ones must not be added.
FUNCTION_LEVEL_CEILING = 81


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the app module imported
    line: int
    module_level: bool  # False: inside a function (runs after loading)
    type_only: bool  # under ``if TYPE_CHECKING:``


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in APP.rglob("*.py")}


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = _package_of(module, path)
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{node.module}" if node.module else base


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The app modules an import statement loads (``from pkg import mod`` loads ``pkg.mod`` when it is a module)."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names if a.name in MODULES)
        return
    base = _resolve(module, path, node)
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            yield f"{base}.{alias.name}"
        elif base in MODULES:
            yield base


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(module: str, path: Path, body: list[ast.stmt], *, module_level: bool, type_only: bool) -> Iterator[Import]:
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target in _targets(module, path, node):
                if target != module:
                    yield Import(module, target, node.lineno, module_level, type_only)
        elif isinstance(node, ast.If):
            nested_type_only = type_only or _is_type_checking(node)
            yield from _walk(module, path, node.body, module_level=module_level, type_only=nested_type_only)
            yield from _walk(module, path, node.orelse, module_level=module_level, type_only=type_only)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _walk(module, path, node.body, module_level=False, type_only=type_only)
        elif isinstance(node, ast.ClassDef):
            yield from _walk(module, path, node.body, module_level=module_level, type_only=type_only)
        elif isinstance(node, (ast.Try, ast.With)):
            for block in (getattr(node, "body", []), getattr(node, "orelse", []), getattr(node, "finalbody", [])):
                yield from _walk(module, path, block, module_level=module_level, type_only=type_only)
            for handler in getattr(node, "handlers", []):
                yield from _walk(module, path, handler.body, module_level=module_level, type_only=type_only)


def all_imports() -> list[Import]:
    found: list[Import] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.extend(_walk(module, path, tree.body, module_level=True, type_only=False))
    return found


def door_of(module: str) -> str | None:
    """``connect`` or ``forge`` for a module of a door; None for the domain and neutral modules."""
    if module in SHARED_FOR_NOW:
        return None
    for package, door in (("app.admin", "connect"), ("app.connect", "connect"), ("app.forge", "forge")):
        if module == package or module.startswith(package + "."):
            return door
    return None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _function_level(imports: list[Import]) -> list[Import]:
    """The import statements inside functions (one per statement, whatever it names)."""
    return list({(i.source, i.line): i for i in imports if not i.module_level}.values())


def test_no_door_imports_the_other_door() -> None:
    """A Connect page never imports the Forge door, nor Forge the Connect pages or protocol: shared things live in
    the domain or a neutral module, so each door can change (or go) without the other noticing."""
    crossing = [i for i in all_imports()
                if door_of(i.source) and door_of(i.target) and door_of(i.source) != door_of(i.target)]
    assert not crossing, "\n".join(f"{i.source}:{i.line} imports {i.target}" for i in crossing)


def test_no_import_cycle_among_app_modules_at_module_level() -> None:
    imports = all_imports()
    edges: dict[str, set[str]] = {}
    for i in imports:
        if i.module_level and not i.type_only:
            edges.setdefault(i.source, set()).add(i.target)
    found = cycles(edges)
    hidden = len(_function_level(imports))
    assert not found, (f"module-level import cycles (and {hidden} function-level imports hiding others): "
                       + "; ".join(" <-> ".join(c) for c in found))


def test_function_level_imports_only_go_down() -> None:
    """Each function-level import hides a dependency (usually a cycle): count them; new ones must not be added."""
    hidden = _function_level(all_imports())
    listed = "\n".join(f"{i.source}:{i.line} -> {i.target}" for i in hidden)
    assert len(hidden) <= FUNCTION_LEVEL_CEILING, f"{len(hidden)} function-level imports (at most "\
                                                  f"{FUNCTION_LEVEL_CEILING}):\n{listed}"


def test_the_reader_sees_a_real_crossing_and_a_real_cycle() -> None:
    """The checks above would catch what they look for: a crossing and a cycle made up here are found."""
    assert door_of("app.forge.api") == "forge" and door_of("app.admin.views") == "connect"
    assert door_of("app.tenants") is None and door_of("app.presenters.connections") is None
    assert door_of("app.admin_check") is None
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
