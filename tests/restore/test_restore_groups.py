"""Do groups come back on a new site with their members, through the admin's OAuth grant, and is a member without
an account there named instead of silently dropped or replaced?"""

from __future__ import annotations

from typing import Any

from app.jira.access import AUTHORISE_FIX
from fakejira.seeding import export_site, load_seed
from tests.restore.conftest import GROUP_DEVS, GROUP_QA, take_backup
from tests.restore.test_restore_basics import _writes, outcomes, preview, restore

ALICE = "5b10ac8d82e05b22cc7d4e01"
BOB = "5b10ac8d82e05b22cc7d4e02"  # has no account on the destination


def _user(account_id: str, name: str) -> dict[str, Any]:
    return {"accountId": account_id, "accountType": "atlassian", "active": True, "displayName": name,
            "emailAddress": f"{name.split()[0].lower()}@example.com"}


def _members(export: dict[str, Any], name: str) -> set[str]:
    gid = next(g["groupId"] for g in export["groups"] if g["name"] == name)
    return {m["accountId"] for m in export.get("groupMembers", {}).get(gid, [])}


def _seed_members(sites: Any) -> None:
    alice, bob = _user(ALICE, "Alice Lee"), _user(BOB, "Bob Stone")
    load_seed(sites.source, {"users": [alice, bob],
                             "groupMembers": {GROUP_QA: [{"accountId": ALICE}, {"accountId": BOB}],
                                              GROUP_DEVS: [{"accountId": ALICE}]}})
    load_seed(sites.dest, {"users": [alice]})


def test_groups_and_members_are_created_and_a_missing_member_is_named(app, sites, fake_cloud, oauth_grant) -> None:
    _seed_members(sites)
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run = restore(app, sites, preview(app, sites, snapshot))
    assert run.status == "done", run.message
    dst = export_site(sites.dest)
    assert _members(dst, "qa-team") == {ALICE} and _members(dst, "developers") == {ALICE}
    qa = outcomes(app, run.id)[("groups", "qa-team")]
    assert qa.outcome == "created"
    assert any(BOB in note and "no account on this site" in note for note in qa.notes), qa.notes

    # Bob gets an account; running the restore again adds him, and touches nothing else
    load_seed(sites.dest, {"users": [_user(BOB, "Bob Stone")]})
    sites.dest.calls.clear()
    again = restore(app, sites, preview(app, sites, snapshot))
    assert again.status == "done", again.message
    assert _members(export_site(sites.dest), "qa-team") == {ALICE, BOB}
    assert [(c["method"], c["path"]) for c in _writes(sites.dest)] == [("POST", "/rest/api/3/group/user")]


def test_without_the_oauth_grant_groups_are_reported_with_the_fix(app, sites, fake_cloud) -> None:
    _seed_members(sites)
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot))
    qa = outcomes(app, run.id)[("groups", "qa-team")]
    assert qa.outcome == "cannot" and qa.fix == AUTHORISE_FIX and "POST /rest/api/3/group" in qa.reason
    assert not [c for c in _writes(sites.dest) if "/group" in c["path"]]


def test_the_emulator_adds_members_as_jira_does(fake_cloud, fake_site) -> None:
    """Connect can't call it (INACCESSIBLE); with OAuth a member is added once, twice is refused, and so is a user
    the site doesn't have."""
    from fakejira.client import ConnectClient, GatewayClient
    from fakejira.installer import install_direct
    from fakejira.resources.basics import admin_account_id

    load_seed(fake_site, {"users": [_user(ALICE, "Alice Lee")]})
    gid = export_site(fake_site)["groups"][0]["groupId"]
    install_direct(fake_site, "group-test", ["READ", "WRITE", "ADMIN"])
    connect = ConnectClient(fake_site, "group-test")
    refused = connect.post("/rest/api/3/group/user", query={"groupId": gid}, json={"accountId": ALICE})
    assert refused.status_code in (401, 403), refused.text

    client = fake_cloud.oauth.register_client(["https://dr-app.example.test/oauth/callback"])
    admin = admin_account_id(fake_site)
    fake_site.admins.add(admin)
    tokens = fake_cloud.oauth.issue_tokens(client.client_id, admin, [fake_site], ["manage:jira-configuration"])
    oauth = GatewayClient(fake_cloud, fake_site, tokens["access_token"])
    added = oauth.post(f"/rest/api/3/group/user?groupId={gid}", json={"accountId": ALICE})
    assert added.status_code == 201, added.text
    again = oauth.post(f"/rest/api/3/group/user?groupId={gid}", json={"accountId": ALICE})
    assert again.status_code == 400 and "already a member" in again.text
    stranger = oauth.post(f"/rest/api/3/group/user?groupId={gid}", json={"accountId": BOB})
    assert stranger.status_code == 404
    assert ALICE in {m["accountId"] for m in export_site(fake_site)["groupMembers"][gid]}
