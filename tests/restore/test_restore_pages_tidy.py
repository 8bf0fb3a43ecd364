"""Do the Connect restore pages stay short and ordered for an admin on their worst day (#16, from the screenshots):
missing people named first and alphabetically, what a selection pulls in grouped by type, and the per-object list
folded away with a filter by outcome that works without JavaScript?"""

from __future__ import annotations

from tests.admin.test_recovery_page import Page
from tests.restore import test_restore_flow as flow
from tests.restore.test_restore_flow import _confirm_with_defaults, _form_values, _get, _post, _preview, _run_restore

demo = flow.demo  # the demo company backed up, an empty destination connected to it (a fixture)


def _missing_names(page: Page) -> list[tuple[str, str]]:
    return [(m.attrs["data-account-id"], " ".join(m.text.split())) for m in page.all("missing-user")]


def test_missing_people_with_a_name_come_first_alphabetically(live_app, demo, oauth_grant) -> None:
    """Are the people the backup names listed before those it has no name for, the named in alphabetical order?"""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    shown = _missing_names(_get(live_app, demo.dest, f"/admin/restore/{run_id}"))
    nameless = [i for i, (_, text) in enumerate(shown) if text.startswith("a person the backup has no name for")]
    named = [text for i, (_, text) in enumerate(shown) if i not in nameless]
    assert named and nameless, shown
    assert nameless == list(range(len(named), len(shown))), shown  # every named person before the nameless
    assert named == sorted(named, key=str.casefold), named


def test_what_a_selection_pulls_in_is_one_line_per_type(live_app, demo, oauth_grant) -> None:
    """Does "Projects, WEB" say "N custom fields, M screens, …" with the names folded per type, rather than one line
    per object — while still listing every object it pulls in?"""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}", scope="some", type="projects", projects="WEB")
    groups = page.all("pulled-in-group")
    objects = page.all("pulled-in")
    assert len(groups) < len(objects), (len(groups), len(objects))
    types = [g.attrs["data-type"] for g in groups]
    assert len(types) == len(set(types)) and set(types) == {p.attrs["data-type"] for p in objects}
    for group in groups:
        members = [p for p in objects if p.attrs["data-type"] == group.attrs["data-type"]]
        assert int(group.attrs["data-count"]) == len(members)
    summary = page.text("pulled-in-summary")
    fields = next(g for g in groups if g.attrs["data-type"] == "customFields")
    assert f"{fields.attrs['data-count']} custom field" in summary, summary
    assert "Custom fields:" not in summary


def test_the_per_object_list_is_folded_and_filters_by_plan_then_outcome(live_app, demo, oauth_grant) -> None:
    """Is the per-object table folded (a closed <details>) under the preview, does ?outcome=… show only those rows
    (opened), does an unknown value say what it expected, and after the run filter by outcome?"""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}")
    folded = page.one("objects-details")
    assert folded.attrs.get("open") is None and len(page.all("restore-item")) > 20
    links = {a.attrs["data-outcome"]: a.attrs["href"] for a in page.all("objects-filter-link")}
    assert "create" in links and "jwt=" in links["create"] and "outcome=create" in links["create"]
    every = len(page.all("restore-item"))

    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}", outcome="create")
    assert page.one("objects-details").attrs.get("open") is not None
    rows = page.all("restore-item")
    assert rows and len(rows) < every and {r.attrs["data-action"] for r in rows} == {"create"}
    assert "Showing 1" not in page.text("objects-summary") and str(len(rows)) in page.text("objects-summary")

    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}", outcome="nonsense")
    assert "expected one of create" in page.text("objects-filter-unknown")
    assert len(page.all("restore-item")) == every

    confirm = _confirm_with_defaults(live_app, demo, run_id)
    resp = _post(live_app, demo.dest, f"/admin/restore/{run_id}/start", **dict(_form_values(confirm,
                                                                                            "restore-start-form")))
    assert resp.status_code == 303
    _run_restore(live_app, run_id)
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}", outcome="created")
    rows = page.all("restore-item")
    assert rows and {r.attrs["data-outcome"] for r in rows} == {"created"}
    summary = page.text("report-summary")  # in words, not the outcome keys ("created: 76")
    assert "created:" not in summary and "reused" not in summary and " already there" in summary, summary
    assert {a.attrs["data-outcome"] for a in page.all("objects-filter-link")} >= {"created"}
