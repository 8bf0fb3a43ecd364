"""Do workflow rules and filters' JQL come back naming the destination's own objects? Measured with the independent
yardstick (fakejira/canonical.py: each site exported in its own terms, no app code), on the hostile seed."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.recovery.connections import activate, generate_token
from app.tenants import Tenant
from bench.fidelity_bench import people_seed
from fakejira import canonical
from fakejira.hostile_seed import GONE, hostile_seed
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site, load_seed
from tests.restore.conftest import Sites, take_backup
from tests.restore.test_restore_basics import outcomes, preview, restore

SPRINT_CLAUSE = "sprint = 7"  # sprints are board data no restore brings: a sprint id from the source names nothing


@functools.cache
def _seed() -> dict[str, Any]:
    return hostile_seed()


def _sites(app: Any, fake_cloud: Any, install_into: Any, oauth_grant: Any, missing: set[str] | None) -> Sites:
    """The hostile seed as source; a destination with the source's users (less ``missing``) and groups (under
    their own groupIds, as another site's are), or an empty one when ``missing`` is None."""
    source, dest = fake_cloud.add_site("source"), fake_cloud.add_site("dest")
    load_seed(source, _seed())
    if missing is not None:
        load_seed(dest, people_seed(export_site(source), missing))
    source.client_key, dest.client_key = install_into(source), install_into(dest)
    admin = admin_account_id(dest)
    with app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
        sites = Sites(source, dest, src.id, dst.id, admin)
    oauth_grant(source, sites.source_tenant_id)
    oauth_grant(dest, sites.dest_tenant_id)
    return sites


def _restored(app: Any, fake_cloud: Any, sites: Sites) -> tuple[canonical.Comparison, dict[Any, Any]]:
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot))
    assert run.status == "done", run.message
    items = outcomes(app, run.id)
    result = canonical.compare(canonical.canonical_export(sites.source), canonical.canonical_export(sites.dest))
    return result, items


def _notes(items: dict[Any, Any], type_key: str) -> list[str]:
    return [n for k, i in items.items() if k[0] == type_key for n in i.notes or []]


def test_same_people_every_rule_and_jql_id_names_the_destinations_own(app, fake_cloud, install_into,
                                                                     oauth_grant) -> None:
    """On a destination with the same users and groups, are the workflows identical for the yardstick, and does
    every filter's JQL name the same things — all but the sprint clause, which names nothing there and is reported?"""
    sites = _sites(app, fake_cloud, install_into, oauth_grant, missing=set())
    result, items = _restored(app, fake_cloud, sites)
    workflows = [d.words for d in result.differences if d.type == "workflows"]
    assert workflows == []
    assert result.counts["workflows"]["identical"] == result.counts["workflows"]["total"]
    # "Dev flow"'s post function setting a version of a project that uses the workflow can't be written when the
    # workflow is created (the project, hence its versions, needs the workflow first): it is written once they exist
    notes = _notes(items, "workflows")
    assert any("written once those existed" in n for n in notes), notes
    assert not any("left out" in n for n in notes), notes
    jql = [d for d in result.differences if d.type == "filters" and d.path == ("jql",)]
    assert [d.key for d in jql] == ["ann@nimbus.example / Every id kind"]
    source_jql, dest_jql = jql[0].source, jql[0].destination
    assert dest_jql == source_jql.replace(' AND sprint = "sprint 7"', "")
    assert any(SPRINT_CLAUSE in n and "sprint 7" in n for n in _notes(items, "filters"))
    assert not [d.words for d in result.differences if d.type == "filters" and d.path != ("jql",)]


@pytest.mark.parametrize("missing", [None, {GONE}], ids=["empty destination", "one person missing"])
def test_what_cannot_name_the_destinations_own_is_named_in_the_report(app, fake_cloud, install_into, oauth_grant,
                                                                      missing: set[str] | None) -> None:
    """On an empty destination (no people) or one lacking a person, is every remaining rule or JQL difference one
    the restore's notes name — never a source id kept silently (no ``<missing ...>`` marker on the destination)?"""
    sites = _sites(app, fake_cloud, install_into, oauth_grant, missing)
    result, items = _restored(app, fake_cloud, sites)
    rules = [d for d in result.differences if d.type == "workflows"]
    jql = [d for d in result.differences if d.type == "filters" and d.path == ("jql",)]
    for diff in rules + jql:
        assert "<missing" not in canonical._show(diff.destination), diff.words
    rule_notes = _notes(items, "workflows")
    for diff in rules:
        assert len(diff.path) > 1, diff.words  # a workflow missing as a whole is a failure, not a difference
        transition = diff.path[1]
        assert any(f"Transition {transition!r}" in n for n in rule_notes), (diff.words, rule_notes)
    filter_notes = _notes(items, "filters")
    if jql:
        assert any("Left out of the JQL" in n for n in filter_notes), filter_notes
    assert any(f"`reporter != {GONE}`" in n for n in filter_notes), filter_notes
