"""Does a restore send only the writes Jira needs: none where the create already did the job?"""

from __future__ import annotations

from typing import Any

from fakejira.seeding import export_site
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import outcomes, preview, restore
from tests.restore.test_restore_projects import demo_sites  # noqa: F401 - the fixture

ROLE_ACTORS = "/rest/api/3/project/{projectIdOrKey}/role/{id}"
FILTER_OWNER = "/rest/api/3/filter/{id}/owner"
READ_ONLY_ROLE = "atlassian-addons-project-access"


def _actor_set(actors: list[dict[str, Any]]) -> tuple[frozenset[str], frozenset[str]]:
    groups = frozenset(str(a["actorGroup"]["groupId"]) for a in actors if a.get("actorGroup"))
    users = frozenset(str(a["actorUser"]["accountId"]) for a in actors if a.get("actorUser"))
    return groups, users


def test_writes_only_what_the_creates_cannot_carry(app, demo_sites, fake_cloud) -> None:  # noqa: F811
    """No workflow validation on the way (only when a create is refused), no role-actor write where the new project's
    default actors are already the ones wanted, one owner change per created filter at most."""
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot), fallback="admin")
    assert run.status == "done", run.message
    items = outcomes(app, run.id)
    created_projects = {i.dest_id for (t, _n), i in items.items() if t == "projects" and i.outcome == "created"}
    created_filters = {i.dest_id for (t, _n), i in items.items() if t == "filters" and i.outcome == "created"}
    assert created_projects and created_filters

    assert sites.dest.calls.find(method="POST", template="/rest/api/3/workflows/create/validation") == []

    dest = export_site(sites.dest)
    defaults = {str(r["id"]): _actor_set(r.get("actors") or []) for r in dest["projectRoles"]
                if r["name"] != READ_ONLY_ROLE}
    needed = {(pid, rid) for pid in created_projects for rid, default in defaults.items()
              if _actor_set(dest["projectRoleActors"].get(pid, {}).get(rid, [])) != default}
    sent = {tuple(c.path.rstrip("/").split("/")[-3::2]) for c in sites.dest.calls.find(method="PUT",
                                                                                       template=ROLE_ACTORS)}
    assert sent == needed and len(sent) < len(created_projects) * len(defaults)

    # The app creates filters as itself here, so each created filter's owner is changed once, and only those.
    changed = [c.path.rstrip("/").split("/")[-2] for c in sites.dest.calls.find(method="PUT", template=FILTER_OWNER)]
    assert sorted(changed) == sorted(created_filters)
