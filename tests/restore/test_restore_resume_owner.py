"""Does a restore killed between a filter's create and its owner change give the filter back to its owner on resume,
once, with the board on it restored?

Projects are restored by a run of their own first: filters' JQL names projects by key, which gives the engine no
ordering reference, so in one run a filter could be created before its projects and Jira would refuse its JQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from app.jira.access import JiraAccess
from app.restore import service
from app.restore.plan import Selection
from app.restore.types.sharing import CHANGE_FILTER_OWNER, Filters
from app.tenants import Tenant
from fakejira.seeding import export_site, load_seed
from tests.restore.conftest import killed_then_resumed, take_backup
from tests.restore.test_restore_basics import outcomes, preview, restore
from tests.restore.test_restore_projects import demo_sites  # noqa: F401  (fixture)

KILLED = "Web bugs"  # the filter the "WEB board" is on


def _killed_then_resumed(app, sites, run_id: int) -> None:
    """Start the restore of the boards, let the planted kill end the worker, resume it."""
    with app.app_context():
        run = service.start_restore(db.session.get(Tenant, sites.dest_tenant_id), run_id,
                                    Selection(types=["boards"]), "admin", sites.admin)
        killed_then_resumed(run.job_id)


def _plant_kill(monkeypatch, when: str, owner: str) -> dict[str, Any]:
    """Kill the worker on the filter ``KILLED`` (owned by ``owner``) once Jira has created it but before its owner
    change is sent, or once its follow-up writes are done but before its outcome is recorded."""
    call, after_create = JiraAccess.call, Filters.after_create
    seen: dict[str, Any] = {"killed": False}

    def dying_call(self, op, **kw):
        if op is CHANGE_FILTER_OWNER and when == "after-create" and not seen["killed"] \
                and (kw.get("json") or {}).get("accountId") == owner:
            seen["killed"] = True
            raise SystemExit("worker killed before the owner change")
        return call(self, op, **kw)

    def dying_after_create(self, access, dest_id, obj, ids):
        after_create(self, access, dest_id, obj, ids)
        if obj["name"] == KILLED and when == "after-owner" and not seen["killed"]:
            seen["killed"] = True
            raise SystemExit("worker killed before the outcome was recorded")

    monkeypatch.setattr(JiraAccess, "call", dying_call)
    monkeypatch.setattr(Filters, "after_create", dying_after_create)
    return seen


def _projects_first(app, sites, snapshot: int) -> int:
    """Restore the projects in a run of their own; the preview of the next run."""
    restore(app, sites, preview(app, sites, snapshot), Selection(types=["projects"]), fallback="admin")
    return preview(app, sites, snapshot)


@pytest.mark.parametrize("when", ["after-create", "after-owner"])
def test_a_filter_killed_before_its_outcome_is_recorded_ends_once_with_its_owner_and_its_board(
        app, demo_sites, fake_cloud, monkeypatch, when) -> None:  # noqa: F811
    sites = demo_sites
    source = export_site(sites.source)
    # The owners have accounts on the destination: the restored filter must end with its own owner, not the
    # account the app acts as (nor the fallback).
    load_seed(sites.dest, {"users": [u for u in source["users"] if u["accountId"] != sites.admin]})
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run_id = _projects_first(app, sites, snapshot)
    want = next(f for f in source["filters"] if f["name"] == KILLED)
    seen = _plant_kill(monkeypatch, when, want["owner"]["accountId"])
    _killed_then_resumed(app, sites, run_id)
    assert seen["killed"]

    dest = export_site(sites.dest)
    same_name = [f for f in dest["filters"] if f["name"].casefold() == KILLED.casefold()]
    assert len(same_name) == 1, [(f["id"], f["owner"]["accountId"]) for f in same_name]
    got = same_name[0]
    assert got["owner"]["accountId"] == want["owner"]["accountId"]
    assert got["jql"] == want["jql"]  # project keys are the same on both sites
    web = next(p for p in dest["projects"] if p["key"] == "WEB")
    assert [(s["type"], str(s["project"]["id"])) for s in got["sharePermissions"]] == [("project", str(web["id"]))]
    items = outcomes(app, run_id)
    row = items[("filters", KILLED)]
    assert (row.outcome, row.dest_id) == ("created", str(got["id"])), (row.outcome, row.reason)
    board = next(b for b in dest["boards"] if b["name"] == "WEB board")
    assert dest["boardConfigurations"][str(board["id"])]["filter"]["id"] == str(got["id"])
    assert items[("boards", "WEB board")].outcome == "created", items[("boards", "WEB board")].reason
    # the other filters the boards pulled in reached their owners too, and nothing selected was left behind
    owners = {f["name"]: f["owner"]["accountId"] for f in dest["filters"]}
    assert set(owners) == {"Web bugs", "Release blockers", 'Ops "on-call" <queue>'}
    assert owners == {f["name"]: f["owner"]["accountId"] for f in source["filters"] if f["name"] in owners}
    assert not [(k, i.reason) for k, i in items.items()
                if i.selected and i.outcome in ("failed", "pending", "creating", "incomplete", "skipped")]


def test_a_board_whose_create_answer_was_lost_is_found_on_the_filter_created_in_the_same_run(
        app, demo_sites, fake_cloud, monkeypatch) -> None:  # noqa: F811
    """The board's key names its filter's destination id, which the plan didn't know (the filter was created after
    planning): the look-up after a lost answer must use the run's ids, or the board is created twice."""
    from app.jira.errors import JiraUnavailable
    from app.restore.types.sharing import Boards
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run_id = _projects_first(app, sites, snapshot)
    create = Boards.create
    lost: list[str] = []

    def answer_lost(self, access, obj, ids):
        dest_id = create(self, access, obj, ids)
        if not lost:
            lost.append(dest_id)
            raise JiraUnavailable("POST", "/rest/agile/1.0/board", 504, None)  # created, but the answer never came
        return dest_id

    monkeypatch.setattr(Boards, "create", answer_lost)
    run = restore(app, sites, run_id, Selection(types=["boards"]), fallback="admin")
    assert run.status == "done" and lost
    names = [b["name"] for b in export_site(sites.dest)["boards"]]
    assert sorted(names) == sorted(b["name"] for b in export_site(sites.source)["boards"])
    rows = [i for k, i in outcomes(app, run_id).items() if k[0] == "boards"]
    assert {i.outcome for i in rows} == {"created"} and lost[0] in {i.dest_id for i in rows}
