"""Does the Disaster recovery connections page, opened from two emulated Jira sites as Jira opens it, let admins
run the token lifecycle with plain forms (no JavaScript), refuse what the state doesn't allow, keep tenants apart
and keep hostile strings as text?"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
import requests

from app import tenants as tenant_store
from app.extensions import db
from app.recovery import audit
from app.recovery import connections as rc
from fakejira import installer
from fakejira.resources.basics import admin_account_id

VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "base", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    inputs: list[dict[str, str]] = field(default_factory=list)


class _Parser(HTMLParser):
    """Collects elements with a data-testid (their text and, for forms, their inputs) and every label/id."""

    def __init__(self) -> None:
        super().__init__()
        self.by_testid: dict[str, list[Element]] = {}
        self.open: list[Element] = []
        self.forms: list[Element] = []
        self.ids: dict[str, str] = {}
        self.label_for: set[str] = set()
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs_list):
        attrs = {k: v or "" for k, v in attrs_list}
        el = Element(tag, attrs)
        if "id" in attrs:
            self.ids[attrs["id"]] = tag
        if tag == "label" and "for" in attrs:
            self.label_for.add(attrs["for"])
        if tag == "script":
            self._in_script = True
        if tag == "form":
            self.forms.append(el)
        if tag in ("input", "textarea", "button") and self.forms:
            self.forms[-1].inputs.append({"tag": tag, **attrs})
        if "data-testid" in attrs:
            self.by_testid.setdefault(attrs["data-testid"], []).append(el)
        if tag not in VOID:
            self.open.append(el)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                break

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)
        for el in self.open:
            el.text += data


class Page:
    def __init__(self, resp: requests.Response) -> None:
        self.resp = resp
        self.html = resp.text
        self.parsed = _Parser()
        self.parsed.feed(self.html)

    def all(self, testid: str) -> list[Element]:
        return self.parsed.by_testid.get(testid, [])

    def one(self, testid: str) -> Element:
        found = self.all(testid)
        assert len(found) == 1, f"{testid}: {len(found)} found"
        return found[0]

    def text(self, testid: str) -> str:
        return " ".join(self.one(testid).text.split())

    def has(self, testid: str) -> bool:
        return bool(self.all(testid))


class Admin:
    """A Jira admin using the page in one site's iframe, with plain HTTP (as a browser without JavaScript)."""

    def __init__(self, app, site, account_id: str | None = None) -> None:
        self.app, self.site = app, site
        self.account_id = account_id or admin_account_id(site)
        self.base = app.config["BASE_URL"]
        self.page: Page | None = None

    def open(self) -> Page:
        url = installer.sign_iframe_url(self.site, self.app.config["APP_KEY"], "/admin/recovery", self.account_id)
        resp = requests.get(url, timeout=10)
        assert resp.status_code == 200, resp.text[:500]
        self.page = Page(resp)
        return self.page

    def submit(self, form_testid: str, data: dict[str, str] | None = None, *, page: Page | None = None,
               expect: int = 303) -> Page:
        form = (page or self.page).one(form_testid)
        assert form.tag == "form" and form.attrs["method"] == "post"
        fields = {i["name"]: i.get("value", "") for i in form.inputs if i.get("type") == "hidden"}
        fields.update(data or {})
        resp = requests.post(urljoin(self.base, form.attrs["action"]), data=fields, allow_redirects=False, timeout=10)
        assert resp.status_code == expect, resp.text[:500]
        if resp.status_code == 303:
            resp = requests.get(urljoin(self.base, resp.headers["Location"]), timeout=10)
            assert resp.status_code == 200
        self.page = Page(resp)
        return self.page

    def post_raw(self, path: str, data: dict[str, str]) -> requests.Response:
        return requests.post(self.base + path, data=data, allow_redirects=False, timeout=10)

    def context_token(self) -> str:
        return next(i["value"] for f in self.page.parsed.forms for i in f.inputs if i.get("name") == "jwt")


@pytest.fixture
def sites(fake_cloud, install_into):
    source = fake_cloud.add_site("source")
    source.client_key = install_into(source)
    dest = fake_cloud.add_site("dest")
    dest.client_key = install_into(dest)
    return source, dest


@pytest.fixture
def src(live_app, sites) -> Admin:
    return Admin(live_app, sites[0])


@pytest.fixture
def dst(live_app, sites) -> Admin:
    return Admin(live_app, sites[1])


def generate(src: Admin) -> str:
    src.open()
    page = src.submit("source-generate-form", expect=200)
    return page.one("revealed-token").attrs["value"]


def activate(dst: Admin, token: str, url: str, expect: int = 303) -> Page:
    dst.open()
    return dst.submit("activate-form", {"token": token, "base_url": url}, expect=expect)


def test_a_new_site_sees_empty_states_and_what_to_do_first(src) -> None:
    page = src.open()
    assert page.text("source-status") == "Not connected"
    assert "No token yet: generate one right after installing" in page.text("source-empty")
    assert page.has("source-generate-form") and not page.has("source-refresh-form")
    assert page.text("destination-status") == "Not connected" and page.has("activate-form")
    assert page.has("audit-empty")
    assert page.resp.headers["Cache-Control"] == "no-store"
    # Every form field has a label pointing at it.
    for field_id in ("activate-token", "activate-url"):
        assert field_id in page.parsed.label_for


def test_generate_shows_the_token_once_and_never_again(src, live_app) -> None:
    src.open()
    page = src.submit("source-generate-form", expect=200)
    token = page.one("revealed-token").attrs["value"]
    assert re.fullmatch(r"JDR1-[0-9A-Z]{10}-[0-9A-Z]{26}", token)
    assert page.resp.headers["Cache-Control"] == "no-store"
    assert page.text("source-status") == "Activation pending"
    link = page.one("token-stored").attrs["href"]
    after = Page(requests.get(urljoin(src.base, link), timeout=10))
    assert token not in after.html and token.split("-")[2] not in src.open().html
    assert after.text("source-status") == "Activation pending"
    assert {"source-refresh-form", "source-deactivate-form"} <= set(after.parsed.by_testid)
    assert not after.has("source-generate-form") and not after.has("source-reset-form")
    row = after.all("audit-row")[0]
    assert (row.attrs["data-action"], row.attrs["data-outcome"], row.attrs["data-side"]) == (
        "generate", "succeeded", "source")
    # Who: the person's display name from Jira, the account id kept for reference.
    who = after.all("audit-who")[0]
    assert " ".join(who.text.split()) == "Site Admin" and who.attrs["data-account-id"] == admin_account_id(src.site)


def test_lifecycle_across_two_sites(src, dst) -> None:
    token = generate(src)
    page = activate(dst, token, src.site.base_url + "/jira/")
    assert page.text("notice") == "Connection activated. This site can now read the source site's backups."
    assert page.text("destination-status") == "Active"
    assert src.site.base_url in page.text("active-source")
    assert page.has("destination-release-form") and page.has("destination-deactivate-form")
    assert not page.has("activate-form")
    source_page = src.open()
    assert source_page.text("source-status") == "Active"
    assert dst.site.base_url in source_page.text("source-destination")
    # Release asks first (server-side step), then Yes keeps the token usable.
    confirm = dst.submit("destination-release-form", expect=200)
    assert confirm.has("confirm-release") and confirm.has("confirm-release-yes") and confirm.has("confirm-release-no")
    page = dst.submit("confirm-release", {"reusable": "yes"})
    assert page.text("notice").startswith("Connection released. The token can be used again")
    assert page.text("destination-status") == "Released" and page.has("activate-form")
    page = activate(dst, token, src.site.base_url)
    assert page.text("destination-status") == "Active"
    # Deactivate names the consequence before it happens.
    src.open()
    confirm = src.submit("source-deactivate-form", expect=200)
    assert "can no longer be recovered through this connection" in confirm.text("confirm-deactivate")
    page = src.submit("confirm-deactivate", {})
    assert page.text("source-status") == "Deactivated" and page.has("source-generate-form")
    assert dst.open().text("destination-status") == "Deactivated"


def test_a_stale_page_gets_a_refusal_naming_the_state(src) -> None:
    stale = src.open()
    src.submit("source-generate-form", expect=200)
    page = src.submit("source-generate-form", page=stale, expect=409)  # the old page still showed Generate
    assert page.text("notice") == "Can't generate a token while the status is Activation pending."
    assert page.one("notice").attrs["data-code"] == "transition-refused"
    assert page.one("notice").attrs["role"] == "alert"
    assert page.all("audit-row")[0].attrs["data-outcome"] == "not_allowed"


def test_a_refused_activation_says_why_and_keeps_what_was_typed(src, dst) -> None:
    """A guess gets the one uniform answer; the real token with the wrong address is told the address is wrong;
    both re-render at once (422, no-store) with the token and the address still in their fields."""
    token = generate(src)
    wrong_token = token[:-1] + ("0" if token[-1] != "0" else "1")
    guess = activate(dst, wrong_token, src.site.base_url, expect=422)
    assert guess.text("notice").startswith(rc.ACTIVATION_REFUSED_TEXT)
    assert "4 attempts left" in guess.text("notice")
    assert guess.one("activate-token").text == wrong_token
    assert guess.one("activate-url").attrs["value"] == src.site.base_url
    assert guess.resp.headers["Cache-Control"] == "no-store"
    wrong_site = activate(dst, token, "https://elsewhere.atlassian.net", expect=422)
    assert "isn't the site it was generated on" in wrong_site.text("notice")
    assert "3 attempts left" in wrong_site.text("notice")
    assert wrong_site.one("activate-url").attrs["value"] == "https://elsewhere.atlassian.net"
    # The audit log below says the same, no more.
    assert "isn't the site it was generated on" in wrong_site.all("audit-row")[0].text
    assert src.open().text("source-status") == "Activation pending"


@pytest.mark.parametrize(("token", "url", "notice"), [
    ("hello", "https://x.atlassian.net", "That isn't a complete recovery token"),
    ("JDR1-0000000000-00000000000000000000000000", "https://x.atlassian.net/wiki?q=<b>", "Enter only the site's"),
])
def test_malformed_input_gets_a_precise_hint_and_no_echo(dst, token, url, notice) -> None:
    page = activate(dst, token, url, expect=400)
    assert page.text("notice").startswith(notice)
    assert "<b>" not in page.html and "wiki?q" not in page.text("notice")


def test_repeated_failures_are_throttled_on_the_page_but_a_valid_token_still_works(src, dst) -> None:
    for left in (4, 3, 2, 1):
        page = activate(dst, "JDR1-0000000000-00000000000000000000000000", "https://x.atlassian.net", expect=422)
        assert f"{left} attempt{'s' if left > 1 else ''} left" in page.text("notice")
    last = activate(dst, "JDR1-0000000000-00000000000000000000000000", "https://x.atlassian.net", expect=422)
    assert "no failed attempts left" in last.text("notice")
    page = activate(dst, "JDR1-0000000000-00000000000000000000000000", "https://x.atlassian.net", expect=429)
    assert page.text("notice").startswith("Too many failed activation attempts from this site. Try again in 15 "
                                          "minutes.")
    token = generate(src)
    assert activate(dst, token, src.site.base_url).text("destination-status") == "Active"


def test_another_tenants_connection_id_in_a_form_is_refused(live_app, src, dst) -> None:
    token = generate(src)
    activate(dst, token, src.site.base_url)
    with live_app.app_context():
        conn_id = rc.connection_for_source(tenant_store.get_by_client_key(src.site.client_key)).id
    attacker = Admin(live_app, dst.site)
    attacker.open()
    jwt = attacker.context_token()
    for path in ("/admin/recovery/source/deactivate", "/admin/recovery/source/reset",
                 "/admin/recovery/source/refresh"):
        resp = attacker.post_raw(path, {"jwt": jwt, "connection": str(conn_id), "confirmed": "yes"})
        assert resp.status_code == 404
        assert Page(resp).one("notice").attrs["data-code"] == "not-found"
    with live_app.app_context():
        conn = db.session.get(rc.RecoveryConnection, conn_id)
        assert conn.state is rc.ConnectionState.ACTIVE and len(conn.tokens) == 1


def test_actions_need_a_context_token_from_a_jira_admin(live_app, src) -> None:
    src.open()
    jwt = src.context_token()
    assert src.post_raw("/admin/recovery/source/generate", {}).status_code == 401
    page_token = installer.sign_iframe_url(src.site, live_app.config["APP_KEY"], "/admin/recovery/source/generate",
                                           admin_account_id(src.site)).rsplit("jwt=", 1)[1]
    assert src.post_raw("/admin/recovery/source/generate", {"jwt": page_token}).status_code == 401
    outsider = installer.context_token(src.site, live_app.config["APP_KEY"], "557058:not-an-admin")
    assert src.post_raw("/admin/recovery/source/generate", {"jwt": outsider}).status_code == 403
    assert src.post_raw("/admin/recovery/source/explode", {"jwt": jwt}).status_code == 404
    assert src.post_raw("/admin/recovery/source/refresh", {"jwt": jwt, "connection": "1 OR 1=1"}).status_code == 400
    assert requests.get(f"{src.base}/admin/recovery/source/generate", timeout=10).status_code == 405
    with live_app.app_context():
        assert rc.connection_for_source(tenant_store.get_by_client_key(src.site.client_key)) is None


def test_redirect_notices_are_fixed_texts_never_echoed_input(src) -> None:
    src.open()
    jwt = src.context_token()
    for query in ("notice=<script>alert(1)</script>", "notice=refused&action=<i>x</i>&state=active",
                  "notice=throttled&minutes=<b>9</b>"):
        page = Page(requests.get(f"{src.base}/admin/recovery/view?jwt={jwt}&{query}", timeout=10))
        assert page.resp.status_code == 200 and not page.has("notice")
        assert "<script>alert" not in page.html and "<i>x" not in page.html and "<b>9" not in page.html


HOSTILE = "https://evil.example/\"><script>alert('x')</script>é&amp;"


def test_hostile_site_names_and_log_entries_stay_text(live_app, src, dst) -> None:
    token = generate(src)
    activate(dst, token, src.site.base_url)
    with live_app.app_context():
        dest_tenant = tenant_store.get_by_client_key(dst.site.client_key)
        dest_tenant.display_url = HOSTILE
        audit.record(tenant_store.get_by_client_key(src.site.client_key).id, side="source", action="<img src=x>",
                     outcome="<b>odd</b>", account_id="\"><script>alert(2)</script>", detail=HOSTILE)
        db.session.commit()
    page = src.open()
    assert "<script>" not in "".join(page.parsed.scripts) and "alert(" not in "".join(page.parsed.scripts)
    assert "<script>alert" not in page.html and "<img src=x>" not in page.html
    assert HOSTILE in page.text("source-destination")
    assert any(HOSTILE in row.text and "\"><script>alert(2)</script>" in row.text for row in page.all("audit-row"))
    assert HOSTILE in dst.open().text("site")


def test_the_service_wide_stop_says_so_on_the_page(live_app, dst, monkeypatch) -> None:
    """Past the global cap a site with no failures of its own is told it's a temporary stop for everyone."""
    monkeypatch.setitem(live_app.config, "ACTIVATION_GLOBAL_MAX_FAILURES", 1)
    activate(dst, "JDR1-0000000000-00000000000000000000000000", "https://x.atlassian.net", expect=422)
    page = activate(dst, "JDR1-0000000000-00000000000000000000000000", "https://x.atlassian.net", expect=429)
    assert page.text("notice").startswith("Activations are paused for the whole service")
