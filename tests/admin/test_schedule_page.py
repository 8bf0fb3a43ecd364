"""Can an admin see when the next automatic backup runs, how often and what is kept, and change it with a plain form
— refused with a clear 400 that changes nothing on a bad value, asked first when the new retention deletes backups,
audited — and is a failed scheduled backup said at the top of the page until one succeeds?"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import func, select

from app import tenants as tenant_store
from app.backups.models import Snapshot
from app.backups.schedule import BackupSchedule
from app.clock import utcnow
from app.extensions import db
from app.jobs.models import Job
from app.recovery import audit
from tests.admin.test_recovery_page import Admin, Page

ADMIN_NAME = "Site Admin"


@pytest.fixture
def site(fake_cloud, install_into):
    s = fake_cloud.add_site("schedsite")
    s.client_key = install_into(s)
    return s


@pytest.fixture
def admin(live_app, site) -> Admin:
    return Admin(live_app, site)


def tenant_of(site):
    return tenant_store.get_by_client_key(site.client_key)


def schedule_row(live_app, site) -> tuple[bool, int, int | None, int | None]:
    with live_app.app_context():
        row = db.session.get(BackupSchedule, tenant_of(site).id)
        return row.enabled, row.interval_hours, row.retention_daily, row.retention_weekly


def snapshots(live_app, site, days: int) -> None:
    """One complete snapshot a day for ``days`` days, the newest yesterday."""
    with live_app.app_context():
        tenant = tenant_of(site)
        now = utcnow()
        db.session.add_all([Snapshot(tenant_id=tenant.id, status="complete", app_version="1", format_version=1,
                                     taken_at=now - timedelta(days=d, hours=1)) for d in range(1, days + 1)])
        db.session.commit()


def snapshot_count(live_app, site) -> int:
    with live_app.app_context():
        return db.session.scalar(select(func.count(Snapshot.id)).where(Snapshot.tenant_id == tenant_of(site).id))


def schedule_entries(live_app, site) -> list[audit.AuditEntry]:
    with live_app.app_context():
        return [e for e in audit.entries_for(tenant_of(site).id) if e.action == "schedule-changed"]


def form(**values: str) -> dict[str, str]:
    fields = {"enabled": "on", "interval_hours": "24", "retention_daily": "30", "retention_weekly": "12"}
    fields.update(values)
    return {k: v for k, v in fields.items() if v is not None}


def test_the_main_page_says_when_the_next_backup_runs_how_often_and_what_is_kept(admin) -> None:
    page = admin.open()
    box = page.one("schedule")
    assert (box.attrs["data-enabled"], box.attrs["data-interval-hours"]) == ("true", "24")
    assert re.fullmatch(r"In \d+ (hours?|minutes?) \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)", page.text("schedule-next"))
    assert page.text("schedule-interval-words") == "Every day"
    assert "last 30 days" in page.text("schedule-retention") and "last 12 weeks" in page.text("schedule-retention")
    assert page.has("schedule-form") and {"schedule-interval", "schedule-daily", "schedule-weekly"} <= {
        i.get("data-testid") for i in page.one("schedule-form").inputs}


def test_saving_the_schedule_changes_it_and_is_audited(live_app, site, admin) -> None:
    admin.open()
    page = admin.submit("schedule-form", form(interval_hours="6", retention_daily="10", retention_weekly="4"))
    assert page.one("notice").attrs["data-notice-kind"] == "success" and "schedule saved" in page.text("notice")
    assert schedule_row(live_app, site) == (True, 6, 10, 4)
    assert page.text("schedule-interval-words") == "Every 6 hours"
    entry = schedule_entries(live_app, site)[0]
    assert entry.side == "schedule" and entry.account_id == admin.account_id
    assert entry.detail == ("Every 6 hours; keeps 10 days and 4 weeks of backups (was: every 24 hours; keeps 30 days "
                            "and 12 weeks of backups).")
    row = next(r for r in page.all("audit-row") if r.attrs["data-action"] == "schedule-changed")
    assert row.attrs["data-side"] == "schedule"
    who = next(w for w, r in zip(page.all("audit-who"), page.all("audit-row"), strict=True) if r is row)
    assert " ".join(who.text.split()) == ADMIN_NAME
    # Switched off: no next automatic backup, said in words.
    page = admin.submit("schedule-form", form(enabled=None, interval_hours="6", retention_daily="10",
                                              retention_weekly="4"))
    assert schedule_row(live_app, site)[0] is False
    assert page.one("schedule").attrs["data-enabled"] == "false" and "automatic backups are off" in page.text(
        "schedule-next")


@pytest.mark.parametrize("field,value", [
    ("interval_hours", "0"), ("interval_hours", "169"), ("interval_hours", "abc"), ("interval_hours", ""),
    ("interval_hours", "1e3"), ("interval_hours", "-1"), ("interval_hours", "\uff16"), ("interval_hours", "9" * 40),
    ("retention_daily", "0"), ("retention_daily", "<script>alert(1)</script>"), ("retention_weekly", "521"),
    ("retention_weekly", "4.5"),
])
def test_a_bad_value_is_refused_with_400_and_changes_nothing(live_app, site, admin, field, value) -> None:
    admin.open()
    before = schedule_row(live_app, site)
    page = admin.submit("schedule-form", form(**{field: value}), expect=400)
    assert page.one("schedule-error").attrs["data-field"] == field
    assert "expected a whole number from" in page.text("schedule-error")
    assert "Nothing was changed." in page.text("schedule-error")
    assert "<script>alert(1)</script>" not in page.html  # typed text stays text
    assert schedule_row(live_app, site) == before and schedule_entries(live_app, site) == []


def test_shortening_retention_asks_first_with_the_number_then_deletes_now(live_app, site, admin) -> None:
    snapshots(live_app, site, 8)
    admin.open()
    page = admin.submit("schedule-form", form(retention_daily="3", retention_weekly="0"), expect=409)
    confirm = page.one("schedule-confirm")
    assert confirm.attrs["data-count"] == "5" and confirm.attrs["data-code"] == "confirmation-required"
    assert page.text("schedule-confirm-words").startswith("This will delete 5 backups now, as soon as you save")
    assert snapshot_count(live_app, site) == 8 and schedule_row(live_app, site)[2] is None  # nothing yet
    assert schedule_entries(live_app, site) == []
    # A confirmation for another number (a backup finished meanwhile) asks again instead of deleting.
    stale = admin.submit("schedule-confirm-form", {"confirmed_deletions": "4"}, page=page, expect=409)
    assert stale.one("schedule-confirm").attrs["data-count"] == "5" and snapshot_count(live_app, site) == 8
    page = admin.submit("schedule-confirm-form", page=stale)
    assert "schedule saved" in page.text("notice")
    assert snapshot_count(live_app, site) == 3 and schedule_row(live_app, site)[2:] == (3, 0)
    assert schedule_entries(live_app, site)[0].detail.endswith("5 backups deleted by the new retention.")


def test_the_backups_page_keeps_its_own_form_and_pager(live_app, site, admin) -> None:
    snapshots(live_app, site, 22)
    main = admin.open()
    assert main.has("all-backups") and not main.has("backup-pager")
    listing = Page(requests.get(urljoin(admin.base, main.one("all-backups").attrs["href"]), timeout=10))
    assert listing.has("backup-pager") and not listing.has("all-backups")
    back = next(i for i in listing.one("schedule-form").inputs if i.get("name") == "back")
    assert back["value"] == "backups"
    admin.page = listing
    saved = admin.submit("schedule-form", form(interval_hours="12", retention_daily="30", retention_weekly="12"))
    assert saved.has("schedule-saved") and saved.has("backup-pager")
    assert schedule_row(live_app, site)[1] == 12


def test_a_failed_scheduled_backup_is_said_at_the_top_until_one_succeeds(live_app, site, admin) -> None:
    with live_app.app_context():
        tenant = tenant_of(site)
        db.session.add(Job(id="f" * 36, tenant_id=tenant.id, kind="backup", state="failed", requested_by="schedule",
                           message="Jira answered 503 Service Unavailable for every call.",
                           created_at=utcnow() - timedelta(hours=3), finished_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
    page = admin.open()
    alert = page.one("backup-alert")
    assert alert.attrs["data-scheduled"] == "true" and alert.attrs["role"] == "alert"
    text = " ".join(alert.text.split())
    assert text.startswith("The scheduled backup failed 2 hours ago")
    assert "Jira answered 503 Service Unavailable for every call." in text
    assert "This message stays until a backup succeeds." in text
    assert page.has("backup-failed")  # and in the Backups section
    # Listed in the audit log too, as the schedule's.
    failed = next(r for r in page.all("audit-row") if r.attrs["data-action"] == "backup-failed")
    assert failed.attrs["data-outcome"] == "failed"
    with live_app.app_context():
        db.session.add(Job(id="s" * 36, tenant_id=tenant_of(site).id, kind="backup", state="succeeded",
                           requested_by="schedule", created_at=utcnow() - timedelta(minutes=30),
                           finished_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    page = admin.open()
    assert not page.has("backup-alert") and not page.has("backup-failed")


def test_the_audit_log_pages_through_every_entry(live_app, site, admin) -> None:
    with live_app.app_context():
        tenant = tenant_of(site)
        for n in range(30):
            audit.record(tenant.id, side="schedule", action="schedule-changed", outcome="succeeded",
                         account_id=admin.account_id, detail=f"change {n}",
                         now=utcnow() - timedelta(minutes=60 - n))
        db.session.commit()
    main = admin.open()
    assert len(main.all("audit-row")) == 10 and main.has("all-audit")
    assert main.text("all-audit") == "All 30 entries"
    first = Page(requests.get(urljoin(admin.base, main.one("all-audit").attrs["href"]), timeout=10))
    assert len(first.all("audit-row")) == 25 and first.text("audit-position") == "Page 1 of 2"
    older = Page(requests.get(urljoin(admin.base, first.one("audit-older").attrs["href"]), timeout=10))
    assert len(older.all("audit-row")) == 5 and older.has("audit-newer") and older.has("back-to-main")
    assert requests.get(admin.base + "/admin/recovery/audit", params={"jwt": admin.context_token(),
                                                                      "page": "x"}, timeout=10).status_code == 400
