"""Helpers the emulator's resource tests share: they call handlers through ``dispatch`` (no server) and hold
successful answers to the spec's response schemas."""

from __future__ import annotations

from typing import Any

from fakejira import dispatch, seeding, spec
from fakejira.registry import DEFAULTS, EXPORTERS, SEEDERS
from fakejira.site import Site

API = "/rest/api/3"
APP_KEY = "com.example.dr-test"  # the app conftest's ``admin_app`` installs

# --------------------------------------------------------------------------------------------------
# Part A (basics, type schemes, workflows, projects): conftest's ``site``, paths under API
# --------------------------------------------------------------------------------------------------


def call(site: Site, method: str, path: str, *, check_schema: bool = True, **kw: Any) -> tuple[int, Any]:
    """Run one handler and insist that a successful answer matches the spec's response schema.

    ``check_schema=False`` is for answers the spec's schemas can't describe (expansions they lack).
    """
    status, body, _headers = dispatch.call(site, method, API + path, **kw)
    found = dispatch.match(method, API + path)
    assert found is not None
    if status < 400 and check_schema:
        assert spec.validate_response(method, found[1], status, body) == []
    return status, body


def admin(site: Site) -> str:
    """The site administrator's accountId."""
    return next(iter(site.admins))


def make_project(site: Site, key: str = "OPS", **extra: Any) -> str:
    """Create a classic software project led by the admin; its id."""
    code, created = call(site, "POST", "/project", body={"key": key, "name": f"Project {key}",
                                                          "projectTypeKey": "software",
                                                          "leadAccountId": admin(site), **extra})
    assert code == 201, created
    return str(created["id"])


# --------------------------------------------------------------------------------------------------
# Part B (fields, screens, schemes, sharing): part B's defaults only, full paths
# --------------------------------------------------------------------------------------------------

PART_B = ("fields", "screens", "schemes", "sharing")


def _mine(fn: Any) -> bool:
    return fn.__module__.rsplit(".", 1)[-1] in PART_B


def make_site(name: str = "site") -> Site:
    """A site with part B's defaults and a few records of the other helper's types, put in directly.

    The other resource modules are bypassed so these tests pin part B's behaviour alone.
    """
    site = seeding.new_site(name, defaults=False)
    store = site.store
    for offset, (type_name, level) in enumerate((("Epic", 1), ("Task", 0), ("Sub-task", -1), ("Bug", 0))):
        tid = str(10000 + offset)
        store.put("issueTypes", tid, {"id": tid, "name": type_name, "hierarchyLevel": level})
    store.put("projects", "10000", {"id": "10000", "key": "PRJ", "name": "Project"})
    store.put("projects", "10001", {"id": "10001", "key": "OTH", "name": "Other"})
    store.put("users", "acc-1", {"accountId": "acc-1", "displayName": "Ada", "active": True})
    store.put("groups", "g-1", {"groupId": "g-1", "name": "jira-administrators"})
    store.put("projectRoles", "10002", {"id": 10002, "name": "Administrators"})
    for status_id, status_name, category in (("1", "To Do", "new"), ("3", "In Progress", "indeterminate"),
                                             ("10000", "Done", "done")):
        store.put("statuses", status_id, {"id": status_id, "name": status_name,
                                          "statusCategory": {"key": category}})
    for install in DEFAULTS:
        if _mine(install):
            install(site)
    return site


def part_b_keys() -> list[str]:
    return [k for k in seeding.seed_order() if _mine(SEEDERS[k])]


def export_part_b(site: Site) -> dict[str, Any]:
    return {k: EXPORTERS[k](site) for k in part_b_keys()}


def api(site: Site, method: str, path: str, body: Any = None, *, query: dict[str, Any] | None = None,
        account_id: str | None = None) -> tuple[int, Any]:
    """Call a handler and check its answer against the spec's response schema for the operation."""
    status, answer, _headers = dispatch.call(site, method, path, query=query, body=body, account_id=account_id)
    found = dispatch.match(method, path)
    assert found is not None, f"no handler for {method} {path}"
    # no tolerance list: the spec's known defects are errata in ``spec``, so answers meet the corrected spec
    problems = spec.validate_response(method, found[1], status, answer)
    assert not problems, problems
    return status, answer


def ok(site: Site, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    status, answer = api(site, method, path, body, **kw)
    assert status < 300, (status, answer)
    return answer


def error(site: Site, method: str, path: str, body: Any = None, *, status: int, **kw: Any) -> dict[str, Any]:
    got, answer = api(site, method, path, body, **kw)
    assert got == status, (got, answer)
    assert set(answer) == {"errorMessages", "errors"}
    return answer


def messages(answer: dict[str, Any]) -> str:
    return " ".join(answer["errorMessages"] + list(answer["errors"].values()))


def round_trip(site: Site) -> None:
    """export(load(export(site))) on a fresh part-B site equals the original export."""
    exported = export_part_b(site)
    again = make_site("copy")
    seeding.load_seed(again, exported)
    assert export_part_b(again) == exported
