"""Does restoring everything after a partial restore converge when an admin does it through the pages (issue #16,
finding 4), on BOTH doors? "Projects, WEB" first, then a new preview restored with the page's defaults: the second
run ends Done (or Done with differences, each explained by the report), nothing Failed, every project on the site.
On the Forge page, a preview made before the app's scopes changed is out of date and can't be started.

Reuses the world of test_restore_findings (one source backed up once for this module, a fresh destination per test).
Every step is photographed into artifacts/screenshots and checked with axe-core.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.forge.scopes import forge_scopes
from app.restore.models import RestoreItem, RestoreRun
from fakejira.seeding import export_site
from tests.browser import test_restore_findings as findings
from tests.browser.test_restore_findings import DOORS, PROJECTS, AdminPage

pytestmark = pytest.mark.browser

# The fixtures of the findings module, shared by name (module-scoped: this module backs the source up once).
world = findings.world
admin_page = findings.admin_page
NARROW = "manage:jira-configuration"  # the scope a Forge app deployed with an unapproved upgrade lacks here


def _restore_web_only(p: AdminPage) -> None:
    """On a planned preview: "Only: Projects, key web", reviewed and confirmed, until done."""
    page = p.page
    page.locator('input[name="scope"][value="some"]').check()
    page.locator('input[name="type"][value="projects"]').check()
    page.get_by_label("Projects (keys, comma-separated)").fill("web")
    page.get_by_test_id("restore-show-selection").click()  # without JavaScript, the choice is applied by this
    expect(page.get_by_test_id("chosen")).to_have_count(1)
    expect(page.get_by_test_id("chosen")).to_contain_text("WEB")
    p.review()
    p.step("confirmation of Projects WEB", "restore-confirmation")
    p.confirm_and_wait()
    p.step("WEB restored", "restore-status")


def _home_preview(p: AdminPage, after: int) -> int:
    """Back on the page, a new preview of the newest snapshot: its id (newer than ``after``)."""
    p.open()
    run_id = p.preview()
    assert run_id > after
    return run_id


def _outcomes_shown(page: Page) -> set[str]:
    return {e.get_attribute("data-outcome") or "" for e in page.locator(
        '[data-testid="report-summary"] [data-outcome]').all()}


def _forge_preview_goes_stale_when_scopes_change(p: AdminPage, monkeypatch: pytest.MonkeyPatch) -> int:
    """Forge: a preview planned while the app lacked a scope is blocked; once the scope is granted (the upgrade
    approved), it is out of date, names the scope it gained and can't be started; "Preview again" plans afresh.
    Returns the fresh preview's id."""
    page = p.page
    with p.world.app.app_context():
        narrowed = frozenset(forge_scopes()) - {NARROW}
    monkeypatch.setattr("app.forge.scopes._granted", lambda: narrowed)
    first = p.preview()
    expect(page.get_by_test_id("restore-blocker")).to_have_attribute("data-code", "grant")
    p.step("planned without a scope", "restore-blocker")
    monkeypatch.undo()  # the upgrade approved: the app's scopes are the manifest's again
    p.open()
    row = page.locator(f'[data-testid="restore-run-row"][data-run-id="{first}"]')
    expect(row).to_have_attribute("data-state", "stale")
    expect(row.get_by_test_id("restore-run-lozenge")).to_have_text("Out of date")
    p.step("history marks the preview out of date after the scopes changed", "restore-runs")
    p.open_run(first)
    expect(page.get_by_test_id("restore-status")).to_have_text("Out of date")
    stale = page.get_by_test_id("preview-stale")
    expect(stale).to_contain_text("permissions on this site changed since it was made")
    expect(stale).to_contain_text(f"gained {NARROW}")
    expect(page.get_by_test_id("restore-start")).to_have_count(0)
    expect(page.get_by_test_id("restore-confirm")).to_have_count(0)
    p.step("the preview made with other scopes can't be started", "preview-stale")
    second = p.preview("preview-again", after=first)
    assert second > first
    expect(page.get_by_test_id("restore-blocker")).to_have_count(0)
    expect(page.get_by_test_id("restore-start")).to_be_visible()
    p.step("previewed again with the app's scopes", "restore-start")
    return second


@pytest.mark.parametrize("door", DOORS)
def test_finding_4_everything_after_projects_web_converges(world, admin_page, door, monkeypatch) -> None:
    """Restore "Projects, WEB", then preview again and restore everything with the page's defaults: the second run
    is Done (with differences only where the report explains them), nothing failed (no filter created twice, no
    board skipped), and every project of the source is on the site."""
    dest = world.destination(door, f"f4-{door}")
    p = admin_page(dest, f"{door}-f4-converges")
    page = p.page
    first = _forge_preview_goes_stale_when_scopes_change(p, monkeypatch) if door == "forge" else p.preview()
    _restore_web_only(p)
    assert {pr["key"] for pr in export_site(dest.site)["projects"]} == {"WEB"}

    second = _home_preview(p, first)
    p.step("a new preview over the partial restore", "restore-status")
    p.review()  # the page's defaults: everything, missing people in the restoring admin's place
    expect(page.get_by_test_id("restore-blocker")).to_have_count(0)
    expect(page.get_by_test_id("confirm-size")).to_contain_text(f"on {dest.site.base_url}.")
    p.step("confirmation of everything with the defaults", "restore-confirmation")
    p.confirm_and_wait()
    expect(page.get_by_test_id("restore-status")).to_have_text(re.compile(r"^Done( with differences)?$"))
    expect(page.get_by_test_id("report-summary")).to_be_visible()
    assert "failed" not in _outcomes_shown(page), _outcomes_shown(page)
    p.step("everything restored over the partial restore", "report-summary")

    assert {pr["key"] for pr in export_site(dest.site)["projects"]} == PROJECTS
    with world.app.app_context():
        run = db.session.get(RestoreRun, second)
        assert run is not None and run.user_fallback == "admin" and run.selection == {"types": [], "projects": []}
        failed = [(i.type_key, i.name, i.reason) for i in db.session.scalars(
            select(RestoreItem).where(RestoreItem.run_id == second, RestoreItem.selected.is_(True),
                                      RestoreItem.outcome == "failed"))]
        verification = run.verification or {}
    assert not failed, failed[:5]
    unexplained = [d["words"] for d in verification.get("differences", []) if not d.get("reason")]
    assert verification.get("unexplained") == 0, unexplained[:10]
