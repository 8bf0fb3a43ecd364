"""Does every reference a backup captures have a declaration (app/objects/declarations.py)? An id left at an
undeclared path would compare equal across sites without naming the same thing there, and go unmapped."""

from __future__ import annotations

from sqlalchemy import select

from app.backups.catalogue import CATALOGUE
from app.connect.tenants import Tenant
from app.extensions import db
from app.objects.canonical import Names, canonical
from tests.fakejira.seeding import load_seed
from tests.objects.test_declarations import undeclared_ids
from tests.restore.conftest import take_backup
from tests.restore.test_restore_owners import hostile_with_gadget_configs


def test_a_hostile_sites_snapshot_holds_no_id_at_an_undeclared_path(app, fake_cloud, install_into,
                                                                     oauth_grant) -> None:
    """The hostile seed, its gadgets configured as Jira's built-in gadgets keep it, backed up with the OAuth grant."""
    from app.restore.job import snapshot_site

    source = fake_cloud.add_site("source")
    load_seed(source, hostile_with_gadget_configs())
    source.client_key = install_into(source)
    with app.app_context():
        tenant_id = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one().id
    oauth_grant(source, tenant_id)
    snapshot = take_backup(app, tenant_id, fake_cloud)
    with app.app_context():
        site = snapshot_site(snapshot)
    assert set(site) == set(CATALOGUE), sorted(set(CATALOGUE) - set(site))
    names = Names.of(site)
    found: set[tuple[str, str]] = set()
    for type_key, entries in site.items():
        for _key, _oid, obj in entries:
            undeclared_ids(canonical(type_key, obj, names), type_key, found)
    assert not found, sorted(found)
