"""Does the emulated Jira hold issue links, watchers and votes as Jira does: link types by name or id that must
exist, duplicates reported as created, both ends' ``issuelinks`` and history, one watcher per call as a JSON string,
only the caller's own vote and none on an issue one reported, refusals, events and seeds that round-trip?"""

from __future__ import annotations

import pytest

from fakejira import installer, seeding
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.site import Site
from tests.emulator.helpers import admin
from tests.emulator.issue_data_helpers import add_user, adf, call, errors_of, issue_site, record_events

BOB = "557058:bob"


@pytest.fixture
def ops(site: Site) -> Site:
    issue_site(site, 3)
    add_user(site, BOB, "Bob Builder")
    return site


def _link(site: Site, inward: str = "OPS-1", outward: str = "OPS-2", **type_ref: str) -> tuple[int, object]:
    return call(site, "POST", "/issueLink", body={"type": type_ref or {"name": "Blocks"},
                                                   "inwardIssue": {"key": inward}, "outwardIssue": {"key": outward}})


def test_a_link_shows_on_both_issues_with_history_and_an_event(ops: Site) -> None:
    events = record_events(ops)
    code, answer = _link(ops)
    assert (code, answer) == (201, None)
    [one] = call(ops, "GET", "/issue/OPS-1")[1]["fields"]["issuelinks"]
    [two] = call(ops, "GET", "/issue/OPS-2")[1]["fields"]["issuelinks"]
    assert one["outwardIssue"]["key"] == "OPS-2" and two["inwardIssue"]["key"] == "OPS-1"
    assert one["id"] == two["id"] and one["type"]["outward"] == "blocks"
    link = call(ops, "GET", f"/issueLink/{one['id']}")[1]
    assert (link["inwardIssue"]["key"], link["outwardIssue"]["key"], link["type"]["name"]) == ("OPS-1", "OPS-2",
                                                                                               "Blocks")
    assert call(ops, "GET", "/issue/OPS-1/changelog")[1]["values"][0]["items"] == [
        {"field": "Link", "fieldtype": "jira", "to": "OPS-2", "toString": "This issue blocks OPS-2"}]
    assert call(ops, "GET", "/issue/OPS-2/changelog")[1]["values"][0]["items"][0]["toString"] == \
        "This issue is blocked by OPS-1"
    assert events.of("issuelink_created")[0].details["issueLink"]["sourceIssueId"] == int(link["inwardIssue"]["id"])


def test_duplicates_are_reported_as_created_and_the_type_must_exist(ops: Site) -> None:
    assert _link(ops, id="10000")[0] == 201
    assert _link(ops)[0] == 201
    assert len(ops.store.coll("issueLinks")) == 1
    code, answer = _link(ops, name="Nope")
    assert code == 404 and answer["errorMessages"] == ["No issue link type with name 'Nope' found."]
    assert _link(ops, id="424242")[0] == 404
    assert _link(ops, "OPS-1", "OPS-99")[0] == 404
    assert len(ops.store.coll("issueLinks")) == 1


def test_a_link_comment_is_checked_first_and_goes_on_the_outward_issue(ops: Site) -> None:
    bad = call(ops, "POST", "/issueLink", body={"type": {"name": "Relates"}, "inwardIssue": {"key": "OPS-1"},
                                                 "outwardIssue": {"key": "OPS-3"}, "comment": {"body": "plain"}})
    assert bad[0] == 400 and ops.store.coll("issueLinks") == {}
    call(ops, "POST", "/issueLink", body={"type": {"name": "Relates"}, "inwardIssue": {"key": "OPS-1"},
                                          "outwardIssue": {"key": "OPS-3"}, "comment": {"body": adf("see")}})
    assert call(ops, "GET", "/issue/OPS-3/comment")[1]["total"] == 1


def test_delete_a_link_and_the_issue_delete_cascade(ops: Site) -> None:
    _link(ops)
    _link(ops, "OPS-2", "OPS-3", name="Relates")
    first = next(iter(ops.store.coll("issueLinks")))
    assert call(ops, "DELETE", f"/issueLink/{first}")[0] == 204
    assert call(ops, "GET", f"/issueLink/{first}")[0] == 404
    assert call(ops, "GET", "/issueLink/abc")[0] == 400
    assert call(ops, "GET", "/issue/OPS-1/changelog")[1]["values"][-1]["items"][0]["fromString"] == \
        "This issue blocks OPS-2"
    events = record_events(ops)
    assert call(ops, "DELETE", "/issue/OPS-3")[0] == 204
    assert ops.store.coll("issueLinks") == {}
    assert call(ops, "GET", "/issue/OPS-2")[1]["fields"]["issuelinks"] == []
    assert events.of("issuelink_deleted")[0].details["flow"] == "Secondary"


def test_watchers_one_per_call_and_autowatch(ops: Site) -> None:
    watchers = call(ops, "GET", "/issue/OPS-1/watchers", account_id=admin(ops))[1]
    assert [w["accountId"] for w in watchers["watchers"]] == [admin(ops)] and watchers["isWatching"] is True
    assert call(ops, "POST", "/issue/OPS-1/watchers", body=BOB)[0] == 204
    assert call(ops, "POST", "/issue/OPS-1/watchers", body=BOB)[0] == 204  # no duplicate
    assert call(ops, "GET", "/issue/OPS-1")[1]["fields"]["watches"]["watchCount"] == 2
    code, answer = call(ops, "POST", "/issue/OPS-1/watchers", body="557058:ghost")
    assert code == 404 and "557058:ghost" in errors_of(answer)
    assert call(ops, "DELETE", "/issue/OPS-1/watchers")[0] == 400
    assert call(ops, "DELETE", "/issue/OPS-1/watchers", query={"accountId": BOB})[0] == 204
    assert call(ops, "GET", "/issue/OPS-1/watchers")[1]["watchCount"] == 1


def test_votes_are_the_callers_own_and_not_on_an_issue_one_reported(ops: Site) -> None:
    code, answer = call(ops, "POST", "/issue/OPS-1/votes", account_id=admin(ops))  # the admin reported it
    assert code == 400 and answer["errorMessages"] == ["You cannot vote for an issue you have reported."]
    assert call(ops, "POST", "/issue/OPS-1/votes", account_id=BOB)[0] == 204
    votes = call(ops, "GET", "/issue/OPS-1/votes", account_id=BOB)[1]
    assert (votes["votes"], votes["hasVoted"], votes["voters"][0]["accountId"]) == (1, True, BOB)
    assert call(ops, "GET", "/issue/OPS-1", account_id=BOB)[1]["fields"]["votes"]["hasVoted"] is True
    assert call(ops, "DELETE", "/issue/OPS-2/votes", account_id=BOB)[0] == 404
    assert call(ops, "DELETE", "/issue/OPS-1/votes", account_id=BOB)[0] == 204
    assert call(ops, "GET", "/issue/OPS-1/votes")[1]["votes"] == 0


def test_the_seeds_round_trip(ops: Site) -> None:
    _link(ops)
    call(ops, "POST", "/issue/OPS-2/watchers", body=BOB)
    call(ops, "POST", "/issue/OPS-2/votes", account_id=BOB)
    exported = seeding.export_site(ops)
    assert {"issueLinks", "issueWatchers", "issueVoters"} <= set(exported)
    again = seeding.new_site("acme", "http://127.0.0.1:9")
    seeding.load_seed(again, exported)
    assert seeding.export_site(again) == exported
    assert call(again, "GET", "/issue/OPS-2")[1]["fields"]["issuelinks"][0]["inwardIssue"]["key"] == "OPS-1"


def test_scopes(fake_cloud: Cloud) -> None:
    served = fake_cloud.add_site("shop")
    issue_site(served, 2)
    installer.install_direct(served, "writer", ["READ", "WRITE"])
    writer = ConnectClient(served, "writer")
    created = writer.post("/rest/api/3/issueLink", json={"type": {"name": "Blocks"}, "inwardIssue": {"key": "OPS-1"},
                                                         "outwardIssue": {"key": "OPS-2"}})
    assert created.status_code == 201 and created.content == b""
    link_id = next(iter(served.store.coll("issueLinks")))
    assert writer.delete(f"/rest/api/3/issueLink/{link_id}").status_code == 403  # DELETE scope
    assert writer.delete("/rest/api/3/issue/OPS-1/votes").status_code == 403
    assert writer.post("/rest/api/3/issue/OPS-1/watchers", json=served.store.coll("issues")["10001"]["fields"]
                       ["reporter"]).status_code == 204
