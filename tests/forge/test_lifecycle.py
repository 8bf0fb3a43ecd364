"""Forge lifecycle: installed/upgraded (wrapped or bare), retries, reinstall, pre-uninstall, and the hourly trigger."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from app.backups.schedule import BackupSchedule, schedule_for
from app.clock import utcnow
from app.extensions import db
from app.forge.installations import ForgeInstallation
from app.forge.lifecycle import SITE_INFO_KIND
from app.forge.tokens import ForgeToken, current_system_token
from app.jobs.models import Job
from app.tenants import Tenant
from fakejira.cloud import Cloud
from tests.forge.conftest import forge_tenant, run_jobs


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Tenant)),
                db.session.scalar(select(func.count()).select_from(ForgeInstallation)))


@pytest.mark.parametrize("wrapped", [True, False], ids=["wrapped", "bare"])
@pytest.mark.parametrize("event", ["avi:forge:installed:app", "avi:forge:upgraded:app"])
def test_installed_and_upgraded_create_the_tenant_fast_and_read_jira_in_a_job(
        forge_app, fake_cloud, invoker, event, wrapped) -> None:
    """Does an install event answer within Forge's 5 s (well under 1 s) without calling Jira, and the job then
    record the site URL?"""
    site = fake_cloud.add_site("acme")
    inst = fake_cloud.forge.install(site)
    attempts = invoker.lifecycle(inst, event=event, wrapped=wrapped)
    assert [a.status for a in attempts] == [200]
    assert attempts[0].elapsed < 1.0
    assert attempts[0].body["status"] == "ok"
    assert site.calls.records == []  # nothing asked of Jira during the request
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, inst)
        assert (tenant.door, tenant.cloud_id, tenant.is_installed, tenant.shared_secret_enc) == (
            "forge", site.cloud_id, True, None)
        assert tenant.client_key == f"forge:{site.cloud_id}:{inst.environment_id}"
        installation = db.session.scalars(select(ForgeInstallation)).one()
        assert (installation.installation_id, installation.api_base_url, installation.environment_type) == (
            inst.installation_id, inst.api_base_url, "PRODUCTION")
        job = db.session.scalars(select(Job)).one()
        assert job.kind == SITE_INFO_KIND
    assert run_jobs(forge_app) == ["succeeded"]
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, inst)
        assert tenant.base_url == site.base_url
        assert [u.base_url for u in tenant.base_urls] == [site.base_url]
    assert [(r.template, r.auth_kind, r.status) for r in site.calls.records] == [
        ("/rest/api/3/serverInfo", "forge", 200)]


def test_four_retries_of_one_event_make_one_installation_and_one_tenant(forge_app, fake_cloud) -> None:
    """Forge lost our first four answers and delivered the event five times: is there still one of everything?"""
    inst = fake_cloud.forge.install(fake_cloud.add_site("acme"))
    attempts = fake_cloud.forge.invoker(forge_app.config["BASE_URL"], drop_responses=4).lifecycle(inst)
    assert [a.status for a in attempts] == [None, None, None, None, 200]
    assert counts(forge_app) == (1, 1)
    with forge_app.app_context():  # one site-URL job, not five
        assert db.session.scalar(select(func.count()).select_from(Job)) == 1


def test_concurrent_deliveries_of_one_event_make_one_tenant(forge_app, fake_cloud, invoker) -> None:
    """Retries can overlap a slow first attempt: do simultaneous deliveries race into duplicates?"""
    inst = fake_cloud.forge.install(fake_cloud.add_site("acme"))
    results: list[list] = []
    threads = [threading.Thread(target=lambda: results.append(invoker.lifecycle(inst))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r[-1].status for r in results) == [200] * 5
    assert counts(forge_app) == (1, 1)


def test_a_reinstall_gets_a_new_installation_on_the_same_tenant(forge_app, fake_cloud, invoker,
                                                               forge_install) -> None:
    """Do backups and schedules survive an uninstall + reinstall, as they do with Connect's stable clientKey?"""
    site = fake_cloud.add_site("acme")
    first = forge_install(site)
    with forge_app.app_context():
        tenant_id = forge_tenant(forge_app, first).id
        schedule_for(forge_tenant(forge_app, first))
    assert [a.status for a in invoker.pre_uninstall(first)] == [200]
    fake_cloud.forge.uninstall(first)
    second = forge_install(site)
    assert second.installation_id != first.installation_id
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, second)
        assert tenant.id == tenant_id and tenant.is_installed
        rows = {i.installation_id: i.is_installed for i in db.session.scalars(select(ForgeInstallation))}
        assert rows == {first.installation_id: False, second.installation_id: True}
        assert db.session.get(BackupSchedule, tenant_id) is not None
    assert counts(forge_app) == (1, 2)


def test_another_environment_is_another_tenant(forge_app, fake_cloud, forge_install) -> None:
    site = fake_cloud.add_site("acme")
    production, staging = forge_install(site), forge_install(site, "staging")
    with forge_app.app_context():
        assert forge_tenant(forge_app, production).id != forge_tenant(forge_app, staging).id
        assert forge_tenant(forge_app, staging).base_url == site.base_url


def test_pre_uninstall_marks_uninstalled_keeps_data_and_is_idempotent(forge_app, fake_cloud, invoker,
                                                                       forge_install) -> None:
    """Pre-uninstall (there is no uninstalled event): the tenant is kept but uninstalled, its token dropped."""
    site = fake_cloud.add_site("acme")
    inst = forge_install(site)
    for _ in range(2):  # a retried pre-uninstall changes nothing more
        attempts = invoker.pre_uninstall(inst)
        assert [a.status for a in attempts] == [200]
        assert attempts[0].body["installed"] is False
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, inst)
        assert not tenant.is_installed and not tenant.enabled and tenant.uninstalled_at is not None
        assert tenant.base_url == site.base_url  # data kept
        assert db.session.scalars(select(ForgeInstallation)).one().uninstalled_at is not None
        assert db.session.scalar(select(func.count()).select_from(ForgeToken)) == 0
    # The uninstalled installation can't be used any more (its hourly trigger, say).
    attempts = invoker.scheduled(inst)
    assert attempts[0].status == 403
    assert attempts[0].body["error"]["code"] == "installation-uninstalled"


@pytest.mark.parametrize("body", [[1, 2], "text", {"payload": {"eventType": "avi:jira:created:issue"}}])
def test_unsupported_or_malformed_events_are_400_json(forge_app, fake_cloud, body) -> None:
    import json

    inst = fake_cloud.forge.install(fake_cloud.add_site("acme"))
    response = requests.post(forge_app.config["BASE_URL"] + "/forge/events/lifecycle", data=json.dumps(body),
                             headers={"Authorization": f"Bearer {fake_cloud.forge.mint_fit(inst)}",
                                      "Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"bad-event", "unsupported-event"}


def test_an_event_naming_another_installation_is_refused(forge_app, fake_cloud) -> None:
    import json

    inst = fake_cloud.forge.install(fake_cloud.add_site("acme"))
    body = {"payload": {"id": "ari:cloud:ecosystem::installation/other", "eventType": "avi:forge:installed:app"}}
    response = requests.post(forge_app.config["BASE_URL"] + "/forge/events/lifecycle", data=json.dumps(body),
                             headers={"Authorization": f"Bearer {fake_cloud.forge.mint_fit(inst)}",
                                      "Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400 and response.json()["error"]["code"] == "installation-mismatch"


def test_hourly_trigger_keeps_the_token_fresh_and_enqueues_a_due_backup_once(forge_app, fake_cloud, invoker,
                                                                            forge_install) -> None:
    """The scheduled trigger brings a fresher token and runs the tenant's schedule check (one backup per slot)."""
    inst = forge_install(fake_cloud.add_site("acme"))
    fake_cloud.forge.token_lifetime = (4 * 3600, 4 * 3600)  # later than the install's (2-4 h) token
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, inst)
        before = db.session.scalars(select(ForgeToken)).one().expires_at
        schedule = schedule_for(tenant)
        schedule.next_run_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    first, second = invoker.scheduled(inst), invoker.scheduled(inst)
    assert first[0].status == 200 and first[0].body["backupEnqueued"] is True
    assert second[0].status == 200 and second[0].body["backupEnqueued"] is False
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, inst)
        assert db.session.scalars(select(ForgeToken)).one().expires_at > before
        assert current_system_token(tenant) is not None
        assert [j.kind for j in db.session.scalars(select(Job).where(Job.kind == "backup"))] == ["backup"]
        assert db.session.get(BackupSchedule, tenant.id).next_run_at > utcnow()


def test_lifecycle_of_an_unknown_site_url_is_taken_from_a_ui_call(forge_app, fake_cloud: Cloud) -> None:
    """A FIT's signed context.siteUrl (UI calls) sets the site URL at once, without waiting for the job."""
    import json

    site = fake_cloud.add_site("acme")
    inst = fake_cloud.forge.install(site)
    fit = fake_cloud.forge.mint_fit(inst, principal="557058:admin")  # carries context.siteUrl
    response = requests.post(forge_app.config["BASE_URL"] + "/forge/events/hourly", data=json.dumps({}),
                             headers={"Authorization": f"Bearer {fit}", "Content-Type": "application/json"},
                             timeout=10)
    assert response.status_code == 200
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, inst)
        assert tenant.base_url == site.base_url and [u.base_url for u in tenant.base_urls] == [site.base_url]


def _app_ids(platform) -> dict[str, str]:
    other = "0f2b4c1e-7a3d-4e5f-9b8a-6c5d4e3f2a1b"
    return {"bare UUID": platform.app_uuid, "full ARI": platform.app_id, "upper-case UUID": platform.app_uuid.upper(),
            "another app's UUID": other, "another app's ARI": f"ari:cloud:ecosystem::app/{other}",
            "another ARI kind with our UUID": f"ari:cloud:ecosystem::environment/{platform.app_uuid}",
            "empty": "", "a number": 7}


@pytest.mark.parametrize(("form", "accepted"), [
    ("bare UUID", True), ("full ARI", True), ("upper-case UUID", True), ("another app's UUID", False),
    ("another app's ARI", False), ("another ARI kind with our UUID", False), ("empty", False), ("a number", False)])
def test_the_events_app_id_is_matched_bare_or_as_an_ari(forge_app, fake_cloud, invoker, form, accepted) -> None:
    """Atlassian's lifecycle event shows ``app.id`` as the bare UUID, the FIT as the ARI: is a real install (either
    form) accepted, and another app's event refused without creating anything?"""
    inst = fake_cloud.forge.install(fake_cloud.add_site("acme"))
    attempts = invoker.lifecycle(inst, app_id=_app_ids(fake_cloud.forge)[form])
    if accepted:
        assert [a.status for a in attempts] == [200]
        assert counts(forge_app) == (1, 1)
    else:
        assert [a.status for a in attempts] == [400]
        assert attempts[0].body["error"]["code"] == "app-mismatch"
        assert "another app" in attempts[0].body["error"]["message"]
        with forge_app.app_context():  # refused before the install was acted on: no site-info job
            assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_emulated_forge_sends_the_bare_app_uuid_as_the_docs_show(fake_cloud, forge_app) -> None:
    """The emulator must send what Atlassian documents, or the app's tests pass against a Forge that doesn't exist."""
    sent: list[dict] = []
    original = requests.Session.post

    def spy(self, url, data=None, **kwargs):
        if url.endswith("/forge/events/lifecycle"):
            import json

            sent.append(json.loads(data))
        return original(self, url, data=data, **kwargs)

    inst = fake_cloud.forge.install(fake_cloud.add_site("acme"))
    invoker = fake_cloud.forge.invoker(forge_app.config["BASE_URL"])
    invoker.session.post = spy.__get__(invoker.session)  # type: ignore[method-assign]
    assert [a.status for a in invoker.lifecycle(inst)] == [200]
    assert sent[0]["payload"]["app"]["id"] == fake_cloud.forge.app_uuid
    assert not sent[0]["payload"]["app"]["id"].startswith("ari:")
