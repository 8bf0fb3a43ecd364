"""Does a restore that needs several windows of Jira's hourly quota finish, without paying twice for what it read?

Since 2026 Jira charges reads per object against an hourly quota, and a large site's full read costs more than one
hour of it. A restore that had to wait used to plan again (reading the whole destination) and verify from the start
on every attempt, so it could never finish. Here the destination's quota is a few hundred points and the emulator's
clock jumps an hour each time the job waits.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.jobs.journal import ReadJournalEntry
from app.restore import attempt as restore_job
from app.restore import service
from app.restore.models import RestoreRun
from app.restore.plan import Planner, Selection
from app.tenants import Tenant
from fakejira.seeding import export_site
from tests.restore.conftest import across_quota_windows, take_backup
from tests.restore.test_restore_basics import outcomes, preview
from tests.restore.test_restore_projects import demo_sites  # noqa: F401  (fixture)

QUOTA = 400  # points per window: well under what planning or verifying the demo site costs


def _restore_across_windows(app, sites, run_id: int, clock: list[float]) -> tuple[str, int, str]:
    with app.app_context():
        run = service.start_restore(db.session.get(Tenant, sites.dest_tenant_id), run_id, Selection(), "admin",
                                    sites.admin)
        state, attempts = across_quota_windows(run.job_id, clock)
        return state, attempts, run.job_id


def test_a_restore_needing_several_quota_windows_finishes_and_reads_nothing_twice(app, demo_sites,  # noqa: F811
                                                                                  fake_cloud, monkeypatch) -> None:
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run_id = preview(app, sites, snapshot)
    clock = [1_800_000_000.0]
    sites.dest.limits.clock = lambda: clock[0]
    sites.dest.limits.configure(quota=QUOTA)
    sites.dest.calls.clear()
    calls: Counter[str] = Counter()
    plan, check = Planner.plan, restore_job.verify

    def counted_plan(self, *args, **kwargs):
        calls["plan"] += 1
        return plan(self, *args, **kwargs)

    def counted_verify(*args, **kwargs):
        calls["verify"] += 1
        return check(*args, **kwargs)

    monkeypatch.setattr(Planner, "plan", counted_plan)
    monkeypatch.setattr(restore_job, "verify", counted_verify)

    state, attempts, job_id = _restore_across_windows(app, sites, run_id, clock)

    assert state == "succeeded", attempts
    assert attempts >= 3, attempts  # the quota cut the restore more than once
    with app.app_context():
        run = db.session.get(RestoreRun, run_id)
        assert run.status == "done" and run.verification["unexplained"] == 0, run.verification_json
        assert run.summary["reads_replayed"] > 0  # the last attempt replayed what earlier ones had read
        # the journal is gone with the job's end: it held the destination's configuration
        assert db.session.scalar(select(db.func.count()).select_from(ReadJournalEntry)
                                 .where(ReadJournalEntry.job_id == job_id)) == 0
    # planned once: a resumed attempt carried on with the saved plan instead of reading the destination again
    assert calls["plan"] == 1, calls
    # verification spanned windows, and the attempts after the first replayed what it had already read
    assert calls["verify"] >= 2, calls
    refused: dict[str, Any] = Counter(c.template for c in sites.dest.calls.find() if c.status == 429)
    assert refused  # the quota really was met
    items = outcomes(app, run_id)
    assert not [(k, i.outcome, i.reason) for k, i in items.items()
                if i.selected and i.outcome in ("failed", "pending", "creating", "incomplete")]
    dest = export_site(sites.dest)
    source = export_site(sites.source)
    for type_key in ("screens", "customFields" if "customFields" in dest else "fields", "filters", "projects"):
        names = [o.get("name") or o.get("key") for o in dest[type_key]]
        assert len(names) == len(set(names)), f"{type_key} created twice: {Counter(names).most_common(2)}"
    assert {p["key"] for p in source["projects"]} <= {p["key"] for p in dest["projects"]}

    # Planning a second restore reads the whole destination, now full: more than a window's worth. The preview
    # carries on after each wait from the read where it stopped, and plans nothing to create.
    sites.dest.calls.clear()
    with app.app_context():
        again = service.start_preview(db.session.get(Tenant, sites.dest_tenant_id), snapshot, sites.admin)
        again_id, again_job = again.id, again.job_id
        state, attempts = across_quota_windows(again_job, clock)
        assert state == "succeeded", attempts
        assert attempts >= 2, attempts
    answered = Counter((c.path, c.query) for c in sites.dest.calls.find() if c.method == "GET" and c.status == 200)
    assert max(answered.values()) == 1, answered.most_common(3)
    second = {k: i for k, i in outcomes(app, again_id).items() if i.selected}
    assert second and not [(k, i.reason) for k, i in second.items() if i.action == "create"]
