"""Can a genuine signed install or uninstall, captured and sent again, take over or drop a tenant? (issue #21, 1)

Every token here is a real RS256 install token from the fixtures' key; the replayer holds one but can't sign.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app import tenants
from app.admin_check import AdminCache
from app.connect import installs
from app.extensions import db
from tests.support.connect_jira import hs256_token, install_body, signed_install_token
from tests.support.jira_stub import JiraStub, jira_stub

PAGE = "/admin/recovery"
ADMIN = "5b10a2844c20165700ede21g"
PERM = "/rest/api/3/permissions/check"
USED = "This install token was already used"
OLDER = "older than the last accepted lifecycle event"


def _answer_admin(stub: JiraStub, admins: set[str] | None) -> None:
    """The stub says who holds ADMINISTER; ``None``: everyone (a replayer's own server)."""
    stub.on("POST", PERM, (200, lambda req: {
        "globalPermissions": ["ADMINISTER"] if admins is None or req.get_json()["accountId"] in admins else [],
        "projectPermissions": []}))


@pytest.fixture
def jira():
    with jira_stub() as stub:
        _answer_admin(stub, {ADMIN})
        yield stub


@pytest.fixture
def evil():
    with jira_stub() as stub:
        _answer_admin(stub, None)
        yield stub


@pytest.fixture
def sign(app, install_key):
    """A genuine RS256 lifecycle token for ``client_key`` issued at ``iat``."""

    def do(client_key: str, iat: int, path: str = "/installed", **claims: Any) -> str:
        return signed_install_token(install_key, client_key=client_key, app_base_url=app.config["BASE_URL"],
                                    path=path, now=iat, **claims)

    return do


def post(app, body: dict[str, Any], token: str, path: str = "/installed"):
    return app.test_client().post(path, json=body, headers={"Authorization": f"JWT {token}"})


def snapshot(app, client_key: str) -> dict[str, Any]:
    """Everything a lifecycle event may change about the tenant."""
    with app.app_context():
        t = tenants.get_by_client_key(client_key)
        assert t is not None
        return {"secret": t.shared_secret, "base_url": t.base_url, "urls": [u.base_url for u in t.base_urls],
                "installed": t.is_installed, "enabled": t.enabled, "updated_at": t.updated_at,
                "payload": t.payload_json, "stamp": installs.last_lifecycle_stamp(t)}


def page_status(app, body: dict[str, Any], secret: str) -> int:
    """Open the admin page as ADMIN with a page token signed with ``secret`` (as Jira's iframe load would)."""
    url = app.config["BASE_URL"] + PAGE
    token = hs256_token(secret, iss=body["clientKey"], method="GET", url=url, base_url=app.config["BASE_URL"],
                        sub=ADMIN)
    return app.test_client().get(f"{PAGE}?jwt={token}").status_code


@pytest.fixture
def installed(app, keys, jira, sign):
    """A tenant installed by a genuine token at ``iat`` = now - 60: (body, token, iat)."""
    iat = int(time.time()) - 60
    body = install_body(app.config["APP_KEY"], base_url=jira.base_url)
    jira.secrets[app.config["APP_KEY"]] = body["sharedSecret"]
    token = sign(body["clientKey"], iat)
    assert post(app, body, token).status_code == 204
    return body, token, iat


def test_a_replayed_install_token_with_another_secret_and_site_is_refused(app, installed, jira, evil, caplog) -> None:
    """The attack of #21: the same genuine token, re-sent within its lifetime with the replayer's sharedSecret and
    baseUrl. Refused; the tenant keeps its secret, site and admin check, and the replayer's secret opens nothing."""
    body, token, _ = installed
    before = snapshot(app, body["clientKey"])
    hostile = install_body(app.config["APP_KEY"], client_key=body["clientKey"], base_url=evil.base_url)
    with caplog.at_level(logging.WARNING, logger="app.connect.lifecycle"):
        resp = post(app, hostile, token)
    assert resp.status_code == 401
    assert USED in resp.get_json()["error"]
    assert snapshot(app, body["clientKey"]) == before
    assert "refused installed" in caplog.text and body["clientKey"] in caplog.text
    for secret in (hostile["sharedSecret"], body["sharedSecret"], token):
        assert secret not in caplog.text and secret not in resp.get_data(as_text=True)
    # The original secret still opens the page (the admin check goes to the real site), the replayer's doesn't.
    assert page_status(app, body, body["sharedSecret"]) == 200
    assert page_status(app, body, hostile["sharedSecret"]) == 401
    assert [r.path for r in jira.received] == [PERM] and evil.received == []


def test_an_exact_retry_answers_204_and_changes_nothing(app, installed) -> None:
    """Jira retries a callback whose answer got lost: same token, same body. Idempotent, not a replay."""
    body, token, _ = installed
    before = snapshot(app, body["clientKey"])
    assert post(app, body, token).status_code == 204
    assert snapshot(app, body["clientKey"]) == before


def test_a_resigned_retry_in_the_same_second_answers_204_and_changes_nothing(app, installed, sign) -> None:
    """A retry re-signed within the same second carries the same body: it changes nothing, so it's no replay."""
    body, token, iat = installed
    before = snapshot(app, body["clientKey"])
    again = sign(body["clientKey"], iat, jti="retry-1")  # RS256 is deterministic: another claim, another token
    assert again != token
    assert post(app, body, again).status_code == 204
    assert snapshot(app, body["clientKey"]) == before


def test_another_token_of_the_same_second_with_another_body_is_refused(app, installed, sign, evil) -> None:
    """Not newer means refused: a second genuine token of the same second can't carry another body."""
    body, _, iat = installed
    before = snapshot(app, body["clientKey"])
    hostile = install_body(app.config["APP_KEY"], client_key=body["clientKey"], base_url=evil.base_url)
    resp = post(app, hostile, sign(body["clientKey"], iat, jti="other-event"))
    assert resp.status_code == 401 and OLDER in resp.get_json()["error"]
    assert snapshot(app, body["clientKey"]) == before


def test_a_newer_token_renames_the_site_and_keeps_the_old_url(app, installed, sign, caplog) -> None:
    """A site rename re-sends ``installed`` with a new baseUrl: accepted from a fresh token, old URL kept, logged."""
    body, _, iat = installed
    renamed = install_body(app.config["APP_KEY"], client_key=body["clientKey"], base_url="https://renamed.example")
    with caplog.at_level(logging.WARNING, logger="app.connect.lifecycle"):
        assert post(app, renamed, sign(body["clientKey"], iat + 1)).status_code == 204
    after = snapshot(app, body["clientKey"])
    assert (after["secret"], after["base_url"]) == (renamed["sharedSecret"], "https://renamed.example")
    assert after["urls"] == [body["baseUrl"].rstrip("/"), "https://renamed.example"]
    assert after["stamp"].iat == iat + 1
    rename = [r for r in caplog.records if "site rename" in r.getMessage()]
    assert len(rename) == 1 and rename[0].levelno == logging.WARNING
    assert "127.0.0.1 -> renamed.example" in rename[0].getMessage()
    assert renamed["sharedSecret"] not in caplog.text


def test_an_older_token_is_refused(app, installed, sign, evil) -> None:
    """A genuine token older than the last accepted event (captured before a reinstall) can't be played later."""
    body, _, iat = installed
    old = sign(body["clientKey"], iat - 5)
    before = snapshot(app, body["clientKey"])
    hostile = install_body(app.config["APP_KEY"], client_key=body["clientKey"], base_url=evil.base_url)
    resp = post(app, hostile, old)
    assert resp.status_code == 401 and OLDER in resp.get_json()["error"]
    assert snapshot(app, body["clientKey"]) == before


def test_a_replayed_uninstall_after_a_reinstall_is_refused(app, installed, sign) -> None:
    """Install, uninstall, reinstall; then the captured uninstall is sent again: the tenant stays installed."""
    body, _, iat = installed
    gone = dict(body, eventType="uninstalled")
    gone.pop("sharedSecret")
    uninstall = sign(body["clientKey"], iat + 1, path="/uninstalled")
    assert post(app, gone, uninstall, "/uninstalled").status_code == 204
    assert snapshot(app, body["clientKey"])["installed"] is False
    again = install_body(app.config["APP_KEY"], client_key=body["clientKey"], base_url=body["baseUrl"])
    assert post(app, again, sign(body["clientKey"], iat + 2)).status_code == 204
    before = snapshot(app, body["clientKey"])
    assert before["installed"] is True
    resp = post(app, gone, uninstall, "/uninstalled")
    assert resp.status_code == 401 and OLDER in resp.get_json()["error"]
    assert snapshot(app, body["clientKey"]) == before


def test_a_retried_uninstall_answers_204_and_changes_nothing(app, installed, sign) -> None:
    body, _, iat = installed
    gone = {k: v for k, v in body.items() if k != "sharedSecret"} | {"eventType": "uninstalled"}
    uninstall = sign(body["clientKey"], iat + 1, path="/uninstalled")
    assert post(app, gone, uninstall, "/uninstalled").status_code == 204
    before = snapshot(app, body["clientKey"])
    assert post(app, gone, uninstall, "/uninstalled").status_code == 204
    assert snapshot(app, body["clientKey"]) == before


def test_a_reinstall_drops_the_cached_admin_answers(app, installed, sign) -> None:
    """A cached 'is admin' answer must not outlive a changed secret or site."""
    body, _, iat = installed
    assert page_status(app, body, body["sharedSecret"]) == 200  # caches ADMIN's answer
    with app.app_context():
        cache: AdminCache = app.extensions["admin_cache"]
        assert cache.get((body["clientKey"], ADMIN)) is True
    renamed = install_body(app.config["APP_KEY"], client_key=body["clientKey"], base_url="https://renamed.example")
    assert post(app, renamed, sign(body["clientKey"], iat + 1)).status_code == 204
    assert cache.get((body["clientKey"], ADMIN)) is None


def test_a_refused_replay_keeps_the_cached_admin_answers(app, installed, evil) -> None:
    body, token, _ = installed
    assert page_status(app, body, body["sharedSecret"]) == 200
    hostile = install_body(app.config["APP_KEY"], client_key=body["clientKey"], base_url=evil.base_url)
    assert post(app, hostile, token).status_code == 401
    assert app.extensions["admin_cache"].get((body["clientKey"], ADMIN)) is True


def test_simultaneous_replays_of_a_first_install_leave_one_winner(app, keys, sign, live_app) -> None:
    """The same genuine token delivered eight times at once, each with another secret: one is kept, whole."""
    client_key = install_body(app.config["APP_KEY"])["clientKey"]
    token = sign(client_key, int(time.time()))
    bodies = [install_body(app.config["APP_KEY"], client_key=client_key, base_url=f"https://site{i}.example")
              for i in range(8)]
    statuses: dict[int, int] = {}
    start = threading.Barrier(len(bodies))

    def deliver(i: int) -> None:
        start.wait()
        statuses[i] = requests.post(live_app.config["BASE_URL"] + "/installed", json=bodies[i], timeout=30,
                                    headers={"Authorization": f"JWT {token}"}).status_code

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [i for i, status in statuses.items() if status == 204]
    assert len(winners) == 1 and sorted(statuses.values()) == [204] + [401] * (len(bodies) - 1), statuses
    after = snapshot(app, client_key)
    assert after["secret"] == bodies[winners[0]]["sharedSecret"]
    assert after["base_url"] == bodies[winners[0]]["baseUrl"] and len(after["urls"]) == 1
    with app.app_context():
        assert len(db.session.scalars(select(tenants.Tenant)).all()) == 1
