"""Is the emulated Jira a package of its own: no import of the app's tests, and no import cycle among its modules at
module level (its resources register themselves; each may import shared helpers, never one that imports it back)?"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "fakejira"


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in ROOT.rglob("*.py")}


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module level only
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package
                for _ in range(node.level - 1):
                    parent = parent.rpartition(".")[0]
                base = f"{parent}.{node.module}" if node.module else parent
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


def test_the_emulator_imports_nothing_of_the_tests_or_the_app() -> None:
    leaks = sorted((m, i) for m, p in MODULES.items() for i in _imports(m, p)
                   if i == "tests" or i.startswith(("tests.", "app.")) or i == "app")
    assert leaks == []


def test_no_import_cycle_among_the_emulators_modules() -> None:
    graph = {m: {i for i in _imports(m, p) if i in MODULES and i != m} for m, p in MODULES.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:  # pragma: no cover - the failure's message
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None
