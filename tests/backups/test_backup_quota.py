"""Does a backup that needs several windows of Jira's hourly quota finish with the same snapshot, paying once per read?

Jira charges reads per object against an hourly quota, and one type of a large site can cost more than an hour of it
(its field configuration items). A type cut short was read again from its start on every attempt, so such a backup
never finished. Here the source's quota is a few hundred points and the emulator's clock jumps an hour each time the
job waits.
"""

from __future__ import annotations

import json
from collections import Counter

from app.backups.models import Snapshot
from app.backups.snapshots import SnapshotReader
from app.extensions import db
from app.jobs.journal import ReadJournalEntry
from app.jobs.models import Job
from app.jobs.runtime import enqueue, run_job
from tests.restore.conftest import across_quota_windows, oauth_grant  # noqa: F401  (oauth_grant: a fixture demo_sites uses)
from tests.restore.test_restore_projects import demo_sites  # noqa: F401  (fixture)

QUOTA = 150


def _backup(app, tenant_id: int, clock: list[float] | None = None) -> tuple[str, int, int]:
    """Run a backup; when it waits for the quota, move the clock an hour on and run it again. (state, attempts, id)"""
    with app.app_context():
        job, _ = enqueue(tenant_id, "backup", {}, dispatch=False)
        state, attempts = across_quota_windows(job.id, clock) if clock is not None else (run_job(job.id), 1)
        result = db.session.get(Job, job.id, populate_existing=True).result or {}
        return state, attempts, int(result.get("snapshot_id") or 0)


def _contents(app, snapshot_id: int) -> tuple[str, int, dict[str, list[str]]]:
    """Status, object count and every object of every type (canonical JSON, sorted)."""
    with app.app_context():
        snapshot = db.session.get(Snapshot, snapshot_id)
        reader = SnapshotReader(snapshot_id)
        objects = {s.type_key: sorted(json.dumps(o, sort_keys=True) for o in reader.objects(s.type_key))
                   for s in reader.type_summaries()}
        return snapshot.status, snapshot.object_count, objects


def test_a_backup_needing_several_quota_windows_finishes_with_the_same_snapshot(app, demo_sites) -> None:  # noqa: F811
    sites = demo_sites
    state, _attempts, unlimited = _backup(app, sites.source_tenant_id)
    assert state == "succeeded"
    clock = [1_800_000_000.0]
    sites.source.limits.clock = lambda: clock[0]
    sites.source.limits.configure(quota=QUOTA)
    sites.source.calls.clear()

    state, attempts, limited = _backup(app, sites.source_tenant_id, clock)

    assert state == "succeeded", attempts
    assert attempts >= 4, attempts  # the quota really cut it several times
    assert _contents(app, limited) == _contents(app, unlimited)
    answered = Counter((c.path, c.query) for c in sites.source.calls.find() if c.method == "GET" and c.status == 200)
    # every read paid for once: an attempt replays what earlier ones read instead of reading the type again
    assert max(answered.values()) == 1, answered.most_common(3)
    assert any(c.status == 429 for c in sites.source.calls.find())
    with app.app_context():  # the journal went with the job's end: it held the site's configuration
        assert db.session.scalar(db.select(db.func.count()).select_from(ReadJournalEntry)) == 0
