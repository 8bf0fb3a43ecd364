"""Does the restore's verification compare the destination's issues with the snapshot on its own (by key and names,
never the run's ids): identical after a restore of issues-small, and a later edit on the destination shown in words?"""

from __future__ import annotations

from app.extensions import db
from app.restore.issues.run import authors_for
from app.restore.issues.verify import verify_restored
from app.restore.models import RestoreRun
from app.tenant_access import jira_access
from app.tenants import Tenant
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import preview, restore
from tests.restore.test_restore_issue_job import _SEED, _as_app, issue_sites  # noqa: F401  (fixture)


def test_restored_issues_verify_identical_and_a_later_edit_shows(app, issue_sites, fake_cloud,  # noqa: F811
                                                                 oauth_grant) -> None:
    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    run = restore(app, issue_sites, preview(app, issue_sites, snapshot_id))
    assert run.status == "done", run.message
    with app.app_context():
        verification = db.session.get(RestoreRun, run.id).verification
    issues = verification["perType"]["issues"]
    differences = [d for d in verification["differences"] if d["type"] == "issues"]
    # identical but for assignees whose account was inactive on the source (Jira sets no inactive person): those
    # are said, with their reason; nothing unexplained
    assert all(d["reason"] and "'Assignee' was 'Former user'" in d["words"] for d in differences), differences
    inactive = [i for i in _SEED["issues"] if (i["fields"].get("assignee") or {}).get("active") is False]
    assert sorted(d["name"] for d in differences) == sorted(i["key"] for i in inactive)
    assert issues == {"restorable": len(_SEED["issues"]), "identical": len(_SEED["issues"]) - len(differences)}

    key = _SEED["issues"][0]["key"]
    edited = _as_app(issue_sites.dest).put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": "Changed here"}})
    assert edited.status_code == 204, edited.text
    with app.app_context():
        tenant = db.session.get(Tenant, issue_sites.dest_tenant_id)
        authors, _ = authors_for(tenant, _Everyone())  # restricted comments read as their authors, as the job does
        check = verify_restored(jira_access(tenant), snapshot_id, run.summary["issues"], authors.client_for)
    assert check is not None and check.identical == issues["identical"] - 1
    words = [d.words for d in check.differences if not d.reason]
    original = _SEED["issues"][0]["fields"]["summary"]
    assert words == [f"{key}: summary was {original!r} in the backup, 'Changed here' on this site"]


class _Everyone:
    """An id map keeping every person (the destination has them all)."""

    def user(self, account_id: str) -> str:
        return account_id
