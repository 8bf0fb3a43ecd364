"""Do the Connect restore pages say Jira's points: the least before a restore, the spend per phase after it, and
each history row's spend, the same numbers the jobs recorded?"""

from __future__ import annotations

import requests

from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.quota.budget import EXTENSION
from app.restore.models import RestoreRun
from tests.admin.test_recovery_page import Page
from tests.restore.test_restore_pages import _follow, _get, token


def _points(app, job_id: str) -> dict:
    with app.app_context():
        return db.session.get(Job, job_id).points


def test_the_pages_show_the_estimate_and_the_spend(live_app, sites, snapshot_id, oauth_grant) -> None:
    live_app.config["QUOTA_TENANT_POINTS"] = 100_100
    live_app.extensions.pop(EXTENSION, None)  # built on first use (the fixtures' backup): again with this quota
    oauth_grant(sites.dest, sites.dest_tenant_id)
    base = live_app.config["BASE_URL"]
    _follow(live_app, requests.post(f"{base}/admin/restore/preview", allow_redirects=False, timeout=10,
                                    data={"jwt": token(live_app, sites.dest), "snapshot_id": snapshot_id}))
    with live_app.app_context():
        run = db.session.scalars(db.select(RestoreRun)).one()
        run_id, preview_job = run.id, run.job_id
        assert run_job(preview_job) == "succeeded"
    preview_points = _points(live_app, preview_job)["points"]
    assert preview_points > 0

    confirm = Page(_get(live_app, sites.dest, f"/admin/restore/{run_id}", step="confirm", scope="all",
                        user_fallback="drop"))
    estimate = confirm.one("confirm-points")
    creates = int(confirm.one("restore-confirmation").attrs["data-creates"])
    least = int(estimate.attrs["data-points"])
    assert least >= preview_points + creates > preview_points  # a read of the destination, the writes, a re-read
    assert estimate.attrs["data-site-quota"] == "100100" and 0 < float(estimate.attrs["data-hours"]) < 1
    words = confirm.text("confirm-points")
    assert words.startswith(f"At least ~{least:,} points of Jira's hourly quota of 100,100: ")
    assert words.endswith("hours at this site's quota.")

    _follow(live_app, requests.post(f"{base}/admin/restore/{run_id}/start", allow_redirects=False, timeout=10,
                                    data={"jwt": token(live_app, sites.dest), "scope": "all",
                                          "user_fallback": "drop", "confirmed": "yes"}))
    with live_app.app_context():
        restore_job = db.session.get(RestoreRun, run_id).job_id
        assert run_job(restore_job) == "succeeded"
    spent = _points(live_app, restore_job)

    report = Page(_get(live_app, sites.dest, f"/admin/restore/{run_id}"))
    phases = {r.attrs["data-phase"]: int(r.attrs["data-points"]) for r in report.all("report-points-phase")}
    assert phases == {phase: int(spent["byPhase"].get(phase, 0)) for phase in ("plan", "write", "verify")}
    assert phases["write"] > 0 and phases["verify"] > 0
    assert int(report.one("report-points-total").attrs["data-points"]) == spent["points"]
    assert report.text("report-points").startswith(f"Spent {spent['points']:,} points of Jira's hourly quota")

    home = Page(_get(live_app, sites.dest, "/admin/recovery/view"))
    row = next(r for r in home.all("restore-run-points") if r.attrs["data-points"])
    assert [int(r.attrs["data-points"]) for r in home.all("restore-run-points")] == [spent["points"]]
    assert row.text.strip() == f"{spent['points']:,}"
