"""Does the restore, as an admin lives it on the Connect pages (plain HTTP, no JavaScript), earn trust (#16): a default
that restores every project, a selection that narrows, reasons for everything not restored, a stale preview that
can't be started, results in words with people by name, and a confirmation that states its size?"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.jobs.runtime import run_job
from app.oauth.models import OAuthGrant
from app.recovery.connections import Side, activate, deactivate, generate_token, release
from app.restore.models import RestoreItem, RestoreRun
from app.tenants import Tenant
from fakejira import installer
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site, load_seed
from tests.admin.test_recovery_page import Page
from tests.restore.conftest import take_backup

DEMO = json.loads((Path(__file__).resolve().parents[2] / "fakejira" / "seeds" / "demo.json").read_text("utf-8"))
PROJECTS = {p["key"] for p in DEMO["projects"]}
LEADS = {p["key"]: p["lead"]["displayName"] for p in DEMO["projects"]}
ACCOUNT_ID = re.compile(r"557058:[0-9a-f-]{36}")


@dataclass
class Demo:
    source: Any
    dest: Any
    source_id: int
    dest_id: int
    snapshot_id: int
    admin: str


@pytest.fixture
def demo(live_app, fake_cloud, install_into, oauth_grant) -> Demo:
    """The demo company backed up in full (its admin authorised), an empty destination connected to it (Active)."""
    source, dest = fake_cloud.add_site("source"), fake_cloud.add_site("dest")
    load_seed(source, DEMO)
    source.client_key, dest.client_key = install_into(source), install_into(dest)
    admin = admin_account_id(dest)
    with live_app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
        ids = (src.id, dst.id)
    oauth_grant(source, ids[0])
    return Demo(source, dest, ids[0], ids[1], take_backup(live_app, ids[0], fake_cloud), admin)


def _token(app, site) -> str:
    return installer.context_token(site, app.config["APP_KEY"], admin_account_id(site))


def _get(app, site, path: str, **params: Any) -> Page:
    resp = requests.get(app.config["BASE_URL"] + path, params={"jwt": _token(app, site), **params}, timeout=30)
    assert resp.status_code == 200, resp.text[:800]
    return Page(resp)


def _post(app, site, path: str, **data: Any) -> requests.Response:
    return requests.post(app.config["BASE_URL"] + path, data={"jwt": _token(app, site), **data},
                         allow_redirects=False, timeout=30)


def _preview(app, demo: Demo) -> int:
    resp = _post(app, demo.dest, "/admin/restore/preview", snapshot_id=demo.snapshot_id)
    assert resp.status_code == 303, resp.text[:500]
    with app.app_context():
        run = db.session.scalars(select(RestoreRun).order_by(RestoreRun.id.desc())).first()
        assert run_job(run.job_id) == "succeeded"
        return run.id


def _form_values(page: Page, form_testid: str) -> list[tuple[str, str]]:
    """What submitting the form as the page shows it sends (checked radios and boxes only, hidden fields)."""
    form = next(f for f in page.parsed.forms if f.attrs.get("data-testid") == form_testid)
    out = []
    for field in form.inputs:
        if field["tag"] != "input" or not field.get("name"):
            continue
        if field.get("type") in ("radio", "checkbox") and "checked" not in field:
            continue
        out.append((field["name"], field.get("value", "")))
    return out


def _run_restore(app, run_id: int) -> RestoreRun:
    with app.app_context():
        run = db.session.get(RestoreRun, run_id)
        assert run_job(run.job_id) == "succeeded"
        return db.session.get(RestoreRun, run_id, populate_existing=True)


def _confirm_with_defaults(app, demo: Demo, run_id: int) -> Page:
    """Preview page -> "Review and restore" with every default as the page sets it -> the confirmation step."""
    preview = _get(app, demo.dest, f"/admin/restore/{run_id}")
    params = [(k, v) for k, v in _form_values(preview, "restore-review-form") if k != "jwt"]
    resp = requests.get(app.config["BASE_URL"] + f"/admin/restore/{run_id}",  # the button adds step=confirm
                        params=[("jwt", _token(app, demo.dest)), *params, ("step", "confirm")], timeout=30)
    assert resp.status_code == 200, resp.text[:500]
    return Page(resp)


def test_the_defaults_alone_restore_every_project_with_the_admin_in_missing_peoples_place(live_app, demo,
                                                                                         oauth_grant) -> None:
    """Finding 1: the preview names missing people by name, the default puts the admin in their place, and the
    run with nothing but the page's defaults brings back every project."""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}")
    missing = page.all("missing-user")
    shown = " ".join(m.text for m in missing)
    assert missing and not ACCOUNT_ID.search(shown), shown
    assert LEADS["WEB"] in shown and "leads WEB" in " ".join(shown.split())
    assert page.one("fallback-admin").attrs.get("checked") is not None
    assert page.one("fallback-drop").attrs.get("checked") is None
    confirm = _confirm_with_defaults(live_app, demo, run_id)
    assert not confirm.has("restore-blocker")
    values = dict(_form_values(confirm, "restore-start-form"))
    assert values["user_fallback"] == "admin" and values["confirmed"] == "yes"
    resp = _post(live_app, demo.dest, f"/admin/restore/{run_id}/start", **values)
    assert resp.status_code == 303, resp.text[:500]
    run = _run_restore(live_app, run_id)
    assert run.status == "done"
    assert {p["key"] for p in export_site(demo.dest)["projects"]} >= PROJECTS


def test_leaving_missing_leads_out_is_blocked_before_anything_is_written(live_app, demo, oauth_grant) -> None:
    """Finding 1: with "leave them out", the projects whose lead is missing would fail: the confirmation says which
    and why and offers no button, and a start sent anyway is refused without changing anything."""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}", step="confirm", scope="all", user_fallback="drop")
    blocker = page.one("restore-blocker")
    assert blocker.attrs["data-code"] == "leads" and "WEB" in blocker.text and LEADS["WEB"] in blocker.text
    assert "Jira requires a project lead" in blocker.text and not page.has("restore-confirm")
    resp = _post(live_app, demo.dest, f"/admin/restore/{run_id}/start", scope="all", user_fallback="drop",
                 confirmed="yes")
    assert resp.status_code == 409 and "would fail" in resp.text
    with live_app.app_context():
        assert db.session.get(RestoreRun, run_id).status == "planned"
    assert not export_site(demo.dest)["projects"]


def test_a_project_selection_restores_that_project_and_only_what_it_needs(live_app, demo, oauth_grant) -> None:
    """Finding 2: "Only: Projects, keys WEB" shows WEB and its dependencies (no other project) before running, and
    the run restores exactly that."""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}", scope="some", type="projects", projects="web")
    chosen = page.all("chosen")
    assert [(c.attrs["data-type"], c.text.split(":")[1].strip().split(" ")[0]) for c in chosen] == [("projects", "WEB")]
    assert not [p for p in page.all("pulled-in") if p.attrs["data-type"] == "projects"]
    shown = {(p.attrs["data-type"], p.attrs["data-source-id"]) for p in page.all("pulled-in")}
    confirm = _get(live_app, demo.dest, f"/admin/restore/{run_id}", step="confirm", scope="some", type="projects",
                   projects="WEB", user_fallback="admin")
    values = _form_values(confirm, "restore-start-form")
    resp = requests.post(live_app.config["BASE_URL"] + f"/admin/restore/{run_id}/start",
                         data=[("jwt", _token(live_app, demo.dest)), *[(k, v) for k, v in values if k != "jwt"]],
                         allow_redirects=False, timeout=30)
    assert resp.status_code == 303, resp.text[:500]
    run = _run_restore(live_app, run_id)
    assert {p["key"] for p in export_site(demo.dest)["projects"]} == {"WEB"}
    with live_app.app_context():
        restored = {(r.type_key, r.source_id) for r in db.session.scalars(
            select(RestoreItem).where(RestoreItem.run_id == run.id, RestoreItem.selected.is_(True)))}
    assert restored == shown | {("projects", chosen[0].attrs["data-source-id"])}
    assert run.selection == {"types": ["projects"], "projects": ["WEB"]}


def test_review_and_restore_sends_what_is_ticked_without_showing_it_first(live_app, demo, oauth_grant) -> None:
    """Finding 2 through the page's own form: an admin who ticks Projects, types WEB and goes straight to "Review
    and restore…" (never clicking "Show what this includes") is asked to confirm WEB and what it needs — not the
    selection the page was showing before (everything)."""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    preview = _get(live_app, demo.dest, f"/admin/restore/{run_id}")  # "Everything" is what it shows
    form = next(f for f in preview.parsed.forms if any(i.get("data-testid") == "restore-start" for i in f.inputs
                                                       if i["tag"] == "button"))
    names = {i.get("name") for i in form.inputs if i["tag"] == "input" and i.get("type") != "hidden"}
    assert {"scope", "type", "projects"} <= names, names  # the ticked choices go with the button
    # the admin's edits replace what the form held (the rest, e.g. the missing-people choice, goes as shown)
    sent = [(k, v) for k, v in _form_values(preview, form.attrs["data-testid"])
            if k not in ("jwt", "scope", "type", "projects")]
    sent += [("scope", "some"), ("type", "projects"), ("projects", "WEB"), ("step", "confirm")]
    confirm = requests.get(live_app.config["BASE_URL"] + f"/admin/restore/{run_id}",
                           params=[("jwt", _token(live_app, demo.dest)), *sent], timeout=30)
    assert confirm.status_code == 200
    def size(page: Page) -> tuple[str, str]:
        box = page.one("restore-confirmation")
        return box.attrs["data-creates"], box.attrs["data-updates"]

    web = _get(live_app, demo.dest, f"/admin/restore/{run_id}", step="confirm", scope="some", type="projects",
               projects="WEB", user_fallback="admin")
    everything = _confirm_with_defaults(live_app, demo, run_id)
    assert size(Page(confirm)) == size(web) != size(everything)


def test_an_unknown_project_key_is_refused_and_changes_nothing(live_app, demo, oauth_grant) -> None:
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    resp = _post(live_app, demo.dest, f"/admin/restore/{run_id}/start", scope="some", projects="NOPE",
                 user_fallback="admin", confirmed="yes")
    assert resp.status_code == 400 and "holds no project" in resp.text and "WEB" in resp.text
    with live_app.app_context():
        assert db.session.get(RestoreRun, run_id).status == "planned"


def test_a_preview_before_the_grant_explains_everything_and_goes_stale_once_authorised(live_app, demo) -> None:
    """Finding 3: every skip and "can't" has a reason; the missing grant blocks the start and points at the
    authorise action; once authorised (or previewed again) the old preview is out of date and can't be started."""
    run_id = _preview(live_app, demo)
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}")
    not_restored = [r for r in page.all("restore-item") if r.attrs["data-action"] in ("skip", "cannot")]
    assert not_restored and all(" ".join(r.text.split()) for r in not_restored)
    with live_app.app_context():
        reasons = [r.reason for r in db.session.scalars(select(RestoreItem).where(
            RestoreItem.run_id == run_id, RestoreItem.action.in_(("skip", "cannot"))))]
    assert reasons and all(reasons), reasons
    blocker = page.one("restore-blocker")
    assert blocker.attrs["data-code"] == "grant" and page.has("blocker-authorise")
    assert "/admin/recovery/view" in page.one("blocker-authorise").attrs["href"]
    assert not page.has("restore-start")
    with live_app.app_context():
        db.session.add(OAuthGrant(tenant_id=demo.dest_id, cloud_id="c", site_url=demo.dest.base_url,
                                  account_id=demo.admin, authorised_at=utcnow()))
        db.session.commit()
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}")
    assert "authorised after it was made" in page.text("preview-stale") and page.has("preview-again")
    assert page.one("restore-status").attrs["data-state"] == "stale"
    resp = _post(live_app, demo.dest, f"/admin/restore/{run_id}/start", scope="all", user_fallback="admin",
                 confirmed="yes")
    assert resp.status_code == 409 and "out of date" in resp.text
    home = _get(live_app, demo.dest, "/admin/recovery/view")
    row = next(r for r in home.all("restore-run-row") if r.attrs["data-run-id"] == str(run_id))
    assert row.attrs["data-state"] == "stale" and "Out of date" in row.text


def test_a_newer_preview_makes_the_older_one_out_of_date(live_app, demo, oauth_grant) -> None:
    oauth_grant(demo.dest, demo.dest_id)
    first = _preview(live_app, demo)
    second = _preview(live_app, demo)
    page = _get(live_app, demo.dest, f"/admin/restore/{first}")
    assert f"#{second}" in page.text("preview-stale")
    resp = _post(live_app, demo.dest, f"/admin/restore/{first}/start", scope="all", user_fallback="admin",
                 confirmed="yes")
    assert resp.status_code == 409
    with live_app.app_context():
        assert db.session.get(RestoreRun, first).status == "planned"


def test_a_restore_starts_only_once_confirmed_with_its_size(live_app, demo, oauth_grant) -> None:
    """Finding 10: the last step says how many objects it creates (and updates) on which site; a start without the
    confirmation is refused and changes nothing."""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    resp = _post(live_app, demo.dest, f"/admin/restore/{run_id}/start", scope="all", user_fallback="admin")
    assert resp.status_code == 400 and "Confirm the restore first" in resp.text
    with live_app.app_context():
        assert db.session.get(RestoreRun, run_id).status == "planned"
        rows = list(db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run_id)))
    creates, updates = sum(r.action == "create" for r in rows), sum(r.action == "update" for r in rows)
    confirm = _confirm_with_defaults(live_app, demo, run_id)
    box = confirm.one("restore-confirmation")
    assert (int(box.attrs["data-creates"]), int(box.attrs["data-updates"])) == (creates, updates)
    assert confirm.text("confirm-size") == (f"This will create {creates} objects (and update {updates}) on "
                                            f"{demo.dest.base_url}.")
    assert confirm.text("restore-confirm") == f"Restore {creates + updates} objects"


def test_results_read_in_words_and_stay_after_the_connection_ends(live_app, demo, oauth_grant) -> None:
    """Finding 5 and 10: the outcome as a lozenge, differences and reasons in words with people by name (no ids,
    no Python reprs), reasons in the past tense, history with date and who started it, a way back; and the history
    and report stay once the connection is released and deactivated."""
    oauth_grant(demo.dest, demo.dest_id)
    run_id = _preview(live_app, demo)
    confirm = _confirm_with_defaults(live_app, demo, run_id)
    resp = _post(live_app, demo.dest, f"/admin/restore/{run_id}/start", **dict(_form_values(confirm,
                                                                                            "restore-start-form")))
    assert resp.status_code == 303
    _run_restore(live_app, run_id)
    page = _get(live_app, demo.dest, f"/admin/restore/{run_id}")
    status = page.one("restore-status")
    assert status.attrs["data-state"] == "done-with-differences" and "lozenge" in status.attrs["class"]
    assert status.text.strip() == "Done with differences"
    words = " ".join(d.text for d in page.all("difference")) + " ".join(r.text for r in page.all("restore-item"))
    assert not ACCOUNT_ID.search(words), ACCOUNT_ID.search(words)
    assert "[[" not in words and "None" not in words and LEADS["WEB"] in words
    reasons = " ".join(r.text for r in page.all("item-reason"))
    assert "it will be updated" not in reasons and "can't be restored." not in reasons
    assert "Site Admin" in page.text("restore-started-by")
    assert page.has("back-to-page")
    home = _get(live_app, demo.dest, "/admin/recovery/view")
    row = next(r for r in home.all("restore-run-row") if r.attrs["data-run-id"] == str(run_id))
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", row.text) and "Site Admin" in row.text
    assert "Done with differences" in row.text
    with live_app.app_context():
        dst = db.session.get(Tenant, demo.dest_id)
        release(dst, Side.DESTINATION, demo.admin, None, reusable=True)
    home = _get(live_app, demo.dest, "/admin/recovery/view")
    assert home.has("restore-history-only") and [r.attrs["data-run-id"] for r in home.all("restore-run-row")]
    with live_app.app_context():
        src = db.session.get(Tenant, demo.source_id)
        dst = db.session.get(Tenant, demo.dest_id)
        activate(dst, demo.admin, generate_token(src, admin_account_id(demo.source)).token, src.base_url)
        deactivate(dst, Side.DESTINATION, demo.admin, None)
    home = _get(live_app, demo.dest, "/admin/recovery/view")
    assert str(run_id) in [r.attrs["data-run-id"] for r in home.all("restore-run-row")]
    assert _get(live_app, demo.dest, f"/admin/restore/{run_id}").has("differences")
    report = requests.get(live_app.config["BASE_URL"] + f"/admin/restore/{run_id}/report.json",
                          params={"jwt": _token(live_app, demo.dest)}, timeout=30)
    assert report.status_code == 200 and report.json()["status"] == "done"
