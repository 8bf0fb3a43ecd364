"""Sprints, rank order and votes restored onto a new site: as they were, once, and resumable.

The source is the ``issues-small`` preset (two scrum boards, each with closed, active and future sprints holding
issues; voters) with its ranks shuffled so the source's order is not the key order a restore creates issues in.
The destination has the same configuration and no issue data (the id map is the identity, boards included).
Records carry what the backup keeps: the Sprint field's sprint objects as Jira renders them, the Rank string and
the voters.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from app.issuedata.records import VoteRecord
from app.restore.issues.agile import AgileReport, BoardData, rank_moves
from app.restore.issues.run import board_issues
from fakejira.client import ConnectClient
from tests.restore.test_restore_issues import APP, SameIds, World, _projects

SPRINT_FIELD, RANK_FIELD = "customfield_10020", "customfield_10019"


@pytest.fixture(scope="module")
def shuffled_seed() -> dict[str, Any]:
    from fakejira import generator

    seed = generator.generate_preset("issues-small", rng_seed=42)
    ranks = [i["fields"][RANK_FIELD] for i in seed["issues"]]
    random.Random(7).shuffle(ranks)
    for issue, rank in zip(seed["issues"], ranks, strict=True):
        issue["fields"][RANK_FIELD] = rank
    return seed


def _with_board_data(world: World, seed: dict[str, Any]) -> None:
    """Fill the records' sprints (as the source renders its Sprint field), rank and voters, as the backup does."""
    client = ConnectClient(world.source, APP)
    for record in world.records:
        got = client.get(f"/rest/api/3/issue/{record.key}", query={"fields": f"{SPRINT_FIELD},{RANK_FIELD}"})
        fields = got.json()["fields"]
        record.sprints = list(fields.get(SPRINT_FIELD) or [])
        record.rank = fields.get(RANK_FIELD)
        voters = seed.get("issueVoters", {}).get(record.id, [])
        record.votes = VoteRecord(len(voters), list(voters))


@pytest.fixture
def world(app, fake_cloud, shuffled_seed) -> World:
    seed = copy.deepcopy(shuffled_seed)
    world = World(app, fake_cloud, seed, scopes=["ADMIN", "ACT_AS_USER"])
    _with_board_data(world, seed)
    return world


def _restore(world: World) -> tuple[dict[str, Any], AgileReport]:
    keys: dict[str, str] = {}
    reports = {p: world.restore(p, dest_keys=keys) for p in _projects(world)}
    agile = []
    for project, report in reports.items():
        agile += board_issues([r for r in world.records if r.project_key == project], report)
    with world.app.app_context():
        board = BoardData(world.access(), SameIds(world.people), agile).restore()
    return reports, board


def _board_sprints(site: Any, board_id: int) -> list[tuple[str, str]]:
    values = ConnectClient(site, APP).get(f"/rest/agile/1.0/board/{board_id}/sprint").json()["values"]
    return sorted((s["name"], s["state"]) for s in values)


def _sprints_of(site: Any, key: str) -> list[tuple[str, str]]:
    got = ConnectClient(site, APP).get(f"/rest/api/3/issue/{key}", query={"fields": SPRINT_FIELD}).json()
    return sorted((s["name"], s["state"]) for s in got["fields"].get(SPRINT_FIELD) or [])


def _order(site: Any, keys: list[str]) -> list[str]:
    ranks = {}
    for key in keys:
        got = ConnectClient(site, APP).get(f"/rest/api/3/issue/{key}", query={"fields": RANK_FIELD}).json()
        ranks[key] = got["fields"][RANK_FIELD]
    return sorted(keys, key=lambda k: ranks[k])


def _backlog(site: Any, board_id: int) -> list[str]:
    answer = ConnectClient(site, APP).get(f"/rest/agile/1.0/board/{board_id}/backlog",
                                          query={"fields": "summary", "maxResults": 50}).json()
    return [i["key"] for i in answer["issues"]]


def _used_sprints(world: World) -> dict[int, set[tuple[str, str]]]:
    """The source's sprints that hold issues, per board: what the backup knows of."""
    out: dict[int, set[tuple[str, str]]] = {}
    for record in world.records:
        for sprint in record.sprints:
            out.setdefault(int(sprint["boardId"]), set()).add((sprint["name"], sprint["state"]))
    return out


def test_sprints_order_and_votes_come_back_as_they_were(world: World) -> None:
    """Are the boards' sprints there in their states, holding the same issues, in the source's rank order, with
    the votes of people on this site (and the others counted, in words)?"""
    assert len(_used_sprints(world)) == 2
    assert {state for sprints in _used_sprints(world).values() for _n, state in sprints} == \
        {"closed", "active", "future"}
    _reports, board = _restore(world)
    assert board.notes == []
    for board_id, sprints in _used_sprints(world).items():
        assert _board_sprints(world.dest, board_id) == sorted(sprints)
    for record in world.records:
        assert _sprints_of(world.dest, record.key) == sorted((s["name"], s["state"]) for s in record.sprints), \
            record.key
    source_order = [r.key for r in sorted(world.records, key=lambda r: str(r.rank))]
    assert source_order != sorted(source_order)  # the shuffled ranks aren't the key (creation) order
    assert _order(world.dest, source_order) == source_order
    assert board.issues_ranked > 0
    for board_id in _used_sprints(world):  # each board's backlog, as Jira lists it, in the source's order
        assert _backlog(world.dest, board_id) == _backlog(world.source, board_id)
        assert len(_backlog(world.dest, board_id)) > 1
    for record in world.records:
        got = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}/votes").json()
        assert sorted(v["accountId"] for v in got["voters"]) == sorted(record.votes.voters or []), record.key


def test_closed_sprints_keep_their_dates_and_original_completion_in_the_property(world: World) -> None:
    """Start and end dates are the source's; completeDate is Jira's, so the original is kept on each issue."""
    _restore(world)
    source = {s["name"]: s for r in world.records for s in r.sprints}
    for board_id in _used_sprints(world):
        values = ConnectClient(world.dest, APP).get(f"/rest/agile/1.0/board/{board_id}/sprint").json()["values"]
        for sprint in values:
            want = source[sprint["name"]]
            assert (sprint["startDate"], sprint["endDate"]) == (want["startDate"], want["endDate"])
            assert sprint.get("goal") == want.get("goal")
    record = next(r for r in world.records if any(s["state"] == "closed" for s in r.sprints))
    prop = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}/properties/jiradr.before").json()
    closed = next(s for s in record.sprints if s["state"] == "closed")
    assert {"name": closed["name"], "state": "closed", "startDate": closed["startDate"],
            "endDate": closed["endDate"], "completeDate": closed["completeDate"]} in prop["value"]["sprints"]


def test_missing_voter_and_reporter_vote_are_counted_in_words(world: World) -> None:
    """A voter not on this site and a vote Jira refuses (the reporter's own) are reported; the rest is cast."""
    voted = [r for r in world.records if r.votes.voters]
    gone = voted[0].votes.voters[0]
    world.people.discard(gone)
    own = voted[-1]
    reporter = own.fields["reporter"]["accountId"]
    own.votes = VoteRecord(own.votes.count + 1, [*own.votes.voters, reporter])
    reports, _board = _restore(world)
    lost: dict[str, int] = {}
    for report in reports.values():
        for why, n in report.votes_not_cast.items():
            lost[why] = lost.get(why, 0) + n
    assert any("isn't on this site" in why for why in lost)
    assert any("You cannot vote for an issue you have reported." in why for why in lost)
    notes = [n for r in reports.values() for o in r.issues.values() for n in o.notes]
    assert any(f"vote of {gone} not restored" in n for n in notes)
    cast = sum(r.votes_cast for r in reports.values())
    assert cast == sum(len(r.votes.voters or []) for r in world.records) - sum(lost.values())


def test_a_second_run_writes_nothing(world: World) -> None:
    """Run twice: the second finds every sprint, membership, order and vote in place and writes nothing."""
    _restore(world)
    reports, board = _restore(world)
    assert board.writes == 0 and board.sprints_created == 0 and board.notes == []
    assert all(r.writes == 0 for r in reports.values())


def test_a_kill_during_sprint_moves_resumes_without_duplicate_sprints(world: World) -> None:
    """The run dies after its second sprint move: the next one finds the sprints by name, fills, starts and closes
    them, and no sprint exists twice."""
    original = BoardData._move_in
    calls = {"n": 0}

    def dies(self: Any, dest: Any, keys: list[str]) -> None:
        if [k for k in keys if dest.id not in self._in_sprints[k]]:
            calls["n"] += 1
            if calls["n"] == 3:
                raise SystemExit("killed")
        original(self, dest, keys)

    BoardData._move_in = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            _restore(world)
    finally:
        BoardData._move_in = original  # type: ignore[method-assign]
    _reports, board = _restore(world)
    assert board.notes == []
    for board_id, sprints in _used_sprints(world).items():
        assert _board_sprints(world.dest, board_id) == sorted(sprints)  # each once, in its state
    for record in world.records:
        assert _sprints_of(world.dest, record.key) == sorted((s["name"], s["state"]) for s in record.sprints)


@pytest.mark.parametrize("current", [
    ["A", "B", "C", "D"], ["D", "C", "B", "A"], ["B", "A", "D", "C"], ["C", "A", "B", "D"]])
def test_rank_moves_give_the_wanted_order_with_the_fewest_moves(current: list[str]) -> None:
    """Applying the moves to ``current`` gives A B C D; issues already in order aren't moved."""
    order = list(current)
    moves = rank_moves(["A", "B", "C", "D"], current)
    for keys, where, anchor in moves:
        order = [k for k in order if k not in keys]
        at = order.index(anchor) + (1 if where == "after" else 0)
        order[at:at] = keys
    assert order == ["A", "B", "C", "D"]
    assert sum(len(k) for k, _w, _a in moves) == {"ABCD": 0, "DCBA": 3, "BADC": 2, "CABD": 1}["".join(current)]


def test_without_the_agile_scopes_sprints_and_rank_are_said_not_restored(world: World) -> None:
    """A credential that may not call the agile API (a Forge install without the sprint scopes): the issues are
    restored, sprints and rank are not, and the report names the calls and the fix; nothing fails."""
    keys: dict[str, str] = {}
    reports = {p: world.restore(p, dest_keys=keys) for p in _projects(world)}
    agile = []
    for project, report in reports.items():
        agile += board_issues([r for r in world.records if r.project_key == project], report)
    access = world.access()
    access.credentials[0].allows = lambda op: "/rest/agile/" not in op.template
    with world.app.app_context():
        board = BoardData(access, SameIds(world.people), agile).restore()
    assert board.writes == 0
    assert [n.split(":")[0] for n in board.notes] == ["sprints not restored", "rank order not restored"]
    assert "POST /rest/agile/1.0/sprint" in board.notes[0] and access.fix in board.notes[0]
    assert "PUT /rest/agile/1.0/issue/rank" in board.notes[1]
    values = ConnectClient(world.dest, APP).get("/rest/agile/1.0/board/2/sprint").json()["values"]
    assert values == []


@pytest.mark.parametrize("seed", range(5))
def test_rank_moves_of_long_shuffles_fit_50_a_call(seed: int) -> None:
    """130 issues shuffled (reversed for one): each call ranks at most 50, and the result is the wanted order."""
    wanted = [f"K-{n}" for n in range(130)]
    current = list(reversed(wanted)) if seed == 0 else random.Random(seed).sample(wanted, len(wanted))
    order = list(current)
    moves = rank_moves(wanted, current)
    for keys, where, anchor in moves:
        assert 0 < len(keys) <= 50 and anchor not in keys
        order = [k for k in order if k not in keys]
        at = order.index(anchor) + (1 if where == "after" else 0)
        order[at:at] = keys
    assert order == wanted


def test_sprints_without_issues_come_back_from_the_boards_lists(world: World) -> None:
    """A future sprint nobody planned into and a closed one whose issues went: given the boards' sprint lists the
    backup keeps, are both on the destination's board, in their states, the closed one with its dates?"""
    board_id = min(_used_sprints(world))
    empty = [{"id": 990001, "name": "Nobody planned yet", "state": "future", "originBoardId": board_id,
              "boardId": board_id, "goal": "later"},
             {"id": 990002, "name": "Emptied sprint", "state": "closed", "originBoardId": board_id,
              "boardId": board_id, "startDate": "2024-01-01T09:00:00.000Z", "endDate": "2024-01-15T09:00:00.000Z",
              "completeDate": "2024-01-15T10:00:00.000Z"}]
    keys: dict[str, str] = {}
    reports = {p: world.restore(p, dest_keys=keys) for p in _projects(world)}
    agile = []
    for project, report in reports.items():
        agile += board_issues([r for r in world.records if r.project_key == project], report)
    with world.app.app_context():
        board = BoardData(world.access(), SameIds(world.people), agile, sprints=empty).restore()
    assert board.notes == []
    there = _board_sprints(world.dest, board_id)
    assert ("Nobody planned yet", "future") in there and ("Emptied sprint", "closed") in there
    assert sorted(_used_sprints(world)[board_id] | {("Nobody planned yet", "future"), ("Emptied sprint", "closed")}) \
        == there
    values = ConnectClient(world.dest, APP).get(f"/rest/agile/1.0/board/{board_id}/sprint").json()["values"]
    emptied = next(s for s in values if s["name"] == "Emptied sprint")
    assert emptied["startDate"].startswith("2024-01-01") and emptied["endDate"].startswith("2024-01-15")
