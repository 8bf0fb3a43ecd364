"""``flask --app app keys rotate``: re-encrypt every backup blob and stored secret under the newest key.

Batched and resumable: blobs record the key that sealed them, secrets are tested against the newest key alone, so a
second run (after an interruption) only does what is left. Secrets are updated only if unchanged since read, so a
concurrent token refresh is never overwritten with an older value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import Column, select, update
from sqlalchemy.orm import InstrumentedAttribute

from ..crypto import DecryptionError, keyring
from ..extensions import affected_rows, db
from ..tenants import Tenant
from .models import Blob
from .snapshots import current_key_id, newest_key
from .storage import blob_store

DEFAULT_BATCH = 200


def encrypted_columns() -> list[InstrumentedAttribute]:
    """Text columns holding ``keyring().encrypt_text`` values; features storing secrets add theirs here."""
    from ..forge.tokens import ForgeToken
    from ..oauth.models import OAuthGrant
    from .blob_models import TenantBlobKey

    return [Tenant.shared_secret_enc, OAuthGrant.access_token_enc, OAuthGrant.refresh_token_enc, ForgeToken.token_enc,
            TenantBlobKey.key_enc]


@dataclass
class Counts:
    rotated: int = 0
    current: int = 0
    unreadable: list[str] = field(default_factory=list)

    def line(self, what: str) -> str:
        return (f"{what}: {self.rotated} re-encrypted, {self.current} already under the newest key, "
                f"{len(self.unreadable)} unreadable")


@dataclass
class RotationReport:
    blobs: Counts = field(default_factory=Counts)
    secrets: Counts = field(default_factory=Counts)


def rotate_blobs(batch_size: int = DEFAULT_BATCH) -> Counts:
    """Re-encrypt blobs sealed under an older key, one committed batch at a time."""
    counts = Counts()
    key_id = current_key_id()
    counts.current = db.session.execute(select(db.func.count(Blob.id)).where(Blob.key_id == key_id)).scalar_one()
    store = blob_store()
    last_id = 0
    while True:
        blobs = db.session.scalars(select(Blob).where(Blob.key_id != key_id, Blob.id > last_id)
                                   .order_by(Blob.id).limit(batch_size)).all()
        if not blobs:
            return counts
        last_id = blobs[-1].id
        by_tenant: dict[int, list[Blob]] = {}
        for blob in blobs:
            by_tenant.setdefault(blob.tenant_id, []).append(blob)
        for tenant_id, group in by_tenant.items():
            sealed = store.get_many(tenant_id, (b.sha256 for b in group))
            for blob in group:
                what = f"blob {blob.sha256[:12]} of tenant {tenant_id}"
                if blob.sha256 not in sealed:
                    counts.unreadable.append(f"{what}: missing from storage")
                    continue
                try:
                    fresh = keyring().rotate(sealed[blob.sha256])
                except DecryptionError:
                    # Left as it is: readers refuse it with CorruptSnapshot; rotation must not launder it.
                    counts.unreadable.append(f"{what}: no configured key decrypts it")
                    continue
                store.put(tenant_id, blob.sha256, fresh)
                blob.key_id = key_id
                blob.stored_size = len(fresh)
                counts.rotated += 1
        db.session.commit()


def rotate_column(column: InstrumentedAttribute, batch_size: int = DEFAULT_BATCH) -> Counts:
    """Re-encrypt one encrypted text column's values that the newest key alone can't open."""
    counts = Counts()
    newest = Fernet(newest_key().encode())
    model = column.class_
    pk: Column = model.__mapper__.primary_key[0]
    name = f"{model.__tablename__}.{column.key}"
    last = None
    while True:
        query = select(pk, column).where(column.is_not(None)).order_by(pk).limit(batch_size)
        if last is not None:
            query = query.where(pk > last)
        rows = db.session.execute(query).all()
        if not rows:
            return counts
        last = rows[-1][0]
        for row_id, token in rows:
            try:
                newest.decrypt(token.encode("ascii"))
                counts.current += 1
                continue
            except InvalidToken:
                pass
            try:
                fresh = keyring().rotate(token.encode("ascii")).decode("ascii")
            except DecryptionError:
                counts.unreadable.append(f"{name} of row {row_id}: no configured key decrypts it")
                continue
            # Only if unchanged since read: a token refreshed meanwhile is already under the newest key.
            done = affected_rows(db.session.execute(update(model).where(pk == row_id, column == token)
                                                    .values({column.key: fresh})))
            counts.rotated += done
            counts.current += 1 - done
        db.session.commit()


def rotate_all(batch_size: int = DEFAULT_BATCH) -> RotationReport:
    """Re-encrypt every blob and stored secret under the newest key."""
    report = RotationReport(blobs=rotate_blobs(batch_size))
    for column in encrypted_columns():
        counts = rotate_column(column, batch_size)
        report.secrets.rotated += counts.rotated
        report.secrets.current += counts.current
        report.secrets.unreadable += counts.unreadable
    return report


keys = AppGroup("keys", help="Encryption keys (ENCRYPTION_KEYS, newest first).")


@keys.command("rotate")
@click.option("--batch-size", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(min=1),
              help="Rows re-encrypted per committed batch.")
def rotate_command(batch_size: int) -> None:
    """Re-encrypt all backup blobs and stored secrets under the newest key (safe to re-run after interruption)."""
    if not current_app.config.get("ENCRYPTION_KEYS"):
        raise click.ClickException("ENCRYPTION_KEYS is not set: put the new key first, then the old ones.")
    report = rotate_all(batch_size)
    click.echo(report.blobs.line("blobs"))
    click.echo(report.secrets.line("secrets"))
    problems = report.blobs.unreadable + report.secrets.unreadable
    for problem in problems:
        click.echo(f"  unreadable: {problem}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} value(s) could not be decrypted with any configured key; "
                                   "keep the old keys configured until they are dealt with")
