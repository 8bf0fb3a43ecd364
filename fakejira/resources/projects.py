"""Company-managed projects, their components, versions, role actors and scheme associations."""

from __future__ import annotations

import copy
import re
from typing import Any

from ..paging import page_bean
from ..registry import Ctx, Reply, bad_request, handles, seed_type
from ..site import Site
from ._common import (
    API,
    api_url,
    avatar_urls,
    body_of,
    bump,
    find_project,
    project_or_404,
    public,
    reorder,
    required_text,
    set_scheme,
    stored_or_404,
    user_ref,
)
from .basics import READ_ONLY_ROLE, merge_actors, remove_actor, resolve_actors, role

# scheme kind in CreateProjectDetails / project["_schemes"] -> the store collection holding it
SCHEME_COLLECTIONS = {
    "permissionScheme": "permissionSchemes", "notificationScheme": "notificationSchemes",
    "issueSecurityScheme": "issueSecuritySchemes", "workflowScheme": "workflowSchemes",
    "issueTypeScheme": "issueTypeSchemes", "issueTypeScreenScheme": "issueTypeScreenSchemes",
    "fieldConfigurationScheme": "fieldConfigurationSchemes", "priorityScheme": "prioritySchemes",
}
_SCHEME_LABELS = {
    "permissionScheme": "Permission scheme", "notificationScheme": "Notification scheme",
    "issueSecurityScheme": "Issue security scheme", "workflowScheme": "Workflow scheme",
    "issueTypeScheme": "Issue type scheme", "issueTypeScreenScheme": "Issue type screen scheme",
    "fieldConfigurationScheme": "Field configuration scheme", "priorityScheme": "Priority scheme",
}
_KEY = re.compile(r"^[A-Z][A-Z0-9]+$")
KEY_MAX = 10
NAME_MAX = 80
_TYPES = ("software", "service_desk", "business")
_SEARCH_EXPANDS = ("description", "lead", "url", "issueTypes", "insight", "projectKeys")

# --------------------------------------------------------------------------- look-ups and rendering


def _category_of(site: Site, record: dict[str, Any]) -> dict[str, Any] | None:
    cid = record.get("_categoryId")
    category = site.store.get("projectCategories", cid) if cid is not None else None
    return public(category) if category else None


def project_details(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """The compact ``ProjectDetails`` object schemes embed."""
    out = {k: copy.deepcopy(record[k]) for k in ("self", "id", "key", "name", "avatarUrls", "projectTypeKey",
                                                 "simplified") if k in record}
    category = _category_of(site, record)
    if category:
        out["projectCategory"] = category
    return out


def _issue_types(site: Site, record: dict[str, Any]) -> list[dict[str, Any]]:
    from .typeschemes import issue_type_ids_for_project
    return [public(site.store.get("issueTypes", t)) for t in issue_type_ids_for_project(site, record)]


def _stored_view(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """The stored project as seeded/exported: search shape with description, lead, url, assigneeType."""
    out = public(record)
    out.pop("projectCategory", None)
    category = _category_of(site, record)
    if category:
        out["projectCategory"] = category
    return out


def project_json(site: Site, record: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    """A ``GET /project/search`` entry with the requested expansions."""
    out = _stored_view(site, record)
    for optional in ("description", "lead", "url"):
        if optional not in expand:
            out.pop(optional, None)
    out.pop("assigneeType", None)
    if "issueTypes" in expand:
        out["issueTypes"] = _issue_types(site, record)
    if "insight" in expand:
        out["insight"] = {"totalIssueCount": 0}
    if "projectKeys" in expand:
        # documented by the expand parameter though absent from the spec's Project schema
        out["projectKeys"] = [record["key"], *record.get("_oldKeys", [])]
    return out


def _full_json(site: Site, record: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    """``GET /project/{id}``: everything, with components, versions, issue types and role links."""
    out = _stored_view(site, record)
    out.setdefault("description", "")
    out.setdefault("assigneeType", "UNASSIGNED")
    out["components"] = [public(c) for c in site.store.values("components") if str(c["projectId"]) == record["id"]]
    out["issueTypes"] = _issue_types(site, record)
    out["versions"] = [public(v) for v in site.store.values("versions") if str(v["projectId"]) == record["id"]]
    out["roles"] = _role_links(site, record)
    if "insight" in expand:
        out["insight"] = {"totalIssueCount": 0}
    return out


def _role_links(site: Site, record: dict[str, Any]) -> dict[str, str]:
    return {r["name"]: api_url(site, f"/project/{record['id']}/role/{r['id']}")
            for r in site.store.values("projectRoles")}


# --------------------------------------------------------------------------- project reads


_ORDER_FIELDS = {"key": lambda p: p["key"], "name": lambda p: p["name"].casefold(),
                 "category": lambda p: (p.get("projectCategory") or {}).get("name", "").casefold()}


@handles("GET", f"{API}/project/search")
def search_projects(ctx: Ctx) -> dict[str, Any]:
    items = list(ctx.site.store.values("projects"))
    keys = {k.casefold() for k in ctx.list_arg("keys")}
    ids = set(ctx.list_arg("id"))
    if keys or ids:
        items = [p for p in items if p["key"].casefold() in keys or p["id"] in ids]
    text = (ctx.arg("query") or "").casefold()
    if text:
        items = [p for p in items if text in p["key"].casefold() or text in p["name"].casefold()]
    if ctx.arg("typeKey"):
        items = [p for p in items if p.get("projectTypeKey") in ctx.list_arg("typeKey")]
    if ctx.arg("categoryId"):
        items = [p for p in items if str(p.get("_categoryId")) == ctx.arg("categoryId")]
    order = ctx.arg("orderBy") or "key"
    field = order.lstrip("+-")
    if field in _ORDER_FIELDS:
        items.sort(key=lambda p: _ORDER_FIELDS[field](_stored_view(ctx.site, p)), reverse=order.startswith("-"))
    elif field not in ("owner", "issueCount", "lastIssueUpdatedDate", "archivedDate", "deletedDate"):
        raise bad_request(f"The 'orderBy' parameter value '{order}' is invalid.")  # plausible wording
    expand = set(ctx.list_arg("expand"))
    return page_bean(ctx, [project_json(ctx.site, p, expand) for p in items], default_max=50, cap=100)


@handles("GET", f"{API}/project")
def list_projects(ctx: Ctx) -> list[dict[str, Any]]:
    expand = set(ctx.list_arg("expand"))
    return [project_json(ctx.site, p, expand) for p in ctx.site.store.values("projects")]


@handles("GET", f"{API}/project/{{projectIdOrKey}}")
def get_project(ctx: Ctx) -> dict[str, Any]:
    record = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    return _full_json(ctx.site, record, set(ctx.list_arg("expand")))


# --------------------------------------------------------------------------- project writes


def _check_key(site: Site, key: Any, errors: dict[str, str], own_id: str | None = None) -> None:
    if not isinstance(key, str) or not key:
        errors["projectKey"] = "You must specify a unique project key, at least 2 characters long."
    elif len(key) > KEY_MAX:
        errors["projectKey"] = f"The project key must not exceed {KEY_MAX} characters in length."
    elif not _KEY.match(key):
        errors["projectKey"] = ("Project keys must start with an uppercase letter, followed by one or more "
                                "uppercase alphanumeric characters.")  # Jira's wording
    else:
        clash = find_project(site, key)
        if clash is not None and clash["id"] != own_id:
            errors["projectKey"] = f"Project '{clash['name']}' uses this project key."  # Jira's wording


def _check_name(site: Site, name: Any, errors: dict[str, str], own_id: str | None = None) -> None:
    if not isinstance(name, str) or len(name.strip()) < 2:
        errors["projectName"] = "You must specify a valid project name."
    elif len(name) > NAME_MAX:
        errors["projectName"] = f"The project name must not exceed {NAME_MAX} characters in length."
    else:
        clash = site.store.find_name_ci("projects", name.strip())
        if clash is not None and clash["id"] != own_id:
            errors["projectName"] = "A project with that name already exists."  # Jira's wording


def _check_lead(site: Site, body: dict[str, Any], errors: dict[str, str], required: bool) -> str | None:
    lead = body.get("leadAccountId") or body.get("lead")
    if lead is None:
        if required:
            errors["projectLead"] = "You must specify a valid project lead."  # Jira's wording
        return None
    if site.store.get("users", str(lead)) is None:
        errors["projectLead"] = "The project lead specified does not exist."  # plausible wording
        return None
    return str(lead)


def _check_schemes(site: Site, body: dict[str, Any], kinds: tuple[str, ...],
                   errors: dict[str, str]) -> dict[str, str]:
    chosen = {}
    for kind in kinds:
        value = body.get(kind)
        if value is None:
            continue
        if site.store.get(SCHEME_COLLECTIONS[kind], str(value)) is None:
            errors[kind] = f"{_SCHEME_LABELS[kind]} with ID '{value}' does not exist."  # plausible wording
        else:
            chosen[kind] = str(value)
    return chosen


def _check_category(site: Site, body: dict[str, Any], errors: dict[str, str]) -> None:
    cid = body.get("categoryId")
    if cid is not None and cid != -1 and site.store.get("projectCategories", str(cid)) is None:
        errors["categoryId"] = f"No project category with ID {cid} exists."  # plausible wording


@handles("POST", f"{API}/project")
def create_project(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    if body.get("projectTemplateKey"):
        # templates build boards, schemes and issue types we don't emulate; a restore never uses them
        raise bad_request("The emulator only creates company-managed projects without a template.")
    errors: dict[str, str] = {}
    _check_key(ctx.site, body.get("key"), errors)
    _check_name(ctx.site, body.get("name"), errors)
    if body.get("projectTypeKey") not in _TYPES:
        errors["projectTypeKey"] = "You must specify a valid project type."  # plausible wording
    lead = _check_lead(ctx.site, body, errors, required=True)
    if body.get("assigneeType") not in (None, "PROJECT_LEAD", "UNASSIGNED"):
        errors["assigneeType"] = "Invalid default assignee."  # plausible wording
    _check_category(ctx.site, body, errors)
    schemes = _check_schemes(ctx.site, body, tuple(k for k in SCHEME_COLLECTIONS if k != "priorityScheme"), errors)
    if errors:
        raise bad_request(errors=errors)
    pid = str(ctx.site.store.next_id("project", start=9999))
    record = _new_record(ctx.site, pid, body, lead)
    record["_schemes"] = _normalise_defaults(schemes)
    record["_roleActors"] = {str(r["id"]): copy.deepcopy(r.get("actors", []))
                             for r in ctx.site.store.values("projectRoles") if r.get("actors")}
    ctx.site.store.put("projects", pid, record)
    return Reply(201, {"self": record["self"], "id": int(pid), "key": record["key"]})


def _normalise_defaults(schemes: dict[str, str]) -> dict[str, str]:
    """The default issue type and priority schemes are 'no explicit scheme' in the association."""
    from .typeschemes import DEFAULT_ISSUE_TYPE_SCHEME, DEFAULT_PRIORITY_SCHEME
    defaults = {"issueTypeScheme": DEFAULT_ISSUE_TYPE_SCHEME, "priorityScheme": DEFAULT_PRIORITY_SCHEME}
    return {k: v for k, v in schemes.items() if defaults.get(k) != v}


def _new_record(site: Site, pid: str, body: dict[str, Any], lead: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
        "self": api_url(site, f"/project/{pid}"), "id": pid, "key": body["key"],
        "description": body.get("description") or "", "name": body["name"].strip(),
        "avatarUrls": avatar_urls(site, "project", body.get("avatarId") or 10425),
        "projectTypeKey": body["projectTypeKey"], "simplified": False, "style": "classic", "isPrivate": False,
        "properties": {}, "assigneeType": body.get("assigneeType") or "UNASSIGNED"}
    if lead:
        record["lead"] = user_ref(site, lead)
    if body.get("url"):
        record["url"] = body["url"]
    if body.get("categoryId") not in (None, -1):
        record["_categoryId"] = str(body["categoryId"])
    return record


@handles("PUT", f"{API}/project/{{projectIdOrKey}}")
def update_project(ctx: Ctx) -> dict[str, Any]:
    record = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    body = body_of(ctx)
    errors: dict[str, str] = {}
    if "key" in body and body["key"] != record["key"]:
        _check_key(ctx.site, body["key"], errors, record["id"])
    if "name" in body:
        _check_name(ctx.site, body["name"], errors, record["id"])
    lead = _check_lead(ctx.site, body, errors, required=False)
    if body.get("assigneeType") not in (None, "PROJECT_LEAD", "UNASSIGNED"):
        errors["assigneeType"] = "Invalid default assignee."  # plausible wording
    _check_category(ctx.site, body, errors)
    schemes = _check_schemes(ctx.site, body, ("permissionScheme", "notificationScheme", "issueSecurityScheme"),
                             errors)
    if errors:
        raise bad_request(errors=errors)
    if "key" in body and body["key"] != record["key"]:
        record.setdefault("_oldKeys", []).append(record["key"])
        record["key"] = body["key"]
    for field in ("description", "assigneeType", "url"):
        if field in body:
            record[field] = body[field] or ""
    if "name" in body:
        record["name"] = body["name"].strip()
    if lead:
        record["lead"] = user_ref(ctx.site, lead)
    if "categoryId" in body:
        record["_categoryId"] = None if body["categoryId"] in (None, -1) else str(body["categoryId"])
    record.setdefault("_schemes", {}).update(schemes)
    return _full_json(ctx.site, record, set(ctx.list_arg("expand")))


@handles("DELETE", f"{API}/project/{{projectIdOrKey}}")
def delete_project(ctx: Ctx) -> Reply:
    record = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    for coll in ("components", "versions"):
        for item in ctx.site.store.values(coll):
            if str(item["projectId"]) == record["id"]:
                ctx.site.store.delete(coll, item["id"])
    ctx.site.store.delete("projects", record["id"])
    return Reply(204)


# --------------------------------------------------------------------------- components


def _component(site: Site, cid: str) -> dict[str, Any]:
    return stored_or_404(site, "components", cid, f"The component with id {cid} does not exist.")  # Jira's wording


_COMPONENT_ASSIGNEE = ("PROJECT_DEFAULT", "COMPONENT_LEAD", "PROJECT_LEAD", "UNASSIGNED")
_WITH_COUNT = ("assignee", "assigneeType", "description", "id", "isAssigneeTypeValid", "lead", "name", "project",
               "projectId", "realAssignee", "realAssigneeType", "self")


def _project_components(site: Site, record: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in site.store.values("components") if str(c["projectId"]) == record["id"]]


@handles("GET", f"{API}/project/{{projectIdOrKey}}/components")
def list_components(ctx: Ctx) -> list[dict[str, Any]]:
    record = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    return [public(c) for c in _project_components(ctx.site, record)]


@handles("GET", f"{API}/project/{{projectIdOrKey}}/component")
def page_components(ctx: Ctx) -> dict[str, Any]:
    record = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    items = _project_components(ctx.site, record)
    text = (ctx.arg("query") or "").casefold()
    if text:
        items = [c for c in items if text in c["name"].casefold() or text in c.get("description", "").casefold()]
    order = ctx.arg("orderBy")
    if order and order.lstrip("+-") in ("name", "description"):
        field = order.lstrip("+-")
        items = sorted(items, key=lambda c: str(c.get(field, "")).casefold(), reverse=order.startswith("-"))
    rows = [{**{k: copy.deepcopy(c[k]) for k in _WITH_COUNT if k in c}, "issueCount": 0} for c in items]
    return page_bean(ctx, rows)


def _component_fields(site: Site, body: dict[str, Any], proj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in body or own_id is None:
        name = required_text(body, "name", "The component name must not be empty.", max_len=255, strip=True)
        for other in _project_components(site, proj):
            if other["name"].casefold() == name.casefold() and other["id"] != own_id:
                raise bad_request(errors={"name": f"A component with the name {name} already exists in this "
                                                  "project."})  # Jira's wording
        out["name"] = name
    if "description" in body:
        out["description"] = body["description"] or ""
    lead = body.get("leadAccountId")
    if lead is not None:
        if site.store.get("users", lead) is None:
            raise bad_request(errors={"leadAccountId": "The user does not exist."})  # plausible wording
        out["lead"] = user_ref(site, lead)
    if "assigneeType" in body:
        if body["assigneeType"] not in _COMPONENT_ASSIGNEE:
            raise bad_request(errors={"assigneeType": "Invalid assignee type."})  # plausible wording
        out["assigneeType"] = body["assigneeType"]
    return out


def _resolve_real_assignee(record: dict[str, Any]) -> None:
    kind = record.get("assigneeType", "PROJECT_DEFAULT")
    valid = kind != "COMPONENT_LEAD" or "lead" in record
    record["realAssigneeType"] = kind if valid and kind != "PROJECT_DEFAULT" else "UNASSIGNED"
    record["isAssigneeTypeValid"] = valid
    if kind == "COMPONENT_LEAD" and "lead" in record:
        record["assignee"] = record["realAssignee"] = copy.deepcopy(record["lead"])


@handles("POST", f"{API}/component")
def create_component(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    key = body.get("project") or (str(body["projectId"]) if body.get("projectId") is not None else None)
    if not key:
        raise bad_request(errors={"project": "The project must be specified."})  # plausible wording
    proj = project_or_404(ctx.site, key)
    fields = _component_fields(ctx.site, body, proj, None)
    cid = str(ctx.site.store.next_id("component"))
    record = {"self": api_url(ctx.site, f"/component/{cid}"), "id": cid, "name": fields["name"],
              "description": fields.get("description", ""), "assigneeType": "PROJECT_DEFAULT",
              "project": proj["key"], "projectId": int(proj["id"]), **fields}
    _resolve_real_assignee(record)
    ctx.site.store.put("components", cid, record)
    return Reply(201, public(record))


@handles("GET", f"{API}/component/{{id}}")
def get_component(ctx: Ctx) -> dict[str, Any]:
    return public(_component(ctx.site, ctx.path_params["id"]))


@handles("PUT", f"{API}/component/{{id}}")
def update_component(ctx: Ctx) -> dict[str, Any]:
    record = _component(ctx.site, ctx.path_params["id"])
    proj = project_or_404(ctx.site, str(record["projectId"]))
    record.update(_component_fields(ctx.site, body_of(ctx), proj, record["id"]))
    _resolve_real_assignee(record)
    return public(record)


@handles("DELETE", f"{API}/component/{{id}}")
def delete_component(ctx: Ctx) -> Reply:
    record = _component(ctx.site, ctx.path_params["id"])
    target = ctx.arg("moveIssuesTo")
    if target is not None:
        _component(ctx.site, target)
    ctx.site.store.delete("components", record["id"])
    return Reply(204)


# --------------------------------------------------------------------------- versions


def _version(site: Site, vid: str) -> dict[str, Any]:
    return stored_or_404(site, "versions", vid, f"Could not find version for id '{vid}'")  # Jira's wording


def _project_versions(site: Site, record: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in site.store.values("versions") if str(v["projectId"]) == record["id"]]


@handles("GET", f"{API}/project/{{projectIdOrKey}}/versions")
def list_versions(ctx: Ctx) -> list[dict[str, Any]]:
    record = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    return [public(v) for v in _project_versions(ctx.site, record)]


@handles("GET", f"{API}/project/{{projectIdOrKey}}/version")
def page_versions(ctx: Ctx) -> dict[str, Any]:
    record = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    items = [public(v) for v in _project_versions(ctx.site, record)]
    text = (ctx.arg("query") or "").casefold()
    if text:
        items = [v for v in items if text in v["name"].casefold() or text in v.get("description", "").casefold()]
    statuses = set(ctx.list_arg("status"))
    if statuses:
        items = [v for v in items if _version_status(v) in statuses]
    order = ctx.arg("orderBy")
    if order and order.lstrip("+-") in ("name", "description", "releaseDate", "startDate"):
        field = order.lstrip("+-")
        items = sorted(items, key=lambda v: str(v.get(field, "")).casefold(), reverse=order.startswith("-"))
    elif order and order.lstrip("+-") == "sequence" and order.startswith("-"):
        items.reverse()
    return page_bean(ctx, items)


def _version_status(version: dict[str, Any]) -> str:
    if version.get("archived"):
        return "archived"
    return "released" if version.get("released") else "unreleased"


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _version_fields(site: Site, body: dict[str, Any], proj: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in body or own_id is None:
        name = required_text(body, "name", "You must specify a valid version name", max_len=255, strip=True)
        for other in _project_versions(site, proj):
            if other["name"].casefold() == name.casefold() and other["id"] != own_id:
                raise bad_request(errors={"name": "A version with this name already exists in this project."})
        out["name"] = name
    for field in ("description",):
        if field in body:
            out[field] = body[field] or ""
    for field in ("archived", "released"):
        if field in body:
            out[field] = bool(body[field])
    for field in ("releaseDate", "startDate"):
        if body.get(field) is not None:
            if not isinstance(body[field], str) or not _DATE.match(body[field]):
                raise bad_request(errors={field: "The date must be in the format yyyy-MM-dd."})  # plausible
            out[field] = body[field]
    start, release = out.get("startDate"), out.get("releaseDate")
    if start and release and start > release:
        raise bad_request(errors={"startDate": "The start date must be before the release date."})  # plausible
    return out


@handles("POST", f"{API}/version")
def create_version(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    key = str(body["projectId"]) if body.get("projectId") is not None else body.get("project")
    if not key:
        raise bad_request(errors={"projectId": "A project ID must be specified."})  # plausible wording
    proj = project_or_404(ctx.site, key)
    fields = _version_fields(ctx.site, body, proj, None)
    vid = str(ctx.site.store.next_id("version"))
    record = {"self": api_url(ctx.site, f"/version/{vid}"), "id": vid, "description": "", "name": fields["name"],
              "archived": False, "released": False, **fields, "projectId": int(proj["id"])}
    ctx.site.store.put("versions", vid, record)
    return Reply(201, public(record))


@handles("GET", f"{API}/version/{{id}}")
def get_version(ctx: Ctx) -> dict[str, Any]:
    return public(_version(ctx.site, ctx.path_params["id"]))


@handles("PUT", f"{API}/version/{{id}}")
def update_version(ctx: Ctx) -> dict[str, Any]:
    record = _version(ctx.site, ctx.path_params["id"])
    proj = project_or_404(ctx.site, str(record["projectId"]))
    record.update(_version_fields(ctx.site, body_of(ctx), proj, record["id"]))
    return public(record)


@handles("DELETE", f"{API}/version/{{id}}")
def delete_version(ctx: Ctx) -> Reply:
    record = _version(ctx.site, ctx.path_params["id"])
    for target in (ctx.arg("moveFixIssuesTo"), ctx.arg("moveAffectedIssuesTo")):
        if target is not None:
            _version(ctx.site, target)
    ctx.site.store.delete("versions", record["id"])
    return Reply(204)


@handles("POST", f"{API}/version/{{id}}/move")
def move_version(ctx: Ctx) -> dict[str, Any]:
    record = _version(ctx.site, ctx.path_params["id"])
    body = body_of(ctx)
    proj = project_or_404(ctx.site, str(record["projectId"]))
    order = [v["id"] for v in _project_versions(ctx.site, proj)]
    rest = [v for v in order if v != record["id"]]
    at = order.index(record["id"])
    if body.get("after"):
        after = str(body["after"]).rstrip("/").rsplit("/", 1)[-1]
        if after not in rest:
            raise bad_request(errors={"after": "The version to move after was not found."})  # plausible wording
        at = rest.index(after) + 1
    else:
        position = body.get("position")
        moves = {"First": 0, "Last": len(rest), "Earlier": max(at - 1, 0), "Later": min(at + 1, len(rest))}
        if position not in moves:
            raise bad_request("Either 'after' or 'position' must be provided.")  # plausible wording
        at = moves[position]
    new_order = [*rest[:at], record["id"], *rest[at:]]
    versions = ctx.site.store.coll("versions")
    reorder(ctx.site, "versions", [versions[k] for k in order], [versions[k] for k in new_order], key="id")
    return public(record)


# --------------------------------------------------------------------------- project role actors


def _role_json(site: Site, proj: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    actors = copy.deepcopy(proj.get("_roleActors", {}).get(str(rec["id"]), []))
    return {"self": api_url(site, f"/project/{proj['id']}/role/{rec['id']}"), "name": rec["name"], "id": rec["id"],
            "description": rec.get("description", ""), "actors": actors}


@handles("GET", f"{API}/project/{{projectIdOrKey}}/role")
def project_roles(ctx: Ctx) -> dict[str, str]:
    return _role_links(ctx.site, project_or_404(ctx.site, ctx.path_params["projectIdOrKey"]))


@handles("GET", f"{API}/project/{{projectIdOrKey}}/role/{{id}}")
def project_role(ctx: Ctx) -> dict[str, Any]:
    proj = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    out = _role_json(ctx.site, proj, role(ctx.site, ctx.path_params["id"]))
    if ctx.arg("excludeInactiveUsers") == "true":
        out["actors"] = [a for a in out["actors"] if "actorUser" not in a
                         or (ctx.site.store.get("users", a["actorUser"]["accountId"]) or {}).get("active", True)]
    return out


def _writable_role(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any]]:
    proj = project_or_404(ctx.site, ctx.path_params["projectIdOrKey"])
    rec = role(ctx.site, ctx.path_params["id"])
    if rec["name"] == READ_ONLY_ROLE:
        raise bad_request(f"The project role '{READ_ONLY_ROLE}' can't be changed.")  # plausible wording
    return proj, rec


@handles("POST", f"{API}/project/{{projectIdOrKey}}/role/{{id}}")
def add_project_actors(ctx: Ctx) -> dict[str, Any]:
    proj, rec = _writable_role(ctx)
    body = body_of(ctx)
    extra = resolve_actors(ctx.site, body.get("user") or [], body.get("group") or [], body.get("groupId") or [])
    if not extra:
        raise bad_request("You must specify at least one actor.")  # plausible wording
    actors = proj.setdefault("_roleActors", {})
    actors[str(rec["id"])] = merge_actors(actors.get(str(rec["id"]), []), extra)
    return _role_json(ctx.site, proj, rec)


@handles("PUT", f"{API}/project/{{projectIdOrKey}}/role/{{id}}")
def set_project_actors(ctx: Ctx) -> dict[str, Any]:
    proj, rec = _writable_role(ctx)
    categorised = body_of(ctx).get("categorisedActors")
    if not isinstance(categorised, dict):
        raise bad_request("The categorised actors must be provided.")  # plausible wording
    unknown = set(categorised) - {"atlassian-user-role-actor", "atlassian-group-role-actor",
                                  "atlassian-group-role-actor-id"}
    if unknown:
        raise bad_request(f"Unknown actor types: {', '.join(sorted(unknown))}.")  # plausible wording
    actors = resolve_actors(ctx.site, categorised.get("atlassian-user-role-actor") or [],
                            categorised.get("atlassian-group-role-actor") or [],
                            categorised.get("atlassian-group-role-actor-id") or [])
    proj.setdefault("_roleActors", {})[str(rec["id"])] = merge_actors([], actors)
    return _role_json(ctx.site, proj, rec)


@handles("DELETE", f"{API}/project/{{projectIdOrKey}}/role/{{id}}")
def remove_project_actor(ctx: Ctx) -> Reply:
    proj, rec = _writable_role(ctx)
    actors = proj.setdefault("_roleActors", {})
    actors[str(rec["id"])] = remove_actor(ctx.site, actors.get(str(rec["id"]), []), ctx)
    return Reply(204)


def on_role_deleted(site: Site, role_id: str) -> None:
    for proj in site.store.values("projects"):
        proj.get("_roleActors", {}).pop(role_id, None)


# --------------------------------------------------------------------------- seeding


def _check_seed_project(site: Site, item: dict[str, Any]) -> None:
    category = item.get("projectCategory")
    if category and site.store.get("projectCategories", category.get("id", "")) is None:
        raise ValueError(f"seed projects: project {item.get('key')!r} names unknown category {category}")
    lead = (item.get("lead") or {}).get("accountId")
    if lead and site.store.get("users", lead) is None:
        raise ValueError(f"seed projects: project {item.get('key')!r} names unknown lead {lead}")


@seed_type("projects", exporter=lambda site: [_stored_view(site, p) for p in site.store.values("projects")],
           after=("projectCategories", "users"))
def seed_projects(site: Site, data: Any) -> None:
    """Seed value: ``GET /project/search?expand=description,lead,url`` values plus each ``assigneeType``."""
    for item in data:
        _check_seed_project(site, item)
        record = copy.deepcopy(item)
        if item.get("projectCategory"):
            record["_categoryId"] = str(item["projectCategory"]["id"])
        record["_schemes"], record["_roleActors"] = {}, {}
        site.store.put("projects", item["id"], record)
        bump(site, "project", item["id"])


def _seed_children(site: Site, data: Any, coll: str, kind: str) -> None:
    for pid, items in data.items():
        if site.store.get("projects", pid) is None:
            raise ValueError(f"seed {coll}: unknown project {pid}")
        for item in items:
            if str(item.get("projectId")) != pid:
                raise ValueError(f"seed {coll}: {item.get('name')!r} is listed under project {pid} but names "
                                 f"project {item.get('projectId')}")
            lead = (item.get("lead") or {}).get("accountId")
            if lead and site.store.get("users", lead) is None:
                raise ValueError(f"seed {coll}: {item.get('name')!r} names unknown lead {lead}")
            site.store.put(coll, item["id"], copy.deepcopy(item))
            bump(site, kind, item["id"])


def _export_children(site: Site, coll: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in site.store.values(coll):
        out.setdefault(str(item["projectId"]), []).append(public(item))
    return out


@seed_type("projectComponents", exporter=lambda site: _export_children(site, "components"),
           after=("projects", "users"))
def seed_components(site: Site, data: Any) -> None:
    """Seed value: ``{projectId: GET /project/{id}/components}``."""
    _seed_children(site, data, "components", "component")


@seed_type("projectVersions", exporter=lambda site: _export_children(site, "versions"), after=("projects",))
def seed_versions(site: Site, data: Any) -> None:
    """Seed value: ``{projectId: GET /project/{id}/versions}`` (list order is the version order)."""
    _seed_children(site, data, "versions", "version")


def _export_role_actors(site: Site) -> dict[str, dict[str, list[dict[str, Any]]]]:
    out = {}
    for proj in site.store.values("projects"):
        roles = {rid: copy.deepcopy(actors) for rid, actors in proj.get("_roleActors", {}).items() if actors}
        if roles:
            out[proj["id"]] = roles
    return out


@seed_type("projectRoleActors", exporter=_export_role_actors, after=("projects", "projectRoles", "groups", "users"))
def seed_role_actors(site: Site, data: Any) -> None:
    """Seed value: ``{projectId: {roleId: GET /project/{id}/role/{roleId} actors}}``."""
    for pid, roles in data.items():
        proj = site.store.get("projects", pid)
        if proj is None:
            raise ValueError(f"seed projectRoleActors: unknown project {pid}")
        for rid, actors in roles.items():
            if site.store.get("projectRoles", rid) is None:
                raise ValueError(f"seed projectRoleActors: project {pid} names unknown role {rid}")
            for actor in actors:
                group = (actor.get("actorGroup") or {}).get("groupId")
                user = (actor.get("actorUser") or {}).get("accountId")
                if (group and site.store.get("groups", group) is None) or \
                        (user and site.store.get("users", user) is None):
                    raise ValueError(f"seed projectRoleActors: project {pid} role {rid} names unknown {actor}")
            proj.setdefault("_roleActors", {})[rid] = copy.deepcopy(actors)


# the association kinds part A owns; the other scheme kinds are seeded by their own modules
OWN_ASSOCIATIONS = ("issueTypeScheme", "workflowScheme", "priorityScheme")


def _export_associations(site: Site) -> dict[str, dict[str, str]]:
    out = {}
    for proj in site.store.values("projects"):
        schemes = {k: v for k, v in (proj.get("_schemes") or {}).items() if v is not None and k in OWN_ASSOCIATIONS}
        if schemes:
            out[proj["id"]] = schemes
    return out


@seed_type("projectSchemeAssociations", exporter=_export_associations,
           after=("projects", "issueTypeSchemes", "prioritySchemes", "workflowSchemes"))
def seed_associations(site: Site, data: Any) -> None:
    """Seed value: ``{projectId: {kind: schemeId}}``: the non-default issue type, workflow and priority schemes.

    (Jira answers these through one look-up per scheme type; a single map keeps the seed readable.)
    """
    for pid, schemes in data.items():
        proj = site.store.get("projects", pid)
        if proj is None:
            raise ValueError(f"seed projectSchemeAssociations: unknown project {pid}")
        for kind, sid in schemes.items():
            if kind not in OWN_ASSOCIATIONS:
                raise ValueError(f"seed projectSchemeAssociations: unknown scheme kind {kind!r}")
            if site.store.get(SCHEME_COLLECTIONS[kind], str(sid)) is None:
                raise ValueError(f"seed projectSchemeAssociations: project {pid} names unknown {kind} {sid}")
            set_scheme(proj, kind, str(sid))
