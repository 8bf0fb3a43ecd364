"""Do the Connect backup pages (the list and one snapshot) say the Jira points each backup spent, as its job
recorded them?"""

from __future__ import annotations

import requests

from app.backups.models import Snapshot
from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from tests.admin.test_backups_page import site, token  # noqa: F401  (fixture)
from tests.admin.test_recovery_page import Page


def test_the_list_and_the_detail_show_the_backups_spend(live_app, site) -> None:  # noqa: F811
    base = live_app.config["BASE_URL"]
    headers = {"Authorization": f"JWT {token(live_app, site)}", "Accept": "application/json"}
    job_id = requests.post(f"{base}/admin/backups/start", headers=headers, timeout=10).json()["jobId"]
    with live_app.app_context():
        assert run_job(job_id) == "succeeded"
        spent = db.session.get(Job, job_id).points["points"]
        snapshot_id = db.session.scalars(db.select(Snapshot.id).where(Snapshot.job_id == job_id)).one()
    assert spent > 0
    listing = Page(requests.get(f"{base}/admin/backups/view", params={"jwt": token(live_app, site)}, timeout=10))
    cell = listing.one("snapshot-points")
    assert int(cell.attrs["data-points"]) == spent and cell.text.strip() == f"{spent:,}"
    detail = Page(requests.get(f"{base}/admin/backups/{snapshot_id}", params={"jwt": token(live_app, site)},
                               timeout=10))
    assert int(detail.one("snapshot-points").attrs["data-points"]) == spent
    assert detail.text("snapshot-points") == f"{spent:,} points of Jira's hourly quota"
