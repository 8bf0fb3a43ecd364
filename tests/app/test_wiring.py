"""Is the app joined by one explicit list (``app/wiring.py``) that ``create_app`` hands to ``app.extensions``, with
nothing registered as a side effect of importing a module?"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine

from app import create_app
from app.clock import utcnow
from app.extensions import db
from app.jobs import dispatch as job_dispatch
from app.jobs.models import Job
from app.jobs.runtime import enqueue
from app.oauth.credential import oauth_credential
from app.tenants import Tenant
from app.wiring import MODEL_MODULES, OPERATION_MODULES, declared_in

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
# Registrars still used at import by modules another change owns; each entry must go when its uses do (the test
# below fails on an entry that is no longer needed, so the list only shrinks).
PENDING_REGISTRARS: dict[str, str] = {}
MUTATORS = {"append", "add", "update", "setdefault", "extend", "insert", "__setitem__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules() -> dict[str, tuple[Path, ast.Module]]:
    return {module_name(p): (p, ast.parse(p.read_text(), str(p))) for p in sorted(APP.rglob("*.py"))
            if "migrations" not in p.relative_to(APP).parts}


def module_globals(tree: ast.Module) -> set[str]:
    """Names a module binds at module level."""
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def writes_a_global(fn: ast.FunctionDef, names: set[str]) -> bool:
    """Does ``fn`` (or a function inside it) store into one of the module's own containers?"""
    for node in ast.walk(fn):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del) \
                and isinstance(node.value, ast.Name) and node.value.id in names:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in names:
            return True
    return False


def registrars(modules: dict[str, tuple[Path, ast.Module]]) -> set[str]:
    """``module.function`` for every top-level function that writes into a module-level container of its module."""
    found: set[str] = set()
    for name, (_path, tree) in modules.items():
        names = module_globals(tree)
        found |= {f"{name}.{fn.name}" for fn in tree.body
                  if isinstance(fn, ast.FunctionDef) and writes_a_global(fn, names)}
    return found


@dataclass(frozen=True)
class Use:
    module: str
    line: int
    callee: str


def _imported(name: str, path: Path, tree: ast.Module) -> dict[str, str]:
    """Local name -> what it stands for (``package.module`` or ``package.module.attribute``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    seen: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - (node.level - 1)] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                seen[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                seen[alias.asname or alias.name] = alias.name
    return seen


def _callee(expr: ast.expr, local: str, imported: dict[str, str], defined: set[str]) -> str | None:
    target = expr.func if isinstance(expr, ast.Call) else expr
    if isinstance(target, ast.Name):
        if target.id in defined:
            return f"{local}.{target.id}"
        return imported.get(target.id)
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in imported:
        return f"{imported[target.value.id]}.{target.attr}"
    return None


def _grown_container(call: ast.Call, imported: dict[str, str]) -> str | None:
    """``other.REG.append(x)`` or ``REG[k] = ...``-like growth of another module's container: its name, if any."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in MUTATORS):
        return None
    target = func.value
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in imported:
        return f"{imported[target.value.id]}.{target.attr}.{func.attr}"
    if isinstance(target, ast.Name) and target.id in imported:
        return f"{imported[target.id]}.{func.attr}"
    return None


def import_time_calls(modules: dict[str, tuple[Path, ast.Module]]) -> list[Use]:
    """What each module calls while it is imported: decorators of its top-level definitions, top-level calls."""
    uses: list[Use] = []
    for name, (path, tree) in modules.items():
        imported = _imported(name, path, tree)
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        for node in tree.body:
            exprs: list[ast.expr] = []
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                exprs = list(node.decorator_list)
            elif isinstance(node, ast.Expr | ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                exprs = [node.value]
                grown = _grown_container(node.value, imported)
                if grown:
                    uses.append(Use(name, node.lineno, grown))
                    continue
            for expr in exprs:
                callee = _callee(expr, name, imported, defined)
                if callee:
                    uses.append(Use(name, expr.lineno, callee))
    return uses


def test_does_no_module_register_into_a_module_level_registry_when_imported() -> None:
    """A runner, task, section, credential or operation exists because app/wiring.py lists it, not because a module
    holding it was imported (by whom, and whether at all, would then decide what the app can do)."""
    modules = app_modules()
    found = registrars(modules)
    offending = [u for u in import_time_calls(modules)
                 if (u.callee in found or u.callee.rpartition(".")[2] in MUTATORS)
                 and u.callee not in PENDING_REGISTRARS]
    assert not offending, "\n".join(f"{u.module}:{u.line} calls {u.callee} at import" for u in offending)
    still_used = {u.callee for u in import_time_calls(modules) if u.callee in found}
    assert set(PENDING_REGISTRARS) <= still_used, f"no longer needed: {set(PENDING_REGISTRARS) - still_used}"


def test_the_reader_sees_a_registration_at_import() -> None:
    """The check above would catch the pattern it looks for: a decorator that fills a dict, used at module level."""
    tree = ast.parse("REG = {}\n\ndef reg(fn):\n    REG[fn.__name__] = fn\n    return fn\n\n@reg\ndef job(ctx):\n"
                     "    pass\n")
    modules = {"app.made_up": (APP / "made_up.py", tree)}
    assert registrars(modules) == {"app.made_up.reg"}
    assert [u.callee for u in import_time_calls(modules)] == ["app.made_up.reg"]
    other = ast.parse("from app import tenants\n\ndef hook(tenant_id):\n    pass\n\ntenants.PURGED.append(hook)\n")
    assert [u.callee for u in import_time_calls({"app.other": (APP / "other.py", other)})] == [
        "app.tenants.PURGED.append"]


IMPORT_EVERYTHING = """
import ast, importlib, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
names = json.loads(sys.argv[2])
filled = []
for name in names:
    module = importlib.import_module(name)
for name in names:
    module = sys.modules[name]
    path = root / (name.replace(".", "/") + ("/__init__.py" if (root / name.replace(".", "/")).is_dir() else ".py"))
    for node in ast.parse(path.read_text()).body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        empty = isinstance(value, ast.Dict) and not value.keys
        empty = empty or (isinstance(value, (ast.List, ast.Set)) and not value.elts)
        empty = empty or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                          and value.func.id in ("dict", "list", "set") and not value.args)
        if not empty:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and getattr(module, target.id, None):
                filled.append(f"{name}.{target.id}")
print(json.dumps(filled))
"""


def test_does_importing_every_module_leave_its_empty_containers_empty() -> None:
    """Import every module of app/ in a fresh interpreter, no app built: a container a module starts empty is
    still empty (before, RUNNERS, PERIODIC, SECTIONS, CREDENTIAL_SOURCES and the declared operations filled up)."""
    names = sorted(n for n in app_modules() if n != "app.wiring")
    names.append("app.wiring")  # last: it imports everything, which must register nothing either
    out = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING, str(ROOT), json.dumps(names)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    filled = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert filled == set(), sorted(filled)


def test_does_a_fresh_app_carry_every_runner_task_section_and_credential(app) -> None:
    wiring = app.extensions["wiring"]
    assert set(wiring.runners) == {"backup", "forge-site-info", "restore-preview", "restore"}
    assert set(wiring.crash_handlers) == {"restore-preview", "restore"}
    assert set(wiring.periodic) == {"backup-schedule", "backups.retention", "audit.job-events"}
    assert [s.key for s in sorted(wiring.sections, key=lambda s: s.order)] == ["backups", "restore", "oauth"]
    assert wiring.credential_sources == [oauth_credential]


def test_are_the_operations_those_of_every_module_that_declares_one(app) -> None:
    """Every module of app/ that declares a Jira operation is listed, so the descriptor's scopes are complete."""
    declaring = {name for name, (_path, tree) in app_modules().items()
                 if any(u.callee == "app.jira.operations.declare" for u in import_time_calls({name: (_path, tree)}))}
    listed = {m.__name__ for m in OPERATION_MODULES}
    assert declaring - listed == set(), "declares operations but isn't in OPERATION_MODULES"
    assert listed - declaring == set(), "in OPERATION_MODULES but declares nothing"
    assert {(o.method, o.template) for o in app.extensions["wiring"].operations} == {
        (o.method, o.template) for o in declared_in(OPERATION_MODULES)}


def test_is_every_module_that_defines_a_table_listed() -> None:
    """A model module nobody imported would be missing from the metadata, so from create_all() and Alembic's diff."""
    defining = {name for name, (_path, tree) in app_modules().items()
                if any(isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "Model"
                                                              for b in node.bases) for node in tree.body)}
    assert defining == {m.__name__ for m in MODEL_MODULES}


def test_does_each_app_have_its_own_wiring(app_config) -> None:
    """A runner or a credential added to one app (as a test or a bench does) is not seen by another."""
    first, second = create_app(dict(app_config)), create_app(dict(app_config))
    first.extensions["wiring"].runners["made-up"] = lambda ctx: None
    first.extensions["wiring"].credential_sources.append(lambda tenant: None)
    assert "made-up" not in second.extensions["wiring"].runners
    assert second.extensions["wiring"].credential_sources == [oauth_credential]


def test_does_the_worker_process_build_the_same_wiring(app, tmp_path, monkeypatch) -> None:
    """RQ's entry point builds its own app from the environment (create_app) and runs a wired runner in it."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'worker.sqlite3'}")
    monkeypatch.setenv("ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("JOBS_MODE", "manual")
    monkeypatch.setattr(job_dispatch, "_worker_app", None)
    engine = create_engine(f"sqlite:///{tmp_path / 'worker.sqlite3'}")
    db.metadata.create_all(engine)  # the schema a release's migration would have made
    engine.dispose()
    assert job_dispatch.rq_entry("no-such-job") is None  # builds (and migrates) the worker's app
    worker = job_dispatch._worker_app
    assert worker is not None and worker is not app
    assert set(worker.extensions["wiring"].runners) == set(app.extensions["wiring"].runners)
    with worker.app_context():
        tenant = Tenant(client_key="ck-worker", base_url="https://worker.atlassian.net", shared_secret_enc="x",
                        uninstalled_at=utcnow())  # gone: the runner fails with its own words, not "No runner"
        db.session.add(tenant)
        db.session.commit()
        job, _ = enqueue(tenant.id, "forge-site-info", dispatch=False)
        job_id = job.id
    assert job_dispatch.rq_entry(job_id) == "failed"
    with worker.app_context():
        row = db.session.get(Job, job_id)
        assert row is not None and row.message == "The app is no longer installed on this Jira site."
