"""Is each type's declaration (app/objects/declarations.py) the one truth about what its objects reference?

The backup's read order, the restore's type order and the verification's reads all come from it; the restorers'
object-level references (what pulls dependencies into a selection, what orders objects, what skips dependants)
must name nothing the declaration doesn't, or the preview, the order and the verification would disagree.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.backups.catalogue import CATALOGUE, ordered_types
from app.extensions import db
from app.objects.declarations import DECLARATIONS, OWNER_OF
from app.restore.plan import type_order
from app.restore.restorers import load
from app.tenants import Tenant
from fakejira.seeding import load_seed
from tests.restore.conftest import take_backup
from tests.restore.test_restore_owners import hostile_with_gadget_configs


@pytest.fixture
def hostile_snapshot(app, fake_cloud, install_into, oauth_grant) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """The hostile seed (gadgets configured as Jira's built-in gadgets keep it), backed up with the OAuth grant."""
    from app.restore.attempt import snapshot_site

    source = fake_cloud.add_site("source")
    load_seed(source, hostile_with_gadget_configs())
    source.client_key = install_into(source)
    with app.app_context():
        tenant_id = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one().id
    oauth_grant(source, tenant_id)
    snapshot = take_backup(app, tenant_id, fake_cloud)
    with app.app_context():
        return snapshot_site(snapshot)


def test_every_reference_a_restorer_follows_is_declared(hostile_snapshot) -> None:
    restorers = load()
    undeclared = []
    for type_key, entries in hostile_snapshot.items():
        restorer, declaration = restorers.get(type_key), DECLARATIONS[type_key]
        if restorer is None:
            continue
        for _key, _oid, obj in entries:
            declared = declaration.targets(obj)
            # a part of another object (a version, an option) is followed through its owner
            owners = {OWNER_OF.get(kind, kind) for kind, _id in declared}
            for ref in restorer.references(obj):
                if (ref.type_key, ref.source_id) not in declared and ref.type_key not in owners:
                    undeclared.append(f"{type_key} {restorer.display_name(obj)!r} -> {ref.type_key} {ref.source_id}")
    assert not undeclared, undeclared


def test_backup_and_restore_take_types_in_one_order_that_puts_every_written_reference_first(hostile_snapshot) -> None:
    backup = [t.key for t in ordered_types()]
    restorers = load()
    restore = type_order(restorers, backup)
    assert set(restore) == set(restorers) and set(backup) == set(CATALOGUE)
    for order in (backup, [t for t in restore]):
        place = {t: i for i, t in enumerate(order)}
        late = []
        for type_key, entries in hostile_snapshot.items():
            declaration = DECLARATIONS[type_key]
            ordering = tuple(r for r in declaration.refs if r.written and not r.back)
            for _key, _oid, obj in entries:
                from app.objects.references import targets

                for kind, _id in targets(obj, ordering, jql=True):
                    if kind in place and kind not in OWNER_OF and kind != type_key and place[kind] > place[type_key]:
                        late.append(f"{type_key} before {kind}")
        assert not late, sorted(set(late))
