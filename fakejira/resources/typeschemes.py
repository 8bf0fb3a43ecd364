"""Issue type schemes and priority schemes: their items, order, defaults and project assignments."""

from __future__ import annotations

import copy
from typing import Any

from ..paging import page_bean
from ..registry import Ctx, JiraError, Reply, bad_request, handles, not_found, seed_type, site_defaults
from ..site import Site
from ._common import (
    API,
    api_url,
    body_of,
    bump,
    export_records,
    move_in_order,
    projects_using,
    public,
    required_text,
    scheme_of,
    set_scheme,
    stored_or_404,
)
from .basics import issue_type

DEFAULT_ISSUE_TYPE_SCHEME = "10000"
DEFAULT_PRIORITY_SCHEME = "1"

# --------------------------------------------------------------------------- shared with projects


def _project(site: Site, project_id: Any) -> dict[str, Any] | None:
    return site.store.get("projects", str(project_id))


# --------------------------------------------------------------------------- issue type schemes


def _type_ids(site: Site, scheme: dict[str, Any]) -> list[str]:
    """The scheme's issue types in order; the default scheme always holds every issue type."""
    known = site.store.coll("issueTypes")
    ids = [i for i in scheme.get("_issueTypeIds", []) if i in known]
    if scheme.get("isDefault"):
        ids += [i for i in known if i not in ids]
    return ids


def issue_type_scheme(site: Site, sid: Any) -> dict[str, Any]:
    """The stored issue type scheme ``sid``; 404 in Jira's words otherwise."""
    return stored_or_404(site, "issueTypeSchemes", sid, "The issue type scheme was not found.")  # Jira's wording


def issue_type_ids_for_project(site: Site, project: dict[str, Any]) -> list[str]:
    """The issue type ids a project offers (from its issue type scheme)."""
    sid = scheme_of(project, "issueTypeScheme") or DEFAULT_ISSUE_TYPE_SCHEME
    return _type_ids(site, issue_type_scheme(site, sid))


def _its_json(site: Site, record: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    out = public(record)
    if "projects" in expand:
        from .projects import project_details
        sid = None if record.get("isDefault") else record["id"]
        projects = [project_details(site, p) for p in projects_using(site, "issueTypeScheme", sid)]
        if record.get("isDefault"):
            projects += [project_details(site, p) for p in projects_using(site, "issueTypeScheme", record["id"])]
        out["projects"] = _inline_page(projects)
    if "issueTypes" in expand:
        types = [public(site.store.get("issueTypes", t)) for t in _type_ids(site, record)]
        out["issueTypes"] = _inline_page(types)
    return out


def _inline_page(values: list[Any]) -> dict[str, Any]:
    """A page embedded by ``expand`` (Jira returns all of it at once)."""
    return {"isLast": True, "maxResults": 100, "startAt": 0, "total": len(values), "values": values}


def _order(items: list[dict[str, Any]], order_by: str | None, allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    order_by = order_by or allowed[0]
    field = order_by.lstrip("+-")
    if field not in allowed:
        raise bad_request(f"The 'orderBy' parameter value '{order_by}' is invalid.")  # plausible wording
    def key(item: dict[str, Any]) -> Any:
        value = item.get(field, "")
        return int(value) if field == "id" else str(value).casefold()
    return sorted(items, key=key, reverse=order_by.startswith("-"))


@handles("GET", f"{API}/issuetypescheme")
def list_issue_type_schemes(ctx: Ctx) -> dict[str, Any]:
    items = list(ctx.site.store.values("issueTypeSchemes"))
    ids = set(ctx.list_arg("id"))
    if ids:
        items = [s for s in items if s["id"] in ids]
    text = (ctx.arg("queryString") or "").casefold()
    if text:
        items = [s for s in items if text in s["name"].casefold()]
    items = _order(items, ctx.arg("orderBy"), ("id", "name"))
    expand = set(ctx.list_arg("expand"))
    return page_bean(ctx, [_its_json(ctx.site, s, expand) for s in items])


@handles("GET", f"{API}/issuetypescheme/mapping")
def issue_type_scheme_mappings(ctx: Ctx) -> dict[str, Any]:
    ids = set(ctx.list_arg("issueTypeSchemeId"))
    rows = [{"issueTypeSchemeId": s["id"], "issueTypeId": t}
            for s in ctx.site.store.values("issueTypeSchemes") if not ids or s["id"] in ids
            for t in _type_ids(ctx.site, s)]
    return page_bean(ctx, rows)


@handles("GET", f"{API}/issuetypescheme/project")
def issue_type_schemes_for_projects(ctx: Ctx) -> dict[str, Any]:
    project_ids = ctx.list_arg("projectId")
    if not project_ids:
        raise bad_request(errors={"projectId": "The ID of a project has to be provided."})  # Jira's wording
    by_scheme: dict[str, list[str]] = {}
    for pid in project_ids:
        project = _project(ctx.site, pid)
        if project is None:
            continue  # unknown projects are ignored, as Jira does
        sid = scheme_of(project, "issueTypeScheme") or DEFAULT_ISSUE_TYPE_SCHEME
        by_scheme.setdefault(str(sid), []).append(project["id"])
    rows = [{"issueTypeScheme": public(issue_type_scheme(ctx.site, sid)), "projectIds": pids}
            for sid, pids in by_scheme.items()]
    return page_bean(ctx, rows)


def _check_type_ids(site: Site, ids: Any) -> list[str]:
    if not isinstance(ids, list) or not ids:
        raise bad_request("At least one issue type ID has to be provided.")  # plausible wording
    ids = [str(i) for i in ids]
    if len(set(ids)) != len(ids):
        raise bad_request("The issue type IDs must be unique.")  # plausible wording
    missing = [i for i in ids if site.store.get("issueTypes", i) is None]
    if missing:
        raise bad_request(f"Invalid issue type IDs: {', '.join(missing)}.")  # plausible wording
    return ids


def _check_its_name(site: Site, name: str, own_id: str | None) -> None:
    clash = site.store.find_name_ci("issueTypeSchemes", name)
    if clash is not None and clash["id"] != own_id:
        raise JiraError(409, "The name is used by another scheme.")  # Jira's wording


def _refuse_default_its(record: dict[str, Any], message: str) -> None:
    if record.get("isDefault"):
        raise bad_request(message)


@handles("POST", f"{API}/issuetypescheme")
def create_issue_type_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    name = required_text(body, "name", "The name of the issue type scheme has to be provided.", max_len=255, strip=True)
    ids = _check_type_ids(ctx.site, body.get("issueTypeIds"))
    default = body.get("defaultIssueTypeId")
    if default is not None and str(default) not in ids:
        raise bad_request("The default issue type ID has to be present in issue type IDs list.")  # Jira's wording
    if all(issue_type(ctx.site, i)["hierarchyLevel"] == -1 for i in ids):
        raise bad_request("The issue type scheme must contain at least one standard issue type.")  # plausible
    _check_its_name(ctx.site, name, None)
    sid = str(ctx.site.store.next_id("issueTypeScheme"))
    record: dict[str, Any] = {"id": sid, "name": name, "description": body.get("description") or "",
                              "_issueTypeIds": ids}
    if default is not None:
        record["defaultIssueTypeId"] = str(default)
    record["isDefault"] = False
    ctx.site.store.put("issueTypeSchemes", sid, record)
    return Reply(201, {"issueTypeSchemeId": sid})


@handles("PUT", f"{API}/issuetypescheme/{{issueTypeSchemeId}}")
def update_issue_type_scheme(ctx: Ctx) -> Reply:
    record = issue_type_scheme(ctx.site, ctx.path_params["issueTypeSchemeId"])
    body = body_of(ctx)
    if "name" in body:
        name = required_text(body, "name", "The name of the issue type scheme has to be provided.", max_len=255,
                             strip=True)
        _check_its_name(ctx.site, name, record["id"])
        record["name"] = name
    if "description" in body:
        record["description"] = body["description"] or ""
    if "defaultIssueTypeId" in body:
        default = body["defaultIssueTypeId"]
        if default is not None and str(default) not in _type_ids(ctx.site, record):
            raise bad_request("The default issue type ID has to be present in issue type IDs list.")
        if default is None:
            record.pop("defaultIssueTypeId", None)
        else:
            record["defaultIssueTypeId"] = str(default)
    return Reply(204)


@handles("DELETE", f"{API}/issuetypescheme/{{issueTypeSchemeId}}")
def delete_issue_type_scheme(ctx: Ctx) -> Reply:
    record = issue_type_scheme(ctx.site, ctx.path_params["issueTypeSchemeId"])
    _refuse_default_its(record, "The default issue type scheme can't be removed.")  # Jira's wording
    if projects_using(ctx.site, "issueTypeScheme", record["id"]):
        # plausible wording: Jira refuses schemes associated with projects
        raise bad_request("The issue type scheme is associated with projects and can't be deleted.")
    ctx.site.store.delete("issueTypeSchemes", record["id"])
    return Reply(204)


@handles("PUT", f"{API}/issuetypescheme/{{issueTypeSchemeId}}/issuetype")
def add_issue_types(ctx: Ctx) -> Reply:
    record = issue_type_scheme(ctx.site, ctx.path_params["issueTypeSchemeId"])
    _refuse_default_its(record, "Issue types can't be added to the default issue type scheme.")  # plausible
    ids = _check_type_ids(ctx.site, body_of(ctx).get("issueTypeIds"))
    present = [i for i in ids if i in record["_issueTypeIds"]]
    if present:
        raise bad_request(f"Issue types with IDs {', '.join(present)} are already in the scheme.")  # plausible
    record["_issueTypeIds"] = record["_issueTypeIds"] + ids
    return Reply(204)


@handles("PUT", f"{API}/issuetypescheme/{{issueTypeSchemeId}}/issuetype/move")
def move_issue_types(ctx: Ctx) -> Reply:
    record = issue_type_scheme(ctx.site, ctx.path_params["issueTypeSchemeId"])
    body = body_of(ctx)
    ids = _check_type_ids(ctx.site, body.get("issueTypeIds"))
    current = _type_ids(ctx.site, record)
    absent = [i for i in ids if i not in current]
    if absent:
        raise not_found(f"Issue types with IDs {', '.join(absent)} are not in the issue type scheme.")  # plausible
    after = body.get("after")
    record["_issueTypeIds"] = move_in_order(current, ids, after=str(after) if after is not None else None,
                                            position=body.get("position"))
    return Reply(204)


@handles("DELETE", f"{API}/issuetypescheme/{{issueTypeSchemeId}}/issuetype/{{issueTypeId}}")
def remove_issue_type(ctx: Ctx) -> Reply:
    record = issue_type_scheme(ctx.site, ctx.path_params["issueTypeSchemeId"])
    tid = ctx.path_params["issueTypeId"]
    _refuse_default_its(record, "Issue types can't be removed from the default issue type scheme.")  # plausible
    if tid not in record["_issueTypeIds"]:
        raise not_found("The issue type was not found in the issue type scheme.")  # Jira's wording
    remaining = [i for i in record["_issueTypeIds"] if i != tid]
    if not any(issue_type(ctx.site, i)["hierarchyLevel"] >= 0 for i in remaining):
        raise bad_request("Can't remove the last standard issue type from the issue type scheme.")  # Jira's wording
    record["_issueTypeIds"] = remaining
    if record.get("defaultIssueTypeId") == tid:
        record.pop("defaultIssueTypeId")
    return Reply(204)


@handles("PUT", f"{API}/issuetypescheme/project")
def assign_issue_type_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    if body.get("issueTypeSchemeId") is None or body.get("projectId") is None:
        raise bad_request("The issue type scheme ID and the project ID have to be provided.")  # plausible wording
    record = issue_type_scheme(ctx.site, body["issueTypeSchemeId"])
    project = _project(ctx.site, body["projectId"])
    if project is None:
        raise not_found("The project was not found.")  # plausible wording
    if project.get("simplified"):
        raise bad_request("Issue type schemes can only be assigned to classic projects.")  # plausible wording
    set_scheme(project, "issueTypeScheme", None if record.get("isDefault") else record["id"])
    return Reply(204)


def on_issue_type_created(site: Site, tid: str) -> None:
    """New issue types join the default scheme (which holds every type by construction)."""


def on_issue_type_deleted(site: Site, tid: str) -> None:
    for scheme in site.store.values("issueTypeSchemes"):
        scheme["_issueTypeIds"] = [i for i in scheme.get("_issueTypeIds", []) if i != tid]
        if scheme.get("defaultIssueTypeId") == tid:
            scheme.pop("defaultIssueTypeId")


def _check_seed_its(site: Site, item: dict[str, Any]) -> None:
    default = item.get("defaultIssueTypeId")
    if default is not None and site.store.get("issueTypes", default) is None:
        raise ValueError(f"seed issueTypeSchemes: scheme {item.get('name')!r} names unknown issue type {default}")


@seed_type("issueTypeSchemes", exporter=lambda site: export_records(site, "issueTypeSchemes"),
           after=("issueTypes",))
def seed_issue_type_schemes(site: Site, data: Any) -> None:
    """Seed value: ``GET /issuetypescheme`` values (replacing the defaults); items come from the mappings."""
    site.store.coll("issueTypeSchemes").clear()
    for item in data:
        _check_seed_its(site, item)
        site.store.put("issueTypeSchemes", item["id"], {**copy.deepcopy(item), "_issueTypeIds": []})
        bump(site, "issueTypeScheme", item["id"])


def _export_its_mappings(site: Site) -> list[dict[str, str]]:
    return [{"issueTypeSchemeId": s["id"], "issueTypeId": t}
            for s in site.store.values("issueTypeSchemes") for t in _type_ids(site, s)]


@seed_type("issueTypeSchemeMappings", exporter=_export_its_mappings, after=("issueTypeSchemes", "issueTypes"))
def seed_issue_type_scheme_mappings(site: Site, data: Any) -> None:
    """Seed value: ``GET /issuetypescheme/mapping`` values, in order."""
    for row in data:
        scheme = site.store.get("issueTypeSchemes", row["issueTypeSchemeId"])
        if scheme is None:
            raise ValueError(f"seed issueTypeSchemeMappings: unknown scheme {row['issueTypeSchemeId']}")
        if site.store.get("issueTypes", row["issueTypeId"]) is None:
            raise ValueError(f"seed issueTypeSchemeMappings: unknown issue type {row['issueTypeId']}")
        scheme["_issueTypeIds"].append(row["issueTypeId"])


# --------------------------------------------------------------------------- priority schemes


def priority_scheme(site: Site, sid: Any) -> dict[str, Any]:
    """The stored priority scheme ``sid``; 404 otherwise."""
    return stored_or_404(site, "prioritySchemes", sid,
                         f"The priority scheme with ID {sid} was not found.")  # plausible wording


def _priority_ids(site: Site, scheme: dict[str, Any]) -> list[str]:
    known = site.store.coll("priorities")
    ids = [i for i in scheme.get("_priorityIds", []) if i in known]
    if scheme.get("default"):
        ids += [i for i in known if i not in ids]
    return ids


def _scheme_of_project(site: Site, project: dict[str, Any]) -> dict[str, Any]:
    sid = scheme_of(project, "priorityScheme") or DEFAULT_PRIORITY_SCHEME
    return priority_scheme(site, sid)


def priority_ids_for_project(site: Site, project_id: str) -> list[str]:
    """The priority ids available in a project (from its priority scheme); none for an unknown project."""
    project = _project(site, project_id)
    return [] if project is None else _priority_ids(site, _scheme_of_project(site, project))


def _with_sequence(site: Site, scheme: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for n, pid in enumerate(_priority_ids(site, scheme), start=1):
        p = site.store.get("priorities", pid)
        out.append({"description": p.get("description", ""), "iconUrl": p.get("iconUrl", ""), "id": pid,
                    "isDefault": pid == scheme.get("defaultPriorityId"), "name": p["name"], "self": p["self"],
                    "sequence": str(n), "statusColor": p["statusColor"]})
    return out


def _scheme_projects(site: Site, scheme: dict[str, Any]) -> list[dict[str, Any]]:
    found = projects_using(site, "priorityScheme", scheme["id"])
    if scheme.get("default"):
        found = projects_using(site, "priorityScheme", None) + found
    return found


def _ps_json(site: Site, record: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    out = public(record)
    if "priorities" in expand:
        out["priorities"] = _inline_page(_with_sequence(site, record))
    if "projects" in expand:
        from .projects import project_details
        out["projects"] = _inline_page([project_details(site, p) for p in _scheme_projects(site, record)])
    return out


@handles("GET", f"{API}/priorityscheme")
def list_priority_schemes(ctx: Ctx) -> dict[str, Any]:
    items = list(ctx.site.store.values("prioritySchemes"))
    ids = set(ctx.list_arg("schemeId"))
    if ids:
        items = [s for s in items if s["id"] in ids]
    priority_ids = set(ctx.list_arg("priorityId"))
    if priority_ids:
        items = [s for s in items if priority_ids & set(_priority_ids(ctx.site, s))]
    name = (ctx.arg("schemeName") or "").casefold()
    if name:
        items = [s for s in items if name in s["name"].casefold()]
    if ctx.arg("onlyDefault") == "true":
        items = [s for s in items if s.get("default")]
    items = _order(items, ctx.arg("orderBy") or "+name", ("name",))
    expand = set(ctx.list_arg("expand"))
    return page_bean(ctx, [_ps_json(ctx.site, s, expand) for s in items])


@handles("GET", f"{API}/priorityscheme/{{schemeId}}/priorities")
def priority_scheme_priorities(ctx: Ctx) -> dict[str, Any]:
    return page_bean(ctx, _with_sequence(ctx.site, priority_scheme(ctx.site, ctx.path_params["schemeId"])))


@handles("GET", f"{API}/priorityscheme/{{schemeId}}/projects")
def priority_scheme_projects(ctx: Ctx) -> dict[str, Any]:
    from .projects import project_json
    scheme = priority_scheme(ctx.site, ctx.path_params["schemeId"])
    projects = _scheme_projects(ctx.site, scheme)
    wanted = set(ctx.list_arg("projectId"))
    if wanted:
        projects = [p for p in projects if p["id"] in wanted]
    text = (ctx.arg("query") or "").casefold()
    if text:
        projects = [p for p in projects if text in p["name"].casefold() or text in p["key"].casefold()]
    return page_bean(ctx, [project_json(ctx.site, p, set()) for p in projects])


def _check_priority_ids(site: Site, ids: Any, field: str = "priorityIds") -> list[str]:
    if not isinstance(ids, list) or not ids:
        raise bad_request(errors={field: "At least one priority must be provided."})  # plausible wording
    ids = [str(i) for i in ids]
    missing = [i for i in ids if site.store.get("priorities", i) is None]
    if missing:
        raise bad_request(errors={field: f"Priorities with IDs {', '.join(missing)} don't exist."})  # plausible
    return ids


def _check_project_ids(site: Site, ids: Any) -> list[dict[str, Any]]:
    projects = []
    for pid in ids or []:
        project = _project(site, pid)
        if project is None:
            raise bad_request(errors={"projectIds": f"Project with ID {pid} doesn't exist."})  # plausible wording
        projects.append(project)
    return projects


def _check_ps_name(site: Site, name: str, own_id: str | None) -> None:
    clash = site.store.find_name_ci("prioritySchemes", name)
    if clash is not None and clash["id"] != own_id:
        raise JiraError(409, errors={"name": f"A priority scheme with name '{name}' already exists."})  # plausible


def _assign_priority_scheme(site: Site, project: dict[str, Any], scheme: dict[str, Any]) -> None:
    set_scheme(project, "priorityScheme", None if scheme.get("default") else scheme["id"])


@handles("POST", f"{API}/priorityscheme")
def create_priority_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    name = required_text(body, "name", "The name of the priority scheme must be provided.", max_len=255, strip=True)
    ids = _check_priority_ids(ctx.site, body.get("priorityIds"))
    default = body.get("defaultPriorityId")
    if default is None or str(default) not in ids:
        raise bad_request(errors={"defaultPriorityId": "The default priority must be one of the scheme's priorities."})
    projects = _check_project_ids(ctx.site, body.get("projectIds"))
    _check_ps_name(ctx.site, name, None)
    sid = str(ctx.site.store.next_id("priorityScheme"))
    record = {"id": sid, "name": name, "description": body.get("description") or "",
              "defaultPriorityId": str(default), "default": False,
              "self": api_url(ctx.site, f"/priorityscheme/{sid}"), "_priorityIds": ids}
    ctx.site.store.put("prioritySchemes", sid, record)
    for project in projects:
        _assign_priority_scheme(ctx.site, project, record)
    return Reply(201, {"id": sid})


def _change_ids(change: Any, field: str) -> list[str]:
    if change is None:
        return []
    if not isinstance(change, dict) or not isinstance(change.get("ids"), list):
        raise bad_request(errors={field: "The change must list 'ids'."})  # plausible wording
    return [str(i) for i in change["ids"]]


@handles("PUT", f"{API}/priorityscheme/{{schemeId}}")
def update_priority_scheme(ctx: Ctx) -> Reply:
    record = priority_scheme(ctx.site, ctx.path_params["schemeId"])
    body = body_of(ctx)
    priorities, projects = body.get("priorities") or {}, body.get("projects") or {}
    add_p, remove_p = _change_ids(priorities.get("add"), "priorities"), _change_ids(priorities.get("remove"),
                                                                                     "priorities")
    if record.get("default") and (remove_p or "name" in body or add_p):
        raise bad_request("The default priority scheme can't be edited.")  # plausible wording
    if add_p:
        _check_priority_ids(ctx.site, add_p, "priorities")
    new_ids = [i for i in _priority_ids(ctx.site, record) if i not in remove_p]
    new_ids += [i for i in add_p if i not in new_ids]
    default = str(body["defaultPriorityId"]) if body.get("defaultPriorityId") is not None \
        else record["defaultPriorityId"]
    if not new_ids:
        raise bad_request(errors={"priorities": "A priority scheme must contain at least one priority."})
    if default not in new_ids:
        raise bad_request(errors={"defaultPriorityId": "The default priority must be one of the scheme's priorities."})
    add_proj = _check_project_ids(ctx.site, _change_ids(projects.get("add"), "projects"))
    remove_proj = _check_project_ids(ctx.site, _change_ids(projects.get("remove"), "projects"))
    if "name" in body:
        name = required_text(body, "name", "The name of the priority scheme must be provided.", max_len=255, strip=True)
        _check_ps_name(ctx.site, name, record["id"])
        record["name"] = name
    if "description" in body:
        record["description"] = body["description"] or ""
    record["defaultPriorityId"] = default
    if not record.get("default"):
        record["_priorityIds"] = new_ids
    for project in add_proj:
        _assign_priority_scheme(ctx.site, project, record)
    for project in remove_proj:
        if _scheme_of_project(ctx.site, project) is record:
            set_scheme(project, "priorityScheme", None)
    return Reply(202, {"priorityScheme": _ps_json(ctx.site, record, set())})


@handles("DELETE", f"{API}/priorityscheme/{{schemeId}}")
def delete_priority_scheme(ctx: Ctx) -> Reply:
    record = priority_scheme(ctx.site, ctx.path_params["schemeId"])
    if record.get("default"):
        raise bad_request("The default priority scheme can't be deleted.")  # plausible wording
    if _scheme_projects(ctx.site, record):
        # Jira's documented rule: only schemes without associated projects can be deleted
        raise bad_request("The priority scheme is associated with projects and can't be deleted.")
    ctx.site.store.delete("prioritySchemes", record["id"])
    return Reply(204)


def on_priority_created(site: Site, pid: str) -> None:
    """New priorities join the default priority scheme (which holds every priority by construction)."""


def on_priority_deleted(site: Site, pid: str) -> None:
    for scheme in site.store.values("prioritySchemes"):
        if pid == scheme.get("defaultPriorityId") and not scheme.get("default"):
            raise bad_request(f"The priority is the default of priority scheme '{scheme['name']}'.")  # plausible
    for scheme in site.store.values("prioritySchemes"):
        scheme["_priorityIds"] = [i for i in scheme.get("_priorityIds", []) if i != pid]


def _check_seed_ps(site: Site, item: dict[str, Any]) -> None:
    default = item.get("defaultPriorityId")
    if default is not None and site.store.get("priorities", default) is None:
        raise ValueError(f"seed prioritySchemes: scheme {item.get('name')!r} names unknown priority {default}")


@seed_type("prioritySchemes", exporter=lambda site: export_records(site, "prioritySchemes"),
           after=("priorities",))
def seed_priority_schemes(site: Site, data: Any) -> None:
    """Seed value: ``GET /priorityscheme`` values (without expand; replacing the defaults)."""
    site.store.coll("prioritySchemes").clear()
    for item in data:
        _check_seed_ps(site, item)
        site.store.put("prioritySchemes", item["id"], {**copy.deepcopy(item), "_priorityIds": []})
        bump(site, "priorityScheme", item["id"])


def _export_ps_priorities(site: Site) -> dict[str, list[dict[str, Any]]]:
    return {s["id"]: _with_sequence(site, s) for s in site.store.values("prioritySchemes")}


@seed_type("prioritySchemePriorities", exporter=_export_ps_priorities, after=("prioritySchemes", "priorities"))
def seed_priority_scheme_priorities(site: Site, data: Any) -> None:
    """Seed value: ``{schemeId: GET /priorityscheme/{id}/priorities values}``."""
    for sid, rows in data.items():
        scheme = site.store.get("prioritySchemes", sid)
        if scheme is None:
            raise ValueError(f"seed prioritySchemePriorities: unknown scheme {sid}")
        for row in rows:
            if site.store.get("priorities", row["id"]) is None:
                raise ValueError(f"seed prioritySchemePriorities: scheme {sid} names unknown priority {row['id']}")
        scheme["_priorityIds"] = [row["id"] for row in rows]


# --------------------------------------------------------------------------- a brand-new site


@site_defaults
def install_type_schemes(site: Site) -> None:
    """The Default Issue Type Scheme and the Default Priority Scheme (both hold every type / priority)."""
    site.store.put("issueTypeSchemes", DEFAULT_ISSUE_TYPE_SCHEME, {
        "id": DEFAULT_ISSUE_TYPE_SCHEME, "name": "Default Issue Type Scheme",
        "description": "Default issue type scheme is the list of global issue types. All newly created issue types "
                       "will automatically be added to this scheme.",
        "defaultIssueTypeId": "10001", "isDefault": True, "_issueTypeIds": []})
    site.store.bump("issueTypeScheme", 10000)
    site.store.put("prioritySchemes", DEFAULT_PRIORITY_SCHEME, {
        "id": DEFAULT_PRIORITY_SCHEME, "name": "Default Priority Scheme",
        "description": "This is the default priority scheme used by all projects without any other scheme assigned",
        "defaultPriorityId": "3", "default": True,
        "self": api_url(site, f"/priorityscheme/{DEFAULT_PRIORITY_SCHEME}"), "_priorityIds": []})
    site.store.bump("priorityScheme", 10000)
