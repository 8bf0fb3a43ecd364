"""Can an admin start a backup from the page, follow it, and read a snapshot's contents, names staying text?"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app.backups.schedule import BackupSchedule  # noqa: F401  (tables)
from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from fakejira import installer
from fakejira.resources.basics import admin_account_id
from tests.admin.test_recovery_page import Page
from tests.backups.capture_support import small_seed


@pytest.fixture
def site(fake_cloud, install_into):
    seed = small_seed("pagesite")
    seed["projectCategories"][0]["name"] = "<script>alert('x')</script>"
    s = fake_cloud.add_site("pagesite", seed=seed)
    s.client_key = install_into(s)
    return s


def token(app, site, account_id: str | None = None) -> str:
    return installer.context_token(site, app.config["APP_KEY"], account_id or admin_account_id(site))


def test_back_up_now_queues_one_job_and_redirects_to_the_list(live_app, site) -> None:
    base = live_app.config["BASE_URL"]
    resp = requests.post(f"{base}/admin/backups/start", data={"jwt": token(live_app, site)}, allow_redirects=False,
                         timeout=10)
    assert resp.status_code == 303
    page = Page(requests.get(base + resp.headers["Location"] if resp.headers["Location"].startswith("/")
                             else resp.headers["Location"], timeout=10))
    assert page.has("backup-started") and page.has("backup-running") and page.has("backup-refresh")
    again = requests.post(f"{base}/admin/backups/start", data={"jwt": token(live_app, site)},
                          headers={"Accept": "application/json"}, timeout=10)
    assert again.status_code == 200 and again.json()["created"] is False
    with live_app.app_context():
        assert len(db.session.scalars(select(Job).where(Job.kind == "backup")).all()) == 1


def test_progress_list_and_detail_after_a_backup(live_app, site) -> None:
    base = live_app.config["BASE_URL"]
    headers = {"Authorization": f"JWT {token(live_app, site)}", "Accept": "application/json"}
    job_id = requests.post(f"{base}/admin/backups/start", headers=headers, timeout=10).json()["jobId"]
    assert requests.get(f"{base}/admin/backups/progress", headers=headers, timeout=10).json()["state"] == "queued"
    with live_app.app_context():
        assert run_job(job_id) == "succeeded"
    progress = requests.get(f"{base}/admin/backups/progress", headers=headers, timeout=10).json()
    assert progress["state"] == "succeeded" and progress["percent"] == 100 and progress["finished"]
    page = Page(requests.get(f"{base}/admin/backups/view", params={"jwt": token(live_app, site)}, timeout=10))
    row = page.one("snapshot-row")
    assert row.attrs["data-status"] == "partial"
    assert int(page.one("snapshot-objects").attrs["data-count"]) > 0 and page.has("snapshot-incomplete-types")
    # Who started it: the admin, by display name (the account id stays in a data attribute).
    assert page.text("snapshot-started-by") == "Site Admin"
    assert page.one("snapshot-started-by").attrs["data-account-id"].startswith("557058:")
    assert page.has("back-to-main")  # a way back to the main page
    sid = row.attrs["data-snapshot-id"]
    per_type = Page(requests.get(f"{base}/admin/backups/{sid}", params={"jwt": token(live_app, site)}, timeout=10))
    counts = {tr.attrs["data-type"]: tr.attrs for tr in per_type.all("snapshot-type")}
    assert counts["workflows"]["data-status"] == "unreadable" and int(counts["projects"]["data-count"]) == 5
    detail = Page(requests.get(f"{base}/admin/backups/{sid}", params={"jwt": token(live_app, site),
                                                                   "type": "projectCategories"}, timeout=10))
    assert "<script>alert('x')</script>" in [e.text for e in detail.all("snapshot-entry")]
    assert "<script>alert('x')</script>" not in detail.html  # escaped: hostile names stay text
    reasons = [e.text for e in detail.all("type-reason")]
    assert any("Authorise full backup and restore" in r for r in reasons)


@pytest.mark.parametrize("path", ["/admin/backups/view", "/admin/backups/progress", "/admin/backups/1"])
def test_pages_refuse_without_a_token_or_as_a_non_admin(live_app, site, path) -> None:
    base = live_app.config["BASE_URL"]
    assert requests.get(base + path, timeout=10).status_code == 401
    stranger = token(live_app, site, "557058:not-an-admin")
    assert requests.get(base + path, params={"jwt": stranger}, timeout=10).status_code == 403


def test_another_tenants_snapshot_is_not_found(live_app, site) -> None:
    base = live_app.config["BASE_URL"]
    resp = requests.get(f"{base}/admin/backups/999999", params={"jwt": token(live_app, site)}, timeout=10)
    assert resp.status_code == 404
