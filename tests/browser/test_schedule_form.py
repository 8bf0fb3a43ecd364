"""Can a Jira admin, in headless Chromium, read the backup schedule on the Disaster recovery page and change it with
its form (a refused value said in place, a shorter retention confirmed with its number), see a failed scheduled
backup at the top of the page and the whole audit log — with no serious axe-core violation?"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app import tenants as tenant_store
from app.backups.models import Snapshot
from app.backups.schedule import BackupSchedule
from app.clock import utcnow
from app.extensions import db
from app.jobs.models import Job
from fakejira import installer
from fakejira.resources.basics import admin_account_id
from tests.browser.test_copy_token import _serious_violations

pytestmark = pytest.mark.browser


def _open(context, app, site):
    page = context.new_page()
    page.goto(installer.sign_iframe_url(site, app.config["APP_KEY"], "/admin/recovery", admin_account_id(site)))
    expect(page.get_by_test_id("schedule")).to_be_visible()
    return page


def test_the_schedule_form_in_a_browser(live_app, fake_cloud, install_into, browser_context, screenshot_dir) -> None:
    site = fake_cloud.add_site("scheduler")
    site.client_key = install_into(site)
    with live_app.app_context():
        tenant = tenant_store.get_by_client_key(site.client_key)
        now = utcnow()
        db.session.add_all([Snapshot(tenant_id=tenant.id, status="complete", app_version="1", format_version=1,
                                     taken_at=now - timedelta(days=d, hours=1)) for d in range(1, 6)])
        db.session.add(Job(id="f" * 36, tenant_id=tenant.id, kind="backup", state="failed", requested_by="schedule",
                           message="Jira answered 503 Service Unavailable for every call.",
                           created_at=now - timedelta(hours=4), finished_at=now - timedelta(hours=3)))
        db.session.commit()
        tenant_id = tenant.id

    page = _open(browser_context, live_app, site)
    expect(page.get_by_test_id("backup-alert")).to_contain_text("The scheduled backup failed 3 hours ago")
    expect(page.get_by_test_id("backup-alert")).to_contain_text("Jira answered 503 Service Unavailable")
    expect(page.get_by_test_id("schedule-next")).to_contain_text("In ")
    expect(page.get_by_test_id("schedule-interval-words")).to_have_text("Every day")
    page.screenshot(path=str(screenshot_dir / "schedule-01-main-page.png"), full_page=True)
    assert not _serious_violations(page)

    # A value out of range: the browser's own check is bypassed (as a hand-made request would be); the server says
    # which field and keeps what was typed.
    page.get_by_text("Change the schedule").click()
    page.get_by_test_id("schedule-form").evaluate("f => f.noValidate = true")
    page.get_by_label("Hours between backups").fill("200")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_test_id("schedule-error")).to_contain_text("Hours between backups: expected a whole number")
    expect(page.get_by_label("Hours between backups")).to_have_value("200")
    expect(page.get_by_label("Hours between backups")).to_have_attribute("aria-invalid", "true")
    assert not _serious_violations(page)
    page.screenshot(path=str(screenshot_dir / "schedule-02-refused.png"), full_page=True)

    # A shorter retention: asked first, with the number, before anything is deleted.
    page.get_by_label("Hours between backups").fill("6")
    page.get_by_label("Days kept").fill("2")
    page.get_by_label("Weeks kept").fill("0")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_test_id("schedule-confirm")).to_have_attribute("data-count", "3")
    expect(page.get_by_test_id("schedule-confirm-words")).to_contain_text("This will delete 3 backups now")
    assert not _serious_violations(page)
    page.screenshot(path=str(screenshot_dir / "schedule-03-confirm.png"), full_page=True)
    page.get_by_role("button", name="Delete 3 backups and save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Backup schedule saved")
    expect(page.get_by_test_id("schedule-interval-words")).to_have_text("Every 6 hours")
    expect(page.get_by_test_id("audit-row").first).to_have_attribute("data-action", "schedule-changed")
    expect(page.get_by_test_id("audit-who").first).to_have_text("Site Admin")
    page.screenshot(path=str(screenshot_dir / "schedule-04-saved.png"), full_page=True)
    with live_app.app_context():
        row = db.session.get(BackupSchedule, tenant_id)
        assert (row.interval_hours, row.retention_daily, row.retention_weekly) == (6, 2, 0)
        assert db.session.scalar(select(func.count(Snapshot.id)).where(Snapshot.tenant_id == tenant_id)) == 2
