"""Does the schedule enqueue each tenant's backup once per interval, staggered, even with several ticks at once?"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.backups import schedule
from app.backups.schedule import BackupSchedule, enqueue_due_backups, next_slot
from app.extensions import db
from app.jobs.models import Job
from app.tenants import Tenant

NOW = datetime(2026, 5, 4, 12, 0, 0)


@pytest.fixture
def tenants(app):
    with app.app_context():
        rows = [Tenant(client_key=f"ck-{i}", base_url=f"https://s{i}.atlassian.net", shared_secret_enc="x")
                for i in range(3)]
        db.session.add_all(rows)
        db.session.commit()
        yield rows


def jobs() -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.kind == "backup")))


def test_tenants_are_staggered_within_the_day() -> None:
    """Do twenty tenants get twenty different daily slots within the next day, the same each time they ask?"""
    slots = {next_slot(f"ck-{i}", 24, NOW) for i in range(20)}
    assert len(slots) == 20 and all(NOW < s <= NOW + timedelta(hours=24) for s in slots)
    assert next_slot("ck-1", 24, NOW) == next_slot("ck-1", 24, NOW)


def test_next_slot_is_strictly_after_and_keeps_the_phase() -> None:
    slot = next_slot("ck-1", 24, NOW)
    assert NOW < slot <= NOW + timedelta(hours=24)
    assert next_slot("ck-1", 24, slot) == slot + timedelta(hours=24)


def test_first_tick_creates_daily_schedules_and_nothing_is_due_yet(app, tenants) -> None:
    with app.app_context():
        assert enqueue_due_backups(NOW) == []
        rows = db.session.scalars(select(BackupSchedule)).all()
        assert len(rows) == 3 and all(r.interval_hours == 24 and r.next_run_at > NOW for r in rows)
        assert jobs() == []


def test_due_tenant_gets_one_backup_and_moves_to_its_next_slot(app, tenants) -> None:
    with app.app_context():
        enqueue_due_backups(NOW)
        row = db.session.get(BackupSchedule, tenants[0].id)
        due_at = row.next_run_at
        assert tenants[0].id in enqueue_due_backups(due_at)
        enqueue_due_backups(due_at)  # the same tick again: already moved on
        db.session.expire_all()
        assert [j.tenant_id for j in jobs()].count(tenants[0].id) == 1
        assert db.session.get(BackupSchedule, tenants[0].id).next_run_at == due_at + timedelta(hours=24)
        assert jobs()[0].requested_by == "schedule"


def test_not_due_and_disabled_tenants_are_left_alone(app, tenants) -> None:
    with app.app_context():
        schedule.configure(tenants[1], enabled=False, now=NOW)
        db.session.execute(BackupSchedule.__table__.update().values(next_run_at=NOW - timedelta(minutes=1))
                           .where(BackupSchedule.tenant_id == tenants[1].id))
        db.session.commit()
        enqueue_due_backups(NOW)
        assert jobs() == []


def test_configured_interval_moves_the_next_run(app, tenants) -> None:
    with app.app_context():
        row = schedule.configure(tenants[0], interval_hours=6, concurrency=2, now=NOW)
        assert row.interval_hours == 6 and row.concurrency == 2 and NOW < row.next_run_at <= NOW + timedelta(hours=6)
        with pytest.raises(ValueError):
            schedule.configure(tenants[0], interval_hours=0)


def test_two_ticks_at_once_enqueue_one_job(app, tenants) -> None:
    with app.app_context():
        enqueue_due_backups(NOW)
        due_at = max(r.next_run_at for r in db.session.scalars(select(BackupSchedule)))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def tick() -> None:
        with app.app_context():
            barrier.wait()
            try:
                enqueue_due_backups(due_at)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        per_tenant = [j.tenant_id for j in jobs()]
        assert not errors and sorted(per_tenant) == sorted({t.id for t in tenants})
