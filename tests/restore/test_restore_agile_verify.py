"""Does a restore job bring back sprints, rank order and votes from a real backup, and does the verification (each
site in its own terms: sprints by name and state, order by key, votes by count) see a later change, in words?"""

from __future__ import annotations

from app.extensions import db
from app.issuedata.records import iter_issues
from app.restore.issues.preview import issue_preview
from app.restore.issues.verify import verify_restored
from app.restore.models import RestoreRun
from app.restore.plan import Selection
from app.tenant_access import jira_access
from app.tenants import Tenant
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import preview, restore
from tests.restore.test_restore_issue_job import _SEED, _as_app, issue_sites  # noqa: F401  (fixture)

SPRINT_FIELD = "customfield_10020"


def test_sprints_order_and_votes_verify_and_later_changes_show(app, issue_sites, fake_cloud,  # noqa: F811
                                                                oauth_grant) -> None:
    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    with app.app_context():
        records = list(iter_issues(snapshot_id))
    assert any(r.sprints for r in records) and any(r.votes.voters for r in records)
    with app.app_context():
        rows = {row["project"]: row for row in issue_preview(issue_sites.dest_tenant_id, snapshot_id,
                                                             Selection())["projects"]}
    for project, row in rows.items():  # the preview counts each project's sprints and votes
        mine = [r for r in records if r.project_key == project]
        assert row["sprints"] == len({s["id"] for r in mine for s in r.sprints}), project
        assert row["votes"] == sum(r.votes.count for r in mine), project
    assert sum(row["sprints"] for row in rows.values()) > 0
    run = restore(app, issue_sites, preview(app, issue_sites, snapshot_id))
    assert run.status == "done", run.message
    boards = run.summary["issues"]["boards"]
    assert boards["sprintsCreated"] == len({s["id"] for r in records for s in r.sprints}), boards
    assert boards["notes"] == []
    closed = len({s["id"] for r in records for s in r.sprints if s["state"] == "closed"})
    assert boards["sprintsClosed"] == closed and "Before the restore" in boards["words"][0]
    with app.app_context():
        verification = db.session.get(RestoreRun, run.id).verification
    words = [d["words"] for d in verification["differences"] if d["type"] == "issues" and not d["reason"]]
    assert words == []  # sprints, order and votes identical (only explained differences remain)

    in_sprint = next(r for r in records if any(s["state"] == "active" for s in r.sprints))
    voted = next(r for r in records if r.votes.voters)
    last = sorted((r for r in records if r.rank and r.project_key == in_sprint.project_key),
                  key=lambda r: str(r.rank))[-1]
    first = sorted((r for r in records if r.rank and r.project_key == in_sprint.project_key),
                   key=lambda r: str(r.rank))[0]
    client = _as_app(issue_sites.dest)
    assert client.post("/rest/agile/1.0/backlog/issue", json={"issues": [in_sprint.key]}).status_code == 204
    assert client.post(f"/rest/api/3/issue/{voted.key}/votes").status_code == 204  # the app's own vote
    moved = client.put("/rest/agile/1.0/issue/rank", json={"issues": [last.key], "rankBeforeIssue": first.key})
    assert moved.status_code == 204, moved.text
    with app.app_context():
        access = jira_access(db.session.get(Tenant, issue_sites.dest_tenant_id))
        check = verify_restored(access, snapshot_id, run.summary["issues"])
    assert check is not None
    said = [d.words for d in check.differences if not d.reason]
    active = next(s for s in in_sprint.sprints if s["state"] == "active")
    assert any(w.startswith(f"{in_sprint.key}: sprints was ") and active["name"] in w for w in said), said
    count = voted.votes.count
    assert f"{voted.key}: votes was {count} in the backup, {count + 1} on this site" in said
    order = [w for w in said if "board order differs" in w]
    assert len(order) == 1 and order[0].startswith(f"{in_sprint.project_key}: ") and last.key in order[0], said


def test_a_sprint_no_issue_is_in_comes_back_with_its_board(app, issue_sites, fake_cloud,  # noqa: F811
                                                           oauth_grant) -> None:
    """A future sprint planned on a board but holding no issue yet: only the board's own sprint list names it. The
    restore job creates it on the restored board, with its name and goal."""
    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    source = _as_app(issue_sites.source)
    board = next(b for b in source.get("/rest/agile/1.0/board").json()["values"] if b.get("type") == "scrum")
    made = source.post("/rest/agile/1.0/sprint", json={"name": "Planned, nothing in it yet", "goal": "Ship it",
                                                      "originBoardId": board["id"]})
    assert made.status_code == 201, made.text
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    run = restore(app, issue_sites, preview(app, issue_sites, snapshot_id))
    assert run.status == "done", run.message
    dest = _as_app(issue_sites.dest)
    named = [(s["name"], s.get("goal"), s["state"])
             for b in dest.get("/rest/agile/1.0/board").json()["values"] if b["name"] == board["name"]
             for s in dest.get(f"/rest/agile/1.0/board/{b['id']}/sprint").json()["values"]]
    assert ("Planned, nothing in it yet", "Ship it", "future") in named, named
