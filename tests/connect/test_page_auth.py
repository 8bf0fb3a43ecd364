"""Who may open the admin page or call its browser endpoints? Only Jira-signed, request-bound, unexpired tokens
of an installed tenant, from a user Jira confirms is an administrator."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.support.connect_jira import hs256_token
from tests.support.jira_stub import jira_stub

BASE = "https://dr-app.example.test"
PAGE = "/admin/recovery"
API = "/admin/api/session"
ADMIN = "5b10a2844c20165700ede21g"
PERM = "/rest/api/3/permissions/check"


@pytest.fixture
def jira():
    with jira_stub() as stub:
        stub.on("POST", PERM, (200, lambda req: {
            "globalPermissions": ["ADMINISTER"] if req.get_json()["accountId"] == ADMIN else [],
            "projectPermissions": []}))
        yield stub


@pytest.fixture
def tenant(app, install, jira):
    _, body = install(base_url=jira.base_url)
    jira.secrets[app.config["APP_KEY"]] = body["sharedSecret"]
    return body


def page_token(tenant, path=PAGE, query="", **kw):
    url = BASE + path + (f"?{query}" if query else "")
    kw.setdefault("sub", ADMIN)
    return hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET", url=url, base_url=BASE, **kw)


def test_valid_page_load_renders_and_mints_context_token(client, tenant) -> None:
    query = "xdm_e=https%3A%2F%2Facme.atlassian.net&cp=&lic=none&cv=1001.0.0"
    token = page_token(tenant, query=query)
    resp = client.get(f"{PAGE}?{query}&jwt={token}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Disaster recovery connections" in html


def test_context_token_from_page_works_on_browser_endpoint(app, client, tenant) -> None:
    from app import tenants
    from app.connect.auth import ConnectContext, mint_context_token

    with app.app_context():
        ctx = ConnectContext(tenants.get_by_client_key(tenant["clientKey"]), ADMIN, "request", {})
        token = mint_context_token(ctx)
    resp = client.get(API, headers={"Authorization": f"JWT {token}"})
    assert resp.status_code == 200
    assert resp.get_json()["accountId"] == ADMIN
    # Jira's own AP.context.getToken() tokens are accepted too.
    jira_ctx = hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET", url="", base_url=BASE,
                           sub=ADMIN, qsh="context-qsh")
    assert client.get(API, headers={"Authorization": f"JWT {jira_ctx}"}).status_code == 200


def _bad_page_tokens(tenant):
    now = int(time.time())
    claims = {"iss": tenant["clientKey"], "iat": now, "exp": now + 60, "sub": ADMIN,
              "qsh": jwt.decode(page_token(tenant), options={"verify_signature": False})["qsh"]}
    good = page_token(tenant)
    head, body, sig = good.split(".")
    return {
        "wrong qsh": page_token(tenant, path="/admin/other"),
        "expired": page_token(tenant, now=now - 3600),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "HS512": jwt.encode(claims, tenant["sharedSecret"], algorithm="HS512"),
        "unknown clientKey": jwt.encode(dict(claims, iss="not-installed"), tenant["sharedSecret"],
                                        algorithm="HS256"),
        "tampered signature": f"{head}.{body}.{sig[:-4]}AAAA",
        "tampered claims": jwt.encode(dict(claims, sub="attacker"), "guessed-secret-of-sufficient-length!",
                                      algorithm="HS256"),
        "context token on a page": hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET",
                                               url="", base_url=BASE, sub=ADMIN, qsh="context-qsh"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, tenant["sharedSecret"],
                             algorithm="HS256"),
        "garbage": "abc.def",
    }


@pytest.mark.filterwarnings("ignore:The HMAC key")
@pytest.mark.parametrize("case", ["wrong qsh", "expired", "alg none", "HS512", "unknown clientKey",
                                  "tampered signature", "tampered claims", "context token on a page", "no exp",
                                  "garbage"])
def test_bad_page_token_is_401(client, tenant, case) -> None:
    token = _bad_page_tokens(tenant)[case]
    resp = client.get(f"{PAGE}?jwt={token}", headers={"Accept": "text/html"})
    assert resp.status_code == 401
    assert b"couldn't open this page" in resp.data


def test_no_token_is_401(client, tenant) -> None:
    assert client.get(PAGE).status_code == 401


def test_request_bound_token_is_refused_on_browser_endpoint(client, tenant) -> None:
    """The reverse trap: a page-load JWT (real qsh) is not a context token."""
    token = page_token(tenant, path=API)
    assert client.get(API, headers={"Authorization": f"JWT {token}"}).status_code == 401


def test_non_admin_is_403_and_admin_answer_is_cached(client, tenant, jira) -> None:
    resp = client.get(f"{PAGE}?jwt={page_token(tenant, sub='someone-else')}")
    assert resp.status_code == 403
    for _ in range(3):
        assert client.get(f"{PAGE}?jwt={page_token(tenant)}").status_code == 200
    checks = [r for r in jira.received if r.path == PERM]
    assert len(checks) == 2  # one per user; the admin's answer was cached
    assert all(r.auth_error is None for r in checks)  # our calls to Jira verified independently
    assert checks[-1].body == {"accountId": ADMIN, "globalPermissions": ["ADMINISTER"]}


def test_page_without_user_is_403(client, tenant) -> None:
    token = hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET", url=BASE + PAGE,
                        base_url=BASE)
    assert client.get(f"{PAGE}?jwt={token}").status_code == 403


def test_admin_check_failing_refuses(client, tenant, jira) -> None:
    jira.on("POST", PERM, (500, {"errorMessages": ["boom"]}))
    resp = client.get(f"{PAGE}?jwt={page_token(tenant)}")
    assert resp.status_code == 403
    assert b"Could not confirm" in resp.data


def test_uninstalled_tenant_tokens_are_refused(app, client, tenant) -> None:
    from app import tenants
    from app.connect import installs

    with app.app_context():
        installs.mark_uninstalled(tenants.get_by_client_key(tenant["clientKey"]))
    assert client.get(f"{PAGE}?jwt={page_token(tenant)}").status_code == 401


# -- a disabled app (issue #21, finding 6) ---------------------------------------------------------------------

DISABLED_WORDS = "The app is disabled on this site; an admin can enable it in Manage apps"


def _set_enabled(app, tenant, enabled: bool) -> None:
    from app import tenants

    with app.app_context():
        tenants.set_enabled(tenants.get_by_client_key(tenant["clientKey"]), enabled)


def _context_token(app, tenant, **claims):
    """A context token as our pages carry it (signed with the tenant's secret, qsh ``context-qsh``)."""
    claims.setdefault("sub", ADMIN)
    return hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET", url="", base_url=BASE,
                       qsh="context-qsh", **claims)


def test_disabled_app_refuses_its_page_and_browser_calls_until_enabled(app, client, tenant, jira) -> None:
    """Can a site whose admin disabled the app still open its page, fetch a token or start a backup?"""
    from sqlalchemy import select

    from app.extensions import db
    from app.jobs.models import Job

    _set_enabled(app, tenant, False)
    page = client.get(f"{PAGE}?jwt={page_token(tenant)}", headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert DISABLED_WORDS in page.get_data(as_text=True)
    api = client.get(API, headers={"Authorization": f"JWT {_context_token(app, tenant)}"})
    assert api.status_code == 403 and api.get_json()["error"].startswith(DISABLED_WORDS)
    start = client.post("/admin/backups/start", data={"jwt": _context_token(app, tenant)})
    assert start.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(Job)).all() == []
    assert not [r for r in jira.received if r.path == PERM]  # refused before asking Jira anything

    _set_enabled(app, tenant, True)
    assert client.get(f"{PAGE}?jwt={page_token(tenant)}").status_code == 200
    assert client.get(API, headers={"Authorization": f"JWT {_context_token(app, tenant)}"}).status_code == 200


def test_disabled_app_still_takes_its_lifecycle_events(app, client, tenant) -> None:
    """Does the signed 'enabled' event still reach a disabled app (the way back)?"""
    from app import tenants

    _set_enabled(app, tenant, False)
    url = app.config["BASE_URL"] + "/enabled"
    token = hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="POST", url=url,
                        base_url=app.config["BASE_URL"])
    resp = client.post("/enabled", json=dict(tenant, eventType="enabled"), headers={"Authorization": f"JWT {token}"})
    assert resp.status_code == 204
    with app.app_context():
        assert tenants.get_by_client_key(tenant["clientKey"]).enabled is True


def test_disabled_app_gets_no_new_backup_on_demand_or_scheduled(app, tenant) -> None:
    """Does anything still start a backup of a disabled site (service call, schedule tick)?"""
    from datetime import timedelta

    from sqlalchemy import select

    from app import tenants
    from app.backups import schedule, service
    from app.clock import utcnow
    from app.connect.auth import AppDisabledError
    from app.extensions import db
    from app.jobs.models import Job

    _set_enabled(app, tenant, False)
    with app.app_context():
        row = tenants.get_by_client_key(tenant["clientKey"])
        with pytest.raises(AppDisabledError):
            service.start_backup(row, ADMIN)
        due = schedule.schedule_for(row).next_run_at
        assert schedule.enqueue_due_backups(due + timedelta(minutes=1)) == []
        assert db.session.scalars(select(Job)).all() == []
        tenants.set_enabled(row, True)  # re-enabled: its next slot backs it up again
        assert schedule.enqueue_due_backups(utcnow() + timedelta(days=2)) == [row.id]


# -- context tokens: an absolute session lifetime (issue #21, finding 6) ---------------------------------------

def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_re_minted_context_tokens_keep_the_page_load_time(app, client, tenant) -> None:
    """Does a chain of context tokens (page → redirect → page …) remember when the page was opened?"""
    opened = int(time.time()) - 600
    first = client.get(API, headers={
        "Authorization": f"JWT {_context_token(app, tenant, now=opened, lifetime=900)}"})
    assert first.status_code == 200
    second_token = first.get_json()["contextToken"]
    assert _claims(second_token)["sess"] == opened
    second = client.get(API, headers={"Authorization": f"JWT {second_token}"})
    assert _claims(second.get_json()["contextToken"])["sess"] == opened


def test_page_load_starts_a_new_session(app, client, tenant) -> None:
    """Is the session's start the Jira-signed page load, not some earlier time?"""
    from app import tenants
    from app.connect.auth import ConnectContext, mint_context_token

    loaded = int(time.time()) - 5
    with app.app_context():
        ctx = ConnectContext(tenants.get_by_client_key(tenant["clientKey"]), ADMIN, "request",
                             {"iat": loaded, "iss": tenant["clientKey"]})
        assert _claims(mint_context_token(ctx))["sess"] == loaded


def test_context_token_past_the_session_lifetime_is_401(app, client, tenant) -> None:
    """Can a page kept open (its token re-minted every few minutes) stay signed in forever?"""
    app.config["CONTEXT_SESSION_MAX_SECONDS"] = 3600
    now = int(time.time())
    fresh_but_old_session = _context_token(app, tenant, now=now - 60, sess=now - 3700)
    resp = client.get(API, headers={"Authorization": f"JWT {fresh_but_old_session}", "Accept": "text/html"})
    assert resp.status_code == 401
    assert "Your session on this page has expired; reopen it from Jira" in resp.get_data(as_text=True)
    # A Jira context token (no sess) counts from its own iat; a form post is refused the same way.
    assert client.post("/admin/backups/start",
                       data={"jwt": _context_token(app, tenant, sess=now - 3700)}).status_code == 401
    assert client.get(API, headers={
        "Authorization": f"JWT {_context_token(app, tenant, now=now - 60, sess=now - 3000)}"}).status_code == 200


@pytest.mark.parametrize("sess", ["yesterday", True, None, 10**12])
def test_malformed_or_future_session_is_401(app, client, tenant, sess) -> None:
    """A token whose sess isn't a past time is refused with words, not a 500."""
    token = _context_token(app, tenant, sess=sess)
    resp = client.get(API, headers={"Authorization": f"JWT {token}"})
    assert resp.status_code == 401
    assert "sess" in resp.get_json()["error"] or "session" in resp.get_json()["error"]


def test_a_backup_queued_before_the_app_was_disabled_does_not_run(app, tenant) -> None:
    """A backup already in the queue when the admin disables the app ends failed, saying why, and reads nothing."""
    from app import tenants
    from app.backups.models import Snapshot
    from app.extensions import db
    from app.jobs.models import Job
    from app.jobs.runtime import enqueue, run_job

    with app.app_context():
        row = tenants.get_by_client_key(tenant["clientKey"])
        job, _ = enqueue(row.id, "backup", {}, dispatch=False)
        job_id = job.id
    _set_enabled(app, tenant, False)
    with app.app_context():
        assert run_job(job_id) == "failed"
        assert "disabled" in db.session.get(Job, job_id).message
        assert db.session.query(Snapshot).count() == 0
