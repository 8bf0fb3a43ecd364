"""Can a Jira admin, in headless Chromium and through Jira's iframe, recover a lost site's configuration end to end:
token, OAuth consent and backup on the source; the source lost; activation, preview, restore of everything, report
and a verification that names every difference, agreeing with an app-free comparison of the two sites; then
release, activate again and deactivate?"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Frame, FrameLocator, Page, expect

from fakejira import canonical, shell
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site, load_seed
from tests.e2e.conftest import FRAME

pytestmark = pytest.mark.browser

MODULE_KEY = "disaster-recovery-connections"
LONG = 60_000  # backup and restore of the demo company take seconds; a captured seed may take longer
# The per-object table of a restore run is 6 px wider than a 1024 px frame (long names and ids in its cells): an app
# defect reported to the lead (restore_run.html / app.css). Drop it from this set once the table fits.
KNOWN_WIDE: tuple[str, ...] = ()  # tables allowed to scroll sideways inside the frame (none)
LAYOUT_JS = """(knownWide) => {
  const main = document.getElementById("main");
  const style = main ? getComputedStyle(main) : null;
  const known = knownWide.map(t => `[data-testid="${t}"]`).join(",");
  const sticking = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > innerWidth && !(known && e.closest(known)))
    .map(e => `${e.tagName}.${e.className}[${e.dataset.testid || ""}]: ${(e.textContent || "").trim().slice(0, 60)}`);
  const knownSticking = known ? [...document.querySelectorAll(known)]
    .filter(e => e.getBoundingClientRect().right > innerWidth).length : 0;
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
          width: innerWidth, height: innerHeight, maxWidth: style && style.maxWidth,
          padding: style && style.paddingLeft, sticking: sticking.slice(0, 5), knownSticking};
}"""


@pytest.fixture
def oauth_configured(live_app, fake_cloud) -> None:
    """The app's OAuth 2.0 integration, registered at the emulated Atlassian (workflows and statuses need it)."""
    client = fake_cloud.oauth.register_client([live_app.config["BASE_URL"] + "/oauth/callback"], name="DR")
    live_app.config.update(ATLASSIAN_OAUTH_CLIENT_ID=client.client_id, ATLASSIAN_OAUTH_CLIENT_SECRET=client.secret,
                           ATLASSIAN_AUTH_URL=fake_cloud.platform_url, ATLASSIAN_API_URL=fake_cloud.platform_url)


class Person:
    """A site admin at the shell: opens the app's page through Jira's iframe, checks it, photographs it."""

    def __init__(self, page: Page, site: Any, app_key: str, shots: Callable[[Page, str], None],
                 axe: Path | None) -> None:
        self.page, self.site, self.app_key, self.shots, self.axe = page, site, app_key, shots, axe
        self.account_id = admin_account_id(site)

    @property
    def frame(self) -> FrameLocator:
        return self.page.frame_locator("#ac-frame")

    def open(self) -> FrameLocator:
        """Load the shell page, which frames the app's page with a freshly signed URL."""
        self.page.goto(shell.module_url(self.site, self.app_key, MODULE_KEY, self.account_id))
        expect(self.frame.locator("main#main")).to_be_visible()
        return self.frame

    def content_frame(self) -> Frame:
        """The app's frame itself (for navigation waits and scripts); the locator API goes through ``frame``."""
        found = self.page.locator("#ac-frame").element_handle().content_frame()
        assert found is not None
        return found

    def status(self, side: str) -> Any:
        return self.frame.get_by_test_id(f"{side}-status")

    def shot(self, name: str, testid: str | None = None) -> None:
        """Screenshot the window (the frame scrolls itself; ``testid`` names what must be in view)."""
        if testid:
            self.frame.get_by_test_id(testid).first.scroll_into_view_if_needed()
        self.shots(self.page, name)

    def check_page(self, what: str) -> None:
        """The frame is 1024x768, nothing overflows sideways, app.css applied, no serious axe violations."""
        target = self.content_frame()
        m = target.evaluate(LAYOUT_JS, list(KNOWN_WIDE))
        assert (m["width"], m["height"]) == FRAME, (what, m)
        assert not m["sticking"], f"{what}: the page overflows sideways: {m}"
        assert m["scrollWidth"] <= m["clientWidth"] or m["knownSticking"], f"{what}: the page overflows: {m}"
        assert (m["maxWidth"], m["padding"]) == ("960px", "24px"), f"{what}: app.css is not applied: {m}"
        if self.axe is not None:
            target.add_script_tag(path=str(self.axe))
            result = target.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
            bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
                   if v["impact"] in ("serious", "critical")]
            assert not bad, f"{what}: accessibility violations: {bad}"

    def authorise_oauth(self, cloud: Any) -> None:
        """Consent at Atlassian (the emulator's consent screen approves as this admin) in the tab the form opens."""
        cloud.oauth.consent_as(self.account_id, self.site)
        expect(self.frame.get_by_test_id("oauth-status")).to_have_text("Not authorised")
        with self.page.context.expect_page() as opened:
            self.frame.get_by_test_id("oauth-authorise").click()
        tab = opened.value
        expect(tab.get_by_test_id("oauth-result")).to_have_attribute("data-outcome", "authorised")
        tab.close()
        self.open()  # "then reload this page", as the section says
        expect(self.frame.get_by_test_id("oauth-status")).to_have_text("Authorised")


def test_a_lost_site_is_recovered_through_the_pages(live_app, fake_cloud, install_into, oauth_configured,
                                                    source_seed, shell_page, axe_script, screenshot_dir) -> None:
    source_site, dest_site = fake_cloud.add_site("source"), fake_cloud.add_site("dest")
    load_seed(source_site, source_seed)
    install_into(source_site)
    install_into(dest_site)
    app_key = live_app.config["APP_KEY"]
    for old in screenshot_dir.glob("e2e-*.png"):
        old.unlink()
    numbers = iter(range(1, 100))

    def shots(page: Page, name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"e2e-{next(numbers):02d}-{name}.png"))

    # -- the source: a token, consent to OAuth (workflows, statuses), a backup --------------------------------------
    source = Person(shell_page, source_site, app_key, shots, axe_script)
    frame = source.open()
    expect(source.status("source")).to_have_text("Not connected")
    source.check_page("source, first visit")
    source.shot("source-first-visit")
    frame.get_by_role("button", name="Generate token").click()
    token = frame.get_by_test_id("revealed-token").input_value()
    assert re.fullmatch(r"JDR1-[0-9A-Z]{10}-[0-9A-Z]{26}", token)
    source.shot("source-token-shown-once")
    frame.get_by_role("link", name="I've stored it safely").click()
    expect(source.status("source")).to_have_text("Activation pending")

    source.authorise_oauth(fake_cloud)
    source.shot("source-oauth-authorised", "oauth-section")
    frame.get_by_test_id("backup-now").click()
    expect(frame.get_by_test_id("backup-running")).to_be_visible()
    source.shot("source-backup-running", "backup-running")
    expect(frame.get_by_test_id("snapshot-row")).to_have_attribute("data-status", "complete", timeout=LONG)
    counts = {li.get_attribute("data-type"): int(li.get_attribute("data-count") or 0)
              for li in frame.get_by_test_id("snapshot-type-count").all()}
    assert counts.get("projects") == len(source_seed.get("projects", [])), counts
    source.check_page("source, backup taken")
    source.shot("source-backup-complete", "snapshot-row")

    # -- the source is lost -----------------------------------------------------------------------------------------
    fake_cloud._servers.pop(source_site.name).stop()  # the emulator has no public "take one site down"

    # -- the destination: activate, preview, choose everything, restore, report -----------------------------------
    dest = Person(shell_page, dest_site, app_key, shots, axe_script)
    frame = dest.open()
    expect(dest.status("destination")).to_have_text("Not connected")
    frame.get_by_label("Recovery token").fill(token)
    frame.get_by_label("Source site address").fill(source_site.base_url)
    dest.shot("destination-activation-form")
    frame.get_by_role("button", name="Activate connection").click()
    expect(dest.status("destination")).to_have_text("Active")
    expect(frame.get_by_test_id("restore-section")).to_be_visible()
    dest.authorise_oauth(fake_cloud)
    dest.check_page("destination, active")
    dest.shot("destination-active", "restore-section")

    frame.get_by_test_id("restore-preview").click()
    expect(frame.get_by_test_id("preview-counts")).to_be_visible(timeout=LONG)
    dest.check_page("restore preview")
    dest.shot("restore-preview")
    # The page's defaults only (#16): everything, and missing people (the lost site's project leads among them,
    # named as the backup names them) take the restoring admin's place. No choice is touched.
    expect(frame.get_by_test_id("fallback-admin")).to_be_checked()
    assert "557058:" not in frame.get_by_test_id("missing-users").inner_text()
    with dest.content_frame().expect_navigation():
        frame.get_by_test_id("restore-start").click()
    expect(frame.get_by_test_id("restore-confirmation")).to_be_visible()
    expect(frame.get_by_test_id("confirm-size")).to_contain_text(f"on {dest_site.base_url}")
    assert not frame.get_by_test_id("restore-blocker").count()
    dest.check_page("restore confirmation")
    dest.shot("restore-confirmation", "restore-confirmation")
    frame.get_by_test_id("restore-confirm").click()
    expect(frame.get_by_test_id("restore-status")).not_to_have_attribute("data-status", "planned")
    dest.shot("restore-running")
    expect(frame.get_by_test_id("restore-status")).to_have_attribute("data-status", "done", timeout=LONG)
    dest.check_page("restore report")
    dest.shot("restore-done", "fidelity")

    with shell_page.expect_download() as got:
        frame.get_by_test_id("report-json").click()
    got.value.save_as(screenshot_dir.parent / "e2e-restore-report.json")  # an artifact beside the screenshots
    report = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    with shell_page.expect_download() as got:
        frame.get_by_test_id("report-csv").click()
    assert got.value.suggested_filename.endswith("-report.csv")
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8"))))
    assert rows and report["summary"]["outcomes"].get("created", 0) > 0, report["summary"]
    fidelity = frame.get_by_test_id("fidelity")
    shown = (float(fidelity.get_attribute("data-fidelity") or 0), fidelity.inner_text())
    differences = report.get("verification", {}).get("differences", [])
    crashed = [f"{o['type']}: {o['name']}" for o in report["objects"] if o["reason"].startswith("Internal error")]

    # -- release (Yes), activate again, deactivate ---------------------------------------------------------------
    frame = dest.open()
    frame.get_by_role("button", name="Release connection").click()
    expect(frame.get_by_role("heading", name="Release the connection?")).to_be_visible()
    dest.shot("release-question")
    frame.get_by_role("button", name="Yes, the token can be used again").click()
    expect(dest.status("destination")).to_have_text("Released")
    dest.shot("destination-released")
    frame.get_by_label("Recovery token").fill(token)
    frame.get_by_label("Source site address").fill(source_site.base_url)
    frame.get_by_role("button", name="Activate connection").click()
    expect(dest.status("destination")).to_have_text("Active")
    dest.shot("destination-active-again")
    frame.get_by_test_id("destination-deactivate").click()
    expect(frame.get_by_test_id("confirm-deactivate-yes")).to_be_visible()
    dest.check_page("deactivate confirmation")
    dest.shot("deactivate-question")
    frame.get_by_test_id("confirm-deactivate-yes").click()
    expect(dest.status("destination")).to_have_text("Deactivated")
    dest.shot("destination-deactivated")

    # -- the verdict on the restore, once the whole flow has been walked ----------------------------------------------
    assert not crashed, f"{len(crashed)} objects failed with an internal error: {crashed}"
    # The new site has none of the lost site's people (they become the restoring admin): the app's own
    # verification must name every difference with its reason, and agree with the yardstick, which compares the two
    # sites without any of the app's code: every difference there involves a person this site doesn't have.
    assert report["verification"]["unexplained"] == 0, [d["words"] for d in differences if not d["reason"]][:10]
    assert ("Fidelity: 100.0 %" in shown[1]) == (shown[0] == 1.0) == report["verification"]["complete"]
    people_here = {u.get("emailAddress") for u in export_site(dest_site).get("users", [])}
    result = canonical.compare(canonical.canonical_export(source_site), canonical.canonical_export(dest_site))
    about_others = [d.words for d in result.differences if d.type != "users" and not _names_someone_missing(
        f"{d.key} {d.words}", people_here) and not _behind_a_wall(d)]
    assert not about_others, about_others[:40]
    assert {p["key"] for p in source_seed.get("projects", [])} <= {p["key"] for p in export_site(dest_site)["projects"]}
    assert not [o for o in report["objects"] if o["type"] == "projects" and o["outcome"] != "created"], \
        [(o["name"], o["outcome"], o["reason"]) for o in report["objects"] if o["type"] == "projects"]


def _behind_a_wall(difference: canonical.Difference) -> bool:
    """A part of an object Jira's API can't write (reference: board columns and sub-filter): the report names it."""
    return difference.type == "boards" and bool(difference.path) and difference.path[0] in ("columns", "sub-query")


def _names_someone_missing(text: str, people_here: set[str | None]) -> bool:
    """Whether the yardstick's words name a person (by email) who has no account on the destination."""
    return any(email not in people_here for email in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text))
