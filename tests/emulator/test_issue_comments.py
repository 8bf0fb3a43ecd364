"""Does the emulated Jira hold comments as Jira does: ADF bodies, the caller as author, server times, visibility that
hides a comment from readers outside it, no changelog, Jira's refusals, scopes, events and a seed that round-trips?"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from fakejira import installer, seeding
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.site import Site
from tests.emulator.helpers import admin
from tests.emulator.issue_data_helpers import add_user, adf, call, errors_of, issue_site, record_events

BOB = "557058:bob"


@pytest.fixture
def ops(site: Site) -> Site:
    issue_site(site, 2)
    add_user(site, BOB, "Bob Builder")
    return site


def _add(site: Site, key: str = "OPS-1", text: str = "Hi", account_id: str | None = None,
         **extra: Any) -> tuple[int, Any]:
    return call(site, "POST", f"/issue/{key}/comment", body={"body": adf(text), **extra}, account_id=account_id)


def test_a_comment_is_authored_by_the_caller_with_server_times_and_no_changelog(ops: Site) -> None:
    """Is the author the caller, are created/updated the server's, and does the issue get no history entry?"""
    events = record_events(ops)
    before = call(ops, "GET", "/issue/OPS-1")[1]["fields"]["updated"]
    code, comment = _add(ops, account_id=BOB)
    assert code == 201, comment
    assert comment["author"]["accountId"] == BOB == comment["updateAuthor"]["accountId"]
    assert comment["author"]["displayName"] == "Bob Builder"
    assert comment["created"] == comment["updated"] and comment["body"] == adf("Hi")
    assert call(ops, "GET", f"/issue/OPS-1/comment/{comment['id']}")[1] == comment
    issue = call(ops, "GET", "/issue/OPS-1")[1]
    assert issue["fields"]["comment"]["total"] == 1 and issue["fields"]["updated"] >= before
    assert call(ops, "GET", "/issue/OPS-1/changelog")[1]["values"] == []
    assert events.kinds() == ["comment_created"] and events.seen[0].details["comment"]["id"] == comment["id"]


@pytest.mark.parametrize(("body", "text"), [
    ({}, "Comment body can not be empty!"),
    ({"body": "plain text"}, "Operation value must be an Atlassian Document"),
    ({"body": {"type": "doc", "version": 1, "content": [{"type": "paragraph"}, "x"]}}, "Atlassian Document"),
    ({"body": adf("x" * 32768)}, "exceeds the allowed limit of 32,767 characters"),
    ({"body": adf(), "visibility": {"type": "group", "value": "no-such-group"}}, "Group: no-such-group does not exist"),
    ({"body": adf(), "visibility": {"type": "planet", "value": "x"}}, "Visibility must be an object"),
])
def test_bad_comments_are_refused_and_store_nothing(ops: Site, body: dict[str, Any], text: str) -> None:
    code, answer = call(ops, "POST", "/issue/OPS-1/comment", body=body)
    assert code == 400 and text in errors_of(answer), answer
    assert ops.store.coll("comments") == {}


def test_an_unknown_issue_or_comment_is_404(ops: Site) -> None:
    assert _add(ops, "OPS-99")[0] == 404
    code, answer = call(ops, "GET", "/issue/OPS-1/comment/424242")
    assert code == 404 and answer["errorMessages"] == ["Can not find a comment for the id: 424242."]
    comment = _add(ops)[1]
    assert call(ops, "GET", f"/issue/OPS-2/comment/{comment['id']}")[0] == 404  # another issue's comment


def test_visibility_needs_the_writer_in_it_and_hides_the_comment_from_others(ops: Site) -> None:
    """Can only a member restrict a comment to a group or role, and do readers outside it not see it anywhere?"""
    code, answer = _add(ops, account_id=BOB, visibility={"type": "group", "value": "jira-administrators"})
    assert code == 400 and answer["errors"] == {
        "commentLevel": "You are currently not a member of the group: jira-administrators."}
    code, answer = _add(ops, account_id=BOB, visibility={"type": "role", "value": "Administrators"})
    assert code == 400 and "not a member of the project role: Administrators" in errors_of(answer)
    open_one = _add(ops, text="everyone", account_id=BOB)[1]
    secret = _add(ops, text="admins only", account_id=admin(ops),
                  visibility={"type": "role", "value": "Administrators"})[1]
    # the spec: a role's identifier is its name (a group's is its id)
    assert secret["visibility"] == {"type": "role", "value": "Administrators", "identifier": "Administrators"}
    as_bob = call(ops, "GET", "/issue/OPS-1/comment", account_id=BOB)[1]
    assert [c["id"] for c in as_bob["comments"]] == [open_one["id"]] and as_bob["total"] == 1
    assert call(ops, "GET", f"/issue/OPS-1/comment/{secret['id']}", account_id=BOB)[0] == 404
    assert call(ops, "GET", "/issue/OPS-1", account_id=BOB)[1]["fields"]["comment"]["total"] == 1
    listed = call(ops, "POST", "/comment/list", body={"ids": [int(secret["id"]), int(open_one["id"])]},
                  account_id=BOB)[1]
    assert [c["id"] for c in listed["values"]] == [open_one["id"]]
    as_admin = call(ops, "GET", "/issue/OPS-1/comment", account_id=admin(ops))[1]
    assert as_admin["total"] == 2


def test_a_group_named_by_an_id_this_site_lacks_is_refused_even_beside_a_known_name(ops: Site) -> None:
    """A group's id wins over its name (names change, ids don't): another site's id with this site's name is a 400,
    not a silent match by name; the name alone, or this site's id, is found."""
    group = next(g for g in ops.store.values("groups") if g["name"] == "jira-administrators")
    code, answer = _add(ops, account_id=admin(ops), visibility={
        "type": "group", "value": "jira-administrators", "identifier": "another-sites-group-id"})
    assert code == 400, answer
    assert not [c for c in call(ops, "GET", "/issue/OPS-1/comment", account_id=admin(ops))[1]["comments"]]
    for visibility in ({"type": "group", "value": "jira-administrators"},
                       {"type": "group", "identifier": group["groupId"]}):
        code, answer = _add(ops, account_id=admin(ops), visibility=visibility)
        assert code == 201 and answer["visibility"]["identifier"] == group["groupId"], answer


def test_edit_keeps_the_author_and_records_the_editor_then_delete(ops: Site) -> None:
    events = record_events(ops)
    comment = _add(ops, account_id=BOB)[1]
    code, edited = call(ops, "PUT", f"/issue/OPS-1/comment/{comment['id']}", body={"body": adf("Edited")},
                        account_id=admin(ops))
    assert code == 200, edited
    assert edited["author"]["accountId"] == BOB and edited["updateAuthor"]["accountId"] == admin(ops)
    assert edited["body"] == adf("Edited") and edited["created"] == comment["created"]
    assert call(ops, "PUT", f"/issue/OPS-1/comment/{comment['id']}", body={"body": ""})[0] == 400
    assert call(ops, "GET", f"/issue/OPS-1/comment/{comment['id']}")[1]["body"] == adf("Edited")
    assert call(ops, "DELETE", f"/issue/OPS-1/comment/{comment['id']}")[0] == 204
    assert call(ops, "GET", f"/issue/OPS-1/comment/{comment['id']}")[0] == 404
    assert events.kinds() == ["comment_created", "comment_updated", "comment_deleted"]


def test_pages_order_and_the_list_by_ids(ops: Site) -> None:
    ids = [_add(ops, text=f"c{n}")[1]["id"] for n in range(5)]
    page = call(ops, "GET", "/issue/OPS-1/comment", query={"startAt": 1, "maxResults": 2})[1]
    assert [c["id"] for c in page["comments"]] == ids[1:3] and (page["total"], page["startAt"]) == (5, 1)
    newest = call(ops, "GET", "/issue/OPS-1/comment", query={"orderBy": "-created", "maxResults": 1})[1]
    assert newest["comments"][0]["id"] == ids[-1]
    assert call(ops, "POST", "/comment/list", body={"ids": []})[0] == 400
    assert call(ops, "POST", "/comment/list", body={"ids": list(range(1, 1002))})[0] == 400
    listed = call(ops, "POST", "/comment/list", body={"ids": [int(i) for i in ids[:2]] + [999999]})[1]
    assert [c["id"] for c in listed["values"]] == ids[:2] and listed["isLast"] is True


def test_the_per_issue_comment_limit_is_a_413(ops: Site) -> None:
    ops.limits.configure(issue_caps={"comments": 1})
    assert _add(ops)[0] == 201
    code, answer = _add(ops)
    assert code == 413 and "limit of 1 comments" in errors_of(answer)
    assert len(ops.store.coll("comments")) == 1


def test_deleting_the_issue_deletes_its_comments_with_secondary_events(ops: Site) -> None:
    _add(ops)
    _add(ops, "OPS-2")
    events = record_events(ops)
    assert call(ops, "DELETE", "/issue/OPS-1")[0] == 204
    assert sorted(events.kinds()) == ["comment_deleted", "issue_deleted"]
    assert events.of("comment_deleted")[0].details["flow"] == "Secondary"
    assert [c["_issueId"] for c in ops.store.values("comments")] == [call(ops, "GET", "/issue/OPS-2")[1]["id"]]


def test_the_seed_round_trips(ops: Site) -> None:
    _add(ops, account_id=BOB)
    _add(ops, text="secret", visibility={"type": "group", "value": "jira-administrators"})
    exported = seeding.export_site(ops)
    assert len(exported["issueComments"]) == 1
    again = seeding.new_site("acme", "http://127.0.0.1:9")
    seeding.load_seed(again, exported)
    assert seeding.export_site(again) == exported
    fresh = _add(again, "OPS-2")[1]
    assert int(fresh["id"]) > max(int(c["id"]) for c in ops.store.values("comments"))


# -------------------------------------------------------------------------------------------- over HTTP


@pytest.fixture
def served(fake_cloud: Cloud) -> Site:
    site = fake_cloud.add_site("shop")
    issue_site(site, 1)
    add_user(site, BOB, "Bob Builder")
    return site


def test_scopes_and_impersonation(fake_cloud: Cloud, served: Site) -> None:
    """READ reads, WRITE adds, DELETE deletes; an impersonation token makes the comment that user's."""
    installer.install_direct(served, "reader", ["READ"])
    reader = ConnectClient(served, "reader")
    assert reader.get("/rest/api/3/issue/OPS-1/comment").status_code == 200
    assert reader.post("/rest/api/3/issue/OPS-1/comment", json={"body": adf()}).status_code == 403
    installer.install_direct(served, "writer", ["READ", "WRITE", "ACT_AS_USER"])
    writer = ConnectClient(served, "writer")
    created = writer.post("/rest/api/3/issue/OPS-1/comment", json={"body": adf()})
    assert created.status_code == 201, created.text
    assert writer.delete(f"/rest/api/3/issue/OPS-1/comment/{created.json()['id']}").status_code == 403
    with fake_cloud.expect_violations() as seen:
        refused = writer.post("/rest/api/3/issue/OPS-1/comment",
                              json={"body": adf(), "created": "2020-01-01T00:00:00Z"})
    assert refused.status_code == 400 and [v.kind for v in seen] == ["request"]  # created is readOnly in the spec
    token = fake_cloud.impersonation.issue_token(served, "writer", BOB)
    as_bob = requests.post(served.base_url + "/rest/api/3/issue/OPS-1/comment", json={"body": adf("by Bob")},
                           headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert as_bob.status_code == 201, as_bob.text
    assert as_bob.json()["author"]["accountId"] == BOB


def test_comment_reads_are_charged_per_comment(served: Site) -> None:
    installer.install_direct(served, "reader", ["READ", "WRITE"])
    client = ConnectClient(served, "reader")
    for _ in range(3):
        assert client.post("/rest/api/3/issue/OPS-1/comment", json={"body": adf()}).status_code == 201
    served.limits.clear_points()
    assert client.get("/rest/api/3/issue/OPS-1/comment").status_code == 200
    assert served.limits.points()["GET /rest/api/3/issue/{issueIdOrKey}/comment"] == 4


def test_an_impersonated_read_sees_what_that_user_sees(fake_cloud: Cloud, served: Site) -> None:
    """Does a read with an impersonation token see the restricted comments that user may see, and only those —
    in the issue's comment field, its comment list, one comment and ``POST /comment/list`` — while the app's own
    user, outside the group, sees none of them?"""
    installer.install_direct(served, "backup", ["READ", "WRITE", "ACT_AS_USER"])
    app = ConnectClient(served, "backup")
    boss = admin(served)

    def as_user(account_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {fake_cloud.impersonation.issue_token(served, 'backup', account_id)}"}

    base = served.base_url + "/rest/api/3"
    secret = requests.post(base + "/issue/OPS-1/comment", headers=as_user(boss), timeout=5, json={
        "body": adf("admins only"), "visibility": {"type": "group", "value": "jira-administrators"}})
    assert secret.status_code == 201, secret.text
    open_one = app.post("/rest/api/3/issue/OPS-1/comment", json={"body": adf("everyone")}).json()
    ids = {"ids": [int(secret.json()["id"]), int(open_one["id"])]}
    for headers, expected in ((as_user(boss), 2), (as_user(BOB), 1)):
        listed = requests.get(base + "/issue/OPS-1/comment", headers=headers, timeout=5).json()
        assert listed["total"] == expected == len(listed["comments"])
        field = requests.get(base + "/issue/OPS-1", headers=headers, timeout=5).json()["fields"]["comment"]
        assert field["total"] == expected
        by_id = requests.post(base + "/comment/list", headers=headers, json=ids, timeout=5).json()
        assert len(by_id["values"]) == expected
        one = requests.get(base + f"/issue/OPS-1/comment/{secret.json()['id']}", headers=headers, timeout=5)
        assert one.status_code == (200 if expected == 2 else 404)
    assert app.get("/rest/api/3/issue/OPS-1/comment").json()["total"] == 1  # the app's user isn't an admin
    assert [c["id"] for c in app.post("/rest/api/3/comment/list", json=ids).json()["values"]] == [open_one["id"]]
