"""Does every reference a backup captures have a declaration (app/objects/declarations.py)? An id left at an
undeclared path would compare equal across sites without naming the same thing there, and go unmapped."""

from __future__ import annotations

from app.backups.catalogue import CATALOGUE
from app.objects.canonical import Names, canonical
from tests.objects.test_declarations import undeclared_ids
from tests.restore.test_one_declaration import hostile_snapshot  # noqa: F401  (the fixture)


def test_a_hostile_sites_snapshot_holds_no_id_at_an_undeclared_path(hostile_snapshot) -> None:  # noqa: F811
    """The hostile seed, its gadgets configured as Jira's built-in gadgets keep it, backed up with the OAuth grant."""
    site = hostile_snapshot
    assert set(site) == set(CATALOGUE), sorted(set(CATALOGUE) - set(site))
    names = Names.of(site)
    found: set[tuple[str, str]] = set()
    for type_key, entries in site.items():
        for _key, _oid, obj in entries:
            undeclared_ids(canonical(type_key, obj, names), type_key, found)
    assert not found, sorted(found)
