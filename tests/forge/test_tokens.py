"""The Forge system token store: freshest kept (also under concurrent writers), encrypted at rest, never logged,
and a backup that outlives its token pauses until the hourly trigger brings a fresh one, then completes."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from app.backups import service
from app.backups.catalogue import CATALOGUE
from app.backups.snapshots import SnapshotReader
from app.extensions import db
from app.forge.tokens import SYSTEM_HEADER, ForgeToken, current_system_token, store_from_request
from app.jobs.models import Job, JobState
from fakejira.cloud import Cloud
from fakejira.forge import ForgeInstall
from fakejira.registry import HANDLERS
from tests.forge.conftest import forge_tenant, run_jobs

HOUR = 3600


@pytest.fixture
def installed(forge_app: Flask, fake_cloud: Cloud, forge_install) -> ForgeInstall:
    return forge_install(fake_cloud.add_site("acme"))


def stored(app: Flask) -> ForgeToken:
    with app.app_context():
        row = db.session.scalars(select(ForgeToken)).one()
        db.session.expunge(row)
        return row


def test_an_older_token_arriving_later_never_replaces_a_newer_one(forge_app, fake_cloud, installed) -> None:
    forge = fake_cloud.forge
    newest, older, newer_still = (forge.system_token(installed, 3.9 * HOUR), forge.system_token(installed, 2 * HOUR),
                                  forge.system_token(installed, 4 * HOUR))
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, installed)
        assert store_from_request(tenant, {SYSTEM_HEADER: newest}) is True
        assert store_from_request(tenant, {SYSTEM_HEADER: older}) is False
        assert current_system_token(tenant) == newest
        assert store_from_request(tenant, {SYSTEM_HEADER: newer_still}) is True
        assert current_system_token(tenant) == newer_still


@pytest.mark.parametrize("header", [None, "", "has spaces in it", "x" * 20000, "expired"])
def test_missing_garbage_or_expired_tokens_are_not_stored(forge_app, fake_cloud, installed, header) -> None:
    before = stored(forge_app)
    if header == "expired":
        header = fake_cloud.forge.system_token(installed, lifetime=-10)
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, installed)
        assert store_from_request(tenant, {SYSTEM_HEADER: header} if header is not None else {}) is False
    after = stored(forge_app)
    assert (after.token_sha256, after.expires_at) == (before.token_sha256, before.expires_at)


def test_concurrent_writers_keep_the_freshest_token(forge_app, fake_cloud, installed) -> None:
    """Eight requests storing tokens at once (SQLite or PostgreSQL): does the one expiring last always win?"""
    tokens = [fake_cloud.forge.system_token(installed, (2 + i / 4) * HOUR) for i in range(8)]
    with forge_app.app_context():
        tenant = forge_tenant(forge_app, installed)
        tenant_id = tenant.id
    barrier = threading.Barrier(len(tokens))
    errors: list[BaseException] = []

    class _Tenant:
        id = tenant_id

    def write(token: str) -> None:
        try:
            with forge_app.app_context():
                barrier.wait(timeout=10)
                store_from_request(_Tenant(), {SYSTEM_HEADER: token},  # type: ignore[arg-type]
                                   installation_id=installed.installation_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in reversed(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with forge_app.app_context():
        assert current_system_token(tenant_id) == tokens[-1]
        assert db.session.scalar(select(db.func.count()).select_from(ForgeToken)) == 1


def test_tokens_are_encrypted_at_rest(forge_app, fake_cloud, installed) -> None:
    token = fake_cloud.forge.system_token(installed, 4 * HOUR)
    with forge_app.app_context():
        store_from_request(forge_tenant(forge_app, installed), {SYSTEM_HEADER: token})
        raw = db.session.execute(text("SELECT * FROM forge_tokens")).one()
    assert all(token not in str(value) for value in raw)
    assert token.split(".")[1] not in " ".join(str(v) for v in raw)  # not even the claims part


def test_no_token_or_fit_reaches_a_log_line(forge_app, fake_cloud, invoker, caplog) -> None:
    """Through install, the site-URL job, a backup and the hourly trigger: is any token or FIT ever logged?"""
    caplog.set_level(logging.DEBUG)
    site = fake_cloud.add_site("logs")
    inst = fake_cloud.forge.install(site)
    assert invoker.lifecycle(inst)[-1].ok
    run_jobs(forge_app)
    with forge_app.app_context():
        service.start_backup(forge_tenant(forge_app, inst), "admin")
    run_jobs(forge_app)
    assert invoker.scheduled(inst)[-1].ok
    secrets = fake_cloud.forge.issued_tokens() + fake_cloud.forge.minted
    assert secrets and caplog.records
    logged = caplog.text
    for secret in secrets:
        assert secret not in logged
        assert secret.split(".")[2] not in logged  # nor a token's signature on its own


# -- a backup that outlives its token ---------------------------------------------------------------------------
def snapshot_contents(snapshot_id: int) -> dict[str, Any]:
    reader = SnapshotReader(snapshot_id)
    out: dict[str, Any] = {}
    for summary in reader.type_summaries():
        out[summary.type_key] = (summary.status, summary.count,
                                 sorted((e.natural_key, e.source_id) for e in reader.entries(summary.type_key)),
                                 sorted(map(repr, reader.objects(summary.type_key))))
    return out


def test_a_backup_outliving_its_token_pauses_then_completes_with_the_hourly_token(
        forge_app, fake_cloud, invoker, installed, fakejira_handler) -> None:
    """The token expires mid-backup: the job waits (never fails), the hourly trigger's token lets it finish, and
    the snapshot is the same as a normal backup's."""
    key = ("GET", "/rest/api/3/permissionscheme")
    original = HANDLERS[key]
    expired = threading.Event()

    def expire_mid_backup(ctx: Any) -> Any:
        if not expired.is_set():
            expired.set()
            fake_cloud.forge.expire_tokens(installed)  # this call got through; the next ones will not
        return original(ctx)

    fakejira_handler(*key, expire_mid_backup)
    with forge_app.app_context():
        job, _ = service.start_backup(forge_tenant(forge_app, installed), "admin")
        job_id = job.id
    assert run_jobs(forge_app) == [JobState.QUEUED.value]
    with forge_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.state == JobState.QUEUED.value and job.not_before is not None and job.attempts == 1
        snapshot_id = job.checkpoint["snapshot_id"]
        assert 0 < len(job.checkpoint["done"]) < len(CATALOGUE)  # cut short, not failed
        assert current_system_token(forge_tenant(forge_app, installed)) is None  # the refused one is dropped
    refused = [r for r in installed.site.calls.records if r.status == 401]
    assert refused  # the gateway refused the expired token; the job did not fail on it

    assert invoker.scheduled(installed)[-1].ok  # Forge's hourly trigger brings a fresh token and wakes the job
    assert run_jobs(forge_app) == [JobState.SUCCEEDED.value]
    with forge_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.result["snapshot_id"] == snapshot_id and job.attempts == 2
        paused = snapshot_contents(snapshot_id)
        normal_job, _ = service.start_backup(forge_tenant(forge_app, installed), "admin")
    run_jobs(forge_app)
    with forge_app.app_context():
        normal = snapshot_contents(db.session.get(Job, normal_job.id).result["snapshot_id"])
    assert paused == normal
    assert all(status == "complete" for status, *_ in paused.values())


def test_a_reinstall_without_pre_uninstall_supersedes_the_old_installation_and_its_token(
        forge_app, fake_cloud, invoker, forge_install) -> None:
    """Forge doesn't promise pre-uninstall: a new installation's token must replace the dead one of the old
    installation even when the dead one claims a later expiry, and the old installation can no longer call us."""
    site = fake_cloud.add_site("acme")
    fake_cloud.forge.token_lifetime = (4 * HOUR, 4 * HOUR)
    first = forge_install(site)
    fake_cloud.forge.token_lifetime = (2 * HOUR, 2 * HOUR)
    second = fake_cloud.forge.install(site)  # reinstalled; we never heard of the uninstall
    assert invoker.lifecycle(second)[-1].ok
    row = stored(forge_app)
    assert row.installation_id == second.installation_id
    with forge_app.app_context():
        from app.forge.lifecycle import SERVER_INFO
        from app.tenant_access import jira_access

        assert jira_access(forge_tenant(forge_app, second)).call(SERVER_INFO)["baseUrl"] == site.base_url
    attempts = invoker.scheduled(first)
    assert attempts[0].status == 403 and attempts[0].body["error"]["code"] == "installation-uninstalled"
    assert stored(forge_app).installation_id == second.installation_id
