"""Restore benchmark: writes per object, wall time vs the critical-path lower bound, 429 share, second-run writes.

Seeds an emulated source with the generator's ``large`` preset (``small`` with ``--quick``, or ``--preset``), backs it
up with the real backup job, and restores the snapshot with the real preview and restore jobs into an empty emulated
destination (OAuth grants on both sides, tokens from the emulator's control API as a completed consent gives them)
whose latency is 50 ms, with an hourly points quota and the per-endpoint burst limit on. Then restores the same
snapshot again: a second identical run should write nothing. Prints one JSON line.

What runs where (``--emulator``): in ``process`` mode (default) the app runs here and the emulated Jira in its own
process (``bench/remote_cloud.py``), as real Jira is another machine: the emulator's spec validation costs as much CPU
as the app, and sharing a GIL with it would inflate every round trip and judge the app against Jira's CPU.
``app_cpu_seconds`` (this process during the first restore job) is then the app's alone, ``emulator_cpu_seconds`` the
emulator's. ``thread`` mode is the old set-up, kept for comparison: the emulator is served by threads of this process
(``cpu_seconds`` is then app + emulator, ``app_cpu_seconds`` null). Either way the emulator is driven through its
control API only (call log, quota points per template, violations), so counts don't depend on where it runs.

Jira's points (1 a request plus 1 an object read; the emulator counts them on each site): ``points`` is the first
run's preview and restore on the destination; ``minimum_points`` is its writes plus one read of the restored
configuration, which is what the source's backup read (``backup_points``, counted by the emulator; the app's own count
of that job, ``backup_points_app``, is printed beside it). ``points_ratio`` is the one over the other. ``job_points``
splits the app's count of each job by phase (plan, write, verify); ``write_phase_read_points`` is what the write phase
read besides its writes. ``least_windows`` is how many hourly windows the minimum takes at ``--quota``; ``windows``
how many the two jobs took. The second run is judged against one read of the destination as it is after both runs
(``destination_read_points``: a backup of it, counted by the emulator): ``second_run_points_ratio``.

Writes per object, two denominators (both printed):
  * ``writes_per_entity`` (judged against the issue's ≤ 1.05: "objects to create" counted as Jira counts objects):
    writes ÷ every Jira entity or setting that needs creating and that Jira keeps apart from
    its parent's create body: the objects themselves, plus options, tabs, tab-field placements, versions,
    components, gadgets, a project's role-actor sets, a role's default actors, a context's default value, a field
    configuration's item settings, a field configuration scheme's mappings, and a filter's owner when it isn't the
    restoring admin (see ``entities``). Options go in up to 1,000 a request, so this ratio may fall below 1;
    ``writes_per_entity_without_options`` leaves them out (no bulk write flatters it).
  * ``writes_per_object``: writes ÷ the top-level catalogue objects the plan creates (one screen, one project, one
    field context...), whatever they hold. It can't come near 1: Jira has no bulk create for a screen's tab fields,
    a project's versions and components or a dashboard's gadgets, so a screen with 15 fields takes 16 writes.
``writes_by_kind`` and ``writes_by_type`` say where the writes go: ``create`` (the object's own create), ``validation``
(a write-method request that changes nothing, e.g. a workflow validation), ``sub-object create`` (tabs, fields on tabs,
options, versions, components, gadgets), ``association`` (role actors, scheme mappings, context issue types),
``update-after-create`` (what the create body can't carry: a tab's name, an owner, a default, orders, item settings)
and ``update`` (an existing destination object brought in line).

The lower bound. Every write is a request and costs at least one latency, so the restore can't finish before
  * the longest dependency chain of writes: the heaviest path through the plan's graph, each object weighted by the
    writes it made (a field's create, context and options are sequential within it), times the latency; nor before
  * total writes x latency / concurrency: ``concurrency`` workers can keep at most that many requests in flight.
The lower bound is the larger of the two. It ignores reads, the app's own CPU time and the rate limits, so a ratio
near 1 means the executor keeps its workers busy on writes. ``wall_ratio`` compares it with the executor's run (the
writes phase); ``job_wall_ratio`` with the whole restore job (which also plans against the destination and verifies
it afterwards, both reads). Per-object write counts come from wrapping the paced access in this process only.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.remote_cloud import MODES, RemoteCloud  # noqa: E402

WRITE_METHODS = ("POST", "PUT", "DELETE")
# Jira's observed tenant quota (points per hour; reference README), and a per-endpoint+method burst bucket.
QUOTA = 100100
# Jira doesn't publish its burst limits; 50 requests/s per endpoint+method with one second's worth of burst (the
# shape of Atlassian's Data Center limiter): four workers at 50 ms reach it only when three or more share an endpoint.
BURST_RATE = 50.0
SCOPES = ["read:jira-work", "write:jira-work", "manage:jira-configuration", "manage:jira-project", "read:jira-user"]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 1)


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


# Follow-up writes that create a child entity, and those that link the object to others; any other follow-up write
# is an update-after-create.
SUB_OBJECT_CREATES = frozenset({
    "POST /rest/api/3/screens/{screenId}/tabs", "POST /rest/api/3/screens/{screenId}/tabs/{tabId}/fields",
    "POST /rest/api/3/field/{fieldId}/context/{contextId}/option", "POST /rest/api/3/version",
    "POST /rest/api/3/component", "POST /rest/api/3/dashboard/{dashboardId}/gadget"})
ASSOCIATIONS = frozenset({
    "PUT /rest/api/3/project/{projectIdOrKey}/role/{id}", "POST /rest/api/3/role/{id}/actors",
    "PUT /rest/api/3/fieldconfigurationscheme/{id}/mapping", "PUT /rest/api/3/priorityscheme/{schemeId}",
    "PUT /rest/api/3/field/{fieldId}/context/{contextId}/issuetype"})
NO_CHANGE = frozenset({"POST /rest/api/3/workflows/create/validation"})


def write_kind(phase: str | None, method: str, template: str) -> str:
    name = f"{method.upper()} {template}"
    if name in NO_CHANGE:
        return "validation"
    if phase == "create":
        return "create"
    if phase == "follow-up":
        return ("sub-object create" if name in SUB_OBJECT_CREATES else "association" if name in ASSOCIATIONS
                else "update-after-create")
    return phase or "other"


def entities(type_key: str, obj: dict[str, Any], admin: str) -> Counter[str]:
    """The Jira entities and settings creating this snapshot object needs written (the docstring's list)."""
    from app.restore.types.screens import _item_look, _plain

    out: Counter[str] = Counter(object=1)
    if type_key == "screens":
        out["tab"] += len(obj.get("tabs") or [])
        out["tab-field placement"] += sum(len(t.get("fields") or []) for t in obj.get("tabs") or [])
    elif type_key == "fieldContexts":
        out["option"] += len(obj.get("options") or [])
        out["context default"] += 1 if obj.get("defaultValue") else 0
    elif type_key == "projects":
        out["component"] += len(obj.get("components") or [])
        out["version"] += len(obj.get("versions") or [])
        out["role-actor set"] += sum(1 for r in obj.get("roleActors") or []
                                     if r.get("name") != "atlassian-addons-project-access")
    elif type_key == "dashboards":
        out["gadget"] += len(obj.get("gadgets") or [])
    elif type_key == "fieldConfigurations":
        out["item settings"] += 1 if any(not _plain(_item_look(i)) for i in obj.get("items") or []) else 0
    elif type_key == "fieldConfigurationSchemes":
        out["scheme mappings"] += 1 if obj.get("mappings") else 0
    elif type_key == "projectRoles":
        out["default actors"] += 1 if obj.get("actors") else 0
    elif type_key == "filters":
        owner = (obj.get("owner") or {}).get("accountId")
        out["owner"] += 1 if owner and owner != admin else 0
    return +out


class Probe:
    """Counts, per plan item, the writes its worker made (by kind) and the time it took (by wrapping the engine
    in-process)."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.writes: Counter[tuple[str, str]] = Counter()
        self.kinds: Counter[tuple[str, str]] = Counter()  # (type, write kind) -> writes
        self.reads: Counter[tuple[str, str]] = Counter()
        self.seconds: dict[tuple[str, str], float] = {}
        self.plans: list[Any] = []
        self.run_seconds: list[float] = []
        self.window: tuple[float, float | None] = (0.0, None)

    def install(self) -> None:
        from app.restore import engine, pacing

        probe = self
        original_one, original_run, original_call = engine.Executor._one, engine.Executor.run, \
            pacing.PacedAccess.call
        original_paginate = pacing.PacedAccess.paginate
        original_create, original_follow_up = engine.Executor._create, engine.Executor._follow_up

        def phase(name: str, original: Any) -> Any:
            def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
                previous, probe.local.phase = getattr(probe.local, "phase", None), name
                try:
                    return original(self, *args, **kwargs)
                finally:
                    probe.local.phase = previous
            return wrapped

        def one(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
            probe.local.key = item.key
            probe.local.phase = "update" if item.action == "update" else None
            started = time.monotonic()
            try:
                return original_one(self, item, *args, **kwargs)
            finally:
                with probe.lock:
                    probe.seconds[item.key] = probe.seconds.get(item.key, 0.0) + time.monotonic() - started
                probe.local.key = None

        def run(self: Any, plan: Any) -> Any:
            probe.plans.append(plan)
            started, probe.window = time.monotonic(), (time.time(), None)
            try:
                return original_run(self, plan)
            finally:
                probe.run_seconds.append(time.monotonic() - started)
                probe.window = (probe.window[0], time.time())

        def call(self: Any, op: Any, **kwargs: Any) -> Any:
            key = getattr(probe.local, "key", None)
            if key is not None:
                with probe.lock:
                    if op.method.upper() in WRITE_METHODS:
                        probe.writes[key] += 1
                        kind = write_kind(getattr(probe.local, "phase", None), op.method, op.template)
                        probe.kinds[(key[0], kind)] += 1
                    else:
                        probe.reads[key] += 1
            return original_call(self, op, **kwargs)

        def paginate(self: Any, op: Any, **kwargs: Any) -> Any:
            key = getattr(probe.local, "key", None)
            if key is not None:
                with probe.lock:
                    probe.reads[key] += 1  # a paged read inside an object's work (counted once, not per page)
            return original_paginate(self, op, **kwargs)

        engine.Executor._one, engine.Executor.run, pacing.PacedAccess.call = one, run, call
        engine.Executor._create = phase("create", original_create)
        engine.Executor._follow_up = phase("follow-up", original_follow_up)
        pacing.PacedAccess.paginate = paginate

    def reset(self) -> None:
        self.writes.clear()
        self.kinds.clear()
        self.reads.clear()
        self.seconds.clear()
        self.plans.clear()
        self.run_seconds.clear()


def critical_path(plan: Any, weight: dict[tuple[str, str], Any]) -> Any:
    """The heaviest dependency chain of the plan's graph, each item weighted by its writes."""
    sorter = plan.order()
    longest: dict[tuple[str, str], int] = {}
    graph = {item.key: [(r.type_key, r.source_id) for r in item.refs] for item in plan.selected()}
    while sorter.is_active():
        for key in sorter.get_ready():
            deps = [longest[d] for d in graph.get(key, []) if d in longest]
            longest[key] = weight.get(key, 0) + max(deps, default=0)
            sorter.done(key)
    return max(longest.values(), default=0)


def skip_window(app: Any) -> None:
    """The hour the bench doesn't wait, on the app's side: its quota clock moves on one window, so the ledger, which
    holds the site to the quota it learned from Jira's headers, starts a fresh window as the emulator's refill does."""
    from app.quota.budget import budget_for

    budget = budget_for(app)
    if budget is None:
        return
    before, shift = budget.clock, float(budget.window)
    budget.clock = lambda: before() + shift


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small preset, seconds (CI)")
    parser.add_argument("--preset", choices=("small", "medium", "large"), help="generator preset (default large)")
    parser.add_argument("--emulator", choices=MODES, default="process",
                        help="run the emulated Jira in its own process (default) or in threads of this one")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--quota", type=int, default=QUOTA, help="points per hour on the destination")
    parser.add_argument("--burst-rate", type=float, default=BURST_RATE, help="per endpoint+method, requests/s")
    parser.add_argument("--burst-capacity", type=float, default=BURST_RATE)
    parser.add_argument("--rate", type=float, default=None, help="RESTORE_RATE_PER_SECOND (default: the app's)")
    parser.add_argument("--quota-waits", choices=("skip", "stop"), default="skip",
                        help="when a job waits for the next hourly window: refill the quota and go on (counted in "
                             "quota_windows), or stop and report the wait")
    parser.add_argument("--profile", type=Path, default=None, help="write per-type timings/writes here (JSON)")
    args = parser.parse_args()

    from cryptography.fernet import Fernet
    from sqlalchemy import select

    from app import create_app
    from app.backups.service import start_backup
    from app.extensions import db
    from app.jira.access import Credential, oauth_allows
    from app.jira.client import JiraClient, RetryPolicy
    from app.jobs.models import Job
    from app.jobs.runtime import run_job
    from app.recovery.connections import activate, generate_token
    from app.restore import service
    from app.restore.models import RestoreItem, RestoreRun
    from app.restore.plan import Selection
    from app.tenants import Tenant
    from fakejira.loopback import serve

    logging.disable(logging.INFO)  # the client logs every request: a large run would print hundreds of thousands
    probe = Probe()
    probe.install()
    tmp = Path(tempfile.mkdtemp())
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
              "SCHEMA_CHECK": False, "AUTO_MIGRATE": False, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
              "JOBS_MODE": "manual", "BACKUP_CONCURRENCY": args.concurrency,
              "RESTORE_CONCURRENCY": args.concurrency}
    if args.rate is not None:
        config["RESTORE_RATE_PER_SECOND"] = args.rate
    app = create_app(config)
    with app.app_context():
        db.create_all()
    preset = args.preset or ("small" if args.quick else "large")
    source, dest = "benchsrc", "benchdst"  # site names
    granted: dict[int, Callable[[], Credential]] = {}
    app.extensions["wiring"].credential_sources.append(
        lambda tenant: granted[tenant.id]() if tenant.id in granted else None)

    def grant(cloud: RemoteCloud, site: str, tenant_id: int) -> None:
        tokens = cloud.oauth_token(site, SCOPES)  # the site admin's consent
        gateway, bearer = cloud.site(site).gateway_url, _Bearer(tokens["access_token"])

        def credential() -> Credential:
            # A client per access, as the app's own OAuth source makes one (app/oauth/credential.py): a client made
            # inside a job counts its requests in the job's points; one made once out here counted none of them.
            jira = JiraClient(gateway, bearer, retry=RetryPolicy(max_retries=4, base_delay=0.5, max_retry_after=60),
                              label="oauth-bench")
            return Credential("oauth", jira, oauth_allows(set(SCOPES)))

        granted[tenant_id] = credential

    quota_windows: Counter[int] = Counter()  # per job: hourly windows it needed beyond the first (waits skipped)

    def run_to_end(job_id: int) -> str:
        state = run_job(job_id)
        for _ in range(50):  # a rate-limit wait requeues the job (RetryLater): a short one is cut and run again
            if state != "queued":
                break
            job = db.session.get(Job, job_id, populate_existing=True)
            wait = (job.not_before - datetime.now(UTC).replace(tzinfo=None)).total_seconds() if job.not_before else 0
            if wait > 120:
                # The hourly quota is spent: the job would wait for the next window. The bench doesn't wait the
                # hour: it refills the quota (as the window's turn would) and counts the window.
                if args.quota_waits == "stop":
                    return f"waiting {wait:.0f} s: {job.message}"
                cloud.refill_quota(dest)
                skip_window(app)  # the app's ledger holds the limit it learned: its hour passes too
                quota_windows[job_id] += 1
            db.session.execute(db.update(Job).where(Job.id == job_id).values(not_before=None))
            db.session.commit()
            state = run_job(job_id)
        return state

    def writes(calls: list[Any]) -> list[Any]:
        return [c for c in calls if c.method in WRITE_METHODS and not c.path.startswith("/_emulator")]

    with RemoteCloud({source: f"preset:{preset}", dest: None}, mode=args.emulator) as cloud, serve(app) as url:
        app.config["BASE_URL"] = url
        app.config["CONNECT_INSTALL_KEYS_URL"] = cloud.install_keys_url
        source_key = cloud.install(source, url + "/atlassian-connect.json")
        dest_key = cloud.install(dest, url + "/atlassian-connect.json")
        # the new site's admin has invited the lost site's people: apps can't create accounts
        cloud.seed(dest, {"users": cloud.export(source)["users"]})
        admin = cloud.site(dest).admin_account_id
        with app.app_context():
            src = db.session.scalars(select(Tenant).where(Tenant.client_key == source_key)).one()
            dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest_key)).one()
            activate(dst, admin, generate_token(src, cloud.site(source).admin_account_id).token, src.base_url)
            src_id, dst_id = src.id, dst.id
        grant(cloud, source, src_id)
        grant(cloud, dest, dst_id)
        started = time.monotonic()
        cloud.clear_points(source)
        with app.app_context():
            job, _ = start_backup(db.session.get(Tenant, src_id), "bench")
            assert run_to_end(job.id) == "succeeded", db.session.get(Job, job.id).message
            snapshot_id = int(db.session.get(Job, job.id, populate_existing=True).result["snapshot_id"])
            backup_points_app = int(db.session.get(Job, job.id).points.get("points") or 0)
        # One read of the source's configuration, counted by the emulator as the restore's points are (the app's own
        # count of the same job is printed beside it: they should agree)
        backup_points = sum(cloud.points(source).values())
        backup_seconds = time.monotonic() - started
        print(f"backup done in {backup_seconds:.0f} s", file=sys.stderr, flush=True)
        # Quota points charged on the destination per request template: the emulator counts them (GET points).
        cloud.set_limits(dest, latency=args.latency, quota=args.quota, burst_rate=args.burst_rate,
                         burst_capacity=args.burst_capacity)
        runs = []
        for attempt in range(2):
            probe.reset()
            cloud.clear_calls(dest)
            cloud.clear_points(dest)
            with app.app_context():
                started = time.monotonic()
                run = service.start_preview(db.session.get(Tenant, dst_id), snapshot_id, admin)
                assert run_to_end(run.job_id) == "succeeded", db.session.get(Job, run.job_id).message
                preview_seconds = time.monotonic() - started
                preview_windows = quota_windows[run.job_id]
                preview_job_points = db.session.get(Job, run.job_id, populate_existing=True).points or {}
                run_id = run.id
                to_create = db.session.scalar(select(db.func.count()).select_from(RestoreItem).where(
                    RestoreItem.run_id == run_id, RestoreItem.selected.is_(True), RestoreItem.action == "create"))
                preview_calls = cloud.call_count(dest)
                preview_points = sum(cloud.points(dest).values())
                cloud.clear_points(dest)
                print(f"run {attempt}: preview done in {preview_seconds:.0f} s, {to_create} to create",
                      file=sys.stderr, flush=True)
                cloud.clear_calls(dest)
                cpu_before, emulator_before = _cpu_seconds(), cloud.emulator_cpu_seconds()
                started = time.monotonic()
                run = service.start_restore(db.session.get(Tenant, dst_id), run_id, Selection(), "admin", admin)
                state = run_to_end(run.job_id)
                job_seconds = time.monotonic() - started
                restore_windows = quota_windows[run.job_id]
                restore_job_points = db.session.get(Job, run.job_id, populate_existing=True).points or {}
                cpu, emulator_cpu = _cpu_seconds() - cpu_before, _delta(emulator_before, cloud.emulator_cpu_seconds())
                done = db.session.get(RestoreRun, run_id, populate_existing=True)
                items = db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run_id,
                                                                     RestoreItem.selected.is_(True))).all()
                failures = Counter(i.type_key for i in items if i.outcome in ("failed", "incomplete", "pending",
                                                                             "creating"))
                outcomes = Counter(i.outcome for i in items)
                failed_reasons = Counter((i.type_key, (i.reason or "")[:120]) for i in items
                                         if i.outcome in ("failed", "incomplete"))
            calls = cloud.calls(dest)
            made = writes(calls)
            points = cloud.points(dest)
            print(f"run {attempt}: restore {state} in {job_seconds:.0f} s, {len(made)} writes", file=sys.stderr,
                  flush=True)
            start, end = probe.window
            inside = [c for c in calls if start <= c.timestamp <= (end or start)]
            runs.append({
                "preview_points": preview_points, "restore_points": sum(points.values()),
                # the app's own count (the job rows): per phase, and per endpoint where the points went
                "job_points": {"preview": _phases(preview_job_points), "restore": _phases(restore_job_points)},
                "restore_points_by_endpoint": Counter(restore_job_points.get("byEndpoint") or {}).most_common(30),
                "preview_points_by_endpoint": Counter(preview_job_points.get("byEndpoint") or {}).most_common(30),
                "cpu": cpu, "emulator_cpu": emulator_cpu,
                "quota_windows": {"preview": preview_windows, "restore": restore_windows},
                "points_by_template": points.most_common(12),
                "run_calls": Counter(c.method if c.status != 429 else "429" for c in inside),
                "mean_in_flight": round(sum(c.duration_ms for c in inside) / 1000 / max(1e-9, (end or start) - start),
                                        2),
                "attempt": attempt, "state": state, "status": done.status, "fidelity": done.fidelity,
                "unexplained": (done.verification or {}).get("unexplained"),
                "objects": len(items), "to_create": to_create, "writes": len(made), "calls": len(calls),
                "preview_calls": preview_calls, "preview_seconds": preview_seconds,
                "rate_limited": sum(1 for c in calls if c.status == 429), "job_seconds": job_seconds,
                "writes_by_status": Counter("2xx" if c.status < 400 else str(c.status) for c in made),
                "run_seconds": sum(probe.run_seconds), "failures": dict(failures), "outcomes": dict(outcomes),
                "failed_reasons": [f"{t}: {r} (x{n})" for (t, r), n in failed_reasons.most_common(8)],
                "entities": _entities(probe.plans[-1], admin) if probe.plans else Counter(),
                "writes_by_kind": _by_kind(probe.kinds), "writes_by_type": _by_type(probe.kinds),
                "critical_writes": critical_path(probe.plans[-1], probe.writes) if probe.plans else 0,
                "probe_writes": sum(probe.writes.values()),
                # the same chain weighted by the seconds each object's worker took (reads, retries and waits too)
                "critical_seconds": round(critical_path(probe.plans[-1], probe.seconds), 2) if probe.plans else 0,
                "type_profile": _type_profile(items, probe), "write_templates": Counter(
                    f"{c.method} {c.template}" for c in made).most_common(12),
            })
            if state != "succeeded":  # waiting for the next quota window: a second run can't start meanwhile
                runs.append({"writes": None, "rate_limited": None})
                break
        # One read of the destination as it is now (after both runs): a backup of it, counted by the emulator. The
        # second run's target is against this (a run with nothing to do reads the destination once and stops).
        cloud.clear_points(dest)
        with app.app_context():
            job, _ = start_backup(db.session.get(Tenant, dst_id), "bench")
            assert run_to_end(job.id) == "succeeded", db.session.get(Job, job.id).message
        destination_read_points = sum(cloud.points(dest).values())
        found = cloud.violations()
        violations = len(found)
        violation_list = Counter(f"{v.kind} {v.method} {v.template}: {'; '.join(v.messages)[:160]}"
                                 for v in found).most_common(10)
    first, second = runs
    lat, conc = args.latency, args.concurrency
    lower = max(first["critical_writes"] * lat, first["writes"] * lat / conc)
    figures = {
        "preset": preset, "emulator": args.emulator, "objects": first["objects"],
        "objects_to_create": first["to_create"],
        "writes": first["writes"], "writes_per_object": round(first["writes"] / max(1, first["to_create"]), 3),
        "entities_to_create": sum(first["entities"].values()),
        "writes_per_entity": round(first["writes"] / max(1, sum(first["entities"].values())), 3),
        # the same without options (created up to 1,000 a request): no bulk write flatters this one
        "writes_per_entity_without_options": round(first["writes"] / max(1, sum(
            n for kind, n in first["entities"].items() if kind != "option")), 3),
        "entities_by_kind": dict(first["entities"].most_common()),
        "writes_by_kind": first["writes_by_kind"], "writes_by_type": first["writes_by_type"],
        "wall_seconds": round(first["run_seconds"], 2), "job_wall_seconds": round(first["job_seconds"], 2),
        "lower_bound_seconds": round(lower, 2), "critical_path_writes": first["critical_writes"],
        "wall_ratio": round(first["run_seconds"] / max(lower, 1e-9), 3),
        "job_wall_ratio": round(first["job_seconds"] / max(lower, 1e-9), 3),
        # CPU of this process during the first restore job (the app alone in process mode), and the emulator's
        "cpu_seconds": round(first["cpu"], 1),
        "app_cpu_seconds": round(first["cpu"], 1) if args.emulator == "process" else None,
        "emulator_cpu_seconds": first["emulator_cpu"],
        "calls": first["calls"], "rate_limited": first["rate_limited"],
        "rate_limited_ratio": round(first["rate_limited"] / max(1, first["calls"]), 4),
        "writes_by_status": first["writes_by_status"],
        "quota_points": first["preview_points"] + first["restore_points"],
        # points of the preview and the restore against the minimum: the writes, plus one read of what the destination
        # holds and one of what the restore created - together one read of the restored configuration, which is what
        # the source's backup read (its points, as the app counted them)
        "points": first["preview_points"] + first["restore_points"],
        "minimum_points": first["writes"] + backup_points,
        "points_ratio": round((first["preview_points"] + first["restore_points"])
                              / max(1, first["writes"] + backup_points), 3),
        "backup_points": backup_points, "backup_points_app": backup_points_app,
        "write_phase_read_points": first["job_points"]["restore"].get("write", 0) - first["writes"],
        "job_points": first["job_points"],
        # the hourly windows the least points take at this quota, and the windows the two jobs took (the first
        # window plus those they waited for)
        "least_windows": math.ceil((first["writes"] + backup_points) / args.quota),
        "windows": 1 + sum(first["quota_windows"].values()),
        "second_run_points": (second.get("preview_points") or 0) + (second.get("restore_points") or 0),
        "destination_read_points": destination_read_points,
        "second_run_points_ratio": round(((second.get("preview_points") or 0) + (second.get("restore_points") or 0))
                                         / max(1, destination_read_points), 3),
        "second_run_writes": second["writes"], "second_run_rate_limited": second["rate_limited"],
        # hourly windows beyond the first each job needed (the waits were skipped by refilling the quota)
        "quota_windows": first["quota_windows"], "second_run_quota_windows": second.get("quota_windows"),
        "state": first["state"], "status": first["status"], "fidelity": first["fidelity"],
        "unexplained": first["unexplained"],
        "outcomes": first["outcomes"],
        "failures_by_type": first["failures"], "spec_violations": violations,
        "backup_seconds": round(backup_seconds, 1), "preview_seconds": round(first["preview_seconds"], 2),
        "latency": lat, "concurrency": conc, "quota": args.quota, "burst_rate": args.burst_rate,
        "burst_capacity": args.burst_capacity,
    }
    if args.profile is not None:
        args.profile.write_text(json.dumps({"figures": figures, "runs": runs, "violations": violation_list},
                                           indent=1, default=str))
    print(json.dumps(figures))


def _phases(points: dict[str, Any]) -> dict[str, int]:
    """A job's points per phase (plan, write, verify), as the app counted them."""
    return {phase: int(n) for phase, n in (points.get("byPhase") or {}).items()}


def _entities(plan: Any, admin: str) -> Counter[str]:
    """Entities and settings to create over the plan's selected creates (``entities``)."""
    out: Counter[str] = Counter()
    for item in plan.selected():
        if item.action == "create":
            out += entities(item.type_key, plan.objects[item.key], admin)
    return out


def _by_kind(kinds: Counter[tuple[str, str]]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for (_type, kind), n in kinds.items():
        out[kind] += n
    return dict(out.most_common())


def _by_type(kinds: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (type_key, kind), n in sorted(kinds.items()):
        out.setdefault(type_key, {})[kind] = n
    return dict(sorted(out.items(), key=lambda kv: -sum(kv[1].values())))


def _type_profile(items: list[Any], probe: Probe) -> dict[str, dict[str, float]]:
    """Per type: items, writes made, worker seconds (summed over objects) — where the time goes."""
    out: dict[str, dict[str, float]] = {}
    for item in items:
        key = (item.type_key, item.source_id)
        row = out.setdefault(item.type_key, {"items": 0, "writes": 0, "reads": 0, "seconds": 0.0})
        row["items"] += 1
        row["writes"] += probe.writes.get(key, 0)
        row["reads"] += probe.reads.get(key, 0)
        row["seconds"] = round(row["seconds"] + probe.seconds.get(key, 0.0), 2)
    return out


if __name__ == "__main__":
    main()
