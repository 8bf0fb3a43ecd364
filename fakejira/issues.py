"""The issue model of a site: stored records, keys, server times, field rendering and the changelog writer.

An issue is stored in the ``issues`` collection by id, with its field values in a compact *stored form* (ids and
account ids, not rendered objects) under ``fields``; reads render them the way Jira does. Keys come from a counter per
project (store kind ``issuekey:<projectId>``) that never goes back, so a deleted issue leaves a gap. Every change goes
through ``record_change``: it writes the history entry, bumps ``updated`` and announces the change on
``site.issue_events`` (``events.py``), where webhooks and later parts (comments, worklogs...) hang off.

Later parts extend rendering through ``EXTRA_FIELDS`` (field id -> renderer) without touching this module.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from .registry import Ctx, JiraError, not_found
from .site import Site

API = "/rest/api/3"
COLLECTION = "issues"
NOT_FOUND = "Issue does not exist or you do not have permission to see it."  # Jira's wording

# Fields the server owns: never settable, in any request (Jira: "cannot be set ... not on the appropriate screen").
SERVER_FIELDS = frozenset({"created", "updated", "creator", "resolutiondate", "statuscategorychangedate", "status",
                           "lastViewed", "votes", "watches", "subtasks", "workratio", "aggregateprogress",
                           "progress", "aggregatetimespent", "timespent", "aggregatetimeestimate",
                           "aggregatetimeoriginalestimate", "issuelinks", "comment", "worklog", "attachment"})
# System fields whose stored form is a list of ids / names
LIST_FIELDS = {"labels": "string", "components": "component", "fixVersions": "version", "versions": "version"}
# Changelog labels Jira uses for system fields (field -> (name in "field", fieldtype))
CHANGE_NAMES = {"components": "Component", "fixVersions": "Fix Version", "versions": "Version",
                "issuetype": "issuetype", "duedate": "duedate", "parent": "IssueParentAssociation"}

# Renderers later parts register for fields they own (comment, worklog, attachment, issuelinks, watches, votes):
# fn(site, issue record) -> the field's value in an IssueBean.
EXTRA_FIELDS: dict[str, Callable[[Site, dict[str, Any]], Any]] = {}


class IssueNotFound(JiraError):
    def __init__(self) -> None:
        super().__init__(404, NOT_FOUND)


# --------------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------------


def now_ms(site: Site) -> int:
    """The site's clock in epoch milliseconds (``site.limits.clock``: tests may replace it)."""
    return int(site.limits.clock() * 1000)


def jira_time(ms: int) -> str:
    """Jira's timestamp form in issue fields: ``2024-03-01T09:00:00.000+0000``."""
    stamp = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def rfc_time(ms: int) -> str:
    """RFC 3339 with a colon in the offset: what the spec's ``date-time`` format accepts (changelog ``created``)."""
    return jira_time(ms)[:-2] + ":00"


def parse_time(text: str) -> int:
    """Epoch ms of a Jira or RFC 3339 timestamp (``...+0000``, ``...+00:00``, ``...Z``)."""
    raw = text.strip().replace("Z", "+00:00")
    if len(raw) > 5 and raw[-5] in "+-" and raw[-3] != ":":
        raw = raw[:-2] + ":" + raw[-2:]
    return int(dt.datetime.fromisoformat(raw).timestamp() * 1000)


# --------------------------------------------------------------------------------------------------
# Look-ups
# --------------------------------------------------------------------------------------------------


def find_issue(site: Site, id_or_key: Any) -> dict[str, Any] | None:
    """The stored issue with id or key ``id_or_key`` (keys ignoring case, and old keys of moved projects)."""
    raw = str(id_or_key).strip()
    found = site.store.get(COLLECTION, raw)
    if found is not None:
        return found
    index = key_index(site)
    issue_id = index.get(raw.upper())
    return site.store.get(COLLECTION, issue_id) if issue_id else None


def key_index(site: Site) -> dict[str, str]:
    """Upper-case key -> issue id, rebuilt only when the issue collection changed size or a key changed."""
    coll = site.store.coll(COLLECTION)
    cached = site.extra.get("_issueKeyIndex")
    if cached is not None and cached[0] == len(coll) and cached[2] == site.extra.get("_issueKeyEpoch", 0):
        return cached[1]
    index = {str(r["key"]).upper(): r["id"] for r in coll.values()}
    site.extra["_issueKeyIndex"] = (len(coll), index, site.extra.get("_issueKeyEpoch", 0))
    return index


def touch_keys(site: Site) -> None:
    """Invalidate the key index (a create, delete or key change)."""
    site.extra["_issueKeyEpoch"] = site.extra.get("_issueKeyEpoch", 0) + 1


def issue_or_404(site: Site, id_or_key: Any) -> dict[str, Any]:
    found = find_issue(site, id_or_key)
    if found is None:
        raise IssueNotFound()
    return found


def project_of(site: Site, issue: dict[str, Any]) -> dict[str, Any]:
    project = site.store.get("projects", issue["fields"]["project"])
    if project is None:  # the project was deleted under it
        raise not_found(NOT_FOUND)
    return project


def subtasks_of(site: Site, issue: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in site.store.values(COLLECTION) if i["fields"].get("parent") == issue["id"]]


def actor_of(ctx: Ctx) -> str | None:
    """Who is acting: the user of an OAuth/impersonation token, else the calling app's own user.

    Outside the pipeline (a handler called directly, no app named) the one enabled installation's app user, else
    the site's first administrator.
    """
    if ctx.account_id:
        return ctx.account_id
    calling = ctx.site.installations.get(ctx.app_key) if ctx.app_key else None
    if calling is not None and calling.app_account_id:
        return calling.app_account_id
    enabled = [i for i in ctx.site.installations.values() if i.enabled]
    if len(enabled) == 1 and enabled[0].app_account_id:
        return enabled[0].app_account_id
    return next(iter(sorted(ctx.site.admins)), None)


# --------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------


def key_kind(project_id: str) -> str:
    return f"issuekey:{project_id}"


def next_key(site: Site, project: dict[str, Any]) -> tuple[str, int]:
    """The next key of ``project``: its counter never goes back, so deleted issues leave gaps."""
    number = site.store.next_id(key_kind(project["id"]), start=0)
    return f"{project['key']}-{number}", number


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def issue_url(site: Site, issue_id: str) -> str:
    return f"{site.base_url}{API}/issue/{issue_id}"


def user_json(site: Site, account_id: str | None) -> dict[str, Any] | None:
    if not account_id:
        return None
    user = site.store.get("users", account_id)
    if user is None:  # a person the site doesn't know (deleted, or from another site)
        return {"accountId": account_id, "active": False, "displayName": "Former user"}
    keys = ("self", "accountId", "avatarUrls", "displayName", "active", "timeZone", "accountType")
    return {k: copy.deepcopy(user[k]) for k in keys if k in user}


def _ref(site: Site, coll: str, rid: Any, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if rid is None:
        return None
    record = site.store.get(coll, str(rid))
    if record is None:
        return {"id": str(rid)}
    return {k: copy.deepcopy(record[k]) for k in keys if k in record}


def status_json(site: Site, sid: str) -> dict[str, Any]:
    from .resources.basics import _status_details

    record = site.store.get("statuses", sid)
    if record is None:
        return {"id": sid, "name": sid}
    out = _status_details(site, record)
    out.pop("scope", None)
    return out


def option_json(site: Site, option_id: Any) -> dict[str, Any]:
    option = site.store.get("fieldOptions", str(option_id))
    out: dict[str, Any] = {"self": f"{site.base_url}{API}/customFieldOption/{option_id}", "id": str(option_id)}
    if option is not None:
        out["value"] = option["value"]
        out["disabled"] = bool(option.get("disabled", False))
    return out


def parent_json(site: Site, parent_id: str) -> dict[str, Any]:
    parent = site.store.get(COLLECTION, parent_id)
    if parent is None:
        return {"id": parent_id}
    pf = parent["fields"]
    return {"id": parent["id"], "key": parent["key"], "self": issue_url(site, parent["id"]),
            "fields": {"summary": pf.get("summary"), "status": status_json(site, pf["status"]),
                       "priority": _ref(site, "priorities", pf.get("priority"), ("self", "iconUrl", "name", "id")),
                       "issuetype": _ref(site, "issueTypes", pf["issuetype"], ISSUE_TYPE_KEYS)}}


ISSUE_TYPE_KEYS = ("self", "id", "description", "iconUrl", "name", "subtask", "avatarId", "hierarchyLevel")


def render_system(site: Site, issue: dict[str, Any], fid: str) -> Any:
    """The IssueBean value of one system field from the stored form."""
    f = issue["fields"]
    value = f.get(fid)
    if fid == "project":
        from .resources.projects import project_details

        project = site.store.get("projects", value)
        return project_details(site, project) if project else {"id": value}
    if fid == "issuetype":
        return _ref(site, "issueTypes", value, ISSUE_TYPE_KEYS)
    if fid == "status":
        return status_json(site, value)
    if fid == "priority":
        return _ref(site, "priorities", value, ("self", "iconUrl", "name", "id"))
    if fid == "resolution":
        return _ref(site, "resolutions", value, ("self", "id", "description", "name"))
    if fid in ("assignee", "reporter", "creator"):
        return user_json(site, value)
    if fid == "components":
        return [_ref(site, "components", c, ("self", "id", "name", "description")) for c in value or []]
    if fid in ("fixVersions", "versions"):
        return [_ref(site, "versions", v, ("self", "id", "name", "description", "archived", "released",
                                            "releaseDate")) for v in value or []]
    if fid == "labels":
        return list(value or [])
    if fid == "parent":
        return parent_json(site, value) if value else None
    if fid == "subtasks":
        return [parent_json(site, s["id"]) for s in subtasks_of(site, issue)]
    if fid == "security":
        return _ref(site, "issueSecurityLevels", value, ("self", "id", "description", "name"))
    if fid in ("watches", "votes", "issuelinks", "comment", "worklog", "attachment"):
        return _empty_collection(site, issue, fid)
    return copy.deepcopy(value)


def _empty_collection(site: Site, issue: dict[str, Any], fid: str) -> Any:
    """What Jira shows for issue data this part doesn't hold yet (later parts register real renderers)."""
    url = issue_url(site, issue["id"])
    return {"watches": {"self": f"{url}/watchers", "watchCount": 0, "isWatching": False},
            "votes": {"self": f"{url}/votes", "votes": 0, "hasVoted": False},
            "issuelinks": [], "attachment": [],
            "comment": {"comments": [], "self": f"{url}/comment", "maxResults": 0, "total": 0, "startAt": 0},
            "worklog": {"startAt": 0, "maxResults": 20, "total": 0, "worklogs": []}}[fid]


def render_custom(site: Site, field: dict[str, Any], value: Any) -> Any:
    """The IssueBean value of a custom field from its stored form."""
    schema = field.get("schema") or {}
    kind = schema.get("type")
    items = schema.get("items")
    if value is None:
        return None
    if kind == "option":
        return option_json(site, value)
    if kind == "option-with-child":
        out = option_json(site, value["id"])
        if value.get("child"):
            out["child"] = option_json(site, value["child"])
        return out
    if kind == "user":
        return user_json(site, value)
    if kind == "group":
        return _group_json(site, value)
    if kind == "version":
        return _ref(site, "versions", value, ("self", "id", "name", "archived", "released"))
    if kind == "project":
        return _ref(site, "projects", value, ("self", "id", "key", "name"))
    if kind == "array":
        if items == "option":
            return [option_json(site, v) for v in value]
        if items == "user":
            return [user_json(site, v) for v in value]
        if items == "group":
            return [_group_json(site, v) for v in value]
        if items == "version":
            return [_ref(site, "versions", v, ("self", "id", "name", "archived", "released")) for v in value]
    return copy.deepcopy(value)


def _group_json(site: Site, name: str) -> dict[str, Any]:
    group = next((g for g in site.store.values("groups") if g.get("name") == name), None)
    out = {"name": name, "self": f"{site.base_url}{API}/group?groupname={name}"}
    if group is not None:
        out["groupId"] = group.get("groupId")
    return out


SYSTEM_ORDER = ("statuscategorychangedate", "issuetype", "parent", "project", "fixVersions", "resolution",
                "resolutiondate", "watches", "created", "priority", "labels", "versions", "issuelinks", "assignee",
                "updated", "status", "components", "description", "security", "summary", "creator", "subtasks",
                "reporter", "environment", "duedate", "timetracking", "votes", "comment", "worklog", "attachment")
NAVIGABLE_EXCLUDED = frozenset({"description", "comment", "worklog", "attachment", "environment"})


def all_field_ids(site: Site, issue: dict[str, Any]) -> list[str]:
    """The field ids an issue shows under ``*all``: the system fields, then custom fields holding a value."""
    custom = [k for k in issue["fields"] if k.startswith("customfield_")]
    return [*SYSTEM_ORDER, *custom]


def select_fields(site: Site, issue: dict[str, Any], wanted: list[str] | None, default: str) -> list[str]:
    """The field ids to render for a ``fields`` parameter (``*all``, ``*navigable``, ids, ``-id`` exclusions)."""
    tokens = [t.strip() for t in (wanted or []) if t.strip()] or [default]
    include: list[str] = []
    exclude = {t[1:] for t in tokens if t.startswith("-")}
    positives = [t for t in tokens if not t.startswith("-")] or [default if default != "id" else "*navigable"]
    for token in positives:
        if token == "*all":
            include += all_field_ids(site, issue)
        elif token == "*navigable":
            include += [f for f in all_field_ids(site, issue) if f not in NAVIGABLE_EXCLUDED]
        elif token in ("id", "key", "*none"):
            continue
        else:
            include.append(token)
    return [f for f in dict.fromkeys(include) if f not in exclude]


def render_field(site: Site, issue: dict[str, Any], fid: str) -> Any:
    if fid in EXTRA_FIELDS:
        return EXTRA_FIELDS[fid](site, issue)
    if fid.startswith("customfield_"):
        field = site.store.get("fields", fid)
        return render_custom(site, field, issue["fields"].get(fid)) if field else None
    return render_system(site, issue, fid)


def issue_json(site: Site, issue: dict[str, Any], *, fields: list[str] | None = None, default: str = "*all",
               expand: set[str] | None = None, properties: list[str] | None = None,
               include_key: bool = True) -> dict[str, Any]:
    """The IssueBean of a stored issue, shaped by ``fields``, ``expand`` and ``properties``."""
    expand = expand or set()
    out: dict[str, Any] = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,"
                                     "versionedRepresentations", "id": issue["id"],
                           "self": issue_url(site, issue["id"])}
    if include_key:
        out["key"] = issue["key"]
    chosen = select_fields(site, issue, fields, default)
    known = site.store.coll("fields")
    rendered = {fid: render_field(site, issue, fid) for fid in chosen
                if fid in known or fid in EXTRA_FIELDS or fid in SYSTEM_ORDER}
    if rendered or default != "id":
        out["fields"] = rendered
    if "renderedFields" in expand:
        out["renderedFields"] = {fid: _rendered(val) for fid, val in rendered.items()}
    if "names" in expand:
        out["names"] = {fid: known[fid]["name"] for fid in rendered if fid in known}
    if "schema" in expand:
        out["schema"] = {fid: copy.deepcopy(known[fid]["schema"]) for fid in rendered if fid in known}
    if "changelog" in expand:
        histories = [copy.deepcopy(h) for h in reversed(issue.get("_changelog", []))]
        out["changelog"] = {"startAt": 0, "maxResults": len(histories), "total": len(histories),
                            "histories": histories}
    if "transitions" in expand:
        from .resources.issues import available_transitions

        out["transitions"] = available_transitions(site, issue, None)
    if properties:
        stored = issue.get("_properties", {})
        keys = list(stored) if "*all" in properties else properties
        out["properties"] = {k: copy.deepcopy(stored[k]) for k in keys if k in stored}
    return out


def _rendered(value: Any) -> Any:
    """renderedFields: ADF as simple HTML paragraphs, dates and other values as text."""
    if isinstance(value, dict) and value.get("type") == "doc":
        return "".join(f"<p>{_html(adf_text(block))}</p>" for block in value.get("content") or [])
    if value is None or isinstance(value, (str, int, float)):
        return value
    return None


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def adf_text(node: Any) -> str:
    """The plain text of an ADF node."""
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        return "".join(adf_text(child) for child in node.get("content") or [])
    return ""


# --------------------------------------------------------------------------------------------------
# Change recording: the changelog writer and the event
# --------------------------------------------------------------------------------------------------


def display(site: Site, fid: str, value: Any) -> tuple[str | None, str | None]:
    """The changelog ``from``/``fromString`` (or ``to``/``toString``) of one stored value."""
    if value in (None, [], ""):
        return None, None
    if fid in ("assignee", "reporter"):
        user = site.store.get("users", value)
        return value, (user or {}).get("displayName", value)
    names = {"status": "statuses", "priority": "priorities", "resolution": "resolutions", "issuetype": "issueTypes",
             "security": "issueSecurityLevels"}
    if fid in names:
        record = site.store.get(names[fid], str(value)) or {}
        return str(value), record.get("name", str(value))
    if fid == "parent":
        parent = site.store.get(COLLECTION, value) or {}
        return str(value), parent.get("key", str(value))
    if fid == "labels":
        return None, " ".join(value)
    if fid in ("description", "environment"):
        return None, adf_text(value)
    if fid.startswith("customfield_"):
        return _custom_display(site, fid, value)
    if isinstance(value, list):
        return ", ".join(map(str, value)), ", ".join(map(str, value))
    return None, str(value)


def _custom_display(site: Site, fid: str, value: Any) -> tuple[str | None, str | None]:
    field = site.store.get("fields", fid) or {}
    schema = field.get("schema") or {}
    if schema.get("type") == "option" or schema.get("items") == "option":
        ids = value if isinstance(value, list) else [value]
        labels = [(site.store.get("fieldOptions", str(i)) or {}).get("value", str(i)) for i in ids]
        return ",".join(map(str, ids)), ",".join(labels)
    if schema.get("type") == "option-with-child":
        return str(value.get("id")), str(value)
    if isinstance(value, list):
        return None, ",".join(map(str, value))
    return None, str(value)


def change_item(site: Site, fid: str, before: Any, after: Any) -> dict[str, Any]:
    """One ChangeDetails entry."""
    custom = fid.startswith("customfield_")
    name = (site.store.get("fields", fid) or {}).get("name", fid) if custom else CHANGE_NAMES.get(fid, fid)
    frm, frm_s = display(site, fid, before)
    to, to_s = display(site, fid, after)
    item = {"field": name, "fieldtype": "custom" if custom else "jira", "fieldId": fid, "from": frm,
            "fromString": frm_s, "to": to, "toString": to_s}
    # Jira writes null for an empty side; the spec's ChangeDetails isn't nullable, so an empty side is left out
    return {k: v for k, v in item.items() if v is not None}


def diff_items(site: Site, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Change items for every field whose stored value differs (list fields: one item per added/removed id)."""
    items: list[dict[str, Any]] = []
    for fid in dict.fromkeys([*before, *after]):
        old, new = before.get(fid), after.get(fid)
        if old == new or fid in ("updated", "statuscategorychangedate", "resolutiondate"):
            continue
        if fid in ("components", "fixVersions", "versions"):
            items += [change_item(site, fid, None, [v]) for v in new or [] if v not in (old or [])]
            items += [change_item(site, fid, [v], None) for v in old or [] if v not in (new or [])]
            continue
        items.append(change_item(site, fid, old, new))
    return items


def record_change(site: Site, issue: dict[str, Any], before: dict[str, Any], actor: str | None, *,
                  history_metadata: dict[str, Any] | None = None, event: str = "issue_updated",
                  **details: Any) -> dict[str, Any] | None:
    """Write the history entry for ``before`` -> the issue's current fields, bump ``updated`` and emit the event.

    Returns the history entry (None when nothing changed: Jira writes no empty history).
    """
    return record_items(site, issue, diff_items(site, before, issue["fields"]), actor,
                        history_metadata=history_metadata, event=event, **details)


def record_items(site: Site, issue: dict[str, Any], items: list[dict[str, Any]], actor: str | None, *,
                 history_metadata: dict[str, Any] | None = None, event: str = "issue_updated",
                 **details: Any) -> dict[str, Any] | None:
    """Write one history entry of ``items`` (for changes that are not field diffs: links, worklogs, attachments,
    sprints, rank), bump ``updated`` and emit ``event``; None when there are no items."""
    if not items:
        return None
    ms = now_ms(site)
    # Jira writes ``+0000`` here (spec.FORMAT_CHECKER accepts that shape as the date-time erratum)
    history: dict[str, Any] = {"id": str(site.store.next_id("changelog")), "created": jira_time(ms), "items": items}
    author = user_json(site, actor)
    if author is not None:
        history["author"] = author
    if history_metadata:
        history["historyMetadata"] = copy.deepcopy(history_metadata)
    issue.setdefault("_changelog", []).append(history)
    touch(site, issue, ms)
    site.issue_events.emit(event, public_issue(issue), actor=actor, changelog=history, **details)
    return history


def touch(site: Site, issue: dict[str, Any], ms: int | None = None) -> None:
    """Bump ``updated`` (Jira bumps it on every change to the issue, its comments and worklogs too)."""
    ms = now_ms(site) if ms is None else ms
    issue["fields"]["updated"] = jira_time(ms)
    issue["_updatedMs"] = ms


def public_issue(issue: dict[str, Any]) -> dict[str, Any]:
    """A copy of the stored record for subscribers: id, key and the stored field values."""
    return {"id": issue["id"], "key": issue["key"], "fields": copy.deepcopy(issue["fields"])}
