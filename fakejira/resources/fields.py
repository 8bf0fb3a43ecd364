"""Fields: system and custom fields, custom field contexts, their mappings, default values and options."""

from __future__ import annotations

from typing import Any

from ..paging import page_bean
from ..registry import Ctx, JiraError, Reply, bad_request, handles, not_found, seed_type, site_defaults
from ..site import Site
from ._common import (
    BODY_MISSING,
    SeedRefError,
    body_of,
    find_issue_type,
    find_project,
    order_by,
    public,
    reorder,
    required_text,
    task_reply,
)

# --------------------------------------------------------------------------------------------------
# Field catalogue
# --------------------------------------------------------------------------------------------------

CF_TYPE_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"

# type suffix -> (schema type, schema items, searcher keys that fit, holds options)
CUSTOM_TYPES: dict[str, tuple[str, str | None, tuple[str, ...], bool]] = {
    "textfield": ("string", None, ("textsearcher", "exacttextsearcher"), False),
    "textarea": ("string", None, ("textsearcher",), False),
    "url": ("string", None, ("exacttextsearcher",), False),
    "readonlyfield": ("string", None, ("textsearcher",), False),
    "select": ("option", None, ("multiselectsearcher",), True),
    "radiobuttons": ("option", None, ("multiselectsearcher",), True),
    "multiselect": ("array", "option", ("multiselectsearcher",), True),
    "multicheckboxes": ("array", "option", ("multiselectsearcher",), True),
    "cascadingselect": ("option-with-child", None, ("cascadingselectsearcher",), True),
    "datepicker": ("date", None, ("daterange",), False),
    "datetime": ("datetime", None, ("datetimerange",), False),
    "float": ("number", None, ("exactnumber", "numberrange"), False),
    "userpicker": ("user", None, ("userpickergroupsearcher",), False),
    "multiuserpicker": ("array", "user", ("userpickergroupsearcher",), False),
    "grouppicker": ("group", None, ("grouppickersearcher",), False),
    "multigrouppicker": ("array", "group", ("grouppickersearcher",), False),
    "labels": ("array", "string", ("labelsearcher",), False),
    "project": ("project", None, ("projectsearcher",), False),
    "version": ("version", None, ("versionsearcher",), False),
    "multiversion": ("array", "version", ("versionsearcher",), False),
}

# id, name, schema type, items, system key (None: same as id), searchable, orderable, navigable
_SYSTEM: tuple[tuple[str, str, str, str | None, bool, bool, bool], ...] = (
    ("summary", "Summary", "string", None, True, True, True),
    ("description", "Description", "string", None, True, True, False),
    ("issuetype", "Issue Type", "issuetype", None, True, True, True),
    ("project", "Project", "project", None, False, False, True),
    ("status", "Status", "status", None, True, False, True),
    ("priority", "Priority", "priority", None, True, True, True),
    ("resolution", "Resolution", "resolution", None, True, True, True),
    ("assignee", "Assignee", "user", None, True, True, True),
    ("reporter", "Reporter", "user", None, True, True, True),
    ("creator", "Creator", "user", None, True, False, True),
    ("labels", "Labels", "array", "string", True, True, True),
    ("components", "Components", "array", "component", True, True, True),
    ("fixVersions", "Fix versions", "array", "version", True, True, True),
    ("versions", "Affects versions", "array", "version", True, True, True),
    ("duedate", "Due date", "date", None, True, True, True),
    ("created", "Created", "datetime", None, True, False, True),
    ("updated", "Updated", "datetime", None, True, False, True),
    ("resolutiondate", "Resolved", "datetime", None, True, False, True),
    ("environment", "Environment", "string", None, True, True, True),
    ("timetracking", "Time tracking", "timetracking", None, False, True, False),
    ("attachment", "Attachment", "array", "attachment", True, True, False),
    ("comment", "Comment", "comments-page", None, True, True, False),
    ("issuelinks", "Linked Issues", "array", "issuelinks", True, True, True),
    ("parent", "Parent", "issuelink", None, True, True, True),
    ("security", "Security Level", "securitylevel", None, True, True, True),
    ("subtasks", "Sub-tasks", "array", "issuelinks", False, False, True),
    ("watches", "Watchers", "watches", None, False, False, True),
    ("votes", "Votes", "votes", None, False, False, True),
    ("worklog", "Log Work", "array", "worklog", False, True, False),
)

# Built-in custom fields every Jira Software site has: locked, so they can't be created, edited or deleted.
_LOCKED: tuple[tuple[int, str, str, str, str | None, str | None], ...] = (
    (10000, "Development", "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf",
     "any", None, None),
    (10001, "Team", "com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team", "team", None,
     "com.atlassian.jira.plugin.system.customfieldtypes:teamsearcher"),
    (10014, "Epic Link", "com.pyxis.greenhopper.jira:gh-epic-link", "any", None,
     "com.pyxis.greenhopper.jira:gh-epic-link-searcher"),
    (10015, "Start date", "com.atlassian.jira.plugin.system.customfieldtypes:datepicker", "date", None,
     "com.atlassian.jira.plugin.system.customfieldtypes:daterange"),
    (10016, "Story point estimate", "com.pyxis.greenhopper.jira:jsw-story-points", "number", None,
     "com.atlassian.jira.plugin.system.customfieldtypes:exactnumber"),
    (10019, "Rank", "com.pyxis.greenhopper.jira:gh-lexo-rank", "any", None,
     "com.pyxis.greenhopper.jira:gh-lexo-rank-searcher"),
    (10020, "Sprint", "com.pyxis.greenhopper.jira:gh-sprint", "array", "json",
     "com.pyxis.greenhopper.jira:gh-sprint-searcher"),
    (10021, "Flagged", "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes", "array",
     "option", "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher"),
)

FIELD_EXPANDS = ("key", "lastUsed", "screensCount", "contextsCount", "isLocked", "searcherKey")
SEED_FIELD_EXPAND = "key,searcherKey,isLocked"  # a `fields` seed is GET /field/search?expand=<this>


def _schema(type_: str, items: str | None, *, system: str | None = None, custom: str | None = None,
            custom_id: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": type_}
    if items:
        schema["items"] = items
    if system:
        schema["system"] = system
    if custom:
        schema["custom"] = custom
        schema["customId"] = custom_id
    return schema


def is_custom(field: dict[str, Any]) -> bool:
    return "custom" in (field.get("schema") or {})


def field_ref(site: Site, field_id: str) -> dict[str, Any] | None:
    """A field by id or key (``cf[10010]`` style is not accepted by the REST API either)."""
    return site.store.get("fields", field_id)


def custom_field_or_404(site: Site, field_id: str) -> dict[str, Any]:
    field = field_ref(site, field_id)
    if field is None or not is_custom(field):
        raise not_found("The custom field was not found.")
    return field


def _type_suffix(field: dict[str, Any]) -> str:
    return str(field["schema"].get("custom", "")).removeprefix(CF_TYPE_PREFIX)


def holds_options(field: dict[str, Any]) -> bool:
    info = CUSTOM_TYPES.get(_type_suffix(field))
    return bool(info and info[3]) or field["schema"].get("items") == "option"


@site_defaults
def _install_fields(site: Site) -> None:
    for fid, name, type_, items, searchable, orderable, navigable in _SYSTEM:
        site.store.put("fields", fid, {
            "id": fid, "key": fid, "name": name, "schema": _schema(type_, items, system=fid),
            "isLocked": False,
            "_flags": {"searchable": searchable, "orderable": orderable, "navigable": navigable}})
    for num, name, type_key, stype, items, searcher in _LOCKED:
        fid = f"customfield_{num}"
        record: dict[str, Any] = {"id": fid, "key": fid, "name": name,
                                  "schema": _schema(stype, items, custom=type_key, custom_id=num),
                                  "isLocked": True}
        if searcher:
            record["searcherKey"] = searcher
        site.store.put("fields", fid, record)
        _add_context(site, fid, _default_context_name(name), projects=[], issue_types=[],
                     description="Default configuration scheme generated by Jira")
    site.store.bump("customfield", 10030)


# --------------------------------------------------------------------------------------------------
# Views of a field
# --------------------------------------------------------------------------------------------------


def _clause_names(field: dict[str, Any]) -> list[str]:
    if is_custom(field):
        return [f"cf[{field['schema']['customId']}]", field["name"]]
    return [field["id"]]


def field_details(field: dict[str, Any]) -> dict[str, Any]:
    """The FieldDetails shape of ``GET /field``."""
    flags = field.get("_flags") or {"searchable": "searcherKey" in field, "orderable": True,
                                     "navigable": True}
    out: dict[str, Any] = {"id": field["id"], "key": field.get("key", field["id"]), "name": field["name"],
                           "custom": is_custom(field), "orderable": flags["orderable"],
                           "navigable": flags["navigable"], "searchable": flags["searchable"],
                           "clauseNames": _clause_names(field), "schema": field["schema"]}
    if "_scope" in field:
        out["scope"] = field["_scope"]
    return out


def _count_screens(site: Site, field_id: str) -> int:
    screens = {str(tf["_screenId"]) for tf in site.store.values("screenTabFields") if tf["id"] == field_id}
    return len(screens)


def _field_search_view(site: Site, field: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    """The Field shape of ``GET /field/search`` with the requested expansions."""
    out: dict[str, Any] = {"id": field["id"], "name": field["name"], "schema": field["schema"]}
    if field.get("description"):
        out["description"] = field["description"]
    if "key" in expand:
        out["key"] = field.get("key", field["id"])
    if "isLocked" in expand:
        out["isLocked"] = bool(field.get("isLocked"))
    if "searcherKey" in expand and field.get("searcherKey"):
        out["searcherKey"] = field["searcherKey"]
    if "screensCount" in expand:
        out["screensCount"] = _count_screens(site, field["id"])
    if "contextsCount" in expand:
        out["contextsCount"] = len(contexts_of(site, field["id"])) if is_custom(field) else 0
    if "lastUsed" in expand:
        out["lastUsed"] = {"type": "NOT_TRACKED"} if not is_custom(field) else {"type": "NO_INFORMATION"}
    return out


@handles("GET", "/rest/api/3/field")
def list_fields(ctx: Ctx) -> list[dict[str, Any]]:
    return [field_details(f) for f in ctx.site.store.values("fields")]


@handles("GET", "/rest/api/3/field/search")
def search_fields(ctx: Ctx) -> dict[str, Any]:
    expand = set(ctx.list_arg("expand"))
    unknown = expand - set(FIELD_EXPANDS)
    if unknown:
        raise bad_request(f"Invalid expand value(s): {', '.join(sorted(unknown))}.")  # plausible wording
    types = set(ctx.list_arg("type"))
    if types - {"custom", "system"}:
        raise bad_request(f"The value '{','.join(sorted(types))}' is invalid for parameter 'type'.")
    ids = set(ctx.list_arg("id"))
    query = (ctx.arg("query") or "").casefold()
    items = []
    for field in ctx.site.store.values("fields"):
        kind = "custom" if is_custom(field) else "system"
        if types and kind not in types:
            continue
        if ids and field["id"] not in ids:
            continue
        if query and query not in field["name"].casefold() and query not in field["id"].casefold():
            continue
        items.append(field)
    items = order_by(items, ctx.arg("orderBy"), {
        "name": lambda f: f["name"].casefold(),
        "contextsCount": lambda f: len(contexts_of(ctx.site, f["id"])),
        "screensCount": lambda f: _count_screens(ctx.site, f["id"]),
        "lastUsed": lambda f: 0,
    })
    return page_bean(ctx, [_field_search_view(ctx.site, f, expand) for f in items])


# --------------------------------------------------------------------------------------------------
# Custom field create / update / delete
# --------------------------------------------------------------------------------------------------


def _check_type(body: dict[str, Any]) -> tuple[str, str | None]:
    type_key = required_text(body, "type")
    suffix = type_key.removeprefix(CF_TYPE_PREFIX)
    if not type_key.startswith(CF_TYPE_PREFIX) or suffix not in CUSTOM_TYPES:
        # Locked/app field types (Sprint, Rank, Story point estimate...) can't be created through the API.
        raise bad_request(errors={"type": f"Invalid custom field type '{type_key}'."})  # plausible wording
    searcher = body.get("searcherKey")
    if searcher is not None:
        _check_searcher(suffix, searcher)
    return type_key, searcher


def _check_searcher(suffix: str, searcher: str) -> None:
    allowed = CUSTOM_TYPES[suffix][2]
    if searcher.removeprefix(CF_TYPE_PREFIX) not in allowed:
        raise bad_request(errors={"searcherKey": f"Invalid searcher key '{searcher}' for this field type."})


@handles("POST", "/rest/api/3/field")
def create_field(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    type_key, searcher = _check_type(body)
    num = ctx.site.store.next_id("customfield")
    fid = f"customfield_{num}"
    suffix = type_key.removeprefix(CF_TYPE_PREFIX)
    stype, items, _searchers, _options = CUSTOM_TYPES[suffix]
    record: dict[str, Any] = {"id": fid, "key": fid, "name": name,
                              "schema": _schema(stype, items, custom=type_key, custom_id=num),
                              "isLocked": False}
    if body.get("description"):
        record["description"] = body["description"]
    if searcher:
        record["searcherKey"] = searcher
    ctx.site.store.put("fields", fid, record)
    # Jira gives every new custom field one global context, named after the field.
    _add_context(ctx.site, fid, _default_context_name(name), projects=[], issue_types=[],
                 description="Default configuration scheme generated by Jira")
    return Reply(201, field_details(record))


def _default_context_name(field_name: str) -> str:
    return f"Default Configuration Scheme for {field_name}"


def _editable_custom_field(site: Site, field_id: str) -> dict[str, Any]:
    field = custom_field_or_404(site, field_id)
    if field.get("isLocked"):
        raise bad_request(f"The custom field '{field_id}' is locked and can't be modified.")  # plausible
    return field


@handles("PUT", "/rest/api/3/field/{fieldId}")
def update_field(ctx: Ctx) -> Reply:
    field = _editable_custom_field(ctx.site, ctx.path_params["fieldId"])
    body = body_of(ctx, BODY_MISSING)
    if "name" in body:
        field["name"] = required_text(body, "name", max_len=255, strip=True)
    if "description" in body:
        if body["description"]:
            field["description"] = body["description"]
        else:
            field.pop("description", None)
    if "searcherKey" in body:
        _check_searcher(_type_suffix(field), body["searcherKey"])
        field["searcherKey"] = body["searcherKey"]
    return Reply(204)


@handles("DELETE", "/rest/api/3/field/{id}")
def delete_field(ctx: Ctx) -> Reply:
    field_id = ctx.path_params["id"]
    if not field_id.startswith("customfield_"):
        raise bad_request(f"The custom field ID '{field_id}' format is incorrect.")  # plausible wording
    field = _editable_custom_field(ctx.site, field_id)
    uses = _security_uses(ctx.site, field_id)
    if uses:  # the spec: a field used in an issue security or permission scheme can't be deleted
        raise bad_request(f"The custom field {field['name']} is used in {uses[0]} and can't be deleted.")
    for context in contexts_of(ctx.site, field_id):
        _remove_context(ctx.site, context)
    for tab_field in list(ctx.site.store.values("screenTabFields")):
        if tab_field["id"] == field_id:
            ctx.site.store.delete("screenTabFields", tab_field["_key"])
    ctx.site.store.delete("fields", field_id)
    # Jira deletes custom fields in a long-running task and answers 303 to the task.
    return task_reply(ctx, f"Delete custom field {field_id}")


def _security_uses(site: Site, field_id: str) -> list[str]:
    """Permission / issue security schemes with a user- or group-custom-field holder on ``field_id``."""
    used = []
    for scheme in site.store.values("permissionSchemes"):
        if any(_holds_field(g.get("holder"), field_id) for g in scheme.get("permissions", [])):
            used.append(f"permission scheme {scheme['name']}")
    if any(_holds_field(m.get("holder"), field_id) for m in site.store.values("issueSecurityLevelMembers")):
        used.append("an issue security scheme")
    return used


def _holds_field(holder: dict[str, Any] | None, field_id: str) -> bool:
    holder = holder or {}
    custom_holder = holder.get("type") in ("userCustomField", "groupCustomField")
    return custom_holder and holder.get("parameter") == field_id


# --------------------------------------------------------------------------------------------------
# Contexts
# --------------------------------------------------------------------------------------------------


def contexts_of(site: Site, field_id: str) -> list[dict[str, Any]]:
    return [c for c in site.store.values("fieldContexts") if c["_fieldId"] == field_id]


def _context_view(context: dict[str, Any]) -> dict[str, Any]:
    return {"id": context["id"], "name": context["name"], "description": context.get("description", ""),
            "isGlobalContext": not context["_projectIds"], "isAnyIssueType": not context["_issueTypeIds"]}


def _add_context(site: Site, field_id: str, name: str, *, projects: list[str], issue_types: list[str],
                 description: str = "", context_id: str | None = None) -> dict[str, Any]:
    cid = context_id or str(site.store.next_id("fieldContext", start=10100))
    record = {"id": cid, "name": name, "description": description, "_fieldId": field_id,
              "_projectIds": list(projects), "_issueTypeIds": list(issue_types), "_default": None}
    return site.store.put("fieldContexts", cid, record)


def _remove_context(site: Site, context: dict[str, Any]) -> None:
    for option in options_of(site, context["id"]):
        site.store.delete("fieldOptions", option["id"])
    site.store.delete("fieldContexts", context["id"])


def context_or_404(site: Site, field_id: str, context_id: str) -> dict[str, Any]:
    context = site.store.get("fieldContexts", context_id)
    if context is None or context["_fieldId"] != field_id:
        raise not_found("The context was not found.")
    return context


def _id_list(body: dict[str, Any], key: str, *, required: bool) -> list[str]:
    value = body.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise bad_request(errors={key: f"The {key} must be provided."})  # plausible wording
    return [str(v) for v in value]


def _check_issue_types(site: Site, ids: list[str]) -> None:
    missing = [i for i in ids if find_issue_type(site, i) is None]
    if missing:
        raise not_found(f"The issue type(s) {', '.join(missing)} were not found.")  # plausible wording


def _check_projects(site: Site, ids: list[str]) -> None:
    missing = [i for i in ids if find_project(site, i) is None]
    if missing:
        raise not_found(f"The project(s) {', '.join(missing)} were not found.")  # plausible wording


def _check_global_and_projects(site: Site, field_id: str, projects: list[str], own: str | None) -> None:
    """One global context per field, and a project in at most one context of a field (Jira's rules)."""
    others = [c for c in contexts_of(site, field_id) if c["id"] != own]
    if not projects and any(not c["_projectIds"] for c in others):
        raise bad_request("The custom field already has a global context.")  # plausible wording
    taken = {p for c in others for p in c["_projectIds"]}
    clash = [p for p in projects if p in taken]
    if clash:
        raise bad_request(f"Projects {', '.join(clash)} are already associated with a context "
                          f"of this custom field.")  # plausible wording


@handles("GET", "/rest/api/3/field/{fieldId}/context")
def list_contexts(ctx: Ctx) -> dict[str, Any]:
    custom_field_or_404(ctx.site, ctx.path_params["fieldId"])
    wanted = set(ctx.list_arg("contextId"))
    any_type = ctx.arg("isAnyIssueType")
    is_global = ctx.arg("isGlobalContext")
    items = []
    for context in contexts_of(ctx.site, ctx.path_params["fieldId"]):
        view = _context_view(context)
        if wanted and context["id"] not in wanted:
            continue
        if any_type is not None and str(view["isAnyIssueType"]).lower() != any_type.lower():
            continue
        if is_global is not None and str(view["isGlobalContext"]).lower() != is_global.lower():
            continue
        items.append(view)
    return page_bean(ctx, items)


@handles("POST", "/rest/api/3/field/{fieldId}/context")
def create_context(ctx: Ctx) -> Reply:
    field_id = ctx.path_params["fieldId"]
    _editable_custom_field(ctx.site, field_id)
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    projects = _id_list(body, "projectIds", required=False)
    issue_types = _id_list(body, "issueTypeIds", required=False)
    _check_projects(ctx.site, projects)
    _check_issue_types(ctx.site, issue_types)
    _check_global_and_projects(ctx.site, field_id, projects, None)
    context = _add_context(ctx.site, field_id, name, projects=projects, issue_types=issue_types,
                           description=body.get("description") or "")
    return Reply(201, {"id": context["id"], "name": name, "description": context["description"],
                       "projectIds": projects, "issueTypeIds": issue_types})


@handles("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}")
def update_context(ctx: Ctx) -> Reply:
    field_id = ctx.path_params["fieldId"]
    _editable_custom_field(ctx.site, field_id)
    context = context_or_404(ctx.site, field_id, ctx.path_params["contextId"])
    body = body_of(ctx, BODY_MISSING)
    if "name" in body:
        context["name"] = required_text(body, "name", max_len=255, strip=True)
    if "description" in body:
        context["description"] = body["description"] or ""
    return Reply(204)


@handles("DELETE", "/rest/api/3/field/{fieldId}/context/{contextId}")
def delete_context(ctx: Ctx) -> Reply:
    field_id = ctx.path_params["fieldId"]
    _editable_custom_field(ctx.site, field_id)
    _remove_context(ctx.site, context_or_404(ctx.site, field_id, ctx.path_params["contextId"]))
    return Reply(204)


@handles("GET", "/rest/api/3/field/{fieldId}/context/issuetypemapping")
def context_issue_type_mapping(ctx: Ctx) -> dict[str, Any]:
    custom_field_or_404(ctx.site, ctx.path_params["fieldId"])
    wanted = set(ctx.list_arg("contextId"))
    return page_bean(ctx, [m for m in _issue_type_mappings(ctx.site, ctx.path_params["fieldId"])
                           if not wanted or m["contextId"] in wanted])


def _issue_type_mappings(site: Site, field_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for context in contexts_of(site, field_id):
        if not context["_issueTypeIds"]:
            out.append({"contextId": context["id"], "isAnyIssueType": True})
        out.extend({"contextId": context["id"], "issueTypeId": t} for t in context["_issueTypeIds"])
    return out


@handles("GET", "/rest/api/3/field/{fieldId}/context/projectmapping")
def context_project_mapping(ctx: Ctx) -> dict[str, Any]:
    custom_field_or_404(ctx.site, ctx.path_params["fieldId"])
    wanted = set(ctx.list_arg("contextId"))
    return page_bean(ctx, [m for m in _project_mappings(ctx.site, ctx.path_params["fieldId"])
                           if not wanted or m["contextId"] in wanted])


def _project_mappings(site: Site, field_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for context in contexts_of(site, field_id):
        if not context["_projectIds"]:
            out.append({"contextId": context["id"], "isGlobalContext": True})
        out.extend({"contextId": context["id"], "projectId": p} for p in context["_projectIds"])
    return out


def _change_members(ctx: Ctx, member_key: str, body_key: str, *, add: bool) -> Reply:
    field_id = ctx.path_params["fieldId"]
    _editable_custom_field(ctx.site, field_id)
    context = context_or_404(ctx.site, field_id, ctx.path_params["contextId"])
    ids = _id_list(body_of(ctx, BODY_MISSING), body_key, required=True)
    if body_key == "issueTypeIds":
        _check_issue_types(ctx.site, ids)
    else:
        _check_projects(ctx.site, ids)
    current: list[str] = context[member_key]
    if add and not context["_projectIds"]:
        # The spec (CHANGE-3019): since April 2026 issue types or projects can't be added to the global context.
        what = "Issue types" if body_key == "issueTypeIds" else "Projects"
        raise bad_request(f"{what} can't be added to a global context.")  # plausible wording
    if add:
        if body_key == "projectIds":
            _check_global_and_projects(ctx.site, field_id, current + ids, context["id"])
        current.extend(i for i in ids if i not in current)
        return Reply(204)
    absent = [i for i in ids if i not in current]
    if absent:
        raise bad_request(f"These {'issue types' if body_key == 'issueTypeIds' else 'projects'} are not "
                          f"associated with the context: {', '.join(absent)}.")  # plausible wording
    if body_key == "projectIds" and len(ids) == len(current):
        raise bad_request("The context must keep at least one project; delete the context instead.")
    context[member_key] = [i for i in current if i not in ids]
    return Reply(204)


@handles("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/issuetype")
def add_context_issue_types(ctx: Ctx) -> Reply:
    return _change_members(ctx, "_issueTypeIds", "issueTypeIds", add=True)


@handles("POST", "/rest/api/3/field/{fieldId}/context/{contextId}/issuetype/remove")
def remove_context_issue_types(ctx: Ctx) -> Reply:
    return _change_members(ctx, "_issueTypeIds", "issueTypeIds", add=False)


@handles("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/project")
def add_context_projects(ctx: Ctx) -> Reply:
    return _change_members(ctx, "_projectIds", "projectIds", add=True)


@handles("POST", "/rest/api/3/field/{fieldId}/context/{contextId}/project/remove")
def remove_context_projects(ctx: Ctx) -> Reply:
    return _change_members(ctx, "_projectIds", "projectIds", add=False)


# --------------------------------------------------------------------------------------------------
# Default values
# --------------------------------------------------------------------------------------------------

_OPTION_DEFAULTS = {"option.single", "option.multiple", "option.cascading"}
# default value type (spec: CustomFieldContextDefaultValue's discriminator) -> (field types it fits, required keys)
DEFAULT_TYPES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "option.single": (frozenset({"select", "radiobuttons"}), ("optionId",)),
    "option.multiple": (frozenset({"multiselect", "multicheckboxes"}), ("optionIds",)),
    "option.cascading": (frozenset({"cascadingselect"}), ("optionId",)),
    "single.user.select": (frozenset({"userpicker"}), ("accountId", "userFilter")),
    "multi.user.select": (frozenset({"multiuserpicker"}), ("accountIds",)),
    "grouppicker.single": (frozenset({"grouppicker"}), ("groupId",)),
    "grouppicker.multiple": (frozenset({"multigrouppicker"}), ("groupIds",)),
    "version.single": (frozenset({"version"}), ("versionId",)),
    "version.multiple": (frozenset({"multiversion"}), ("versionIds",)),
    "project": (frozenset({"project"}), ("projectId",)),
    "textfield": (frozenset({"textfield"}), ()),
    "textarea": (frozenset({"textarea"}), ()),
    "readonly": (frozenset({"readonlyfield"}), ()),
    "url": (frozenset({"url"}), ("url",)),
    "float": (frozenset({"float"}), ("number",)),
    "labels": (frozenset({"labels"}), ("labels",)),
    "datepicker": (frozenset({"datepicker"}), ()),
    "datetimepicker": (frozenset({"datetime"}), ()),
}
VERSION_ORDERS = ("releasedFirst", "unreleasedFirst")
USER_FILTER_MAX = 10  # the spec: "A maximum of 10 groups/roles can be provided"


@handles("GET", "/rest/api/3/field/{fieldId}/context/defaultValue")
def get_default_values(ctx: Ctx) -> dict[str, Any]:
    custom_field_or_404(ctx.site, ctx.path_params["fieldId"])
    wanted = set(ctx.list_arg("contextId"))
    items = [c["_default"] for c in contexts_of(ctx.site, ctx.path_params["fieldId"])
             if c["_default"] is not None and (not wanted or c["id"] in wanted)]
    return page_bean(ctx, items)


@handles("PUT", "/rest/api/3/field/{fieldId}/context/defaultValue")
def set_default_values(ctx: Ctx) -> Reply:
    field_id = ctx.path_params["fieldId"]
    field = _editable_custom_field(ctx.site, field_id)
    values = body_of(ctx, BODY_MISSING).get("defaultValues")
    if not isinstance(values, list):
        raise bad_request(errors={"defaultValues": "The default values must be provided."})
    checked = [(_check_default(ctx.site, field, value), value) for value in values]
    for context, value in checked:
        context["_default"] = dict(value)
    return Reply(204)


def _check_default(site: Site, field: dict[str, Any], value: Any) -> dict[str, Any]:
    """The context a default value is for, once it is one Jira would take: a type that fits the field, the keys
    the spec requires, and every id it names an existing object (options of that context, a cascading child under
    its parent). Options missing: 404 (the spec's words: "an option, or a cascading option is not found"); any
    other object missing: 400 ("the request is not valid")."""
    if not isinstance(value, dict) or not value.get("type") or not value.get("contextId"):
        raise bad_request("Each default value needs a 'type' and a 'contextId'.")  # plausible wording
    context = context_or_404(site, field["id"], str(value["contextId"]))
    kind = str(value["type"])
    fits, required = DEFAULT_TYPES.get(kind, (frozenset(), ()))
    if _type_suffix(field) not in fits:
        raise bad_request(f"The default value type '{kind}' doesn't match the custom field type.")  # plausible
    missing = [k for k in required if value.get(k) in (None, "", [])]
    if missing:
        raise bad_request(f"The default value of type '{kind}' needs '{missing[0]}'.")  # plausible wording
    if kind in _OPTION_DEFAULTS:
        _check_option_default(site, context, value)
    else:
        _check_reference_default(site, kind, value)
    return context


def _check_option_default(site: Site, context: dict[str, Any], value: dict[str, Any]) -> None:
    """Options of this context; a single or multiple default names parents only, a cascading child its parent's."""
    kind = value["type"]
    ids = value["optionIds"] if kind == "option.multiple" else [value["optionId"]]
    if not isinstance(ids, list):
        raise bad_request(errors={"optionIds": "The option IDs must be a list."})  # plausible wording
    for oid in ids:
        option = site.store.get("fieldOptions", str(oid))
        if option is None or option["_contextId"] != context["id"] or option.get("optionId"):
            raise not_found(f"The option '{oid}' was not found.")  # plausible wording
    child_id = value.get("cascadingOptionId")
    if kind == "option.cascading" and child_id:
        child = site.store.get("fieldOptions", str(child_id))
        if child is None or child["_contextId"] != context["id"] or child.get("optionId") != str(ids[0]):
            raise not_found(f"The cascading option '{child_id}' was not found "  # plausible wording
                            f"under the option '{ids[0]}'.")


def _id_values(value: dict[str, Any], single: str, many: str) -> list[str]:
    found = value.get(many) if many in value else [value.get(single)]
    if not isinstance(found, list):
        raise bad_request(errors={many: f"The {many} must be a list."})  # plausible wording
    return [str(v) for v in found if v is not None]


def _check_reference_default(site: Site, kind: str, value: dict[str, Any]) -> None:
    """Users, groups, versions and projects a default names exist on this site (Jira: 400)."""
    if kind in ("single.user.select", "multi.user.select"):
        for account_id in _id_values(value, "accountId", "accountIds"):
            if site.store.get("users", account_id) is None:
                raise bad_request(f"The user with account ID '{account_id}' does not exist.")  # plausible wording
        if kind == "single.user.select":
            _check_user_filter(site, value["userFilter"])
    elif kind.startswith("grouppicker."):
        for group_id in _id_values(value, "groupId", "groupIds"):
            if site.store.get("groups", group_id) is None:
                raise bad_request(f"The group with ID '{group_id}' does not exist.")  # plausible wording
    elif kind.startswith("version."):
        for version_id in _id_values(value, "versionId", "versionIds"):
            if site.store.get("versions", version_id) is None:
                raise bad_request(f"The version with ID '{version_id}' does not exist.")  # plausible wording
        if value.get("versionOrder") is not None and value["versionOrder"] not in VERSION_ORDERS:
            raise bad_request(errors={"versionOrder": "The version order must be releasedFirst or "
                                                      "unreleasedFirst."})  # plausible wording
    elif kind == "project" and site.store.get("projects", str(value["projectId"])) is None:
        raise bad_request(f"The project with ID '{value['projectId']}' does not exist.")  # plausible wording


def _check_user_filter(site: Site, user_filter: Any) -> None:
    """A single user picker's filter: ``enabled`` given, at most ten existing groups (by name) and roles (by id)."""
    if not isinstance(user_filter, dict) or not isinstance(user_filter.get("enabled"), bool):
        raise bad_request(errors={"userFilter": "The user filter needs 'enabled'."})  # plausible wording
    groups, roles = user_filter.get("groups") or [], user_filter.get("roleIds") or []
    if len(groups) > USER_FILTER_MAX or len(roles) > USER_FILTER_MAX:
        raise bad_request(f"A user filter can name at most {USER_FILTER_MAX} groups and "  # plausible wording
                          f"{USER_FILTER_MAX} roles.")
    for name in groups:
        if site.store.find_name_ci("groups", str(name)) is None:
            raise bad_request(f"Group '{name}' does not exist.")  # plausible wording
    for role_id in roles:
        if site.store.get("projectRoles", str(role_id)) is None:
            raise bad_request(f"The project role with ID '{role_id}' does not exist.")  # plausible wording


# --------------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------------

MAX_OPTIONS_PER_REQUEST = 1000


def options_of(site: Site, context_id: str) -> list[dict[str, Any]]:
    return [o for o in site.store.values("fieldOptions") if o["_contextId"] == context_id]


def _option_context(ctx: Ctx, *, write: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    field_id = ctx.path_params["fieldId"]
    field = _editable_custom_field(ctx.site, field_id) if write else custom_field_or_404(ctx.site, field_id)
    context = context_or_404(ctx.site, field_id, ctx.path_params["contextId"])
    if not holds_options(field):
        raise bad_request("The custom field doesn't support options.")  # plausible wording
    return field, context


@handles("GET", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
def list_options(ctx: Ctx) -> dict[str, Any]:
    _field, context = _option_context(ctx, write=False)
    only = ctx.arg("optionId")
    only_options = str(ctx.arg("onlyOptions", "false")).lower() == "true"
    items = []
    for option in options_of(ctx.site, context["id"]):
        if only and option["id"] != only and option.get("optionId") != only:
            continue
        if only_options and option.get("optionId"):
            continue
        items.append(public(option))
    return page_bean(ctx, items, default_max=100, cap=100)


def _is_cascading(field: dict[str, Any]) -> bool:
    return field["schema"]["type"] == "option-with-child"


def _check_new_value(siblings: list[dict[str, Any]], value: Any, *, own: str | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request("The option value must be provided.")  # plausible wording
    if len(value) > 255:
        raise bad_request("The option value must not exceed 255 characters.")  # plausible wording
    if any(o["value"].casefold() == value.casefold() and o["id"] != own for o in siblings):
        raise bad_request(f"The option value '{value}' is not unique.")  # plausible wording
    return value


@handles("POST", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
def create_options(ctx: Ctx) -> dict[str, Any]:
    field, context = _option_context(ctx, write=True)
    requested = body_of(ctx, BODY_MISSING).get("options")
    if not isinstance(requested, list) or not requested:
        raise bad_request(errors={"options": "The options must be provided."})  # plausible wording
    if len(requested) > MAX_OPTIONS_PER_REQUEST:
        raise bad_request(f"Too many options: a request can create up to {MAX_OPTIONS_PER_REQUEST} options.")
    existing = options_of(ctx.site, context["id"])
    staged: list[dict[str, Any]] = []
    for item in requested:
        if not isinstance(item, dict):
            raise bad_request("Each option must be an object.")
        parent = item.get("optionId")
        if parent is not None:
            parent = str(parent)
            if not _is_cascading(field):
                raise bad_request("Only cascading select fields have child options.")  # plausible wording
            if not any(o["id"] == parent and not o.get("optionId") for o in existing):
                raise not_found(f"The option '{parent}' was not found.")  # plausible wording
        siblings = [o for o in existing + staged if o.get("optionId") == parent]
        value = _check_new_value(siblings, item.get("value"))
        option: dict[str, Any] = {"id": str(ctx.site.store.next_id("fieldOption")), "value": value,
                                  "disabled": bool(item.get("disabled", False)), "_contextId": context["id"]}
        if parent:
            option["optionId"] = parent
        staged.append(option)
    for option in staged:
        ctx.site.store.put("fieldOptions", option["id"], option)
    return {"options": [public(o) for o in staged]}


@handles("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
def update_options(ctx: Ctx) -> dict[str, Any]:
    _field, context = _option_context(ctx, write=True)
    requested = body_of(ctx, BODY_MISSING).get("options")
    if not isinstance(requested, list) or not requested:
        raise bad_request(errors={"options": "The options must be provided."})  # plausible wording
    existing = options_of(ctx.site, context["id"])
    by_id = {o["id"]: o for o in existing}
    changes = []
    for item in requested:
        option = by_id.get(str((item or {}).get("id")))
        if option is None:
            raise not_found(f"The option '{(item or {}).get('id')}' was not found.")  # plausible wording
        if "value" in item:
            siblings = [o for o in existing if o.get("optionId") == option.get("optionId")]
            _check_new_value(siblings, item["value"], own=option["id"])
        changes.append((option, item))
    out = []
    for option, item in changes:
        if "value" in item:
            option["value"] = item["value"]
        if "disabled" in item:
            option["disabled"] = bool(item["disabled"])
        out.append({"id": option["id"], "value": option["value"], "disabled": option["disabled"]})
    return {"options": out}


@handles("DELETE", "/rest/api/3/field/{fieldId}/context/{contextId}/option/{optionId}")
def delete_option(ctx: Ctx) -> Reply:
    _field, context = _option_context(ctx, write=True)
    option = ctx.site.store.get("fieldOptions", ctx.path_params["optionId"])
    if option is None or option["_contextId"] != context["id"]:
        raise not_found(f"The option '{ctx.path_params['optionId']}' was not found.")  # plausible wording
    for child in options_of(ctx.site, context["id"]):
        if child.get("optionId") == option["id"]:
            ctx.site.store.delete("fieldOptions", child["id"])
    ctx.site.store.delete("fieldOptions", option["id"])
    return Reply(204)


@handles("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/option/move")
def move_options(ctx: Ctx) -> Reply:
    _field, context = _option_context(ctx, write=True)
    body = body_of(ctx, BODY_MISSING)
    ids = [str(i) for i in body.get("customFieldOptionIds") or []]
    if not ids:
        raise bad_request(errors={"customFieldOptionIds": "The option IDs must be provided."})
    if ("after" in body) == ("position" in body):
        raise bad_request("Provide either 'after' or 'position'.")  # plausible wording
    current = options_of(ctx.site, context["id"])
    by_id = {o["id"]: o for o in current}
    for oid in [*ids, *([str(body["after"])] if "after" in body else [])]:
        if oid not in by_id:
            raise not_found(f"The option '{oid}' was not found.")  # plausible wording
    moving = [by_id[i] for i in ids]
    if len({o.get("optionId") for o in moving}) > 1:
        raise bad_request("Options with different parents can't be moved together.")  # plausible wording
    rest = [o for o in current if o["id"] not in ids]
    if body.get("position") == "First":
        index = 0
    elif body.get("position") == "Last":
        index = len(rest)
    elif "position" in body:
        raise bad_request(errors={"position": "The position must be 'First' or 'Last'."})
    else:
        index = next(i for i, o in enumerate(rest) if o["id"] == str(body["after"])) + 1
    reorder(ctx.site, "fieldOptions", current, rest[:index] + moving + rest[index:], key="id")
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Seeding: fields, fieldContexts, fieldContextIssueTypeMappings, fieldContextProjectMappings,
# fieldContextDefaults, fieldOptions
# --------------------------------------------------------------------------------------------------


def _export_fields(site: Site) -> list[dict[str, Any]]:
    expand = set(SEED_FIELD_EXPAND.split(","))
    return [_field_search_view(site, f, expand) for f in site.store.values("fields")]


@seed_type("fields", exporter=_export_fields)
def _seed_fields(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        fid = str(item["id"])
        old = site.store.get("fields", fid) or {}
        record = dict(item)
        if "_flags" in old:
            record["_flags"] = old["_flags"]
        site.store.put("fields", fid, record)
        if is_custom(record):
            site.store.bump("customfield", int(record["schema"]["customId"]))


def _by_field(site: Site, fn: Any) -> dict[str, Any]:
    out = {}
    for field in site.store.values("fields"):
        if is_custom(field):
            items = fn(site, field["id"])
            if items:
                out[field["id"]] = items
    return out


def _seed_field(site: Site, field_id: str) -> dict[str, Any]:
    field = site.store.get("fields", field_id)
    if field is None or not is_custom(field):
        raise SeedRefError(f"seed names unknown custom field {field_id!r}")
    return field


def _seed_context(site: Site, field_id: str, context_id: Any) -> dict[str, Any]:
    context = site.store.get("fieldContexts", str(context_id))
    if context is None or context["_fieldId"] != field_id:
        raise SeedRefError(f"seed names unknown context {context_id!r} of field {field_id!r}")
    return context


@seed_type("fieldContexts", exporter=lambda site: _by_field(
    site, lambda s, fid: [_context_view(c) for c in contexts_of(s, fid)]), after=("fields",))
def _seed_contexts(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    for field_id, contexts in data.items():
        _seed_field(site, field_id)
        for old in contexts_of(site, field_id):  # the seed lists the field's contexts completely
            _remove_context(site, old)
        for item in contexts:
            # Global/any-type flags are re-derived from the mapping seeds loaded next.
            _add_context(site, field_id, item["name"], projects=[], issue_types=[],
                         description=item.get("description", ""), context_id=str(item["id"]))
            site.store.bump("fieldContext", int(item["id"]))


@seed_type("fieldContextIssueTypeMappings", exporter=lambda site: _by_field(site, _issue_type_mappings),
           after=("fieldContexts", "issueTypes"))
def _seed_issue_type_mappings(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    for field_id, mappings in data.items():
        _seed_field(site, field_id)
        for item in mappings:
            context = _seed_context(site, field_id, item["contextId"])
            if item.get("issueTypeId") is not None:
                if find_issue_type(site, item["issueTypeId"]) is None:
                    raise SeedRefError(f"context {item['contextId']} names unknown issue type "
                                       f"{item['issueTypeId']!r}")
                context["_issueTypeIds"].append(str(item["issueTypeId"]))


@seed_type("fieldContextProjectMappings", exporter=lambda site: _by_field(site, _project_mappings),
           after=("fieldContexts", "projects"))
def _seed_project_mappings(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    for field_id, mappings in data.items():
        _seed_field(site, field_id)
        for item in mappings:
            context = _seed_context(site, field_id, item["contextId"])
            if item.get("projectId") is not None:
                if find_project(site, item["projectId"]) is None:
                    raise SeedRefError(f"context {item['contextId']} names unknown project "
                                       f"{item['projectId']!r}")
                context["_projectIds"].append(str(item["projectId"]))


def _export_options(site: Site) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for option in site.store.values("fieldOptions"):
        out.setdefault(option["_contextId"], []).append(public(option))
    return out


@seed_type("fieldOptions", exporter=_export_options, after=("fieldContexts",))
def _seed_options(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    for context_id, options in data.items():
        context = site.store.get("fieldContexts", str(context_id))
        if context is None:
            raise SeedRefError(f"seed names options of unknown context {context_id!r}")
        ids = {str(o["id"]) for o in options}
        for item in options:
            if item.get("optionId") is not None and str(item["optionId"]) not in ids:
                raise SeedRefError(f"option {item['id']} names unknown parent option {item['optionId']!r}")
            site.store.put("fieldOptions", str(item["id"]), {**item, "_contextId": context["id"]})
            site.store.bump("fieldOption", int(item["id"]))


@seed_type("fieldContextDefaults", exporter=lambda site: _by_field(
    site, lambda s, fid: [c["_default"] for c in contexts_of(s, fid) if c["_default"] is not None]),
    after=("fieldOptions", "projectVersions", "projects", "groups", "users", "projectRoles"))
def _seed_defaults(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    for field_id, values in data.items():
        field = _seed_field(site, field_id)
        for value in values:
            try:
                context = _check_default(site, field, value)
            except JiraError as err:
                raise SeedRefError(f"default value {value!r} of {field_id}: {err.error_messages}") from None
            context["_default"] = dict(value)
