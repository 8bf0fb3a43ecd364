"""Backup benchmark: API calls vs the page-size minimum, wall time vs ideal, peak RSS, dedup ratio (one JSON line).

Backs up an emulated site (generator preset ``large``, ``small`` with ``--quick``, or ``--preset``) whose latency is
set to 50 ms, twice (the second run measures dedup). What runs where (``--emulator``):
  * ``process`` (default): the app (its job, its threaded server) runs in this process; the emulated Jira runs in its
    own (``bench/remote_cloud.py``), as real Jira is another machine. The emulator validates every answer against
    the OpenAPI spec, which costs as much CPU as the app: sharing a GIL with it would inflate every round trip and
    judge the app against Jira's CPU. ``peak_rss_mb`` and ``app_cpu_seconds`` are the app's own (the site's export,
    needed for the minimum, is fetched after the peak is read); ``emulator_cpu_seconds`` is the emulator's.
  * ``thread``: the old set-up, kept for comparison: the emulator is served by threads of this process, so peak RSS
    includes its copy of the site (an upper bound), ``cpu_seconds`` is app + emulator and ``app_cpu_seconds`` is null.
Either way the emulator is driven through its control API only, so call counts don't depend on where it runs.
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

from bench.remote_cloud import MODES, RemoteCloud  # noqa: E402


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
    n += sum(pages(len(export["groupMembers"].get(str(g["groupId"])) or [])) for g in export["groups"])
    n += 2 * len(custom) + with_options  # contexts + defaults per field, options per option context
    n += pages(len(export["screens"]), 100) + len(export["screens"]) + tabs
    n += pages(len(export["fieldConfigurations"])) + len(export["fieldConfigurations"])
    for key in ("fieldConfigurationSchemes", "issueTypeScreenSchemes", "issueTypeSchemes"):
        n += 2 * pages(len(export[key]))
    n += pages(len(export["screenSchemes"]), 100) + pages(len(export["workflowSchemes"])) + 1
    n += pages(len(export["notificationSchemes"])) + 3 * pages(len(export["issueSecuritySchemes"]))
    # per project: the project itself (it carries components and versions), its permission scheme, a read per role
    n += pages(projects) * 7 + projects * (2 + roles)
    n += pages(len(export["filters"])) + pages(len(export["boards"])) + len(export["boards"])
    n += pages(len(export["dashboards"])) + len(export["dashboards"])
    # a gadget's configuration: its item property keys, then each property's value
    n += sum(1 + len(g.get("properties") or {}) for gadgets in export["dashboardGadgets"].values() for g in gadgets)
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
    parser.add_argument("--preset", choices=("small", "medium", "large"), help="generator preset (default large)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--emulator", choices=MODES, default="process",
                        help="run the emulated Jira in its own process (default) or in threads of this one")
    args = parser.parse_args()

    from cryptography.fernet import Fernet
    from sqlalchemy import select

    from app import create_app
    from app.backups.models import Snapshot
    from app.backups.service import start_backup
    from app.extensions import db
    from app.jobs.models import Job
    from app.jobs.runtime import run_job
    from app.tenants import Tenant
    from fakejira.loopback import serve

    tmp = Path(tempfile.mkdtemp())
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
                      "SCHEMA_CHECK": False, "AUTO_MIGRATE": False, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                      "JOBS_MODE": "manual", "BACKUP_CONCURRENCY": args.concurrency})
    with app.app_context():
        db.create_all()
    preset = args.preset or ("small" if args.quick else "large")
    # The emulator parses Jira's OpenAPI specs before it says READY (both modes): that is the test double's cost,
    # not the app's, so it is paid before anything is measured.
    with RemoteCloud({"bench": f"preset:{preset}"}, mode=args.emulator) as cloud, serve(app) as url:
        app.config["BASE_URL"] = url
        app.config["CONNECT_INSTALL_KEYS_URL"] = cloud.install_keys_url
        client_key = cloud.install("bench", url + "/atlassian-connect.json")
        cloud.set_limits("bench", latency=args.latency)
        results = []
        with app.app_context():
            tenant = db.session.scalars(select(Tenant).where(Tenant.client_key == client_key)).one()
            for _ in range(2):
                cloud.clear_calls("bench")
                cpu_before, emulator_before = _cpu_seconds(), cloud.emulator_cpu_seconds()
                started = time.monotonic()
                job, _ = start_backup(tenant, "bench")
                state = run_job(job.id)
                wall = time.monotonic() - started
                cpu = _cpu_seconds() - cpu_before
                emulator_after = cloud.emulator_cpu_seconds()
                db.session.expire_all()
                snap = db.session.scalars(select(Snapshot).order_by(Snapshot.id.desc())).first()
                points = db.session.get(Job, job.id, populate_existing=True).points
                results.append({"state": state, "wall": wall, "cpu": cpu, "calls": cloud.call_count("bench"),
                                "points": int(points.get("points") or 0), "requests": int(points.get("requests") or 0),
                                "emulator_cpu": None if emulator_after is None or emulator_before is None
                                else emulator_after - emulator_before,
                                "bytes_stored": snap.bytes_stored, "bytes_new": snap.bytes_new,
                                "status": snap.status, "objects": snap.object_count})
        # Read before the export comes here: in process mode the peak is then the app's alone.
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        export = cloud.export("bench")  # a backup only reads: the site is as it was before the runs
        minimum = minimum_calls(export, len(export["projectRoles"]))
        exact = minimum + per_object_pages(export)
        del export
    first, second = results
    ideal = minimum * args.latency / args.concurrency
    print(json.dumps({
        "preset": preset, "emulator": args.emulator, "state": first["state"], "objects": first["objects"],
        "snapshot_status": first["status"],
        "api_calls": first["calls"], "minimum_calls": minimum,
        "calls_ratio": round(first["calls"] / minimum, 3),
        "minimum_calls_paged": exact, "calls_ratio_paged": round(first["calls"] / exact, 3),
        "wall_seconds": round(first["wall"], 2), "ideal_seconds": round(ideal, 2),
        "wall_ratio": round(first["wall"] / ideal, 3),
        # The same wall against the paged minimum (the calls the per-object pages really need, see per_object_pages).
        "ideal_seconds_paged": round(exact * args.latency / args.concurrency, 2),
        "wall_ratio_paged": round(first["wall"] / (exact * args.latency / args.concurrency), 3),
        # CPU this process used during the run, over its wall time (the app alone in process mode, app and emulator
        # in thread mode): near or above 1 on a shared machine means the run waited for a CPU, not for Jira.
        "cpu_seconds": round(first["cpu"], 1), "cpu_over_wall": round(first["cpu"] / first["wall"], 2),
        "app_cpu_seconds": round(first["cpu"], 1) if args.emulator == "process" else None,
        "emulator_cpu_seconds": None if first["emulator_cpu"] is None else round(first["emulator_cpu"], 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "first_bytes_new": first["bytes_new"], "second_bytes_new": second["bytes_new"],
        "second_over_first": round(second["bytes_new"] / max(1, first["bytes_new"]), 4),
        # Jira's points (1 a request plus 1 an object read, counted by the app's client) against one read of
        # everything backed up: the paged minimum of requests plus the objects the reads returned (points - requests)
        "points": first["points"], "minimum_points": exact + first["points"] - first["requests"],
        "points_ratio": round(first["points"] / max(1, exact + first["points"] - first["requests"]), 3),
    }))


if __name__ == "__main__":
    main()
