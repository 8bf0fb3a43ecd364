"""A purged tenant's objects in the file and S3 backends: deleted right after its rows, retried until gone.

Purging a tenant (``app.tenants.purge_uninstalled``) deletes its rows in one cascade (``before_tenant_purged``
first drops the one kind of row the cascade can't order), and with them whatever the database backends held.
Objects in a directory or a bucket are outside that transaction: they go right after the commit
(``after_tenant_purged``, a ``purged`` hook of app/wiring.py), so a row never names a deleted object. A failure there
(the bucket unreachable, a refusal) is logged and left to the retention sweep (``sweep_departed_tenants``), which
lists the tenant ids that still hold objects and deletes those of ids no tenant row has any more. The store's own
listing is the record of what is left, so neither a crash between the commit and the deletion nor an outage loses
track of an object. Deleting is idempotent: a second run finds nothing and deletes nothing.

Strength: on SQLite a purged tenant's id can be given to the next tenant installed before the sweep ran (it reuses
the highest id); its leftover streamed objects are then swept as that tenant's orphans (``sweep_orphan_objects``),
its leftover configuration objects are never read (no row names their digests) but stay. PostgreSQL never reuses ids.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..tenants import Tenant
from .blob_backends import delete_keys, digit_dirs, digit_prefixes, list_keys, remove_tree
from .blob_codec import BlobStorageError
from .blob_models import SnapshotStreamBlob
from .blobs import object_store
from .models import Snapshot
from .storage import BlobStore, FileBlobStore, S3BlobStore, blob_store

log = logging.getLogger(__name__)

SWEEP_STAMP = "departed_tenants_swept_at"  # app.extensions key: when this process last swept


class TenantStillInstalled(BlobStorageError):
    """Asked to delete the objects of a tenant whose row still exists (only a purged tenant's objects go)."""


def _config_prefix(store: S3BlobStore) -> str:
    return f"{store.prefix}/" if store.prefix else ""


def _config_tenant_ids(store: BlobStore) -> set[int]:
    if isinstance(store, FileBlobStore):
        return digit_dirs(store.root)  # the streamed objects live under root/streams, not a digit name
    if isinstance(store, S3BlobStore):
        return digit_prefixes(store.client, store.bucket, _config_prefix(store))
    return set()  # the database: rows cascade with the tenant


def _delete_config_objects(store: BlobStore, tenant_id: int) -> int:
    if isinstance(store, FileBlobStore):
        top = store.root / str(int(tenant_id))
        count = sum(1 for p in top.rglob("*") if p.is_file()) if top.is_dir() else 0
        try:
            remove_tree(top)
        except OSError as exc:
            raise BlobStorageError(f"the directory kept configuration objects of tenant {tenant_id}: expected to "
                                   f"delete {count}, the file system refused ({type(exc).__name__})") from None
        return count
    if isinstance(store, S3BlobStore):
        keys = list_keys(store.client, store.bucket, f"{_config_prefix(store)}{int(tenant_id)}/")
        delete_keys(store.client, store.bucket, keys)
        return len(keys)
    return 0


def delete_tenant_objects(tenant_id: int) -> int:
    """Delete every object a purged tenant left in the configured backends; returns how many went (0 the 2nd time).

    :raises TenantStillInstalled: when the tenant's row still exists.
    :raises BlobStorageError: (or the S3 client's error) when a backend kept some; run it again later.
    """
    if db.session.get(Tenant, tenant_id) is not None:
        raise TenantStillInstalled(f"tenant {tenant_id} still exists: expected a purged tenant, its objects are kept")
    deleted = object_store().delete_tenant(tenant_id)
    deleted += _delete_config_objects(blob_store(), tenant_id)
    db.session.commit()  # the database backend's rows (normally gone already by the cascade)
    return deleted


def departed_tenant_ids() -> list[int]:
    """Tenant ids that hold objects in the configured backends but have no tenant row (purged), sorted."""
    held = object_store().tenant_ids() | _config_tenant_ids(blob_store())
    if not held:
        return []
    present = set(db.session.scalars(select(Tenant.id).where(Tenant.id.in_(sorted(held)))))
    return sorted(held - present)


def _delete_logged(tenant_id: int, when: str) -> bool:
    """Delete a purged tenant's objects; on failure log it (no secrets: the error's type and our words) and go on."""
    try:
        deleted = delete_tenant_objects(tenant_id)
    except Exception as exc:  # S3 or the file system: whatever it is, the sweep tries again
        db.session.rollback()
        words = str(exc) if isinstance(exc, BlobStorageError) else type(exc).__name__
        log.warning("%s: deleting the objects of purged tenant %s failed (%s); the retention sweep retries",
                    when, tenant_id, words)
        return False
    if deleted:
        log.info("%s: deleted %d object(s) of purged tenant %s", when, deleted, tenant_id)
    return True


def before_tenant_purged(tenant_id: int) -> None:
    """A ``purging`` hook of ``app.tenants.purge_uninstalled``: drop which snapshot holds which streamed blob, in
    the purge's transaction.

    Both sides cascade from the tenant, but separately, and the reference between them is NO ACTION (a blob can't
    go while a snapshot holds it): PostgreSQL would refuse the tenant's delete if these rows were still there.
    """
    snapshots = select(Snapshot.id).where(Snapshot.tenant_id == tenant_id)
    db.session.execute(delete(SnapshotStreamBlob).where(SnapshotStreamBlob.snapshot_id.in_(snapshots))
                       .execution_options(synchronize_session=False))


def after_tenant_purged(tenant_id: int) -> None:
    """A ``purged`` hook: the tenant's rows are committed gone; its objects go now (or on a later sweep)."""
    _delete_logged(tenant_id, "purge")


def sweep_departed_tenants() -> int:
    """Delete the objects of every purged tenant that still has some; returns how many tenants were cleaned."""
    cleaned = 0
    for tenant_id in departed_tenant_ids():
        cleaned += _delete_logged(tenant_id, "retention sweep")
    return cleaned


def sweep_departed_when_due(now: datetime, interval: timedelta) -> None:
    """Run ``sweep_departed_tenants`` at most once per ``interval`` in this process (it lists the stores)."""
    last = current_app.extensions.get(SWEEP_STAMP)
    if last is not None and now - last < interval:
        return
    current_app.extensions[SWEEP_STAMP] = now
    try:
        sweep_departed_tenants()
    except Exception as exc:  # the listing itself failed (the store unreachable): next interval
        db.session.rollback()
        log.warning("retention sweep: listing purged tenants' objects failed (%s); trying again next time",
                    type(exc).__name__)

