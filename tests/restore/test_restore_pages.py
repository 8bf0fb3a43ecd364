"""Can an admin of the destination preview, start, follow and download a restore from the pages, and nobody else?"""

from __future__ import annotations

import pytest
import requests

from app.extensions import db
from app.jobs.runtime import run_job
from app.restore.models import RestoreRun
from fakejira import installer
from fakejira.resources.basics import admin_account_id
from tests.admin.test_recovery_page import Page


def token(app, site, account_id: str | None = None) -> str:
    return installer.context_token(site, app.config["APP_KEY"], account_id or admin_account_id(site))


def _get(app, site, path: str, **params) -> requests.Response:
    return requests.get(app.config["BASE_URL"] + path, params={"jwt": token(app, site), **params}, timeout=10)


def _follow(app, resp: requests.Response) -> Page:
    assert resp.status_code == 303, resp.text[:500]
    location = resp.headers["Location"]
    url = location if location.startswith("http") else app.config["BASE_URL"] + location
    page = requests.get(url, timeout=10)
    assert page.status_code == 200
    return Page(page)


def test_preview_restore_and_report_through_the_pages(live_app, sites, snapshot_id, oauth_grant) -> None:
    oauth_grant(sites.dest, sites.dest_tenant_id)
    base = live_app.config["BASE_URL"]
    resp = requests.post(f"{base}/admin/restore/preview", data={"jwt": token(live_app, sites.dest),
                                                                "snapshot_id": snapshot_id},
                         allow_redirects=False, timeout=10)
    page = _follow(live_app, resp)
    assert page.one("restore-status").attrs["data-status"] == "planning"
    assert page.has("restore-refresh")
    with live_app.app_context():
        run = db.session.scalars(db.select(RestoreRun)).one()
        run_id, job_id = run.id, run.job_id
        assert run_job(job_id) == "succeeded"
    page = Page(_get(live_app, sites.dest, f"/admin/restore/{run_id}"))
    types = {t.attrs["data-type"] for t in page.all("preview-type")}
    assert {"projectCategories", "statuses", "groups"} <= types
    # the source was backed up without its admin's OAuth grant: what the backup couldn't read is said up front
    assert "workflows" in page.one("preview-unread").text and not page.has("preview-unsupported")
    rows = " ".join(r.text for r in page.all("restore-item"))
    assert '=HYPERLINK("x") <b>Clients</b>' in rows and "<b>Clients</b>" not in page.html  # names stay text
    selected = Page(_get(live_app, sites.dest, f"/admin/restore/{run_id}", scope="some", type="projectRoles"))
    assert {li.attrs["data-type"] for li in selected.all("pulled-in")} <= {"groups"}
    resp = requests.post(f"{base}/admin/restore/{run_id}/start",
                         data={"jwt": token(live_app, sites.dest), "scope": "all", "user_fallback": "drop",
                               "confirmed": "yes"},
                         allow_redirects=False, timeout=10)
    page = _follow(live_app, resp)
    assert page.one("restore-status").attrs["data-status"] == "restoring"
    assert page.has("restore-cancel")
    progress = requests.get(f"{base}/admin/restore/{run_id}/progress",
                            headers={"Authorization": f"JWT {token(live_app, sites.dest)}"}, timeout=10).json()
    assert progress["status"] == "restoring"
    with live_app.app_context():
        job_id = db.session.get(RestoreRun, run_id).job_id
        assert run_job(job_id) == "succeeded"
    page = Page(_get(live_app, sites.dest, f"/admin/restore/{run_id}"))
    assert page.one("restore-status").attrs["data-status"] == "done"
    assert 0 < float(page.one("fidelity").attrs["data-fidelity"]) <= 1
    # The new site lacks the source's people: done, with the differences listed and each explained in words
    assert page.one("verdict").attrs["data-complete"] == "false"
    differences = page.all("difference")
    assert differences and all(d.attrs["data-explained"] == "true" for d in differences)
    assert not page.has("unexplained")
    csv_resp = _get(live_app, sites.dest, f"/admin/restore/{run_id}/report.csv")
    assert csv_resp.headers["Content-Type"].startswith("text/csv") and "'=HYPERLINK" in csv_resp.text
    report = _get(live_app, sites.dest, f"/admin/restore/{run_id}/report.json").json()
    assert report["summary"]["outcomes"]["created"] >= 5


@pytest.mark.parametrize("path", ["/admin/restore/1", "/admin/restore/1/progress", "/admin/restore/1/report.csv"])
def test_restore_pages_refuse_without_a_token_or_as_a_non_admin(live_app, sites, path) -> None:
    base = live_app.config["BASE_URL"]
    assert requests.get(base + path, timeout=10).status_code == 401
    stranger = token(live_app, sites.dest, "557058:not-an-admin")
    assert requests.get(base + path, params={"jwt": stranger}, timeout=10).status_code == 403


def test_the_source_cannot_restore_and_foreign_snapshots_are_refused(live_app, sites, snapshot_id) -> None:
    base = live_app.config["BASE_URL"]
    # The source has no Active connection as a destination: no restore from there.
    resp = requests.post(f"{base}/admin/restore/preview", data={"jwt": token(live_app, sites.source),
                                                                "snapshot_id": snapshot_id}, timeout=10)
    assert resp.status_code == 403
    resp = requests.post(f"{base}/admin/restore/preview", data={"jwt": token(live_app, sites.dest),
                                                                "snapshot_id": 999999}, timeout=10)
    assert resp.status_code == 404
    assert _get(live_app, sites.dest, "/admin/restore/424242").status_code == 404
