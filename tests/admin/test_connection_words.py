"""Do the connection page's words match its buttons for every status, does every action that kills a token ask
first, and does the page lead with the side the site actually uses (a brand-new site is shown both choices)?"""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from app import tenants as tenant_store
from app.extensions import db
from app.recovery import connections as rc
from tests.admin import test_recovery_page as rp
from tests.admin.test_recovery_page import Page, activate, generate

sites, src, dst = rp.sites, rp.src, rp.dst  # the page tests' fixtures: two installed sites and their admins


def _tokens(app, site) -> list[tuple[str, bool]]:
    with app.app_context():
        conn = rc.connection_for_source(tenant_store.get_by_client_key(site.client_key))
        db.session.refresh(conn)
        return [(t.lookup, t.retired_at is None) for t in conn.tokens]


def test_refresh_asks_first_and_says_the_old_token_stops_working(live_app, src) -> None:
    generate(src)
    page = src.open()
    confirm = src.submit("source-refresh-form", expect=200)
    assert "stops working" in confirm.text("confirm-refresh") and confirm.has("confirm-cancel")
    assert [live for _, live in _tokens(live_app, src.site)] == [True]  # nothing happened yet
    revealed = src.submit("confirm-refresh", {}, expect=200)
    assert revealed.has("revealed-token")
    assert [live for _, live in _tokens(live_app, src.site)] == [False, True]
    assert page.has("source-lost-hint")


def test_the_words_name_only_buttons_the_status_offers(live_app, src, dst) -> None:
    token = generate(src)
    pending = src.open()
    assert "Refresh token" in pending.text("source-lost-hint") and pending.has("source-refresh-form")
    assert not pending.has("source-reset-form") and not pending.has("source-generate-form")
    activate(dst, token, src.site.base_url)
    active = src.open()
    assert "Reset token" in active.text("source-lost-hint") and active.has("source-reset-form")
    assert not active.has("source-refresh-form")
    # Released with a usable token: Reset it if lost; no Generate beside it.
    dst.open()
    dst.submit("destination-release-form", expect=200)
    dst.submit("confirm-release", {"reusable": "yes"})
    reusable = src.open()
    assert reusable.has("source-reset-form") and not reusable.has("source-generate-form")
    assert "Reset token" in reusable.text("source-lost-hint")
    # Released with a dead token: only a new token makes sense, and no lost-token advice.
    activate(dst, token, src.site.base_url)
    dst.submit("destination-release-form", expect=200)
    dst.submit("confirm-release", {"reusable": "no"})
    retired = src.open()
    assert retired.has("source-generate-form") and not retired.has("source-reset-form")
    assert not retired.has("source-lost-hint")


def test_the_stored_token_notice_names_no_missing_button(src) -> None:
    generate(src)
    link = src.page.one("token-stored").attrs["href"]
    after = Page(requests.get(urljoin(src.base, link), timeout=10))
    assert "reset it" not in after.text("notice").lower()


def test_a_brand_new_site_is_shown_both_choices_and_a_destination_leads_with_recovery(src, dst) -> None:
    new = dst.open()
    assert new.has("first-steps") and new.has("choose-protect") and new.has("choose-recover")
    token = generate(src)
    page = activate(dst, token, src.site.base_url)
    assert not page.has("first-steps")
    assert page.html.index('data-testid="destination-section"') < page.html.index('data-testid="source-section"')
    source_page = src.open()
    assert not source_page.has("first-steps")
    assert source_page.html.index('data-testid="source-section"') < \
        source_page.html.index('data-testid="destination-section"')
