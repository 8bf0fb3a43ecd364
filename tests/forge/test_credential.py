"""The Forge credential: a Forge tenant reaches Jira only through its system token, whose scopes cover every
operation the app declares; a whole backup runs on it alone and matches a Connect (+ OAuth) backup of the same data."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
import requests
from flask import Flask, jsonify

from app.backups import service
from app.backups.snapshots import SnapshotReader
from app.clock import utcnow
from app.extensions import db
from app.forge.auth import forge_admin_required, forge_current, forge_invocation_required
from app.forge.scopes import forge_allows, forge_scopes
from app.forge.tokens import SYSTEM_HEADER, ForgeTokenUnavailable, store_from_request
from app.jira.errors import JiraError
from app.jira.operations import operation
from app.jobs.models import Job
from app.oauth.flow import requested_scopes
from app.oauth.models import OAuthGrant
from app.tenant_access import jira_access
from app.tenants import get_by_client_key
from fakejira import generator
from fakejira.cloud import Cloud
from fakejira.resources.basics import admin_account_id
from tests.forge.conftest import forge_tenant, run_jobs

STATUSES = operation("GET", "/rest/api/3/statuses/search")


def test_forge_scopes_cover_every_declared_operation(forge_app) -> None:
    """Backup and restore of every type (statuses, workflows, priorities included) can go through the Forge token."""
    with forge_app.app_context():
        ops = forge_app.extensions["wiring"].operations
        scopes = forge_scopes()
    assert list(scopes) == sorted(set(scopes)) and "manage:jira-configuration" in scopes
    assert [f"{op.method} {op.template}" for op in ops if not forge_allows(op)] == []
    assert {"/rest/api/3/statuses/search", "/rest/api/3/workflows/search", "/rest/api/3/priority/search"} <= {
        op.template for op in ops}


def test_a_forge_tenant_gets_the_forge_credential_only(forge_app, fake_cloud, forge_install) -> None:
    inst = forge_install(fake_cloud.add_site("acme"))
    with forge_app.app_context():
        access = jira_access(forge_tenant(forge_app, inst))
        assert [c.name for c in access.credentials] == ["forge"]
        assert access.credentials[0].client.base_url == inst.api_base_url
        assert access.can_call(STATUSES)
        assert access.call(STATUSES, params={"maxResults": 1})["values"]


def test_a_token_lacking_a_scope_is_a_jira_error_not_a_pause(forge_app, fake_cloud, forge_install) -> None:
    """The emulated gateway enforces the token's own scopes per operation; a refusal is reported, never waited on."""
    inst = forge_install(fake_cloud.add_site("acme"))
    narrow = fake_cloud.forge.system_token(inst, 5 * 3600, scopes=("read:jira-work",))
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, inst)
        assert store_from_request(tenant, {SYSTEM_HEADER: narrow})
        with pytest.raises(JiraError) as refused:
            jira_access(tenant).call(STATUSES)
    assert refused.value.status == 401 and not isinstance(refused.value, ForgeTokenUnavailable)
    assert "scope does not match" in refused.value.describe()


def test_without_any_usable_token_calls_pause(forge_app, fake_cloud, forge_install) -> None:
    inst = forge_install(fake_cloud.add_site("acme"))
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, inst)
        db.session.execute(db.text("UPDATE forge_tokens SET expires_at = :t"), {"t": utcnow() - timedelta(1)})
        db.session.commit()
        with pytest.raises(ForgeTokenUnavailable):
            jira_access(tenant).call(STATUSES)
    assert [r.template for r in inst.site.calls.records] == ["/rest/api/3/serverInfo"]  # nothing sent


def test_a_connect_jwt_naming_a_forge_tenant_is_401_not_500(forge_app, fake_cloud, forge_install) -> None:
    """A Forge tenant has no shared secret: Connect's page auth must refuse, not crash."""
    inst = forge_install(fake_cloud.add_site("acme"))
    with forge_app.app_context():
        key = forge_tenant(forge_app, inst).client_key
    now = int(time.time())
    token = jwt.encode({"iss": key, "iat": now, "exp": now + 60, "qsh": "context-qsh", "sub": "someone"},
                       "guessed-secret-guessed-secret-32b", algorithm="HS256")
    response = requests.get(forge_app.config["BASE_URL"] + "/admin/api/session", params={"jwt": token},
                            headers={"Accept": "application/json"}, timeout=10)
    assert response.status_code == 401


# -- the admin check ------------------------------------------------------------------------------------------
@pytest.fixture
def admin_probe(forge_app: Flask) -> str:
    """A route behind both decorators (added before the app's first request)."""

    @forge_invocation_required
    @forge_admin_required
    def probe() -> Any:
        return jsonify(account=forge_current().account_id)

    forge_app.add_url_rule("/forge/test-admin-probe", "forge_test_admin_probe", probe, methods=["POST"])
    return "/forge/test-admin-probe"


def test_only_jira_administrators_pass_forge_admin_required(forge_app, fake_cloud, invoker, forge_install,
                                                             admin_probe) -> None:
    site = fake_cloud.add_site("acme")
    inst = forge_install(site)
    admin = admin_account_id(site)
    member = "557058:member"
    site.store.put("users", member, {**site.store.get("users", admin), "accountId": member,
                                     "displayName": "Member"})
    assert invoker.invoke_remote(inst, admin_probe, "POST", {}, principal=admin) == (200, {"account": admin})
    status, body = invoker.invoke_remote(inst, admin_probe, "POST", {}, principal=member)
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = invoker.invoke_remote(inst, admin_probe, "POST", {})
    assert status == 403 and "names no user" in body["error"]["message"]
    checks = len(site.calls.find(template="/rest/api/3/permissions/check"))
    invoker.invoke_remote(inst, admin_probe, "POST", {}, principal=admin)
    assert len(site.calls.find(template="/rest/api/3/permissions/check")) == checks  # cached for 60 s
    assert {r.auth_kind for r in site.calls.records} == {"forge"}


# -- a whole backup through the Forge credential only ----------------------------------------------------------
def _contents(snapshot_id: int, site_name: str) -> dict[str, Any]:
    """Per type: status, count and natural keys (the site's own name, which Jira puts in a group, made neutral)."""
    reader = SnapshotReader(snapshot_id)
    return {s.type_key: (s.status, s.count, sorted(e.natural_key.replace(site_name, "SITE")
                                                   for e in reader.entries(s.type_key)))
            for s in reader.type_summaries()}


def _backup(app: Flask, client_key: str) -> int:
    with app.app_context():
        job, _ = service.start_backup(get_by_client_key(client_key), "admin")
        job_id = job.id
    assert run_jobs(app) == ["succeeded"]
    with app.app_context():
        return db.session.get(Job, job_id).result["snapshot_id"]


def _grant_oauth(app: Flask, cloud: Cloud, site: Any, client_key: str) -> None:
    """Give the Connect tenant an active OAuth grant, as an administrator's consent would."""
    client = cloud.oauth.register_client([app.config["BASE_URL"] + "/oauth/callback"])
    app.config.update(ATLASSIAN_OAUTH_CLIENT_ID=client.client_id, ATLASSIAN_OAUTH_CLIENT_SECRET=client.secret,
                      ATLASSIAN_AUTH_URL=cloud.platform_url)
    with app.app_context():
        scopes = requested_scopes()
        tokens = cloud.oauth.issue_tokens(client.client_id, admin_account_id(site), [site], scopes)
        grant = OAuthGrant(tenant_id=get_by_client_key(client_key).id, cloud_id=site.cloud_id, site_url=site.base_url,
                           account_id=admin_account_id(site), scopes=" ".join(scopes))
        grant.set_tokens(tokens["access_token"], tokens.get("refresh_token"), utcnow() + timedelta(hours=1))
        db.session.add(grant)
        db.session.commit()


def test_a_forge_backup_uses_only_forge_and_matches_a_connect_backup(forge_app, fake_cloud, forge_install,
                                                                     install_into) -> None:
    """Same data on two sites, one per door: same snapshot contents, and not one Connect JWT on the Forge site."""
    seed = generator.generate_preset("small", site_name="same-data")
    forge_site, connect_site = fake_cloud.add_site("forge-door", seed), fake_cloud.add_site("connect-door", seed)
    inst = forge_install(forge_site)
    connect_key = install_into(connect_site)
    _grant_oauth(forge_app, fake_cloud, connect_site, connect_key)
    with forge_app.app_context():
        forge_key = forge_tenant(forge_app, inst).client_key
    forge_snapshot = _backup(forge_app, forge_key)
    connect_snapshot = _backup(forge_app, connect_key)
    with forge_app.app_context():
        via_forge, via_connect = _contents(forge_snapshot, "forge-door"), _contents(connect_snapshot, "connect-door")
    assert via_forge == via_connect
    assert all(status == "complete" for status, _count, _keys in via_forge.values())
    assert all(via_forge[key][1] > 0 for key in ("statuses", "workflows", "priorities", "projects", "boards"))
    kinds = {r.auth_kind for r in forge_site.calls.records}
    assert kinds == {"forge"} and all(r.status < 400 for r in forge_site.calls.records)
    assert "connect" in {r.auth_kind for r in connect_site.calls.records}
