"""Does the issue restore read the destination once per project, not once per issue (issue #18's points)?

An issue the run creates holds nothing yet and starts in its workflow's initial status: its comments, worklogs,
attachments and votes are not read before they are written, its status is its type's initial one (read once per
type), and transitions are read once per issue type and status. Only an issue an earlier run started and didn't finish
(a resumed one) is read on its own, and then nothing it already holds is written again. The verification reads each
project's issues with their fields by one search (a page per 100 issues), not a search and then a fetch of each.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from app.extensions import db
from app.restore.issues.restore import ProjectIssues
from app.restore.issues.verify import verify_restored
from app.tenant_access import jira_access
from app.tenants import Tenant
from fakejira.client import ConnectClient
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import preview, restore
from tests.restore.test_restore_issue_job import _SEED, issue_sites  # noqa: F401  (fixture)
from tests.restore.test_restore_issues import APP, World, _projects, _restore_all, seed, world  # noqa: F401

PER_ISSUE_READS = ("/rest/api/3/issue/{issueIdOrKey}/comment", "/rest/api/3/issue/{issueIdOrKey}/worklog",
                   "/rest/api/3/issue/{issueIdOrKey}/votes")


def _reads(into: World, template: str) -> int:
    return len(into.dest.calls.find("GET", template))


def test_a_restore_into_an_empty_site_reads_per_project_not_per_issue(world: World) -> None:  # noqa: F811
    """Restoring issues-small into an empty destination: one search per project; no comment, worklog or vote
    list read; an issue's own read only to learn its type's initial status; transitions read per type and status."""
    world.dest.calls.clear()
    reports = _restore_all(world)
    assert all(set(r.counts()) == {"created"} for r in reports.values()), [r.counts() for r in reports.values()]
    projects = _projects(world)
    assert len(world.dest.calls.find("POST", "/rest/api/3/search/jql")) == len(projects)
    assert {t: _reads(world, t) for t in PER_ISSUE_READS} == {t: 0 for t in PER_ISSUE_READS}
    types = {(r.project_key, r.fields["issuetype"]["id"]) for r in world.records}
    assert _reads(world, "/rest/api/3/issue/{issueIdOrKey}") <= len(types)
    statuses = {(r.project_key, r.fields["issuetype"]["id"], r.fields["status"]["id"]) for r in world.records}
    transitions = _reads(world, "/rest/api/3/issue/{issueIdOrKey}/transitions")
    assert transitions <= len(statuses) + len(types)
    moved = len(world.dest.calls.find("POST", "/rest/api/3/issue/{issueIdOrKey}/transitions"))
    assert transitions < moved  # a read per type and status, fewer than the transitions it serves
    for record in world.records:  # and every status reached as before
        got = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}", query={"fields": "status"})
        assert got.json()["fields"]["status"]["id"] == record.fields["status"]["id"], record.key


def test_a_resumed_issue_is_read_and_gets_nothing_twice(world: World) -> None:  # noqa: F811
    """A run killed after an issue's comments and worklogs were written, before its attachments: the next run reads
    that issue (it isn't new any more) and writes only its attachments; no comment or worklog twice."""
    victim = next(r for r in world.records if r.attachments and r.worklogs and r.comments
                  and not [c for c in r.comments if c.get("visibility")])
    original = ProjectIssues._attachments

    def dies(self: Any, record: Any, dest: str, *args: Any) -> None:
        if record.key == victim.key:
            raise SystemExit("killed")
        original(self, record, dest, *args)

    ProjectIssues._attachments = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            world.restore(victim.project_key)
    finally:
        ProjectIssues._attachments = original  # type: ignore[method-assign]
    world.dest.calls.clear()
    report = world.restore(victim.project_key)
    assert report.issues[victim.key].outcome == "already-restored"
    client = ConnectClient(world.dest, APP)
    comments = client.get(f"/rest/api/3/issue/{victim.key}/comment").json()
    assert comments["total"] == len([c for c in victim.comments if not c.get("visibility")])
    assert client.get(f"/rest/api/3/issue/{victim.key}/worklog").json()["total"] == len(victim.worklogs)
    attachments = client.get(f"/rest/api/3/issue/{victim.key}", query={"fields": "attachment"}).json()
    assert sorted(a["filename"] for a in attachments["fields"]["attachment"]) == \
        sorted(a.filename for a in victim.attachments)
    assert _reads(world, "/rest/api/3/issue/{issueIdOrKey}/comment") >= 1  # the resumed issue was read


def test_a_resumed_issue_with_restricted_comments_gets_none_twice(world: World) -> None:  # noqa: F811
    """The same kill, on an issue with a comment restricted to a group the app's user isn't in (written as its
    author): the app can't see it, so counting what the app sees would write it again; counted as its author sees
    it, every comment is there once."""
    victim = next(r for r in world.records if r.attachments and r.comments
                  and [c for c in r.comments if c.get("visibility")
                       and c["author"]["accountId"] in world.people])
    original = ProjectIssues._attachments

    def dies(self: Any, record: Any, dest: str, *args: Any) -> None:
        if record.key == victim.key:
            raise SystemExit("killed")
        original(self, record, dest, *args)

    ProjectIssues._attachments = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            world.restore(victim.project_key)
    finally:
        ProjectIssues._attachments = original  # type: ignore[method-assign]
    world.restore(victim.project_key)
    everyone: dict[str, dict[str, Any]] = {}  # every comment on the issue, read as the app and as each author
    readers = [{"headers": {}}] + [
        {"headers": {"Authorization": f"Bearer {world.cloud.impersonation.issue_token(world.dest, APP, a)}"}}
        for a in sorted({c["author"]["accountId"] for c in victim.comments} & world.people)]
    for reader in readers:
        if not reader["headers"]:
            page = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{victim.key}/comment",
                                                      query={"maxResults": 100}).json()
        else:
            page = requests.get(f"{world.dest.base_url}/rest/api/3/issue/{victim.key}/comment", timeout=10,
                                params={"maxResults": 100}, headers=reader["headers"]).json()
        everyone.update({c["id"]: c for c in page["comments"]})
    assert len(everyone) == len(victim.comments), (victim.key, "comments written twice or missing")


def test_the_verification_reads_each_project_once(app, issue_sites, fake_cloud, oauth_grant) -> None:  # noqa: F811
    """After a restore of issues-small, the verification's reads of the issues: one search page per project (the
    projects hold fewer than 100 issues), no bulk fetch and no single issue read; the comparison as before."""
    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    run = restore(app, issue_sites, preview(app, issue_sites, snapshot_id))
    assert run.status == "done", run.message
    issue_sites.dest.calls.clear()
    with app.app_context():
        access = jira_access(db.session.get(Tenant, issue_sites.dest_tenant_id))
        check = verify_restored(access, snapshot_id, run.summary["issues"])
    assert check is not None and check.compared == len(_SEED["issues"])
    unexplained = [d.words for d in check.differences if not d.reason]
    assert unexplained == [] and check.identical == check.compared - len(check.differences)
    calls = issue_sites.dest.calls
    assert len(calls.find("POST", "/rest/api/3/search/jql")) == len(run.summary["issues"]["projects"])
    assert calls.find("POST", "/rest/api/3/issue/bulkfetch") == []
    assert calls.find("GET", "/rest/api/3/issue/{issueIdOrKey}") == []


def test_a_remembered_transition_jira_refuses_is_read_again_for_the_issue(world: World) -> None:  # noqa: F811
    """The destination's workflows change under the run (every transition gets a new id) once the first issue has
    moved: the transitions remembered from it are refused for the next issues, which read their own and still
    reach their status; none is reported failed."""
    project = "AAX0"
    original = ProjectIssues._follow_up
    changed = {"done": False}

    def then_change_the_workflows(self: Any, record: Any, outcome: Any) -> None:
        original(self, record, outcome)
        if not changed["done"] and world.dest.calls.find("POST", "/rest/api/3/issue/{issueIdOrKey}/transitions"):
            for workflow in world.dest.store.coll("workflows").values():
                for transition in workflow.get("transitions") or []:
                    if transition.get("type") != "INITIAL":
                        transition["id"] = str(9000 + int(transition["id"]))
            changed["done"] = True

    ProjectIssues._follow_up = then_change_the_workflows  # type: ignore[method-assign]
    try:
        report = world.restore(project)
    finally:
        ProjectIssues._follow_up = original  # type: ignore[method-assign]
    assert changed["done"]
    refused = [c for c in world.dest.calls.find("POST", "/rest/api/3/issue/{issueIdOrKey}/transitions")
               if c.status >= 400]
    assert refused, "no remembered transition was refused: the test changed nothing the run remembered"
    assert {o.outcome for o in report.issues.values()} == {"created"}, \
        [(k, o.notes) for k, o in report.issues.items() if o.outcome != "created"]
    for record in world.records:
        if record.project_key != project:
            continue
        got = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}", query={"fields": "status"})
        assert got.json()["fields"]["status"]["id"] == record.fields["status"]["id"], record.key
