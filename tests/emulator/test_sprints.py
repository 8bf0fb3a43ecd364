"""Does the emulated Jira hold sprints by the agile API's rules: future -> active -> closed only, dates required to
start, ``completeDate`` the server's, only future sprints deleted, boards listing them closed/active/future, and a
seed that exports back unchanged?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fakejira import installer, seeding
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.resources.sprints import export_sprints
from fakejira.site import Site

APP = "com.example.sprints"
AGILE = "/rest/agile/1.0"
DEMO = json.loads((Path(__file__).parents[2] / "fakejira" / "seeds" / "demo.json").read_text(encoding="utf-8"))
SCRUM, OTHER_SCRUM, KANBAN = 1, 2, 3
START, END = "2026-03-02T09:00:00.000+01:00", "2026-03-16T09:00:00.000+01:00"


@pytest.fixture
def site(fake_cloud: Cloud) -> Site:
    return fake_cloud.add_site("acme", DEMO)


@pytest.fixture
def app(site: Site) -> ConnectClient:
    installer.install_direct(site, APP, ["READ", "WRITE", "DELETE"])
    return ConnectClient(site, APP)


def _create(app: ConnectClient, **body: Any) -> dict[str, Any]:
    response = app.post(f"{AGILE}/sprint", json={"name": "Sprint 1", "originBoardId": SCRUM, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _errors(response: Any) -> str:
    body = response.json()
    return " ".join(body["errorMessages"] + list(body["errors"].values()))


def test_a_new_sprint_is_future_and_reads_back(app: ConnectClient, site: Site) -> None:
    created = _create(app, name="  Sprint 1  ", goal="Ship it", startDate=START)
    assert created["state"] == "future"
    assert created["name"] == "Sprint 1"  # "the sprint name is trimmed"
    assert created["startDate"] == "2026-03-02T08:00:00.000Z"  # answered in UTC
    assert created["originBoardId"] == SCRUM and "completeDate" not in created and created["createdDate"]
    got = app.get(f"{AGILE}/sprint/{created['id']}")
    assert got.status_code == 200 and got.json() == created


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"originBoardId": SCRUM}, 400, "name"),
    ({"name": "   ", "originBoardId": SCRUM}, 400, "name"),
    ({"name": "S"}, 400, "origin board"),
    ({"name": "S", "originBoardId": 999}, 404, "requested board cannot be viewed"),
    ({"name": "S", "originBoardId": KANBAN}, 400, "does not support sprints"),
    ({"name": "S", "originBoardId": SCRUM, "startDate": "next monday"}, 400, "ISO 8601"),
    ({"name": "S", "originBoardId": SCRUM, "startDate": END, "endDate": START}, 400, "must be after"),
])
def test_a_bad_create_is_refused_and_creates_nothing(app: ConnectClient, site: Site, body: dict[str, Any],
                                                     status: int, words: str) -> None:
    response = app.post(f"{AGILE}/sprint", json=body)
    assert response.status_code == status, response.text
    assert words in _errors(response)
    assert export_sprints(site) == []


def test_start_needs_dates_then_close_sets_the_complete_date(app: ConnectClient, site: Site) -> None:
    sprint = _create(app)
    path = f"{AGILE}/sprint/{sprint['id']}"
    refused = app.post(path, json={"state": "active"})
    assert refused.status_code == 400 and "startDate and endDate" in _errors(refused)
    assert app.get(path).json()["state"] == "future"

    started = app.post(path, json={"state": "active", "startDate": START, "endDate": END})
    assert started.status_code == 200 and started.json()["state"] == "active"
    assert "completeDate" not in started.json()

    closed = app.post(path, json={"state": "closed"})
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed" and closed.json()["completeDate"].endswith("Z")


@pytest.mark.parametrize(("setup", "body", "words"), [
    ("future", {"completeDate": START}, "completeDate field cannot be updated manually"),
    ("future", {"state": "closed"}, "cannot change state from 'future' to 'closed'"),
    ("active", {"state": "future"}, "cannot change state from 'active' to 'future'"),
    ("future", {"state": "done"}, "must be one of future, active, closed"),
    ("closed", {"name": "Renamed"}, "closed state cannot be updated"),
    ("future", {"id": 424242}, "cannot be changed"),
    ("future", {"originBoardId": KANBAN}, "does not support sprints"),
])
def test_updates_that_break_the_rules_change_nothing(app: ConnectClient, site: Site, setup: str,
                                                     body: dict[str, Any], words: str) -> None:
    sprint = _create(app, startDate=START, endDate=END)
    path = f"{AGILE}/sprint/{sprint['id']}"
    if setup in ("active", "closed"):
        assert app.post(path, json={"state": "active"}).status_code == 200
    if setup == "closed":
        assert app.post(path, json={"state": "closed"}).status_code == 200
    before = app.get(path).json()
    response = app.post(path, json=body)
    assert response.status_code == 400, response.text
    assert words in _errors(response)
    assert app.get(path).json() == before


def test_a_full_update_clears_what_it_leaves_out(app: ConnectClient) -> None:
    sprint = _create(app, goal="Goal", startDate=START, endDate=END)
    path = f"{AGILE}/sprint/{sprint['id']}"
    replaced = app.put(path, json={"name": "Renamed", "id": sprint["id"]})
    assert replaced.status_code == 200
    assert replaced.json()["name"] == "Renamed"
    assert {"goal", "startDate", "endDate"}.isdisjoint(replaced.json())
    partial = app.post(path, json={"goal": "Back"})
    assert (partial.json()["name"], partial.json()["goal"]) == ("Renamed", "Back")


def test_only_a_future_sprint_can_be_deleted(app: ConnectClient) -> None:
    future, active = _create(app), _create(app, name="Running", startDate=START, endDate=END)
    assert app.post(f"{AGILE}/sprint/{active['id']}", json={"state": "active"}).status_code == 200
    refused = app.delete(f"{AGILE}/sprint/{active['id']}")
    assert refused.status_code == 400 and "Only future sprints" in _errors(refused)
    assert app.get(f"{AGILE}/sprint/{active['id']}").status_code == 200
    assert app.delete(f"{AGILE}/sprint/{future['id']}").status_code == 204
    assert app.get(f"{AGILE}/sprint/{future['id']}").status_code == 404


def test_deleting_needs_the_delete_scope(site: Site) -> None:
    installer.install_direct(site, "com.example.writer", ["READ", "WRITE"])
    writer = ConnectClient(site, "com.example.writer")
    sprint = writer.post(f"{AGILE}/sprint", json={"name": "S", "originBoardId": SCRUM}).json()
    assert writer.delete(f"{AGILE}/sprint/{sprint['id']}").status_code == 403
    assert writer.get(f"{AGILE}/sprint/{sprint['id']}").status_code == 200


def test_a_board_lists_closed_then_active_then_future_paged_and_filtered(app: ConnectClient) -> None:
    future = _create(app, name="Later")
    done = _create(app, name="Done", startDate=START, endDate=END)
    running = _create(app, name="Now", startDate=START, endDate=END)
    _create(app, name="Elsewhere", originBoardId=OTHER_SCRUM)
    for sprint, states in ((done, ("active", "closed")), (running, ("active",))):
        for state in states:
            assert app.post(f"{AGILE}/sprint/{sprint['id']}", json={"state": state}).status_code == 200

    listed = app.get(f"{AGILE}/board/{SCRUM}/sprint").json()
    assert [s["name"] for s in listed["values"]] == ["Done", "Now", "Later"]
    assert (listed["total"], listed["isLast"]) == (3, True)
    page = app.get(f"{AGILE}/board/{SCRUM}/sprint", query={"startAt": 1, "maxResults": 1}).json()
    assert ([s["id"] for s in page["values"]], page["isLast"]) == ([running["id"]], False)
    filtered = app.get(f"{AGILE}/board/{SCRUM}/sprint", query={"state": "future,active"}).json()
    assert [s["id"] for s in filtered["values"]] == [running["id"], future["id"]]

    bad = app.get(f"{AGILE}/board/{SCRUM}/sprint", query={"state": "open"})
    assert bad.status_code == 400
    assert app.get(f"{AGILE}/board/{KANBAN}/sprint").status_code == 400
    assert app.get(f"{AGILE}/board/999/sprint").status_code == 404


def test_sprints_round_trip_through_a_seed(app: ConnectClient, site: Site) -> None:
    _create(app, name="Later", goal="G")
    closed = _create(app, name="Done", startDate=START, endDate=END)
    for state in ("active", "closed"):
        app.post(f"{AGILE}/sprint/{closed['id']}", json={"state": state})
    exported = seeding.export_site(site)
    assert [s["name"] for s in exported["sprints"]] == ["Later", "Done"]

    copy = seeding.new_site("copy", seed=exported)
    assert seeding.export_site(copy)["sprints"] == exported["sprints"]
    assert copy.store.next_id("sprint") > closed["id"]  # seeded ids stay out of the way of new ones


@pytest.mark.parametrize(("entry", "words"), [
    ({"id": 7, "name": "S", "state": "future", "originBoardId": 999}, "names unknown board 999"),
    ({"id": 7, "name": "S", "state": "open", "originBoardId": SCRUM}, "has state 'open'"),
    ({"name": "S", "state": "future", "originBoardId": SCRUM}, "integer 'id'"),
])
def test_a_bad_seed_entry_is_refused(entry: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        seeding.new_site("bad", seed={**DEMO, "sprints": [entry]})
