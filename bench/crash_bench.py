"""Crash trials: SIGKILL a real ``flask --app app worker`` at seeded random points of a restore, restart it, resume.

Also the recovery world the reliability benches share: an emulated source (a generator preset) and destination with
the app installed by signed installs, linked by an Active connection, OAuth grants stored the way the consent flow
stores them (so a worker in another process can use them), and a real backup of the source.

A trial: reset the destination to an empty site, preview (in this process), queue the restore, start a worker,
SIGKILL it at a random moment of the run (``u * T`` after it claimed the job, ``T`` the uninterrupted run's time),
expire its lease (what 120 s of silence would do: the process is dead either way), start a new worker, wait for the
job to end. It survives when the job succeeded and the destination equals the uninterrupted run's destination:

* after id mapping, per type, through the app's restorers (the natural keys match one to one, and every object's
  ``comparable`` form, with the trial's ids mapped onto the clean run's, is equal);
* in the emulator's own export with every id dropped (independent of the app's code);
* with no duplicates: no two objects of a type share a natural key.

Around the run's start, kills land at named phases instead (``START_PHASES``: the job just claimed, planning, the
first objects); they must survive the same way. A deactivation trial ends the connection mid-restore instead of
killing: the run must stop between objects, cancelled with the reason, nothing written after it, nothing half made
(no item left "creating" or "incomplete", every created object recorded), and a new start refused (403); the bench
then connects the sites again.

Full: 20 trials with the DB-fed worker and 5 with the RQ worker on the ``medium`` preset, plus the start kills and
two deactivation trials per mode; ``--quick``: 3 random kills on ``small``, the start kills, one deactivation.
Usage: python bench/crash_bench.py [--quick] [--trials N] [--preset medium] [--mode thread|rq|both] [--seed N]
       [--database-url URL]   (prints one JSON line; ``survived`` / ``trials``)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLASSIC_SCOPES = ["read:jira-work", "write:jira-work", "manage:jira-configuration", "manage:jira-project",
                  "read:jira-user"]
RQ_TEST_URL = "redis://127.0.0.1:6379/15"
TERMINAL = ("succeeded", "failed", "cancelled")


# -- the recovery world --------------------------------------------------------------------------------------------

@dataclass
class World:
    """Everything a reliability bench needs: the app (this process), the emulated sites, the tenants, the env a
    worker process needs to reach the same database and the same emulated Atlassian."""

    app: Any
    cloud: Any
    source: Any
    dest: Any
    source_id: int
    dest_id: int
    admin: str
    db_url: str
    env: dict[str, str]
    snapshot_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _fresh_schema(app: Any) -> None:
    from app.extensions import db

    with app.app_context():
        db.drop_all()
        db.create_all()


@contextmanager
def recovery_world(db_url: str, seed: dict[str, Any] | str, *, config: dict[str, Any] | None = None,
                   fresh_schema: bool = True) -> Iterator[World]:
    """Build and serve the world; ``seed`` is a seed document or a generator preset name."""
    from cryptography.fernet import Fernet
    from sqlalchemy import select

    from app import create_app
    from app.backups.schedule import configure
    from app.extensions import db
    from app.oauth.flow import requested_scopes, save_grant
    from app.oauth.tokens import TokenSet
    from app.recovery.connections import activate, generate_token
    from app.tenants import Tenant
    from fakejira import generator, installer, seeding
    from fakejira.cloud import Cloud
    from fakejira.loopback import serve
    from fakejira.resources.basics import admin_account_id

    if isinstance(seed, str):
        seed = generator.generate_preset(seed, site_name="src")
    cloud = Cloud()
    source = cloud.add_site("src", seed=seed)
    # The new site to recover onto: its admin has invited the lost site's people (apps can't create accounts), so a
    # faithful restore is one the verification finds identical.
    dest = cloud.add_site("dst", seed={"users": seeding.export_site(source)["users"]})
    key = Fernet.generate_key().decode()
    with ExitStack() as stack:
        stack.enter_context(cloud.serve())
        client = cloud.oauth.register_client(["https://dr-app.example.test/oauth/callback"], name="bench")
        settings = {"ATLASSIAN_OAUTH_CLIENT_ID": client.client_id, "ATLASSIAN_OAUTH_CLIENT_SECRET": client.secret,
                    "ATLASSIAN_AUTH_URL": cloud.platform_url, "ATLASSIAN_API_URL": cloud.platform_url}
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SCHEMA_CHECK": False,
                          "AUTO_MIGRATE": False, "ENCRYPTION_KEYS": key, "JOBS_MODE": "manual",
                          "JIRA_RETRY_BASE_DELAY": 0.05, "JIRA_MAX_RETRY_WAIT": 5, **settings, **(config or {})})
        if fresh_schema:
            _fresh_schema(app)
        url = stack.enter_context(serve(app))
        app.config["BASE_URL"] = url
        app.config["CONNECT_INSTALL_KEYS_URL"] = cloud.install_keys_url
        source_key = installer.install_app(source, url + "/atlassian-connect.json").client_key
        dest_key = installer.install_app(dest, url + "/atlassian-connect.json").client_key
        admin = admin_account_id(dest)
        with app.app_context():
            scopes = sorted(set(CLASSIC_SCOPES) | set(requested_scopes()))
            ids = {}
            for site, client_key in ((source, source_key), (dest, dest_key)):
                tenant = db.session.scalars(select(Tenant).where(Tenant.client_key == client_key)).one()
                site_admin = admin_account_id(site)
                site.admins.add(site_admin)
                tokens = cloud.oauth.issue_tokens(client.client_id, site_admin, [site], scopes)
                save_grant(tenant, site_admin, site.cloud_id, site.base_url,
                           TokenSet(tokens["access_token"], tokens.get("refresh_token"),
                                    int(tokens.get("expires_in", 3600)), tuple(scopes)))
                configure(tenant, enabled=False)  # no scheduled backup may start inside a bench's worker
                ids[site.name] = tenant.id
            src = db.session.get(Tenant, ids["src"])
            activate(db.session.get(Tenant, ids["dst"]), admin, generate_token(src, admin_account_id(source)).token,
                     src.base_url)
        env = {**os.environ, "DATABASE_URL": db_url, "ENCRYPTION_KEYS": key, "BASE_URL": url,
               "AUTO_MIGRATE": "0", "JIRA_RETRY_BASE_DELAY": "0.05", "JIRA_MAX_RETRY_WAIT": "5",
               "JOBS_SWEEP_SECONDS": "0.5", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), **settings}
        env.pop("REDIS_URL", None)
        env.pop("JOBS_MODE", None)
        world = World(app, cloud, source, dest, ids["src"], ids["dst"], admin, db_url, env)
        try:
            yield world
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def run_to_end(world: World, job_id: str, *, max_requeues: int = 50) -> str:
    """Run a job in this process to a terminal state; a requeue (rate limits, Jira unavailable) runs again at once."""
    from app.extensions import db
    from app.jobs.models import Job
    from app.jobs.runtime import run_job

    state = run_job(job_id)
    for _ in range(max_requeues):
        if state in TERMINAL:
            break
        db.session.execute(db.update(Job).where(Job.id == job_id).values(not_before=None))
        db.session.commit()
        state = run_job(job_id)
    return str(state)


def job_row(job_id: str) -> Any:
    from app.extensions import db
    from app.jobs.models import Job

    job = db.session.get(Job, job_id, populate_existing=True)
    db.session.commit()
    return job


def take_backup(world: World) -> int:
    """The real backup job of the source, run here; sets and returns ``world.snapshot_id``."""
    from app.backups.service import start_backup
    from app.extensions import db
    from app.tenants import Tenant

    with world.app.app_context():
        job, _ = start_backup(db.session.get(Tenant, world.source_id), "bench")
        state = run_to_end(world, job.id)
        done = job_row(job.id)
        if state != "succeeded":
            raise RuntimeError(f"backup {state}: {done.message}")
        world.snapshot_id = int(done.result["snapshot_id"])
        return world.snapshot_id


def preview(world: World) -> int:
    """Plan a run of the snapshot into the destination (here, in-process); returns the run id."""
    from app.extensions import db
    from app.restore import service
    from app.tenants import Tenant

    with world.app.app_context():
        run = service.start_preview(db.session.get(Tenant, world.dest_id), world.snapshot_id, world.admin)
        state = run_to_end(world, run.job_id)
        if state != "succeeded":
            raise RuntimeError(f"preview {state}: {job_row(run.job_id).message}")
        return run.id


def queue_restore(world: World, run_id: int) -> str:
    """Queue the restore of everything (missing users: the admin); nobody runs it yet. Returns the job id."""
    from app.extensions import db
    from app.restore import service
    from app.restore.plan import Selection
    from app.tenants import Tenant

    with world.app.app_context():
        run = service.start_restore(db.session.get(Tenant, world.dest_id), run_id, Selection(), "admin", world.admin)
        return str(run.job_id)


def run_outcome(world: World, run_id: int) -> dict[str, Any]:
    from app.extensions import db
    from app.restore.models import RestoreRun

    with world.app.app_context():
        run = db.session.get(RestoreRun, run_id, populate_existing=True)
        out = {"status": run.status, "fidelity": run.fidelity, "message": run.message,
               "unexplained": (run.verification or {}).get("unexplained"),
               "outcomes": (json.loads(run.summary_json).get("outcomes") if run.summary_json else None)}
        db.session.commit()
        return out


def reset_destination(world: World) -> None:
    """An empty destination again (Jira's defaults and the lost site's people, as ``recovery_world`` made it; the app
    stays installed)."""
    from fakejira import seeding
    from fakejira.store import Store

    with world.dest.store.lock:
        world.dest.store = Store()
    seeding.apply_defaults(world.dest)
    seeding.load_seed(world.dest, {"users": seeding.export_site(world.source)["users"]})
    world.dest.calls.clear()


# -- comparing destinations ----------------------------------------------------------------------------------------

@dataclass
class DestinationState:
    """Per type: natural key -> (destination id, object as the restorer reads it); and the duplicated keys."""

    objects: dict[str, dict[str, tuple[str, dict[str, Any]]]]
    duplicates: dict[str, list[str]]
    export: dict[str, Any]


def destination_state(world: World) -> DestinationState:
    """Read the destination through the app's restorers (as verification does) and the emulator's export."""
    from app.extensions import db
    from app.restore.restorers import load
    from app.tenant_access import jira_access
    from app.tenants import Tenant
    from fakejira import seeding

    objects: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
    duplicates: dict[str, list[str]] = {}
    with world.app.app_context():
        access = jira_access(db.session.get(Tenant, world.dest_id))
        for type_key, restorer in load().items():
            found = list(restorer.existing(access))
            counts = Counter(e.natural_key for e in found)
            dup = sorted(k for k, n in counts.items() if n > 1)
            if dup:
                duplicates[type_key] = dup
            objects[type_key] = {e.natural_key: (e.dest_id, e.obj) for e in found}
        db.session.commit()
    return DestinationState(objects, duplicates, seeding.export_site(world.dest))


class _PairMap:
    """An ``IdMap`` from the trial's destination ids to the clean run's, matched by natural key."""

    def __init__(self, pairs: dict[str, dict[str, str]]) -> None:
        self.pairs = pairs

    def get(self, type_key: str, source_id: str) -> str | None:
        return self.pairs.get(type_key, {}).get(str(source_id))

    def require(self, type_key: str, source_id: str) -> str:
        from app.restore.types.base import Ref, UnmappedReference

        found = self.get(type_key, source_id)
        if found is None:
            raise UnmappedReference(Ref(type_key, str(source_id)))
        return found

    def user(self, account_id: str) -> str | None:
        return account_id


def _type_order(restorers: dict[str, Any]) -> list[str]:
    """Types with what they reference first, so references are paired before the objects naming them."""
    from graphlib import TopologicalSorter

    graph = {t: [d for d in r.depends_on if d in restorers] for t, r in restorers.items()}
    return list(TopologicalSorter(graph).static_order())


def compare_states(clean: DestinationState, trial: DestinationState, limit: int = 20) -> list[str]:
    """Differences between two destinations (empty: equal after id mapping, and in the id-free export).

    Objects pair up by natural key, or, where a natural key holds an id (a board names its filter's), by their
    ``comparable`` forms being equal once the trial's ids are mapped onto the clean run's.
    """
    from app.restore.restorers import load
    from app.restore.verify import diff

    restorers = load()
    problems: list[str] = [f"duplicates in {t}: {keys[:3]}" for t, keys in trial.duplicates.items()]
    order = _type_order(restorers)
    ids = _PairMap({})
    pairs: dict[str, list[tuple[str, str]]] = {}
    for type_key in order:  # first every pair by natural key: references may point either way (schemes <-> projects)
        want, got = clean.objects.get(type_key, {}), trial.objects.get(type_key, {})
        pairs[type_key] = [(k, k) for k in sorted(set(want) & set(got))]
        ids.pairs[type_key] = {got[k][0]: want[k][0] for k, _ in pairs[type_key]}
    for type_key in order:  # then the rest by equal comparable forms
        restorer = restorers[type_key]
        want, got = clean.objects.get(type_key, {}), trial.objects.get(type_key, {})
        wanted = {k: restorer.comparable(want[k][1], None) for k in set(want) - set(got)}
        for key in sorted(set(got) - set(want)):
            try:
                form = restorer.comparable(got[key][1], ids)
            except Exception:  # noqa: S112  (unmappable: reported as extra below)
                continue
            match = next((k for k, v in wanted.items() if v == form), None)
            if match is not None:
                pairs[type_key].append((match, key))
                ids.pairs[type_key][got[key][0]] = want[match][0]
                del wanted[match]
        paired = {g for _, g in pairs[type_key]}
        if wanted or set(got) - paired:
            problems.append(f"{type_key}: missing {sorted(wanted)[:3]}, extra {sorted(set(got) - paired)[:3]}")
    for type_key in order:
        restorer = restorers[type_key]
        want, got = clean.objects.get(type_key, {}), trial.objects.get(type_key, {})
        for w, g in pairs[type_key]:
            try:
                mapped = restorer.comparable(got[g][1], ids)
            except Exception as exc:  # an unmappable reference is a difference, not a crash of the bench
                problems.append(f"{type_key} {g[:40]}: {type(exc).__name__}: {exc}")
                continue
            for path, expected, actual in diff(restorer.comparable(want[w][1], None), mapped)[:3]:
                problems.append(f"{type_key} {g[:40]} {path}: {str(expected)[:60]} != {str(actual)[:60]}")
    want_export, got_export = _restorable(clean.export), _restorable(trial.export)
    if export_signature(want_export) != export_signature(got_export):
        problems.append("the id-free exports differ: " + ", ".join(
            k for k in want_export if export_signature(want_export.get(k)) != export_signature(got_export.get(k))))
    return problems[:limit]


# Parts of the export no restore writes (no public API; the report notes them): Jira derives a new board's columns
# from the statuses that exist when the board is made, so they vary with timing between two equal restores.
NOT_WRITTEN = {"boardConfigurations": ("columnConfig",)}


def _restorable(export: dict[str, Any]) -> dict[str, Any]:
    out = dict(export)
    for type_key, keys in NOT_WRITTEN.items():
        if isinstance(out.get(type_key), dict):
            out[type_key] = {i: {k: v for k, v in conf.items() if k not in keys} for i, conf in out[type_key].items()}
    return out


ID_TEXT = re.compile(r"customfield_\d+|cf\[\d+\]|\b\d{5,}\b")  # ids inside names of fields, JQL, keys


def _is_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 10000
    return isinstance(value, str) and ID_TEXT.fullmatch(value) is not None


def _drop_key(key: str) -> bool:
    # timestamps say when an object was made, not what it is
    return key in ("id", "self", "created", "updated") or \
        key.endswith(("Id", "Ids", "Url", "Urls", "Reference", "References"))


def export_signature(value: Any) -> Any:
    """The export with every id dropped: dict keys and values that are ids (numbers, ``customfield_…``, ``cf[…]``
    also inside text such as JQL), references, ``self`` links; lists and id-keyed maps as sorted multisets.

    Blind to which object a reference points at (the restorer comparison checks that), but it sees a missing, extra
    or duplicated object or child, and any changed name, description, flag or setting.
    """
    if isinstance(value, dict):
        items = [(k, v) for k, v in value.items() if not _drop_key(k)]
        if items and all(_is_id(k) or k == "default" or k.isdigit() for k, _ in items):
            return ("#map", sorted(json.dumps(export_signature(v), sort_keys=True) for _, v in items))
        return {ID_TEXT.sub("#", k): export_signature(v) for k, v in items}
    if isinstance(value, list):
        return ("#list", sorted(json.dumps(export_signature(v), sort_keys=True) for v in value))
    if isinstance(value, str):
        return ID_TEXT.sub("#", value)
    return "#" if _is_id(value) else value


# -- the worker process --------------------------------------------------------------------------------------------

class Worker:
    """``flask --app app worker`` in its own process (DB-fed, or RQ), started and SIGKILLed by id."""

    def __init__(self, world: World, mode: str = "thread", redis_url: str = RQ_TEST_URL, log: Path | None = None):
        self.env = dict(world.env)
        if mode == "rq":
            self.env.update(REDIS_URL=redis_url, JOBS_MODE="rq")
        else:
            self.env["JOBS_MODE"] = "thread"
        self.mode = mode
        self.redis_url = redis_url
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "flask", "--app", "app", "worker"]
        if self.log is None:
            self.proc = subprocess.Popen(command, cwd=str(ROOT), env=self.env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            return
        with open(self.log, "ab") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(command, cwd=str(ROOT), env=self.env, stdout=out, stderr=out)

    def send(self, job_id: str) -> None:
        """RQ mode: put the job on the queue as the web process would (thread mode: the worker polls the table)."""
        if self.mode == "rq":
            from redis import Redis
            from rq import Queue

            from app.jobs.dispatch import RQ_QUEUE

            Queue(RQ_QUEUE, connection=Redis.from_url(self.redis_url)).enqueue(
                "app.jobs.dispatch.rq_entry", job_id, result_ttl=0, failure_ttl=3600, job_timeout=3600)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(world: World, job_id: str, states: tuple[str, ...], timeout: float) -> Any:
    """Poll the job row until its state is one of ``states``; returns the row (or the last one seen on timeout)."""
    deadline = time.monotonic() + timeout
    with world.app.app_context():
        while True:
            job = job_row(job_id)
            if job.state in states or time.monotonic() > deadline:
                return job
            time.sleep(0.05)


def expire_lease(world: World, job_id: str) -> None:
    """What ``LEASE_SECONDS`` of silence does to a dead worker's job, without waiting for it."""
    from app.clock import utcnow
    from app.extensions import db
    from app.jobs.models import Job

    with world.app.app_context():
        db.session.execute(db.update(Job).where(Job.id == job_id, Job.state == "running")
                           .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


# The phases of a run's first moments a kill can be aimed at, by the step its job shows.
START_PHASES = ("claimed", "planning", "restoring")


def phase_of(step: str | None) -> int:
    """How far a restore job is, from the step it shows: 0 claimed (checking the snapshot), 1 planning, 2 restoring
    objects, 3 verifying."""
    step = step or ""
    if not step or step.startswith("Checking the snapshot"):
        return 0
    if step.startswith("Reading the destination"):
        return 1
    return 3 if step.startswith("Verifying") else 2


def wait_for_phase(world: World, job_id: str, phase: str, timeout: float = 120.0) -> None:
    """Poll the job until it reaches ``phase`` (one of ``START_PHASES``) or ends."""
    wanted = START_PHASES.index(phase)
    deadline = time.monotonic() + timeout
    with world.app.app_context():
        while time.monotonic() < deadline:
            job = job_row(job_id)
            if job.state in TERMINAL or (job.state == "running" and phase_of(job.step) >= wanted):
                return
            time.sleep(0.005)


def worker_restore(world: World, mode: str, *, kill_after: float | None = None, kill_at: str | None = None,
                   timeout: float = 900.0, log: Path | None = None) -> dict[str, Any]:
    """Preview, then restore on a real worker; SIGKILL it ``kill_after`` seconds after it claims the job (or once it
    reaches the phase ``kill_at``) and start another one. Returns the run's outcome and the seconds the job ran."""
    run_id = preview(world)
    job_id = queue_restore(world, run_id)
    worker = Worker(world, mode, log=log)
    killed_in: str | None = None
    try:
        worker.start()
        worker.send(job_id)
        running = wait_for(world, job_id, ("running", *TERMINAL), 120)
        started = time.monotonic()
        if kill_after is not None or kill_at is not None:
            if kill_at is not None:
                wait_for_phase(world, job_id, kill_at)
            else:
                time.sleep(kill_after or 0.0)
            with world.app.app_context():
                before = job_row(job_id)
                killed_in = f"{before.state}: {before.step or ''} {before.progress_done}/{before.progress_total}"
            worker.kill()
            if before.state == "running":
                expire_lease(world, job_id)
                worker = Worker(world, mode, log=log)
                worker.start()
                worker.send(job_id)
        job = wait_for(world, job_id, TERMINAL, timeout)
        seconds = time.monotonic() - started
    finally:
        worker.stop()
    return {"run_id": run_id, "job_state": job.state, "attempts": job.attempts, "message": job.message,
            "seconds": seconds, "killed_in": killed_in, "claimed": running.state,
            **{f"run_{k}": v for k, v in run_outcome(world, run_id).items()}}


def killed_restore(world: World, mode: str, point: float, log: Path | None = None) -> dict[str, Any]:
    """A restore into the (reset) destination whose worker is killed ``point`` seconds in, then resumed.

    Runs vary: when the run beat the kill, the trial is made again with the kill twice as early (up to 3 times).
    """
    reset_destination(world)
    outcome = worker_restore(world, mode, kill_after=point, log=log)
    for _ in range(3):
        if not str(outcome["killed_in"]).startswith(TERMINAL):
            break
        reset_destination(world)
        point /= 2
        outcome = worker_restore(world, mode, kill_after=point, log=log)
    return {**outcome, "kill_after": point}


def killed_at_start(world: World, mode: str, phase: str, log: Path | None = None) -> dict[str, Any]:
    """A restore into the (reset) destination whose worker is killed as it reaches ``phase``, then resumed."""
    reset_destination(world)
    return {**worker_restore(world, mode, kill_at=phase, log=log), "kill_at": phase}


# -- ending the connection mid-restore -------------------------------------------------------------------------------

DEACTIVATED_REASON = "the disaster-recovery connection was deactivated"


def _dest_writes(world: World) -> int:
    return sum(1 for c in world.dest.calls.as_json() if c["method"] in ("POST", "PUT", "DELETE")
               and not c["path"].startswith("/_emulator"))


def reconnect(world: World) -> None:
    """A new connection between the sites (a deactivated one is final): a fresh token, activated by the destination."""
    from app.extensions import db
    from app.recovery.connections import activate, generate_token
    from app.tenants import Tenant
    from fakejira.resources.basics import admin_account_id

    with world.app.app_context():
        src = db.session.get(Tenant, world.source_id)
        token = generate_token(src, admin_account_id(world.source)).token
        activate(db.session.get(Tenant, world.dest_id), world.admin, token, src.base_url)
        db.session.remove()


def deactivation_trial(world: World, mode: str, fraction: float, log: Path | None = None) -> dict[str, Any]:
    """Restore on a real worker; deactivate the connection (destination side) once ``fraction`` of the objects are
    done; the run must stop between objects, cancelled with the reason. Connects the sites again afterwards."""
    from app.extensions import db
    from app.recovery.connections import Side, deactivate
    from app.restore import service
    from app.restore.models import RestoreItem
    from app.restore.plan import Selection
    from app.tenants import Tenant

    reset_destination(world)
    run_id = preview(world)
    job_id = queue_restore(world, run_id)
    worker = Worker(world, mode, log=log)
    # Progress saved and the stop checked every 20 ms: the deactivation lands mid-run and is seen before the last
    # object even on a small, fast site (at the default 0.5 s a tiny run could finish first).
    worker.env["RESTORE_PROGRESS_INTERVAL"] = "0.02"
    problems: list[str] = []
    try:
        worker.start()
        worker.send(job_id)
        deadline = time.monotonic() + 300
        with world.app.app_context():
            while time.monotonic() < deadline:
                job = job_row(job_id)
                if job.state in TERMINAL or (job.progress_total and job.progress_done >= fraction * job.progress_total
                                             and phase_of(job.step) == 2):
                    break
                time.sleep(0.01)
            stopped_at = f"{job.state}: {job.step or ''} {job.progress_done}/{job.progress_total}"
            deactivate(db.session.get(Tenant, world.dest_id), Side.DESTINATION, world.admin, None)
            db.session.remove()
        job = wait_for(world, job_id, TERMINAL, 300)
    finally:
        worker.stop()
    writes = _dest_writes(world)
    time.sleep(1.0)
    if _dest_writes(world) != writes:
        problems.append("the destination was written to after the run ended")
    run = run_outcome(world, run_id)
    pending = (run["outcomes"] or {}).get("pending", 0)
    if not pending:
        problems.append("the run reached its last object before it stopped: no stop between objects was seen")
    if job.state != "cancelled" or DEACTIVATED_REASON not in (job.message or ""):
        problems.append(f"job {job.state}: {job.message}")
    if run["status"] != "cancelled" or DEACTIVATED_REASON not in (run["message"] or ""):
        problems.append(f"run {run['status']}: {run['message']}")
    state = destination_state(world)
    if state.duplicates:
        problems.append(f"duplicates: {state.duplicates}")
    with world.app.app_context():
        rows = db.session.scalars(db.select(RestoreItem).where(RestoreItem.run_id == run_id)).all()
        half = [f"{r.type_key} {r.name}" for r in rows if r.outcome in ("creating", "incomplete")]
        if half:
            problems.append(f"half-made objects: {half[:3]}")
        on_dest = {t: {dest_id for dest_id, _obj in objs.values()} for t, objs in state.objects.items()}
        unrecorded = [f"{r.type_key} {r.name}" for r in rows if r.outcome == "created"
                      and r.type_key in on_dest and r.dest_id not in on_dest[r.type_key]]
        if unrecorded:
            problems.append(f"created but not on the destination: {unrecorded[:3]}")
        try:
            service.start_restore(db.session.get(Tenant, world.dest_id), run_id, Selection(), "admin", world.admin)
            problems.append("a new start was accepted without an Active connection")
        except service.RestoreRefused as refused:
            if refused.status != 403:
                problems.append(f"a new start was refused with {refused.status}, not 403")
        db.session.remove()
    reconnect(world)
    return {"deactivated_in": stopped_at, "job_state": job.state, "run_status": run["status"],
            "run_message": run["message"], "outcomes": run["outcomes"], "pending": pending, "problems": problems,
            "survived": not problems}


# -- the bench -----------------------------------------------------------------------------------------------------

def trials(world: World, n: int, seed: int, mode: str, log: Path | None = None,
           progress: Any = None, deactivation_trials: int = 1) -> dict[str, Any]:
    """One uninterrupted run, then ``n`` killed-and-resumed runs and the start kills compared with it, then the
    deactivation trials. Returns the figures."""
    rng = random.Random(seed)
    take_backup(world)
    clean_run = worker_restore(world, mode, log=log)
    if clean_run["job_state"] != "succeeded":
        raise RuntimeError(f"the uninterrupted restore {clean_run['job_state']}: {clean_run['message']}")
    clean = destination_state(world)
    objects = sum(len(v) for v in clean.objects.values())
    results = []
    for number in range(n):
        point = rng.uniform(0.03, 0.9) * clean_run["seconds"]
        outcome = killed_restore(world, mode, point, log)
        point = outcome["kill_after"]
        problems = compare_states(clean, destination_state(world)) if outcome["job_state"] == "succeeded" else \
            [f"job {outcome['job_state']}: {outcome['message']}"]
        if clean.duplicates:
            problems.append(f"the clean run has duplicates: {clean.duplicates}")
        results.append({"trial": number + 1, "kill_after_s": round(point, 2), "killed_in": outcome["killed_in"],
                        "attempts": outcome["attempts"], "resume_s": round(outcome["seconds"], 1),
                        "fidelity": outcome["run_fidelity"], "survived": not problems, "problems": problems[:5]})
        if progress:
            progress(results[-1])
    starts = []
    for phase in START_PHASES:
        outcome = killed_at_start(world, mode, phase, log)
        problems = compare_states(clean, destination_state(world)) if outcome["job_state"] == "succeeded" else \
            [f"job {outcome['job_state']}: {outcome['message']}"]
        starts.append({"kill_at": phase, "killed_in": outcome["killed_in"], "attempts": outcome["attempts"],
                       "fidelity": outcome["run_fidelity"], "survived": not problems, "problems": problems[:5]})
        if progress:
            progress(starts[-1])
    deactivations = []
    for _ in range(deactivation_trials):
        # Early enough that objects remain once the stop check (every PROGRESS_INTERVAL) sees it on a fast site.
        deactivations.append(deactivation_trial(world, mode, rng.uniform(0.05, 0.3), log))
        if progress:
            progress(deactivations[-1])
    survived = sum(r["survived"] for r in results + starts + deactivations)
    return {"trials": n + len(starts) + len(deactivations), "survived": survived, "seed": seed, "mode": mode,
            "random_kills": f"{sum(r['survived'] for r in results)}/{n}",
            "start_kills": f"{sum(r['survived'] for r in starts)}/{len(starts)}",
            "deactivations": f"{sum(r['survived'] for r in deactivations)}/{len(deactivations)}",
            "objects_on_destination": objects, "clean_seconds": round(clean_run["seconds"], 1),
            "clean_fidelity": clean_run["run_fidelity"], "results": results + starts + deactivations,
            "start_kill_points": [f"{r['kill_at']} -> {r['killed_in']}" for r in starts],
            "deactivated_in": [r["deactivated_in"] for r in deactivations]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 trials on the small preset (CI)")
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--preset", default=None)
    parser.add_argument("--mode", choices=("thread", "rq", "both"), default=None)
    parser.add_argument("--seed", type=int, default=None, help="the kill points' seed (default: random, printed)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    preset = args.preset or ("small" if args.quick else "medium")
    modes = {"both": ["thread", "rq"], None: ["thread"] if args.quick else ["thread", "rq"]}.get(
        args.mode, [args.mode])
    # Full: 20 trials of the DB-fed worker, and 5 of the RQ worker (the same code path once a job is claimed).
    per_mode = {"thread": args.trials or (3 if args.quick else 20), "rq": args.trials or (3 if args.quick else 5)}
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    print(f"crash bench: seed {seed}, trials {per_mode}, preset {preset}, modes {modes}", file=sys.stderr,
          flush=True)
    figures: dict[str, Any] = {"bench": "crash", "preset": preset, "seed": seed, "trials": 0, "survived": 0}
    log = Path(tempfile.mkdtemp(prefix="crash-bench-")) / "worker.log"
    for mode in modes:
        db_url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'crash.sqlite3'}"
        with recovery_world(db_url, preset) as world:
            got = trials(world, per_mode[mode], seed, mode, log,
                         progress=lambda r: print(json.dumps(r), file=sys.stderr, flush=True),
                         deactivation_trials=1 if args.quick else 2)
        figures["trials"] += got["trials"]
        figures["survived"] += got["survived"]
        figures[mode] = {k: v for k, v in got.items() if k != "results"}
        figures[mode]["failed_trials"] = [r for r in got["results"] if not r["survived"]]
        figures[mode]["kill_points"] = [r["killed_in"] for r in got["results"] if "trial" in r]
    figures["survived_over_trials"] = f"{figures['survived']}/{figures['trials']}"
    figures["database"] = (args.database_url or "sqlite").split(":")[0]
    print(f"survived {figures['survived_over_trials']} (seed {seed}); worker log {log}", file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
