"""Does the emulated Jira move issues into sprints and the backlog and rank them as the agile API says: at most 50 a
call, no closed sprint, one open sprint per issue (closed ones kept), the Sprint field and history, the board's
backlog without sprint issues, rank before/after an issue, and rank and sprint surviving a seed round trip?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fakejira import dispatch, installer, seeding
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.site import Site
from tests.emulator import helpers
from tests.emulator.issue_data_helpers import errors_of

DEMO = json.loads((Path(__file__).parents[2] / "fakejira" / "seeds" / "demo.json").read_text(encoding="utf-8"))
AGILE = "/rest/agile/1.0"
SPRINT_FIELD, RANK_FIELD = "customfield_10020", "customfield_10019"
DATES = {"startDate": "2026-03-02T09:00:00.000Z", "endDate": "2026-03-16T09:00:00.000Z"}


def agile(site: Site, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    return helpers.api(site, method, AGILE + path, body, **kw)


@pytest.fixture
def web() -> Site:
    site = seeding.new_site("acme", "http://127.0.0.1:9", DEMO)
    site.store.get("filters", "10001")["jql"] = "project = WEB ORDER BY Rank ASC"  # board 1's filter: all of WEB
    for n in range(4):
        code, answer = helpers.call(site, "POST", "/issue", body={"fields": {
            "project": {"key": "WEB"}, "issuetype": {"id": "10001"}, "summary": f"Task {n}"}})
        assert code == 201, answer
    return site


def _sprint(site: Site, name: str = "S1", board: int = 1) -> int:
    code, sprint = agile(site, "POST", "/sprint", {"name": name, "originBoardId": board, **DATES})
    assert code == 201, sprint
    return int(sprint["id"])


def _keys(answer: dict[str, Any]) -> list[str]:
    return [i["key"] for i in answer["issues"]]


def test_new_issues_are_ranked_at_the_bottom_in_creation_order(web: Site) -> None:
    ranks = [helpers.call(web, "GET", f"/issue/WEB-{n}")[1]["fields"][RANK_FIELD] for n in range(1, 5)]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4 and all(r.startswith("0|") for r in ranks)


def test_moving_issues_into_a_sprint_and_back_to_the_backlog(web: Site) -> None:
    sprint = _sprint(web)
    assert agile(web, "POST", f"/sprint/{sprint}/issue", {"issues": ["WEB-1", "WEB-3"]})[0] == 204
    assert _keys(agile(web, "GET", f"/sprint/{sprint}/issue")[1]) == ["WEB-1", "WEB-3"]
    shown = helpers.call(web, "GET", "/issue/WEB-1")[1]["fields"][SPRINT_FIELD]
    assert [(s["id"], s["name"], s["state"]) for s in shown] == [(sprint, "S1", "future")]
    history = helpers.call(web, "GET", "/issue/WEB-1/changelog")[1]["values"][-1]["items"]
    assert history == [{"field": "Sprint", "fieldtype": "custom", "fieldId": SPRINT_FIELD, "to": str(sprint),
                        "toString": "S1"}]
    assert _keys(agile(web, "GET", "/board/1/backlog")[1]) == ["WEB-2", "WEB-4"]
    other = _sprint(web, "S2")
    agile(web, "POST", f"/sprint/{other}/issue", {"issues": ["WEB-1"]})
    assert helpers.call(web, "GET", "/issue/WEB-1")[1]["fields"][SPRINT_FIELD][0]["id"] == other  # one open sprint
    assert agile(web, "POST", "/backlog/issue", {"issues": ["WEB-1", "WEB-3"]})[0] == 204
    assert helpers.call(web, "GET", "/issue/WEB-1")[1]["fields"][SPRINT_FIELD] is None
    assert _keys(agile(web, "GET", "/board/1/backlog")[1]) == ["WEB-1", "WEB-2", "WEB-3", "WEB-4"]


def test_closed_sprints_refuse_issues_and_stay_on_the_issue(web: Site) -> None:
    sprint = _sprint(web)
    agile(web, "POST", f"/sprint/{sprint}/issue", {"issues": ["WEB-1"]})
    agile(web, "POST", f"/sprint/{sprint}", {"state": "active"})
    agile(web, "POST", f"/sprint/{sprint}", {"state": "closed"})
    code, answer = agile(web, "POST", f"/sprint/{sprint}/issue", {"issues": ["WEB-2"]})
    assert code == 400 and "open or active sprints" in errors_of(answer)
    later = _sprint(web, "S2")
    agile(web, "POST", f"/sprint/{later}/issue", {"issues": ["WEB-1"]})
    states = [s["state"] for s in helpers.call(web, "GET", "/issue/WEB-1")[1]["fields"][SPRINT_FIELD]]
    assert states == ["closed", "future"]


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"issues": []}, 400, "at least one issue"),
    ({"issues": [f"WEB-{n}" for n in range(51)]}, 400, "At most 50"),
    ({"issues": ["WEB-99"]}, 400, "WEB-99"),
])
def test_bad_moves_are_refused_and_change_nothing(web: Site, body: dict[str, Any], status: int, words: str) -> None:
    sprint = _sprint(web)
    code, answer = agile(web, "POST", f"/sprint/{sprint}/issue", body)
    assert code == status and words in errors_of(answer)
    assert agile(web, "GET", f"/sprint/{sprint}/issue")[1]["total"] == 0
    assert agile(web, "POST", "/sprint/999/issue", {"issues": ["WEB-1"]})[0] == 404


def test_rank_before_and_after_an_issue(web: Site) -> None:
    assert agile(web, "PUT", "/issue/rank", {"issues": ["WEB-4"], "rankBeforeIssue": "WEB-1"})[0] == 204
    assert agile(web, "PUT", "/issue/rank", {"issues": ["WEB-1"], "rankAfterIssue": "WEB-3"})[0] == 204
    assert _keys(agile(web, "GET", "/board/1/backlog")[1]) == ["WEB-4", "WEB-2", "WEB-3", "WEB-1"]
    history = helpers.call(web, "GET", "/issue/WEB-4/changelog")[1]["values"][-1]["items"]
    assert history == [{"field": "Rank", "fieldtype": "custom", "fieldId": RANK_FIELD, "toString": "Ranked higher"}]
    code, answer = agile(web, "PUT", "/issue/rank", {"issues": ["WEB-2"]})
    assert code == 400 and "Exactly one of rankBeforeIssue and rankAfterIssue" in errors_of(answer)
    assert agile(web, "PUT", "/issue/rank", {"issues": ["WEB-2"], "rankBeforeIssue": "WEB-1",
                                             "rankAfterIssue": "WEB-3"})[0] == 400
    assert agile(web, "PUT", "/issue/rank", {"issues": ["WEB-2"], "rankBeforeIssue": "WEB-1",
                                             "rankCustomFieldId": 10020})[0] == 400
    status, body, _ = dispatch.call(web, "PUT", AGILE + "/issue/rank",
                                    body={"issues": ["WEB-2", "WEB-99"], "rankBeforeIssue": "WEB-4"})
    assert status == 207 and [e["status"] for e in body["entries"]] == [200, 404]
    assert _keys(agile(web, "GET", "/board/1/backlog")[1])[0] == "WEB-2"


def test_rank_and_sprints_round_trip_through_the_seed(web: Site) -> None:
    sprint = _sprint(web)
    agile(web, "POST", f"/sprint/{sprint}/issue", {"issues": ["WEB-2"], "rankBeforeIssue": "WEB-1"})
    exported = seeding.export_site(web)
    again = seeding.new_site("acme", "http://127.0.0.1:9")
    seeding.load_seed(again, exported)
    assert seeding.export_site(again) == exported
    assert _keys(agile(again, "GET", f"/sprint/{sprint}/issue")[1]) == ["WEB-2"]


def test_scopes(fake_cloud: Cloud) -> None:
    site = fake_cloud.add_site("agile", DEMO)
    installer.install_direct(site, "reader", ["READ"])
    reader = ConnectClient(site, "reader")
    assert reader.get(f"{AGILE}/board/1/backlog").status_code == 200
    assert reader.put(f"{AGILE}/issue/rank", json={"issues": ["WEB-1"], "rankBeforeIssue": "WEB-2"}).status_code == 403
    assert reader.post(f"{AGILE}/backlog/issue", json={"issues": ["WEB-1"]}).status_code == 403


def test_new_issues_appended_at_the_bottom_keep_short_ranks_in_order() -> None:
    """10,000 new issues each go below the last (as Jira appends): ranks stay short and strictly increasing, so
    generating a large site doesn't slow down with ever longer rank strings."""
    from fakejira.resources.sprint_issues import after

    rank, seen = None, []
    for _ in range(10_000):
        rank = after(rank)
        seen.append(rank)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert {len(r) for r in seen} == {len(seen[0])}, max(seen, key=len)  # no growth: one fixed width


def test_ranks_placed_between_neighbours_sort_as_text_as_they_sort_as_numbers() -> None:
    """Ranking 200 issues one after another just below the same neighbour (the densest spot) keeps every rank
    strictly between its neighbours when compared as text, as an app sorting LexoRank strings compares them."""
    from fakejira.resources.sprint_issues import after, between

    low, high = after(None), after(after(None))
    chain = []
    for _ in range(200):
        low = between(low, high)
        chain.append(low)
    assert chain == sorted(chain) and all(c < high for c in chain)
