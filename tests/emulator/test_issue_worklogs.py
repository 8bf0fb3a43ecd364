"""Does the emulated Jira hold worklogs as Jira does: ``started`` the caller's, author the caller, time in seconds or
Jira durations, adjustEstimate moving the remaining estimate, the history Jira writes, the changed-since feeds with
their paging and quiet minute, lists by id, refusals, events and a seed that round-trips?"""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import installer, seeding
from fakejira.client import ConnectClient, GatewayClient
from fakejira.cloud import Cloud
from fakejira.resources import worklogs
from fakejira.site import Site
from tests.emulator.helpers import admin
from tests.emulator.issue_data_helpers import add_user, adf, call, errors_of, issue_site, record_events

BOB = "557058:bob"
STARTED = "2024-03-01T09:00:00.000+00:00"


class Clock:
    """A site clock the test moves by hand (ms precision is what Jira keeps)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ops(site: Site) -> Site:
    issue_site(site, 2)
    add_user(site, BOB, "Bob Builder")
    return site


def _log(site: Site, key: str = "OPS-1", *, query: dict[str, Any] | None = None, account_id: str | None = None,
         **body: Any) -> tuple[int, Any]:
    payload = {"started": STARTED, "timeSpentSeconds": 3600, **body}
    return call(site, "POST", f"/issue/{key}/worklog", body=payload, query=query, account_id=account_id)


def _estimate(site: Site, original: str, remaining: str | None = None) -> None:
    tracking = {"originalEstimate": original, **({"remainingEstimate": remaining} if remaining else {})}
    site.store.get("issues", call(site, "GET", "/issue/OPS-1")[1]["id"])["fields"]["timetracking"] = tracking


def test_a_worklog_keeps_started_and_is_authored_by_the_caller(ops: Site) -> None:
    events = record_events(ops)
    code, worklog = _log(ops, account_id=BOB, timeSpentSeconds=None, timeSpent="1h 30m", comment=adf("Fixed"))
    assert code == 201, worklog
    assert worklog["started"] == STARTED and worklog["author"]["accountId"] == BOB
    assert (worklog["timeSpent"], worklog["timeSpentSeconds"]) == ("1h 30m", 5400)
    assert worklog["created"] == worklog["updated"]
    assert worklog["issueId"] == ops.store.find("issues", key="OPS-1")["id"]
    assert call(ops, "GET", f"/issue/OPS-1/worklog/{worklog['id']}")[1] == worklog
    fields = call(ops, "GET", "/issue/OPS-1")[1]["fields"]
    assert fields["timetracking"] == {"timeSpent": "1h 30m", "timeSpentSeconds": 5400}
    assert fields["worklog"]["total"] == 1
    [history] = call(ops, "GET", "/issue/OPS-1/changelog")[1]["values"]
    assert [(i["field"], i.get("to")) for i in history["items"]] == [("timespent", "5400"),
                                                                      ("WorklogId", worklog["id"])]
    assert events.kinds() == ["issue_updated", "worklog_created"]


@pytest.mark.parametrize(("body", "field", "text"), [
    ({"timeSpentSeconds": None}, "timeLogged", "You must indicate the time spent working."),
    ({"timeSpentSeconds": None, "timeSpent": "soon"}, "timeLogged", "Invalid time duration entered."),
    ({"timeSpentSeconds": 0}, "timeLogged", "Invalid time duration entered."),
    ({"started": None}, "started", "You must specify the date and time the work started."),
    ({"started": "yesterday"}, "started", "not a valid date and time"),
    ({"comment": "plain"}, "comment", "Atlassian Document"),
    ({"visibility": {"type": "group", "value": "jira-administrators"}}, "worklogLevel", "not a member of the group"),
])
def test_bad_worklogs_are_refused_and_store_nothing(ops: Site, body: dict[str, Any], field: str, text: str) -> None:
    code, answer = _log(ops, account_id=BOB, **body)
    assert code == 400 and text in answer["errors"][field], answer
    assert ops.store.coll("worklogs") == {}
    assert call(ops, "GET", "/issue/OPS-1/changelog")[1]["values"] == []


def test_adjust_estimate_rules(ops: Site) -> None:
    """auto reduces the remaining estimate, leave keeps it, new sets it, manual needs reduceBy; delete gives back."""
    _estimate(ops, "1d")  # 8h on the default 8-hour day
    _log(ops)
    assert call(ops, "GET", "/issue/OPS-1")[1]["fields"]["timetracking"]["remainingEstimate"] == "7h"
    _log(ops, query={"adjustEstimate": "leave"})
    assert call(ops, "GET", "/issue/OPS-1")[1]["fields"]["timetracking"]["remainingEstimateSeconds"] == 7 * 3600
    code, answer = _log(ops, query={"adjustEstimate": "new"})
    assert code == 400 and answer["errors"] == {"newEstimate": "You must supply a valid new estimate."}
    code, answer = _log(ops, query={"adjustEstimate": "manual"})
    assert code == 400 and "reduceBy" in answer["errors"]
    last = _log(ops, query={"adjustEstimate": "manual", "reduceBy": "2h"})[1]
    tracking = call(ops, "GET", "/issue/OPS-1")[1]["fields"]["timetracking"]
    assert (tracking["remainingEstimate"], tracking["timeSpentSeconds"], tracking["originalEstimate"]) == \
        ("5h", 3 * 3600, "1d")
    assert call(ops, "DELETE", f"/issue/OPS-1/worklog/{last['id']}")[0] == 204  # auto: the time comes back
    tracking = call(ops, "GET", "/issue/OPS-1")[1]["fields"]["timetracking"]
    assert (tracking["remainingEstimate"], tracking["timeSpentSeconds"]) == ("6h", 2 * 3600)
    assert len(ops.store.coll("worklogs")) == 2


def test_edit_changes_time_and_started_and_keeps_the_author(ops: Site) -> None:
    worklog = _log(ops, account_id=BOB)[1]
    code, edited = call(ops, "PUT", f"/issue/OPS-1/worklog/{worklog['id']}",
                        body={"timeSpent": "2h", "started": "2024-03-02T10:00:00.000+0000"}, account_id=admin(ops))
    assert code == 200, edited
    assert edited["author"]["accountId"] == BOB and edited["updateAuthor"]["accountId"] == admin(ops)
    assert (edited["timeSpentSeconds"], edited["started"]) == (7200, "2024-03-02T10:00:00.000+00:00")
    assert call(ops, "PUT", f"/issue/OPS-1/worklog/{worklog['id']}", body={"timeSpent": "x"})[0] == 400
    assert call(ops, "PUT", f"/issue/OPS-1/worklog/{worklog['id']}", body={},
                query={"adjustEstimate": "manual"})[0] == 400
    assert call(ops, "GET", "/issue/OPS-2/worklog/" + worklog["id"])[0] == 404


def test_time_tracking_off_refuses_worklogs(ops: Site) -> None:
    ops.store.coll("settings")["site"]["timetracking"] = None  # as the admin page's "disable" leaves it
    code, answer = _log(ops)
    assert code == 400 and errors_of(answer) == "Time tracking is disabled."


def test_updated_and_deleted_feeds_page_and_skip_the_last_minute(ops: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    ops.limits.clock = clock
    ids = []
    for _ in range(3):
        ids.append(int(_log(ops)[1]["id"]))
        clock.now += 1
    assert call(ops, "GET", "/worklog/updated")[1]["values"] == []  # all within the last minute
    clock.now += 61
    monkeypatch.setattr(worklogs, "CHANGE_PAGE", 2)
    first = call(ops, "GET", "/worklog/updated", query={"since": 0})[1]
    assert [v["worklogId"] for v in first["values"]] == ids[:2] and first["lastPage"] is False
    assert first["until"] == first["values"][-1]["updatedTime"] and first["nextPage"].endswith(
        f"/rest/api/3/worklog/updated?since={first['until']}")
    rest = call(ops, "GET", "/worklog/updated", query={"since": first["until"]})[1]
    assert [v["worklogId"] for v in rest["values"]] == ids[2:] and rest["lastPage"] is True
    assert "nextPage" not in rest
    assert call(ops, "DELETE", f"/issue/OPS-1/worklog/{ids[0]}")[0] == 204
    assert call(ops, "GET", "/worklog/deleted")[1]["values"] == []
    clock.now += 61
    deleted = call(ops, "GET", "/worklog/deleted", query={"since": 0})[1]
    assert [v["worklogId"] for v in deleted["values"]] == [ids[0]]
    listed = call(ops, "POST", "/worklog/list", body={"ids": ids})[1]
    assert [int(w["id"]) for w in listed] == ids[1:]
    assert call(ops, "POST", "/worklog/list", body={"ids": []})[0] == 400
    assert call(ops, "POST", "/worklog/list", body={"ids": list(range(1, 1002))})[0] == 400


def test_deleting_the_issue_feeds_worklog_deleted(ops: Site) -> None:
    clock = Clock()
    ops.limits.clock = clock
    worklog = _log(ops)[1]
    events = record_events(ops)
    assert call(ops, "DELETE", "/issue/OPS-1")[0] == 204
    clock.now += 120
    assert [v["worklogId"] for v in call(ops, "GET", "/worklog/deleted")[1]["values"]] == [int(worklog["id"])]
    assert events.of("worklog_deleted")[0].details["flow"] == "Secondary"


def test_the_per_issue_worklog_limit_is_a_413(ops: Site) -> None:
    ops.limits.configure(issue_caps={"worklogs": 1})
    assert _log(ops)[0] == 201
    assert _log(ops)[0] == 413


def test_the_seed_round_trips(ops: Site) -> None:
    _estimate(ops, "2d", "1d")
    _log(ops, account_id=BOB, comment=adf("w"))
    gone = _log(ops)[1]
    call(ops, "DELETE", f"/issue/OPS-1/worklog/{gone['id']}")
    exported = seeding.export_site(ops)
    assert len(exported["issueWorklogs"]) == 1 and len(exported["worklogDeletions"]) == 1
    again = seeding.new_site("acme", "http://127.0.0.1:9")
    seeding.load_seed(again, exported)
    assert seeding.export_site(again) == exported
    assert call(again, "GET", "/issue/OPS-1")[1]["fields"]["timetracking"]["timeSpentSeconds"] == 3600


# -------------------------------------------------------------------------------------------- over HTTP


def test_scopes_and_points(fake_cloud: Cloud) -> None:
    """The feeds need READ (Connect) or read:jira-work (OAuth); the worklog list is charged per worklog."""
    served = fake_cloud.add_site("shop")
    issue_site(served, 1)
    installer.install_direct(served, "reader", ["READ"])
    reader = ConnectClient(served, "reader")
    assert reader.get("/rest/api/3/worklog/updated").status_code == 200
    assert reader.post("/rest/api/3/issue/OPS-1/worklog", json={"started": STARTED,
                                                                 "timeSpentSeconds": 60}).status_code == 403
    installer.install_direct(served, "writer", ["READ", "WRITE"])
    writer = ConnectClient(served, "writer")
    ids = [writer.post("/rest/api/3/issue/OPS-1/worklog", json={"started": STARTED, "timeSpentSeconds": 60})
           .json()["id"] for _ in range(2)]
    assert writer.delete(f"/rest/api/3/issue/OPS-1/worklog/{ids[0]}").status_code == 403
    served.limits.clear_points()
    assert reader.post("/rest/api/3/worklog/list", json={"ids": [int(i) for i in ids]}).status_code == 200
    assert served.limits.points()["POST /rest/api/3/worklog/list"] == 3
    client = fake_cloud.oauth.register_client(["http://127.0.0.1:9/cb"])
    token = fake_cloud.oauth.issue_tokens(client.client_id, admin(served), [served], ["read:jira-user"])
    assert GatewayClient(fake_cloud, served, token["access_token"]).get(
        "/rest/api/3/worklog/updated").status_code == 401
