"""Points as the pages show them: what a job spent, and what a restore will spend at least (and how long at the
site's quota), for the presenters both doors render from."""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from ..extensions import db
from .points import read_points, write_points
from .priorities import tenant_key


def job_points(job_id: str | None) -> dict[str, Any] | None:
    """A job's points (total, per phase, per type), or None when it has none recorded."""
    from ..jobs.models import Job

    job = db.session.get(Job, job_id) if job_id else None
    points = job.points if job is not None else {}
    if not points:
        return None
    return {"points": int(points.get("points") or 0), "byPhase": points.get("byPhase") or {},
            "byType": dict(sorted((points.get("byType") or {}).items(), key=lambda kv: -kv[1])[:10]),
            "words": f"{int(points.get('points') or 0):,} points of Jira's quota"}


def site_quota(tenant_id: int) -> int | None:
    """The site's points per window: configured, or as Jira advertised it (None: not known yet)."""
    from ..quota.budget import current_budget

    budget = current_budget()
    if budget is None:
        return None
    try:
        return budget.usage(tenant_key(tenant_id))[1]
    except Exception:  # a figure on a page never fails the page
        return None


def snapshot_read(preview_job_id: str | None) -> tuple[int, int] | None:
    """What reading the previewed snapshot's configuration cost its backup: (points, objects); None when not known
    (no preview, or a backup that recorded no points)."""
    from ..backups.models import Snapshot
    from ..jobs.models import Job
    from ..restore.models import RestoreRun

    preview = db.session.get(Job, preview_job_id) if preview_job_id else None
    run_id = (preview.params if preview is not None else {}).get("run_id")
    run = db.session.get(RestoreRun, int(str(run_id))) if str(run_id or "").isdigit() else None
    snapshot = db.session.get(Snapshot, run.snapshot_id) if run is not None else None
    backup = job_points(snapshot.job_id) if snapshot is not None else None
    if snapshot is None or backup is None or not snapshot.object_count:
        return None
    return int(backup["points"]), int(snapshot.object_count)


def read_of_created(preview_job_id: str | None, creates: int) -> int:
    """One read of what a restore creates (its verification's), at least an object each plus a request per page of
    50: reading a configuration costs the destination what it cost the source, so the created objects' share of what
    the snapshot's backup spent reading (a field configuration reads one item per field of the site, a context its
    options: a large site's objects cost far more than one point each)."""
    least = read_points(creates)
    read = snapshot_read(preview_job_id)
    if read is None:
        return least
    points, objects = read
    return max(least, math.ceil(points * min(1.0, creates / objects)))


def write_requests(preview_job_id: str | None, writes: int) -> int:
    """The requests writing ``writes`` objects of the previewed run takes: each object's own count (its restorer's
    ``cost``: the create, its parts' writes, the reads between them, as the engine schedules by) at the run's
    average, one request each at least; one each when there is no run (an issue preview's figures are requests
    already)."""
    run = _previewed_run(preview_job_id)
    if run is None or writes <= 0:
        return max(writes, 0)
    per_object = requests_per_object(run.id, run.snapshot_id, str(preview_job_id))
    return max(writes, math.ceil(writes * per_object))


def _previewed_run(preview_job_id: str | None) -> Any:
    from ..jobs.models import Job
    from ..restore.models import RestoreRun

    preview = db.session.get(Job, preview_job_id) if preview_job_id else None
    run_id = (preview.params if preview is not None else {}).get("run_id")
    return db.session.get(RestoreRun, int(str(run_id))) if str(run_id or "").isdigit() else None


@functools.lru_cache(maxsize=32)  # a run's plan is fixed once previewed; a page re-rendered reads no snapshot again
def requests_per_object(run_id: int, snapshot_id: int, preview_job_id: str) -> float:
    """The requests writing one of the run's objects to create or update takes, on average (see ``write_requests``)."""
    from ..backups.snapshots import SnapshotReader
    from ..restore.models import RestoreItem
    from ..restore.plan import Action
    from ..restore.restorers import load

    wanted: dict[str, set[str]] = defaultdict(set)
    for type_key, source_id in db.session.execute(
            select(RestoreItem.type_key, RestoreItem.source_id).where(
                RestoreItem.run_id == run_id, RestoreItem.action.in_((Action.CREATE.value, Action.UPDATE.value)))):
        wanted[type_key].add(str(source_id))
    restorers, reader = load(), SnapshotReader(snapshot_id)
    requests = objects = 0
    for type_key, ids in wanted.items():
        restorer = restorers.get(type_key)
        for entry, obj in reader.items(type_key):
            if str(entry.source_id) in ids:
                own = restorer.cost(obj) if restorer is not None else None
                requests += max(1, own if own is not None else 1)
                objects += 1
    return requests / objects if objects else 1.0


def restore_estimate(tenant_id: int, preview_job_id: str | None, writes: int, creates: int) -> dict[str, Any]:
    """The least a restore will spend: the requests its writes take (``write_requests``), one read of the
    destination (what the preview's reading cost) and one read of what it creates (``read_of_created``); and the
    hours that takes at the site's quota, when known."""
    read_destination = (job_points(preview_job_id) or {}).get("points", 0)
    read_created = read_of_created(preview_job_id, creates)
    requests = write_requests(preview_job_id, writes)
    least = write_points(requests) + read_destination + read_created
    quota = site_quota(tenant_id)
    hours = round(least / quota, 4) if quota else None
    words = f"At least {least:,} points of Jira's quota"
    if quota and hours is not None:
        windows = max(1, math.ceil(least / quota))
        words += (f": within one hour of this site's {quota:,} an hour" if windows == 1 else
                  f": about {hours:.1f} hours of this site's {quota:,} an hour ({windows} hourly windows)")
    return {"points": least, "writes": writes, "writeRequests": requests, "readDestination": read_destination,
            "readCreated": read_created,
            "siteQuota": quota, "hours": hours, "words": words + "."}
