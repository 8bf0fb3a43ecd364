"""Can two Jira admins, in headless Chromium, click through generate → activate → release (Yes) → activate again →
deactivate on the Disaster recovery connections page, seeing the right status at each step?"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fakejira import installer
from fakejira.resources.basics import admin_account_id

pytestmark = pytest.mark.browser


def _open(context, app, site):
    page = context.new_page()
    page.goto(installer.sign_iframe_url(site, app.config["APP_KEY"], "/admin/recovery", admin_account_id(site)))
    return page


def _status(page, side: str) -> str:
    return page.get_by_test_id(f"{side}-status").text_content().strip()


def test_connection_lifecycle_in_a_browser(live_app, fake_cloud, install_into, browser_context,
                                           screenshot_dir) -> None:
    source_site, dest_site = fake_cloud.add_site("source"), fake_cloud.add_site("dest")
    install_into(source_site)
    install_into(dest_site)
    shots = iter(range(1, 100))

    def shot(page, name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"connections-{next(shots):02d}-{name}.png"), full_page=True)

    # The source admin sees what to do first, and generates the token.
    source = _open(browser_context, live_app, source_site)
    assert _status(source, "source") == "Not connected"
    assert "generate one right after installing" in source.get_by_test_id("source-empty").inner_text()
    shot(source, "source-empty")
    source.get_by_role("button", name="Generate token").click()
    token = source.get_by_test_id("revealed-token").input_value()
    assert re.fullmatch(r"JDR1-[0-9A-Z]{10}-[0-9A-Z]{26}", token)
    expect(source.get_by_test_id("copy-token")).to_be_visible()  # added by recovery.js once it has run
    source.get_by_test_id("copy-token").click()
    source.wait_for_function("document.querySelector('[data-copy-status]').textContent.length > 0")
    shot(source, "token-shown-once")
    source.get_by_role("link", name="I've stored it safely").click()
    assert _status(source, "source") == "Activation pending"
    assert token not in source.content()
    shot(source, "source-pending")

    # The destination admin activates with the token and the source's address (as a person might type it).
    dest = _open(browser_context, live_app, dest_site)
    assert _status(dest, "destination") == "Not connected"
    dest.get_by_label("Recovery token").fill(f"  {token.lower()}\n")
    dest.get_by_label("Source site address").fill(source_site.base_url.upper() + "/jira/")
    shot(dest, "destination-activation-form")
    dest.get_by_role("button", name="Activate connection").click()
    assert _status(dest, "destination") == "Active"
    assert source_site.base_url in dest.get_by_test_id("active-source").inner_text()
    assert "Connection activated" in dest.get_by_test_id("notice").inner_text()
    shot(dest, "destination-active")
    source.reload()
    assert _status(source, "source") == "Active"

    # Release, answering Yes: the token can be used again.
    dest.get_by_role("button", name="Release connection").click()
    expect(dest.get_by_role("heading", name="Release the connection?")).to_be_visible()
    shot(dest, "release-question")
    dest.get_by_role("button", name="Yes, the token can be used again").click()
    assert _status(dest, "destination") == "Released"
    shot(dest, "destination-released")

    # Activate again with the same token, typed with the keyboard this time.
    dest.get_by_label("Recovery token").focus()
    dest.keyboard.type(token)
    dest.keyboard.press("Tab")
    dest.keyboard.type(source_site.base_url)
    dest.keyboard.press("Tab")
    with dest.expect_navigation():  # the form posts and redirects back: read the page after it arrives
        dest.keyboard.press("Enter")
    assert _status(dest, "destination") == "Active"
    shot(dest, "destination-active-again")

    # The source deactivates; the confirmation names the consequence.
    source.reload()
    source.get_by_role("button", name="Deactivate connection").click()
    assert "can no longer be recovered through this connection" in source.get_by_test_id(
        "confirm-deactivate").inner_text()
    shot(source, "deactivate-confirmation")
    source.get_by_role("button", name="Deactivate connection").click()
    assert _status(source, "source") == "Deactivated"
    assert source.get_by_test_id("audit-row").count() >= 5
    shot(source, "source-deactivated")
    dest.reload()
    assert _status(dest, "destination") == "Deactivated"
    shot(dest, "destination-deactivated")
