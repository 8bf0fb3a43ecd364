"""Does a restore of the hostile seed bring back custom field contexts (options, project-restricted contexts, every
kind of default value), project roles' default actors, statuses (a project's own too) and issue type schemes in the
destination's terms — judged by the app-free yardstick (fakejira/canonical.py), not by the app's own
verification? On a destination with the same people nothing of these types differs; on an empty one, every
remaining difference is one the restore's report names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bench.fidelity_bench import people_seed
from fakejira import canonical
from fakejira.canonical import CF_PREFIX
from fakejira.seeding import export_site, new_site
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import outcomes, preview, restore
from tests.restore.test_restore_fields import connect_sites

SEED = Path(__file__).resolve().parents[2] / "fakejira" / "seeds" / "hostile.json"
# the yardstick's types this restore is judged on -> the restore types whose outcomes name their differences
TYPES = {"fields": ("fieldContexts", "customFields"), "projectRoles": ("projectRoles",),
         "statuses": ("statuses",), "issueTypeSchemes": ("issueTypeSchemes",)}
NAMED = ("cannot", "skipped", "failed")  # outcomes whose reason (and fix) name what didn't come back


def _restore_hostile(app, fake_cloud, install_into, oauth_grant, *, people: bool) -> tuple[Any, Any, dict]:
    """The hostile seed backed up and restored (everything, the admin standing in for missing users) into a new
    destination: empty, or holding the source's users and groups (groups under the destination's own ids)."""
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    same = people_seed(export_site(new_site("probe", seed=seed)), missing=set()) if people else None
    sites = connect_sites(app, fake_cloud, install_into, seed, same)
    oauth_grant(sites.source, sites.source_tenant_id)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot), fallback="admin")
    assert run.status in ("done", "done_with_differences", "partial"), run.message
    return sites, run, outcomes(app, run.id)


def _differences(sites: Any) -> list[canonical.Difference]:
    result = canonical.compare(canonical.canonical_export(sites.source), canonical.canonical_export(sites.dest))
    return [d for d in result.differences if d.type in TYPES]


def _item_of(diff: canonical.Difference, items: dict[tuple[str, str], Any]) -> Any:
    """The restore item a yardstick difference is about (the yardstick names objects by natural key)."""
    if diff.type == "fields":
        name, kind = re.fullmatch(r"(.*) \[(.*)\]", diff.key).groups()
        if len(diff.path) >= 2 and diff.path[0] == "contexts":
            return items.get(("fieldContexts", f"{name} ({CF_PREFIX}{kind}) / {diff.path[1]}"))
        return items.get(("customFields", f"{name} ({kind})"))
    if diff.type == "statuses":
        found = re.fullmatch(r"(.*) \[\w+\](?: in (.*))?", diff.key)
        name, project = found.groups() if found else (diff.key, None)
        return items.get(("statuses", f"{name} ({project})" if project else name))
    return items.get((TYPES[diff.type][0], diff.key))


def _unnamed(diffs: list[canonical.Difference], items: dict[tuple[str, str], Any],
             source: dict[str, Any]) -> list[str]:
    """The differences the restore's report doesn't name: neither a reported outcome (reason and fix) nor a note
    on the object's outcome naming each missing person by accountId."""
    account_of = {u.get("emailAddress"): u["accountId"] for u in source["users"]}
    out = []
    for diff in diffs:
        item = _item_of(diff, items)
        if item is None:
            out.append(f"{diff.words} (no restore item)")
            continue
        if item.outcome in NAMED and item.reason and item.fix:
            continue
        said = " ".join(json.loads(item.notes_json or "[]"))
        people = [account_of.get(e, e) for e in re.findall(r"user '([^']+)'", canonical._show(diff.source))]
        if not people or not all(p in said for p in people):
            out.append(f"{diff.words} (notes: {said or 'none'})")
    return out


@pytest.fixture
def hostile_people(app, fake_cloud, install_into, oauth_grant):
    return _restore_hostile(app, fake_cloud, install_into, oauth_grant, people=True)


def test_with_the_same_people_contexts_defaults_roles_statuses_and_type_schemes_come_back_identical(
        app, hostile_people) -> None:
    """Options (cascading too), a project-restricted context, defaults of every kind (option, cascading, user,
    users, group, groups, version, versions, project, a user filter's group and role), role default actors, a
    project's own status and the Default Issue Type Scheme's order: no difference at all on the yardstick."""
    sites, run, items = hostile_people
    assert [d.words for d in _differences(sites)] == []
    dest = canonical.canonical_export(sites.dest)
    mobile = dest["fields"]["Release Train [select]"]["contexts"]["Mobile release trains"]
    assert mobile["projects"] and mobile["options"] == ["M-24.1", "M-24.2"]
    team = dest["fields"]["Team [userpicker]"]["contexts"]["Default Configuration Scheme for Team"]["default"]
    assert team["userFilter"]["roleIds"] == ["role 'Release Managers'"]
    assert items[("statuses", "in review (HOS)")].outcome == "created"
    mine = {k for ks in TYPES.values() for k in ks}
    assert not [(i.type_key, i.name, i.notes_json) for (t, _), i in items.items()
                if t in mine and i.selected and i.notes_json not in (None, "[]")]
    # a second restore finds all of it in place: nothing of these types is written again
    sites.dest.calls.clear()
    again = outcomes(app, restore(app, sites, preview(app, sites, run.snapshot_id), fallback="admin").id)
    assert not [(t, n, i.outcome) for (t, n), i in again.items() if t in mine and i.outcome in ("created", "updated")]
    touched = [c["path"] for c in sites.dest.calls.as_json() if c["method"] != "GET"
               and re.search(r"/(field|role|statuses|issuetypescheme)\b", c["path"])]
    assert touched == []


def test_on_an_empty_destination_each_remaining_difference_is_named_in_the_report(
        app, fake_cloud, install_into, oauth_grant) -> None:
    """No user but the admin: defaults naming people get the admin instead, and the context's outcome says who;
    everything else of these types (groups created through the grant, versions, projects, roles) comes back."""
    sites, _run, items = _restore_hostile(app, fake_cloud, install_into, oauth_grant, people=False)
    diffs = _differences(sites)
    assert diffs, "an empty destination lacks the source's people: some default must differ"
    assert _unnamed(diffs, items, export_site(sites.source)) == []
    assert {d.type for d in diffs} == {"fields"}  # roles, statuses and issue type schemes: identical
