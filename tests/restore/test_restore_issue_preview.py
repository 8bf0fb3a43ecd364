"""Does the Connect restore's confirmation say, per project, what issue data comes back (issues, comments, worklogs,
attachments and their bytes, restricted comments) and the least points it takes, in the same figures
as the snapshot holds?"""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.issuedata.records import iter_issues, project_keys
from app.jobs.runtime import run_job
from app.restore.models import RestoreRun
from tests.admin.test_recovery_page import Page
from tests.restore.conftest import take_backup
from tests.restore.test_restore_issue_job import issue_sites  # noqa: F401  (fixture)
from tests.restore.test_restore_pages import _follow, _get, token


def _expected(app, snapshot_id: int) -> dict[str, dict[str, int]]:
    """Per project, the figures counted from the snapshot's records."""
    out: dict[str, dict[str, int]] = {}
    with app.app_context():
        for project in project_keys(snapshot_id):
            records = list(iter_issues(snapshot_id, project))
            out[project] = {"issues": len(records), "comments": sum(len(r.comments) for r in records),
                            "worklogs": sum(len(r.worklogs) for r in records),
                            "attachments": sum(len(r.attachments) for r in records),
                            "attachmentBytes": sum(r.attachment_bytes for r in records)}
    return out


def _check(rows: dict[str, dict[str, Any]], expected: dict[str, dict[str, int]]) -> None:
    assert set(rows) == set(expected) and len(expected) == 3
    for project, want in expected.items():
        got = rows[project]
        assert {k: int(got[k]) for k in want} == want, project
        least = want["issues"] + want["comments"] + want["worklogs"] + want["attachments"]
        assert int(got["points"]) > least  # the writes, then one read of what was created
    assert sum(w["comments"] for w in expected.values()) and sum(w["attachmentBytes"] for w in expected.values())


def test_the_connect_confirmation_shows_issue_data_per_project(live_app, issue_sites, fake_cloud,  # noqa: F811
                                                               oauth_grant) -> None:
    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    snapshot_id = take_backup(live_app, issue_sites.source_tenant_id, fake_cloud)
    base = live_app.config["BASE_URL"]
    import requests

    _follow(live_app, requests.post(f"{base}/admin/restore/preview", allow_redirects=False, timeout=10,
                                    data={"jwt": token(live_app, issue_sites.dest), "snapshot_id": snapshot_id}))
    with live_app.app_context():
        run = db.session.scalars(db.select(RestoreRun)).one()
        run_id = run.id
        assert run_job(run.job_id) == "succeeded"
    page = Page(_get(live_app, issue_sites.dest, f"/admin/restore/{run_id}", step="confirm", scope="all",
                     user_fallback="drop"))
    rows = {r.attrs["data-project"]: {k.removeprefix("data-").replace("-b", "B").replace("-c", "C"): v
                                      for k, v in r.attrs.items() if k.startswith("data-")}
            for r in page.all("confirm-issues-project")}
    _check(rows, _expected(live_app, snapshot_id))
    total = int(page.one("confirm-issues").attrs["data-points"])
    assert 0 < total <= sum(int(r["points"]) for r in rows.values())
    assert page.text("confirm-issues-points").startswith("At least ")
