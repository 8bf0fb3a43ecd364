"""Screens (tabs, tab fields), field configurations (items), field configuration schemes, screen schemes and
issue type screen schemes, with their project associations."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, overload

from ..paging import page_bean
from ..registry import Ctx, Reply, bad_request, handles, not_found, seed_type, site_defaults
from ..site import Site
from ._common import (
    BODY_MISSING,
    SeedRefError,
    apply_name_and_description,
    as_int,
    body_of,
    export_records,
    find_issue_type,
    find_project,
    order_by,
    projects_using,
    public,
    reorder,
    required_text,
    scheme_of,
    set_scheme,
    stored_or_404,
)
from .fields import field_ref

DEFAULT_SCREEN, WORKFLOW_SCREEN, RESOLVE_SCREEN = 1, 2, 3
DEFAULT_SCREEN_SCHEME = 1
DEFAULT_ITSS = "1"
DEFAULT_FIELD_CONFIGURATION = 10000
FCS_KIND, ITSS_KIND = "fieldConfigurationScheme", "issueTypeScreenScheme"
SCREEN_TYPES = ("default", "create", "edit", "view")

_DEFAULT_SCREEN_FIELDS = ("summary", "issuetype", "security", "priority", "duedate", "components",
                          "fixVersions", "versions", "assignee", "reporter", "environment", "description",
                          "timetracking", "attachment", "labels", "customfield_10020",
                          "customfield_10016", "parent")
_NAME_OR_ID = {"name": lambda s: s["name"].casefold(), "id": lambda s: s["id"]}
_RESOLVE_SCREEN_FIELDS = ("resolution", "fixVersions", "assignee", "worklog")


# --------------------------------------------------------------------------------------------------
# Defaults
# --------------------------------------------------------------------------------------------------


@site_defaults
def _install_screen_defaults(site: Site) -> None:
    for sid, name, desc, fields in (
            (DEFAULT_SCREEN, "Default Screen", "Allows to update all system fields.", _DEFAULT_SCREEN_FIELDS),
            (WORKFLOW_SCREEN, "Workflow Screen", "This screen is used in the workflow and enables you to "
                                                 "assign issues", ("assignee",)),
            (RESOLVE_SCREEN, "Resolve Issue Screen", "Allows to set resolution, change fix versions and "
                                                     "assign an issue.", _RESOLVE_SCREEN_FIELDS)):
        site.store.put("screens", sid, {"id": sid, "name": name, "description": desc})
        tab = _add_tab(site, sid, "Field Tab")
        for fid in fields:
            if field_ref(site, fid) is not None:
                _add_tab_field(site, tab, fid)
    site.store.put("fieldConfigurations", DEFAULT_FIELD_CONFIGURATION, {
        "id": DEFAULT_FIELD_CONFIGURATION, "name": "Default Field Configuration",
        "description": "The default field configuration", "isDefault": True})
    site.store.put("screenSchemes", DEFAULT_SCREEN_SCHEME, {
        "id": DEFAULT_SCREEN_SCHEME, "name": "Default Screen Scheme",
        "description": "Default Screen Scheme", "screens": {"default": DEFAULT_SCREEN}})
    site.store.put("issueTypeScreenSchemes", DEFAULT_ITSS, {
        "id": DEFAULT_ITSS, "name": "Default Issue Type Screen Scheme",
        "description": "The default issue type screen scheme",
        "_mappings": {"default": str(DEFAULT_SCREEN_SCHEME)}})


# --------------------------------------------------------------------------------------------------
# Screens
# --------------------------------------------------------------------------------------------------


def screen_or_404(site: Site, screen_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "screens", screen_id,
                         f"The screen with id '{screen_id}' does not exist.")  # plausible wording


def _screen_name_taken(site: Site, name: str, own: int | None = None) -> None:
    other = site.store.find_name_ci("screens", name)
    if other is not None and other["id"] != own:
        raise bad_request(errors={"screenName": "A screen with this name already exists."})


@handles("GET", "/rest/api/3/screens")
def list_screens(ctx: Ctx) -> dict[str, Any]:
    ids = {as_int(i, "screen ID") for i in ctx.list_arg("id")}
    query = (ctx.arg("queryString") or "").casefold()
    scopes = set(ctx.list_arg("scope"))
    items = []
    for screen in ctx.site.store.values("screens"):
        scope = (screen.get("scope") or {}).get("type", "GLOBAL")
        if (ids and screen["id"] not in ids) or (query and query not in screen["name"].casefold()):
            continue
        if scopes and scope not in scopes:
            continue
        items.append(public(screen))
    items = order_by(items, ctx.arg("orderBy"), _NAME_OR_ID)
    return page_bean(ctx, items, default_max=100, cap=100)


@handles("POST", "/rest/api/3/screens")
def create_screen(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _screen_name_taken(ctx.site, name)
    sid = ctx.site.store.next_id("screen")
    screen = {"id": sid, "name": name}
    if body.get("description"):
        screen["description"] = body["description"]
    ctx.site.store.put("screens", sid, screen)
    _add_tab(ctx.site, sid, "Field Tab")  # Jira gives a new screen one tab
    return Reply(201, public(screen))


@handles("PUT", "/rest/api/3/screens/{screenId}")
def update_screen(ctx: Ctx) -> dict[str, Any]:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    apply_name_and_description(ctx.site, screen, body_of(ctx, BODY_MISSING), _screen_name_taken)
    return public(screen)


@handles("DELETE", "/rest/api/3/screens/{screenId}")
def delete_screen(ctx: Ctx) -> Reply:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    users = [s["name"] for s in ctx.site.store.values("screenSchemes")
             if screen["id"] in s["screens"].values()]
    if users:
        raise bad_request(f"The screen is used in the screen scheme(s) {', '.join(users)} "
                          f"and can't be deleted.")  # plausible wording
    if _used_by_workflows(ctx.site, screen["id"]):
        raise bad_request("The screen is used in a workflow transition and can't be deleted.")  # plausible
    for tab in tabs_of(ctx.site, screen["id"]):
        _delete_tab(ctx.site, tab)
    ctx.site.store.delete("screens", screen["id"])
    return Reply(204)


def _used_by_workflows(site: Site, screen_id: int) -> bool:
    """Whether any workflow transition shows the screen (workflows are owned by ``workflows.py``)."""
    for workflow in site.store.values("workflows"):
        for transition in workflow.get("transitions") or []:
            props = transition.get("properties") or {}
            screen = (transition.get("transitionScreen") or {}).get("parameters", {}).get("screenId")
            if str(screen or props.get("jira.fieldscreen.id", "")) == str(screen_id):
                return True
    return False


# --------------------------------------------------------------------------------------------------
# Tabs
# --------------------------------------------------------------------------------------------------


def tabs_of(site: Site, screen_id: int) -> list[dict[str, Any]]:
    return [t for t in site.store.values("screenTabs") if t["_screenId"] == screen_id]


def _add_tab(site: Site, screen_id: int, name: str, tab_id: int | None = None) -> dict[str, Any]:
    tid = tab_id or site.store.next_id("screenTab", start=9999)
    return site.store.put("screenTabs", tid, {"id": tid, "name": name, "_screenId": screen_id})


def _delete_tab(site: Site, tab: dict[str, Any]) -> None:
    for tab_field in fields_of(site, tab["id"]):
        site.store.delete("screenTabFields", tab_field["_key"])
    site.store.delete("screenTabs", tab["id"])


def tab_or_404(site: Site, screen_id: int, tab_id: Any) -> dict[str, Any]:
    tab = site.store.get("screenTabs", str(tab_id))
    if tab is None or tab["_screenId"] != screen_id:
        raise not_found(f"The screen tab with id '{tab_id}' does not exist.")  # plausible wording
    return tab


def _tab_name_taken(site: Site, screen_id: int, name: str, own: int | None = None) -> None:
    if any(t["name"].casefold() == name.casefold() and t["id"] != own for t in tabs_of(site, screen_id)):
        raise bad_request(errors={"name": f"Screen Tab with name '{name}' already exists"})  # plausible


@handles("GET", "/rest/api/3/screens/{screenId}/tabs")
def list_tabs(ctx: Ctx) -> list[dict[str, Any]]:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    return [public(t) for t in tabs_of(ctx.site, screen["id"])]


@handles("POST", "/rest/api/3/screens/{screenId}/tabs")
def create_tab(ctx: Ctx) -> dict[str, Any]:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    name = required_text(body_of(ctx, BODY_MISSING), "name", max_len=255, strip=True)
    _tab_name_taken(ctx.site, screen["id"], name)
    return public(_add_tab(ctx.site, screen["id"], name))


@handles("PUT", "/rest/api/3/screens/{screenId}/tabs/{tabId}")
def rename_tab(ctx: Ctx) -> dict[str, Any]:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    tab = tab_or_404(ctx.site, screen["id"], ctx.path_params["tabId"])
    name = required_text(body_of(ctx, BODY_MISSING), "name", max_len=255, strip=True)
    _tab_name_taken(ctx.site, screen["id"], name, tab["id"])
    tab["name"] = name
    return public(tab)


@handles("DELETE", "/rest/api/3/screens/{screenId}/tabs/{tabId}")
def delete_tab(ctx: Ctx) -> Reply:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    tab = tab_or_404(ctx.site, screen["id"], ctx.path_params["tabId"])
    if len(tabs_of(ctx.site, screen["id"])) == 1:
        raise bad_request("A screen must have at least one tab.")  # plausible wording
    _delete_tab(ctx.site, tab)
    return Reply(204)


@handles("POST", "/rest/api/3/screens/{screenId}/tabs/{tabId}/move/{pos}")
def move_tab(ctx: Ctx) -> Reply:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    tab = tab_or_404(ctx.site, screen["id"], ctx.path_params["tabId"])
    tabs = tabs_of(ctx.site, screen["id"])
    pos = as_int(ctx.path_params["pos"], "position")
    if not 0 <= pos < len(tabs):
        raise not_found(f"The position {pos} is invalid.")  # plausible wording; the spec says 404
    rest = [t for t in tabs if t["id"] != tab["id"]]
    reorder(ctx.site, "screenTabs", tabs, [*rest[:pos], tab, *rest[pos:]], key="id")
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Tab fields
# --------------------------------------------------------------------------------------------------


def fields_of(site: Site, tab_id: int) -> list[dict[str, Any]]:
    return [f for f in site.store.values("screenTabFields") if f["_tabId"] == tab_id]


def _add_tab_field(site: Site, tab: dict[str, Any], field_id: str) -> dict[str, Any]:
    key = f"{tab['id']}:{field_id}"
    return site.store.put("screenTabFields", key, {"id": field_id, "_tabId": tab["id"],
                                                   "_screenId": tab["_screenId"], "_key": key})


def _tab_field_view(site: Site, tab_field: dict[str, Any]) -> dict[str, Any]:
    field = field_ref(site, tab_field["id"])
    name = field["name"] if field else tab_field["id"]
    return {"id": tab_field["id"], "name": tab_field.get("_name", name)}


@handles("GET", "/rest/api/3/screens/{screenId}/tabs/{tabId}/fields")
def list_tab_fields(ctx: Ctx) -> list[dict[str, Any]]:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    tab = tab_or_404(ctx.site, screen["id"], ctx.path_params["tabId"])
    return [_tab_field_view(ctx.site, f) for f in fields_of(ctx.site, tab["id"])]


# Fields Jira never puts on a screen.
_UNSCREENABLE = {"status", "project", "creator", "created", "updated", "resolutiondate", "subtasks", "votes",
                 "watches", "customfield_10019", "customfield_10000"}


@handles("POST", "/rest/api/3/screens/{screenId}/tabs/{tabId}/fields")
def add_tab_field(ctx: Ctx) -> dict[str, Any]:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    tab = tab_or_404(ctx.site, screen["id"], ctx.path_params["tabId"])
    field_id = required_text(body_of(ctx, BODY_MISSING), "fieldId")
    if field_ref(ctx.site, field_id) is None or field_id in _UNSCREENABLE:
        raise bad_request(f"The field with id '{field_id}' doesn't exist or can't be added to a screen.")
    if any(f["id"] == field_id for f in ctx.site.store.values("screenTabFields")
           if f["_screenId"] == screen["id"]):
        raise bad_request(f"Field {field_id} already exists on the screen.")  # plausible wording
    return _tab_field_view(ctx.site, _add_tab_field(ctx.site, tab, field_id))


def _tab_field_or_404(site: Site, tab: dict[str, Any], field_id: str) -> dict[str, Any]:
    found = site.store.get("screenTabFields", f"{tab['id']}:{field_id}")
    if found is None:
        raise not_found(f"The field with id '{field_id}' is not on the screen tab.")  # plausible wording
    return found


@handles("DELETE", "/rest/api/3/screens/{screenId}/tabs/{tabId}/fields/{id}")
def remove_tab_field(ctx: Ctx) -> Reply:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    tab = tab_or_404(ctx.site, screen["id"], ctx.path_params["tabId"])
    ctx.site.store.delete("screenTabFields", _tab_field_or_404(ctx.site, tab, ctx.path_params["id"])["_key"])
    return Reply(204)


@handles("POST", "/rest/api/3/screens/{screenId}/tabs/{tabId}/fields/{id}/move")
def move_tab_field(ctx: Ctx) -> Reply:
    screen = screen_or_404(ctx.site, ctx.path_params["screenId"])
    tab = tab_or_404(ctx.site, screen["id"], ctx.path_params["tabId"])
    moving = _tab_field_or_404(ctx.site, tab, ctx.path_params["id"])
    body = body_of(ctx, BODY_MISSING)
    current = fields_of(ctx.site, tab["id"])
    rest = [f for f in current if f is not moving]
    old = current.index(moving)
    if body.get("after"):
        after = _tab_field_or_404(ctx.site, tab, str(body["after"]).rsplit("/", 1)[-1])
        index = rest.index(after) + 1
    else:
        index = {"First": 0, "Last": len(rest), "Earlier": max(old - 1, 0),
                 "Later": min(old + 1, len(rest))}.get(body.get("position"), -1)
        if index < 0:
            raise bad_request("Either 'after' or 'position' (Earlier, Later, First, Last) must be given.")
    reorder(ctx.site, "screenTabFields", current, [*rest[:index], moving, *rest[index:]], key="_key")
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Field configurations
# --------------------------------------------------------------------------------------------------


def field_configuration_or_404(site: Site, fc_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "fieldConfigurations", fc_id,
                         f"The field configuration {fc_id} was not found.")  # plausible wording


def _editable_fc(site: Site, fc_id: Any) -> dict[str, Any]:
    fc = field_configuration_or_404(site, fc_id)
    if fc.get("isDefault"):
        raise bad_request("The default field configuration can't be edited.")  # plausible wording
    return fc


def _fc_name_taken(site: Site, name: str, own: int | None = None) -> None:
    other = site.store.find_name_ci("fieldConfigurations", name)
    if other is not None and other["id"] != own:
        raise bad_request(errors={"name": "The field configuration name is already used."})  # plausible


@handles("GET", "/rest/api/3/fieldconfiguration")
def list_field_configurations(ctx: Ctx) -> dict[str, Any]:
    ids = {as_int(i, "field configuration ID") for i in ctx.list_arg("id")}
    only_default = str(ctx.arg("isDefault", "false")).lower() == "true"
    query = (ctx.arg("query") or "").casefold()
    items = [public(fc) for fc in ctx.site.store.values("fieldConfigurations")
             if (not ids or fc["id"] in ids) and (not only_default or fc.get("isDefault"))
             and (not query or query in f"{fc['name']} {fc.get('description', '')}".casefold())]
    return page_bean(ctx, items)


@handles("POST", "/rest/api/3/fieldconfiguration")
def create_field_configuration(ctx: Ctx) -> dict[str, Any]:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _fc_name_taken(ctx.site, name)
    fc_id = ctx.site.store.next_id("fieldConfiguration")
    record = {"id": fc_id, "name": name, "description": _description(body, 255)}
    return public(ctx.site.store.put("fieldConfigurations", fc_id, record))


def _description(body: dict[str, Any], max_len: int) -> str:
    value = body.get("description") or ""
    if len(value) > max_len:
        raise bad_request(errors={"description": f"The description must not exceed {max_len} characters."})
    return value


@handles("PUT", "/rest/api/3/fieldconfiguration/{id}")
def update_field_configuration(ctx: Ctx) -> Reply:
    fc = _editable_fc(ctx.site, ctx.path_params["id"])
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)  # the spec makes name required on update too
    _fc_name_taken(ctx.site, name, fc["id"])
    fc["name"] = name
    if "description" in body:
        fc["description"] = _description(body, 255)
    return Reply(204)


@handles("DELETE", "/rest/api/3/fieldconfiguration/{id}")
def delete_field_configuration(ctx: Ctx) -> Reply:
    fc = _editable_fc(ctx.site, ctx.path_params["id"])
    used = [s["name"] for s in ctx.site.store.values("fieldConfigurationSchemes")
            if str(fc["id"]) in s["_mappings"].values()]
    if used:
        raise bad_request(f"The field configuration is used by the field configuration scheme(s) "
                          f"{', '.join(used)} and can't be deleted.")  # plausible wording
    for item in list(ctx.site.store.values("fieldConfigurationItems")):
        if item["_fcId"] == fc["id"]:
            ctx.site.store.delete("fieldConfigurationItems", item["_key"])
    ctx.site.store.delete("fieldConfigurations", fc["id"])
    return Reply(204)


_REQUIRED_BY_DEFAULT = {"summary", "issuetype", "project"}
_NOT_HIDEABLE = {"summary", "issuetype", "project", "status", "resolution"}


def _item_of(site: Site, fc_id: int, field_id: str) -> dict[str, Any]:
    """One field's item: the stored override, or Jira's default look of the field."""
    stored = site.store.get("fieldConfigurationItems", f"{fc_id}:{field_id}")
    if stored is not None:
        return public(stored)
    return {"id": field_id, "isHidden": False, "isRequired": field_id in _REQUIRED_BY_DEFAULT}


class _Items(Sequence[dict[str, Any]]):
    """A field configuration's items, one per field, built only for the page asked for: a site with 1,600 fields
    would otherwise build every item for each page of 50 (the emulator's cost, not Jira's)."""

    def __init__(self, site: Site, fc_id: int) -> None:
        self.site, self.fc_id = site, fc_id
        self.field_ids = [str(f["id"]) for f in site.store.values("fields")]

    def __len__(self) -> int:
        return len(self.field_ids)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [_item_of(self.site, self.fc_id, f) for f in self.field_ids[index]]
        return _item_of(self.site, self.fc_id, self.field_ids[index])


def _items_of(site: Site, fc_id: int) -> list[dict[str, Any]]:
    """Every item of the field configuration, in field order."""
    return list(_Items(site, fc_id))


@handles("GET", "/rest/api/3/fieldconfiguration/{id}/fields")
def list_field_configuration_items(ctx: Ctx) -> dict[str, Any]:
    fc = field_configuration_or_404(ctx.site, ctx.path_params["id"])
    return page_bean(ctx, _Items(ctx.site, fc["id"]))


def _check_item(site: Site, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.get("id"):
        raise bad_request("Each field configuration item needs an 'id'.")  # plausible wording
    fid = str(item["id"])
    if field_ref(site, fid) is None:
        raise bad_request(f"The field '{fid}' was not found.")  # plausible wording
    if item.get("isHidden") and fid in _NOT_HIDEABLE:
        raise bad_request(f"The field '{fid}' can't be hidden.")  # plausible wording
    return {k: item[k] for k in ("id", "description", "isHidden", "isRequired", "renderer") if k in item}


@handles("PUT", "/rest/api/3/fieldconfiguration/{id}/fields")
def update_field_configuration_items(ctx: Ctx) -> Reply:
    fc = _editable_fc(ctx.site, ctx.path_params["id"])
    items = body_of(ctx, BODY_MISSING).get("fieldConfigurationItems")
    if not isinstance(items, list):
        raise bad_request(errors={"fieldConfigurationItems": "The field configuration items must be given."})
    checked = [_check_item(ctx.site, item) for item in items]
    for item in checked:
        current = _item_of(ctx.site, fc["id"], item["id"])
        _put_item(ctx.site, fc["id"], {**current, **item})
    return Reply(204)


def _put_item(site: Site, fc_id: int, item: dict[str, Any]) -> None:
    key = f"{fc_id}:{item['id']}"
    site.store.put("fieldConfigurationItems", key, {**item, "_fcId": fc_id, "_key": key})


# --------------------------------------------------------------------------------------------------
# Field configuration schemes (the default scheme has no id and is not listed)
# --------------------------------------------------------------------------------------------------


def fcs_or_404(site: Site, scheme_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "fieldConfigurationSchemes", scheme_id,
                         f"The field configuration scheme {scheme_id} was not found.")  # plausible wording


def _fcs_name_taken(site: Site, name: str, own: str | None = None) -> None:
    other = site.store.find_name_ci("fieldConfigurationSchemes", name)
    if other is not None and other["id"] != own:
        raise bad_request(errors={"name": "A field configuration scheme with this name already exists."})


@handles("GET", "/rest/api/3/fieldconfigurationscheme")
def list_fcs(ctx: Ctx) -> dict[str, Any]:
    ids = set(ctx.list_arg("id"))
    return page_bean(ctx, [public(s) for s in ctx.site.store.values("fieldConfigurationSchemes")
                           if not ids or s["id"] in ids])


@handles("POST", "/rest/api/3/fieldconfigurationscheme")
def create_fcs(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _fcs_name_taken(ctx.site, name)
    sid = str(ctx.site.store.next_id("fieldConfigurationScheme"))
    record: dict[str, Any] = {"id": sid, "name": name}
    if body.get("description"):
        record["description"] = _description(body, 1024)
    # A new scheme maps every issue type to the Default Field Configuration.
    record["_mappings"] = {"default": str(DEFAULT_FIELD_CONFIGURATION)}
    ctx.site.store.put("fieldConfigurationSchemes", sid, record)
    return Reply(201, public(record))


@handles("PUT", "/rest/api/3/fieldconfigurationscheme/{id}")
def update_fcs(ctx: Ctx) -> Reply:
    scheme = fcs_or_404(ctx.site, ctx.path_params["id"])
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _fcs_name_taken(ctx.site, name, scheme["id"])
    scheme["name"] = name
    if "description" in body:
        scheme["description"] = _description(body, 1024)
    return Reply(204)


@handles("DELETE", "/rest/api/3/fieldconfigurationscheme/{id}")
def delete_fcs(ctx: Ctx) -> Reply:
    scheme = fcs_or_404(ctx.site, ctx.path_params["id"])
    if projects_using(ctx.site, FCS_KIND, scheme["id"]):
        raise bad_request("The field configuration scheme is used by one or more projects "
                          "and can't be deleted.")  # plausible wording
    ctx.site.store.delete("fieldConfigurationSchemes", scheme["id"])
    return Reply(204)


def _fcs_mappings(scheme: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"fieldConfigurationSchemeId": scheme["id"], "issueTypeId": it, "fieldConfigurationId": fc}
            for it, fc in scheme["_mappings"].items()]


@handles("GET", "/rest/api/3/fieldconfigurationscheme/mapping")
def list_fcs_mappings(ctx: Ctx) -> dict[str, Any]:
    ids = set(ctx.list_arg("fieldConfigurationSchemeId"))
    items = [m for s in ctx.site.store.values("fieldConfigurationSchemes") if not ids or s["id"] in ids
             for m in _fcs_mappings(s)]
    return page_bean(ctx, items)


def _check_issue_type_key(site: Site, type_id: str) -> None:
    if type_id != "default" and find_issue_type(site, type_id) is None:
        raise not_found(f"The issue type {type_id} was not found.")  # plausible wording


@handles("PUT", "/rest/api/3/fieldconfigurationscheme/{id}/mapping")
def set_fcs_mappings(ctx: Ctx) -> Reply:
    scheme = fcs_or_404(ctx.site, ctx.path_params["id"])
    mappings = body_of(ctx, BODY_MISSING).get("mappings")
    if not isinstance(mappings, list) or not mappings:
        raise bad_request(errors={"mappings": "The mappings must be provided."})  # plausible wording
    staged = {}
    for item in mappings:
        it, fc = str(item.get("issueTypeId", "")), str(item.get("fieldConfigurationId", ""))
        _check_issue_type_key(ctx.site, it)
        field_configuration_or_404(ctx.site, fc)
        staged[it] = fc
    scheme["_mappings"].update(staged)
    return Reply(204)


@handles("POST", "/rest/api/3/fieldconfigurationscheme/{id}/mapping/delete")
def delete_fcs_mappings(ctx: Ctx) -> Reply:
    scheme = fcs_or_404(ctx.site, ctx.path_params["id"])
    ids = [str(i) for i in body_of(ctx, BODY_MISSING).get("issueTypeIds") or []]
    if not ids:
        raise bad_request(errors={"issueTypeIds": "The issue type IDs must be provided."})
    if "default" in ids:
        raise bad_request("The default mapping can't be removed.")  # plausible wording
    for it in ids:
        _check_issue_type_key(ctx.site, it)
    for it in ids:
        scheme["_mappings"].pop(it, None)
    return Reply(204)


def _project_ids_arg(ctx: Ctx) -> list[dict[str, Any]]:
    ids = ctx.list_arg("projectId")
    if not ids:
        raise bad_request(errors={"projectId": "The projectId parameter must be provided."})  # plausible
    return [p for p in (find_project(ctx.site, i) for i in ids) if p is not None]


@handles("GET", "/rest/api/3/fieldconfigurationscheme/project")
def fcs_projects(ctx: Ctx) -> dict[str, Any]:
    return page_bean(ctx, _fcs_project_groups(ctx.site, _project_ids_arg(ctx)))


def _fcs_project_groups(site: Site, projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Projects grouped by scheme; the default scheme's group has no ``fieldConfigurationScheme``."""
    groups: dict[str | None, list[str]] = {}
    for project in projects:
        groups.setdefault(scheme_of(project, FCS_KIND), []).append(str(project["id"]))
    items = []
    for sid, pids in groups.items():
        entry: dict[str, Any] = {"projectIds": pids}
        scheme = site.store.get("fieldConfigurationSchemes", sid) if sid is not None else None
        if scheme is not None:
            entry = {"fieldConfigurationScheme": public(scheme), **entry}
        items.append(entry)
    return items


@handles("PUT", "/rest/api/3/fieldconfigurationscheme/project")
def assign_fcs(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    project = find_project(ctx.site, body.get("projectId", ""))
    if project is None:
        raise not_found(f"The project {body.get('projectId')} was not found.")  # plausible wording
    sid = body.get("fieldConfigurationSchemeId")
    if sid is not None:
        fcs_or_404(ctx.site, sid)
    set_scheme(project, FCS_KIND, None if sid is None else str(sid))
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Screen schemes
# --------------------------------------------------------------------------------------------------


def screen_scheme_or_404(site: Site, scheme_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "screenSchemes", scheme_id,
                         f"The screen scheme {scheme_id} was not found.")  # plausible wording


def _ss_name_taken(site: Site, name: str, own: int | None = None) -> None:
    other = site.store.find_name_ci("screenSchemes", name)
    if other is not None and other["id"] != own:
        raise bad_request(errors={"name": "A screen scheme with this name already exists."})  # plausible


def _check_screens(site: Site, screens: Any, *, create: bool) -> dict[str, int]:
    if not isinstance(screens, dict):
        raise bad_request(errors={"screens": "The screens must be provided."})  # plausible wording
    unknown = set(screens) - set(SCREEN_TYPES)
    if unknown:
        raise bad_request(f"Unrecognized screen types: {', '.join(sorted(unknown))}.")  # plausible wording
    if create and screens.get("default") in (None, ""):
        raise bad_request(errors={"screens.default": "The default screen must be provided."})  # plausible
    out: dict[str, int] = {}
    for kind, value in screens.items():
        if value in (None, ""):
            continue
        screen = site.store.get("screens", str(value))
        if screen is None:
            raise not_found(f"The screen with id '{value}' does not exist.")  # plausible wording
        out[kind] = screen["id"]
    return out


@handles("GET", "/rest/api/3/screenscheme")
def list_screen_schemes(ctx: Ctx) -> dict[str, Any]:
    ids = {as_int(i, "screen scheme ID") for i in ctx.list_arg("id")}
    query = (ctx.arg("queryString") or "").casefold()
    expand = set(ctx.list_arg("expand"))
    items = [s for s in ctx.site.store.values("screenSchemes")
             if (not ids or s["id"] in ids) and (not query or query in s["name"].casefold())]
    items = order_by(items, ctx.arg("orderBy"), _NAME_OR_ID)
    views = []
    for scheme in items:
        view = public(scheme)
        if "issueTypeScreenSchemes" in expand:
            users = [public(i) for i in ctx.site.store.values("issueTypeScreenSchemes")
                     if str(scheme["id"]) in i["_mappings"].values()]
            view["issueTypeScreenSchemes"] = {"startAt": 0, "maxResults": len(users), "total": len(users),
                                              "isLast": True, "values": users}
        views.append(view)
    return page_bean(ctx, views, default_max=25, cap=100)


@handles("POST", "/rest/api/3/screenscheme")
def create_screen_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _ss_name_taken(ctx.site, name)
    screens = _check_screens(ctx.site, body.get("screens"), create=True)
    sid = ctx.site.store.next_id("screenScheme")
    record = {"id": sid, "name": name, "description": body.get("description") or "", "screens": screens}
    ctx.site.store.put("screenSchemes", sid, record)
    return Reply(201, {"id": sid})


@handles("PUT", "/rest/api/3/screenscheme/{screenSchemeId}")
def update_screen_scheme(ctx: Ctx) -> Reply:
    scheme = screen_scheme_or_404(ctx.site, ctx.path_params["screenSchemeId"])
    body = body_of(ctx, BODY_MISSING)
    # Everything is checked before anything changes: Jira leaves a scheme untouched when it refuses an update.
    given = (body["screens"] or {}) if "screens" in body else None
    checked = _check_screens(ctx.site, given, create=False) if given is not None else {}
    if given is not None and "default" in given and "default" not in checked:
        raise bad_request("The default screen can't be removed.")  # plausible wording
    apply_name_and_description(ctx.site, scheme, body, _ss_name_taken)  # checks the name before applying
    for kind in given or {}:  # a null/empty screen type removes it
        scheme["screens"].pop(kind, None)
    scheme["screens"].update(checked)
    return Reply(204)


@handles("DELETE", "/rest/api/3/screenscheme/{screenSchemeId}")
def delete_screen_scheme(ctx: Ctx) -> Reply:
    scheme = screen_scheme_or_404(ctx.site, ctx.path_params["screenSchemeId"])
    if any(str(scheme["id"]) in i["_mappings"].values()
           for i in ctx.site.store.values("issueTypeScreenSchemes")):
        raise bad_request("The screen scheme is used in an issue type screen scheme and can't be deleted.")
    ctx.site.store.delete("screenSchemes", scheme["id"])
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Issue type screen schemes
# --------------------------------------------------------------------------------------------------


def itss_or_404(site: Site, scheme_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "issueTypeScreenSchemes", scheme_id,
                         f"The issue type screen scheme {scheme_id} was not found.")  # plausible wording


def _itss_name_taken(site: Site, name: str, own: str | None = None) -> None:
    other = site.store.find_name_ci("issueTypeScreenSchemes", name)
    if other is not None and other["id"] != own:
        raise bad_request(errors={"name": "An issue type screen scheme with this name already exists."})


def _check_itss_mappings(site: Site, mappings: Any) -> dict[str, str]:
    if not isinstance(mappings, list) or not mappings:
        raise bad_request(errors={"issueTypeMappings": "The issue type mappings must be provided."})
    out: dict[str, str] = {}
    for item in mappings:
        it, ss = str((item or {}).get("issueTypeId", "")), str((item or {}).get("screenSchemeId", ""))
        if it in out:
            raise bad_request(f"The issue type {it} is mapped more than once.")  # plausible wording
        _check_issue_type_key(site, it)
        screen_scheme_or_404(site, ss)
        out[it] = ss
    return out


def itss_of_project(project: dict[str, Any]) -> str:
    """The id of the issue type screen scheme a project uses (the default one has an id)."""
    return scheme_of(project, ITSS_KIND) or DEFAULT_ITSS


@handles("GET", "/rest/api/3/issuetypescreenscheme")
def list_itss(ctx: Ctx) -> dict[str, Any]:
    ids = set(ctx.list_arg("id"))
    query = (ctx.arg("queryString") or "").casefold()
    expand = set(ctx.list_arg("expand"))
    items = [s for s in ctx.site.store.values("issueTypeScreenSchemes")
             if (not ids or s["id"] in ids) and (not query or query in s["name"].casefold())]
    items = order_by(items, ctx.arg("orderBy"), {"name": lambda s: s["name"].casefold(),
                                                 "id": lambda s: int(s["id"])})
    views = []
    for scheme in items:
        view = public(scheme)
        if "projects" in expand:
            pids = [p for p in ctx.site.store.values("projects") if itss_of_project(p) == scheme["id"]]
            view["projects"] = {"startAt": 0, "maxResults": len(pids), "total": len(pids), "isLast": True,
                                "values": [{"id": str(p["id"]), "key": p.get("key"), "name": p.get("name")}
                                           for p in pids]}
        views.append(view)
    return page_bean(ctx, views)


@handles("POST", "/rest/api/3/issuetypescreenscheme")
def create_itss(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _itss_name_taken(ctx.site, name)
    mappings = _check_itss_mappings(ctx.site, body.get("issueTypeMappings"))
    if "default" not in mappings:
        raise bad_request("The default screen scheme must be mapped: include a mapping for issue type "
                          "'default'.")  # plausible wording
    sid = str(ctx.site.store.next_id("issueTypeScreenScheme"))
    record: dict[str, Any] = {"id": sid, "name": name}
    if body.get("description"):
        record["description"] = body["description"]
    record["_mappings"] = mappings
    ctx.site.store.put("issueTypeScreenSchemes", sid, record)
    return Reply(201, {"id": sid})


@handles("PUT", "/rest/api/3/issuetypescreenscheme/{issueTypeScreenSchemeId}")
def update_itss(ctx: Ctx) -> Reply:
    scheme = itss_or_404(ctx.site, ctx.path_params["issueTypeScreenSchemeId"])
    apply_name_and_description(ctx.site, scheme, body_of(ctx, BODY_MISSING), _itss_name_taken)
    return Reply(204)


@handles("DELETE", "/rest/api/3/issuetypescreenscheme/{issueTypeScreenSchemeId}")
def delete_itss(ctx: Ctx) -> Reply:
    scheme = itss_or_404(ctx.site, ctx.path_params["issueTypeScreenSchemeId"])
    if scheme["id"] == DEFAULT_ITSS:
        raise bad_request("The default issue type screen scheme can't be deleted.")  # plausible wording
    if any(itss_of_project(p) == scheme["id"] for p in ctx.site.store.values("projects")):
        raise bad_request("The issue type screen scheme is used by one or more projects and can't be "
                          "deleted.")  # plausible wording
    ctx.site.store.delete("issueTypeScreenSchemes", scheme["id"])
    return Reply(204)


def _itss_items(scheme: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"issueTypeScreenSchemeId": scheme["id"], "issueTypeId": it, "screenSchemeId": ss}
            for it, ss in scheme["_mappings"].items()]


@handles("GET", "/rest/api/3/issuetypescreenscheme/mapping")
def list_itss_mappings(ctx: Ctx) -> dict[str, Any]:
    ids = set(ctx.list_arg("issueTypeScreenSchemeId"))
    return page_bean(ctx, [m for s in ctx.site.store.values("issueTypeScreenSchemes")
                           if not ids or s["id"] in ids for m in _itss_items(s)])


@handles("PUT", "/rest/api/3/issuetypescreenscheme/{issueTypeScreenSchemeId}/mapping")
def add_itss_mappings(ctx: Ctx) -> Reply:
    scheme = itss_or_404(ctx.site, ctx.path_params["issueTypeScreenSchemeId"])
    mappings = _check_itss_mappings(ctx.site, body_of(ctx, BODY_MISSING).get("issueTypeMappings"))
    if "default" in mappings:
        raise bad_request("Use the default mapping endpoint to change the default screen scheme.")
    scheme["_mappings"].update(mappings)
    return Reply(204)


@handles("PUT", "/rest/api/3/issuetypescreenscheme/{issueTypeScreenSchemeId}/mapping/default")
def set_itss_default(ctx: Ctx) -> Reply:
    scheme = itss_or_404(ctx.site, ctx.path_params["issueTypeScreenSchemeId"])
    ss = required_text(body_of(ctx, BODY_MISSING), "screenSchemeId")
    screen_scheme_or_404(ctx.site, ss)
    scheme["_mappings"]["default"] = str(ss)
    return Reply(204)


@handles("POST", "/rest/api/3/issuetypescreenscheme/{issueTypeScreenSchemeId}/mapping/remove")
def remove_itss_mappings(ctx: Ctx) -> Reply:
    scheme = itss_or_404(ctx.site, ctx.path_params["issueTypeScreenSchemeId"])
    ids = [str(i) for i in body_of(ctx, BODY_MISSING).get("issueTypeIds") or []]
    if not ids:
        raise bad_request(errors={"issueTypeIds": "The issue type IDs must be provided."})  # plausible
    if "default" in ids:
        raise bad_request("The default mapping can't be removed.")  # plausible wording
    missing = [i for i in ids if i not in scheme["_mappings"]]
    if missing:
        raise not_found(f"The issue type mappings {', '.join(missing)} were not found.")  # plausible wording
    for it in ids:
        del scheme["_mappings"][it]
    return Reply(204)


@handles("GET", "/rest/api/3/issuetypescreenscheme/project")
def itss_projects(ctx: Ctx) -> dict[str, Any]:
    return page_bean(ctx, _itss_project_groups(ctx.site, _project_ids_arg(ctx)))


def _itss_project_groups(site: Site, projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    for project in projects:
        groups.setdefault(itss_of_project(project), []).append(str(project["id"]))
    return [{"issueTypeScreenScheme": public(itss_or_404(site, sid)), "projectIds": pids}
            for sid, pids in groups.items()]


@handles("GET", "/rest/api/3/issuetypescreenscheme/{issueTypeScreenSchemeId}/project")
def itss_project_list(ctx: Ctx) -> dict[str, Any]:
    scheme = itss_or_404(ctx.site, ctx.path_params["issueTypeScreenSchemeId"])
    query = (ctx.arg("query") or "").casefold()
    items = [{"id": str(p["id"]), "key": p.get("key"), "name": p.get("name"),
              "self": f"{ctx.site.base_url}/rest/api/3/project/{p['id']}"}
             for p in ctx.site.store.values("projects")
             if itss_of_project(p) == scheme["id"]
             and (not query or query in str(p.get("name", "")).casefold())]
    return page_bean(ctx, items)


@handles("PUT", "/rest/api/3/issuetypescreenscheme/project")
def assign_itss(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    project = find_project(ctx.site, body.get("projectId", ""))
    if project is None:
        raise bad_request(f"The project {body.get('projectId')} was not found.")  # the spec: 400 here
    scheme = itss_or_404(ctx.site, body.get("issueTypeScreenSchemeId", ""))
    set_scheme(project, ITSS_KIND, None if scheme["id"] == DEFAULT_ITSS else scheme["id"])
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------------


def _put_screen(site: Site, item: dict[str, Any]) -> None:
    site.store.put("screens", item["id"], dict(item))
    site.store.bump("screen", int(item["id"]))


@seed_type("screens", exporter=lambda site: export_records(site, "screens"))
def _seed_screens(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        _put_screen(site, item)


def _seed_screen(site: Site, screen_id: Any) -> dict[str, Any]:
    screen = site.store.get("screens", str(screen_id))
    if screen is None:
        raise SeedRefError(f"seed names unknown screen {screen_id!r}")
    return screen


@seed_type("screenTabs", exporter=lambda site: {
    str(s["id"]): [public(t) for t in tabs_of(site, s["id"])] for s in site.store.values("screens")},
    after=("screens",))
def _seed_tabs(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    for screen_id, tabs in data.items():
        screen = _seed_screen(site, screen_id)
        for old in tabs_of(site, screen["id"]):
            _delete_tab(site, old)
        for item in tabs:
            _add_tab(site, screen["id"], item["name"], tab_id=int(item["id"]))
            site.store.bump("screenTab", int(item["id"]))


def _export_tab_fields(site: Site) -> dict[str, list[dict[str, Any]]]:
    return {str(t["id"]): [_tab_field_view(site, f) for f in fields_of(site, t["id"])]
            for t in site.store.values("screenTabs")}


@seed_type("screenTabFields", exporter=_export_tab_fields, after=("screenTabs", "fields"))
def _seed_tab_fields(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    for tab_id, fields in data.items():
        tab = site.store.get("screenTabs", str(tab_id))
        if tab is None:
            raise SeedRefError(f"seed names fields of unknown screen tab {tab_id!r}")
        for old in fields_of(site, tab["id"]):
            site.store.delete("screenTabFields", old["_key"])
        for item in fields:
            field = field_ref(site, item["id"])
            if field is None:
                raise SeedRefError(f"screen tab {tab_id} names unknown field {item['id']!r}")
            record = _add_tab_field(site, tab, item["id"])
            if item.get("name") != field["name"]:
                record["_name"] = item.get("name")  # kept only so an odd capture still round-trips


@seed_type("fieldConfigurations", exporter=lambda site: export_records(site, "fieldConfigurations"))
def _seed_field_configurations(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        site.store.put("fieldConfigurations", item["id"], dict(item))
        site.store.bump("fieldConfiguration", int(item["id"]))


@seed_type("fieldConfigurationItems", exporter=lambda site: {
    str(fc["id"]): _items_of(site, fc["id"]) for fc in site.store.values("fieldConfigurations")},
    after=("fieldConfigurations", "fields"))
def _seed_field_configuration_items(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    for fc_id, items in data.items():
        fc = site.store.get("fieldConfigurations", str(fc_id))
        if fc is None:
            raise SeedRefError(f"seed names items of unknown field configuration {fc_id!r}")
        for item in items:
            if field_ref(site, item["id"]) is None:
                raise SeedRefError(f"field configuration {fc_id} names unknown field {item['id']!r}")
            _put_item(site, fc["id"], dict(item))


@seed_type("fieldConfigurationSchemes", exporter=lambda site: export_records(site, "fieldConfigurationSchemes"))
def _seed_fcs(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        site.store.put("fieldConfigurationSchemes", str(item["id"]), {**item, "_mappings": {}})
        site.store.bump("fieldConfigurationScheme", int(item["id"]))


@seed_type("fieldConfigurationSchemeMappings", exporter=lambda site: [
    m for s in site.store.values("fieldConfigurationSchemes") for m in _fcs_mappings(s)],
    after=("fieldConfigurationSchemes", "fieldConfigurations", "issueTypes"))
def _seed_fcs_mappings(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        scheme = site.store.get("fieldConfigurationSchemes", str(item["fieldConfigurationSchemeId"]))
        if scheme is None:
            raise SeedRefError(f"mapping names unknown field configuration scheme "
                               f"{item['fieldConfigurationSchemeId']!r}")
        _seed_ref_issue_type(site, item["issueTypeId"])
        if site.store.get("fieldConfigurations", str(item["fieldConfigurationId"])) is None:
            raise SeedRefError(f"mapping names unknown field configuration {item['fieldConfigurationId']!r}")
        scheme["_mappings"][str(item["issueTypeId"])] = str(item["fieldConfigurationId"])


def _seed_ref_issue_type(site: Site, type_id: Any) -> None:
    if str(type_id) != "default" and find_issue_type(site, type_id) is None:
        raise SeedRefError(f"seed names unknown issue type {type_id!r}")


@seed_type("screenSchemes", exporter=lambda site: export_records(site, "screenSchemes"),
           after=("screens",))
def _seed_screen_schemes(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        for screen_id in (item.get("screens") or {}).values():
            _seed_screen(site, screen_id)
        site.store.put("screenSchemes", item["id"], copy.deepcopy(item))  # nested "screens" too
        site.store.bump("screenScheme", int(item["id"]))


@seed_type("issueTypeScreenSchemes", exporter=lambda site: export_records(site, "issueTypeScreenSchemes"))
def _seed_itss(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        old = site.store.get("issueTypeScreenSchemes", str(item["id"]))
        site.store.put("issueTypeScreenSchemes", str(item["id"]),
                       {**item, "_mappings": old["_mappings"] if old else {}})
        site.store.bump("issueTypeScreenScheme", int(item["id"]))


@seed_type("issueTypeScreenSchemeMappings", exporter=lambda site: [
    m for s in site.store.values("issueTypeScreenSchemes") for m in _itss_items(s)],
    after=("issueTypeScreenSchemes", "screenSchemes", "issueTypes"))
def _seed_itss_mappings(site: Site, data: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for item in data:
        scheme = site.store.get("issueTypeScreenSchemes", str(item["issueTypeScreenSchemeId"]))
        if scheme is None:
            raise SeedRefError(f"mapping names unknown issue type screen scheme "
                               f"{item['issueTypeScreenSchemeId']!r}")
        if scheme["id"] not in seen:  # the seed lists a scheme's mappings completely
            scheme["_mappings"] = {}
            seen.add(scheme["id"])
        _seed_ref_issue_type(site, item["issueTypeId"])
        if site.store.get("screenSchemes", str(item["screenSchemeId"])) is None:
            raise SeedRefError(f"mapping names unknown screen scheme {item['screenSchemeId']!r}")
        scheme["_mappings"][str(item["issueTypeId"])] = str(item["screenSchemeId"])


# Project associations are seeded as the values of the per-project GETs for every project:
# `GET /fieldconfigurationscheme/project?projectId=<all>` and
# `GET /issuetypescreenscheme/project?projectId=<all>`.


@seed_type("projectFieldConfigurationSchemes", after=("projects", "fieldConfigurationSchemes"),
           exporter=lambda site: _fcs_project_groups(site, list(site.store.values("projects"))))
def _seed_project_fcs(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        sid = (item.get("fieldConfigurationScheme") or {}).get("id")
        if sid is not None and site.store.get("fieldConfigurationSchemes", str(sid)) is None:
            raise SeedRefError(f"project association names unknown field configuration scheme {sid!r}")
        for project in _seed_projects(site, item["projectIds"]):
            set_scheme(project, FCS_KIND, None if sid is None else str(sid))


@seed_type("projectIssueTypeScreenSchemes", after=("projects", "issueTypeScreenSchemes"),
           exporter=lambda site: _itss_project_groups(site, list(site.store.values("projects"))))
def _seed_project_itss(site: Site, data: list[dict[str, Any]]) -> None:
    for item in data:
        sid = str(item["issueTypeScreenScheme"]["id"])
        if site.store.get("issueTypeScreenSchemes", sid) is None:
            raise SeedRefError(f"project association names unknown issue type screen scheme {sid!r}")
        for project in _seed_projects(site, item["projectIds"]):
            set_scheme(project, ITSS_KIND, None if sid == DEFAULT_ITSS else sid)


def _seed_projects(site: Site, ids: list[Any]) -> list[dict[str, Any]]:
    out = []
    for pid in ids:
        project = find_project(site, pid)
        if project is None:
            raise SeedRefError(f"project association names unknown project {pid!r}")
        out.append(project)
    return out
