"""Can anyone but Jira install, reinstall or uninstall the app? Only a correctly signed install may change anything."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import func, select

from app import tenants
from app.extensions import db
from app.tenants import Tenant
from tests.support.connect_jira import InstallKey, hs256_token, install_body, signed_install_token


def tenant_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Tenant))


def test_signed_install_stores_tenant_with_encrypted_secret(app, install) -> None:
    resp, body = install()
    assert resp.status_code == 204
    with app.app_context():
        tenant = tenants.get_by_client_key(body["clientKey"])
        assert tenant is not None and tenant.base_url == body["baseUrl"]
        assert tenant.shared_secret == body["sharedSecret"]
        assert body["sharedSecret"] not in tenant.shared_secret_enc
        assert "sharedSecret" not in tenant.payload
        assert tenant.payload["cloudId"] == body["cloudId"]


def test_reinstall_rotates_secret_and_follows_rename(app, install) -> None:
    _, first = install()
    resp, second = install(client_key=first["clientKey"], base_url="https://renamed.atlassian.net")
    assert resp.status_code == 204
    with app.app_context():
        tenant = tenants.get_by_client_key(first["clientKey"])
        assert tenant.shared_secret == second["sharedSecret"] != first["sharedSecret"]
        assert tenant.base_url == "https://renamed.atlassian.net"
        assert [u.base_url for u in tenant.base_urls] == [first["baseUrl"], "https://renamed.atlassian.net"]
    assert tenant_count(app) == 1


def _post(app, body, token, path="/installed"):
    headers = {"Authorization": f"JWT {token}"} if token is not None else {}
    return app.test_client().post(path, json=body, headers=headers)


BASE = "https://dr-app.example.test"


def _bad_tokens(key: InstallKey, other: InstallKey, client_key: str, secret: str) -> dict[str, str | None]:
    now = int(time.time())
    return {
        "unsigned": None,
        "alg none": jwt.encode({"iss": client_key, "aud": BASE, "iat": now, "exp": now + 60, "qsh": "x"}, None,
                               algorithm="none"),
        "HS256 with the new secret": jwt.encode({"iss": client_key, "aud": BASE, "iat": now, "exp": now + 60,
                                                 "qsh": "x"}, secret, algorithm="HS256"),
        "unknown kid": signed_install_token(other, client_key=client_key, app_base_url=BASE),
        "right kid, other key": signed_install_token(other, client_key=client_key, app_base_url=BASE, kid=key.kid),
        "wrong aud": signed_install_token(key, client_key=client_key, app_base_url="https://evil.example"),
        "no aud": signed_install_token(key, client_key=client_key, app_base_url=BASE, aud=None),
        "wrong qsh": signed_install_token(key, client_key=client_key, app_base_url=BASE, path="/uninstalled"),
        "context qsh": signed_install_token(key, client_key=client_key, app_base_url=BASE, qsh="context-qsh"),
        "expired": signed_install_token(key, client_key=client_key, app_base_url=BASE, now=now - 3600),
        "iss is not clientKey": signed_install_token(key, client_key="someone-else", app_base_url=BASE),
        "path traversal kid": signed_install_token(key, client_key=client_key, app_base_url=BASE,
                                                   kid="../../etc/passwd"),
        "kid with query": signed_install_token(key, client_key=client_key, app_base_url=BASE, kid="a?b=c"),
        "empty kid": signed_install_token(key, client_key=client_key, app_base_url=BASE, kid=""),
        "not a jwt": "definitely.not.a-jwt",
    }


BAD_CASES = ["unsigned", "alg none", "HS256 with the new secret", "unknown kid", "right kid, other key", "wrong aud",
             "no aud", "wrong qsh", "context qsh", "expired", "iss is not clientKey", "path traversal kid",
             "kid with query", "empty kid", "not a jwt"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_forged_install_is_refused_and_stores_nothing(app, keys, install_key, case) -> None:
    body = install_body(app.config["APP_KEY"])
    token = _bad_tokens(install_key, InstallKey(), body["clientKey"], body["sharedSecret"])[case]
    resp = _post(app, body, token)
    assert resp.status_code == 401, resp.get_json()
    assert resp.get_json()["error"]
    assert body["sharedSecret"] not in resp.get_data(as_text=True)
    assert tenant_count(app) == 0


def test_traversal_kid_never_reaches_key_server(app, keys, install_key) -> None:
    body = install_body(app.config["APP_KEY"])
    _post(app, body, signed_install_token(install_key, client_key=body["clientKey"], app_base_url=BASE,
                                          kid="../admin"))
    assert keys.requests == []


def test_forged_reinstall_does_not_replace_the_secret(app, install, install_key) -> None:
    _, body = install()
    attacker = install_body(app.config["APP_KEY"], client_key=body["clientKey"], base_url="https://evil.example")
    token = signed_install_token(InstallKey(), client_key=body["clientKey"], app_base_url=BASE)
    assert _post(app, attacker, token).status_code == 401
    with app.app_context():
        tenant = tenants.get_by_client_key(body["clientKey"])
        assert tenant.shared_secret == body["sharedSecret"] and tenant.base_url == body["baseUrl"]


@pytest.mark.parametrize(("mode", "status"), [("garbage", 503), ("error", 503)])
def test_key_server_misbehaving_is_a_clear_refusal(app, keys, install_key, mode, status) -> None:
    keys.mode = mode
    body = install_body(app.config["APP_KEY"])
    resp = _post(app, body, signed_install_token(install_key, client_key=body["clientKey"], app_base_url=BASE))
    assert resp.status_code == status
    assert "key server" in resp.get_json()["error"]
    assert tenant_count(app) == 0


def test_key_server_down_is_503(app_config, install_key) -> None:
    from app import create_app

    app_config["CONNECT_INSTALL_KEYS_URL"] = "http://127.0.0.1:9"  # discard port: connection refused
    application = create_app(app_config)
    with application.app_context():
        db.create_all()
    body = install_body(application.config["APP_KEY"])
    resp = _post(application, body, signed_install_token(install_key, client_key=body["clientKey"],
                                                         app_base_url=BASE))
    assert resp.status_code == 503
    with application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tenant)) == 0
        db.session.remove()  # end the read transaction, or PostgreSQL's DROP waits on its lock
        db.drop_all()


def test_key_is_fetched_once_per_kid(app, install, keys) -> None:
    install()
    install()
    assert len(keys.requests) == 1


@pytest.mark.parametrize("mutate", [
    lambda b: b.update(key="some.other.app"),
    lambda b: b.pop("sharedSecret"),
    lambda b: b.update(baseUrl="javascript:alert(1)"),
])
def test_malformed_install_body_is_400(app, keys, install_key, mutate) -> None:
    body = install_body(app.config["APP_KEY"])
    mutate(body)
    resp = _post(app, body, signed_install_token(install_key, client_key=body["clientKey"], app_base_url=BASE))
    assert resp.status_code == 400
    assert tenant_count(app) == 0


def test_a_connect_install_cannot_take_over_a_forge_sites_tenant(app, keys, install_key) -> None:
    """Forge tenants' keys start with ``forge:``; a Connect install naming one is refused and changes nothing."""
    from app.forge.installations import tenant_key

    key = tenant_key("cloud-1", "env-1")
    with app.app_context():
        db.session.add(Tenant(client_key=key, door="forge", base_url="https://site.example", shared_secret_enc=None))
        db.session.commit()
    body = install_body(app.config["APP_KEY"], client_key=key, base_url="https://evil.example")
    resp = _post(app, body, signed_install_token(install_key, client_key=key, app_base_url=BASE))
    assert resp.status_code == 400 and b"forge:" in resp.data
    with app.app_context():
        tenant = tenants.get_by_client_key(key)
        assert tenant.door == "forge" and tenant.base_url == "https://site.example"
        assert tenant.shared_secret_enc is None


def test_uninstall_keeps_data_and_flags_tenant(app, install, install_key, lifecycle_clock) -> None:
    _, body = install()
    token = signed_install_token(install_key, client_key=body["clientKey"], app_base_url=BASE, path="/uninstalled",
                                 now=lifecycle_clock())
    resp = _post(app, dict(body, eventType="uninstalled"), token, path="/uninstalled")
    assert resp.status_code == 204
    with app.app_context():
        tenant = tenants.get_by_client_key(body["clientKey"])
        assert tenant is not None and tenant.uninstalled_at is not None and not tenant.enabled
        # Kept for the retention period, purged after it.
        assert tenants.purge_uninstalled(30) == []
        later = tenant.uninstalled_at + timedelta(days=31)
        assert tenants.purge_uninstalled(30, now=later) == [body["clientKey"]]


def test_unsigned_uninstall_is_refused(app, install) -> None:
    _, body = install()
    assert _post(app, body, None, path="/uninstalled").status_code == 401
    with app.app_context():
        assert tenants.get_by_client_key(body["clientKey"]).uninstalled_at is None


@pytest.mark.parametrize("event", ["enabled", "disabled"])
def test_enabled_disabled_need_the_shared_secret(app, install, event) -> None:
    _, body = install()
    url = f"{BASE}/{event}"
    good = hs256_token(body["sharedSecret"], iss=body["clientKey"], method="POST", url=url, base_url=BASE)
    forged = hs256_token("not-the-secret-but-long-enough-for-hs256", iss=body["clientKey"], method="POST", url=url,
                         base_url=BASE)
    assert _post(app, body, forged, path=f"/{event}").status_code == 401
    assert _post(app, body, good, path=f"/{event}").status_code == 204
    with app.app_context():
        assert tenants.get_by_client_key(body["clientKey"]).enabled is (event == "enabled")
