"""Shared user objects: filters (share permissions, owners), dashboards (gadgets) and agile boards."""

from __future__ import annotations

import copy
import json
from typing import Any

from ..jql_validation import check_jql
from ..paging import page_bean
from ..registry import Ctx, JiraError, Reply, bad_request, handles, not_found, seed_type, site_defaults
from ..site import Site
from ._common import (
    BODY_MISSING,
    SeedRefError,
    as_int,
    body_of,
    find_project,
    order_by,
    public,
    required_text,
    stored_or_404,
)
from .schemes import find_user, group_ref, role_ref

# The account a Connect app acts as when a call carries no user; sites may set their own in ``site.extra``.
DEFAULT_APP_ACCOUNT = "557058:0f1ad1f8-2a4c-4e5a-9d67-app000000001"
FILTER_NOT_FOUND = (
    "The selected filter is not available to you, perhaps it has been deleted or had its permissions changed."
)
FILTER_NOT_OWNED = "Only the owner of the filter can change it."  # plausible wording
FILTER_OWNER_FORBIDDEN = ("Only the owner of the filter or a user with the Administer Jira global permission can "
                          "change its owner.")  # plausible wording
BOARD_NOT_FOUND = (
    "The requested board cannot be viewed because it either does not exist or you do not have permission to view it."
)
SYSTEM_DASHBOARD = "10000"
URL_KEYS = ("self", "expand", "viewUrl", "searchUrl", "view")
GADGET_COLORS = ("blue", "red", "yellow", "green", "cyan", "purple", "gray", "white")


def strip_urls(value: Any) -> Any:
    """``value`` without URL decorations (rebuilt from the site's base URL) or internal keys, at any depth."""
    if isinstance(value, dict):
        return {k: strip_urls(v) for k, v in value.items() if k not in URL_KEYS and not k.startswith("_")}
    if isinstance(value, list):
        return [strip_urls(v) for v in value]
    return value


def acting_account(ctx: Ctx) -> str:
    """The user a write acts as: the calling user, else the app's own account."""
    return ctx.account_id or ctx.site.extra.get("appAccountId") or DEFAULT_APP_ACCOUNT


def is_admin(ctx: Ctx) -> bool:
    """Whether the caller holds *Administer Jira*: the acting account is one of ``site.admins`` (as the permissions
    check in ``basics.py`` decides; an app acting as itself is not, unless a site lists its account)."""
    return acting_account(ctx) in ctx.site.admins


def user_view(site: Site, account_id: str) -> dict[str, Any]:
    user = find_user(site, account_id) or {}
    return {
        "accountId": account_id,
        "displayName": user.get("displayName", "App user" if user == {} else ""),
        "active": user.get("active", True),
    }


def _known_account(site: Site, account_id: str) -> bool:
    return find_user(site, account_id) is not None or account_id in (
        site.extra.get("appAccountId"),
        DEFAULT_APP_ACCOUNT,
    )


# --------------------------------------------------------------------------------------------------
# Share permissions (filters and dashboards)
# --------------------------------------------------------------------------------------------------


def _project_brief(project: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(project["id"]), "key": project.get("key"), "name": project.get("name")}


def check_share(site: Site, item: Any, *, input_bean: bool = False) -> dict[str, Any]:
    """A share permission in Jira's response shape, from either the response shape or the input bean.

    Unknown groups, projects, roles and users are 400s, as Jira answers them.
    """
    if not isinstance(item, dict) or not item.get("type"):
        raise bad_request(errors={"sharePermissions": "A share permission needs a 'type'."})  # plausible
    kind = item["type"]
    out: dict[str, Any] = {"type": kind}
    if kind == "group":
        name = (item.get("group") or {}).get("name") or item.get("groupname")
        gid = (item.get("group") or {}).get("groupId") or item.get("groupId")
        group = group_ref(site, name=name, group_id=gid)
        if group is None:
            raise bad_request(f"Group '{name or gid}' does not exist.")  # plausible wording
        out["group"] = {"name": group["name"], "groupId": group.get("groupId")}
    elif kind in ("project", "projectRole"):
        pid = (item.get("project") or {}).get("id") or item.get("projectId")
        if pid is None:
            raise bad_request("The project ID must be specified for a project share permission.")
        project = find_project(site, pid)
        if project is None:
            raise bad_request(f"Project '{pid}' does not exist.")  # plausible wording
        out["project"] = _project_brief(project)
        if kind == "projectRole":
            rid = (item.get("role") or {}).get("id") or item.get("projectRoleId")
            role = role_ref(site, rid)
            if role is None:
                raise bad_request(f"Project role '{rid}' does not exist.")  # plausible wording
            out["role"] = {"id": role["id"], "name": role["name"]}
    elif kind == "user":
        account = (item.get("user") or {}).get("accountId") or item.get("accountId")
        if not account or find_user(site, account) is None:
            raise bad_request(f"User '{account}' does not exist.")  # plausible wording
        out["user"] = user_view(site, account)
    elif kind in ("global", "authenticated", "loggedin"):
        # Jira answers "loggedin" for what a request calls "authenticated" (spec: SharePermission.type).
        out["type"] = "loggedin" if kind == "authenticated" else kind
    else:
        raise bad_request(f"Invalid share permission type '{kind}'.")  # plausible wording
    if input_bean and item.get("rights") is not None:
        out["_rights"] = item["rights"]
    return out


def _shares(site: Site, items: Any, key: str) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise bad_request(errors={key: f"The {key} must be a list."})  # plausible wording
    return [check_share(site, i) for i in items]


def _with_ids(site: Site, shares: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": site.store.next_id("sharePermission"), **s} for s in shares]


def _shared_with(shares: list[dict[str, Any]], group: str | None, project: str | None) -> bool:
    """Whether ``shares`` include the group (name or id) and the project (id) a search asks for, if it does."""
    if group and not any(
        group in ((s.get("group") or {}).get("name"), (s.get("group") or {}).get("groupId")) for s in shares
    ):
        return False
    return not project or any((s.get("project") or {}).get("id") == str(project) for s in shares)


# --------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------

FILTER_EXPANDS = (
    "description",
    "favourite",
    "favouritedCount",
    "jql",
    "owner",
    "searchUrl",
    "sharePermissions",
    "editPermissions",
    "isWritable",
    "approximateLastUsed",
    "subscriptions",
    "viewUrl",
)
SEED_FILTER_EXPAND = "description,jql,owner,sharePermissions,editPermissions"


def filter_or_400(site: Site, filter_id: Any) -> dict[str, Any]:
    found = site.store.get("filters", str(filter_id))
    if found is None:
        raise bad_request(FILTER_NOT_FOUND)  # Jira answers 400, not 404, for a missing filter
    return found


def _filter_urls(site: Site, record: dict[str, Any]) -> dict[str, str]:
    return {
        "self": f"{site.base_url}/rest/api/3/filter/{record['id']}",
        "viewUrl": f"{site.base_url}/issues/?filter={record['id']}",
        "searchUrl": f"{site.base_url}/rest/api/3/search?jql={record.get('jql', '')}",
    }


def filter_view(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """The Filter shape of ``GET /filter/{id}``."""
    out: dict[str, Any] = {**_filter_urls(site, record), "id": record["id"], "name": record["name"]}
    if record.get("description"):
        out["description"] = record["description"]
    out.update(
        owner=user_view(site, record["_owner"]),
        jql=record.get("jql", ""),
        favourite=bool(record.get("favourite")),
        favouritedCount=int(record.get("favouritedCount", 0)),
        sharePermissions=record["sharePermissions"],
        editPermissions=record["editPermissions"],
    )
    return out


def _filter_details(site: Site, record: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    """The FilterDetails shape of ``GET /filter/search``: only what ``expand`` asks for beyond id/name/self."""
    urls = _filter_urls(site, record)
    out: dict[str, Any] = {"expand": ",".join(FILTER_EXPANDS), "self": urls["self"], "id": record["id"]}
    out["name"] = record["name"]
    if "description" in expand and record.get("description"):
        out["description"] = record["description"]
    if "owner" in expand:
        out["owner"] = user_view(site, record["_owner"])
    if "jql" in expand:
        out["jql"] = record.get("jql", "")
    for key in ("viewUrl", "searchUrl"):
        if key in expand:
            out[key] = urls[key]
    if "favourite" in expand:
        out["favourite"] = bool(record.get("favourite"))
    if "favouritedCount" in expand:
        out["favouritedCount"] = int(record.get("favouritedCount", 0))
    if "sharePermissions" in expand:
        out["sharePermissions"] = record["sharePermissions"]
    if "editPermissions" in expand:
        out["editPermissions"] = record["editPermissions"]
    if "subscriptions" in expand:
        out["subscriptions"] = []
    return out


def _filter_name_taken(site: Site, owner: str, name: str, own: str | None = None) -> None:
    for record in site.store.values("filters"):
        if record["_owner"] == owner and record["name"].casefold() == name.casefold() and record["id"] != own:
            raise bad_request(errors={"filterName": "Filter with same name already exists."})


@handles("GET", "/rest/api/3/filter/search")
def search_filters(ctx: Ctx) -> dict[str, Any]:
    expand = set(ctx.list_arg("expand"))
    if expand - set(FILTER_EXPANDS):
        raise bad_request(f"Invalid expand value(s): {', '.join(sorted(expand - set(FILTER_EXPANDS)))}.")
    if ctx.arg("owner") and ctx.arg("accountId"):
        raise bad_request("Only one of 'owner' and 'accountId' can be provided.")  # plausible wording
    ids = set(ctx.list_arg("id"))
    if len(ids) > 200:
        raise bad_request("The 'id' parameter accepts up to 200 filter IDs.")  # plausible wording
    name = (ctx.arg("filterName") or "").casefold()
    account = ctx.arg("accountId") or ctx.arg("owner")
    group = ctx.arg("groupname") or ctx.arg("groupId")
    project = ctx.arg("projectId")
    items = []
    for record in ctx.site.store.values("filters"):
        if (ids and record["id"] not in ids) or (name and name not in record["name"].casefold()):
            continue
        if account and record["_owner"] != account:
            continue
        if _shared_with(record["sharePermissions"], group, project):
            items.append(record)
    items = order_by(
        items,
        ctx.arg("orderBy"),
        {
            "name": lambda r: r["name"].casefold(),
            "id": lambda r: int(r["id"]),
            "description": lambda r: r.get("description", ""),
            "owner": lambda r: r["_owner"],
            "favourite_count": lambda r: r.get("favouritedCount", 0),
            "is_favourite": lambda r: bool(r.get("favourite")),
        },
    )
    return page_bean(ctx, [_filter_details(ctx.site, r, expand) for r in items])


@handles("GET", "/rest/api/3/filter/{id}")
def get_filter(ctx: Ctx) -> dict[str, Any]:
    return filter_view(ctx.site, filter_or_400(ctx.site, ctx.path_params["id"]))


@handles("POST", "/rest/api/3/filter")
def create_filter(ctx: Ctx) -> dict[str, Any]:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, label="filter name", strip=True)
    owner = acting_account(ctx)
    _filter_name_taken(ctx.site, owner, name)
    shares = _shares(ctx.site, body.get("sharePermissions"), "sharePermissions")
    edits = _shares(ctx.site, body.get("editPermissions"), "editPermissions")
    if jql_errors := check_jql(ctx.site, body.get("jql")):  # Jira refuses unknown fields, values, functions
        raise bad_request(errors={"jql": " ".join(jql_errors)})
    fid = str(ctx.site.store.next_id("filter"))
    record: dict[str, Any] = {
        "id": fid,
        "name": name,
        "jql": body.get("jql") or "",
        "_owner": owner,
        "favourite": bool(body.get("favourite", True)),
        "favouritedCount": 1 if body.get("favourite", True) else 0,
        "sharePermissions": _with_ids(ctx.site, shares),
        "editPermissions": _with_ids(ctx.site, edits),
    }
    if body.get("description"):
        record["description"] = body["description"]
    ctx.site.store.put("filters", fid, record)
    return filter_view(ctx.site, record)


@handles("GET", "/rest/api/3/filter/my")
def my_filters(ctx: Ctx) -> list[dict[str, Any]]:
    """The caller's own filters (``includeFavourites`` adds favourites, which the emulator doesn't track per user)."""
    owner = acting_account(ctx)
    return [filter_view(ctx.site, r) for r in ctx.site.store.values("filters") if r["_owner"] == owner]


@handles("PUT", "/rest/api/3/filter/{id}")
def update_filter(ctx: Ctx) -> dict[str, Any]:
    record = filter_or_400(ctx.site, ctx.path_params["id"])
    if record["_owner"] != acting_account(ctx):
        # Spec: "the user must own the filter" (not even an administrator may edit another's); the spec documents
        # 400 for a refused update.
        raise bad_request(FILTER_NOT_OWNED)
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, label="filter name", strip=True)
    _filter_name_taken(ctx.site, record["_owner"], name, record["id"])
    shares = _shares(ctx.site, body["sharePermissions"], "sharePermissions") if "sharePermissions" in body else None
    edits = _shares(ctx.site, body["editPermissions"], "editPermissions") if "editPermissions" in body else None
    if jql_errors := check_jql(ctx.site, body.get("jql")):  # Jira refuses unknown fields, values, functions
        raise bad_request(errors={"jql": " ".join(jql_errors)})
    record["name"] = name
    for key in ("jql", "description"):
        if key in body:
            record[key] = body[key] or ""
    if shares is not None:
        record["sharePermissions"] = _with_ids(ctx.site, shares)
    if edits is not None:
        record["editPermissions"] = _with_ids(ctx.site, edits)
    return filter_view(ctx.site, record)


@handles("DELETE", "/rest/api/3/filter/{id}")
def delete_filter(ctx: Ctx) -> Reply:
    record = filter_or_400(ctx.site, ctx.path_params["id"])
    boards = [b["name"] for b in ctx.site.store.values("boards") if b["_filterId"] == record["id"]]
    if boards:
        raise bad_request(f"The filter is used by the board(s) {', '.join(boards)} and can't be deleted.")
    ctx.site.store.delete("filters", record["id"])
    return Reply(204)


@handles("PUT", "/rest/api/3/filter/{id}/owner")
def change_filter_owner(ctx: Ctx) -> Reply:
    record = filter_or_400(ctx.site, ctx.path_params["id"])
    if record["_owner"] != acting_account(ctx) and not is_admin(ctx):
        raise JiraError(403, FILTER_OWNER_FORBIDDEN)  # spec: owner or *Administer Jira*, else 403
    account = required_text(body_of(ctx, BODY_MISSING), "accountId")
    if not _known_account(ctx.site, account):
        raise not_found(f"The user with account ID '{account}' does not exist.")  # plausible wording
    try:
        _filter_name_taken(ctx.site, account, record["name"], record["id"])
    except JiraError:
        raise bad_request("The new owner already owns a filter with the same name.") from None  # plausible
    record["_owner"] = account
    return Reply(204)


@handles("GET", "/rest/api/3/filter/{id}/permission")
def list_filter_shares(ctx: Ctx) -> list[dict[str, Any]]:
    record = ctx.site.store.get("filters", ctx.path_params["id"])
    if record is None:
        raise not_found(FILTER_NOT_FOUND)
    return record["sharePermissions"]


@handles("POST", "/rest/api/3/filter/{id}/permission")
def add_filter_share(ctx: Ctx) -> Reply:
    record = ctx.site.store.get("filters", ctx.path_params["id"])
    if record is None:
        raise not_found(FILTER_NOT_FOUND)
    share = check_share(ctx.site, body_of(ctx, BODY_MISSING), input_bean=True)
    rights = share.pop("_rights", 1)
    target = record["editPermissions"] if rights in (3,) else record["sharePermissions"]
    if any({k: v for k, v in s.items() if k != "id"} == share for s in target):
        raise bad_request("The share permission is already present.")  # plausible wording
    target.append({"id": ctx.site.store.next_id("sharePermission"), **share})
    return Reply(201, record["sharePermissions"])


def _filter_share_or_404(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    record = ctx.site.store.get("filters", ctx.path_params["id"])
    if record is None:
        raise not_found(FILTER_NOT_FOUND)
    for shares in (record["sharePermissions"], record["editPermissions"]):
        for share in shares:
            if str(share.get("id")) == ctx.path_params["permissionId"]:
                return record, share, shares
    raise not_found(f"The share permission {ctx.path_params['permissionId']} was not found.")  # plausible


@handles("GET", "/rest/api/3/filter/{id}/permission/{permissionId}")
def get_filter_share(ctx: Ctx) -> dict[str, Any]:
    return _filter_share_or_404(ctx)[1]


@handles("DELETE", "/rest/api/3/filter/{id}/permission/{permissionId}")
def delete_filter_share(ctx: Ctx) -> Reply:
    _record, share, shares = _filter_share_or_404(ctx)
    shares.remove(share)
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Dashboards and gadgets
# --------------------------------------------------------------------------------------------------


@site_defaults
def _install_system_dashboard(site: Site) -> None:
    site.store.put(
        "dashboards",
        SYSTEM_DASHBOARD,
        {
            "id": SYSTEM_DASHBOARD,
            "name": "Default dashboard",
            "isFavourite": False,
            "popularity": 0,
            "sharePermissions": [{"type": "global"}],
            "editPermissions": [],
            "systemDashboard": True,
            "_owner": None,
        },
    )
    site.store.bump("dashboard", int(SYSTEM_DASHBOARD))
    for row, (title, module) in enumerate(
        (
            ("Introduction", "com.atlassian.jira.gadgets:introduction-dashboard-item"),
            ("Assigned to Me", "com.atlassian.jira.gadgets:assigned-to-me-gadget"),
        )
    ):
        _add_gadget(
            site,
            SYSTEM_DASHBOARD,
            {"moduleKey": module, "title": title, "color": "blue", "position": {"row": row, "column": 0}},
        )


def dashboard_or_404(site: Site, dashboard_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "dashboards", dashboard_id,
                         f"The dashboard with id '{dashboard_id}' does not exist.")  # plausible wording


def dashboard_view(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": record["id"], "self": f"{site.base_url}/rest/api/3/dashboard/{record['id']}"}
    out.update({k: v for k, v in record.items() if not k.startswith("_") and k != "id"})
    if record.get("_owner"):
        out["owner"] = user_view(site, record["_owner"])
    out["view"] = f"{site.base_url}/jira/dashboards/{record['id']}"
    return out


def _editable_dashboard(site: Site, dashboard_id: Any) -> dict[str, Any]:
    record = dashboard_or_404(site, dashboard_id)
    if record.get("systemDashboard"):
        raise bad_request("The system dashboard can't be changed through this resource.")  # plausible wording
    return record


def _dashboard_body(ctx: Ctx, owner: str, own: str | None) -> dict[str, Any]:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    for key in ("sharePermissions", "editPermissions"):
        if not isinstance(body.get(key), list):
            raise bad_request(errors={key: f"The {key} must be provided."})  # the spec makes both required
    for record in ctx.site.store.values("dashboards"):
        if record.get("_owner") == owner and record["name"].casefold() == name.casefold() and record["id"] != own:
            raise bad_request(errors={"name": "You already have a dashboard with this name."})  # plausible
    return {
        "name": name,
        "description": body.get("description") or "",
        "sharePermissions": _with_ids(ctx.site, _shares(ctx.site, body["sharePermissions"], "sharePermissions")),
        "editPermissions": _with_ids(ctx.site, _shares(ctx.site, body["editPermissions"], "editPermissions")),
    }


@handles("GET", "/rest/api/3/dashboard")
def list_dashboards(ctx: Ctx) -> dict[str, Any]:
    which = ctx.arg("filter")
    if which not in (None, "", "my", "favourite"):
        raise bad_request(f"The value '{which}' is invalid for parameter 'filter'.")
    account = acting_account(ctx)
    items = [
        d
        for d in ctx.site.store.values("dashboards")
        if which != "my" or d.get("_owner") == account
        if which != "favourite" or d.get("isFavourite")
    ]
    start, size = ctx.int_arg("startAt", 0), min(ctx.int_arg("maxResults", 20), 1000)
    window = items[start : start + size]
    return {
        "startAt": start,
        "maxResults": size,
        "total": len(items),
        "dashboards": [dashboard_view(ctx.site, d) for d in window],
    }


@handles("GET", "/rest/api/3/dashboard/search")
def search_dashboards(ctx: Ctx) -> dict[str, Any]:
    if ctx.arg("owner") and ctx.arg("accountId"):
        raise bad_request("Only one of 'owner' and 'accountId' can be provided.")  # plausible wording
    if ctx.arg("groupname") and ctx.arg("groupId"):
        raise bad_request("Only one of 'groupname' and 'groupId' can be provided.")  # plausible wording
    name = (ctx.arg("dashboardName") or "").casefold()
    account = ctx.arg("accountId") or ctx.arg("owner")
    group = ctx.arg("groupname") or ctx.arg("groupId")
    project = ctx.arg("projectId")
    items = []
    for record in ctx.site.store.values("dashboards"):
        if (name and name not in record["name"].casefold()) or (account and record.get("_owner") != account):
            continue
        if _shared_with(record["sharePermissions"], group, project):
            items.append(record)
    items = order_by(
        items,
        ctx.arg("orderBy"),
        {
            "name": lambda r: r["name"].casefold(),
            "id": lambda r: int(r["id"]),
            "description": lambda r: r.get("description", ""),
            "owner": lambda r: r.get("_owner") or "",
            "favourite_count": lambda r: r.get("popularity", 0),
            "is_favourite": lambda r: bool(r.get("isFavourite")),
        },
    )
    return page_bean(ctx, [dashboard_view(ctx.site, r) for r in items])


@handles("GET", "/rest/api/3/dashboard/{id}")
def get_dashboard(ctx: Ctx) -> dict[str, Any]:
    return dashboard_view(ctx.site, dashboard_or_404(ctx.site, ctx.path_params["id"]))


@handles("POST", "/rest/api/3/dashboard")
def create_dashboard(ctx: Ctx) -> dict[str, Any]:
    owner = acting_account(ctx)
    fields = _dashboard_body(ctx, owner, None)
    did = str(ctx.site.store.next_id("dashboard"))
    record = {"id": did, **fields, "isFavourite": True, "popularity": 1, "systemDashboard": False, "_owner": owner}
    ctx.site.store.put("dashboards", did, record)
    return dashboard_view(ctx.site, record)


@handles("PUT", "/rest/api/3/dashboard/{id}")
def update_dashboard(ctx: Ctx) -> dict[str, Any]:
    record = _editable_dashboard(ctx.site, ctx.path_params["id"])
    as_admin = str(ctx.arg("extendAdminPermissions", "false")).lower() == "true" and is_admin(ctx)
    if record.get("_owner") != acting_account(ctx) and not as_admin:
        # Spec: 404 "if the dashboard is not found or the dashboard is not owned by the user"; an administrator
        # may edit another's dashboard only when asking with extendAdminPermissions=true.
        raise not_found(_no_dashboard(record["id"]))
    record.update(_dashboard_body(ctx, record.get("_owner"), record["id"]))
    return dashboard_view(ctx.site, record)


# -- bulk edit (PUT /dashboard/bulk/edit) ------------------------------------------------------------------------

BULK_ACTIONS = ("changeOwner", "changePermission", "addPermission", "removePermission")
BULK_MAX = 100  # spec: "Maximum number of dashboards to be edited at the same time is 100."


def _no_dashboard(dashboard_id: Any) -> str:
    return f"The dashboard with id '{dashboard_id}' does not exist."  # plausible wording


def _member_of(site: Site, share: dict[str, Any], account: str) -> bool:
    """Whether ``account`` is among those a share permission names (project ones: administrators only, as the
    emulator's minimal permission model grants project permissions)."""
    kind = share.get("type")
    if kind in ("global", "loggedin"):
        return True
    if kind == "user":
        return (share.get("user") or {}).get("accountId") == account
    if kind == "group":
        group = group_ref(site, name=(share.get("group") or {}).get("name"),
                          group_id=(share.get("group") or {}).get("groupId"))
        return group is not None and account in (group.get("_members") or [])
    return account in site.admins


def can_edit_dashboard(site: Site, record: dict[str, Any], account: str) -> bool:
    """The owner, or someone the dashboard's edit permissions name."""
    return record.get("_owner") == account or any(_member_of(site, s, account)
                                                   for s in record.get("editPermissions") or [])


def _bulk_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("entityIds")
    if not isinstance(ids, list) or not ids:
        raise bad_request(errors={"entityIds": "The dashboard IDs must be provided."})  # plausible wording
    if len(ids) > BULK_MAX:
        raise bad_request(f"Maximum number of dashboards to be edited at the same time is {BULK_MAX}.")  # spec
    return [str(i) for i in dict.fromkeys(ids)]


def _bulk_new_owner(site: Site, body: dict[str, Any]) -> tuple[str, bool]:
    details = body.get("changeOwnerDetails")
    if not isinstance(details, dict) or not isinstance(details.get("newOwner"), str) or not details["newOwner"]:
        raise bad_request(errors={"changeOwnerDetails": "The new owner must be provided."})  # plausible wording
    if not _known_account(site, details["newOwner"]):
        raise bad_request(f"The user with account ID '{details['newOwner']}' does not exist.")  # plausible wording
    return details["newOwner"], bool(details.get("autofixName"))


def _bulk_shares(site: Site, body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    details = body.get("permissionDetails")
    if not isinstance(details, dict):
        raise bad_request(errors={"permissionDetails": "The permission details must be provided."})  # plausible
    return (_shares(site, details.get("sharePermissions"), "sharePermissions"),
            _shares(site, details.get("editPermissions"), "editPermissions"))


def _free_name(site: Site, owner: str, name: str, own: str) -> str | None:
    """``name`` if ``owner`` has no other dashboard of it (case-insensitive), else None."""
    taken = {d["name"].casefold() for d in site.store.values("dashboards")
             if d.get("_owner") == owner and d["id"] != own}
    return None if name.casefold() in taken else name


def _change_owner(site: Site, record: dict[str, Any], owner: str, autofix: bool) -> str | None:
    """Give ``record`` to ``owner``; the entity error, if any."""
    name = _free_name(site, owner, record["name"], record["id"])
    n = 1
    while name is None and autofix:
        name = _free_name(site, owner, f"{record['name']} ({n})", record["id"])  # plausible renaming
        n += 1
    if name is None:
        return f"The new owner already has a dashboard named '{record['name']}'."  # plausible wording
    record.update(name=name, _owner=owner)
    return None


def _same_share(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "id"} == {k: v for k, v in b.items() if k != "id"}


def _change_shares(site: Site, record: dict[str, Any], action: str,
                   shares: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    for key, wanted in zip(("sharePermissions", "editPermissions"), shares, strict=True):
        current = record.get(key) or []
        if action == "changePermission":
            record[key] = _with_ids(site, wanted)
        elif action == "addPermission":
            record[key] = current + _with_ids(site, [w for w in wanted if not any(_same_share(w, c)
                                                                                 for c in current)])
        else:
            record[key] = [c for c in current if not any(_same_share(w, c) for w in wanted)]


@handles("PUT", "/rest/api/3/dashboard/bulk/edit")
def bulk_edit_dashboards(ctx: Ctx) -> dict[str, Any]:
    """Change the owner or the permissions of up to 100 dashboards; refusals are per dashboard (``entityErrors``).

    Spec: the dashboards "must be owned by the user, or the user must be an administrator" (the latter only with
    ``extendAdminPermissions``); the permission actions are also open to the dashboard's editors.
    """
    body = body_of(ctx, BODY_MISSING)
    action = body.get("action")
    if action not in BULK_ACTIONS:
        raise bad_request(errors={"action": f"The action must be one of: {', '.join(BULK_ACTIONS)}."})  # plausible
    ids = _bulk_ids(body)
    owner_change = _bulk_new_owner(ctx.site, body) if action == "changeOwner" else None
    shares = None if owner_change else _bulk_shares(ctx.site, body)
    caller = acting_account(ctx)
    as_admin = body.get("extendAdminPermissions") is True and is_admin(ctx)
    errors: dict[str, str] = {}
    for did in ids:
        record = ctx.site.store.get("dashboards", did)
        if record is None:
            errors[did] = _no_dashboard(did)
        elif record.get("systemDashboard"):
            errors[did] = "The system dashboard can't be changed through this resource."  # plausible wording
        elif owner_change is not None:
            if record.get("_owner") != caller and not as_admin:
                errors[did] = "Only the owner of the dashboard or an administrator can change its owner."  # plausible
            else:
                problem = _change_owner(ctx.site, record, *owner_change)
                if problem:
                    errors[did] = problem
        elif not (as_admin or can_edit_dashboard(ctx.site, record, caller)):
            errors[did] = "Only owner or editors of the dashboard can change permissions."  # the spec's example
        else:
            _change_shares(ctx.site, record, action, shares)  # type: ignore[arg-type]
    out: dict[str, Any] = {"action": action}
    if errors:
        out["entityErrors"] = {did: {"errorMessages": [text], "errors": {}} for did, text in errors.items()}
    return out


@handles("DELETE", "/rest/api/3/dashboard/{id}")
def delete_dashboard(ctx: Ctx) -> Reply:
    record = dashboard_or_404(ctx.site, ctx.path_params["id"])
    if record.get("systemDashboard"):
        raise bad_request("The system dashboard can't be deleted.")  # plausible wording
    for gadget in gadgets_of(ctx.site, record["id"]):
        ctx.site.store.delete("gadgets", gadget["id"])
    ctx.site.store.delete("dashboards", record["id"])
    return Reply(204)


def gadgets_of(site: Site, dashboard_id: str) -> list[dict[str, Any]]:
    return [g for g in site.store.values("gadgets") if g["_dashboardId"] == dashboard_id]


def _check_position(site: Site, dashboard_id: str, position: Any, own: int | None = None) -> dict[str, int]:
    if position is None:
        rows = [g["position"]["row"] for g in gadgets_of(site, dashboard_id) if g["position"]["column"] == 0]
        return {"row": max(rows, default=-1) + 1, "column": 0}
    if not isinstance(position, dict) or not all(isinstance(position.get(k), int) for k in ("row", "column")):
        raise bad_request(errors={"position": "The position needs integer 'row' and 'column'."})  # plausible
    if not 0 <= position["column"] <= 3 or position["row"] < 0:
        raise bad_request(f"Cannot add gadget at position row {position['row']}, column {position['column']}.")
    for gadget in gadgets_of(site, dashboard_id):
        if gadget["position"] == {"row": position["row"], "column": position["column"]} and gadget["id"] != own:
            raise bad_request(
                f"Cannot add gadget at position row {position['row']}, column {position['column']}: "
                f"the position is already used."
            )  # plausible wording
    return {"row": position["row"], "column": position["column"]}


def _check_color(color: Any) -> str:
    if color not in GADGET_COLORS:
        raise bad_request(f"The color '{color}' is not valid: use one of {', '.join(GADGET_COLORS)}.")  # plausible
    return color


def _add_gadget(site: Site, dashboard_id: str, body: dict[str, Any]) -> dict[str, Any]:
    gid = site.store.next_id("gadget")
    record: dict[str, Any] = {"id": gid}
    for key in ("moduleKey", "uri"):
        if body.get(key):
            record[key] = body[key]
    record.update(
        color=_check_color(body.get("color", "blue")),
        position=_check_position(site, dashboard_id, body.get("position")),
        title=body.get("title") or "",
        _dashboardId=dashboard_id,
    )
    return site.store.put("gadgets", gid, record)


@handles("GET", "/rest/api/3/dashboard/{dashboardId}/gadget")
def list_gadgets(ctx: Ctx) -> dict[str, Any]:
    dashboard = dashboard_or_404(ctx.site, ctx.path_params["dashboardId"])
    modules, uris = set(ctx.list_arg("moduleKey")), set(ctx.list_arg("uri"))
    ids = {as_int(i, "gadget ID") for i in ctx.list_arg("gadgetId")}
    return {
        "gadgets": [
            public(g)
            for g in gadgets_of(ctx.site, dashboard["id"])
            if (not modules or g.get("moduleKey") in modules)
            and (not uris or g.get("uri") in uris)
            and (not ids or g["id"] in ids)
        ]
    }


@handles("POST", "/rest/api/3/dashboard/{dashboardId}/gadget")
def add_gadget(ctx: Ctx) -> dict[str, Any]:
    dashboard = _editable_dashboard(ctx.site, ctx.path_params["dashboardId"])
    body = body_of(ctx, BODY_MISSING)
    if bool(body.get("moduleKey")) == bool(body.get("uri")):
        raise bad_request("Either the module key or the URI of the gadget must be provided, not both.")  # plausible
    return public(_add_gadget(ctx.site, dashboard["id"], body))


def _gadget_or_404(ctx: Ctx) -> dict[str, Any]:
    dashboard = dashboard_or_404(ctx.site, ctx.path_params["dashboardId"])
    gadget = ctx.site.store.get("gadgets", ctx.path_params["gadgetId"])
    if gadget is None or gadget["_dashboardId"] != dashboard["id"]:
        raise not_found(f"The gadget with id '{ctx.path_params['gadgetId']}' does not exist.")  # plausible
    return gadget


@handles("PUT", "/rest/api/3/dashboard/{dashboardId}/gadget/{gadgetId}")
def update_gadget(ctx: Ctx) -> Reply:
    gadget = _gadget_or_404(ctx)
    body = body_of(ctx, BODY_MISSING)
    color = _check_color(body["color"]) if "color" in body else None
    position = (
        _check_position(ctx.site, gadget["_dashboardId"], body["position"], gadget["id"])
        if "position" in body
        else None
    )
    if color:
        gadget["color"] = color
    if position:
        gadget["position"] = position
    if "title" in body:
        gadget["title"] = body["title"] or ""
    return Reply(204)


@handles("DELETE", "/rest/api/3/dashboard/{dashboardId}/gadget/{gadgetId}")
def delete_gadget(ctx: Ctx) -> Reply:
    ctx.site.store.delete("gadgets", _gadget_or_404(ctx)["id"])
    return Reply(204)


# -- dashboard item properties (gadget configuration) ------------------------------------------------------------

PROPERTY_MAX_CHARS = 32768  # spec: "The maximum length is 32768 characters."
PROPERTY_KEY_MAX = 255
CONFIG_KEY = "config"
CONFIG_NOT_FLAT = ("The JSON data provided for the property has too many levels. It must be an object with all keys "
                   "and values as strings.")  # the spec's example


def _item_or_404(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dashboard and the item (gadget) of the path; 404 for either missing or not of that dashboard."""
    dashboard = dashboard_or_404(ctx.site, ctx.path_params["dashboardId"])
    item = ctx.site.store.get("gadgets", ctx.path_params["itemId"])
    if item is None or item["_dashboardId"] != dashboard["id"]:
        raise not_found(f"The dashboard item with id '{ctx.path_params['itemId']}' does not exist.")  # plausible
    return dashboard, item


def _editable_item(ctx: Ctx) -> dict[str, Any]:
    dashboard, item = _item_or_404(ctx)
    if not can_edit_dashboard(ctx.site, dashboard, acting_account(ctx)):
        # spec: 403 "if the user is not the owner of the dashboard" (edit permission is what it requires)
        raise JiraError(403, "You must be the owner of the dashboard or be allowed to edit it.")  # plausible
    return item


def _property_url(ctx: Ctx, key: str) -> str:
    p = ctx.path_params
    return f"{ctx.site.base_url}/rest/api/3/dashboard/{p['dashboardId']}/items/{p['itemId']}/properties/{key}"


def spec_uri_item(item: dict[str, Any]) -> bool:
    """A gadget with a spec URI and no complete module key (``plugin:module``): its ``config`` holds strings only."""
    return bool(item.get("uri")) and ":" not in str(item.get("moduleKey") or "")


def check_item_property(item: dict[str, Any], key: str, value: Any) -> None:
    """Jira's 400s for an item property: a missing value, one too long, and the spec's rule for ``config``."""
    if not key or len(key) > PROPERTY_KEY_MAX:
        raise bad_request(f"The property key must be 1 to {PROPERTY_KEY_MAX} characters long.")  # plausible
    if value is None:
        raise bad_request("The property value must be a valid, non-empty JSON value.")  # plausible wording
    if len(json.dumps(value, ensure_ascii=False, separators=(",", ":"))) > PROPERTY_MAX_CHARS:
        raise bad_request(f"The property value must not exceed {PROPERTY_MAX_CHARS} characters.")  # plausible
    if key == CONFIG_KEY and spec_uri_item(item) and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
        raise bad_request(CONFIG_NOT_FLAT)


@handles("GET", "/rest/api/3/dashboard/{dashboardId}/items/{itemId}/properties")
def list_item_properties(ctx: Ctx) -> dict[str, Any]:
    _dashboard, item = _item_or_404(ctx)
    return {"keys": [{"key": k, "self": _property_url(ctx, k)} for k in item.get("_properties") or {}]}


@handles("GET", "/rest/api/3/dashboard/{dashboardId}/items/{itemId}/properties/{propertyKey}")
def get_item_property(ctx: Ctx) -> dict[str, Any]:
    _dashboard, item = _item_or_404(ctx)
    key = ctx.path_params["propertyKey"]
    if key not in (item.get("_properties") or {}):
        raise not_found(f"The property with key '{key}' does not exist.")  # plausible wording
    return {"key": key, "value": copy.deepcopy(item["_properties"][key])}


@handles("PUT", "/rest/api/3/dashboard/{dashboardId}/items/{itemId}/properties/{propertyKey}")
def set_item_property(ctx: Ctx) -> Reply:
    item = _editable_item(ctx)
    key = ctx.path_params["propertyKey"]
    check_item_property(item, key, ctx.body)
    properties = item.setdefault("_properties", {})
    created = key not in properties
    properties[key] = copy.deepcopy(ctx.body)
    return Reply(201 if created else 200, {})


@handles("DELETE", "/rest/api/3/dashboard/{dashboardId}/items/{itemId}/properties/{propertyKey}")
def delete_item_property(ctx: Ctx) -> Reply:
    item = _editable_item(ctx)
    key = ctx.path_params["propertyKey"]
    if key not in (item.get("_properties") or {}):
        raise not_found(f"The property with key '{key}' does not exist.")  # plausible wording
    del item["_properties"][key]
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Boards (Jira Software agile API)
# --------------------------------------------------------------------------------------------------

BOARD_TYPES = ("scrum", "kanban")
RANK_FIELD = 10019


def board_or_404(site: Site, board_id: Any) -> dict[str, Any]:
    return stored_or_404(site, "boards", board_id, BOARD_NOT_FOUND)


def board_view(site: Site, board: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": board["id"],
        "self": f"{site.base_url}/rest/agile/1.0/board/{board['id']}",
        "name": board["name"],
        "type": board["type"],
    }
    if board.get("location"):
        out["location"] = board["location"]
    out["isPrivate"] = bool(board.get("isPrivate", False))
    return out


def _location(site: Site, project: dict[str, Any]) -> dict[str, Any]:
    return {
        "projectId": int(project["id"]),
        "displayName": f"{project.get('name')} ({project.get('key')})",
        "projectName": project.get("name"),
        "projectKey": project.get("key"),
        "projectTypeKey": project.get("projectTypeKey", "software"),
        "name": f"{project.get('name')} ({project.get('key')})",
    }


def _status_ids(site: Site, category: str) -> list[str]:
    """Status ids of one status category (statuses are owned by ``basics.py``; read only)."""
    out = []
    for status in site.store.values("statuses"):
        cat = status.get("statusCategory")
        key = cat.get("key") if isinstance(cat, dict) else cat
        if (
            str(key).lower()
            in (
                {"new": {"new", "to_do"}, "indeterminate": {"indeterminate", "in_progress"}, "done": {"done"}}[category]
            )
        ):
            out.append(str(status["id"]))
    return out


def _default_config(site: Site, board_type: str) -> dict[str, Any]:
    columns = [
        {"name": "To Do", "statuses": [{"id": s} for s in _status_ids(site, "new")]},
        {"name": "In Progress", "statuses": [{"id": s} for s in _status_ids(site, "indeterminate")]},
        {"name": "Done", "statuses": [{"id": s} for s in _status_ids(site, "done")]},
    ]
    config: dict[str, Any] = {"columnConfig": {"columns": columns, "constraintType": "none"}}
    if board_type == "scrum":
        config["estimation"] = {
            "type": "field",
            "field": {"fieldId": "customfield_10016", "displayName": "Story point estimate"},
        }
    else:
        config["subQuery"] = {"query": "resolution = EMPTY OR resolution changed AFTER -2w"}
    config["ranking"] = {"rankCustomFieldId": RANK_FIELD}
    return config


def board_configuration(site: Site, board: dict[str, Any]) -> dict[str, Any]:
    base = site.base_url
    out: dict[str, Any] = {
        "id": board["id"],
        "name": board["name"],
        "type": board["type"],
        "self": f"{base}/rest/agile/1.0/board/{board['id']}/configuration",
    }
    if board.get("location"):
        out["location"] = {"type": "project", "projectKeyOrId": str(board["location"]["projectId"])}
    if board.get("_filterId") is not None:
        out["filter"] = {"id": board["_filterId"], "self": f"{base}/rest/api/3/filter/{board['_filterId']}"}
    config = board["_config"]
    if "subQuery" in config:
        out["subQuery"] = config["subQuery"]
    out["columnConfig"] = {
        "columns": [
            {
                **{k: v for k, v in col.items() if k != "statuses"},
                "statuses": [{"id": s["id"], "self": f"{base}/rest/api/3/status/{s['id']}"} for s in col["statuses"]],
            }
            for col in config["columnConfig"]["columns"]
        ],
        "constraintType": config["columnConfig"].get("constraintType", "none"),
    }
    for key in ("estimation", "ranking"):
        if key in config:
            out[key] = config[key]
    return out


@handles("GET", "/rest/agile/1.0/board")
def list_boards(ctx: Ctx) -> dict[str, Any]:
    types = set(ctx.list_arg("type"))
    name = (ctx.arg("name") or "").casefold()
    project = find_project(ctx.site, ctx.arg("projectKeyOrId")) if ctx.arg("projectKeyOrId") else None
    if ctx.arg("projectKeyOrId") and project is None:
        raise bad_request(f"No project could be found with key or id '{ctx.arg('projectKeyOrId')}'.")  # plausible
    filter_id = ctx.arg("filterId")
    items = [
        b
        for b in ctx.site.store.values("boards")
        if (not types or b["type"] in types)
        and (not name or name in b["name"].casefold())
        and (project is None or (b.get("location") or {}).get("projectId") == int(project["id"]))
        and (not filter_id or b["_filterId"] == str(filter_id))
    ]
    items = order_by(items, ctx.arg("orderBy"), {"name": lambda b: b["name"].casefold()})
    return agile_page(ctx, [board_view(ctx.site, b) for b in items])


def agile_page(ctx: Ctx, items: list[Any], cap: int = 50) -> dict[str, Any]:
    """The agile API's page: ``maxResults``, ``startAt``, ``total``, ``isLast``, ``values`` (no links)."""
    start, size = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 50)
    if start < 0 or size < 0:
        raise bad_request("The 'startAt' and 'maxResults' parameters must not be negative.")  # plausible
    size = min(size, cap)
    window = items[start : start + size]
    return {
        "maxResults": size,
        "startAt": start,
        "total": len(items),
        "isLast": start + len(window) >= len(items),
        "values": window,
    }


@handles("GET", "/rest/agile/1.0/board/{boardId}")
def get_board(ctx: Ctx) -> dict[str, Any]:
    return board_view(ctx.site, board_or_404(ctx.site, ctx.path_params["boardId"]))


@handles("GET", "/rest/agile/1.0/board/{boardId}/configuration")
def get_board_configuration(ctx: Ctx) -> dict[str, Any]:
    return board_configuration(ctx.site, board_or_404(ctx.site, ctx.path_params["boardId"]))


@handles("POST", "/rest/agile/1.0/board")
def create_board(ctx: Ctx) -> Reply:
    body = body_of(ctx, BODY_MISSING)
    name = required_text(body, "name", max_len=255, strip=True)
    if body.get("type") not in BOARD_TYPES:
        raise bad_request(errors={"type": "Board type must be one of: scrum, kanban."})  # plausible wording
    if body.get("filterId") is None:
        raise bad_request(errors={"filterId": "Filter ID must be provided."})  # plausible wording
    if ctx.site.store.get("filters", str(body["filterId"])) is None:
        raise bad_request(f"Filter with id {body['filterId']} does not exist.")  # plausible wording
    board: dict[str, Any] = {"id": ctx.site.store.next_id("board", start=0), "name": name, "type": body["type"]}
    location = body.get("location")
    if location:
        if location.get("type") != "project":
            raise bad_request("Only project locations are supported for new boards.")  # plausible wording
        project = find_project(ctx.site, location.get("projectKeyOrId", ""))
        if project is None:
            raise bad_request(f"No project could be found with key or id '{location.get('projectKeyOrId')}'.")
        board["location"] = _location(ctx.site, project)
    board.update(isPrivate=False, _filterId=str(body["filterId"]), _config=_default_config(ctx.site, body["type"]))
    ctx.site.store.put("boards", board["id"], board)
    return Reply(201, board_view(ctx.site, board))


@handles("DELETE", "/rest/agile/1.0/board/{boardId}")
def delete_board(ctx: Ctx) -> Reply:
    ctx.site.store.delete("boards", board_or_404(ctx.site, ctx.path_params["boardId"])["id"])
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Seeding: filters, dashboards, dashboardGadgets, boards, boardConfigurations
# --------------------------------------------------------------------------------------------------


def _seed_shares(site: Site, items: list[dict[str, Any]], what: str) -> list[dict[str, Any]]:
    out = []
    for item in items:
        try:
            checked = check_share(site, item)
        except JiraError as err:
            raise SeedRefError(f"{what}: {err.error_messages or err.errors}") from None
        if "id" in item:
            checked = {"id": item["id"], **checked}
            site.store.bump("sharePermission", int(item["id"]))
        out.append(checked)
    return out


def _seed_owner(site: Site, owner: dict[str, Any] | None, what: str) -> str | None:
    if not owner:
        return None
    account = owner["accountId"]
    if not _known_account(site, account):
        raise SeedRefError(f"{what} names unknown owner {account!r}")
    return account


def _export_filters(site: Site) -> list[dict[str, Any]]:
    expand = set(SEED_FILTER_EXPAND.split(","))
    return [strip_urls(_filter_details(site, f, expand)) for f in site.store.values("filters")]


@seed_type("filters", exporter=_export_filters, after=("users", "groups", "projects", "projectRoles"))
def _seed_filters(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /filter/search?expand=description,jql,owner,sharePermissions,editPermissions` values."""
    for item in data:
        what = f"filter {item.get('name')!r}"
        record = {
            "id": str(item["id"]),
            "name": item["name"],
            "jql": item.get("jql", ""),
            "_owner": _seed_owner(site, item.get("owner"), what) or DEFAULT_APP_ACCOUNT,
            "sharePermissions": _seed_shares(site, item.get("sharePermissions", []), what),
            "editPermissions": _seed_shares(site, item.get("editPermissions", []), what),
        }
        if item.get("description"):
            record["description"] = item["description"]
        site.store.put("filters", record["id"], record)
        site.store.bump("filter", int(item["id"]))


def _export_dashboards(site: Site) -> list[dict[str, Any]]:
    return [strip_urls(dashboard_view(site, d)) for d in site.store.values("dashboards")]


@seed_type("dashboards", exporter=_export_dashboards, after=("users", "groups", "projects", "projectRoles"))
def _seed_dashboards(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /dashboard/search?expand=description,owner,sharePermissions,editPermissions` values."""
    for item in data:
        what = f"dashboard {item.get('name')!r}"
        record = {k: v for k, v in strip_urls(item).items() if k != "owner"}
        record["sharePermissions"] = _seed_shares(site, item.get("sharePermissions", []), what)
        record["editPermissions"] = _seed_shares(site, item.get("editPermissions", []), what)
        record["_owner"] = _seed_owner(site, item.get("owner"), what)
        site.store.put("dashboards", str(item["id"]), record)
        site.store.bump("dashboard", int(item["id"]))


def _export_gadget(gadget: dict[str, Any]) -> dict[str, Any]:
    """A gadget as ``GET /dashboard/{id}/gadget`` shows it, plus its item properties (key -> value) when it has some."""
    out = public(gadget)
    if gadget.get("_properties"):
        out["properties"] = copy.deepcopy(gadget["_properties"])
    return out


@seed_type(
    "dashboardGadgets",
    exporter=lambda site: {
        d["id"]: [_export_gadget(g) for g in gadgets_of(site, d["id"])] for d in site.store.values("dashboards")
    },
    after=("dashboards",),
)
def _seed_gadgets(site: Site, data: dict[str, list[dict[str, Any]]]) -> None:
    """Seed: `{dashboardId: GET /dashboard/{id}/gadget "gadgets"}`, each gadget with an optional `properties`
    object (its item properties: key -> value)."""
    for dashboard_id, gadgets in data.items():
        if site.store.get("dashboards", str(dashboard_id)) is None:
            raise SeedRefError(f"gadgets name unknown dashboard {dashboard_id!r}")
        for old in gadgets_of(site, str(dashboard_id)):
            site.store.delete("gadgets", old["id"])
        for item in gadgets:
            record = {k: v for k, v in item.items() if k != "properties"}
            properties = item.get("properties") or {}
            for key, value in properties.items():
                try:
                    check_item_property(record, key, value)
                except JiraError as err:
                    raise SeedRefError(f"gadget {item['id']} property {key!r}: {err.error_messages}") from None
            record.update(_dashboardId=str(dashboard_id), _properties=copy.deepcopy(properties))
            site.store.put("gadgets", item["id"], record)
            site.store.bump("gadget", int(item["id"]))


@seed_type(
    "boards",
    exporter=lambda site: [strip_urls(board_view(site, b)) for b in site.store.values("boards")],
    after=("projects", "filters"),
)
def _seed_boards(site: Site, data: list[dict[str, Any]]) -> None:
    """Seed: `GET /rest/agile/1.0/board` values; each needs its `boardConfigurations` entry for the filter."""
    for item in data:
        location = item.get("location")
        if location and find_project(site, location.get("projectId")) is None:
            raise SeedRefError(f"board {item['name']!r} names unknown project {location.get('projectId')!r}")
        old = site.store.get("boards", str(item["id"])) or {}
        config = old.get("_config") or _default_config(site, item["type"])
        record = {**strip_urls(item), "_filterId": old.get("_filterId"), "_config": config}
        site.store.put("boards", item["id"], record)
        site.store.bump("board", int(item["id"]))


@seed_type(
    "boardConfigurations",
    exporter=lambda site: {str(b["id"]): strip_urls(board_configuration(site, b)) for b in site.store.values("boards")},
    after=("boards", "filters", "statuses"),
)
def _seed_board_configurations(site: Site, data: dict[str, dict[str, Any]]) -> None:
    """Seed: `{boardId: GET /rest/agile/1.0/board/{id}/configuration}`."""
    for board_id, config in data.items():
        board = site.store.get("boards", str(board_id))
        if board is None:
            raise SeedRefError(f"configuration names unknown board {board_id!r}")
        filter_id = str(config["filter"]["id"])
        if site.store.get("filters", filter_id) is None:
            raise SeedRefError(f"board {board_id} names unknown filter {filter_id!r}")
        board["_filterId"] = filter_id
        board["_config"] = {
            k: v for k, v in config.items() if k in ("subQuery", "columnConfig", "estimation", "ranking")
        }
