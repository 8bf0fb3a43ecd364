"""Does the restore, walked in Chromium on BOTH doors (the Connect pages and the Forge Custom UI page), earn an admin's
trust as issue #16 asks: defaults that succeed (finding 1), a selection that narrows (2), a missing grant or
credential that blocks with its fix and a stale preview that can't start (3), results in words (5), a confirmation
that states its size and a history that outlives the connection (10) — and, on the Forge page, activation refusals
that say what's wrong (6)? Every step is photographed into artifacts/screenshots and checked with axe-core.

One source site (the demo company, backed up once) serves every test of this module: each test that writes gets a
destination site of its own, connected with the same token (the previous destination releases it first).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from app import create_app
from app.clock import utcnow
from app.extensions import db
from app.forge.installations import tenant_key
from app.forge.scopes import forge_scopes
from app.jira.access import Credential, oauth_allows
from app.jira.client import JiraClient, RetryPolicy
from app.jobs.models import Job
from app.oauth.models import OAuthGrant
from app.recovery.connections import Side, activate, active_source_for, generate_token, release
from app.restore import service
from app.restore.models import RestoreItem, RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant
from fakejira import installer
from fakejira.cloud import Cloud
from fakejira.forge import ForgeInstall
from fakejira.forge_bridge import BridgeHost, ensure_built
from fakejira.loopback import serve
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site, load_seed
from tests.browser.conftest import ARGS, CHROMIUM, SCREENSHOTS
from tests.e2e.conftest import AXE
from tests.restore.conftest import SCOPES, _Bearer, take_backup

pytestmark = pytest.mark.browser

DEMO = json.loads((Path(__file__).resolve().parents[2] / "fakejira" / "seeds" / "demo.json").read_text("utf-8"))
PROJECTS = {p["key"] for p in DEMO["projects"]}
LEADS = {p["key"]: p["lead"]["displayName"] for p in DEMO["projects"]}
ACCOUNT_ID = re.compile(r"557058:[0-9a-f-]{36}")
DOORS = ("connect", "forge")
FRAME = (1024, 768)  # the iframe both doors' pages must work in
LONG = 90_000  # a preview or restore of the demo company takes seconds; the machine may be busy
WHEN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
LAYOUT_JS = """() => ({scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  sticking: [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .map(e => `${e.tagName}[${e.dataset.testid || ""}]`).slice(0, 5)})"""
CSP_WATCH = """window.__csp = [];
document.addEventListener("securitypolicyviolation",
  e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));"""


# -- the world: one app, one emulated cloud, one backed-up source, a destination per test ---------------------------

@dataclass
class Destination:
    """A destination site with the app installed through ``door``; ``inst`` is its Forge installation."""

    door: str
    site: Any
    tenant_id: int
    inst: ForgeInstall | None = None
    run_id: int | None = None  # a finished restore of everything, when one was made


@dataclass
class World:
    app: Flask
    cloud: Cloud
    source: Any
    source_id: int
    snapshot_id: int
    token: str
    browser: Browser
    dist: Path
    stack: ExitStack
    credentials: dict[int, Credential] = field(default_factory=dict)
    active: Destination | None = None
    restored: dict[str, Destination] = field(default_factory=dict)
    names: Iterator[int] = field(default_factory=lambda: iter(range(1, 1000)))

    def tenant(self, tenant_id: int) -> Tenant:
        found = db.session.get(Tenant, tenant_id)
        assert found is not None
        return found

    def grant(self, site: Any, tenant_id: int) -> None:
        """The tenant gains an OAuth credential: a real bearer token at the emulated gateway (as tests/restore)."""
        client = self.cloud.oauth.register_client(["https://dr-app.example.test/oauth/callback"])
        admin = admin_account_id(site)
        site.admins.add(admin)
        tokens = self.cloud.oauth.issue_tokens(client.client_id, admin, [site], SCOPES)
        jira = JiraClient(self.cloud.gateway_url(site), _Bearer(tokens["access_token"]),
                          retry=RetryPolicy(max_retries=2, base_delay=0.01, max_retry_after=5), label="oauth-test")
        self.credentials[tenant_id] = Credential("oauth", jira, oauth_allows(set(SCOPES)))

    def site(self, label: str) -> Any:
        return self.cloud.add_site(f"{label}-{next(self.names)}")

    def install(self, door: str, site: Any) -> Destination:
        """Install the app into ``site`` through ``door``; the destination is not connected yet."""
        if door == "connect":
            client_key = installer.install_app(site, self.app.config["BASE_URL"] + "/atlassian-connect.json").client_key
            with self.app.app_context():
                tenant_id = db.session.scalars(select(Tenant.id).where(Tenant.client_key == client_key)).one()
            return Destination(door, site, tenant_id)
        inst = self.cloud.forge.install(site)
        attempts = self.cloud.forge.invoker(self.app.config["BASE_URL"]).lifecycle(inst)
        assert attempts[-1].ok, attempts
        key = tenant_key(inst.cloud_id, inst.environment_id)
        with self.app.app_context():
            tenant_id = db.session.scalars(select(Tenant.id).where(Tenant.client_key == key)).one()
        return Destination(door, site, tenant_id, inst)

    def free_the_token(self) -> None:
        """The destination holding the connection releases it (reusable): the token may activate another site."""
        if self.active is None:
            return
        with self.app.app_context():
            tenant = self.tenant(self.active.tenant_id)
            if active_source_for(tenant) is not None:
                release(tenant, Side.DESTINATION, admin_account_id(self.active.site), None, reusable=True)
        self.active = None

    def destination(self, door: str, label: str, *, grant: bool = True) -> Destination:
        """A new, empty destination connected (Active) to the source; a Connect one with the OAuth grant unless
        ``grant`` is false (a Forge site's calls go through the Forge token and scopes, never a grant)."""
        dest = self.install(door, self.site(label))
        if grant and door == "connect":
            self.grant(dest.site, dest.tenant_id)
        self.free_the_token()
        with self.app.app_context():
            activate(self.tenant(dest.tenant_id), admin_account_id(dest.site), self.token, self.source.base_url)
        self.active = dest
        return dest


def _database_url(tmp: Path, worker: str) -> str:
    """An SQLite file of this module's, or (TEST_DATABASE_URL set) a PostgreSQL database of its own: other modules'
    tests on the same worker recreate the worker's database between this module's tests."""
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp / 'findings.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(pg)
    name = f"{url.database}_{worker}_findings"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str, fakejira_spec: None) -> Iterator[World]:
    """The app (jobs in threads, as embedded), the emulated cloud with its Forge platform, the demo company on a
    Connect source with its admin's grant, backed up once, and its token; Chromium; the built Forge page."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `npm ci --prefix tests/e2e`")
    try:
        dist = ensure_built()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    tmp = tmp_path_factory.mktemp("restore-findings")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(tmp, worker_id),
                      "SCHEMA_CHECK": False, "AUTO_MIGRATE": False, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                      "BASE_URL": "https://dr-app.example.test", "JIRA_MAX_RETRIES": 2, "JIRA_MAX_RETRY_WAIT": 5,
                      "JIRA_RETRY_BASE_DELAY": 0.01, "JOBS_MODE": "thread", "JOB_THREADS": 2})
    app.instance_path = str(tmp / "instance")
    with app.app_context():
        db.drop_all()
        db.create_all()
    from playwright.sync_api import sync_playwright

    with ExitStack() as stack:
        app.config["BASE_URL"] = stack.enter_context(serve(app))
        cloud = Cloud()
        stack.enter_context(cloud.serve())
        with app.app_context():
            cloud.forge.scopes = forge_scopes()
        app.config.update(CONNECT_INSTALL_KEYS_URL=cloud.install_keys_url, FORGE_APP_ID=cloud.forge.app_id,
                          FORGE_JWKS_URL=cloud.forge.jwks_url, ATLASSIAN_API_URL=cloud.platform_url)
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        stack.callback(browser.close)
        world = World(app, cloud, None, 0, 0, "", browser, dist, stack)
        def granted(tenant: Tenant) -> Credential | None:
            return world.credentials.get(tenant.id)

        app.extensions["wiring"].credential_sources.append(granted)
        source = cloud.add_site("source")
        load_seed(source, DEMO)
        src = world.install("connect", source)
        world.grant(source, src.tenant_id)
        world.source, world.source_id = source, src.tenant_id
        world.snapshot_id = take_backup(app, src.tenant_id, cloud)
        with app.app_context():
            world.token = generate_token(world.tenant(src.tenant_id), admin_account_id(source)).token
        yield world
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


# -- an admin at either door's page ---------------------------------------------------------------------------------

class AxeHost(BridgeHost):
    """The Forge page's host, also serving axe-core from its own origin (so the check runs under the page's CSP)."""

    def handle(self, request: Any) -> Any:
        if request.path == "/__test/axe.min.js":
            return self._asset(AXE.read_bytes(), "text/javascript")
        return super().handle(request)


@dataclass
class AdminPage:
    """A destination's admin at the door's page: opens it, checks it, photographs each step."""

    world: World
    dest: Destination
    page: Page
    name: str
    host: AxeHost | None = None
    url: str = ""
    errors: list[str] = field(default_factory=list)
    steps: Iterator[int] = field(default_factory=lambda: iter(range(1, 100)))

    @property
    def forge(self) -> bool:
        return self.dest.door == "forge"

    def open(self) -> None:
        """The Disaster recovery page, freshly loaded (Connect: a newly signed iframe URL)."""
        if self.forge:
            self.page.goto(self.url + "/")
            expect(self.page.get_by_test_id("view-heading")).to_have_text("Disaster recovery connections")
        else:
            site = self.dest.site
            self.page.goto(installer.sign_iframe_url(site, self.world.app.config["APP_KEY"], "/admin/recovery",
                                                     admin_account_id(site)))
            expect(self.page.locator("main#main")).to_be_visible()

    def step(self, what: str, testid: str | None = None) -> None:
        """Check the page as it stands (fits the frame, no serious axe violation; Forge: nothing blocked by its CSP,
        no console error) and keep a screenshot of it."""
        if testid:
            self.page.get_by_test_id(testid).first.scroll_into_view_if_needed()
        m = self.page.evaluate(LAYOUT_JS)
        assert m["scrollWidth"] <= m["clientWidth"] and not m["sticking"], f"{self.name} {what}: overflows {m}"
        if self.forge:
            self.page.add_script_tag(url=self.url + "/__test/axe.min.js")  # same origin: allowed by script-src
        else:
            self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        assert not bad, f"{self.name} {what}: accessibility violations: {bad}"
        if self.forge:
            assert self.page.evaluate("() => window.__csp") == [], f"{self.name} {what}: CSP blocked something"
            assert self.host is not None and not self.host.csp_violations, self.host and self.host.csp_violations
            assert not self.errors, f"{self.name} {what}: console errors {self.errors}"
        slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
        self.page.screenshot(path=str(SCREENSHOTS / f"restore-{self.name}-{next(self.steps):02d}-{slug}.png"),
                             full_page=False)

    # What differs between the doors: a page load per step (Connect) or one page redrawn (Forge).
    def open_run(self, run_id: int) -> None:
        row = self.page.locator(f'[data-testid="restore-run-row"][data-run-id="{run_id}"]')
        row.get_by_role("button" if self.forge else "link").click()
        expect(self.page.get_by_test_id("restore-status")).to_be_visible()

    def back_from_confirmation(self) -> None:
        self.page.get_by_test_id("confirm-back").click()
        expect(self.page.get_by_test_id("restore-confirmation")).to_have_count(0)

    def run_id(self) -> int:
        heading = self.page.locator("h1").filter(has=self.page.get_by_test_id("restore-status")).inner_text()
        found = re.search(r"#(\d+)", heading)
        assert found, heading
        return int(found.group(1))

    def preview(self, button: str = "restore-preview", after: int | None = None) -> int:
        """Preview (from ``button``): the new run's id, once it is planned (``after``: the run shown before)."""
        self.page.get_by_test_id(button).click()
        if after is not None:
            heading = self.page.locator("h1").filter(has=self.page.get_by_test_id("restore-status"))
            expect(heading).not_to_have_text(re.compile(rf"#{after}\b"))
        expect(self.page.get_by_test_id("restore-status")).to_have_attribute("data-status", "planned", timeout=LONG)
        return self.run_id()

    def review(self) -> None:
        """"Review and restore…": the confirmation step."""
        self.page.get_by_test_id("restore-start").click()
        expect(self.page.get_by_test_id("restore-confirmation")).to_be_visible()

    def confirm_and_wait(self) -> None:
        self.page.get_by_test_id("restore-confirm").click()
        expect(self.page.get_by_test_id("restore-status")).to_have_attribute("data-status", "done", timeout=LONG)


@pytest.fixture
def admin_page(world: World) -> Iterator[Callable[[Destination, str], AdminPage]]:
    """admin_page(dest, name) -> AdminPage: the door's page of ``dest`` in a fresh 1024x768 context, as its admin."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        def open_(dest: Destination, name: str) -> AdminPage:
            for old in SCREENSHOTS.glob(f"restore-{name}-*.png"):
                old.unlink()
            context = world.browser.new_context(viewport={"width": FRAME[0], "height": FRAME[1]},
                                                accept_downloads=True)
            stack.callback(context.close)

            def only_loopback(route: Any) -> None:
                ok = urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost")
                route.continue_() if ok else route.abort()

            context.route("**/*", only_loopback)
            context.set_default_timeout(20_000)
            host, url = None, ""
            if dest.door == "forge":
                assert dest.inst is not None
                invoker = world.cloud.forge.invoker(world.app.config["BASE_URL"])
                host = AxeHost(invoker, dest.inst, admin_account_id(dest.site), dist=world.dist)
                url = stack.enter_context(serve(host))
                context.add_init_script(CSP_WATCH)
            admin = AdminPage(world, dest, context.new_page(), name, host, url)
            admin.page.on("console", lambda m: admin.errors.append(m.text) if m.type == "error" else None)
            admin.page.on("pageerror", lambda e: admin.errors.append(str(e)))
            admin.open()
            return admin

        yield open_


def restored_destination(world: World, door: str) -> Destination:
    """A destination of ``door`` holding a finished restore of everything with the defaults: finding 1's when that
    test ran, else one made through the service (the same calls the pages make)."""
    if door in world.restored:
        return world.restored[door]
    dest = world.destination(door, f"restored-{door}")
    admin = admin_account_id(dest.site)
    with world.app.app_context():
        run = service.start_preview(world.tenant(dest.tenant_id), world.snapshot_id, admin)
        run_id = run.id
    _wait_for(world, run_id)
    with world.app.app_context():
        service.start_restore(world.tenant(dest.tenant_id), run_id, Selection.from_dict(None), "admin", admin)
    _wait_for(world, run_id)
    dest.run_id = run_id
    world.restored[door] = dest
    return dest


def _wait_for(world: World, run_id: int, seconds: float = LONG / 1000) -> None:
    """Wait until the run's job has ended (its run planned, or restored), as the pages' polling does."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with world.app.app_context():
            run = db.session.get(RestoreRun, run_id)
            assert run is not None
            job = db.session.get(Job, run.job_id) if run.job_id else None
            if job is not None and job.state in ("succeeded", "failed", "cancelled"):
                assert job.state == "succeeded", (job.state, job.message)
                return
        time.sleep(0.2)
    pytest.fail(f"restore #{run_id}'s job did not end in {seconds:.0f} s")


def _texts(page: Page, testid: str) -> str:
    return " ".join(" ".join(t.split()) for t in page.get_by_test_id(testid).all_inner_texts())


# -- finding 1: defaults that succeed, missing people by name, a blocking warning -----------------------------------

@pytest.mark.parametrize("door", DOORS)
def test_finding_1_the_defaults_alone_restore_every_project(world, admin_page, door) -> None:
    """The preview names missing people by name with the projects they lead; "put me in their place" is the
    default; leaving them out is blocked before anything is written, saying which projects and why; the page's
    defaults alone restore every project."""
    dest = world.destination(door, f"f1-{door}")
    p = admin_page(dest, f"{door}-f1-defaults")
    page = p.page
    p.step("home with an active connection", "restore-section")
    run_id = p.preview()
    missing = _texts(page, "missing-user")
    assert missing and not ACCOUNT_ID.search(missing), missing
    assert f"{LEADS['WEB']}" in missing and "leads WEB" in missing, missing
    expect(page.get_by_test_id("fallback-admin")).to_be_checked()
    expect(page.get_by_test_id("fallback-drop")).not_to_be_checked()
    p.step("preview names missing people", "missing-users")

    page.get_by_test_id("fallback-drop").check()
    p.review()
    blocker = page.get_by_test_id("restore-blocker")
    expect(blocker).to_have_attribute("data-code", "leads")
    expect(blocker).to_contain_text("Projects would fail")
    expect(blocker).to_contain_text(LEADS["WEB"])
    expect(blocker).to_contain_text("Jira requires a project lead")
    expect(page.get_by_test_id("restore-confirm")).to_have_count(0)
    p.step("leaving leads out is blocked", "restore-confirmation")
    assert not export_site(dest.site)["projects"]

    p.back_from_confirmation()
    page.get_by_test_id("fallback-admin").check()
    p.review()
    expect(page.get_by_test_id("restore-blocker")).to_have_count(0)
    expect(page.get_by_test_id("confirm-size")).to_contain_text(f"on {dest.site.base_url}.")
    p.step("confirmation with the defaults", "restore-confirmation")
    p.confirm_and_wait()
    p.step("restored with the defaults", "restore-status")
    assert {pr["key"] for pr in export_site(dest.site)["projects"]} == PROJECTS
    with world.app.app_context():
        run = db.session.get(RestoreRun, run_id)
        assert run is not None and run.user_fallback == "admin"
    dest.run_id = run_id
    world.restored[door] = dest


# -- finding 2: a selection that narrows -----------------------------------------------------------------------------

@pytest.mark.parametrize("door", DOORS)
def test_finding_2_projects_and_one_key_restore_exactly_that(world, admin_page, door) -> None:
    """"Only: Projects, key web" shows WEB and what it depends on — no other project — before running, and the run
    restores exactly what was shown."""
    dest = world.destination(door, f"f2-{door}")
    p = admin_page(dest, f"{door}-f2-selection")
    page = p.page
    run_id = p.preview()
    page.locator('input[name="scope"][value="some"]').check()
    page.locator('input[name="type"][value="projects"]').check()
    page.get_by_label("Projects (keys, comma-separated)").fill("web")
    page.get_by_test_id("restore-show-selection").click()
    result = page.get_by_test_id("selection-result")
    expect(result).to_be_visible()
    chosen = page.get_by_test_id("chosen")
    expect(chosen).to_have_count(1)
    expect(chosen).to_have_attribute("data-type", "projects")
    expect(chosen).to_contain_text("WEB")
    pulled = page.get_by_test_id("pulled-in")
    shown = {(e.get_attribute("data-type"), e.get_attribute("data-source-id")) for e in pulled.all()}
    assert shown and not [t for t, _ in shown if t == "projects"], shown
    web = chosen.get_attribute("data-source-id")
    p.step("selection shows WEB and its dependencies", "selection-result")

    p.review()
    expect(page.get_by_test_id("confirm-size")).to_contain_text("This will create ")
    p.step("confirmation of the selection", "restore-confirmation")
    p.confirm_and_wait()
    p.step("selection restored", "restore-status")
    assert {pr["key"] for pr in export_site(dest.site)["projects"]} == {"WEB"}
    with world.app.app_context():
        run = db.session.get(RestoreRun, run_id)
        assert run is not None and run.selection == {"types": ["projects"], "projects": ["WEB"]}
        restored = {(r.type_key, r.source_id) for r in db.session.scalars(
            select(RestoreItem).where(RestoreItem.run_id == run_id, RestoreItem.selected.is_(True)))}
    assert restored == shown | {("projects", web)}


@pytest.mark.parametrize("door", DOORS)
def test_a_jql_subset_a_backup_cant_answer_is_said_and_what_was_typed_stays(world, admin_page, door) -> None:
    """"Only the issues matching (JQL)": JQL a backup can't evaluate, or that chooses no issue of it (this backup
    holds the configuration only), is said in words where the admin typed it, the query kept, and nothing starts."""
    dest = world.destination(door, f"jql-{door}")
    p = admin_page(dest, f"{door}-jql")
    page = p.page
    p.preview()
    field = page.get_by_label("Only the issues matching (JQL)")
    for typed, words in (("status WAS Done", "asks about the issues' history"),
                         ("project = WEB AND status != Done", "No issue of this backup matches that JQL")):
        page.locator('input[name="scope"][value="some"]').check()
        field.fill(typed)
        if door == "forge":
            field.dispatch_event("change")
        page.get_by_test_id("restore-show-selection").click()
        said = page.get_by_test_id("notice" if door == "forge" else "restore-jql-error")
        expect(said).to_contain_text(words)
        expect(page.get_by_label("Only the issues matching (JQL)")).to_have_value(typed)
        expect(page.get_by_test_id("selection-result")).to_have_count(0)
        p.step(f"jql refused: {words}", "notice" if door == "forge" else "restore-jql-error")
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RestoreRun).where(
            RestoreRun.tenant_id == dest.tenant_id, RestoreRun.status != "planned")) == 0


# -- finding 3: a missing grant or credential blocks with its fix; a stale preview can't start ---------------------

def test_finding_3_connect_a_preview_before_the_grant_blocks_then_goes_stale(world, admin_page) -> None:
    """Connect: without the OAuth grant the preview says which objects can't be restored, why (every skip has a
    reason), and blocks the start with a link to authorise; once authorised the old preview is marked out of date
    and can't be started; previewing again offers the start."""
    dest = world.destination("connect", "f3-connect", grant=False)
    p = admin_page(dest, "connect-f3-grant")
    page = p.page
    run_id = p.preview()
    blocker = page.get_by_test_id("restore-blocker")
    expect(blocker).to_have_attribute("data-code", "grant")
    expect(blocker).to_contain_text("Missing authorisation")
    expect(page.get_by_test_id("blocker-authorise")).to_have_text("Authorise full backup and restore")
    expect(page.get_by_test_id("restore-start")).to_have_count(0)
    page.get_by_test_id("objects-summary").click()  # the per-object list is folded until asked for
    expect(page.get_by_test_id("restore-item").first).to_be_visible()
    unexplained = [r.inner_text() for r in page.locator('[data-testid="restore-item"][data-action="skip"], '
                                                        '[data-testid="restore-item"][data-action="cannot"]').all()
                   if not r.get_by_test_id("item-reason").inner_text().strip()]
    assert not unexplained, unexplained[:5]
    p.step("the missing grant blocks with its fix", "restore-blocker")
    page.get_by_test_id("blocker-authorise").click()
    expect(page.locator("#oauth")).to_be_visible()
    p.step("the authorise section the fix points at", "oauth-section")

    with world.app.app_context():
        db.session.add(OAuthGrant(tenant_id=dest.tenant_id, cloud_id="c", site_url=dest.site.base_url,
                                  account_id=admin_account_id(dest.site), authorised_at=utcnow()))
        db.session.commit()
    world.grant(dest.site, dest.tenant_id)
    p.open()
    row = page.locator(f'[data-testid="restore-run-row"][data-run-id="{run_id}"]')
    expect(row).to_have_attribute("data-state", "stale")
    expect(row.get_by_test_id("restore-run-lozenge")).to_have_text("Out of date")
    p.step("history marks the preview out of date", "restore-runs")
    p.open_run(run_id)
    expect(page.get_by_test_id("restore-status")).to_have_text("Out of date")
    expect(page.get_by_test_id("preview-stale")).to_contain_text("authorised after it was made")
    expect(page.get_by_test_id("restore-start")).to_have_count(0)
    p.step("the stale preview can't be started", "preview-stale")
    assert p.preview("preview-again", after=run_id) > run_id
    expect(page.get_by_test_id("restore-blocker")).to_have_count(0)
    expect(page.get_by_test_id("restore-start")).to_be_visible()
    p.step("previewed again with the grant", "restore-start")


def test_finding_3_forge_scopes_that_dont_allow_it_block_then_a_newer_preview_marks_it_stale(
        world, admin_page, monkeypatch) -> None:
    """Forge: the app's calls go through the Forge token and its scopes, never an admin's OAuth grant. When the
    deployed app's scopes don't allow what the restore needs, the preview blocks the start and names that fix (no
    authorise link: there is nothing to authorise on a Forge site); a newer preview marks the older one out of date
    and it can't be started."""
    dest = world.destination("forge", "f3-forge")
    p = admin_page(dest, "forge-f3-scopes")
    page = p.page
    # An app deployed with a manifest lacking the configuration scope (what an unapproved upgrade leaves).
    granted = frozenset(forge_scopes()) - {"manage:jira-configuration"}
    monkeypatch.setattr("app.forge.scopes._granted", lambda: granted)
    first = p.preview()
    blocker = page.get_by_test_id("restore-blocker")
    expect(blocker).to_have_attribute("data-code", "grant")
    expect(blocker).to_contain_text("The app's permissions don't allow it")
    expect(page.get_by_test_id("blocker-fix")).to_contain_text("Forge app")
    expect(blocker).not_to_contain_text("Authorise")
    expect(page.get_by_test_id("blocker-authorise")).to_have_count(0)
    expect(page.get_by_test_id("restore-start")).to_have_count(0)
    p.step("the app's scopes block with their fix", "restore-blocker")

    monkeypatch.undo()  # the upgrade approved: the app's scopes allow everything again
    second = p.preview("blocker-preview-again", after=first)
    assert second > first
    expect(page.get_by_test_id("restore-blocker")).to_have_count(0)
    expect(page.get_by_test_id("restore-start")).to_be_visible()
    p.step("previewed again once the scopes allow it", "restore-start")
    page.get_by_test_id("back-to-page").click()
    row = page.locator(f'[data-testid="restore-run-row"][data-run-id="{first}"]')
    expect(row).to_have_attribute("data-state", "stale")
    expect(row.get_by_test_id("restore-run-lozenge")).to_have_text("Out of date")
    p.step("history marks the older preview out of date", "restore-runs")
    p.open_run(first)
    expect(page.get_by_test_id("preview-stale")).to_contain_text(f"#{second}")
    expect(page.get_by_test_id("restore-start")).to_have_count(0)
    p.step("the stale preview can't be started", "preview-stale")


# -- finding 5: results in words -------------------------------------------------------------------------------------

@pytest.mark.parametrize("door", DOORS)
def test_finding_5_results_read_in_words_with_people_by_name(world, admin_page, door) -> None:
    """The history row has the date, who started it by name and the outcome as a lozenge; the run's page shows the
    outcome lozenge, differences and reasons in words (past tense, names not account ids, no Python reprs), who
    started it, and a way back."""
    dest = restored_destination(world, door)
    p = admin_page(dest, f"{door}-f5-words")
    page = p.page
    row = page.locator(f'[data-testid="restore-run-row"][data-run-id="{dest.run_id}"]')
    assert WHEN.search(row.get_by_test_id("restore-run-when").inner_text())
    expect(row.get_by_test_id("restore-run-who")).to_have_text("Site Admin")
    lozenge = row.get_by_test_id("restore-run-lozenge")
    expect(lozenge).to_have_text(re.compile(r"^Done( with differences)?$"))
    assert "lozenge" in (lozenge.get_attribute("class") or "")
    p.step("history with date author and outcome", "restore-runs")
    p.open_run(dest.run_id or 0)
    status = page.get_by_test_id("restore-status")
    expect(status).to_have_text("Done with differences")
    assert "lozenge--moved" in (status.get_attribute("class") or "")
    expect(page.get_by_test_id("restore-started-by")).to_have_text("Site Admin")
    page.get_by_test_id("objects-summary").click()  # the per-object list is folded until asked for
    expect(page.get_by_test_id("restore-item").first).to_be_visible()
    words = _texts(page, "difference") + " " + _texts(page, "restore-item")
    assert not ACCOUNT_ID.search(words), ACCOUNT_ID.search(words)
    assert "[[" not in words and "None" not in words and LEADS["WEB"] in words
    reasons = _texts(page, "item-reason")
    assert "it will be updated" not in reasons and "can't be restored." not in reasons
    expect(page.get_by_test_id("differences")).to_be_visible()
    p.step("the run in words", "restore-status")
    p.step("differences in words", "differences")
    page.get_by_test_id("back-to-page").click()
    expect(page.get_by_test_id("restore-section")).to_be_visible()
    p.step("back on the page", "restore-section")


# -- finding 10: a confirmation that states its size; history that outlives the connection --------------------------

@pytest.mark.parametrize("door", DOORS)
def test_finding_10_the_size_is_stated_before_writing_and_history_outlives_the_connection(world, admin_page,
                                                                                         door) -> None:
    """The last step says how many objects it creates (and updates) on which site, before anything is written;
    turning back writes nothing. Once the connection is released, the page still lists the restores and their
    reports."""
    restored = restored_destination(world, door)
    dest = world.destination(door, f"f10-{door}")
    p = admin_page(dest, f"{door}-f10-confirm")
    page = p.page
    p.preview()
    creates = sum(int(td.inner_text()) for td in page.locator(
        '[data-testid="preview-type"] td[data-action="create"]').all())
    updates = sum(int(td.inner_text()) for td in page.locator(
        '[data-testid="preview-type"] td[data-action="update"]').all())
    p.review()
    box = page.get_by_test_id("restore-confirmation")
    expect(box).to_have_attribute("data-creates", str(creates))
    expect(box).to_have_attribute("data-updates", str(updates))
    size = f"This will create {creates} objects" + (f" (and update {updates})" if updates else "")
    expect(page.get_by_test_id("confirm-size")).to_have_text(f"{size} on {dest.site.base_url}.")
    expect(page.get_by_test_id("restore-confirm")).to_have_text(f"Restore {creates + updates} objects")
    p.step("the confirmation states its size", "restore-confirmation")
    p.back_from_confirmation()
    assert not export_site(dest.site)["projects"]  # nothing was written

    world.free_the_token()  # the connection ends for this destination too
    q = admin_page(restored, f"{door}-f10-history")
    with world.app.app_context():
        assert active_source_for(world.tenant(restored.tenant_id)) is None
    expect(q.page.get_by_test_id("restore-history-only")).to_be_visible()
    row = q.page.locator(f'[data-testid="restore-run-row"][data-run-id="{restored.run_id}"]')
    expect(row.get_by_test_id("restore-run-lozenge")).to_have_text(re.compile(r"^Done"))
    q.step("history after the connection ended", "restore-runs")
    q.open_run(restored.run_id or 0)
    expect(q.page.get_by_test_id("report-summary")).to_be_visible()
    expect(q.page.get_by_test_id("fidelity")).to_contain_text("Fidelity: ")
    q.step("the report after the connection ended", "report-summary")


# -- finding 6 on the Forge page: activation refusals that say what's wrong -------------------------------------------

def test_finding_6_forge_activation_says_whats_wrong_keeps_the_values_and_never_locks_out_a_valid_token(
        world, admin_page) -> None:
    """On the Forge page: the real token with the wrong address is told exactly that, with the attempts left, and
    both typed values stay; wrong tokens count down to the lock; the valid token and address still activate."""
    dest = world.install("forge", world.site("f6-forge"))
    world.free_the_token()
    p = admin_page(dest, "forge-f6-activation")
    page = p.page
    expect(page.get_by_test_id("destination-status")).to_have_text("Not connected")
    token_field, address_field = page.get_by_label("Recovery token"), page.get_by_label("Source site address")
    token_field.fill(world.token)
    address_field.fill("https://elsewhere.atlassian.net")
    page.get_by_role("button", name="Activate connection").click()
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("isn't the site it was generated on")
    expect(notice).to_contain_text("4 attempts left")
    expect(token_field).to_have_value(world.token)
    expect(address_field).to_have_value("https://elsewhere.atlassian.net")
    p.step("the precise refusal keeps the typed values", "notice")

    mistyped = "JDR1-0000000000-00000000000000000000000000"
    token_field.fill(mistyped)
    address_field.fill(world.source.base_url)
    for left in ("3 attempts left", "2 attempts left", "1 attempt left", "no failed attempts left"):
        page.get_by_role("button", name="Activate connection").click()
        expect(notice).to_contain_text(left)
        expect(token_field).to_have_value(mistyped)
    p.step("the warning before the lock", "notice")
    page.get_by_role("button", name="Activate connection").click()
    expect(notice).to_contain_text("Too many failed activation attempts")
    p.step("locked against guesses", "notice")
    token_field.fill(world.token)
    page.get_by_role("button", name="Activate connection").click()
    expect(page.get_by_test_id("destination-status")).to_have_text("Active")
    world.active = dest
    p.step("the valid token still activates", "destination-status")
