"""Backup benchmark: API calls vs the page-size minimum, wall time vs ideal, peak RSS, dedup ratio (one JSON line).

Runs the app and an emulated site (generator preset ``large``, or ``small`` with ``--quick``) in this process, with
the site's latency set to 50 ms. Peak RSS therefore includes the emulator's copy of the site (an upper bound).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def minimum_calls(export: dict, roles: int) -> int:
    """The fewest calls Jira's page sizes and per-object endpoints allow for this site's configuration."""
    def pages(n: int, size: int = 50) -> int:
        return max(1, math.ceil(n / size))

    custom = [f for f in export["fields"] if str(f["id"]).startswith("customfield_")]
    with_options = sum(1 for v in export["fieldOptions"].values() if v)
    tabs = sum(len(v) for v in export["screenTabs"].values())
    projects = len(export["projects"])
    n = 1 + 1 + pages(len(export["priorities"])) + pages(len(export["resolutions"])) + 1 + 1 + 1
    n += pages(len(export["groups"])) + pages(len(custom)) + 4  # settings: four endpoints
    n += 2 * len(custom) + with_options  # contexts + defaults per field, options per option context
    n += pages(len(export["screens"]), 100) + len(export["screens"]) + tabs
    n += pages(len(export["fieldConfigurations"])) + len(export["fieldConfigurations"])
    for key in ("fieldConfigurationSchemes", "issueTypeScreenSchemes", "issueTypeSchemes"):
        n += 2 * pages(len(export[key]))
    n += pages(len(export["screenSchemes"]), 100) + pages(len(export["workflowSchemes"])) + 1
    n += pages(len(export["notificationSchemes"])) + 3 * pages(len(export["issueSecuritySchemes"]))
    n += pages(projects) * 7 + projects * (3 + roles)
    n += pages(len(export["filters"])) + pages(len(export["boards"])) + len(export["boards"])
    n += pages(len(export["dashboards"])) + len(export["dashboards"])
    return n


def per_object_pages(export: dict) -> int:
    """Calls the per-object paged reads need when each object's own list is counted in pages (page caps: field
    configuration items 50, options 100, context mappings 50), which ``minimum_calls`` counts as one call each.

    Returns the difference to add to ``minimum_calls``: the extra pages, plus the context mapping reads a field with
    a non-global context can't do without (its projects/issue types are only on those endpoints).
    """
    def pages(n: int, size: int = 50) -> int:
        return max(1, math.ceil(n / size))

    option_kinds = {"select", "multiselect", "radiobuttons", "multicheckboxes", "cascadingselect"}
    extra = sum(pages(len(items)) - 1 for items in export["fieldConfigurationItems"].values())
    kinds = {f["id"]: str((f.get("schema") or {}).get("custom") or "").rsplit(":", 1)[-1] for f in export["fields"]}
    with_options = 0
    for field_id, contexts in export["fieldContexts"].items():
        if kinds.get(field_id) in option_kinds:  # every context of an option field is read, empty or not
            with_options += sum(pages(len(export["fieldOptions"].get(str(c["id"]), [])), 100) for c in contexts)
        if not all(c.get("isAnyIssueType") for c in contexts):
            extra += pages(len(export["fieldContextIssueTypeMappings"].get(field_id, [])))
        if not all(c.get("isGlobalContext") for c in contexts):
            extra += pages(len(export["fieldContextProjectMappings"].get(field_id, [])))
    return extra + with_options - sum(1 for v in export["fieldOptions"].values() if v)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small preset, seconds (CI)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    from cryptography.fernet import Fernet
    from sqlalchemy import select

    from app import create_app
    from app.backups.models import Snapshot
    from app.backups.service import start_backup
    from app.connect.tenants import Tenant
    from app.extensions import db
    from app.jobs.runtime import run_job
    from tests.fakejira import generator, installer, seeding, spec
    from tests.fakejira.cloud import Cloud
    from tests.support.servers import serve

    tmp = Path(tempfile.mkdtemp())
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
                      "SCHEMA_CHECK": False, "AUTO_MIGRATE": False, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                      "JOBS_MODE": "manual", "BACKUP_CONCURRENCY": args.concurrency})
    with app.app_context():
        db.create_all()
    preset = "small" if args.quick else "large"
    seed = generator.generate_preset(preset, site_name="bench")
    cloud = Cloud()
    site = cloud.add_site("bench", seed=seed)
    del seed
    with cloud.serve(), serve(app) as url:
        app.config["BASE_URL"] = url
        app.config["CONNECT_INSTALL_KEYS_URL"] = cloud.install_keys_url
        client_key = installer.install_app(site, url + "/atlassian-connect.json").client_key
        export = seeding.export_site(site)
        roles = len(export["projectRoles"])
        minimum = minimum_calls(export, roles)
        exact = minimum + per_object_pages(export)
        del export
        # The emulator parses Jira's OpenAPI specs on its first request (~0.9 s; an unlocked cache, so the first
        # requests of a parallel backup would each parse a copy, ~70 MB at once): that is the test double's cost,
        # not the app's, so it is paid here, before anything is measured.
        spec.index()
        site.limits.configure(latency=args.latency)
        results = []
        with app.app_context():
            tenant = db.session.scalars(select(Tenant).where(Tenant.client_key == client_key)).one()
            for _ in range(2):
                site.calls.clear()
                cpu_before = _cpu_seconds()
                started = time.monotonic()
                job, _ = start_backup(tenant, "bench")
                state = run_job(job.id)
                wall = time.monotonic() - started
                cpu = _cpu_seconds() - cpu_before
                db.session.expire_all()
                snap = db.session.scalars(select(Snapshot).order_by(Snapshot.id.desc())).first()
                results.append({"state": state, "wall": wall, "cpu": cpu, "calls": len(site.calls.find()),
                                "bytes_stored": snap.bytes_stored, "bytes_new": snap.bytes_new,
                                "status": snap.status, "objects": snap.object_count})
    first, second = results
    ideal = minimum * args.latency / args.concurrency
    print(json.dumps({
        "preset": preset, "objects": first["objects"], "snapshot_status": first["status"],
        "api_calls": first["calls"], "minimum_calls": minimum,
        "calls_ratio": round(first["calls"] / minimum, 3),
        "minimum_calls_paged": exact, "calls_ratio_paged": round(first["calls"] / exact, 3),
        "wall_seconds": round(first["wall"], 2), "ideal_seconds": round(ideal, 2),
        "wall_ratio": round(first["wall"] / ideal, 3),
        # The same wall against the paged minimum (the calls the per-object pages really need, see per_object_pages).
        "ideal_seconds_paged": round(exact * args.latency / args.concurrency, 2),
        "wall_ratio_paged": round(first["wall"] / (exact * args.latency / args.concurrency), 3),
        # CPU this process (app and emulator alike) used during the run, over its wall time: near or above 1 on a
        # shared machine means the run waited for a CPU, not for Jira's latency.
        "cpu_seconds": round(first["cpu"], 1), "cpu_over_wall": round(first["cpu"] / first["wall"], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "first_bytes_new": first["bytes_new"], "second_bytes_new": second["bytes_new"],
        "second_over_first": round(second["bytes_new"] / max(1, first["bytes_new"]), 4),
    }))


if __name__ == "__main__":
    main()
