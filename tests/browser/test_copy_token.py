"""Inside Jira's iframe the Clipboard API is usually blocked: does "Copy token" still copy (execCommand), or at least
leave the whole token selected and say which keys copy it — and do the connection pages keep axe-core free of
serious violations while doing so?"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fakejira import installer
from fakejira.resources.basics import admin_account_id
from tests.e2e.conftest import AXE

pytestmark = pytest.mark.browser

TOKEN = re.compile(r"JDR1-[0-9A-Z]{10}-[0-9A-Z]{26}")
# Jira's iframe without clipboard-write: writeText is refused (as Chromium refuses it there).
BLOCK_CLIPBOARD = """if (navigator.clipboard) {
  navigator.clipboard.writeText = () => Promise.reject(new DOMException("blocked by permissions policy",
                                                                         "NotAllowedError"));
}"""
BLOCK_EXEC_COMMAND = "document.execCommand = () => false;"
SELECTION = """() => { const f = document.getElementById("token-value");
  return {start: f.selectionStart, end: f.selectionEnd, length: f.value.length,
          focused: document.activeElement === f}; }"""


def _framed(context, app, site):
    """The page as Jira shows it: in an iframe of the Jira site (another origin) that grants no clipboard permission."""
    url = installer.sign_iframe_url(site, app.config["APP_KEY"], "/admin/recovery", admin_account_id(site))
    host = context.new_page()
    host.goto(site.base_url + "/plugins/servlet/ac/jira-dr")  # the site's origin: the app allows only it to frame it
    host.set_content(f'<iframe src="{url}" allow="" width="1024" height="768" title="Disaster recovery"></iframe>')
    frame = host.frame_locator("iframe")
    expect(frame.get_by_test_id("source-status")).to_be_visible()
    return host, frame


def _serious_violations(page_frame) -> list:
    page_frame.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page_frame.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize(("blocked", "expected"), [
    ((BLOCK_CLIPBOARD,), "Copied"),
    ((BLOCK_CLIPBOARD, BLOCK_EXEC_COMMAND), "press Ctrl+C to copy"),
])
def test_copy_token_in_an_iframe_whose_clipboard_is_blocked(live_app, fake_cloud, install_into, browser_context,
                                                             screenshot_dir, blocked, expected) -> None:
    site = fake_cloud.add_site("copier")
    site.client_key = install_into(site)
    for script in blocked:
        browser_context.add_init_script(script)
    host, frame = _framed(browser_context, live_app, site)
    frame.get_by_role("button", name="Generate token").click()
    field = frame.get_by_test_id("revealed-token")
    assert TOKEN.fullmatch(field.input_value())
    frame.get_by_test_id("copy-token").click()
    expect(frame.get_by_test_id("copy-status")).to_contain_text(expected)
    inner = host.frames[1]
    selection = inner.evaluate(SELECTION)
    # Whatever happened, the whole token is selected, so Ctrl+C copies all of it.
    assert selection == {"start": 0, "end": selection["length"], "length": 42, "focused": True}, selection
    host.screenshot(path=str(screenshot_dir / f"copy-token-{'manual' if len(blocked) > 1 else 'copied'}.png"))
    assert not _serious_violations(inner)


def test_without_javascript_the_token_is_a_readonly_field_to_select(live_app, fake_cloud, install_into,
                                                                   browser_context) -> None:
    site = fake_cloud.add_site("nojs")
    site.client_key = install_into(site)
    from playwright.sync_api import Browser

    browser: Browser = browser_context.browser
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(installer.sign_iframe_url(site, live_app.config["APP_KEY"], "/admin/recovery",
                                            admin_account_id(site)))
        page.get_by_role("button", name="Generate token").click()
        field = page.get_by_test_id("revealed-token")
        expect(field).to_have_attribute("readonly", "")
        assert TOKEN.fullmatch(field.input_value())
        expect(page.get_by_test_id("copy-token")).to_be_hidden()  # no dead button without JavaScript
        expect(page.locator("#token-copy-hint")).to_contain_text("Ctrl+C")
    finally:
        context.close()


def test_the_first_visit_and_a_refused_activation_have_no_serious_violation(live_app, fake_cloud, install_into,
                                                                           browser_context) -> None:
    site = fake_cloud.add_site("axe")
    site.client_key = install_into(site)
    host, frame = _framed(browser_context, live_app, site)
    expect(frame.get_by_test_id("first-steps")).to_be_visible()
    assert not _serious_violations(host.frames[1])
    frame.get_by_label("Recovery token").fill("JDR1-0000000000-00000000000000000000000000")
    frame.get_by_label("Source site address").fill("https://lost.atlassian.net")
    frame.get_by_role("button", name="Activate connection").click()
    expect(frame.get_by_test_id("notice")).to_contain_text("4 attempts left")
    expect(frame.get_by_label("Source site address")).to_have_value("https://lost.atlassian.net")
    assert not _serious_violations(host.frames[1])
