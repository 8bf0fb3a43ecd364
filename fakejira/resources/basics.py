"""Site basics: categories, link types, priorities, resolutions, statuses, issue types, roles, groups, users,
settings."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from ..paging import page_bean, plain_list
from ..registry import Ctx, JiraError, Reply, bad_request, handles, not_found, seed_type, site_defaults
from ..site import Site
from ._common import (
    API,
    SeedRefError,
    api_url,
    avatar_urls,
    body_of,
    export_records,
    move_in_order,
    public,
    reorder,
    required_text,
    seed_records,
    stored_or_404,
    task_reply,
)

# --------------------------------------------------------------------------- project categories


def _category(site: Site, cid: str) -> dict[str, Any]:
    return stored_or_404(site, "projectCategories", cid, f"No project category with ID {cid} exists.")  # Jira's wording


@handles("GET", f"{API}/projectCategory")
def list_categories(ctx: Ctx) -> list[dict[str, Any]]:
    return export_records(ctx.site, "projectCategories")


@handles("GET", f"{API}/projectCategory/{{id}}")
def get_category(ctx: Ctx) -> dict[str, Any]:
    return public(_category(ctx.site, ctx.path_params["id"]))


def _check_category_name(site: Site, name: str, own_id: str | None = None) -> None:
    clash = site.store.find_name_ci("projectCategories", name)
    if clash is not None and clash["id"] != own_id:
        raise JiraError(409, errors={"name": f"The project category '{name}' already exists."})


@handles("POST", f"{API}/projectCategory")
def create_category(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    name = required_text(body, "name", "The project category name must not be empty.", max_len=255, strip=True)
    _check_category_name(ctx.site, name)
    cid = str(ctx.site.store.next_id("projectCategory"))
    record = {"self": api_url(ctx.site, f"/projectCategory/{cid}"), "id": cid, "name": name,
              "description": body.get("description") or ""}
    ctx.site.store.put("projectCategories", cid, record)
    return Reply(201, public(record))


@handles("PUT", f"{API}/projectCategory/{{id}}")
def update_category(ctx: Ctx) -> dict[str, Any]:
    record = _category(ctx.site, ctx.path_params["id"])
    body = body_of(ctx)
    if "name" in body:
        name = required_text(body, "name", "The project category name must not be empty.", max_len=255, strip=True)
        _check_category_name(ctx.site, name, record["id"])
        record["name"] = name
    if "description" in body:
        record["description"] = body["description"] or ""
    return public(record)


@handles("DELETE", f"{API}/projectCategory/{{id}}")
def delete_category(ctx: Ctx) -> Reply:
    record = _category(ctx.site, ctx.path_params["id"])
    # Jira deletes the category and leaves its projects uncategorised.
    for project in ctx.site.store.values("projects"):
        if str(project.get("_categoryId")) == record["id"]:
            project["_categoryId"] = None
            project.pop("projectCategory", None)
    ctx.site.store.delete("projectCategories", record["id"])
    return Reply(204)


@seed_type("projectCategories", exporter=lambda site: export_records(site, "projectCategories"))
def seed_categories(site: Site, data: Any) -> None:
    seed_records(site, "projectCategories", data, kind="projectCategory")


# --------------------------------------------------------------------------- issue link types

_DEFAULT_LINK_TYPES = (("10000", "Blocks", "is blocked by", "blocks"),
                       ("10001", "Cloners", "is cloned by", "clones"),
                       ("10002", "Duplicate", "is duplicated by", "duplicates"),
                       ("10003", "Relates", "relates to", "relates to"))


def _link_type(site: Site, lid: str) -> dict[str, Any]:
    return stored_or_404(site, "issueLinkTypes", lid, f"No issue link type with ID '{lid}' found.")  # Jira's wording


@handles("GET", f"{API}/issueLinkType")
def list_link_types(ctx: Ctx) -> dict[str, Any]:
    return {"issueLinkTypes": export_records(ctx.site, "issueLinkTypes")}


@handles("GET", f"{API}/issueLinkType/{{issueLinkTypeId}}")
def get_link_type(ctx: Ctx) -> dict[str, Any]:
    return public(_link_type(ctx.site, ctx.path_params["issueLinkTypeId"]))


def _link_type_fields(site: Site, body: dict[str, Any], own_id: str | None,
                      current: dict[str, Any] | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for field in ("name", "inward", "outward"):
        if field in body or current is None:
            out[field] = required_text(body, field, f"The issue link type {field} is required.", max_len=255,
                                       strip=True)
    if "name" in out:
        clash = site.store.find_name_ci("issueLinkTypes", out["name"])
        if clash is not None and clash["id"] != own_id:
            # Jira's wording for a duplicate link type name
            raise bad_request(f"The issue link type name '{out['name']}' is already in use.")
    return out


@handles("POST", f"{API}/issueLinkType")
def create_link_type(ctx: Ctx) -> Reply:
    fields = _link_type_fields(ctx.site, body_of(ctx), None)
    lid = str(ctx.site.store.next_id("issueLinkType"))
    record = {"id": lid, **fields, "self": api_url(ctx.site, f"/issueLinkType/{lid}")}
    ctx.site.store.put("issueLinkTypes", lid, record)
    return Reply(201, public(record))


@handles("PUT", f"{API}/issueLinkType/{{issueLinkTypeId}}")
def update_link_type(ctx: Ctx) -> dict[str, Any]:
    record = _link_type(ctx.site, ctx.path_params["issueLinkTypeId"])
    record.update(_link_type_fields(ctx.site, body_of(ctx), record["id"], record))
    return public(record)


@handles("DELETE", f"{API}/issueLinkType/{{issueLinkTypeId}}")
def delete_link_type(ctx: Ctx) -> Reply:
    record = _link_type(ctx.site, ctx.path_params["issueLinkTypeId"])
    ctx.site.store.delete("issueLinkTypes", record["id"])
    return Reply(204)


@seed_type("issueLinkTypes", exporter=lambda site: export_records(site, "issueLinkTypes"))
def seed_link_types(site: Site, data: Any) -> None:
    """Seed value: the ``issueLinkTypes`` array of ``GET /issueLinkType`` (replacing the defaults)."""
    site.store.coll("issueLinkTypes").clear()
    seed_records(site, "issueLinkTypes", data, kind="issueLinkType")


# --------------------------------------------------------------------------- ordered lists with one default


def _set_default(ctx: Ctx, coll: str, lookup: Callable[[Site, str], dict[str, Any]], flag: str) -> Reply:
    """Make the record the body's ``id`` names the only one of ``coll`` with ``flag`` set."""
    target = lookup(ctx.site, str(body_of(ctx).get("id")))
    for record in ctx.site.store.values(coll):
        record[flag] = record is target
    return Reply(204)


def _move(ctx: Ctx, coll: str, lookup: Callable[[Site, str], dict[str, Any]], what: str) -> Reply:
    """Move the body's ``ids`` after ``after`` or to ``position`` in ``coll``'s order (its list order)."""
    body = body_of(ctx)
    ids = [str(i) for i in body.get("ids") or []]
    if not ids:
        raise bad_request(errors={"ids": f"The list of {what} IDs must not be empty."})  # plausible
    for rid in ids:
        lookup(ctx.site, rid)
    records = ctx.site.store.coll(coll)
    order = move_in_order(list(records), ids, after=body.get("after"), position=body.get("position"))
    reorder(ctx.site, coll, list(records.values()), [records[k] for k in order], key="id")
    return Reply(204)


# --------------------------------------------------------------------------- priorities

_DEFAULT_PRIORITIES = (("1", "Highest", "#d04437", "highest"), ("2", "High", "#f15C75", "high"),
                       ("3", "Medium", "#f79232", "medium"), ("4", "Low", "#707070", "low"),
                       ("5", "Lowest", "#999999", "lowest"))
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$|^#[0-9A-Fa-f]{3}$")


def priority(site: Site, pid: str) -> dict[str, Any]:
    """The stored priority ``pid``; 404 as Jira words it otherwise."""
    return stored_or_404(site, "priorities", pid, f"Priority with ID {pid} not found.")  # plausible wording


@handles("GET", f"{API}/priority")
def list_priorities(ctx: Ctx) -> list[dict[str, Any]]:
    return plain_list(export_records(ctx.site, "priorities"))


@handles("GET", f"{API}/priority/search")
def search_priorities(ctx: Ctx) -> dict[str, Any]:
    items = export_records(ctx.site, "priorities")
    ids = set(ctx.list_arg("id"))
    name = (ctx.arg("priorityName") or "").casefold()
    if ids:
        items = [p for p in items if p["id"] in ids]
    if name:
        items = [p for p in items if name in p["name"].casefold()]
    if ctx.arg("onlyDefault") == "true":
        items = [p for p in items if p.get("isDefault")]
    project_ids = ctx.list_arg("projectId")
    if project_ids:
        allowed: set[str] = set()
        from .typeschemes import priority_ids_for_project  # cyclic at import time otherwise
        for pid in project_ids:
            allowed.update(priority_ids_for_project(ctx.site, pid))
        items = [p for p in items if p["id"] in allowed]
    return page_bean(ctx, items)


@handles("GET", f"{API}/priority/{{id}}")
def get_priority(ctx: Ctx) -> dict[str, Any]:
    return public(priority(ctx.site, ctx.path_params["id"]))


def _priority_fields(site: Site, body: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in body or own_id is None:
        out["name"] = required_text(body, "name", "The priority name must not be empty.", max_len=60, strip=True)
        clash = site.store.find_name_ci("priorities", out["name"])
        if clash is not None and clash["id"] != own_id:
            raise bad_request(errors={"name": "The name of the priority must be unique."})  # plausible
    if "statusColor" in body or own_id is None:
        color = body.get("statusColor")
        if not isinstance(color, str) or not _COLOR.match(color):
            raise bad_request(errors={"statusColor": "The status color must be a hex color code."})  # plausible
        out["statusColor"] = color
    if "description" in body:
        out["description"] = body["description"] or ""
    if body.get("iconUrl"):
        out["iconUrl"] = site.base_url + body["iconUrl"]
    if "avatarId" in body:
        out["avatarId"] = body["avatarId"]
    return out


@handles("POST", f"{API}/priority")
def create_priority(ctx: Ctx) -> Reply:
    fields = _priority_fields(ctx.site, body_of(ctx), None)
    pid = str(ctx.site.store.next_id("priority"))
    record = {"self": api_url(ctx.site, f"/priority/{pid}"), "statusColor": fields["statusColor"],
              "description": fields.get("description", ""),
              "iconUrl": fields.get("iconUrl", f"{ctx.site.base_url}/images/icons/priorities/medium.svg"),
              "name": fields["name"], "id": pid, "isDefault": False}
    if "avatarId" in fields:
        record["avatarId"] = fields["avatarId"]
    ctx.site.store.put("priorities", pid, record)
    from .typeschemes import on_priority_created
    on_priority_created(ctx.site, pid)
    return Reply(201, {"id": pid})


@handles("PUT", f"{API}/priority/{{id}}")
def update_priority(ctx: Ctx) -> Reply:
    record = priority(ctx.site, ctx.path_params["id"])
    record.update(_priority_fields(ctx.site, body_of(ctx), record["id"]))
    return Reply(204)


@handles("PUT", f"{API}/priority/default")
def set_default_priority(ctx: Ctx) -> Reply:
    return _set_default(ctx, "priorities", priority, "isDefault")


@handles("PUT", f"{API}/priority/move")
def move_priorities(ctx: Ctx) -> Reply:
    return _move(ctx, "priorities", priority, "priority")


@handles("DELETE", f"{API}/priority/{{id}}")
def delete_priority(ctx: Ctx) -> Reply:
    record = priority(ctx.site, ctx.path_params["id"])
    if record.get("isDefault"):
        raise bad_request("The default priority cannot be deleted.")  # plausible wording
    from .typeschemes import on_priority_deleted
    on_priority_deleted(ctx.site, record["id"])
    ctx.site.store.delete("priorities", record["id"])
    return task_reply(ctx, f"Delete priority {record['id']}")


@seed_type("priorities", exporter=lambda site: export_records(site, "priorities"))
def seed_priorities(site: Site, data: Any) -> None:
    """Seed value: ``GET /priority/search`` values (replacing the defaults)."""
    site.store.coll("priorities").clear()
    seed_records(site, "priorities", data, kind="priority")


# --------------------------------------------------------------------------- resolutions

_DEFAULT_RESOLUTIONS = (("10000", "Done", "Work has been completed on this issue."),
                        ("10001", "Won't Do", "This issue won't be actioned."),
                        ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
                        ("10003", "Cannot Reproduce", "This issue could not be reproduced."))


def _resolution(site: Site, rid: str) -> dict[str, Any]:
    return stored_or_404(site, "resolutions", rid, f"Resolution with ID {rid} not found.")  # plausible wording


def _resolution_plain(record: dict[str, Any]) -> dict[str, Any]:
    """``GET /resolution`` shape: the search shape without ``default``/``iconUrl``."""
    return {k: record[k] for k in ("self", "id", "description", "name") if k in record}


@handles("GET", f"{API}/resolution")
def list_resolutions(ctx: Ctx) -> list[dict[str, Any]]:
    return [_resolution_plain(r) for r in ctx.site.store.values("resolutions")]


@handles("GET", f"{API}/resolution/search")
def search_resolutions(ctx: Ctx) -> dict[str, Any]:
    items = export_records(ctx.site, "resolutions")
    ids = set(ctx.list_arg("id"))
    if ids:
        items = [r for r in items if r["id"] in ids]
    if ctx.arg("onlyDefault") == "true":
        items = [r for r in items if r.get("default")]
    return page_bean(ctx, items)


@handles("GET", f"{API}/resolution/{{id}}")
def get_resolution(ctx: Ctx) -> dict[str, Any]:
    return _resolution_plain(_resolution(ctx.site, ctx.path_params["id"]))


def _resolution_fields(site: Site, body: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    name = required_text(body, "name", "The resolution name must not be empty.", max_len=60, strip=True)
    clash = site.store.find_name_ci("resolutions", name)
    if clash is not None and clash["id"] != own_id:
        # names are unique ignoring case; Jira's wording
        raise bad_request(errors={"name": f"The resolution '{name}' already exists."})
    out: dict[str, Any] = {"name": name}
    if "description" in body:
        out["description"] = body["description"] or ""
    return out


@handles("POST", f"{API}/resolution")
def create_resolution(ctx: Ctx) -> Reply:
    fields = _resolution_fields(ctx.site, body_of(ctx), None)
    rid = str(ctx.site.store.next_id("resolution"))
    record = {"self": api_url(ctx.site, f"/resolution/{rid}"), "id": rid,
              "description": fields.get("description", ""), "name": fields["name"], "default": False}
    ctx.site.store.put("resolutions", rid, record)
    return Reply(201, {"id": rid})


@handles("PUT", f"{API}/resolution/{{id}}")
def update_resolution(ctx: Ctx) -> Reply:
    record = _resolution(ctx.site, ctx.path_params["id"])
    record.update(_resolution_fields(ctx.site, body_of(ctx), record["id"]))
    return Reply(204)


@handles("PUT", f"{API}/resolution/default")
def set_default_resolution(ctx: Ctx) -> Reply:
    return _set_default(ctx, "resolutions", _resolution, "default")


@handles("PUT", f"{API}/resolution/move")
def move_resolutions(ctx: Ctx) -> Reply:
    return _move(ctx, "resolutions", _resolution, "resolution")


@seed_type("resolutions", exporter=lambda site: export_records(site, "resolutions"))
def seed_resolutions(site: Site, data: Any) -> None:
    """Seed value: ``GET /resolution/search`` values (replacing the defaults)."""
    site.store.coll("resolutions").clear()
    seed_records(site, "resolutions", data, kind="resolution")


# --------------------------------------------------------------------------- statuses

# status category id, key, colour, name — Jira's four fixed categories
STATUS_CATEGORIES = {
    "1": ("undefined", "medium-gray", "No Category"),
    "2": ("new", "blue-gray", "To Do"),
    "4": ("indeterminate", "yellow", "In Progress"),
    "3": ("done", "green", "Done"),
}
_CATEGORY_BY_ENUM = {"TODO": "2", "IN_PROGRESS": "4", "DONE": "3"}
_DEFAULT_STATUSES = (("1", "Open", "TODO"), ("3", "In Progress", "IN_PROGRESS"), ("4", "Reopened", "TODO"),
                     ("5", "Resolved", "DONE"), ("6", "Closed", "DONE"), ("10000", "To Do", "TODO"),
                     ("10001", "Done", "DONE"))


def status(site: Site, sid: str) -> dict[str, Any] | None:
    return site.store.get("statuses", sid)


def _category_json(site: Site, cid: str) -> dict[str, Any]:
    key, colour, name = STATUS_CATEGORIES[cid]
    return {"self": api_url(site, f"/statuscategory/{cid}"), "id": int(cid), "key": key, "colorName": colour,
            "name": name}


def _status_details(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """The classic ``StatusDetails`` rendering of a stored ``JiraStatus``."""
    out = {"self": api_url(site, f"/status/{record['id']}"), "description": record.get("description", ""),
           "iconUrl": f"{site.base_url}/images/icons/statuses/generic.png", "name": record["name"],
           "id": record["id"], "statusCategory": _category_json(site, _CATEGORY_BY_ENUM[record["statusCategory"]])}
    scope = record.get("scope") or {}
    if scope.get("type") == "PROJECT":
        out["scope"] = {"type": "PROJECT", "project": {"id": scope["project"]["id"]}}
    return out


def _status_name_clash(site: Site, name: str, scope: dict[str, Any], own_id: str | None) -> bool:
    project = (scope.get("project") or {}).get("id")
    for record in site.store.values("statuses"):
        other = record.get("scope") or {"type": "GLOBAL"}
        same_scope = other.get("type") == scope.get("type") and (other.get("project") or {}).get("id") == project
        if same_scope and record["name"].casefold() == name.casefold() and record["id"] != own_id:
            return True
    return False


def create_status(site: Site, name: str, category: str, description: str,
                  scope: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create a status (used by ``POST /statuses`` and workflow creation); the caller validated the input."""
    sid = str(site.store.next_id("status"))
    record = {"id": sid, "name": name, "statusCategory": category, "scope": copy.deepcopy(scope or {"type": "GLOBAL"}),
              "description": description}
    site.store.put("statuses", sid, record)
    return record


def check_status_input(site: Site, item: Any, scope: dict[str, Any], own_id: str | None = None) -> None:
    """Refuse a status definition Jira refuses: no name, bad category, a duplicate name in the same scope."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
        raise bad_request("Status name must not be empty.")  # plausible wording
    if len(item["name"]) > 255:
        raise bad_request("Status name must not exceed 255 characters.")  # plausible wording
    if item.get("statusCategory") not in _CATEGORY_BY_ENUM:
        raise bad_request(f"Status category '{item.get('statusCategory')}' is invalid.")  # plausible wording
    if _status_name_clash(site, item["name"], scope, own_id):
        raise JiraError(409, f"Status with name '{item['name']}' already exists.")  # plausible wording


def _status_scope(site: Site, scope: Any) -> dict[str, Any]:
    if not isinstance(scope, dict) or scope.get("type") not in ("GLOBAL", "PROJECT"):
        raise bad_request("The scope type must be GLOBAL or PROJECT.")  # plausible wording
    if scope["type"] == "PROJECT":
        pid = str((scope.get("project") or {}).get("id", ""))
        if site.store.get("projects", pid) is None:
            raise bad_request(f"Project with ID {pid} was not found.")  # plausible wording
        return {"type": "PROJECT", "project": {"id": pid}}
    return {"type": "GLOBAL"}


@handles("GET", f"{API}/statuses/search")
def search_statuses(ctx: Ctx) -> dict[str, Any]:
    items = export_records(ctx.site, "statuses")
    text = (ctx.arg("searchString") or "").casefold()
    if text:
        items = [s for s in items if text in s["name"].casefold()]
    if ctx.arg("statusCategory"):
        items = [s for s in items if s["statusCategory"] == ctx.arg("statusCategory")]
    if ctx.arg("projectId"):
        pid = ctx.arg("projectId")
        items = [s for s in items if (s.get("scope") or {}).get("type") == "GLOBAL"
                 or (s["scope"].get("project") or {}).get("id") == pid]
    return page_bean(ctx, items, default_max=200, cap=200)


@handles("GET", f"{API}/statuses")
def get_statuses(ctx: Ctx) -> list[dict[str, Any]]:
    ids = ctx.list_arg("id")
    if not ids:
        raise bad_request("The 'id' parameter is required.")  # plausible wording
    if len(ids) > 50:
        raise bad_request("A maximum of 50 status IDs can be requested.")  # plausible wording
    return [public(r) for sid in ids if (r := status(ctx.site, sid)) is not None]


@handles("POST", f"{API}/statuses")
def create_statuses(ctx: Ctx) -> list[dict[str, Any]]:
    body = body_of(ctx)
    scope = _status_scope(ctx.site, body.get("scope"))
    items = body.get("statuses")
    if not isinstance(items, list) or not items:
        raise bad_request("At least one status must be provided.")  # plausible wording
    names = [str(i.get("name", "")).casefold() for i in items if isinstance(i, dict)]
    if len(set(names)) != len(names):
        raise bad_request("Status names in the request must be unique.")  # plausible wording
    for item in items:
        check_status_input(ctx.site, item, scope)
    return [public(create_status(ctx.site, i["name"].strip(), i["statusCategory"], i.get("description") or "",
                                 scope)) for i in items]


@handles("PUT", f"{API}/statuses")
def update_statuses(ctx: Ctx) -> Reply:
    items = body_of(ctx).get("statuses")
    if not isinstance(items, list) or not items:
        raise bad_request("At least one status must be provided.")  # plausible wording
    for item in items:
        record = status(ctx.site, str((item or {}).get("id")))
        if record is None:
            raise not_found(f"Status with ID {item.get('id')} was not found.")  # plausible wording
        check_status_input(ctx.site, item, record.get("scope") or {"type": "GLOBAL"}, record["id"])
    for item in items:
        record = status(ctx.site, str(item["id"]))
        record.update(name=item["name"].strip(), statusCategory=item["statusCategory"])
        if "description" in item:
            record["description"] = item["description"] or ""
    return Reply(204)


@handles("DELETE", f"{API}/statuses")
def delete_statuses(ctx: Ctx) -> Reply:
    ids = ctx.list_arg("id")
    if not ids:
        raise bad_request("The 'id' parameter is required.")  # plausible wording
    from .workflows import workflows_using_status
    for sid in ids:
        if status(ctx.site, sid) is None:
            raise not_found(f"Status with ID {sid} was not found.")  # plausible wording
        users = workflows_using_status(ctx.site, sid)
        if users:
            raise bad_request(f"Status with ID {sid} is used in workflows: {', '.join(users)}.")  # plausible
    for sid in ids:
        ctx.site.store.delete("statuses", sid)
    return Reply(204)


@handles("GET", f"{API}/status")
def list_statuses_classic(ctx: Ctx) -> list[dict[str, Any]]:
    return [_status_details(ctx.site, r) for r in ctx.site.store.values("statuses")]


@handles("GET", f"{API}/status/{{idOrName}}")
def get_status_classic(ctx: Ctx) -> dict[str, Any]:
    key = ctx.path_params["idOrName"]
    record = status(ctx.site, key) or ctx.site.store.find_name_ci("statuses", key)
    if record is None:
        raise not_found(f"The status with id '{key}' does not exist")  # Jira's wording
    return _status_details(ctx.site, record)


@handles("GET", f"{API}/statuscategory")
def list_status_categories(ctx: Ctx) -> list[dict[str, Any]]:
    return [_category_json(ctx.site, cid) for cid in STATUS_CATEGORIES]


@handles("GET", f"{API}/statuscategory/{{idOrKey}}")
def get_status_category(ctx: Ctx) -> dict[str, Any]:
    key = ctx.path_params["idOrKey"]
    for cid, (ckey, _colour, _name) in STATUS_CATEGORIES.items():
        if key in (cid, ckey):
            return _category_json(ctx.site, cid)
    raise not_found(f"The status category with id or key '{key}' does not exist.")  # plausible wording


def _check_seed_status(site: Site, item: dict[str, Any]) -> None:
    if item.get("statusCategory") not in _CATEGORY_BY_ENUM:
        raise ValueError(f"seed statuses: bad statusCategory in {item!r}")
    scope = item.get("scope") or {}
    if scope.get("type") == "PROJECT":
        project_id = str((scope.get("project") or {}).get("id", ""))
        if site.store.get("projects", project_id) is None:
            raise SeedRefError(f"seed status {item.get('id')!r} is scoped to unknown project {project_id!r}")


# Loaded after projects, so a project-scoped (team-managed) status can be checked against its project.
@seed_type("statuses", exporter=lambda site: export_records(site, "statuses"), after=("projects",))
def seed_statuses(site: Site, data: Any) -> None:
    """Seed value: ``GET /statuses/search`` values (replacing the defaults)."""
    site.store.coll("statuses").clear()
    seed_records(site, "statuses", data, kind="status", check=_check_seed_status)


# --------------------------------------------------------------------------- issue types

_DEFAULT_ISSUE_TYPES = (("10000", "Epic", "A big user story that needs to be broken down.", 1, 10307),
                        ("10001", "Task", "A small, distinct piece of work.", 0, 10318),
                        ("10002", "Sub-task", "A small piece of work that's part of a larger task.", -1, 10316),
                        ("10003", "Story", "Functionality or a feature expressed as a user goal.", 0, 10315),
                        ("10004", "Bug", "A problem or error.", 0, 10303))


def issue_type(site: Site, tid: str) -> dict[str, Any]:
    """The stored issue type ``tid``; 404 as Jira words it otherwise."""
    return stored_or_404(site, "issueTypes", tid, f"Issue type with ID '{tid}' not found.")  # plausible wording


def _issue_type_record(site: Site, tid: str, name: str, description: str, level: int, avatar: int) -> dict[str, Any]:
    return {"self": api_url(site, f"/issuetype/{tid}"), "id": tid, "description": description,
            "iconUrl": f"{site.base_url}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{avatar}?size=medium",
            "name": name, "subtask": level == -1, "avatarId": avatar, "hierarchyLevel": level}


def _check_issue_type_name(site: Site, name: str, own_id: str | None) -> None:
    clash = site.store.find_name_ci("issueTypes", name)
    if clash is not None and clash["id"] != own_id:
        raise JiraError(409, errors={"name": "An issue type with this name already exists."})  # Jira's wording


@handles("GET", f"{API}/issuetype")
def list_issue_types(ctx: Ctx) -> list[dict[str, Any]]:
    return export_records(ctx.site, "issueTypes")


@handles("GET", f"{API}/issuetype/{{id}}")
def get_issue_type(ctx: Ctx) -> dict[str, Any]:
    return public(issue_type(ctx.site, ctx.path_params["id"]))


@handles("POST", f"{API}/issuetype")
def create_issue_type(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    name = required_text(body, "name", "The issue type name must not be empty.", max_len=60, strip=True)
    kind = body.get("type")
    level = body.get("hierarchyLevel")
    if kind not in (None, "subtask", "standard"):
        raise bad_request(errors={"type": "The issue type type must be 'subtask' or 'standard'."})  # plausible
    if level is None:
        level = -1 if kind == "subtask" else 0
    if level not in (-1, 0):
        # only the two base levels can be created through the API
        raise bad_request(errors={"hierarchyLevel": "The hierarchy level must be -1 or 0."})  # plausible wording
    if kind is not None and (kind == "subtask") != (level == -1):
        raise bad_request(errors={"hierarchyLevel": "The hierarchy level doesn't match the issue type type."})
    _check_issue_type_name(ctx.site, name, None)
    tid = str(ctx.site.store.next_id("issueType"))
    record = _issue_type_record(ctx.site, tid, name, body.get("description") or "", level,
                                10320 if level == -1 else 10318)
    ctx.site.store.put("issueTypes", tid, record)
    from .typeschemes import on_issue_type_created
    on_issue_type_created(ctx.site, tid)
    return Reply(201, public(record))


@handles("PUT", f"{API}/issuetype/{{id}}")
def update_issue_type(ctx: Ctx) -> dict[str, Any]:
    record = issue_type(ctx.site, ctx.path_params["id"])
    body = body_of(ctx)
    if "name" in body:
        name = required_text(body, "name", "The issue type name must not be empty.", max_len=60, strip=True)
        _check_issue_type_name(ctx.site, name, record["id"])
        record["name"] = name
    if "description" in body:
        record["description"] = body["description"] or ""
    if "avatarId" in body:
        record["avatarId"] = body["avatarId"]
    return public(record)


@handles("DELETE", f"{API}/issuetype/{{id}}")
def delete_issue_type(ctx: Ctx) -> Reply:
    record = issue_type(ctx.site, ctx.path_params["id"])
    alternative = ctx.arg("alternativeIssueTypeId")
    if alternative is not None:
        issue_type(ctx.site, alternative)
    from .typeschemes import on_issue_type_deleted
    from .workflows import on_issue_type_deleted as drop_from_workflow_schemes
    on_issue_type_deleted(ctx.site, record["id"])
    drop_from_workflow_schemes(ctx.site, record["id"])
    ctx.site.store.delete("issueTypes", record["id"])
    return Reply(204)


@seed_type("issueTypes", exporter=lambda site: export_records(site, "issueTypes"))
def seed_issue_types(site: Site, data: Any) -> None:
    """Seed value: ``GET /issuetype`` (replacing the defaults)."""
    site.store.coll("issueTypes").clear()
    seed_records(site, "issueTypes", data, kind="issueType")


# --------------------------------------------------------------------------- project roles and their default actors

_DEFAULT_ROLES = (("10002", "Administrators", "Administrators of a project"),
                  ("10003", "atlassian-addons-project-access",
                   "A project role that represents Connect add-ons declaring a scope that requires more than read "
                   "issue permissions"),
                  ("10004", "Member", "Members of a project"))
READ_ONLY_ROLE = "atlassian-addons-project-access"


def role(site: Site, rid: Any) -> dict[str, Any]:
    """The stored project role ``rid``; 404 as Jira words it otherwise."""
    return stored_or_404(site, "projectRoles", rid,
                         f"Can not retrieve project role with id: {rid}")  # plausible wording


def _role_json(record: dict[str, Any], *, actors: bool = True) -> dict[str, Any]:
    out = public(record)
    if not actors:
        out.pop("actors", None)
    return out


def _refuse_read_only(record: dict[str, Any]) -> None:
    if record["name"] == READ_ONLY_ROLE:
        raise bad_request(f"The project role '{READ_ONLY_ROLE}' can't be changed.")  # plausible wording


def group_actor(site: Site, group: dict[str, Any]) -> dict[str, Any]:
    """A group ``RoleActor`` (ids are stable per group so lists compare equal after a round trip)."""
    return {"id": _actor_id(site, "group", group["groupId"]), "displayName": group["name"],
            "type": "atlassian-group-role-actor", "name": group["name"],
            "actorGroup": {"name": group["name"], "displayName": group["name"], "groupId": group["groupId"]}}


def user_actor(site: Site, user: dict[str, Any]) -> dict[str, Any]:
    return {"id": _actor_id(site, "user", user["accountId"]), "displayName": user.get("displayName", ""),
            "type": "atlassian-user-role-actor", "actorUser": {"accountId": user["accountId"]}}


def _actor_id(site: Site, kind: str, key: str) -> int:
    ids = site.extra.setdefault("roleActorIds", {})
    if (kind, key) not in ids:
        ids[(kind, key)] = site.store.next_id("roleActor")
    return ids[(kind, key)]


def resolve_actors(site: Site, users: Iterable[str], groups: Iterable[str],
                   group_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Turn ``user``/``group``/``groupId`` lists into ``RoleActor`` objects, refusing unknown ones like Jira."""
    out = []
    for account_id in users:
        user = site.store.get("users", account_id)
        if user is None:
            raise bad_request(f"The user with account ID '{account_id}' does not exist.")  # plausible wording
        out.append(user_actor(site, user))
    for name in groups:
        group = site.store.find_name_ci("groups", name)
        if group is None:
            raise bad_request(f"Group '{name}' does not exist.")  # plausible wording
        out.append(group_actor(site, group))
    for gid in group_ids:
        group = site.store.get("groups", gid)
        if group is None:
            raise bad_request(f"Group with ID '{gid}' does not exist.")  # plausible wording
        out.append(group_actor(site, group))
    return out


def merge_actors(current: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {a["id"] for a in current}
    return current + [a for a in extra if a["id"] not in seen and not seen.add(a["id"])]


def remove_actor(site: Site, actors: list[dict[str, Any]], ctx: Ctx) -> list[dict[str, Any]]:
    """Remove the one actor named by the ``user``/``group``/``groupId`` query parameter."""
    user, group, group_id = ctx.arg("user"), ctx.arg("group"), ctx.arg("groupId")
    if sum(x is not None for x in (user, group, group_id)) != 1:
        raise bad_request("Exactly one of 'user', 'group' or 'groupId' must be provided.")  # plausible wording
    def matches(actor: dict[str, Any]) -> bool:
        if user is not None:
            return (actor.get("actorUser") or {}).get("accountId") == user
        g = actor.get("actorGroup") or {}
        return g.get("name") == group if group is not None else g.get("groupId") == group_id
    kept = [a for a in actors if not matches(a)]
    if len(kept) == len(actors):
        raise not_found("The actor is not a member of the role.")  # plausible wording
    return kept


@handles("GET", f"{API}/role")
def list_roles(ctx: Ctx) -> list[dict[str, Any]]:
    return [_role_json(r) for r in ctx.site.store.values("projectRoles")]


@handles("GET", f"{API}/role/{{id}}")
def get_role(ctx: Ctx) -> dict[str, Any]:
    return _role_json(role(ctx.site, ctx.path_params["id"]))


def _role_name(body: dict[str, Any]) -> str:
    # The one name the spec says Jira refuses rather than trims: "Cannot begin or end with whitespace."
    name = required_text(body, "name", "The project role name must not be empty.", max_len=255)
    if name != name.strip():
        raise bad_request("The project role name cannot start or end with whitespace.")  # plausible wording
    return name


def _check_role_name(site: Site, name: str, own_id: str | None) -> None:
    clash = site.store.find_name_ci("projectRoles", name)
    if clash is not None and str(clash["id"]) != own_id:
        raise JiraError(409, f"A project role with name '{name}' already exists.")  # plausible wording


@handles("POST", f"{API}/role")
def create_role(ctx: Ctx) -> dict[str, Any]:
    body = body_of(ctx)
    name = _role_name(body)
    _check_role_name(ctx.site, name, None)
    rid = ctx.site.store.next_id("projectRole")
    record = {"self": api_url(ctx.site, f"/role/{rid}"), "name": name, "id": rid,
              "description": body.get("description") or "", "actors": []}
    ctx.site.store.put("projectRoles", rid, record)
    return _role_json(record)


def _update_role(ctx: Ctx, *, partial: bool) -> dict[str, Any]:
    record = role(ctx.site, ctx.path_params["id"])
    _refuse_read_only(record)
    body = body_of(ctx)
    if not partial and not ("name" in body and "description" in body):
        raise bad_request("Both name and description must be provided.")  # plausible wording
    if "name" in body:
        name = _role_name(body)
        _check_role_name(ctx.site, name, str(record["id"]))
        record["name"] = name
    if "description" in body:
        record["description"] = body["description"] or ""
    return _role_json(record)


@handles("PUT", f"{API}/role/{{id}}")
def replace_role(ctx: Ctx) -> dict[str, Any]:
    return _update_role(ctx, partial=False)


@handles("POST", f"{API}/role/{{id}}")
def partial_update_role(ctx: Ctx) -> dict[str, Any]:
    return _update_role(ctx, partial=True)


@handles("DELETE", f"{API}/role/{{id}}")
def delete_role(ctx: Ctx) -> Reply:
    record = role(ctx.site, ctx.path_params["id"])
    _refuse_read_only(record)
    swap = ctx.arg("swap")
    if swap is not None:
        role(ctx.site, swap)
    from .projects import on_role_deleted
    on_role_deleted(ctx.site, str(record["id"]))
    ctx.site.store.delete("projectRoles", str(record["id"]))
    return Reply(204)


@handles("GET", f"{API}/role/{{id}}/actors")
def get_default_actors(ctx: Ctx) -> dict[str, Any]:
    return {"actors": copy.deepcopy(role(ctx.site, ctx.path_params["id"]).get("actors", []))}


@handles("POST", f"{API}/role/{{id}}/actors")
def add_default_actors(ctx: Ctx) -> dict[str, Any]:
    record = role(ctx.site, ctx.path_params["id"])
    _refuse_read_only(record)
    body = body_of(ctx)
    extra = resolve_actors(ctx.site, body.get("user") or [], body.get("group") or [], body.get("groupId") or [])
    if not extra:
        raise bad_request("You must specify at least one actor.")  # plausible wording
    record["actors"] = merge_actors(record.get("actors", []), extra)
    return {"actors": copy.deepcopy(record["actors"])}


@handles("DELETE", f"{API}/role/{{id}}/actors")
def remove_default_actor(ctx: Ctx) -> dict[str, Any]:
    record = role(ctx.site, ctx.path_params["id"])
    _refuse_read_only(record)
    record["actors"] = remove_actor(ctx.site, record.get("actors", []), ctx)
    return {"actors": copy.deepcopy(record["actors"])}


def regroup_role_actors(site: Site, old_group_id: str, group: dict[str, Any]) -> None:
    """Roles' default actors follow a group replaced by a namesake (a seed's group taking a default one's place):
    left on the old id, they would name a group that no longer exists, which Jira never shows."""
    for record in site.store.values("projectRoles"):
        record["actors"] = [group_actor(site, group) if (a.get("actorGroup") or {}).get("groupId") == old_group_id
                            else a for a in record.get("actors", [])]


def _check_seed_role(site: Site, item: dict[str, Any]) -> None:
    for actor in item.get("actors", []):
        group = actor.get("actorGroup")
        if group and site.store.get("groups", group.get("groupId", "")) is None:
            raise ValueError(f"seed projectRoles: role {item.get('name')!r} names unknown group {group!r}")
        user = actor.get("actorUser")
        if user and site.store.get("users", user.get("accountId", "")) is None:
            raise ValueError(f"seed projectRoles: role {item.get('name')!r} names unknown user {user!r}")


@seed_type("projectRoles", exporter=lambda site: export_records(site, "projectRoles"), after=("groups", "users"))
def seed_roles(site: Site, data: Any) -> None:
    """Seed value: ``GET /role`` (with default actors; replacing the defaults)."""
    site.store.coll("projectRoles").clear()
    seed_records(site, "projectRoles", data, kind="projectRole", check=_check_seed_role)


# --------------------------------------------------------------------------- users

def _user_record(site: Site, account_id: str, name: str, *, account_type: str = "atlassian",
                 email: str | None = None) -> dict[str, Any]:
    record = {"self": api_url(site, f"/user?accountId={account_id}"), "accountId": account_id,
              "accountType": account_type, "avatarUrls": avatar_urls(site, "user", 10122),
              "displayName": name, "active": True, "timeZone": "Etc/UTC", "locale": "en_US"}
    if email:
        record["emailAddress"] = email
    return record


def admin_account_id(site: Site) -> str:
    """The accountId of the site's first administrator (stable per site name)."""
    return "557058:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"fakejira-admin:{site.name}"))


def _user(site: Site, account_id: str | None) -> dict[str, Any]:
    user = site.store.get("users", account_id or "")
    if user is None:
        raise not_found("Specified user does not exist or you do not have required permissions")
    return user


def _user_json(site: Site, user: dict[str, Any], expand: str | None) -> dict[str, Any]:
    out = public(user)
    if expand and "groups" in expand.split(","):
        names = [{"name": g["name"], "groupId": g["groupId"], "self": api_url(site, f"/group?groupId={g['groupId']}")}
                 for g in site.store.values("groups") if user["accountId"] in g.get("_members", [])]
        out["groups"] = {"size": len(names), "items": names}
    return out


@handles("GET", f"{API}/user")
def get_user(ctx: Ctx) -> dict[str, Any]:
    if ctx.arg("accountId") is None:
        raise bad_request("The accountId query parameter needs to be provided.")  # plausible wording
    return _user_json(ctx.site, _user(ctx.site, ctx.arg("accountId")), ctx.arg("expand"))


@handles("GET", f"{API}/user/bulk")
def bulk_users(ctx: Ctx) -> dict[str, Any]:
    ids = ctx.list_arg("accountId")
    if not ids:
        raise bad_request("At least one accountId must be provided.")  # plausible wording
    users = [public(u) for aid in ids if (u := ctx.site.store.get("users", aid)) is not None]
    return page_bean(ctx, users, default_max=10, cap=200)


def _slice(ctx: Ctx, items: list[Any], cap: int = 1000) -> list[Any]:
    start = ctx.int_arg("startAt", 0)
    count = min(ctx.int_arg("maxResults", 50), cap)
    if start < 0 or count < 0:
        raise bad_request("The 'startAt' and 'maxResults' parameters must not be negative.")
    return items[start:start + count]


@handles("GET", f"{API}/user/search")
def search_users(ctx: Ctx) -> list[dict[str, Any]]:
    query, account_id = ctx.arg("query"), ctx.arg("accountId")
    if not query and not account_id and not ctx.arg("property"):
        raise bad_request("One of 'query' or 'accountId' query parameters must be provided.")  # Jira's wording
    users = [public(u) for u in ctx.site.store.values("users") if u.get("active", True)]
    if account_id:
        users = [u for u in users if u["accountId"] == account_id]
    if query:
        q = query.casefold()
        users = [u for u in users if q in u.get("displayName", "").casefold()
                 or q in u.get("emailAddress", "").casefold()]
    return _slice(ctx, users, cap=1000)


@handles("GET", f"{API}/users/search")
def all_users(ctx: Ctx) -> list[dict[str, Any]]:
    return _slice(ctx, export_records(ctx.site, "users"), cap=1000)


@handles("GET", f"{API}/myself")
def myself(ctx: Ctx) -> dict[str, Any]:
    if ctx.account_id is None:
        if ctx.auth_kind == "anonymous":
            raise JiraError(401, "You are not authenticated. Authentication required to perform this operation.")
        # an app acting as itself is its own "app" user
        return _user_record(ctx.site, f"app-{ctx.auth_kind}", "App user", account_type="app")
    return _user_json(ctx.site, _user(ctx.site, ctx.account_id), ctx.arg("expand"))


@seed_type("users", exporter=lambda site: export_records(site, "users"))
def seed_users(site: Site, data: Any) -> None:
    """Seed value: ``GET /users/search`` (merged over the site's admin user)."""
    seed_records(site, "users", data, kind="user", key="accountId")


# --------------------------------------------------------------------------- groups


def _group_id(site: Site, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fakejira-group:{site.name}:{name}"))


def _group(site: Site, ctx: Ctx) -> dict[str, Any]:
    gid, name = ctx.arg("groupId"), ctx.arg("groupname")
    if gid is None and name is None:
        raise bad_request("You must specify a group name or a group ID.")  # plausible wording
    group = site.store.get("groups", gid) if gid is not None else site.store.find_name_ci("groups", name)
    if group is None:
        raise not_found("Specified group does not exist.")  # Jira's wording
    return group


@handles("GET", f"{API}/group/bulk")
def bulk_groups(ctx: Ctx) -> dict[str, Any]:
    groups = export_records(ctx.site, "groups")
    ids, names = set(ctx.list_arg("groupId")), set(ctx.query.getlist("groupName"))
    if ids or names:
        groups = [g for g in groups if g["groupId"] in ids or g["name"] in names]
    return page_bean(ctx, groups)


@handles("GET", f"{API}/group/member")
def group_members(ctx: Ctx) -> dict[str, Any]:
    group = _group(ctx.site, ctx)
    include_inactive = ctx.arg("includeInactiveUsers") == "true"
    keys = ("self", "accountId", "accountType", "active", "avatarUrls", "displayName", "emailAddress", "timeZone")
    members = []
    for account_id in group.get("_members", []):
        user = ctx.site.store.get("users", account_id)
        if user is not None and (include_inactive or user.get("active", True)):
            members.append({k: copy.deepcopy(user[k]) for k in keys if k in user})
    return page_bean(ctx, members)


@handles("POST", f"{API}/group")
def create_group(ctx: Ctx) -> Reply:
    name = required_text(body_of(ctx), "name", "You must specify a group name.", max_len=255, strip=True)
    if ctx.site.store.find_name_ci("groups", name) is not None:
        raise bad_request("A group with that name already exists.")  # Jira's wording
    record = {"name": name, "groupId": _group_id(ctx.site, name), "_members": []}
    ctx.site.store.put("groups", record["groupId"], record)
    return Reply(201, {"name": name, "groupId": record["groupId"],
                       "self": api_url(ctx.site, f"/group?groupId={record['groupId']}"),
                       "users": {"size": 0, "items": [], "max-results": 50, "start-index": 0, "end-index": 0},
                       "expand": "users"})


@handles("POST", f"{API}/group/user")
def add_group_member(ctx: Ctx) -> Reply:
    """One user into one group (``groupId`` or ``groupname``); Jira refuses a member twice and unknown users."""
    group = _group(ctx.site, ctx)
    account_id = body_of(ctx).get("accountId")
    if not isinstance(account_id, str) or not account_id.strip():
        raise bad_request("You must specify an accountId.")  # plausible wording (the spec: "accountId is missing")
    if ctx.site.store.get("users", account_id) is None:
        raise not_found(f"The user with account ID '{account_id}' does not exist.")  # plausible wording
    members = group.setdefault("_members", [])
    if account_id in members:
        raise bad_request(f"Cannot add user. User is already a member of '{group['name']}'")  # Jira's wording
    members.append(account_id)
    ctx.site.store.put("groups", group["groupId"], group)
    return Reply(201, {"name": group["name"], "groupId": group["groupId"],
                       "self": api_url(ctx.site, f"/group?groupId={group['groupId']}"),
                       "users": {"size": len(members), "items": [], "max-results": 50, "start-index": 0,
                                 "end-index": 0},
                       "expand": "users"})


@seed_type("groups", exporter=lambda site: export_records(site, "groups"))
def seed_groups(site: Site, data: Any) -> None:
    """Seed value: ``GET /group/bulk`` values (merged over the defaults)."""
    for item in data:
        existing = site.store.get("groups", item.get("groupId", ""))
        members = existing.get("_members", []) if existing else []
        namesake = site.store.find_name_ci("groups", item["name"])
        if namesake is not None and namesake["groupId"] != item["groupId"]:
            # the seed's group of that name replaces this site's default one (group names are unique)
            site.store.delete("groups", namesake["groupId"])
            regroup_role_actors(site, namesake["groupId"], item)
        site.store.put("groups", item["groupId"], {**copy.deepcopy(item), "_members": list(members)})


def _export_members(site: Site) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for group in site.store.values("groups"):
        if group.get("_members"):
            out[group["groupId"]] = [{"accountId": a} for a in group["_members"]]
    return out


@seed_type("groupMembers", exporter=_export_members, after=("groups", "users"))
def seed_group_members(site: Site, data: Any) -> None:
    """Seed value: ``{groupId: [{"accountId": ...}, ...]}`` (the accountIds of ``GET /group/member``)."""
    for gid, members in data.items():
        group = site.store.get("groups", gid)
        if group is None:
            raise ValueError(f"seed groupMembers: unknown group {gid}")
        for member in members:
            if site.store.get("users", member["accountId"]) is None:
                raise ValueError(f"seed groupMembers: group {gid} names unknown user {member['accountId']}")
        group["_members"] = [m["accountId"] for m in members]


# --------------------------------------------------------------------------- permissions check

_ALL_USER_GLOBALS = {"USER_PICKER", "CREATE_SHARED_OBJECTS", "MANAGE_GROUP_FILTER_SUBSCRIPTIONS", "BULK_CHANGE"}
_ADMIN_GLOBALS = {"ADMINISTER", "SYSTEM_ADMIN", "BROWSE_USERS"} | _ALL_USER_GLOBALS


@handles("POST", f"{API}/permissions/check")
def check_permissions(ctx: Ctx) -> dict[str, Any]:
    """Grants: global ones by admin membership; project ones to admins only (a minimal, strict model)."""
    body = body_of(ctx)
    account_id = body.get("accountId") or ctx.account_id
    if account_id is not None and ctx.site.store.get("users", account_id) is None:
        raise bad_request(f"No user found for accountId: {account_id}")  # plausible wording
    is_admin = account_id in ctx.site.admins
    held = _ADMIN_GLOBALS if is_admin else (_ALL_USER_GLOBALS if account_id else set())
    globals_ = [p for p in body.get("globalPermissions") or [] if p in held]
    grants = []
    for item in body.get("projectPermissions") or []:
        projects = [int(p) for p in item.get("projects") or [] if ctx.site.store.get("projects", str(p))]
        for permission in item.get("permissions") or []:
            if is_admin:
                grants.append({"permission": permission, "projects": projects,
                               "issues": list(item.get("issues") or [])})
    return {"globalPermissions": globals_, "projectPermissions": grants}


# --------------------------------------------------------------------------- server info and settings


@handles("GET", f"{API}/serverInfo")
def server_info(ctx: Ctx) -> dict[str, Any]:
    return {"baseUrl": ctx.site.base_url, "displayUrl": ctx.site.base_url, "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100280,
            "buildDate": "2026-05-01T00:00:00.000+00:00", "serverTime": "2026-05-20T12:00:00.000+00:00",
            "scmInfo": "500abd49", "serverTitle": "Jira"}


_PROVIDERS = {"JIRA": {"key": "JIRA", "name": "JIRA provided time tracking",
                       "url": "/secure/admin/TimeTrackingAdmin!default.jspa"}}
_ADVANCED = (
    ("jira.clone.prefix", "The prefix added to the Summary field of cloned issues", "string", "CLONE -"),
    ("jira.date.picker.java.format", "Date picker Java format", "string", "d/MMM/yy"),
    ("jira.date.picker.javascript.format", "Date picker JavaScript format", "string", "%e/%b/%y"),
    ("jira.date.time.picker.java.format", "Date time picker Java format", "string", "dd/MMM/yy h:mm a"),
    ("jira.date.time.picker.javascript.format", "Date time picker JavaScript format", "string", "%e/%b/%y %I:%M %p"),
    ("jira.issue.actions.order", "The default order of actions", "string", "asc"),
    ("jira.projectkey.warning", "The project key warning", "string", "testing"),
    ("jira.projectname.warning", "The project name warning", "string", "testing"),
    ("jira.table.cols.subtasks", "The columns shown in the sub-tasks table", "string", "issuetype, status"),
    ("jira.view.issue.links.sort.order", "The sort order of issue links", "string", "type, status, priority"),
    ("jira.comment.collapsing.minimum.hidden", "Minimum number of comments hidden", "number", "4"),
    ("jira.newsletter.tip.delay.days", "Days before the newsletter tip is shown", "number", "7"),
)


def _settings(site: Site) -> dict[str, Any]:
    return site.store.coll("settings").setdefault("site", {})


@handles("GET", f"{API}/configuration/timetracking")
def get_timetracking(ctx: Ctx) -> Any:
    provider = _settings(ctx.site).get("timetracking")
    return Reply(204) if provider is None else copy.deepcopy(provider)


@handles("GET", f"{API}/configuration/timetracking/list")
def list_timetracking(ctx: Ctx) -> list[dict[str, Any]]:
    return [copy.deepcopy(p) for p in _PROVIDERS.values()]


@handles("PUT", f"{API}/configuration/timetracking")
def set_timetracking(ctx: Ctx) -> Reply:
    key = body_of(ctx).get("key")
    if key not in _PROVIDERS:
        raise bad_request(f"The time tracking provider '{key}' does not exist.")  # plausible wording
    _settings(ctx.site)["timetracking"] = copy.deepcopy(_PROVIDERS[key])
    return Reply(204)


@handles("POST", f"{API}/configuration/timetracking")
def disable_timetracking(ctx: Ctx) -> Reply:
    _settings(ctx.site)["timetracking"] = None
    return Reply(204)


@handles("GET", f"{API}/configuration/timetracking/options")
def get_timetracking_options(ctx: Ctx) -> dict[str, Any]:
    return copy.deepcopy(_settings(ctx.site)["timetrackingOptions"])


@handles("PUT", f"{API}/configuration/timetracking/options")
def set_timetracking_options(ctx: Ctx) -> dict[str, Any]:
    body = body_of(ctx)
    errors = {}
    if body.get("defaultUnit") not in ("minute", "hour", "day", "week"):
        errors["defaultUnit"] = "The default unit is invalid."  # plausible wording
    if body.get("timeFormat") not in ("pretty", "days", "hours"):
        errors["timeFormat"] = "The time format is invalid."  # plausible wording
    for field, top in (("workingDaysPerWeek", 7), ("workingHoursPerDay", 24)):
        value = body.get(field)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= top:
            errors[field] = f"The {field} value is invalid."  # plausible wording
    if errors:
        raise bad_request(errors=errors)
    options = {k: body[k] for k in ("workingHoursPerDay", "workingDaysPerWeek", "timeFormat", "defaultUnit")}
    _settings(ctx.site)["timetrackingOptions"] = options
    return copy.deepcopy(options)


@handles("GET", f"{API}/configuration")
def get_configuration(ctx: Ctx) -> dict[str, Any]:
    settings = _settings(ctx.site)
    return {"votingEnabled": True, "watchingEnabled": True, "unassignedIssuesAllowed": False,
            "subTasksEnabled": True, "issueLinkingEnabled": True,
            "timeTrackingEnabled": settings.get("timetracking") is not None, "attachmentsEnabled": True,
            "timeTrackingConfiguration": copy.deepcopy(settings["timetrackingOptions"])}


@handles("GET", f"{API}/application-properties/advanced-settings")
def advanced_settings(ctx: Ctx) -> list[dict[str, Any]]:
    return copy.deepcopy(_settings(ctx.site)["advancedSettings"])


@handles("PUT", f"{API}/application-properties/{{id}}")
def set_application_property(ctx: Ctx) -> dict[str, Any]:
    pid = ctx.path_params["id"]
    body = body_of(ctx)
    for prop in _settings(ctx.site)["advancedSettings"]:
        if prop["id"] == pid:
            value = body.get("value")
            if not isinstance(value, str):
                raise bad_request(errors={"value": "The value must be a string."})  # plausible wording
            if prop["type"] == "number" and not value.lstrip("-").isdigit():
                raise bad_request(f"The value '{value}' is not a valid number.")  # plausible wording
            prop["value"] = value
            return copy.deepcopy(prop)
    raise not_found(f"The application property with key '{pid}' does not exist.")  # plausible wording


def _export_settings(site: Site) -> dict[str, Any]:
    settings = _settings(site)
    return {"timetracking": copy.deepcopy(settings.get("timetracking")),
            "timetrackingOptions": copy.deepcopy(settings["timetrackingOptions"]),
            "advancedSettings": copy.deepcopy(settings["advancedSettings"])}


@seed_type("settings", exporter=_export_settings)
def seed_settings(site: Site, data: Any) -> None:
    """Seed value: ``{"timetracking": GET …/timetracking or null, "timetrackingOptions": …, "advancedSettings": …}``."""
    settings = _settings(site)
    for key in ("timetracking", "timetrackingOptions", "advancedSettings"):
        if key in data:
            settings[key] = copy.deepcopy(data[key])


# --------------------------------------------------------------------------- a brand-new site


@site_defaults
def install_basics(site: Site) -> None:
    """Link types, priorities, resolutions, statuses, issue types, roles, the admin user and groups."""
    store = site.store
    for lid, name, inward, outward in _DEFAULT_LINK_TYPES:
        store.put("issueLinkTypes", lid, {"id": lid, "name": name, "inward": inward, "outward": outward,
                                          "self": api_url(site, f"/issueLinkType/{lid}")})
    store.bump("issueLinkType", 10003)
    for pid, name, colour, icon in _DEFAULT_PRIORITIES:
        store.put("priorities", pid, {"self": api_url(site, f"/priority/{pid}"), "statusColor": colour,
                                      "description": f"{name} priority", "name": name, "id": pid,
                                      "iconUrl": f"{site.base_url}/images/icons/priorities/{icon}.svg",
                                      "isDefault": pid == "3"})
    for rid, name, description in _DEFAULT_RESOLUTIONS:
        store.put("resolutions", rid, {"self": api_url(site, f"/resolution/{rid}"), "id": rid,
                                       "description": description, "name": name, "default": rid == "10000"})
    store.bump("resolution", 10003)
    for sid, name, category in _DEFAULT_STATUSES:
        store.put("statuses", sid, {"id": sid, "name": name, "statusCategory": category,
                                    "scope": {"type": "GLOBAL"}, "description": ""})
    store.bump("status", 10001)
    for tid, name, description, level, avatar in _DEFAULT_ISSUE_TYPES:
        store.put("issueTypes", tid, _issue_type_record(site, tid, name, description, level, avatar))
    store.bump("issueType", 10004)
    admin = admin_account_id(site)
    store.put("users", admin, _user_record(site, admin, "Site Admin", email=f"admin@{site.name}.example"))
    site.admins.add(admin)
    for name in ("jira-administrators", f"jira-users-{site.name}", "site-admins", "jira-software-users"):
        members = [admin]
        store.put("groups", _group_id(site, name), {"name": name, "groupId": _group_id(site, name),
                                                    "_members": members})
    admins_group = store.find_name_ci("groups", "jira-administrators")
    for rid, name, description in _DEFAULT_ROLES:
        actors = [group_actor(site, admins_group)] if name == "Administrators" else []
        store.put("projectRoles", rid, {"self": api_url(site, f"/role/{rid}"), "name": name, "id": int(rid),
                                        "description": description, "actors": actors})
    store.bump("projectRole", 10004)
    settings = _settings(site)
    settings["timetracking"] = copy.deepcopy(_PROVIDERS["JIRA"])
    settings["timetrackingOptions"] = {"workingHoursPerDay": 8.0, "workingDaysPerWeek": 5.0,
                                       "timeFormat": "pretty", "defaultUnit": "minute"}
    settings["advancedSettings"] = [
        {"id": key, "key": key, "value": default, "name": key, "desc": desc, "type": kind,
         "defaultValue": default} for key, desc, kind, default in _ADVANCED]
