"""Does the restore's verification compare the destination's issues with the snapshot on its own (by key and names,
never the run's ids): identical after a restore of issues-small, and a later edit on the destination shown in words?"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.recovery.connections import activate, generate_token
from app.restore import service
from app.restore.issues.preview import issue_preview
from app.restore.issues.run import authors_for
from app.restore.issues.verify import SiteFacts, compare_issue, verify_restored
from app.restore.models import RestoreRun
from app.restore.plan import Selection
from app.tenant_access import jira_access
from app.tenants import Tenant
from fakejira.resources.basics import admin_account_id
from tests.restore.conftest import Sites, take_backup
from tests.restore.test_restore_basics import preview, restore
from tests.restore.test_restore_issue_job import _SEED, _as_app, _comment_total, _keys, _seed, issue_sites  # noqa: F401
from tests.restore.test_restore_issues import ISSUE_DATA_KEYS


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


def _one_project_world(app: Any, fake_cloud: Any, install_into: Any, oauth_grant: Any) -> dict[str, Any]:
    """issues-small on a source; on a destination its configuration without a group that only a restricted comment
    names; one project of three (that comment's) restored with the admin standing in for missing people."""
    app.config["CONNECT_IMPERSONATION_URL"] = fake_cloud.impersonation.url
    seed = _seed()
    config = {k: v for k, v in seed.items() if k not in ISSUE_DATA_KEYS}
    named_by_config = json.dumps({k: v for k, v in config.items() if k not in ("groups", "groupMembers")})
    keys = {i["id"]: i["key"] for i in seed["issues"]}
    restricted = [(keys[issue_id], c) for issue_id, items in seed["issueComments"].items()
                  for c in items if (c.get("visibility") or {}).get("type") == "group"]
    group_ids = {g["name"]: g["groupId"] for g in config["groups"]}
    key, comment = next((k, c) for k, c in restricted  # a group only a comment names
                        if c["visibility"]["value"] not in named_by_config
                        and group_ids[c["visibility"]["value"]] not in named_by_config)
    group = comment["visibility"]["value"]
    project = key.split("-")[0]
    gone = next(g for g in config["groups"] if g["name"] == group)
    config["groups"] = [g for g in config["groups"] if g is not gone]
    config["groupMembers"] = {k: v for k, v in (config.get("groupMembers") or {}).items() if k != gone["groupId"]}
    source, dest = fake_cloud.add_site("one-src", seed=seed), fake_cloud.add_site("one-dst", seed=config)
    source.client_key, dest.client_key = install_into(source), install_into(dest)
    admin = admin_account_id(dest)
    with app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
        sites = Sites(source, dest, src.id, dst.id, admin)
    oauth_grant(dest, sites.dest_tenant_id)
    snapshot_id = take_backup(app, sites.source_tenant_id, fake_cloud)
    run_id = preview(app, sites, snapshot_id)
    selection = Selection(projects=[project])
    with app.app_context():
        included = service.selected_rows(db.session.get(RestoreRun, run_id), selection)
    run = restore(app, sites, run_id, selection, fallback="admin")
    assert run.status == "done", run.message
    with app.app_context():
        verification = db.session.get(RestoreRun, run.id).verification
    return {"seed": seed, "sites": sites, "snapshot_id": snapshot_id, "run": run, "verification": verification,
            "key": key, "comment": comment, "group": gone, "project": project, "included": included}


def test_a_one_project_restore_brings_the_groups_it_needs_and_explains_the_rest(app, fake_cloud, install_into,
                                                                               oauth_grant) -> None:
    """One project restored of three. Its issues name a group no configuration object does (a comment restricted
    to it): choosing the project pulls the group in — shown before the run as "also restored" — so the comment comes
    back as it was. The run's verification says every other difference with why — links to the projects left out,
    a person with no account here shown as the admin — and none is left unexplained (14 were, on issues-small's first
    project); a restricted comment whose group is gone from the destination afterwards is said with that reason."""
    world = _one_project_world(app, fake_cloud, install_into, oauth_grant)
    group, key, comment = world["group"], world["key"], world["comment"]
    pulled = [(row.type_key, row.source_id) for row, was_pulled in world["included"] if was_pulled]
    assert ("groups", group["groupId"]) in pulled
    dest = world["sites"].dest
    here = next(g for g in dest.store.values("groups") if g["name"] == group["name"])
    author = comment["author"]["accountId"]
    token = fake_cloud.impersonation.issue_token(dest, next(iter(dest.installations)), author)
    seen = requests.get(f"{dest.base_url}/rest/api/3/issue/{key}/comment", timeout=10,
                        headers={"Authorization": f"Bearer {token}"}).json()["comments"]
    mine = [c for c in seen if c.get("visibility") and c["body"] == comment["body"]]
    assert [c["visibility"]["identifier"] for c in mine] == [here["groupId"]]
    said = [d["words"] for d in world["verification"]["differences"] if d["name"] == key and "comment" in d["words"]]
    assert said == []

    verification, seed, project = world["verification"], world["seed"], world["project"]
    differences = [d for d in verification["differences"] if d["type"] == "issues"]
    assert [d["words"] for d in differences if not d["reason"]] == []
    assert verification["unexplained"] == 0
    reasons = {d["reason"] for d in differences}
    others = {i["key"].split("-")[0] for i in seed["issues"]} - {project}
    linked = [r for r in reasons if r.startswith("the linked issues (")]
    assert linked and all(r.endswith("weren't in this restore: a link is made when both its issues are restored "
                                     "by one run") for r in linked), reasons
    named = {k.strip() for r in linked for k in r.split("(", 1)[1].split(")", 1)[0].split(",")}
    assert named and {k.split("-")[0] for k in named} <= others, named
    assert any("Former user has no account on this site, so the restore put" in r for r in reasons), reasons

    # The group goes from the destination (someone deleted it): the comment restricted to it can't be read there
    # by anyone, and the verification says why rather than leaving it unexplained.
    sites = world["sites"]
    here = next(g for g in sites.dest.store.values("groups") if g["name"] == group["name"])
    sites.dest.store.delete("groups", here["groupId"])
    with app.app_context():
        tenant = db.session.get(Tenant, sites.dest_tenant_id)
        authors, _ = authors_for(tenant, _Everyone())
        check = verify_restored(jira_access(tenant), world["snapshot_id"], world["run"].summary["issues"],
                                authors.client_for, sites.admin)
    assert check is not None
    said = [d for d in check.differences if d.key == key and "restricted comment" in d.words]
    assert said and all(f"the group {group['name']} isn't on this site" in d.reason for d in said), said
    assert [d.words for d in check.differences if not d.reason] == []


def test_a_jql_subset_restores_those_issues_at_their_keys_and_nothing_else(app, issue_sites, fake_cloud,  # noqa: F811
                                                                          oauth_grant) -> None:
    """"Some of it, by JQL": the issues the query chooses in the backup come back under their own keys (the gaps
    filled and emptied again), no other issue is created, the confirmation counts only them, and the verification
    compares exactly them — a link to an issue left out is said with its reason, nothing is unexplained. JQL a backup
    can't answer, or that chooses nothing, is refused before anything starts."""
    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    run_id = preview(app, issue_sites, snapshot_id)
    project = "AAX0"
    wanted = [i["key"] for i in _SEED["issues"] if i["key"].startswith(f"{project}-")
              and int(i["key"].split("-")[1]) >= 5 and i["fields"]["issuetype"]["name"] != "Sub-task"]
    assert 2 <= len(wanted) < len([i for i in _SEED["issues"] if i["key"].startswith(f"{project}-")])
    jql = f'project = {project.lower()} AND key >= {project}-5 AND issuetype != "Sub-task" ORDER BY key'
    selection = Selection(jql=jql)
    with app.app_context():
        run = db.session.get(RestoreRun, run_id)
        for bad, words in (("status WAS Done", "history"), ("project = NOPE", "No issue of this backup")):
            with pytest.raises(service.RestoreRefused) as refused:
                service.check_choices(run, Selection(jql=bad), "admin")
            assert refused.value.status == 400 and words in str(refused.value)
        service.check_choices(run, selection, "admin")
        figures = issue_preview(run.tenant_id, run.snapshot_id, selection)
    assert figures is not None and [(p["project"], p["issues"]) for p in figures["projects"]] == [
        (project, len(wanted))]
    run = restore(app, issue_sites, run_id, selection, fallback="admin")
    assert run.status == "done", run.message
    projects = sorted({i["key"].split("-")[0] for i in _SEED["issues"]})
    here = [k for p in projects for k in _keys(issue_sites.dest, p)]
    assert here == wanted  # at their own keys, and no other issue (placeholders deleted)
    with app.app_context():
        verification = db.session.get(RestoreRun, run.id).verification
    assert verification["perType"]["issues"]["restorable"] == len(wanted)
    differences = [d for d in verification["differences"] if d["type"] == "issues"]
    assert [d["words"] for d in differences if not d["reason"]] == [], "\n".join(
        d["words"] for d in differences if not d["reason"])


def test_people_fields_and_sprints_a_partial_restore_couldnt_keep_are_explained(app, issue_sites,  # noqa: F811
                                                                                fake_cloud) -> None:
    """The verification asks the destination itself: a field naming several people, one of whom has no account
    here, shown with the stand-in in that one's place (and the others as they were) is explained; shown with
    anyone else it isn't. A sprint whose board isn't on this site is explained; one whose board is, isn't."""
    gone = {"accountId": "557058:dddddddd-dead-4bad-8bad-000000000042", "displayName": "Former user"}
    here = next(u for u in _SEED["users"] if u["displayName"] != "Site Admin")
    admin = next(u for u in _SEED["users"] if u["displayName"] == "Site Admin")
    sprint_board = next(b for b in _SEED["boards"] if b.get("location"))
    with app.app_context():
        tenant = db.session.get(Tenant, issue_sites.dest_tenant_id)
        site = SiteFacts(jira_access(tenant), admin["accountId"],
                         {str(sprint_board["id"]): sprint_board["name"], "999": "A board left behind"})
        people = [(gone["accountId"], gone["displayName"]), (here["accountId"], here["displayName"])]
        expected = {"fields": {"Reviewers": sorted([gone["displayName"], here["displayName"]])},
                    "people": {"Reviewers": people}, "sprints": [("Sprint 9", "closed"), ("Sprint 1", "active")],
                    "sprint boards": {("Sprint 9", "closed"): 999, ("Sprint 1", "active"): sprint_board["id"]}}
        stood_in = {"fields": {"Reviewers": sorted([admin["displayName"], here["displayName"]])},
                    "sprints": [("Sprint 1", "active")]}
        said = compare_issue("X-1", expected, stood_in, site)
        assert [bool(d.reason) for d in said] == [True, True], [(d.words, d.reason) for d in said]
        assert "Former user has no account on this site, so the restore put" in said[0].reason
        assert "(A board left behind) isn't on this site" in said[1].reason
        wrong = {"fields": {"Reviewers": sorted([here["displayName"], "Somebody else"])},
                 "sprints": [("Sprint 9", "closed")]}  # the board that IS here lost its sprint
        assert [bool(d.reason) for d in compare_issue("X-1", expected, wrong, site)] == [False, False]
