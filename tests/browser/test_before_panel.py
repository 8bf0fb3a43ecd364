"""Does a person looking at a restored issue see "Before the restore" in Chromium, in both doors — the Connect web
panel framed by the Jira site (its page links working with JavaScript off) and the Forge Custom UI panel (under
Forge's CSP, through the bridge shim) — with the original dates, people by name and history, markup shown as text,
and no serious accessibility violation? Screenshots land in artifacts/screenshots."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest
from playwright.sync_api import expect
from werkzeug.wrappers import Request, Response

from app.issuedata.before import HISTORY_PAGE_ROWS
from fakejira import installer
from fakejira.forge_bridge import forge_context
from fakejira.loopback import serve
from fakejira.resources.basics import admin_account_id
from tests.browser.test_copy_token import _serious_violations
from tests.browser.test_forge_admin_ui import CSP_WATCH, AxeHost, chromium, dist, forge_live  # noqa: F401
from tests.issuedata.before_support import COMMENTS_TRIMMED, HOSTILE, LONG_HISTORY, site_with_panel_properties

pytestmark = pytest.mark.browser

PANEL_SIZE = (360, 900)  # Jira's right-hand column is narrow
PAGES = -(-LONG_HISTORY // HISTORY_PAGE_ROWS)


def _check_panel(frame: Any) -> None:
    """What both doors show on the first page of the seeded issue's history."""
    expect(frame.get_by_test_id("before-key")).to_have_text("OLD-7")
    expect(frame.get_by_test_id("before-created")).to_have_text("2020-02-03 04:05 UTC")
    expect(frame.get_by_test_id("before-creator")).to_have_text("Grace Hopper")
    expect(frame.get_by_test_id("before-sprint")).to_have_text(
        "Sprint <1> (closed): 2020-03-02 09:00 UTC to 2020-03-16 09:00 UTC, completed 2020-03-17 10:30 UTC")
    expect(frame.get_by_test_id("before-history-row")).to_have_count(HISTORY_PAGE_ROWS)
    expect(frame.get_by_test_id("before-history-row").first).to_contain_text(f"{HOSTILE} Ada Lovelace")
    expect(frame.get_by_test_id("before-page")).to_contain_text(f"Page 1 of {PAGES}")
    expect(frame.get_by_test_id("before-comments-trimmed")).to_have_text(
        f"The {COMMENTS_TRIMMED} newest comments didn't fit in what Jira lets the app keep on an issue, so their "
        "original date and author aren't listed here; the backup still holds them.")
    expect(frame.get_by_test_id("before-worklogs-trimmed")).to_have_text(
        "The 1 newest work log didn't fit in what Jira lets the app keep on an issue, so its original date and "
        "author aren't listed here; the backup still holds it.")


def test_the_connect_panel_framed_by_the_site_and_paged_without_javascript(live_app, fake_cloud, install_into,
                                                                          browser_context, screenshot_dir) -> None:
    site, issue, _ = site_with_panel_properties(fake_cloud, "panel-site")
    site.client_key = install_into(site)
    url = installer.sign_iframe_url(site, live_app.config["APP_KEY"], "/panels/before-the-restore",
                                    admin_account_id(site), {"issueId": issue["id"]})
    host = browser_context.new_page()
    dialogs: list[str] = []
    host.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    host.set_viewport_size({"width": 420, "height": 960})
    host.goto(site.base_url + "/browse/" + issue["key"])  # the site's origin: only it may frame the panel
    host.set_content(f'<iframe src="{url}" width="{PANEL_SIZE[0]}" height="{PANEL_SIZE[1]}" '
                     'title="Before the restore"></iframe>')
    frame = host.frame_locator("iframe")
    _check_panel(frame)
    assert dialogs == []  # the <script> in a person's name is text: it never ran
    assert not _serious_violations(host.frames[1])
    host.screenshot(path=str(screenshot_dir / "before-panel-connect.png"))

    nojs = browser_context.browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 900})
    try:
        page = nojs.new_page()
        page.goto(url)
        page.get_by_test_id("before-next").click()
        expect(page.get_by_test_id("before-page")).to_contain_text(f"Page 2 of {PAGES}")
        expect(page.get_by_test_id("before-history-row").first).to_contain_text(f"take {HISTORY_PAGE_ROWS}")
        page.get_by_test_id("before-previous").click()
        expect(page.get_by_test_id("before-page")).to_contain_text(f"Page 1 of {PAGES}")
    finally:
        nojs.close()


class PanelHost(AxeHost):
    """The bridge host serving the issue panel's bundle, whose ``view.getContext()`` names the issue."""

    issue: dict[str, Any] = {}

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/__forge/context":
            context = forge_context(self.inst, self.principal, "before-the-restore")
            context["extension"] = {"type": "jira:issuePanel", "isNewToIssue": False,
                                    "issue": {"id": self.issue["id"], "key": self.issue["key"]},
                                    "project": {"key": self.issue["key"].split("-")[0]}}
            return self._json(200, context)
        return super().handle(request)


def test_the_forge_panel_under_forges_csp(forge_live, fake_cloud, chromium, dist, screenshot_dir) -> None:  # noqa: F811
    site, issue, _ = site_with_panel_properties(fake_cloud, "forge-panel-site")
    invoker = fake_cloud.forge.invoker(forge_live.config["BASE_URL"])
    inst = fake_cloud.forge.install(site)
    assert invoker.lifecycle(inst)[-1].ok
    host = PanelHost(invoker, inst, admin_account_id(site), dist=dist / "issue-panel")
    host.issue = issue
    errors: list[str] = []
    with ExitStack() as stack:
        url = stack.enter_context(serve(host))
        context = chromium.new_context(viewport={"width": PANEL_SIZE[0], "height": PANEL_SIZE[1]})
        stack.callback(context.close)
        context.add_init_script(CSP_WATCH)
        page = context.new_page()
        # (a top-level page asks for /favicon.ico; in Jira's iframe the panel is never a top-level page)
        page.on("console", lambda m: errors.append(f"{m.text} {m.location['url']}")
                if m.type == "error" and not m.location["url"].endswith("/favicon.ico") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/")
        _check_panel(page)
        page.get_by_test_id("before-next").click()
        expect(page.get_by_test_id("before-page")).to_contain_text(f"Page 2 of {PAGES}")
        page.get_by_test_id("before-previous").click()
        expect(page.get_by_test_id("before-page")).to_contain_text(f"Page 1 of {PAGES}")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot_dir / "before-panel-forge.png"))
        page.add_script_tag(url=url + "/__test/axe.min.js")
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"]) for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, bad
        assert page.evaluate("() => window.__csp") == [] and not host.csp_violations
        assert not errors, errors
        assert [c for c in host.invocations if c[2] != 200] == []
        assert {c[1].split("?")[0] for c in host.invocations} == {f"/forge/api/v1/issues/{issue['id']}/before"}
