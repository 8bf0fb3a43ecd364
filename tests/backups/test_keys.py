"""Key rotation: old backups stay readable when a key is added, and `keys rotate` moves everything to the newest."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from app import crypto
from app.backups import keys_cli
from app.backups.models import Blob
from app.backups.snapshots import CorruptSnapshot, SnapshotReader, SnapshotWriter, current_key_id
from app.backups.storage import blob_store
from app.connect.installs import save_installation
from app.extensions import db
from app.oauth.models import OAuthGrant
from app.tenants import Tenant

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture(params=["db", "file"])
def app_config(app_config: dict, request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    if request.param == "file":
        app_config["BACKUP_STORAGE_URL"] = f"file://{tmp_path / 'blobs'}"
    app_config["ENCRYPTION_KEYS"] = OLD
    return app_config


@pytest.fixture
def ctx(app: Flask):
    with app.app_context():
        yield app


def use_keys(app: Flask, keys: str) -> None:
    """What an operator does: change ENCRYPTION_KEYS and restart (the key ring is rebuilt)."""
    app.config["ENCRYPTION_KEYS"] = keys
    crypto.init_app(app)


def write(tenant_id: int, tag: str, count: int = 5) -> int:
    writer = SnapshotWriter.begin(tenant_id, None, app_version="0.1.0", format_version=1)
    for i in range(count):
        writer.put("filters", f"{tag}-{i}", str(i), {"name": f"{tag}-{i}", "jql": "project = X"})
    writer.set_type_status("filters", "complete", count)
    writer.finish(api_calls=1, duration_seconds=0.1)
    return writer.snapshot_id


@pytest.fixture
def site(ctx: Flask) -> tuple[int, int]:
    """A tenant (secret under OLD) with an OAuth grant (tokens under OLD) and a snapshot (blobs under OLD)."""
    tenant = save_installation({"clientKey": "k", "baseUrl": "https://k.atlassian.net", "sharedSecret": "s3cr3t" * 6})
    grant = OAuthGrant(tenant_id=tenant.id, cloud_id="cloud", site_url=tenant.base_url, account_id="admin")
    grant.set_tokens("access-token", "refresh-token", datetime(2030, 1, 1))
    db.session.add(grant)
    db.session.commit()
    return tenant.id, write(tenant.id, "old")


def everything_reads(tenant_id: int, *snapshot_ids: int) -> None:
    for snapshot_id in snapshot_ids:
        SnapshotReader(snapshot_id).verify()
    tenant = db.session.get(Tenant, tenant_id)
    assert tenant.shared_secret == "s3cr3t" * 6
    grant = db.session.scalars(select(OAuthGrant)).one()
    assert (grant.access_token, grant.refresh_token) == ("access-token", "refresh-token")


def test_are_old_snapshots_readable_after_a_new_key_is_added(ctx: Flask, site: tuple[int, int]) -> None:
    tenant_id, old_snapshot = site
    old_key_id = current_key_id()
    use_keys(ctx, f"{NEW},{OLD}")

    new_snapshot = write(tenant_id, "new")
    everything_reads(tenant_id, old_snapshot, new_snapshot)
    assert current_key_id() != old_key_id
    assert {b.key_id for b in db.session.scalars(select(Blob))} == {old_key_id, current_key_id()}


def test_does_the_new_key_alone_read_everything_after_keys_rotate(ctx: Flask, site: tuple[int, int]) -> None:
    tenant_id, old_snapshot = site
    use_keys(ctx, f"{NEW},{OLD}")
    new_snapshot = write(tenant_id, "new")

    result = ctx.test_cli_runner().invoke(args=["keys", "rotate", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "blobs: 5 re-encrypted, 5 already under the newest key, 0 unreadable",
        "secrets: 3 re-encrypted, 0 already under the newest key, 0 unreadable",
    ]
    use_keys(ctx, NEW)
    everything_reads(tenant_id, old_snapshot, new_snapshot)
    assert {b.key_id for b in db.session.scalars(select(Blob))} == {current_key_id()}


def test_is_an_old_snapshot_refused_once_its_key_is_dropped_without_rotating(ctx: Flask,
                                                                             site: tuple[int, int]) -> None:
    _, old_snapshot = site
    use_keys(ctx, NEW)
    with pytest.raises(CorruptSnapshot, match="could not be decrypted with any configured key"):
        SnapshotReader(old_snapshot).verify()


def test_does_a_second_rotation_find_nothing_to_do(ctx: Flask, site: tuple[int, int]) -> None:
    use_keys(ctx, f"{NEW},{OLD}")
    first = keys_cli.rotate_all()
    second = keys_cli.rotate_all()
    assert (first.blobs.rotated, first.secrets.rotated) == (5, 3)
    assert (second.blobs.rotated, second.blobs.current, second.secrets.rotated, second.secrets.current) == (0, 5, 0, 3)


def test_does_an_interrupted_rotation_finish_on_the_next_run(ctx: Flask, site: tuple[int, int],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    tenant_id, old_snapshot = site
    use_keys(ctx, f"{NEW},{OLD}")
    ring = crypto.keyring()
    real_rotate = ring.rotate
    calls = {"n": 0}

    def dies_on_the_fourth(token: bytes) -> bytes:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the operator's ^C, or the machine going away
        return real_rotate(token)

    monkeypatch.setattr(ring, "rotate", dies_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        keys_cli.rotate_blobs(batch_size=2)
    db.session.rollback()
    monkeypatch.setattr(ring, "rotate", real_rotate)

    resumed = keys_cli.rotate_all(batch_size=2)
    assert (resumed.blobs.rotated, resumed.blobs.current) == (3, 2)  # the first committed batch isn't redone
    use_keys(ctx, NEW)
    everything_reads(tenant_id, old_snapshot)


def test_is_an_undecryptable_blob_reported_and_left_refused(ctx: Flask, site: tuple[int, int]) -> None:
    tenant_id, old_snapshot = site
    victim = db.session.scalars(select(Blob).order_by(Blob.id)).first()
    blob_store().put(tenant_id, victim.sha256, b"garbage that no key opens")
    db.session.commit()
    use_keys(ctx, f"{NEW},{OLD}")

    result = ctx.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert "blobs: 4 re-encrypted, 0 already under the newest key, 1 unreadable" in result.output
    assert f"unreadable: blob {victim.sha256[:12]} of tenant {tenant_id}: no configured key decrypts it" in \
        result.output
    assert "1 value(s) could not be decrypted with any configured key" in result.output
    with pytest.raises(CorruptSnapshot, match="old-0"):
        SnapshotReader(old_snapshot).verify()


def test_does_rotate_refuse_to_run_without_configured_keys(ctx: Flask) -> None:
    ctx.config["ENCRYPTION_KEYS"] = ""
    result = ctx.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert "ENCRYPTION_KEYS is not set" in result.output
