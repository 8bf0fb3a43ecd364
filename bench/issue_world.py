"""The issue benches' world: an emulated source (an issue preset) and destination in the emulator's own process, the
app installed on both by signed installs, linked by an Active connection, OAuth grants stored as the consent flow
stores them, and every job run in a worker process of its own, whose peak RSS is the app's.

    with issue_world("issues-medium-50mb") as world:
        job_id = world.start_backup()
        run = world.run_job(job_id, site="src")   # a burst worker; its VmHWM; quota waits refilled and counted

Jobs run in ``flask --app app worker --burst`` (the Procfile's worker, DB-fed) on the bench's database, so neither
the emulator (its own process) nor this process's own bookkeeping (exports, verification) is in the figure. When the
emulator's hourly quota is spent, the job is requeued for the next window: the bench doesn't wait the hour, it
refills the site's quota (as the window's turn would) and counts the window.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.crash_bench import CLASSIC_SCOPES, TERMINAL, Worker, job_row  # noqa: E402
from bench.memory_bench import high_water_kb  # noqa: E402
from bench.remote_cloud import RemoteCloud  # noqa: E402

QUOTA = 100100  # Jira's observed tenant quota, points per hour (as bench/restore_bench.py)
IMPERSONATION_PATH = "/oauth-2-authorization-server"  # the emulator's Connect impersonation server, on its platform
LONG_WAIT = 120  # seconds: a requeue longer than this is the hourly quota's
UNREAD_SETTINGS = ("CONNECT_IMPERSONATION_URL", "ISSUE_IDSET_DAYS", "ISSUE_OVERLAP_MINUTES", "BACKUP_ISSUES")


class BenchFailed(RuntimeError):
    """A job of the bench ended otherwise than it must (the message says which and why)."""


@dataclass
class JobRun:
    """One job run to its end in burst workers: its state, the workers' peak RSS, seconds, quota windows."""

    job_id: str
    state: str
    message: str | None
    peak_rss_mb: float
    seconds: float
    quota_windows: int
    attempts: int


@dataclass
class IssueWorld:
    """What the issue benches drive (see the module docstring)."""

    app: Any
    cloud: RemoteCloud
    source_id: int
    dest_id: int | None
    admin: str  # the destination's admin (who restores)
    db_url: str
    env: dict[str, str]
    log: Path
    app_spec: str = "app"  # ``flask --app``: the factory with the settings the environment can't carry
    snapshot_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- jobs ------------------------------------------------------------------------------------------------------
    def start_backup(self) -> str:
        from app.backups.service import start_backup
        from app.extensions import db
        from app.tenants import Tenant

        with self.app.app_context():
            job, _ = start_backup(db.session.get(Tenant, self.source_id), "bench")
            return str(job.id)

    def run_job(self, job_id: str, *, site: str) -> JobRun:
        """Run a queued job in burst workers to its end (quota waits skipped by refilling ``site``'s quota)."""
        from app.extensions import db
        from app.jobs.models import Job

        started, peak, windows = time.monotonic(), 0.0, 0
        while True:
            peak = max(peak, self.burst_worker())
            with self.app.app_context():
                job = job_row(job_id)
                if job.state in TERMINAL:
                    return JobRun(job_id, job.state, job.message, round(peak, 1), time.monotonic() - started,
                                  windows, job.attempts)
                if job.state != "queued":
                    raise BenchFailed(f"job {job_id} is {job.state} after its worker ended: {job.message}")
                wait = (job.not_before - datetime.now(UTC).replace(tzinfo=None)).total_seconds() \
                    if job.not_before else 0
                if wait > LONG_WAIT:
                    self.cloud.refill_quota(site)
                    windows += 1
                db.session.execute(db.update(Job).where(Job.id == job_id).values(not_before=None))
                db.session.commit()

    def burst_worker(self) -> float:
        """One ``worker --burst`` to its end; its peak RSS in MB (``VmHWM``, read while it runs)."""
        env = {**self.env, "JOBS_MODE": "thread", "JOBS_SWEEPER": "0"}
        peak = 0
        with open(self.log, "ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", self.app_spec, "worker", "--burst"],
                                    cwd=str(ROOT), env=env, stdout=out, stderr=out)
            while proc.poll() is None:
                peak = max(peak, high_water_kb(proc.pid) or 0)
                time.sleep(0.02)
        if proc.returncode != 0:
            raise BenchFailed(f"the worker exited with {proc.returncode}; see {self.log}")
        return peak / 1024

    def snapshot_of(self, job_id: str) -> int:
        with self.app.app_context():
            return int(job_row(job_id).result["snapshot_id"])

    def job_points(self, job_id: str) -> dict[str, Any]:
        """The app's own meter of the job (``Job.points``: total, by endpoint)."""
        with self.app.app_context():
            return dict(job_row(job_id).points or {})

    # -- the destination -------------------------------------------------------------------------------------------
    def reset_destination(self) -> None:
        """An empty destination with the lost site's people again (the app stays installed)."""
        self.cloud._request("POST", "dst", "reset", body={"seed": {"users": self.extra["users"]}})


class AppWorker(Worker):
    """``crash_bench.Worker`` (started and SIGKILLed by id) on the world's app factory (``IssueWorld.app_spec``)."""

    def __init__(self, world: IssueWorld) -> None:
        super().__init__(world, "thread", log=world.log)  # type: ignore[arg-type]  (it reads .env only)
        self.app_spec = world.app_spec

    def start(self) -> None:
        with open(self.log or os.devnull, "ab") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", self.app_spec, "worker"],
                                         cwd=str(ROOT), env=self.env, stdout=out, stderr=out)


def _scopes() -> list[str]:
    from app.oauth.flow import requested_scopes

    return sorted(set(CLASSIC_SCOPES) | set(requested_scopes()))


def _grant(cloud: RemoteCloud, site: str, tenant: Any) -> dict[str, Any]:
    """Store the OAuth grant a completed consent of the site's admin gives; the token answer (with its client)."""
    from app.oauth.flow import save_grant
    from app.oauth.tokens import TokenSet

    scopes = _scopes()
    tokens = cloud.oauth_token(site, scopes)
    remote = cloud.site(site)
    save_grant(tenant, remote.admin_account_id, remote.cloud_id, remote.base_url,
               TokenSet(tokens["access_token"], tokens.get("refresh_token"), int(tokens.get("expires_in", 3600)),
                        tuple(scopes)))
    return tokens


@contextmanager
def issue_world(preset: str, *, destination: bool = True, db_url: str | None = None,
                config: dict[str, Any] | None = None) -> Iterator[IssueWorld]:
    """Build and serve the world (see the module docstring); the source is generated in the emulator's process."""
    from cryptography.fernet import Fernet
    from sqlalchemy import select

    from app import create_app
    from app.backups.schedule import configure
    from app.extensions import db
    from app.recovery.connections import activate, generate_token
    from app.tenants import Tenant
    from fakejira.loopback import serve

    logging.disable(logging.INFO)
    tmp = Path(tempfile.mkdtemp(prefix="issue-bench-"))
    db_url = db_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    sites: dict[str, Any] = {"src": f"preset:{preset}"}
    if destination:
        sites["dst"] = None
    key = Fernet.generate_key().decode()
    with ExitStack() as stack:
        cloud = stack.enter_context(RemoteCloud(sites, ready_timeout=900))
        settings = {"ATLASSIAN_AUTH_URL": cloud.platform_url, "ATLASSIAN_API_URL": cloud.platform_url,
                    "CONNECT_IMPERSONATION_URL": cloud.platform_url + IMPERSONATION_PATH}
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SCHEMA_CHECK": False,
                          "AUTO_MIGRATE": False, "ENCRYPTION_KEYS": key, "JOBS_MODE": "manual",
                          "JIRA_RETRY_BASE_DELAY": 0.05, "JIRA_MAX_RETRY_WAIT": 5, **settings, **(config or {})})
        with app.app_context():
            db.drop_all()
            db.create_all()
        url = stack.enter_context(serve(app))
        app.config["BASE_URL"] = url
        app.config["CONNECT_INSTALL_KEYS_URL"] = cloud.install_keys_url
        keys = {name: cloud.install(name, url + "/atlassian-connect.json") for name in sites}
        export = cloud.export("src")  # this process's memory isn't measured: the jobs run in workers
        users = export["users"]
        if destination:
            # the new site's admin has invited the lost site's people: apps can't create accounts
            cloud.seed("dst", {"users": users})
        with app.app_context():
            tenants = {name: db.session.scalars(select(Tenant).where(Tenant.client_key == k)).one()
                       for name, k in keys.items()}
            tokens = {name: _grant(cloud, name, tenant) for name, tenant in tenants.items()}
            for tenant in tenants.values():
                configure(tenant, enabled=False)  # no scheduled backup may start inside a bench's worker
            admin = cloud.site("dst").admin_account_id if destination else cloud.site("src").admin_account_id
            if destination:
                src = tenants["src"]
                activate(tenants["dst"], admin, generate_token(src, cloud.site("src").admin_account_id).token,
                         src.base_url)
            ids = {name: tenant.id for name, tenant in tenants.items()}
            db.session.commit()
        # A refresh goes to the integration of the site the longest job runs against (the destination's).
        client = tokens["dst" if destination else "src"]
        settings.update(ATLASSIAN_OAUTH_CLIENT_ID=client["client_id"],
                        ATLASSIAN_OAUTH_CLIENT_SECRET=client["client_secret"])
        app.config.update(settings)
        env = {**os.environ, "DATABASE_URL": db_url, "ENCRYPTION_KEYS": key, "BASE_URL": url, "AUTO_MIGRATE": "0",
               "JIRA_RETRY_BASE_DELAY": "0.05", "JIRA_MAX_RETRY_WAIT": "5", "JOBS_SWEEP_SECONDS": "0.5",
               "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), **settings,
               **{k: str(v) for k, v in (config or {}).items()}}
        # The bench skips a spent hour by refilling the emulator's quota (counted in quota_windows); a worker process
        # holding the quota it learned from Jira's headers would wait the real hour, so the workers don't hold it (the
        # emulator's own 429s still stop a job when its quota is spent).
        env["QUOTA_ENFORCE_LEARNED"] = "0"
        env.pop("REDIS_URL", None)
        env.pop("JOBS_MODE", None)
        # app/config.py reads neither CONNECT_IMPERSONATION_URL nor the ISSUE_* settings from the environment (the
        # README documents them): the workers get them as the factory's argument.
        unread = {k: v for k, v in {**settings, **(config or {})}.items() if k in UNREAD_SETTINGS}
        world = IssueWorld(app, cloud, ids["src"], ids.get("dst"), admin, db_url, env, tmp / "worker.log",
                           app_spec=f"app:create_app({unread!r})", extra={"users": users, "export": export})
        try:
            yield world
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def print_progress(what: str, **figures: Any) -> None:
    """A progress line on stderr (stdout carries the bench's one JSON line)."""
    print(json.dumps({"progress": what, **figures}, default=str), file=sys.stderr, flush=True)
