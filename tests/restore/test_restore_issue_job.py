"""Does the restore job bring back issue data after the configuration, in one run, once, and through a kill?

A source loaded with the ``issues-small`` preset (configuration and issues), backed up by the real backup job; a
destination with its configuration but no issues; the real restore job (``service.start_preview``/
``start_restore`` + ``run_job``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.issuedata.records import iter_issues
from app.recovery.connections import activate, generate_token
from app.restore.issues.restore import ProjectIssues
from app.restore.issues.run import authors_for
from app.restore.issues.verify import verify_restored
from app.restore.models import RestoreRun
from app.tenant_access import jira_access
from app.tenants import Tenant
from fakejira import generator
from fakejira.client import ConnectClient
from fakejira.resources.basics import admin_account_id
from tests.restore.conftest import Sites, killed_then_resumed, take_backup
from tests.restore.test_restore_basics import preview, restore
from tests.restore.test_restore_issues import ISSUE_DATA_KEYS

_SEED: dict[str, Any] = {}


def _seed() -> dict[str, Any]:
    if not _SEED:
        _SEED.update(generator.generate_preset("issues-small", rng_seed=42))
    return copy.deepcopy(_SEED)


@pytest.fixture
def issue_sites(app, fake_cloud, install_into) -> Sites:
    """A source holding the issues-small preset and a destination without issues, connected (Active)."""
    app.config["CONNECT_IMPERSONATION_URL"] = fake_cloud.impersonation.url
    source = fake_cloud.add_site("source", seed=_seed())
    # The destination holds the configuration without the issue data: this preset's workflow schemes are beyond
    # the configuration restore (their projects are skipped), so the run restores, matches and reuses the rest.
    dest = fake_cloud.add_site("dest", seed={k: v for k, v in _seed().items() if k not in ISSUE_DATA_KEYS})
    source.client_key = install_into(source)
    dest.client_key = install_into(dest)
    admin = admin_account_id(dest)
    with app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
        return Sites(source, dest, src.id, dst.id, admin)


def _as_app(site: Any) -> ConnectClient:
    return ConnectClient(site, next(iter(site.installations)))


def _keys(site: Any, project: str) -> list[str]:
    body = {"jql": f'project = "{project}" ORDER BY key ASC', "fields": ["summary"], "maxResults": 1000}
    return [i["key"] for i in _as_app(site).post("/rest/api/3/search/jql", json=body).json()["issues"]]


def _source_keys(seed: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for issue in seed["issues"]:
        out.setdefault(issue["key"].split("-")[0], []).append(issue["key"])
    return {p: sorted(keys, key=lambda k: int(k.split("-")[1])) for p, keys in out.items()}


def _writes(site: Any) -> list[dict[str, Any]]:
    return [c for c in site.calls.as_json() if c["method"] in ("POST", "PUT", "DELETE")
            and not c["path"].startswith("/_emulator")
            and not c["path"].endswith(("/search/jql", "/issue/bulkfetch"))]  # reads sent as POST


def _comment_total(site: Any, key: str) -> int:
    return int(_as_app(site).get(f"/rest/api/3/issue/{key}/comment").json()["total"])


def test_configuration_and_issues_come_back_in_one_run(app, issue_sites, fake_cloud, oauth_grant) -> None:
    """One restore run: the projects' configuration, then every issue under its own key; the report says so."""
    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    run = restore(app, issue_sites, preview(app, issue_sites, snapshot_id))
    assert run.status == "done", run.message
    wanted = _source_keys(_SEED)
    assert set(run.summary["issues"]["projects"]) == set(wanted)
    for project, keys in wanted.items():
        report = run.summary["issues"]["projects"][project]
        assert _keys(issue_sites.dest, project) == keys, (project, report)
        assert report["keys_kept"] and report["key_map"] == {}
        assert report["outcomes"] == {"created": len(keys)}, report

    # the same run again: every issue found by its source property, nothing written
    issue_sites.dest.calls.clear()
    again = restore(app, issue_sites, run.id)
    assert again.status == "done", again.message
    assert _writes(issue_sites.dest) == []
    assert all(set(p["outcomes"]) == {"already-restored"} for p in again.summary["issues"]["projects"].values())


def test_a_kill_mid_issues_resumes_without_duplicates(app, issue_sites, fake_cloud, oauth_grant,
                                                      monkeypatch) -> None:
    """The worker dies in the middle of the issues (after some were created): the resumed job creates none twice."""
    from app.restore import service
    from app.restore.plan import Selection

    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    run_id = preview(app, issue_sites, snapshot_id)
    original = ProjectIssues._follow_up
    calls = {"n": 0}

    def dies(self: Any, record: Any, outcome: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 30:  # in the second project's issues, after its creates
            raise SystemExit("worker killed")
        original(self, record, outcome)

    monkeypatch.setattr(ProjectIssues, "_follow_up", dies)
    with app.app_context():
        run = service.start_restore(db.session.get(Tenant, issue_sites.dest_tenant_id), run_id, Selection(), "drop",
                                    issue_sites.admin)
        killed_then_resumed(run.job_id)
    wanted = _source_keys(_SEED)
    for project, keys in wanted.items():
        assert _keys(issue_sites.dest, project) == keys, project  # each key once, no placeholder left
    seed_comments = _SEED.get("issueComments", {})
    for issue in _SEED["issues"]:
        visible = [c for c in seed_comments.get(issue["id"], []) if not c.get("visibility")]
        assert _comment_total(issue_sites.dest, issue["key"]) == len(visible), issue["key"]



def test_restricted_comments_come_back_restricted_as_their_authors(app, fake_cloud, install_into,
                                                                   oauth_grant) -> None:
    """A comment restricted to a group the app's user isn't in: does the backup hold it (read as someone in the
    group), and does the restore write it as its author with the same restriction — the group found by name on a
    destination where the group has another id — so the app's own user still can't read it there?"""
    app.config["CONNECT_IMPERSONATION_URL"] = fake_cloud.impersonation.url
    seed = _seed()
    restricted = {i: [c for c in items if c.get("visibility")] for i, items in seed["issueComments"].items()}
    restricted = {i: items for i, items in restricted.items() if items}
    assert restricted, "the preset restricts some comments"
    config = json.dumps({k: v for k, v in seed.items() if k not in ISSUE_DATA_KEYS})
    for group in seed["groups"]:  # the destination's groups: the same names, other ids
        config = config.replace(group["groupId"], "dest-" + group["groupId"])
    source = fake_cloud.add_site("restricted-src", seed=seed)
    dest = fake_cloud.add_site("restricted-dst", seed=json.loads(config))
    source.client_key, dest.client_key = install_into(source), install_into(dest)
    admin = admin_account_id(dest)
    with app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
        sites = Sites(source, dest, src.id, dst.id, admin)
    oauth_grant(dest, sites.dest_tenant_id)
    snapshot_id = take_backup(app, sites.source_tenant_id, fake_cloud)
    with app.app_context():
        held = {r.id: r for r in iter_issues(snapshot_id)}
    for issue_id, items in restricted.items():
        assert {c["id"] for c in items} <= {c["id"] for c in held[issue_id].comments}, issue_id
    run = restore(app, sites, preview(app, sites, snapshot_id))
    assert run.status == "done", run.message
    dest_app = next(iter(dest.installations))
    keys = {i["id"]: i["key"] for i in seed["issues"]}
    for issue_id, items in restricted.items():
        key = keys[issue_id]
        visible = [c for c in seed["issueComments"][issue_id] if not c.get("visibility")]
        assert _comment_total(dest, key) == len(visible), key  # the app's user still can't read them
        for comment in items:
            author = comment["author"]["accountId"]
            token = fake_cloud.impersonation.issue_token(dest, dest_app, author)
            seen = requests.get(f"{dest.base_url}/rest/api/3/issue/{key}/comment", timeout=10,
                                headers={"Authorization": f"Bearer {token}"}).json()["comments"]
            mine = [c for c in seen if c.get("visibility") and c["author"]["accountId"] == author
                    and c["body"] == comment["body"]]
            assert mine, (key, comment["id"])
            group = comment["visibility"]["value"]
            assert mine[0]["visibility"]["value"] == group
            assert mine[0]["visibility"]["identifier"] == "dest-" + next(
                g["groupId"] for g in seed["groups"] if g["name"] == group)
    # The run's own verification compared them as their authors read them: nothing unexplained about comments...
    with app.app_context():
        verification = db.session.get(RestoreRun, run.id).verification
    said = [d["words"] for d in verification["differences"] if d["type"] == "issues" and not d["reason"]]
    assert not [w for w in said if "comment" in w], said
    # ...and a restricted comment gone from the destination is said, in words, though the app's user can't see it.
    issue_id, items = next(iter(restricted.items()))
    key, gone = keys[issue_id], items[0]
    author = gone["author"]["accountId"]
    token = fake_cloud.impersonation.issue_token(dest, dest_app, author)
    headers = {"Authorization": f"Bearer {token}"}
    there = requests.get(f"{dest.base_url}/rest/api/3/issue/{key}/comment", timeout=10, headers=headers).json()
    mine = next(c for c in there["comments"] if c.get("visibility") and c["body"] == gone["body"])
    assert requests.delete(f"{dest.base_url}/rest/api/3/issue/{key}/comment/{mine['id']}", timeout=10,
                           headers=headers).status_code == 204
    with app.app_context():
        tenant = db.session.get(Tenant, sites.dest_tenant_id)
        authors, _ = authors_for(tenant, _Everyone())
        check = verify_restored(jira_access(tenant), snapshot_id, run.summary["issues"], authors.client_for)
    assert check is not None
    words = [d.words for d in check.differences if not d.reason]
    assert any(w.startswith(f"{key}: restricted comment by {gone['author']['displayName']}") for w in words), words


class _Everyone:
    """An id map keeping every person (the destination has them all)."""

    def user(self, account_id: str) -> str:
        return account_id
