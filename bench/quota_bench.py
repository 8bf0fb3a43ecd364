"""Many-sites quota benchmark (issue #19): fifty sites' scheduled backups and one restore under one app-wide budget.

Time is compressed: the emulator's quota window and the ledger's are ``--window`` seconds instead of an hour (both
aligned to the clock, as Jira's are). Fifty emulated brand-new sites are backed up "hourly", each at its spread
offset within the window, by two ``flask --app app worker`` processes (database-fed, on PostgreSQL); the app-wide
limit is set to half of what the fifty backups need, so they can't all be served in one window. A restore of a
seeded site starts mid-window in this process. One worker is SIGKILLed mid-run and replaced.

Prints one JSON line: the restore's time against its time alone (``restore_ratio``, target <= 1.2), whether any
site was refused by its own quota (the emulator's ``jira-quota-tenant-based`` 429s: 0) or passed it, the most the
app spent in one window against the app-wide limit, the backups that succeeded (50/50), and the ledger against
Jira's own charge after the kill (``ledger_minus_charged``: at most one request's estimate per killed request).

    python bench/quota_bench.py --pg-url postgresql+psycopg://jiradr:jiradr@127.0.0.1:5432/jiradr_quota_bench
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.remote_cloud import RemoteCloud  # noqa: E402

SITES = 50
QUOTA_REASON = "rate-limited: jira-quota-tenant-based"


def _settings(args: argparse.Namespace, key: str, app_limit: int | None) -> dict[str, str]:
    env = {"DATABASE_URL": args.pg_url, "ENCRYPTION_KEYS": key, "AUTO_MIGRATE": "1", "JOBS_MODE": "thread",
           "JOBS_SWEEPER": "0", "JOBS_SWEEP_SECONDS": "0.2", "QUOTA_WINDOW_SECONDS": str(args.window),
           "QUOTA_TENANT_POINTS": str(args.site_quota), "JIRA_MAX_RETRY_WAIT": str(args.window),
           "JIRA_RETRY_BASE_DELAY": "0.2", "BACKUP_CONCURRENCY": "2", "LOG_LEVEL": "WARNING"}
    if app_limit:
        env["QUOTA_APP_POINTS"] = str(app_limit)
    return env


def _app(env: dict[str, str], base_url: str = "") -> Any:
    os.environ.update(env)
    from app import create_app

    return create_app({"JOBS_MODE": "manual", "JOBS_SWEEPER": False})


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT,
                            env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _restore(app: Any, dst_id: int, snapshot_id: int, admin: str) -> tuple[str, float]:
    """Preview and restore the snapshot onto the destination in this process; (state, seconds of both)."""
    from app.extensions import db
    from app.jobs.models import Job
    from app.jobs.runtime import run_job
    from app.restore import service
    from app.restore.plan import Selection
    from app.tenants import Tenant

    started = time.monotonic()
    with app.app_context():
        run = service.start_preview(db.session.get(Tenant, dst_id), snapshot_id, admin)
        state = _run_to_end(run.job_id, run_job, db, Job)
        if state == "succeeded":
            job = service.start_restore(db.session.get(Tenant, dst_id), run.id, Selection(), "admin", admin)
            state = _run_to_end(job.job_id, run_job, db, Job)
    return state, time.monotonic() - started


def _run_to_end(job_id: str, run_job: Any, db: Any, Job: Any) -> str:
    state = run_job(job_id)
    while state == "queued":  # a quota wait longer than the client's: carry on when it's due
        job = db.session.get(Job, job_id, populate_existing=True)
        time.sleep(0.2)
        db.session.execute(db.update(Job).where(Job.id == job_id).values(not_before=None))
        db.session.commit()
        del job
        state = run_job(job_id)
    return state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg-url", default=os.environ.get("QUOTA_BENCH_DATABASE_URL")
                        or "postgresql+psycopg://jiradr:jiradr@127.0.0.1:5432/jiradr_quota_bench")
    parser.add_argument("--window", type=int, default=60, help="seconds standing for Jira's hour")
    parser.add_argument("--site-quota", type=int, default=1500, help="each site's points per window")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    from cryptography.fernet import Fernet
    from sqlalchemy import select

    key = Fernet.generate_key().decode()
    _reset_database(args.pg_url)
    names = [f"s{n:02d}" for n in range(SITES)]
    logs = Path(tempfile.mkdtemp(prefix="quota-bench-"))  # the workers' output
    sources: dict[str, Any] = {**{n: None for n in names}, "src": "preset:small", "srca": "preset:small",
                               "alone": None, "dst": None}
    with RemoteCloud(sources) as cloud:
        from fakejira.loopback import serve

        env = _settings(args, key, None)
        app = _app(env)
        with serve(app) as url:
            app.config["BASE_URL"] = url
            app.config["CONNECT_INSTALL_KEYS_URL"] = cloud.install_keys_url
            everyone = [*names, "src", "srca", "alone", "dst"]
            keys = {n: cloud.install(n, url + "/atlassian-connect.json") for n in everyone}
            from app.backups.service import start_backup
            from app.extensions import db
            from app.jobs.models import Job
            from app.jobs.runtime import run_job
            from app.recovery.connections import activate, generate_token
            from app.tenants import Tenant

            with app.app_context():
                ids = {n: db.session.scalars(select(Tenant.id).where(Tenant.client_key == k)).one()
                       for n, k in keys.items()}
                snapshots = {}
                for source, dest in (("srca", "alone"), ("src", "dst")):  # the same site twice: a token apiece
                    src = db.session.get(Tenant, ids[source])
                    activate(db.session.get(Tenant, ids[dest]), cloud.site(dest).admin_account_id,
                             generate_token(src, cloud.site(source).admin_account_id).token, src.base_url)
                    job, _ = start_backup(src, "bench")
                    assert run_job(job.id) == "succeeded"
                    snapshots[dest] = int(db.session.get(Job, job.id, populate_existing=True).result["snapshot_id"])
                probe, _ = start_backup(db.session.get(Tenant, ids[names[0]]), "bench")
                assert run_job(probe.id) == "succeeded"
                backup_points = int(db.session.get(Job, probe.id, populate_existing=True).points["points"])
            for name in [*names, "src", "srca", "alone", "dst"]:
                cloud.set_limits(name, latency=args.latency, quota=args.site_quota, window=args.window)
            alone_state, alone_seconds = _restore(app, ids["alone"], snapshots["alone"],
                                                  cloud.site("alone").admin_account_id)
            print(f"restore alone: {alone_state} in {alone_seconds:.1f} s; a backup costs {backup_points} points",
                  file=sys.stderr, flush=True)

            app_limit = SITES * backup_points // 2  # half of what the fifty backups need in one window
            env = _settings(args, key, app_limit)
            app.extensions.pop("quota_budget", None)
            app.config.update(QUOTA_APP_POINTS=app_limit, QUOTA_TENANT_POINTS=args.site_quota,
                              QUOTA_WINDOW_SECONDS=args.window)
            for name in [*names, "dst"]:
                cloud.clear_points(name)
                cloud.clear_calls(name)
            from app.quota.budget import budget_for
            from app.quota.models import APP_KEY
            from app.quota.spread import spread_offset

            budget = budget_for(app)
            assert budget is not None
            app_total_before = budget.ledger.total(APP_KEY)
            workers = [_worker(env, logs / f"worker-{n}.log") for n in range(2)]
            window_peaks: Counter[int] = Counter()
            stop = threading.Event()

            def watch() -> None:  # the app's spend per window, as the ledger holds it
                while not stop.is_set():
                    used, _ = budget.usage(APP_KEY)
                    start = int(time.time() // args.window * args.window)
                    window_peaks[start] = max(window_peaks[start], used)
                    time.sleep(0.05)

            threading.Thread(target=watch, daemon=True).start()
            t0 = (time.time() // args.window + 1) * args.window  # the top of the next "hour"
            time.sleep(max(0.0, t0 - time.time()))
            offsets = {}
            with app.app_context():
                for name in names:
                    offsets[name] = spread_offset(keys[name], 1).total_seconds() / 3600 * args.window
            restore_result: dict[str, Any] = {}

            def restore_mid_window() -> None:
                time.sleep(max(0.0, t0 + args.window / 2 - time.time()))
                restore_result["state"], restore_result["seconds"] = _restore(
                    app, ids["dst"], snapshots["dst"], cloud.site("dst").admin_account_id)

            restorer = threading.Thread(target=restore_mid_window)
            restorer.start()
            backup_jobs: list[str] = []
            killed = False
            with app.app_context():
                for name in sorted(names, key=offsets.__getitem__):
                    time.sleep(max(0.0, t0 + offsets[name] - time.time()))
                    job, _ = start_backup(db.session.get(Tenant, ids[name]), None)  # as the schedule starts it
                    backup_jobs.append(job.id)
                    if not killed and time.time() > t0 + args.window / 2 + 3:
                        killed = _kill_one(workers, env, logs)
                deadline = time.monotonic() + args.timeout
                while time.monotonic() < deadline:
                    if not killed and time.time() > t0 + args.window / 2 + 3:
                        killed = _kill_one(workers, env, logs)
                    db.session.expire_all()
                    states = Counter(db.session.get(Job, j).state for j in backup_jobs)
                    if states["succeeded"] + states["failed"] + states["cancelled"] == len(backup_jobs) \
                            and not restorer.is_alive():
                        break
                    time.sleep(1)
                db.session.expire_all()
                states = Counter(db.session.get(Job, j).state for j in backup_jobs)
            restorer.join(timeout=60)
            stop.set()
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
            budget.flush()
            charged = sum(sum(cloud.points(n).values()) for n in [*names, "dst"])
            ledger_total = budget.ledger.total(APP_KEY) - app_total_before
            refused = {n: sum(1 for c in cloud.calls(n) if c.note == QUOTA_REASON) for n in [*names, "dst"]}
            over_quota = {n: used for n in [*names, "dst"]
                          if (used := budget.usage(f"tenant:{ids[n]}")[0]) > args.site_quota}
    restore_seconds = float(restore_result.get("seconds") or 0)
    print(json.dumps({
        "sites": SITES, "window_seconds": args.window, "site_quota": args.site_quota, "app_limit": app_limit,
        "backup_points": backup_points, "backups_need": SITES * backup_points,
        "restore_alone_seconds": round(alone_seconds, 2), "restore_seconds": round(restore_seconds, 2),
        "restore_state": restore_result.get("state"),
        "restore_ratio": round(restore_seconds / max(alone_seconds, 1e-9), 3),
        "restore_within_1_2": restore_result.get("state") == "succeeded" and restore_seconds <= 1.2 * alone_seconds,
        "sites_refused_by_own_quota": sum(1 for n in refused.values() if n), "sites_over_own_quota": len(over_quota),
        "app_window_peak": max(window_peaks.values() or [0]), "app_limit_never_exceeded":
            max(window_peaks.values() or [0]) <= app_limit,
        "backups_succeeded": states["succeeded"], "backups": len(backup_jobs), "backup_states": dict(states),
        "worker_killed": killed, "points_charged": charged, "ledger_points": ledger_total,
        "ledger_minus_charged": ledger_total - charged,
    }))


def _kill_one(workers: list[subprocess.Popen[bytes]], env: dict[str, str], logs: Path) -> bool:
    """SIGKILL the first worker mid-job, expire its leases (as the sweeper would after LEASE_SECONDS), replace it."""
    from app.clock import utcnow
    from app.extensions import db
    from app.jobs.models import Job, JobState

    victim = workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    db.session.execute(db.update(Job).where(Job.state == JobState.RUNNING.value,
                                            Job.lease_owner.like(f"%:{victim.pid}"))
                       .values(lease_expires_at=utcnow()))
    db.session.commit()
    workers[0] = _worker(env, logs / "worker-replacement.log")
    print("killed a worker mid-job and started another", file=sys.stderr, flush=True)
    return True


def _reset_database(url: str) -> None:
    """A fresh database for the run (dropped and created again)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


if __name__ == "__main__":
    main()
