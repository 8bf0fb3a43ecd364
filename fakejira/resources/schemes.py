"""Permission schemes (and grants), notification schemes and issue security schemes (levels, members), with
their project associations."""

from __future__ import annotations

from typing import Any

from ..paging import page_bean
from ..registry import Ctx, Reply, bad_request, handles, not_found, seed_type, site_defaults
from ..site import Site
from ._common import (
    BODY_MISSING,
    SeedRefError,
    apply_name_and_description,
    as_int,
    body_of,
    find_project,
    project_or_404,
    projects_using,
    required_text,
    scheme_of,
    set_scheme,
    stored_or_404,
    task_reply,
)
from .fields import field_ref

PERMISSION_KIND, NOTIFICATION_KIND, SECURITY_KIND = (
    "permissionScheme",
    "notificationScheme",
    "issueSecurityScheme",
)
DEFAULT_PERMISSION_SCHEME = 0
DEFAULT_NOTIFICATION_SCHEME = 10000
URL_KEYS = ("self", "expand")  # decorations rebuilt from the site's base URL: never stored or exported

PROJECT_PERMISSIONS = (
    "ADD_COMMENTS",
    "ADMINISTER_PROJECTS",
    "ARCHIVE_ISSUES",
    "ASSIGNABLE_USER",
    "ASSIGN_ISSUES",
    "BROWSE_PROJECTS",
    "CLOSE_ISSUES",
    "CREATE_ATTACHMENTS",
    "CREATE_ISSUES",
    "DELETE_ALL_ATTACHMENTS",
    "DELETE_ALL_COMMENTS",
    "DELETE_ALL_WORKLOGS",
    "DELETE_ISSUES",
    "DELETE_OWN_ATTACHMENTS",
    "DELETE_OWN_COMMENTS",
    "DELETE_OWN_WORKLOGS",
    "EDIT_ALL_COMMENTS",
    "EDIT_ALL_WORKLOGS",
    "EDIT_ISSUES",
    "EDIT_OWN_COMMENTS",
    "EDIT_OWN_WORKLOGS",
    "LINK_ISSUES",
    "MANAGE_SPRINTS_PERMISSION",
    "MANAGE_WATCHERS",
    "MODIFY_REPORTER",
    "MOVE_ISSUES",
    "RESOLVE_ISSUES",
    "RESTORE_ISSUES",
    "SCHEDULE_ISSUES",
    "SERVICEDESK_AGENT",
    "SET_ISSUE_SECURITY",
    "TRANSITION_ISSUES",
    "VIEW_AGGREGATED_DATA",
    "VIEW_DEV_TOOLS",
    "VIEW_READONLY_WORKFLOW",
    "VIEW_VOTERS_AND_WATCHERS",
    "WORK_ON_ISSUES",
)
HOLDER_TYPES = (
    "anyone",
    "applicationRole",
    "assignee",
    "group",
    "groupCustomField",
    "projectLead",
    "projectRole",
    "reporter",
    "sd.customer.portal.only",
    "user",
    "userCustomField",
)


def strip_urls(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in URL_KEYS and not k.startswith("_")}


# --------------------------------------------------------------------------------------------------
# Holders (shared by permission grants and security level members)
# --------------------------------------------------------------------------------------------------


def group_ref(site: Site, name: str | None = None, group_id: str | None = None) -> dict[str, Any] | None:
    """A group by name (case-insensitive) or groupId; groups are owned by ``basics.py``."""
    for group in site.store.values("groups"):
        if group_id and group.get("groupId") == group_id:
            return group
        if name and str(group.get("name", "")).casefold() == name.casefold():
            return group
    return None


def role_ref(site: Site, role_id: Any) -> dict[str, Any] | None:
    return next((r for r in site.store.values("projectRoles") if str(r.get("id")) == str(role_id)), None)


def find_user(site: Site, account_id: Any) -> dict[str, Any] | None:
    found = site.store.get("users", str(account_id))
    return found or next((u for u in site.store.values("users") if u.get("accountId") == account_id), None)


def check_holder(site: Site, holder: Any, *, types: tuple[str, ...] = HOLDER_TYPES) -> dict[str, Any]:
    """A validated holder ``{type, parameter, value}``; unknown groups, roles, users and fields are 400s."""
    if not isinstance(holder, dict) or holder.get("type") not in types:
        kind = holder.get("type") if isinstance(holder, dict) else None
        raise bad_request(f"The holder type '{kind}' is not valid.")  # plausible wording
    kind = holder["type"]
    param = holder.get("parameter") or holder.get("value")
    out: dict[str, Any] = {"type": kind}
    if kind == "group":
        group = group_ref(site, name=holder.get("parameter"), group_id=holder.get("value"))
        if group is None:
            raise bad_request(f"Group '{param}' does not exist.")  # plausible wording
        out.update(parameter=group["name"], value=group.get("groupId", group["name"]))
    elif kind == "projectRole":
        if role_ref(site, param) is None:
            raise bad_request(f"The project role with id '{param}' does not exist.")  # plausible wording
        out.update(parameter=str(param), value=str(param))
    elif kind == "user":
        if find_user(site, param) is None:
            raise bad_request(f"The user with account ID '{param}' does not exist.")  # plausible wording
        out.update(parameter=str(param), value=str(param))
    elif kind in ("userCustomField", "groupCustomField"):
        field = field_ref(site, str(param))
        if field is None:
            raise bad_request(f"The custom field '{param}' does not exist.")  # plausible wording
        wanted = _HOLDER_FIELD_TYPES[kind]
        if str((field.get("schema") or {}).get("custom", "")).rsplit(":", 1)[-1] not in wanted:
            # Jira offers only user (group) picker fields for these holders
            raise bad_request(f"The custom field '{param}' is not a {kind[:-len('CustomField')]} picker field.")
        out.update(parameter=str(param), value=str(param))
    elif kind == "applicationRole" and param:
        out.update(parameter=str(param), value=str(param))
    return out


# A field holder's field must hold people (userCustomField) or groups (groupCustomField).
_HOLDER_FIELD_TYPES = {"userCustomField": ("userpicker", "multiuserpicker"),
                       "groupCustomField": ("grouppicker", "multigrouppicker")}


# --------------------------------------------------------------------------------------------------
# Permission schemes
# --------------------------------------------------------------------------------------------------


def _grant(site: Site, permission: str, holder: dict[str, Any]) -> dict[str, Any]:
    return {"id": site.store.next_id("permissionGrant"), "holder": holder, "permission": permission}


@site_defaults
def _install_scheme_defaults(site: Site) -> None:
    admins = group_ref(site, name="jira-administrators")
    admin_role = next(
        (r for r in site.store.values("projectRoles") if r.get("name") == "Administrators"), None
    )
    admin_holder: dict[str, Any] = {"type": "applicationRole"}
    if admin_role is not None:
        admin_holder = {
            "type": "projectRole",
            "parameter": str(admin_role["id"]),
            "value": str(admin_role["id"]),
        }
    elif admins is not None:
        admin_holder = {"type": "group", "parameter": admins["name"], "value": admins.get("groupId", "")}
    everyone = {"type": "applicationRole"}
    grants = [_grant(site, "ADMINISTER_PROJECTS", admin_holder)]
    grants += [
        _grant(site, p, dict(everyone))
        for p in PROJECT_PERMISSIONS
        if p not in ("ADMINISTER_PROJECTS", "SERVICEDESK_AGENT", "SET_ISSUE_SECURITY")
    ]
    grants += [
        _grant(site, "ASSIGNABLE_USER", {"type": "assignee"}),
        _grant(site, "EDIT_ISSUES", {"type": "reporter"}),
    ]
    site.store.put(
        "permissionSchemes",
        DEFAULT_PERMISSION_SCHEME,
        {
            "id": DEFAULT_PERMISSION_SCHEME,
            "name": "Default Permission Scheme",
            "description": "This is the default Permission Scheme. Any new projects that are created will be "
            "assigned this scheme.",
            "permissions": grants,
        },
    )
    site.store.put(
        "notificationSchemes",
        DEFAULT_NOTIFICATION_SCHEME,
        {
            "id": DEFAULT_NOTIFICATION_SCHEME,
            "name": "Default Notification Scheme",
            "description": "",
            "notificationSchemeEvents": [
                {
                    "event": {"id": eid, "name": name, "description": desc},
                    "notifications": [
                        _notification(site, "CurrentAssignee"),
                        _notification(site, "Reporter"),
                        _notification(site, "AllWatchers"),
                    ],
                }
                for eid, (name, desc) in EVENTS.items()
            ],
        },
    )


def _permission_view(site: Site, scheme: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    base = f"{site.base_url}/rest/api/3/permissionscheme/{scheme['id']}"
    out: dict[str, Any] = {
        "expand": "permissions,user,group,projectRole,field,all",
        "id": scheme["id"],
        "self": base,
        "name": scheme["name"],
    }
    if scheme.get("description") is not None:
        out["description"] = scheme["description"]
    if "scope" in scheme:
        out["scope"] = scheme["scope"]
    if expand & {"permissions", "all", "user", "group", "projectRole", "field"}:
        out["permissions"] = [_grant_view(site, scheme, g) for g in scheme["permissions"]]
    return out


def _grant_view(site: Site, scheme: dict[str, Any], grant: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": grant["id"],
        "self": f"{site.base_url}/rest/api/3/permissionscheme/{scheme['id']}/permission/{grant['id']}",
        "holder": grant["holder"],
        "permission": grant["permission"],
    }


def permission_scheme_or_404(site: Site, scheme_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "permissionSchemes", scheme_id,
                         f"Permission scheme with id {scheme_id} does not exist.")  # plausible wording


def _check_grants(site: Site, grants: Any) -> list[dict[str, Any]]:
    if grants is None:
        return []
    if not isinstance(grants, list):
        raise bad_request(errors={"permissions": "The permissions must be a list."})  # plausible wording
    out: list[dict[str, Any]] = []
    for grant in grants:
        out.append(_check_grant(site, grant, out))
    return out


def _check_grant(site: Site, grant: Any, existing: list[dict[str, Any]]) -> dict[str, Any]:
    if not isinstance(grant, dict):
        raise bad_request("Each permission grant must be an object.")  # plausible wording
    permission = grant.get("permission")
    if permission not in PROJECT_PERMISSIONS:
        raise bad_request(
            errors={"permission": f"Permission key '{permission}' does not exist."}
        )  # plausible
    holder = check_holder(site, grant.get("holder"))
    if any(g["permission"] == permission and g["holder"] == holder for g in existing):
        raise bad_request(f"The same permission grant is present: {permission} for {holder['type']}.")
    return {"holder": holder, "permission": permission}


def _permission_name_taken(site: Site, name: str, own: int | None = None) -> None:
    other = site.store.find_name_ci("permissionSchemes", name)
    if other is not None and other["id"] != own:
        raise bad_request(f"A permission scheme with the name '{name}' already exists.")  # plausible wording


def _expand(ctx: Ctx) -> set[str]:
    return set(ctx.list_arg("expand"))


@handles("GET", "/rest/api/3/permissionscheme")
def list_permission_schemes(ctx: Ctx) -> dict[str, Any]:
    expand = _expand(ctx)
    return {
        "permissionSchemes": [
            _permission_view(ctx.site, s, expand) for s in ctx.site.store.values("permissionSchemes")
        ]
    }


@handles("GET", "/rest/api/3/permissionscheme/{schemeId}")
def get_permission_scheme(ctx: Ctx) -> dict[str, Any]:
    scheme = permission_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    return _permission_view(ctx.site, scheme, _expand(ctx))


@handles("POST", "/rest/api/3/permissionscheme")
def create_permission_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _permission_name_taken(ctx.site, name)
    grants = _check_grants(ctx.site, body.get("permissions"))
    sid = ctx.site.store.next_id("permissionScheme")
    scheme = {
        "id": sid,
        "name": name,
        "description": body.get("description") or "",
        "permissions": [_grant(ctx.site, g["permission"], g["holder"]) for g in grants],
    }
    ctx.site.store.put("permissionSchemes", sid, scheme)
    return Reply(201, _permission_view(ctx.site, scheme, {"permissions"}))


@handles("PUT", "/rest/api/3/permissionscheme/{schemeId}")
def update_permission_scheme(ctx: Ctx) -> dict[str, Any]:
    scheme = permission_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _permission_name_taken(ctx.site, name, scheme["id"])
    grants = _check_grants(ctx.site, body.get("permissions")) if "permissions" in body else None
    scheme["name"] = name
    if "description" in body:
        scheme["description"] = body["description"] or ""
    if grants is not None:  # Jira replaces every grant when permissions are given
        scheme["permissions"] = [_grant(ctx.site, g["permission"], g["holder"]) for g in grants]
    return _permission_view(ctx.site, scheme, _expand(ctx) | {"permissions"})


@handles("DELETE", "/rest/api/3/permissionscheme/{schemeId}")
def delete_permission_scheme(ctx: Ctx) -> Reply:
    scheme = permission_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    if scheme["id"] == DEFAULT_PERMISSION_SCHEME:
        raise bad_request("The default permission scheme can't be deleted.")  # plausible wording
    if projects_using(ctx.site, PERMISSION_KIND, str(scheme["id"])):
        raise bad_request("The permission scheme is used by one or more projects and can't be deleted.")
    ctx.site.store.delete("permissionSchemes", scheme["id"])
    return Reply(204)


@handles("GET", "/rest/api/3/permissionscheme/{schemeId}/permission")
def list_grants(ctx: Ctx) -> dict[str, Any]:
    scheme = permission_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    return {
        "permissions": [_grant_view(ctx.site, scheme, g) for g in scheme["permissions"]],
        "expand": "user,group,permissions,projectRole,field,all",
    }


@handles("POST", "/rest/api/3/permissionscheme/{schemeId}/permission")
def create_grant(ctx: Ctx) -> Reply:
    scheme = permission_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    checked = _check_grant(ctx.site, body_of(ctx, BODY_MISSING), scheme["permissions"])
    grant = _grant(ctx.site, checked["permission"], checked["holder"])
    scheme["permissions"].append(grant)
    return Reply(201, _grant_view(ctx.site, scheme, grant))


def _grant_or_404(scheme: dict[str, Any], grant_id: str) -> dict[str, Any] | None:
    return next((g for g in scheme["permissions"] if str(g["id"]) == grant_id), None)


@handles("GET", "/rest/api/3/permissionscheme/{schemeId}/permission/{permissionId}")
def get_grant(ctx: Ctx) -> dict[str, Any]:
    scheme = permission_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    grant = _grant_or_404(scheme, ctx.path_params["permissionId"])
    if grant is None:
        raise not_found(f"Permission grant with id {ctx.path_params['permissionId']} does not exist.")
    return _grant_view(ctx.site, scheme, grant)


@handles("DELETE", "/rest/api/3/permissionscheme/{schemeId}/permission/{permissionId}")
def delete_grant(ctx: Ctx) -> Reply:
    scheme = permission_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    grant = _grant_or_404(scheme, ctx.path_params["permissionId"])
    if grant is None:  # the spec answers 400 here, not 404
        raise bad_request(f"Permission grant with id {ctx.path_params['permissionId']} does not exist.")
    scheme["permissions"].remove(grant)
    return Reply(204)


def _project_permission_scheme(site: Site, project: dict[str, Any]) -> dict[str, Any]:
    sid = scheme_of(project, PERMISSION_KIND)
    return site.store.get(
        "permissionSchemes", sid if sid is not None else DEFAULT_PERMISSION_SCHEME
    ) or site.store.get("permissionSchemes", DEFAULT_PERMISSION_SCHEME)


@handles("GET", "/rest/api/3/project/{projectKeyOrId}/permissionscheme")
def project_permission_scheme(ctx: Ctx) -> dict[str, Any]:
    project = project_or_404(ctx.site, ctx.path_params["projectKeyOrId"])
    return _permission_view(ctx.site, _project_permission_scheme(ctx.site, project), _expand(ctx))


@handles("PUT", "/rest/api/3/project/{projectKeyOrId}/permissionscheme")
def assign_permission_scheme(ctx: Ctx) -> dict[str, Any]:
    project = project_or_404(ctx.site, ctx.path_params["projectKeyOrId"])
    scheme = permission_scheme_or_404(ctx.site, body_of(ctx, BODY_MISSING).get("id"))
    set_scheme(
        project, PERMISSION_KIND, None if scheme["id"] == DEFAULT_PERMISSION_SCHEME else str(scheme["id"])
    )
    return _permission_view(ctx.site, scheme, _expand(ctx))


# --------------------------------------------------------------------------------------------------
# Notification schemes
# --------------------------------------------------------------------------------------------------

EVENTS: dict[int, tuple[str, str]] = {
    1: ("Issue Created", "This is the 'issue created' event."),
    2: ("Issue Updated", "This is the 'issue updated' event."),
    3: ("Issue Assigned", "This is the 'issue assigned' event."),
    4: ("Issue Resolved", "This is the 'issue resolved' event."),
    5: ("Issue Closed", "This is the 'issue closed' event."),
    6: ("Issue Commented", "This is the 'issue commented' event."),
    14: ("Issue Comment Edited", "This is the 'issue comment edited' event."),
    17: ("Issue Comment Deleted", "This is the 'issue comment deleted' event."),
    7: ("Issue Reopened", "This is the 'issue reopened' event."),
    8: ("Issue Deleted", "This is the 'issue deleted' event."),
    9: ("Issue Moved", "This is the 'issue moved' event."),
    10: ("Work Logged On Issue", "This is the 'work logged on issue' event."),
    11: ("Work Started On Issue", "This is the 'work started on issue' event."),
    12: ("Work Stopped On Issue", "This is the 'work stopped on issue' event."),
    15: ("Issue Worklog Updated", "This is the 'issue worklog updated' event."),
    16: ("Issue Worklog Deleted", "This is the 'issue worklog deleted' event."),
    13: ("Generic Event", "This is the 'generic event' event."),
}
NOTIFICATION_TYPES = (
    "CurrentAssignee",
    "Reporter",
    "CurrentUser",
    "ProjectLead",
    "ComponentLead",
    "User",
    "Group",
    "ProjectRole",
    "EmailAddress",
    "AllWatchers",
    "UserCustomField",
    "GroupCustomField",
)


def _notification(site: Site, kind: str, parameter: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": site.store.next_id("notification"), "notificationType": kind}
    if parameter is not None:
        out["parameter"] = parameter
    out.update(extra)
    return out


def _check_notification(site: Site, item: Any) -> tuple[str, str | None, dict[str, Any]]:
    """A validated ``(notificationType, parameter, extra members of the response shape)``."""
    if not isinstance(item, dict) or item.get("notificationType") not in NOTIFICATION_TYPES:
        kind = item.get("notificationType") if isinstance(item, dict) else None
        raise bad_request(f"The notification type '{kind}' is not valid.")  # plausible wording
    kind, param = item["notificationType"], item.get("parameter")
    if (
        kind in ("User", "Group", "ProjectRole", "EmailAddress", "UserCustomField", "GroupCustomField")
        and not param
    ):
        raise bad_request(f"The notification type '{kind}' needs a parameter.")  # plausible wording
    extra: dict[str, Any] = {}
    if kind == "Group":
        group = group_ref(site, group_id=param) or group_ref(site, name=param)
        if group is None:
            raise bad_request(f"Group '{param}' does not exist.")  # plausible wording
        extra = {"group": {"name": group["name"], "groupId": group.get("groupId")}}
        param = group.get("groupId", group["name"])
    elif kind == "ProjectRole":
        role = role_ref(site, param)
        if role is None:
            raise bad_request(f"The project role with id '{param}' does not exist.")  # plausible wording
        extra = {"projectRole": {"id": role["id"], "name": role["name"]}}
    elif kind == "User":
        user = find_user(site, param)
        if user is None:
            raise bad_request(f"The user with account ID '{param}' does not exist.")  # plausible wording
        extra = {
            "user": {
                "accountId": user["accountId"],
                "displayName": user.get("displayName", ""),
                "active": user.get("active", True),
            }
        }
    elif kind in ("UserCustomField", "GroupCustomField"):
        field = field_ref(site, str(param))
        if field is None:
            raise bad_request(f"The custom field '{param}' does not exist.")  # plausible wording
        extra = {"field": {"id": field["id"], "name": field["name"], "custom": True}}
    elif kind == "EmailAddress":
        extra = {"emailAddress": param}
    if param is not None:
        extra["recipient"] = str(param)
    return kind, param, extra


def _check_events(site: Site, events: Any) -> list[tuple[int, list[tuple[str, str | None, dict[str, Any]]]]]:
    if not isinstance(events, list):
        raise bad_request(errors={"notificationSchemeEvents": "The events must be a list."})  # plausible
    out = []
    for entry in events:
        event_id = as_int(((entry or {}).get("event") or {}).get("id"), "event ID")
        if event_id not in EVENTS:
            raise bad_request(f"The event ID {event_id} doesn't exist.")  # plausible wording
        notifications = (entry or {}).get("notifications")
        if not isinstance(notifications, list):
            raise bad_request(errors={"notifications": "The notifications must be a list."})
        out.append((event_id, [_check_notification(site, n) for n in notifications]))
    return out


def _add_events(site: Site, scheme: dict[str, Any], checked: list[tuple[int, list[Any]]]) -> None:
    for event_id, notifications in checked:
        entry = next((e for e in scheme["notificationSchemeEvents"] if e["event"]["id"] == event_id), None)
        if entry is None:
            name, desc = EVENTS[event_id]
            entry = {"event": {"id": event_id, "name": name, "description": desc}, "notifications": []}
            scheme["notificationSchemeEvents"].append(entry)
        for kind, param, extra in notifications:
            if any(
                n["notificationType"] == kind and n.get("parameter") == param for n in entry["notifications"]
            ):
                raise bad_request(f"The notification '{kind}' is already present for event {event_id}.")
            entry["notifications"].append(_notification(site, kind, param, **extra))


def notification_scheme_or_404(site: Site, scheme_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "notificationSchemes", scheme_id,
                         f"The notification scheme {scheme_id} was not found.")  # plausible wording


def _notification_view(site: Site, scheme: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "expand": "notificationSchemeEvents,user,group,projectRole,field,all",
        "id": scheme["id"],
        "self": f"{site.base_url}/rest/api/3/notificationscheme/{scheme['id']}",
        "name": scheme["name"],
        "description": scheme.get("description", ""),
    }
    if expand & {"all", "notificationSchemeEvents", "user", "group", "projectRole", "field"}:
        out["notificationSchemeEvents"] = scheme["notificationSchemeEvents"]
    out["projects"] = [
        int(p["id"]) for p in site.store.values("projects") if _project_notification_id(p) == scheme["id"]
    ]
    return out


def _project_notification_id(project: dict[str, Any]) -> int:
    sid = scheme_of(project, NOTIFICATION_KIND)
    return DEFAULT_NOTIFICATION_SCHEME if sid is None else int(sid)


@handles("GET", "/rest/api/3/notificationscheme")
def list_notification_schemes(ctx: Ctx) -> dict[str, Any]:
    ids = {as_int(i, "notification scheme ID") for i in ctx.list_arg("id")}
    projects = [find_project(ctx.site, p) for p in ctx.list_arg("projectId")]
    wanted_by_project = {_project_notification_id(p) for p in projects if p is not None}
    only_default = str(ctx.arg("onlyDefault", "false")).lower() == "true"
    items = [
        s
        for s in ctx.site.store.values("notificationSchemes")
        if (not ids or s["id"] in ids)
        and (not projects or s["id"] in wanted_by_project)
        and (not only_default or s["id"] == DEFAULT_NOTIFICATION_SCHEME)
    ]
    return page_bean(ctx, [_notification_view(ctx.site, s, _expand(ctx)) for s in items])


@handles("GET", "/rest/api/3/notificationscheme/{id}")
def get_notification_scheme(ctx: Ctx) -> dict[str, Any]:
    scheme = notification_scheme_or_404(ctx.site, ctx.path_params["id"])
    return _notification_view(ctx.site, scheme, _expand(ctx))


def _notification_name_taken(site: Site, name: str, own: int | None = None) -> None:
    other = site.store.find_name_ci("notificationSchemes", name)
    if other is not None and other["id"] != own:
        raise bad_request(errors={"name": "The notification scheme name is already used."})  # plausible


@handles("POST", "/rest/api/3/notificationscheme")
def create_notification_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    _notification_name_taken(ctx.site, name)
    checked = _check_events(ctx.site, body.get("notificationSchemeEvents") or [])
    sid = ctx.site.store.next_id("notificationScheme")
    scheme = {
        "id": sid,
        "name": name,
        "description": body.get("description") or "",
        "notificationSchemeEvents": [],
    }
    _add_events(ctx.site, scheme, checked)
    ctx.site.store.put("notificationSchemes", sid, scheme)
    return Reply(201, {"id": str(sid)})


@handles("PUT", "/rest/api/3/notificationscheme/{id}")
def update_notification_scheme(ctx: Ctx) -> Reply:
    scheme = notification_scheme_or_404(ctx.site, ctx.path_params["id"])
    apply_name_and_description(ctx.site, scheme, body_of(ctx, BODY_MISSING), _notification_name_taken)
    return Reply(204)


@handles("PUT", "/rest/api/3/notificationscheme/{id}/notification")
def add_notifications(ctx: Ctx) -> Reply:
    scheme = notification_scheme_or_404(ctx.site, ctx.path_params["id"])
    events = body_of(ctx, BODY_MISSING).get("notificationSchemeEvents")
    if not events:
        raise bad_request(errors={"notificationSchemeEvents": "The events must be provided."})  # plausible
    checked = _check_events(ctx.site, events)
    trial = {
        "notificationSchemeEvents": [
            dict(e, notifications=list(e["notifications"])) for e in scheme["notificationSchemeEvents"]
        ]
    }
    _add_events(ctx.site, trial, checked)  # all or nothing: fail before touching the scheme
    scheme["notificationSchemeEvents"] = trial["notificationSchemeEvents"]
    return Reply(204)


@handles("DELETE", "/rest/api/3/notificationscheme/{notificationSchemeId}")
def delete_notification_scheme(ctx: Ctx) -> Reply:
    scheme = notification_scheme_or_404(ctx.site, ctx.path_params["notificationSchemeId"])
    if scheme["id"] == DEFAULT_NOTIFICATION_SCHEME:
        raise bad_request("The default notification scheme can't be deleted.")  # plausible wording
    if projects_using(ctx.site, NOTIFICATION_KIND, str(scheme["id"])):
        raise bad_request("The notification scheme is used by one or more projects and can't be deleted.")
    ctx.site.store.delete("notificationSchemes", scheme["id"])
    return Reply(204)


@handles("DELETE", "/rest/api/3/notificationscheme/{notificationSchemeId}/notification/{notificationId}")
def delete_notification(ctx: Ctx) -> Reply:
    scheme = notification_scheme_or_404(ctx.site, ctx.path_params["notificationSchemeId"])
    for entry in scheme["notificationSchemeEvents"]:
        for notification in entry["notifications"]:
            if str(notification["id"]) == ctx.path_params["notificationId"]:
                entry["notifications"].remove(notification)
                return Reply(204)
    raise not_found(f"The notification {ctx.path_params['notificationId']} was not found.")  # plausible


@handles("GET", "/rest/api/3/notificationscheme/project")
def notification_scheme_projects(ctx: Ctx) -> dict[str, Any]:
    schemes = set(ctx.list_arg("notificationSchemeId"))
    projects = set(ctx.list_arg("projectId"))
    items = [
        {"notificationSchemeId": str(_project_notification_id(p)), "projectId": str(p["id"])}
        for p in ctx.site.store.values("projects")
    ]
    return page_bean(
        ctx,
        [
            i
            for i in items
            if (not schemes or i["notificationSchemeId"] in schemes)
            and (not projects or i["projectId"] in projects)
        ],
    )


@handles("GET", "/rest/api/3/project/{projectKeyOrId}/notificationscheme")
def project_notification_scheme(ctx: Ctx) -> dict[str, Any]:
    project = project_or_404(ctx.site, ctx.path_params["projectKeyOrId"])
    scheme = notification_scheme_or_404(ctx.site, _project_notification_id(project))
    return _notification_view(ctx.site, scheme, _expand(ctx))


# --------------------------------------------------------------------------------------------------
# Issue security schemes
# --------------------------------------------------------------------------------------------------

SECURITY_HOLDERS = (
    "reporter",
    "group",
    "user",
    "projectRole",
    "applicationRole",
    "assignee",
    "projectLead",
    "userCustomField",
    "groupCustomField",
)


def security_scheme_or_404(site: Site, scheme_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "issueSecuritySchemes", scheme_id,
                         f"Issue security scheme with id {scheme_id} not found.")  # plausible wording


def levels_of(site: Site, scheme_id: int) -> list[dict[str, Any]]:
    return [
        lv for lv in site.store.values("issueSecurityLevels") if lv["issueSecuritySchemeId"] == str(scheme_id)
    ]


def members_of(site: Site, level_id: str) -> list[dict[str, Any]]:
    return [
        m for m in site.store.values("issueSecurityLevelMembers") if m["issueSecurityLevelId"] == level_id
    ]


def _level_view(site: Site, level: dict[str, Any]) -> dict[str, Any]:
    return {"self": f"{site.base_url}/rest/api/3/securitylevel/{level['id']}", **level}


def _security_view(site: Site, scheme: dict[str, Any], *, levels: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": f"{site.base_url}/rest/api/3/issuesecurityschemes/{scheme['id']}",
        **strip_urls(scheme),
    }
    if levels:
        out["levels"] = [_level_view(site, lv) for lv in levels_of(site, scheme["id"])]
    return out


def _security_projects(site: Site, scheme_id: int) -> list[dict[str, Any]]:
    return [p for p in site.store.values("projects") if scheme_of(p, SECURITY_KIND) == str(scheme_id)]


@handles("GET", "/rest/api/3/issuesecurityschemes")
def list_security_schemes(ctx: Ctx) -> dict[str, Any]:
    return {
        "issueSecuritySchemes": [
            _security_view(ctx.site, s, levels=False) for s in ctx.site.store.values("issueSecuritySchemes")
        ]
    }


@handles("GET", "/rest/api/3/issuesecurityschemes/{id}")
def get_security_scheme(ctx: Ctx) -> dict[str, Any]:
    return _security_view(ctx.site, security_scheme_or_404(ctx.site, ctx.path_params["id"]), levels=True)


@handles("GET", "/rest/api/3/issuesecurityschemes/search")
def search_security_schemes(ctx: Ctx) -> dict[str, Any]:
    ids = set(ctx.list_arg("id"))
    projects = {str(p["id"]) for p in (find_project(ctx.site, i) for i in ctx.list_arg("projectId")) if p}
    items = []
    for scheme in ctx.site.store.values("issueSecuritySchemes"):
        pids = [int(p["id"]) for p in _security_projects(ctx.site, scheme["id"])]
        if (ids and str(scheme["id"]) not in ids) or (
            ctx.list_arg("projectId") and not projects & {str(p) for p in pids}
        ):
            continue
        entry: dict[str, Any] = {
            "id": scheme["id"],
            "self": f"{ctx.site.base_url}/rest/api/3/issuesecurityschemes/{scheme['id']}",
            "name": scheme["name"],
            "description": scheme.get("description", ""),
        }
        if scheme.get("defaultSecurityLevelId") is not None:
            entry["defaultLevel"] = scheme["defaultSecurityLevelId"]
        entry["projectIds"] = pids
        items.append(entry)
    return page_bean(ctx, items)


def _check_levels(site: Site, levels: Any, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if levels is None:
        return []
    if not isinstance(levels, list):
        raise bad_request(errors={"levels": "The levels must be a list."})  # plausible wording
    names = {lv["name"].casefold() for lv in existing}
    out = []
    for level in levels:
        name = required_text(level if isinstance(level, dict) else {}, "name", max_len=255, strip=True)
        if name.casefold() in names:
            raise bad_request(f"A security level with the name '{name}' already exists.")  # plausible wording
        names.add(name.casefold())
        members = [check_holder(site, m, types=SECURITY_HOLDERS) for m in level.get("members") or []]
        out.append(
            {
                "name": name,
                "description": level.get("description") or "",
                "isDefault": bool(level.get("isDefault")),
                "members": members,
            }
        )
    if sum(lv["isDefault"] for lv in out) + sum(bool(lv.get("isDefault")) for lv in existing) > 1:
        raise bad_request("Only one security level can be the default.")  # plausible wording
    return out


def _add_levels(site: Site, scheme: dict[str, Any], levels: list[dict[str, Any]]) -> None:
    for level in levels:
        lid = str(site.store.next_id("securityLevel"))
        site.store.put(
            "issueSecurityLevels",
            lid,
            {
                "id": lid,
                "description": level["description"],
                "name": level["name"],
                "isDefault": level["isDefault"],
                "issueSecuritySchemeId": str(scheme["id"]),
            },
        )
        if level["isDefault"]:
            scheme["defaultSecurityLevelId"] = int(lid)
        for holder in level["members"]:
            _add_member(site, scheme["id"], lid, holder)


def _add_member(site: Site, scheme_id: int, level_id: str, holder: dict[str, Any]) -> None:
    if any(m["holder"] == holder for m in members_of(site, level_id)):
        raise bad_request(f"The security level member '{holder['type']}' is already present.")  # plausible
    mid = str(site.store.next_id("securityLevelMember"))
    site.store.put(
        "issueSecurityLevelMembers",
        mid,
        {
            "id": mid,
            "issueSecurityLevelId": level_id,
            "issueSecuritySchemeId": str(scheme_id),
            "holder": holder,
        },
    )


def _security_name_taken(site: Site, name: str, own: int | None = None) -> None:
    other = site.store.find_name_ci("issueSecuritySchemes", name)
    if other is not None and other["id"] != own:
        raise bad_request(f"An issue security scheme with the name '{name}' already exists.")  # plausible


@handles("POST", "/rest/api/3/issuesecurityschemes")
def create_security_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=60, strip=True)
    _security_name_taken(ctx.site, name)
    if len(body.get("description") or "") > 255:
        raise bad_request(errors={"description": "The description must not exceed 255 characters."})
    levels = _check_levels(ctx.site, body.get("levels"), [])
    sid = ctx.site.store.next_id("issueSecurityScheme")
    scheme = {"id": sid, "name": name, "description": body.get("description") or ""}
    ctx.site.store.put("issueSecuritySchemes", sid, scheme)
    _add_levels(ctx.site, scheme, levels)
    return Reply(201, {"id": str(sid)})


@handles("PUT", "/rest/api/3/issuesecurityschemes/{id}")
def update_security_scheme(ctx: Ctx) -> Reply:
    scheme = security_scheme_or_404(ctx.site, ctx.path_params["id"])
    apply_name_and_description(ctx.site, scheme, body_of(ctx, BODY_MISSING), _security_name_taken, max_len=60)
    return Reply(204)


@handles("DELETE", "/rest/api/3/issuesecurityschemes/{schemeId}")
def delete_security_scheme(ctx: Ctx) -> Reply:
    scheme = security_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    if _security_projects(ctx.site, scheme["id"]):
        raise bad_request("The issue security scheme is used by one or more projects and can't be deleted.")
    for level in levels_of(ctx.site, scheme["id"]):
        _delete_level(ctx.site, level)
    ctx.site.store.delete("issueSecuritySchemes", scheme["id"])
    return Reply(204)


def _delete_level(site: Site, level: dict[str, Any]) -> None:
    for member in members_of(site, level["id"]):
        site.store.delete("issueSecurityLevelMembers", member["id"])
    site.store.delete("issueSecurityLevels", level["id"])


@handles("PUT", "/rest/api/3/issuesecurityschemes/{schemeId}/level")
def add_security_levels(ctx: Ctx) -> Reply:
    scheme = security_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    levels = _check_levels(ctx.site, body_of(ctx, BODY_MISSING).get("levels"), levels_of(ctx.site, scheme["id"]))
    _add_levels(ctx.site, scheme, levels)
    return Reply(204)


def _level_or_404(site: Site, scheme: dict[str, Any], level_id: str) -> dict[str, Any]:
    level = site.store.get("issueSecurityLevels", level_id)
    if level is None or level["issueSecuritySchemeId"] != str(scheme["id"]):
        raise not_found(f"Issue security level with id {level_id} not found.")  # plausible wording
    return level


@handles("PUT", "/rest/api/3/issuesecurityschemes/{schemeId}/level/{levelId}")
def update_security_level(ctx: Ctx) -> Reply:
    scheme = security_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    level = _level_or_404(ctx.site, scheme, ctx.path_params["levelId"])
    body = body_of(ctx, BODY_MISSING)
    if "name" in body:
        name = required_text(body, "name", max_len=255, strip=True)
        if any(
            lv["name"].casefold() == name.casefold() and lv["id"] != level["id"]
            for lv in levels_of(ctx.site, scheme["id"])
        ):
            raise bad_request(f"A security level with the name '{name}' already exists.")  # plausible wording
        level["name"] = name
    if "description" in body:
        level["description"] = body["description"] or ""
    return Reply(204)


@handles("DELETE", "/rest/api/3/issuesecurityschemes/{schemeId}/level/{levelId}")
def delete_security_level(ctx: Ctx) -> Reply:
    scheme = security_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    level = _level_or_404(ctx.site, scheme, ctx.path_params["levelId"])
    if scheme.get("defaultSecurityLevelId") == int(level["id"]):
        scheme.pop("defaultSecurityLevelId")
    _delete_level(ctx.site, level)
    return task_reply(ctx, "Issue security scheme change")


@handles("PUT", "/rest/api/3/issuesecurityschemes/{schemeId}/level/{levelId}/member")
def add_security_level_members(ctx: Ctx) -> Reply:
    scheme = security_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    level = _level_or_404(ctx.site, scheme, ctx.path_params["levelId"])
    members = body_of(ctx, BODY_MISSING).get("members")
    if not isinstance(members, list) or not members:
        raise bad_request(errors={"members": "The members must be provided."})  # plausible wording
    holders = [check_holder(ctx.site, m, types=SECURITY_HOLDERS) for m in members]
    for holder in holders:
        _add_member(ctx.site, scheme["id"], level["id"], holder)
    return Reply(204)


@handles("DELETE", "/rest/api/3/issuesecurityschemes/{schemeId}/level/{levelId}/member/{memberId}")
def delete_security_level_member(ctx: Ctx) -> Reply:
    scheme = security_scheme_or_404(ctx.site, ctx.path_params["schemeId"])
    level = _level_or_404(ctx.site, scheme, ctx.path_params["levelId"])
    member = ctx.site.store.get("issueSecurityLevelMembers", ctx.path_params["memberId"])
    if member is None or member["issueSecurityLevelId"] != level["id"]:
        raise not_found(f"Issue security level member with id {ctx.path_params['memberId']} not found.")
    ctx.site.store.delete("issueSecurityLevelMembers", member["id"])
    return Reply(204)


@handles("GET", "/rest/api/3/issuesecurityschemes/level")
def list_security_levels(ctx: Ctx) -> dict[str, Any]:
    ids, schemes = set(ctx.list_arg("id")), set(ctx.list_arg("schemeId"))
    only_default = str(ctx.arg("onlyDefault", "false")).lower() == "true"
    return page_bean(
        ctx,
        [
            lv
            for lv in ctx.site.store.values("issueSecurityLevels")
            if (not ids or lv["id"] in ids)
            and (not schemes or lv["issueSecuritySchemeId"] in schemes)
            and (not only_default or lv["isDefault"])
        ],
    )


@handles("GET", "/rest/api/3/issuesecurityschemes/level/member")
def list_security_level_members(ctx: Ctx) -> dict[str, Any]:
    ids, schemes, levels = (
        set(ctx.list_arg("id")),
        set(ctx.list_arg("schemeId")),
        set(ctx.list_arg("levelId")),
    )
    return page_bean(
        ctx,
        [
            m
            for m in ctx.site.store.values("issueSecurityLevelMembers")
            if (not ids or m["id"] in ids)
            and (not schemes or m["issueSecuritySchemeId"] in schemes)
            and (not levels or m["issueSecurityLevelId"] in levels)
        ],
    )


def _security_project_mappings(site: Site) -> list[dict[str, Any]]:
    return [
        {"issueSecuritySchemeId": scheme_of(p, SECURITY_KIND), "projectId": str(p["id"])}
        for p in site.store.values("projects")
        if scheme_of(p, SECURITY_KIND) is not None
    ]


@handles("GET", "/rest/api/3/issuesecurityschemes/project")
def security_scheme_projects(ctx: Ctx) -> dict[str, Any]:
    schemes, projects = set(ctx.list_arg("issueSecuritySchemeId")), set(ctx.list_arg("projectId"))
    return page_bean(
        ctx,
        [
            m
            for m in _security_project_mappings(ctx.site)
            if (not schemes or m["issueSecuritySchemeId"] in schemes)
            and (not projects or m["projectId"] in projects)
        ],
    )


@handles("PUT", "/rest/api/3/issuesecurityschemes/project")
def assign_security_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    project = find_project(ctx.site, required_text(body, "projectId"))
    if project is None:
        raise bad_request(f"The project {body['projectId']} was not found.")  # plausible wording
    scheme_id = required_text(body, "schemeId")
    if scheme_id == "-1":  # Jira's way of removing the project's issue security scheme
        set_scheme(project, SECURITY_KIND, None)
    else:
        scheme = security_scheme_or_404(ctx.site, scheme_id)
        set_scheme(project, SECURITY_KIND, str(scheme["id"]))
    return task_reply(ctx, "Issue security scheme change")


@handles("GET", "/rest/api/3/project/{projectKeyOrId}/issuesecuritylevelscheme")
def project_security_scheme(ctx: Ctx) -> dict[str, Any]:
    project = project_or_404(ctx.site, ctx.path_params["projectKeyOrId"])
    sid = scheme_of(project, SECURITY_KIND)
    if sid is None:
        raise not_found("No issue security scheme is associated with the project.")  # plausible wording
    return _security_view(ctx.site, security_scheme_or_404(ctx.site, sid), levels=True)


# --------------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------------


def _export_permission_schemes(site: Site) -> list[dict[str, Any]]:
    out = []
    for scheme in site.store.values("permissionSchemes"):
        view = strip_urls(_permission_view(site, scheme, {"permissions"}))
        view["permissions"] = [strip_urls(g) for g in view["permissions"]]
        out.append(view)
    return out


@seed_type(
    "permissionSchemes",
    exporter=_export_permission_schemes,
    after=("groups", "projectRoles", "users", "fields"),
)
def _seed_permission_schemes(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /permissionscheme?expand=permissions` schemes (``self``/``expand`` dropped)."""
    for item in data:
        grants = []
        for grant in item.get("permissions", []):
            try:
                holder = check_holder(site, grant["holder"])
            except Exception as err:
                raise SeedRefError(f"permission scheme {item['name']!r}: {err}") from None
            grants.append({"id": grant["id"], "holder": holder, "permission": grant["permission"]})
            site.store.bump("permissionGrant", int(grant["id"]))
        site.store.put("permissionSchemes", item["id"], {**strip_urls(item), "permissions": grants})
        site.store.bump("permissionScheme", int(item["id"]))


def _export_notification_schemes(site: Site) -> list[dict[str, Any]]:
    out = []
    for scheme in site.store.values("notificationSchemes"):
        view = strip_urls(_notification_view(site, scheme, {"all"}))
        view.pop("projects")
        out.append(view)
    return out


@seed_type(
    "notificationSchemes",
    exporter=_export_notification_schemes,
    after=("groups", "projectRoles", "users", "fields"),
)
def _seed_notification_schemes(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /notificationscheme?expand=all` values (``self``/``expand``/``projects`` dropped)."""
    for item in data:
        for entry in item.get("notificationSchemeEvents", []):
            for notification in entry["notifications"]:
                try:
                    _check_notification(site, notification)
                except Exception as err:
                    raise SeedRefError(f"notification scheme {item['name']!r}: {err}") from None
                site.store.bump("notification", int(notification["id"]))
        record = {k: v for k, v in strip_urls(item).items() if k != "projects"}
        record.setdefault("notificationSchemeEvents", [])
        site.store.put("notificationSchemes", item["id"], record)
        site.store.bump("notificationScheme", int(item["id"]))


@seed_type(
    "issueSecuritySchemes",
    exporter=lambda site: [strip_urls(s) for s in site.store.values("issueSecuritySchemes")],
)
def _seed_security_schemes(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /issuesecurityschemes` ``issueSecuritySchemes`` (``self`` dropped)."""
    for item in data:
        site.store.put("issueSecuritySchemes", item["id"], strip_urls(item))
        site.store.bump("issueSecurityScheme", int(item["id"]))


@seed_type(
    "issueSecurityLevels",
    exporter=lambda site: list(site.store.values("issueSecurityLevels")),
    after=("issueSecuritySchemes",),
)
def _seed_security_levels(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /issuesecurityschemes/level` values."""
    for item in data:
        if site.store.get("issueSecuritySchemes", item["issueSecuritySchemeId"]) is None:
            raise SeedRefError(
                f"security level {item['id']} names unknown scheme {item['issueSecuritySchemeId']!r}"
            )
        site.store.put("issueSecurityLevels", item["id"], strip_urls(item))
        site.store.bump("securityLevel", int(item["id"]))


@seed_type(
    "issueSecurityLevelMembers",
    exporter=lambda site: list(site.store.values("issueSecurityLevelMembers")),
    after=("issueSecurityLevels", "groups", "projectRoles", "users", "fields"),
)
def _seed_security_members(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /issuesecurityschemes/level/member` values."""
    for item in data:
        if site.store.get("issueSecurityLevels", item["issueSecurityLevelId"]) is None:
            raise SeedRefError(
                f"member {item['id']} names unknown security level {item['issueSecurityLevelId']!r}"
            )
        try:
            check_holder(site, item["holder"], types=SECURITY_HOLDERS)
        except Exception as err:
            raise SeedRefError(f"security level member {item['id']}: {err}") from None
        site.store.put("issueSecurityLevelMembers", item["id"], dict(item))
        site.store.bump("securityLevelMember", int(item["id"]))


def _export_project_schemes(kind: str, default: Any) -> Any:
    def export(site: Site) -> dict[str, str]:
        return {str(p["id"]): scheme_of(p, kind) or str(default) for p in site.store.values("projects")}

    return export


def _seed_project_schemes(kind: str, collection: str, default: Any) -> Any:
    def load(site: Site, data: dict[str, Any]) -> None:
        for project_id, scheme_id in data.items():
            project = find_project(site, project_id)
            if project is None:
                raise SeedRefError(f"{kind} association names unknown project {project_id!r}")
            if site.store.get(collection, str(scheme_id)) is None:
                raise SeedRefError(f"project {project_id} names unknown {kind} {scheme_id!r}")
            set_scheme(project, kind, None if str(scheme_id) == str(default) else str(scheme_id))

    return load


# Project associations: `{"<projectId>": "<schemeId>"}` — the id in `GET /project/{id}/permissionscheme`
# and `GET /notificationscheme/project`.
seed_type(
    "projectPermissionSchemes",
    exporter=_export_project_schemes(PERMISSION_KIND, DEFAULT_PERMISSION_SCHEME),
    after=("projects", "permissionSchemes"),
)(_seed_project_schemes(PERMISSION_KIND, "permissionSchemes", DEFAULT_PERMISSION_SCHEME))
seed_type(
    "projectNotificationSchemes",
    exporter=_export_project_schemes(NOTIFICATION_KIND, DEFAULT_NOTIFICATION_SCHEME),
    after=("projects", "notificationSchemes"),
)(_seed_project_schemes(NOTIFICATION_KIND, "notificationSchemes", DEFAULT_NOTIFICATION_SCHEME))


@seed_type(
    "projectIssueSecuritySchemes",
    exporter=_security_project_mappings,
    after=("projects", "issueSecuritySchemes"),
)
def _seed_project_security(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /issuesecurityschemes/project` values (projects without a scheme are absent)."""
    for item in data:
        project = find_project(site, item["projectId"])
        if project is None:
            raise SeedRefError(f"issue security association names unknown project {item['projectId']!r}")
        if site.store.get("issueSecuritySchemes", item["issueSecuritySchemeId"]) is None:
            raise SeedRefError(
                f"project {item['projectId']} names unknown issue security scheme "
                f"{item['issueSecuritySchemeId']!r}"
            )
        set_scheme(project, SECURITY_KIND, str(item["issueSecuritySchemeId"]))
