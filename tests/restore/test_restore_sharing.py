"""Do filters, boards, dashboards and settings come back on an empty destination, with what can't be restored noted,
and only once?"""

from __future__ import annotations

import copy
from typing import Any

from app.extensions import db
from app.restore import service
from app.restore.models import RestoreRun
from app.restore.plan import Selection
from fakejira import canonical
from fakejira.seeding import export_site, load_seed
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import _writes, outcomes, preview, restore
from tests.restore.test_restore_projects import demo_sites  # noqa: F401  (fixture)

HOSTILE = "=cmd|' /C calc'!A0 <img src=x onerror=alert(1)> Ünïcödé \"quoted\""
SHARING = ("filters", "boards", "dashboards", "settings")


def _hostile_filter(site: Any) -> None:
    """A filter with a hostile name and JQL naming a custom field by id, shared with a group and a project."""
    filters = export_site(site)["filters"]
    base = copy.deepcopy(next(f for f in filters if "cf[" in f.get("jql", "") or "customfield_" in f.get("jql", "")))
    base.update(id="10090", name=HOSTILE, description="<script>alert(1)</script>")
    load_seed(site, {"filters": [*filters, base]})


def _by(export: dict[str, Any], type_key: str, key: str = "name") -> dict[str, dict[str, Any]]:
    return {str(o[key]).casefold(): o for o in export[type_key]}


def test_sharing_types_round_trip_with_notes_and_a_second_run_writes_nothing(
        app, demo_sites, fake_cloud) -> None:  # noqa: F811
    sites = demo_sites
    _hostile_filter(sites.source)
    load_seed(sites.source, {"settings": {"timetrackingOptions": {"workingHoursPerDay": 7.5, "workingDaysPerWeek": 4,
                                                                   "timeFormat": "days", "defaultUnit": "hour"}}})
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot), fallback="admin")
    assert run.status == "done", run.message
    items = outcomes(app, run.id)
    bad = {k: (i.outcome, i.reason) for k, i in items.items()
           if k[0] in SHARING and i.outcome in ("failed", "pending", "creating", "incomplete")}
    assert not bad, bad
    src, dst = export_site(sites.source), export_site(sites.dest)
    # filters: every one, owned by the fallback admin (their owners have no account here), JQL in destination terms
    src_filters, dst_filters = _by(src, "filters"), _by(dst, "filters")
    assert set(src_filters) == set(dst_filters)
    assert {f["owner"]["accountId"] for f in dst_filters.values()} == {sites.admin}
    fields = {f["id"]: f for f in dst.get("fields", [])} if isinstance(dst.get("fields"), list) else {}
    hostile = dst_filters[HOSTILE.casefold()]
    assert hostile["description"] == "<script>alert(1)</script>"
    if fields:
        assert all(cf in fields for cf in __import__("re").findall(r"customfield_\d+", hostile["jql"]))
    # boards on the restored filters, each noting what has no API
    dst_boards = _by(dst, "boards")
    assert set(_by(src, "boards")) == set(dst_boards)
    for name in dst_boards:
        row = next(i for k, i in items.items() if k[0] == "boards" and k[1].casefold() == name)
        assert row.outcome == "created" and any("no public API" in n for n in row.notes), row.notes
    # dashboards with their gadgets in place; the System dashboard maps onto the destination's
    dash = _by(dst, "dashboards")["engineering overview"]
    gadgets = export_site(sites.dest)["dashboardGadgets"][dash["id"]]
    assert sorted((g["position"]["row"], g["position"]["column"], g["title"]) for g in gadgets) == [
        (0, 0, "Release blockers"), (0, 1, "Bugs by platform"), (1, 0, "Assigned to me")]
    assert items[("dashboards", "Default dashboard")].outcome == "reused"
    # settings brought in line
    assert dst["settings"]["timetrackingOptions"] == {"workingHoursPerDay": 7.5, "workingDaysPerWeek": 4,
                                                      "timeFormat": "days", "defaultUnit": "hour"}
    assert items[("settings", "timetrackingOptions")].outcome == "updated"
    # the independent yardstick's differences in filters and dashboards are each named in the report: here nobody
    # has an account, so they belong to the fallback, which each one's outcome says
    found = canonical.compare(canonical.canonical_export(sites.source), canonical.canonical_export(sites.dest))
    for diff in (d for d in found.differences if d.type in ("filters", "dashboards")):
        name = diff.key.partition(" / ")[2]
        said = " ".join(n for k, i in items.items() if k[0] == diff.type and k[1] == name
                        for n in [*(i.notes or []), i.reason or ""])
        assert "has no account here" in said, (diff.words, said)
    # notes reach the report (JSON and CSV)
    with app.app_context():
        stored = db.session.get(RestoreRun, run.id)
        report = service.report_json(stored)
        text = service.report_csv(stored)
    assert any(o["notes"] for o in report["objects"] if o["type"] == "boards")
    assert "no public API" in text and "'=cmd" in text
    # a second restore of the same snapshot writes nothing
    sites.dest.calls.clear()
    again = restore(app, sites, preview(app, sites, snapshot), fallback="admin")
    assert again.status == "done"
    assert _writes(sites.dest) == []


def test_a_destination_holding_a_filter_of_the_same_owner_and_name_reuses_it_and_selecting_boards_pulls_in_filters(
        app, demo_sites, fake_cloud) -> None:  # noqa: F811
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    load_seed(sites.dest, {"filters": [{"id": "20001", "name": "WEB BUGS", "jql": "project = WEB",
                                        "owner": {"accountId": sites.admin}, "sharePermissions": [],
                                        "editPermissions": []}]})
    run_id = preview(app, sites, snapshot)
    with app.app_context():
        stored = db.session.get(RestoreRun, run_id)
        chosen = Selection(types=["boards"])
        pulled = [row for row, pulled_in in service.selected_rows(stored, chosen) if pulled_in]
    assert {"filters", "projects"} <= {p.type_key for p in pulled}
    run = restore(app, sites, run_id, Selection(types=["boards"]), fallback="admin")
    items = outcomes(app, run.id)
    kept = items[("filters", "Web bugs")]
    assert (kept.outcome, kept.dest_id) == ("reused", "20001")
    assert items[("dashboards", "Engineering Overview")].outcome == "pending"  # not chosen, not needed
    dst = export_site(sites.dest)
    assert sum(f["name"].casefold() == "web bugs" for f in dst["filters"]) == 1
    board = _by(dst, "boards")["web board"]
    assert export_site(sites.dest)["boardConfigurations"][str(board["id"])]["filter"]["id"] == "20001"
