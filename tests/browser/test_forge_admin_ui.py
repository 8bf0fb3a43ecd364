"""Can a Jira admin use the Forge Custom UI admin page (the built bundle, in headless Chromium, under Forge's CSP,
through the bridge shim and the emulator's invokeRemote) for the whole recovery: a token shown once, reset and
release with their confirmations, a backup with progress, then on a new site activation, preview, restore, report
downloads and 100 % fidelity — with no console error, no CSP violation and no serious accessibility violation?"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app.forge.scopes import forge_scopes
from fakejira.forge_bridge import REPORT_PATH, BridgeHost, ensure_built
from fakejira.loopback import serve
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site, load_seed
from tests.browser.conftest import ARGS, CHROMIUM, SCREENSHOTS
from tests.e2e.conftest import AXE

pytestmark = pytest.mark.browser

FRAME = (1024, 768)  # the admin page's iframe size it must work at
LONG = 60_000
TOKEN = re.compile(r"JDR1-[0-9A-Z]{10}-[0-9A-Z]{26}")
SHOTS = SCREENSHOTS  # kept as CI artifacts (.ci/run)
LAYOUT_JS = """() => ({scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  sticking: [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .map(e => `${e.tagName}[${e.dataset.testid || ""}]`).slice(0, 5)})"""
# Site-wide configuration every door restores in full (100 % fidelity); a name with markup that must stay text.
SEED: dict[str, Any] = {
    "projectCategories": [{"id": "10000", "name": "Internal", "description": "Our own tools"},
                          {"id": "10001", "name": "<img src=x onerror=alert(1)> Clients", "description": ""}],
    "issueLinkTypes": [{"id": "10004", "name": "Causes", "inward": "is caused by", "outward": "causes"}],
    "resolutions": [{"id": "10005", "name": "Obsolete", "description": "No longer relevant", "default": False}],
}
IN_REVIEW = {"id": "10007", "name": "In Review", "statusCategory": "IN_PROGRESS", "scope": {"type": "GLOBAL"},
             "description": "Waiting for a reviewer"}
# Collected in the page itself (an init script runs outside the page's CSP): every blocked load or inline code.
CSP_WATCH = """window.__csp = [];
document.addEventListener("securitypolicyviolation",
  e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));"""


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Jobs run in in-process threads, so backups and restores move on by themselves as the page polls."""
    return {**app_config, "JOBS_MODE": "thread", "JOB_THREADS": 2}


@pytest.fixture
def forge_live(live_app: Flask, fake_cloud: Any) -> Flask:
    """The live app as the Forge Remote of the emulated Forge app (as tests/forge/conftest.py's forge_app)."""
    with live_app.app_context():
        fake_cloud.forge.scopes = forge_scopes()
    live_app.config.update(FORGE_APP_ID=fake_cloud.forge.app_id, FORGE_JWKS_URL=fake_cloud.forge.jwks_url,
                           ATLASSIAN_API_URL=fake_cloud.platform_url)
    return live_app


@pytest.fixture
def dist() -> Path:
    try:
        return ensure_built()
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, offline but for loopback (the launch of tests/browser and tests/e2e)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `npm ci --prefix tests/e2e`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Admin:
    """A site admin with the Custom UI open: the page, its host (shim + CSP), what the console said."""

    name: str
    page: Page
    host: BridgeHost
    url: str
    errors: list[str] = field(default_factory=list)

    def status(self, side: str) -> Any:
        return self.page.get_by_test_id(f"{side}-status")

    def shot(self, what: str, testid: str | None = None) -> None:
        """Screenshot the 1024x768 window as an admin sees it (``testid``: what must be in view)."""
        if testid:
            self.page.get_by_test_id(testid).first.scroll_into_view_if_needed()
        self.page.screenshot(path=str(SHOTS / f"forge-ui-{self.name}-{what}.png"))

    def check(self, what: str) -> None:
        """Fits 1024 px, no serious axe violation, nothing blocked by the CSP, no console error so far."""
        m = self.page.evaluate(LAYOUT_JS)
        assert m["scrollWidth"] <= m["clientWidth"] and not m["sticking"], f"{self.name} {what}: overflows {m}"
        self.page.add_script_tag(url=self.url + "/__test/axe.min.js")  # same origin: allowed by script-src 'self'
        result = self.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        assert not bad, f"{self.name} {what}: accessibility violations: {bad}"
        assert self.page.evaluate("() => window.__csp") == [], f"{self.name} {what}: CSP blocked something"
        assert not self.host.csp_violations, self.host.csp_violations
        assert not self.errors, f"{self.name} {what}: console errors {self.errors}"
        failed = [call for call in self.host.invocations if call[2] is None or call[2] >= 400]
        assert not failed, f"{self.name} {what}: invokeRemote calls refused {failed}"


class AxeHost(BridgeHost):
    """The bridge host, also serving axe-core from its own origin (so the check runs under the page's CSP)."""

    def handle(self, request: Any) -> Any:
        if request.path == "/__test/axe.min.js":
            return self._asset(AXE.read_bytes(), "text/javascript")
        return super().handle(request)


@pytest.fixture
def open_admin(forge_live: Flask, fake_cloud: Any, chromium: Any, dist: Path) -> Iterator[Any]:
    """open_admin(name, inst) -> Admin: the admin page for that installation, as the site's admin."""
    invoker = fake_cloud.forge.invoker(forge_live.config["BASE_URL"])
    with ExitStack() as stack:
        def open_(name: str, inst: Any) -> Admin:
            host = AxeHost(invoker, inst, admin_account_id(inst.site), dist=dist)
            url = stack.enter_context(serve(host))
            context = chromium.new_context(viewport={"width": FRAME[0], "height": FRAME[1]}, accept_downloads=True)
            stack.callback(context.close)
            context.add_init_script(CSP_WATCH)

            def only_loopback(route: Any) -> None:
                ok = urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost")
                route.continue_() if ok else route.abort()

            context.route("**/*", only_loopback)
            context.set_default_timeout(15_000)
            page = context.new_page()
            admin = Admin(name, page, host, url)
            page.on("console", lambda m: admin.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: admin.errors.append(str(e)))
            response = page.goto(url + "/")
            assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
            assert REPORT_PATH in response.headers["content-security-policy"]
            expect(page.get_by_test_id("view-heading")).to_have_text("Disaster recovery connections")
            return admin

        yield open_


def _install(fake_cloud: Any, invoker_base: str, site: Any) -> Any:
    inst = fake_cloud.forge.install(site)
    attempts = fake_cloud.forge.invoker(invoker_base).lifecycle(inst)
    assert attempts[-1].ok, attempts
    return inst


def test_recovery_through_the_forge_admin_page(forge_live, fake_cloud, open_admin) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("forge-ui-*.png"):
        old.unlink()
    base = forge_live.config["BASE_URL"]
    source_site, dest_site = fake_cloud.add_site("source"), fake_cloud.add_site("dest")
    load_seed(source_site, {**SEED, "statuses": [*export_site(source_site)["statuses"], IN_REVIEW]})
    # The new site's admin has invited the lost site's people (apps can't create accounts): the restore can then
    # be identical, default groups' members included.
    load_seed(dest_site, {"users": export_site(source_site)["users"]})

    # -- the source: a token shown once, reset, stored; a backup ---------------------------------------------------
    src = open_admin("source", _install(fake_cloud, base, source_site))
    page = src.page
    expect(src.status("source")).to_have_text("Not connected")
    expect(page.get_by_test_id("source-empty")).to_contain_text("generate one right after installing")
    expect(page.get_by_test_id("site")).to_contain_text(source_site.base_url)
    src.check("first visit")
    src.shot("01-first-visit")

    page.get_by_role("button", name="Generate token").click()
    first = page.get_by_test_id("revealed-token").input_value()
    assert TOKEN.fullmatch(first)
    expect(page.get_by_test_id("revealed-token")).to_be_focused()
    page.get_by_test_id("copy-token").click()
    expect(page.locator("[data-copy-status]")).not_to_have_text("")
    src.check("token shown")
    src.shot("02-token-shown-once")
    page.get_by_role("button", name="I've stored it safely").click()
    expect(page.get_by_test_id("revealed-token")).to_have_count(0)
    expect(page.get_by_test_id("notice")).to_contain_text("The token is no longer shown anywhere")
    expect(src.status("source")).to_have_text("Activation pending")
    assert first not in page.content()

    page.get_by_role("button", name="Refresh token").click()
    # The old token would stop working: asked first, saying so; Cancel changes nothing.
    expect(page.get_by_test_id("confirm-refresh")).to_contain_text("stops working")
    page.get_by_test_id("confirm-cancel").click()
    expect(src.status("source")).to_have_text("Activation pending")
    page.get_by_role("button", name="Refresh token").click()
    page.get_by_test_id("confirm-refresh-yes").click()
    token = page.get_by_test_id("revealed-token").input_value()
    assert TOKEN.fullmatch(token) and token != first
    expect(page.get_by_test_id("token-reveal")).to_contain_text("The previous token no longer works.")
    page.get_by_role("button", name="I've stored it safely").click()
    expect(src.status("source")).to_have_text("Activation pending")

    page.get_by_test_id("backup-now").click()
    expect(page.get_by_test_id("snapshot-row").first).to_have_attribute("data-status", "complete", timeout=LONG)
    expect(page.get_by_test_id("backup-now")).to_be_enabled()
    expect(page.get_by_test_id("snapshot-started-by").first).to_have_text("Site Admin")
    src.check("backup taken")
    src.shot("03-backup-taken", "backups-section")
    page.get_by_test_id("snapshot-link").first.click()
    expect(page.get_by_test_id("snapshot-detail")).to_have_attribute("data-status", "complete")
    counts = {tr.get_attribute("data-type"): int(tr.get_attribute("data-count") or 0)
              for tr in page.get_by_test_id("snapshot-type").all()}
    assert counts.get("statuses", 0) >= 3 and counts.get("projectCategories") == 2, counts
    assert page.evaluate("() => document.querySelectorAll('#main img').length") == 0  # markup in names stayed text
    expect(page.get_by_test_id("snapshot-entry").first).to_be_visible()
    src.check("snapshot detail")
    src.shot("04-snapshot-detail")
    page.get_by_test_id("back-to-list").click()
    expect(page.get_by_test_id("view-heading")).to_have_text("Disaster recovery connections")
    source_url = page.get_by_test_id("site").locator(".url").inner_text()

    # -- the destination: activate, release (Yes), activate again ----------------------------------------------------
    dst = open_admin("dest", _install(fake_cloud, base, dest_site))
    page = dst.page
    expect(dst.status("destination")).to_have_text("Not connected")
    page.get_by_label("Recovery token").fill(f"  {token.lower()}\n")
    page.get_by_label("Source site address").fill(source_url.upper() + "/jira/")
    dst.shot("05-activation-form")
    page.get_by_role("button", name="Activate connection").click()
    expect(dst.status("destination")).to_have_text("Active")
    expect(page.get_by_test_id("notice")).to_contain_text("Connection activated")
    expect(page.get_by_test_id("notice")).to_be_focused()
    expect(page.get_by_test_id("active-source")).to_contain_text(source_url)
    dst.check("activated")
    dst.shot("06-activated")

    # The source's admin lost the token: Reset issues a new one and keeps the connection Active.
    src.page.reload()
    expect(src.status("source")).to_have_text("Active")
    src.page.get_by_role("button", name="Reset token").click()
    src.page.get_by_test_id("confirm-reset-yes").click()
    reset = src.page.get_by_test_id("revealed-token").input_value()
    assert TOKEN.fullmatch(reset) and reset != token
    expect(src.page.get_by_test_id("token-reveal")).to_contain_text("The previous token no longer works.")
    src.shot("06b-token-reset")
    src.page.get_by_role("button", name="I've stored it safely").click()
    expect(src.status("source")).to_have_text("Active")
    token = reset

    page.get_by_role("button", name="Release connection").click()
    expect(page.get_by_role("heading", name="Release the connection?")).to_be_visible()
    dst.check("release question")
    dst.shot("07-release-question")
    page.get_by_role("button", name="Yes, the token can be used again").click()
    expect(dst.status("destination")).to_have_text("Released")
    expect(page.get_by_test_id("notice")).to_contain_text("The token can be used again")
    page.get_by_label("Recovery token").fill(token)
    page.get_by_label("Source site address").fill(source_url)
    page.get_by_label("Source site address").press("Enter")
    expect(dst.status("destination")).to_have_text("Active")

    # -- preview, restore everything, report, fidelity -------------------------------------------------------------
    expect(page.get_by_test_id("restore-source")).to_have_text(source_url)
    page.get_by_role("button", name="Preview restore").click()
    expect(page.get_by_test_id("restore-status")).to_have_attribute("data-status", "planned", timeout=LONG)
    expect(page.get_by_test_id("preview-type").first).to_be_visible()
    planned = {row.get_attribute("data-type") for row in page.get_by_test_id("preview-type").all()}
    assert "statuses" in planned, planned
    page.get_by_role("button", name="Show what this includes").click()
    dst.check("preview")
    dst.shot("08-preview")
    page.get_by_test_id("restore-start").click()  # the confirmation states the size before anything is written (#16)
    expect(page.get_by_test_id("confirm-size")).to_contain_text("This will create ")
    dst.check("confirmation")
    dst.shot("08b-confirmation", "restore-confirmation")
    page.get_by_test_id("restore-confirm").click()
    expect(page.get_by_test_id("restore-status")).to_have_attribute("data-status", "done", timeout=LONG)
    expect(page.get_by_test_id("restore-status")).to_have_text("Done")
    dst.shot("09-report", "view-heading")
    differences = [row.inner_text() for row in page.get_by_test_id("difference").all()]
    assert not differences, differences
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-complete", "true")
    expect(page.get_by_test_id("fidelity")).to_contain_text("Fidelity: 100.0 %")
    assert float(page.get_by_test_id("fidelity").get_attribute("data-fidelity")) == 1.0
    expect(page.get_by_test_id("report-summary")).to_contain_text("created")
    dst.check("report")

    with page.expect_download() as got:
        page.get_by_test_id("report-json").click()
    report = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    assert got.value.suggested_filename.endswith(".json") and report["objects"], report.keys()
    assert "next" not in report and report["verification"]["fidelity"] == 1.0
    with page.expect_download() as got:
        page.get_by_test_id("report-csv").click()
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8"))))
    assert got.value.suggested_filename.endswith(".csv") and len(rows) == len(report["objects"]) + 1

    # -- back on the source: it sees the destination; deactivate, confirmed ----------------------------------------
    src.page.reload()
    expect(src.status("source")).to_have_text("Active")
    src.page.get_by_role("button", name="Deactivate connection").click()
    expect(src.page.get_by_test_id("confirm-deactivate")).to_contain_text(
        "can no longer be recovered through this connection")
    src.check("deactivate question")
    src.shot("10-deactivate-question")
    src.page.get_by_test_id("confirm-deactivate-yes").click()
    expect(src.status("source")).to_have_text("Deactivated")
    assert src.page.get_by_test_id("audit-row").count() >= 4
    src.check("deactivated")
    src.shot("11-deactivated")
    assert all(c["command"] in ("invoke", "getContext") for c in src.page.evaluate("() => window.__forgeBridgeCalls"))

    # The CSP watch isn't vacuous: inline code, which the bundle never uses, is refused and reported.
    src.page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
                      " document.body.append(s); }")
    src.page.wait_for_function("() => window.__csp.length > 0")
    assert src.page.evaluate("() => window.__ran") is None
    assert "script-src" in src.page.evaluate("() => window.__csp[0]")


def test_the_schedule_audit_log_and_a_failed_backup_on_the_forge_page(forge_live, fake_cloud, open_admin) -> None:
    """Issue #16, finding 10 on the Forge door: the schedule in words and its form (a refused value said in place, a
    shorter retention confirmed with its number), a failed scheduled backup at the top until one succeeds, and the
    audit log of every action paged — axe clean, nothing blocked by the CSP."""
    from datetime import timedelta

    from app.backups.models import Snapshot
    from app.backups.schedule import BackupSchedule
    from app.clock import utcnow
    from app.extensions import db
    from app.jobs.models import Job
    from app.recovery import audit
    from tests.forge.api_fixtures import tenant_id_for

    inst = _install(fake_cloud, forge_live.config["BASE_URL"], fake_cloud.add_site("scheduled"))
    tenant_id = tenant_id_for(forge_live, inst)
    with forge_live.app_context():
        now = utcnow()
        db.session.add_all([Snapshot(tenant_id=tenant_id, status="complete", app_version="1", format_version=1,
                                     taken_at=now - timedelta(days=d, hours=1)) for d in range(1, 6)])
        db.session.add(Job(id="f" * 36, tenant_id=tenant_id, kind="backup", state="failed", requested_by="schedule",
                           message="Jira answered 503 Service Unavailable for every call.",
                           created_at=now - timedelta(hours=4), finished_at=now - timedelta(hours=3)))
        for n in range(12):
            audit.record(tenant_id, side="schedule", action="schedule-changed", outcome="succeeded",
                         account_id=admin_account_id(inst.site), detail=f"An earlier change ({n})",
                         now=now - timedelta(days=2, minutes=n))
        db.session.commit()

    admin = open_admin("schedule", inst)
    page = admin.page
    expect(page.get_by_test_id("backup-alert")).to_contain_text("The scheduled backup failed 3 hours ago")
    expect(page.get_by_test_id("backup-alert")).to_contain_text("Jira answered 503 Service Unavailable")
    expect(page.get_by_test_id("backup-failed")).to_be_visible()
    expect(page.get_by_test_id("schedule-next")).to_contain_text("In ")
    expect(page.get_by_test_id("schedule-interval-words")).to_have_text("Every day")
    expect(page.get_by_test_id("audit-row")).to_have_count(10)
    page.get_by_test_id("audit-more").click()
    expect(page.get_by_test_id("audit-row")).to_have_count(14)  # 12 recorded, the failed job's start and end
    admin.check("schedule shown")
    admin.shot("schedule-01-shown", "schedule")

    page.get_by_text("Change the schedule").click()
    page.get_by_label("Hours between backups").fill("0")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_test_id("schedule-error")).to_contain_text("Hours between backups: expected a whole number")
    expect(page.get_by_label("Hours between backups")).to_have_value("0")
    assert admin.host.invocations[-1][2] == 400
    admin.host.invocations.clear()  # the refusal was the point; check() looks at what follows
    admin.check("schedule refused")

    page.get_by_label("Hours between backups").fill("6")
    page.get_by_label("Days kept").fill("2")
    page.get_by_label("Weeks kept").fill("0")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_test_id("schedule-confirm")).to_have_attribute("data-count", "3")
    expect(page.get_by_test_id("schedule-confirm-words")).to_contain_text("This will delete 3 backups now")
    assert admin.host.invocations[-1][2] == 409
    admin.host.invocations.clear()
    admin.check("schedule confirmation")
    admin.shot("schedule-02-confirm")
    page.get_by_role("button", name="Delete 3 backups and save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Backup schedule saved. 3 backups deleted.")
    expect(page.get_by_test_id("schedule-interval-words")).to_have_text("Every 6 hours")
    expect(page.get_by_test_id("audit-row").first).to_have_attribute("data-action", "schedule-changed")
    expect(page.get_by_test_id("audit-who").first).to_have_text("Site Admin")
    admin.check("schedule saved")
    with forge_live.app_context():
        row = db.session.get(BackupSchedule, tenant_id)
        assert (row.interval_hours, row.retention_daily, row.retention_weekly) == (6, 2, 0)
        assert db.session.query(Snapshot).filter_by(tenant_id=tenant_id).count() == 2
        db.session.add(Job(id="s" * 36, tenant_id=tenant_id, kind="backup", state="succeeded",
                           requested_by=admin_account_id(inst.site), created_at=utcnow() - timedelta(minutes=5),
                           finished_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    page.reload()
    expect(page.get_by_test_id("schedule")).to_be_visible()
    expect(page.get_by_test_id("backup-alert")).to_have_count(0)
    expect(page.get_by_test_id("backup-failed")).to_have_count(0)
