"""Retention: which snapshots pruning keeps, and that it never loses the last good or a reachable one."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app.backups import retention
from app.backups.models import Blob, BlobData, Snapshot, SnapshotEntry, SnapshotType
from app.backups.retention import SnapshotFacts, keep, prune, run_retention
from app.backups.snapshots import SnapshotReader, SnapshotWriter
from app.backups.storage import FileBlobStore, blob_store
from app.connect.installs import save_installation
from app.extensions import db
from app.jobs.sweeper import periodic_tasks
from app.tenants import Tenant

NOW = datetime(2025, 6, 30, 12, 0)  # a Monday


def facts(*specs: tuple[int, str, datetime]) -> list[SnapshotFacts]:
    return [SnapshotFacts(i, status, taken_at) for i, status, taken_at in specs]


def daily_series(days: int, status: str = "complete", start_id: int = 1) -> list[SnapshotFacts]:
    """One snapshot a day at 02:00, newest yesterday; ids grow with time."""
    return [SnapshotFacts(start_id + n, status, NOW - timedelta(days=days - n, hours=10)) for n in range(days)]


# -- the rules (pure) ------------------------------------------------------------------------------------------

def test_are_the_last_n_days_kept_and_older_dailies_thinned_to_one_a_week() -> None:
    series = daily_series(120)
    kept = keep(series, daily=30, weekly=12, protected=set(), now=NOW)

    newest_30 = {s.id for s in series[-30:]}
    assert newest_30 <= kept
    older_kept = [s for s in series if s.id in kept - newest_30]
    weeks = [tuple(s.taken_at.isocalendar())[:2] for s in older_kept]
    assert len(weeks) == len(set(weeks))  # at most one per week beyond the dailies
    all_weeks = sorted({tuple(s.taken_at.isocalendar())[:2] for s in series}, reverse=True)
    assert {tuple(s.taken_at.isocalendar())[:2] for s in series if s.id in kept} == set(all_weeks[:12]) | {
        tuple(s.taken_at.isocalendar())[:2] for s in series[-30:]}
    # Each kept weekly is the newest snapshot of its week.
    for s in older_kept:
        same_week = [o for o in series if o.taken_at.isocalendar()[:2] == s.taken_at.isocalendar()[:2]]
        assert s.id == max(same_week, key=lambda o: o.taken_at).id


def test_is_only_the_newest_snapshot_of_a_day_kept() -> None:
    day = NOW - timedelta(days=1)
    snaps = facts((1, "complete", day.replace(hour=2)), (2, "complete", day.replace(hour=9)),
                  (3, "partial", day.replace(hour=17)))
    assert keep(snaps, daily=30, weekly=12, protected=set(), now=NOW) == {2, 3}  # 3 newest; 2 newest complete


def test_is_the_only_complete_snapshot_kept_however_old() -> None:
    snaps = [SnapshotFacts(1, "complete", NOW - timedelta(days=400)), *daily_series(40, "partial", start_id=10)]
    kept = keep(snaps, daily=30, weekly=4, protected=set(), now=NOW)
    assert 1 in kept


def test_is_a_running_snapshot_kept() -> None:
    snaps = [*daily_series(5), SnapshotFacts(99, "running", NOW - timedelta(days=90))]
    assert 99 in keep(snaps, daily=1, weekly=1, protected=set(), now=NOW)


def test_is_a_protected_snapshot_kept() -> None:
    snaps = daily_series(60)
    assert 1 in keep(snaps, daily=2, weekly=1, protected={1}, now=NOW)
    assert 1 not in keep(snaps, daily=2, weekly=1, protected=set(), now=NOW)


@pytest.mark.parametrize(("age_days", "kept"), [(1, True), (29, True), (31, False), (200, False)])
def test_are_failed_snapshots_kept_only_within_the_daily_window(age_days: int, kept: bool) -> None:
    snaps = [*daily_series(3), SnapshotFacts(50, "failed", NOW - timedelta(days=age_days))]
    assert (50 in keep(snaps, daily=30, weekly=12, protected=set(), now=NOW)) is kept


def test_does_a_failed_snapshot_never_count_as_a_daily() -> None:
    day = NOW - timedelta(days=1)
    snaps = facts((1, "complete", day.replace(hour=2)), (2, "failed", day.replace(hour=9)))
    assert keep(snaps, daily=2, weekly=1, protected=set(), now=NOW) == {1, 2}


def test_does_a_site_no_longer_backed_up_keep_its_history() -> None:
    """Days are days *with* snapshots: a lost site's last month survives any number of prunes."""
    series = daily_series(30)
    later = NOW + timedelta(days=365)
    assert {s.id for s in series} <= keep(series, daily=30, weekly=12, protected=set(), now=later)


# -- pruning in the database, on both backends ---------------------------------------------------------------

@pytest.fixture(params=["db", "file"])
def app_config(app_config: dict, request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    if request.param == "file":
        app_config["BACKUP_STORAGE_URL"] = f"file://{tmp_path / 'blobs'}"
    app_config["BACKUP_RETENTION_DAILY"] = 3
    app_config["BACKUP_RETENTION_WEEKLY"] = 1
    return app_config


def make_tenant(client_key: str) -> Tenant:
    return save_installation({"clientKey": client_key, "baseUrl": f"https://{client_key}.atlassian.net",
                              "sharedSecret": "s" * 32})


@pytest.fixture
def tenant(app: Flask):
    with app.app_context():
        yield make_tenant("source")


def snapshot(tenant: Tenant, taken_at: datetime, *, version: int, status: str = "complete") -> int:
    """A snapshot sharing most objects with its neighbours, and one object only it has."""
    writer = SnapshotWriter.begin(tenant.id, None, app_version="0.1.0", format_version=1)
    for i in range(5):
        writer.put("projects", f"P{i}", str(i), {"key": f"P{i}", "shared": True})
    writer.put("projects", "UNIQUE", None, {"key": "UNIQUE", "version": version})
    writer.set_type_status("projects", "complete", 6)
    if status == "failed":
        writer.fail("Jira was down")
    elif status != "running":
        writer.finish(api_calls=1, duration_seconds=1)
    db.session.execute(update(Snapshot).where(Snapshot.id == writer.snapshot_id).values(taken_at=taken_at))
    db.session.commit()
    return writer.snapshot_id


def stored_digests(tenant_id: int) -> set[str]:
    store = blob_store()
    if isinstance(store, FileBlobStore):
        return {p.name for p in (store.root / str(tenant_id)).rglob("*") if p.is_file()}
    return set(db.session.scalars(select(BlobData.sha256).where(BlobData.tenant_id == tenant_id)))


def test_does_pruning_delete_old_snapshots_and_only_their_own_blobs(tenant: Tenant) -> None:
    ids = [snapshot(tenant, NOW - timedelta(days=20 - d), version=d) for d in range(8)]  # 8 consecutive days

    result = prune(tenant, NOW)

    assert result.kept == ids[-3:]  # dailies: the last 3 days (the weekly falls on the newest)
    assert result.deleted == ids[:-3]
    assert result.blobs_deleted == 5  # each deleted snapshot's UNIQUE object; the shared ones stay
    remaining = set(db.session.scalars(select(Snapshot.id)))
    assert remaining == set(ids[-3:])
    assert db.session.execute(select(func.count(SnapshotEntry.id))).scalar_one() == 18
    assert db.session.execute(select(func.count(SnapshotType.id))).scalar_one() == 3
    assert stored_digests(tenant.id) == set(db.session.scalars(select(Blob.sha256)))
    assert len(stored_digests(tenant.id)) == 5 + 3
    for snapshot_id in remaining:  # each survivor restores on its own
        SnapshotReader(snapshot_id).verify()
    assert [o["version"] for o in SnapshotReader(ids[-1]).objects("projects") if o["key"] == "UNIQUE"] == [7]


def test_does_pruning_keep_the_only_complete_snapshot(tenant: Tenant) -> None:
    complete = snapshot(tenant, NOW - timedelta(days=60), version=0)
    partials = [snapshot(tenant, NOW - timedelta(days=10 - d), version=d + 1) for d in range(6)]
    for snapshot_id in partials:
        db.session.execute(update(Snapshot).where(Snapshot.id == snapshot_id).values(status="partial"))
    db.session.commit()

    result = prune(tenant, NOW)
    assert complete in result.kept
    SnapshotReader(complete).verify()


def test_does_pruning_keep_a_running_snapshot_and_its_blobs(tenant: Tenant) -> None:
    old = [snapshot(tenant, NOW - timedelta(days=30 - d), version=d) for d in range(5)]
    running = snapshot(tenant, NOW - timedelta(days=40), version=99, status="running")

    result = prune(tenant, NOW)
    assert running in result.kept
    assert set(result.deleted) == set(old[:2])
    # While a backup runs, unreferenced blobs stay: it may be about to reuse them.
    assert result.blobs_deleted == 0
    assert db.session.get(Snapshot, running).status == "running"


def test_does_pruning_keep_every_snapshot_an_active_connection_reaches(app: Flask, tenant: Tenant) -> None:
    from app.recovery import connections

    ids = [snapshot(tenant, NOW - timedelta(days=20 - d), version=d) for d in range(6)]
    destination = make_tenant("destination")
    issued = connections.generate_token(tenant, "admin")
    connections.activate(destination, "admin", issued.token, tenant.base_url)
    assert connections.connection_for_source(tenant).state is connections.ConnectionState.ACTIVE

    assert prune(tenant, NOW).deleted == []
    assert set(db.session.scalars(select(Snapshot.id))) == set(ids)

    connections.deactivate(tenant, connections.Side.SOURCE, "admin", None)
    assert prune(tenant, NOW).deleted == ids[:3]


def test_does_pruning_keep_snapshots_a_wired_protector_pins(tenant: Tenant) -> None:
    ids = [snapshot(tenant, NOW - timedelta(days=20 - d), version=d) for d in range(5)]
    retention.protectors().append(lambda t: {ids[0]} if t.id == tenant.id else set())
    assert prune(tenant, NOW).deleted == ids[1:2]


def test_does_a_failed_snapshot_go_once_older_than_the_daily_window(tenant: Tenant) -> None:
    good = [snapshot(tenant, NOW - timedelta(days=2 - d), version=d) for d in range(3)]
    failed_old = snapshot(tenant, NOW - timedelta(days=10), version=50, status="failed")
    failed_new = snapshot(tenant, NOW - timedelta(hours=3), version=51, status="failed")

    result = prune(tenant, NOW)
    assert result.deleted == [failed_old]
    assert set(result.kept) == {*good, failed_new}


def test_does_pruning_leave_other_tenants_alone(tenant: Tenant) -> None:
    other = make_tenant("other")
    theirs = [snapshot(other, NOW - timedelta(days=20 - d), version=d) for d in range(6)]
    mine = [snapshot(tenant, NOW - timedelta(days=20 - d), version=d) for d in range(6)]

    assert prune(tenant, NOW).deleted == mine[:3]
    assert set(db.session.scalars(select(Snapshot.id).where(Snapshot.tenant_id == other.id))) == set(theirs)
    for snapshot_id in theirs:
        SnapshotReader(snapshot_id).verify()


def test_does_the_periodic_task_prune_each_tenant_once_a_day(tenant: Tenant) -> None:
    assert periodic_tasks()["backups.retention"] is run_retention
    ids = [snapshot(tenant, NOW - timedelta(days=20 - d), version=d) for d in range(5)]

    run_retention(NOW)
    assert set(db.session.scalars(select(Snapshot.id))) == set(ids[-3:])

    # Within the day, another tick (this machine's or another's) does nothing, even with something to prune.
    db.session.execute(update(Snapshot).where(Snapshot.id == ids[2]).values(taken_at=NOW - timedelta(days=30)))
    db.session.commit()
    newer = [snapshot(tenant, NOW - timedelta(hours=5 - h), version=10 + h) for h in range(2)]
    run_retention(NOW + timedelta(hours=23))
    assert set(db.session.scalars(select(Snapshot.id))) == {*ids[-3:], *newer}

    run_retention(NOW + timedelta(hours=24))
    assert set(db.session.scalars(select(Snapshot.id))) == {ids[3], ids[4], newer[1]}


def test_does_purging_an_uninstalled_tenant_take_its_backups_along(tenant: Tenant) -> None:
    """The database cascades tenant → snapshots → entries and tenant → blobs in one statement."""
    from app.connect.installs import mark_uninstalled
    from app.tenants import purge_uninstalled

    for d in range(3):
        snapshot(tenant, NOW - timedelta(days=d), version=d)
    mark_uninstalled(tenant)
    assert purge_uninstalled(0, now=datetime.now() + timedelta(days=1)) == ["source"]
    for model in (Snapshot, SnapshotType, SnapshotEntry, Blob, BlobData):
        assert db.session.execute(select(func.count()).select_from(model)).scalar_one() == 0
