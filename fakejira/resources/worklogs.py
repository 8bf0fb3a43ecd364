"""Worklogs: list, add, read, edit, delete, the changed-since feeds, read by ids, time tracking and the seed keys.

Jira's rules (platform spec, issue-data.md): ``started`` is the caller's to set, ``author``/``created``/``updated``
the server's (the author is the caller: an impersonation token makes it that user); time is ``timeSpentSeconds`` or
``timeSpent`` (``1w 2d 3h 4m`` with the site's working hours per day and days per week); ``adjustEstimate``
(``auto`` by default, ``leave``, ``new`` + ``newEstimate``, ``manual`` + ``reduceBy``/``increaseBy``) moves the
issue's remaining estimate; time tracking must be on. ``GET /worklog/updated`` and ``/worklog/deleted`` list ids
changed after ``since`` (ms), oldest first, 1,000 a page, never the last minute, with ``until``/``nextPage``/
``lastPage``; ``POST /worklog/list`` takes 1 to 1,000 ids. Each change writes the history Jira writes (``timespent``,
``timeestimate``, ``WorklogId``) and emits ``worklog_created``/``updated``/``deleted``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .. import issue_data as data
from .. import issues as model
from ..issue_fields import NOT_ADF, is_adf
from ..registry import Ctx, JiraError, Reply, bad_request, current_ctx, handles, not_found, on_issue_event, seed_type
from ..site import Site
from ._common import API

CHANGE_PAGE = 1000  # "a limit of 1000 worklogs per page"
QUIET_MS = 60_000  # "does not return worklogs updated during the minute preceding the request"
LIST_MAX = 1000
FIELD_PAGE = 20  # the issue's ``worklog`` field shows the first 20, as Jira does
TIME_REQUIRED = "You must indicate the time spent working."  # Jira's wording
BAD_DURATION = "Invalid time duration entered."  # Jira's wording
STARTED_REQUIRED = "You must specify the date and time the work started."  # plausible wording
BAD_STARTED = "The started date '{}' is not a valid date and time."  # plausible wording
NEW_ESTIMATE = "You must supply a valid new estimate."  # plausible wording
REDUCE_BY = "You must supply a valid amount of time to reduce the estimate by."  # plausible wording
INCREASE_BY = "You must supply a valid amount of time to increase the estimate by."  # plausible wording
NO_MANUAL_ON_EDIT = "adjustEstimate 'manual' is not supported when updating a worklog."  # plausible wording
TRACKING_OFF = "Time tracking is disabled."  # plausible wording
WORKLOG_NOT_FOUND = "Cannot find worklog with id: '{}'."  # plausible wording
LIST_SIZE = "The number of worklog IDs must be between 1 and 1000."  # plausible wording
TOO_MANY = "The issue has reached the limit of {} worklogs."  # plausible wording
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*([wdhm])\s*)+$", re.IGNORECASE)
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])", re.IGNORECASE)


# --------------------------------------------------------------------------------------------------
# Durations in the site's working time
# --------------------------------------------------------------------------------------------------


def _units(site: Site) -> dict[str, int]:
    options = ((site.store.coll("settings").get("site") or {}).get("timetrackingOptions") or {})
    hours, days = float(options.get("workingHoursPerDay", 8)), float(options.get("workingDaysPerWeek", 5))
    return {"m": 60, "h": 3600, "d": int(hours * 3600), "w": int(days * hours * 3600)}


def parse_duration(site: Site, text: Any) -> int | None:
    """Seconds of a Jira duration (``2d 4h``, ``90m``, ``3`` = minutes); None when it isn't one."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        return None
    raw = str(text).strip()
    if raw.isdigit():
        return int(raw) * 60
    if not _DURATION.match(raw):
        return None
    units = _units(site)
    return int(sum(float(n) * units[u.lower()] for n, u in _PART.findall(raw)))


def format_duration(site: Site, seconds: int) -> str:
    """Jira's pretty form of a duration: ``1w 2d 3h 20m`` (``0m`` for nothing)."""
    units = _units(site)
    parts, rest = [], max(0, int(seconds))
    for unit in ("w", "d", "h", "m"):
        count, rest = divmod(rest, units[unit])
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


# --------------------------------------------------------------------------------------------------
# Time tracking on the issue
# --------------------------------------------------------------------------------------------------


def _tracking(issue: dict[str, Any]) -> dict[str, Any]:
    value = issue["fields"].get("timetracking")
    return value if isinstance(value, dict) else {}


def estimates(site: Site, issue: dict[str, Any]) -> tuple[int | None, int | None]:
    """(original, remaining) estimate seconds; the remaining one defaults to the original."""
    stored = _tracking(issue)
    original = parse_duration(site, stored.get("originalEstimate")) if stored.get("originalEstimate") else None
    remaining = parse_duration(site, stored.get("remainingEstimate")) if stored.get("remainingEstimate") else None
    return original, original if remaining is None else remaining


def time_spent(site: Site, issue_id: str) -> int:
    return sum(w["timeSpentSeconds"] for w in data.records_of(site, data.WORKLOGS, issue_id))


def render_timetracking(site: Site, issue: dict[str, Any]) -> dict[str, Any]:
    """The issue's ``timetracking`` field: estimates and the time logged by its worklogs."""
    original, remaining = estimates(site, issue)
    spent = time_spent(site, issue["id"])
    out: dict[str, Any] = {}
    if original is not None:
        out.update(originalEstimate=format_duration(site, original), originalEstimateSeconds=original)
    if remaining is not None:
        out.update(remainingEstimate=format_duration(site, remaining), remainingEstimateSeconds=remaining)
    if spent:
        out.update(timeSpent=format_duration(site, spent), timeSpentSeconds=spent)
    return out


def render_worklog_field(site: Site, issue: dict[str, Any]) -> dict[str, Any]:
    ctx = current_ctx()
    shown = data.records_of(site, data.WORKLOGS, issue["id"])
    if ctx is not None:
        reader = model.actor_of(ctx)
        shown = [w for w in shown if data.can_see(site, w, issue["fields"]["project"], reader)]
    return {"startAt": 0, "maxResults": FIELD_PAGE, "total": len(shown),
            "worklogs": [worklog_json(site, w) for w in shown[:FIELD_PAGE]]}


model.EXTRA_FIELDS["timetracking"] = render_timetracking
model.EXTRA_FIELDS["worklog"] = render_worklog_field
model.EXTRA_FIELDS["timespent"] = lambda site, issue: time_spent(site, issue["id"]) or None
model.EXTRA_FIELDS["timeestimate"] = lambda site, issue: estimates(site, issue)[1]
model.EXTRA_FIELDS["timeoriginalestimate"] = lambda site, issue: estimates(site, issue)[0]


def _set_remaining(site: Site, issue: dict[str, Any], seconds: int | None) -> None:
    if seconds is None:
        return
    stored = dict(_tracking(issue))
    stored["remainingEstimate"] = format_duration(site, max(0, seconds))
    issue["fields"]["timetracking"] = stored


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def worklog_json(site: Site, record: dict[str, Any], expand: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """A ``Worklog`` as Jira answers it (times in RFC 3339, the spec's ``date-time``)."""
    out: dict[str, Any] = {"self": f"{site.base_url}{API}/issue/{record['_issueId']}/worklog/{record['id']}"}
    for key, account in (("author", record.get("_author")), ("updateAuthor", record.get("_updateAuthor"))):
        user = model.user_json(site, account)
        if user is not None:
            out[key] = user
    if record.get("comment") is not None:
        out["comment"] = copy.deepcopy(record["comment"])
    out.update(created=model.rfc_time(record["_created"]), updated=model.rfc_time(record["_updated"]),
               started=model.rfc_time(record["_started"]),
               timeSpent=format_duration(site, record["timeSpentSeconds"]),
               timeSpentSeconds=record["timeSpentSeconds"], id=record["id"], issueId=record["_issueId"])
    if record.get("visibility"):
        out["visibility"] = dict(record["visibility"])
    if "properties" in expand:
        out["properties"] = [{"key": k, "value": copy.deepcopy(v)} for k, v in record.get("_properties", {}).items()]
    return out


# --------------------------------------------------------------------------------------------------
# Request pieces
# --------------------------------------------------------------------------------------------------


def _expand(ctx: Ctx) -> set[str]:
    return set(ctx.list_arg("expand"))


def _tracking_on(site: Site) -> bool:
    return (site.store.coll("settings").get("site") or {}).get("timetracking") is not None


def _time_of(site: Site, body: dict[str, Any], errors: dict[str, str]) -> int | None:
    if body.get("timeSpentSeconds") is not None:
        seconds = body["timeSpentSeconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            errors["timeLogged"] = BAD_DURATION
            return None
        return seconds
    if body.get("timeSpent") not in (None, ""):
        seconds = parse_duration(site, body["timeSpent"])
        if not seconds:
            errors["timeLogged"] = BAD_DURATION
        return seconds
    errors["timeLogged"] = TIME_REQUIRED
    return None


def _started_of(body: dict[str, Any], errors: dict[str, str]) -> int | None:
    raw = body.get("started")
    if raw in (None, ""):
        errors["started"] = STARTED_REQUIRED
        return None
    try:
        return model.parse_time(str(raw))
    except ValueError:
        errors["started"] = BAD_STARTED.format(raw)
        return None


def _comment_of(raw: Any, errors: dict[str, str]) -> Any:
    if raw is None:
        return None
    if not is_adf(raw):
        errors["comment"] = NOT_ADF
        return None
    return copy.deepcopy(raw)


def _adjusted(ctx: Ctx, remaining: int | None, delta: int, *, operation: str) -> int | None:
    """The remaining estimate after ``adjustEstimate`` (``delta``: seconds logged, negative when removed).

    :raises JiraError: 400 for ``new``/``manual`` without a valid amount, or ``manual`` on an edit.
    """
    mode = ctx.arg("adjustEstimate") or "auto"
    if mode == "leave":
        return remaining
    if mode == "new":
        seconds = parse_duration(ctx.site, ctx.arg("newEstimate"))
        if seconds is None:
            raise bad_request(errors={"newEstimate": NEW_ESTIMATE})
        return seconds
    if mode == "manual":
        if operation == "edit":
            raise bad_request(NO_MANUAL_ON_EDIT)
        name, text = ("reduceBy", REDUCE_BY) if operation == "add" else ("increaseBy", INCREASE_BY)
        seconds = parse_duration(ctx.site, ctx.arg(name))
        if seconds is None:
            raise bad_request(errors={name: text})
        return None if remaining is None else remaining + (-seconds if operation == "add" else seconds)
    return None if remaining is None else remaining - delta


def _history(site: Site, issue: dict[str, Any], actor: str | None, spent_before: int,
             remaining_before: int | None, worklog_id: str, *, removed: bool = False) -> None:
    """The history Jira writes for a worklog change: ``timespent``, ``timeestimate`` and ``WorklogId``."""
    spent_after = time_spent(site, issue["id"])
    remaining_after = estimates(site, issue)[1]
    items = []
    for field, before, after in (("timespent", spent_before, spent_after),
                                 ("timeestimate", remaining_before, remaining_after)):
        if before != after:
            item = {"field": field, "fieldtype": "jira", "fieldId": field}
            if before:
                item.update({"from": str(before), "fromString": str(before)})
            if after is not None:
                item.update({"to": str(after), "toString": str(after)})
            items.append(item)
    side = ("from", "fromString") if removed else ("to", "toString")
    items.append({"field": "WorklogId", "fieldtype": "jira", side[0]: worklog_id, side[1]: worklog_id})
    model.record_items(site, issue, items, actor)


def _worklog_or_404(ctx: Ctx, issue: dict[str, Any]) -> dict[str, Any]:
    wid = ctx.path_params["id"]
    record = ctx.site.store.get(data.WORKLOGS, wid)
    if record is None or record["_issueId"] != issue["id"] or \
            not data.can_see(ctx.site, record, issue["fields"]["project"], model.actor_of(ctx)):
        raise not_found(WORKLOG_NOT_FOUND.format(wid))
    return record


def _check_override(ctx: Ctx) -> None:
    if ctx.arg("overrideEditableFlag") == "true" and not (ctx.account_id is None or ctx.account_id in ctx.site.admins):
        raise JiraError(403, "Only Connect and Forge app users with the Administer Jira global permission can "
                             "override the editable flag.")  # the spec's condition, plausible wording


# --------------------------------------------------------------------------------------------------
# Handlers: one issue's worklogs
# --------------------------------------------------------------------------------------------------


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/worklog")
def list_worklogs(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    start_at, max_results = ctx.int_arg("startAt", 0), min(ctx.int_arg("maxResults", 5000), 5000)
    after, before = ctx.arg("startedAfter"), ctx.arg("startedBefore")
    reader = model.actor_of(ctx)
    shown = [w for w in data.records_of(ctx.site, data.WORKLOGS, issue["id"])
             if data.can_see(ctx.site, w, issue["fields"]["project"], reader)
             and (after is None or w["_started"] >= int(after)) and (before is None or w["_started"] < int(before))]
    expand = _expand(ctx)
    return {"startAt": start_at, "maxResults": max_results, "total": len(shown),
            "worklogs": [worklog_json(ctx.site, w, expand) for w in shown[start_at:start_at + max_results]]}


@handles("POST", f"{API}/issue/{{issueIdOrKey}}/worklog")
def add_worklog(ctx: Ctx) -> Reply:
    site = ctx.site
    issue = model.issue_or_404(site, ctx.path_params["issueIdOrKey"])
    _check_override(ctx)
    if not _tracking_on(site):
        raise bad_request(TRACKING_OFF)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    actor = model.actor_of(ctx)
    errors: dict[str, str] = {}
    seconds, started = _time_of(site, body, errors), _started_of(body, errors)
    comment = _comment_of(body.get("comment"), errors)
    if errors:
        raise bad_request(errors=errors)
    visibility = data.parse_visibility(site, issue, body.get("visibility"), actor, "worklogLevel")
    spent, remaining = time_spent(site, issue["id"]), estimates(site, issue)[1]
    new_remaining = _adjusted(ctx, remaining, seconds or 0, operation="add")
    if len(data.ids_of(site, data.WORKLOGS, issue["id"])) >= site.limits.issue_caps["worklogs"]:
        raise JiraError(413, TOO_MANY.format(site.limits.issue_caps["worklogs"]))
    data.write_allowed(site, issue["id"])
    ms = model.now_ms(site)
    record: dict[str, Any] = {"id": str(site.store.next_id("worklog")), "_issueId": issue["id"], "_author": actor,
                              "_updateAuthor": actor, "comment": comment, "_created": ms, "_updated": ms,
                              "_started": started, "timeSpentSeconds": seconds,
                              "_properties": {p["key"]: copy.deepcopy(p.get("value"))
                                              for p in body.get("properties") or [] if isinstance(p, dict)}}
    if visibility:
        record["visibility"] = visibility
    data.add(site, data.WORKLOGS, record)
    _set_remaining(site, issue, new_remaining)
    _history(site, issue, actor, spent, remaining, record["id"])
    site.issue_events.emit("worklog_created", model.public_issue(issue), actor=actor,
                           worklog=worklog_json(site, record))
    return Reply(201, worklog_json(site, record, _expand(ctx)))


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/worklog/{{id}}")
def get_worklog(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    return worklog_json(ctx.site, _worklog_or_404(ctx, issue), _expand(ctx))


@handles("PUT", f"{API}/issue/{{issueIdOrKey}}/worklog/{{id}}")
def edit_worklog(ctx: Ctx) -> dict[str, Any]:
    site = ctx.site
    issue = model.issue_or_404(site, ctx.path_params["issueIdOrKey"])
    if not _tracking_on(site):
        raise not_found(TRACKING_OFF)
    record = _worklog_or_404(ctx, issue)
    _check_override(ctx)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    actor = model.actor_of(ctx)
    errors: dict[str, str] = {}
    seconds = _time_of(site, body, errors) if ("timeSpent" in body or "timeSpentSeconds" in body) \
        else record["timeSpentSeconds"]
    started = _started_of(body, errors) if "started" in body else record["_started"]
    comment = _comment_of(body.get("comment"), errors) if "comment" in body else record.get("comment")
    if errors:
        raise bad_request(errors=errors)
    visibility = data.parse_visibility(site, issue, body.get("visibility"), actor, "worklogLevel") \
        if "visibility" in body else record.get("visibility")
    spent, remaining = time_spent(site, issue["id"]), estimates(site, issue)[1]
    new_remaining = _adjusted(ctx, remaining, (seconds or 0) - record["timeSpentSeconds"], operation="edit")
    data.write_allowed(site, issue["id"])
    record.update(timeSpentSeconds=seconds, _started=started, comment=comment, _updateAuthor=actor,
                  _updated=model.now_ms(site))
    record.pop("visibility", None)
    if visibility:
        record["visibility"] = visibility
    _set_remaining(site, issue, new_remaining)
    _history(site, issue, actor, spent, remaining, record["id"])
    site.issue_events.emit("worklog_updated", model.public_issue(issue), actor=actor,
                           worklog=worklog_json(site, record))
    return worklog_json(site, record, _expand(ctx))


@handles("DELETE", f"{API}/issue/{{issueIdOrKey}}/worklog/{{id}}")
def delete_worklog(ctx: Ctx) -> Reply:
    site = ctx.site
    issue = model.issue_or_404(site, ctx.path_params["issueIdOrKey"])
    if not _tracking_on(site):
        raise not_found(TRACKING_OFF)
    record = _worklog_or_404(ctx, issue)
    _check_override(ctx)
    spent, remaining = time_spent(site, issue["id"]), estimates(site, issue)[1]
    new_remaining = _adjusted(ctx, remaining, -record["timeSpentSeconds"], operation="delete")
    data.write_allowed(site, issue["id"])
    actor = model.actor_of(ctx)
    forget_worklog(site, record)
    _set_remaining(site, issue, new_remaining)
    _history(site, issue, actor, spent, remaining, record["id"], removed=True)
    site.issue_events.emit("worklog_deleted", model.public_issue(issue), actor=actor,
                           worklog=worklog_json(site, record))
    return Reply(204)


def forget_worklog(site: Site, record: dict[str, Any]) -> None:
    """Remove a worklog and remember when, for ``GET /worklog/deleted``."""
    data.remove(site, data.WORKLOGS, record["id"])
    site.store.put(data.WORKLOG_DELETIONS, record["id"], {"worklogId": int(record["id"]),
                                                           "updatedTime": model.now_ms(site)})


# --------------------------------------------------------------------------------------------------
# Handlers: across issues
# --------------------------------------------------------------------------------------------------


def _changes(ctx: Ctx, rows: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """A ``ChangedWorklogs`` page: rows after ``since`` and older than a minute, oldest first, 1,000 a page."""
    since = ctx.int_arg("since", 0)
    cutoff = model.now_ms(ctx.site) - QUIET_MS
    due = sorted((r for r in rows if since < r["updatedTime"] < cutoff), key=lambda r: (r["updatedTime"],
                                                                                         r["worklogId"]))
    window = due[:CHANGE_PAGE]
    until = window[-1]["updatedTime"] if window else since
    base = f"{ctx.site.base_url}{API}{path}"
    out: dict[str, Any] = {"values": window, "since": since, "until": until, "self": f"{base}?since={since}",
                           "lastPage": len(due) <= CHANGE_PAGE}
    if not out["lastPage"]:
        out["nextPage"] = f"{base}?since={until}"
    return out


@handles("GET", f"{API}/worklog/updated")
def updated_worklogs(ctx: Ctx) -> dict[str, Any]:
    reader = model.actor_of(ctx)
    rows = []
    for record in ctx.site.store.values(data.WORKLOGS):
        issue = ctx.site.store.get(model.COLLECTION, record["_issueId"])
        if issue is not None and data.can_see(ctx.site, record, issue["fields"]["project"], reader):
            row: dict[str, Any] = {"worklogId": int(record["id"]), "updatedTime": record["_updated"]}
            if "properties" in _expand(ctx):
                row["properties"] = [{"key": k, "value": copy.deepcopy(v)}
                                     for k, v in record.get("_properties", {}).items()]
            else:
                row["properties"] = []
            rows.append(row)
    return _changes(ctx, rows, "/worklog/updated")


@handles("GET", f"{API}/worklog/deleted")
def deleted_worklogs(ctx: Ctx) -> dict[str, Any]:
    rows = [{**r, "properties": []} for r in ctx.site.store.values(data.WORKLOG_DELETIONS)]
    return _changes(ctx, rows, "/worklog/deleted")


@handles("POST", f"{API}/worklog/list")
def worklogs_by_id(ctx: Ctx) -> list[dict[str, Any]]:
    ids = ctx.body.get("ids") if isinstance(ctx.body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= LIST_MAX:
        raise bad_request(LIST_SIZE)
    reader = model.actor_of(ctx)
    out = []
    for wid in sorted({int(i) for i in ids}):
        record = ctx.site.store.get(data.WORKLOGS, str(wid))
        issue = ctx.site.store.get(model.COLLECTION, record["_issueId"]) if record else None
        if record is not None and issue is not None and \
                data.can_see(ctx.site, record, issue["fields"]["project"], reader):
            out.append(worklog_json(ctx.site, record, _expand(ctx)))
    return out


@on_issue_event
def _drop_worklogs_of_deleted_issue(site: Site, event: Any) -> None:
    if event.kind != "issue_deleted":
        return
    for record in data.records_of(site, data.WORKLOGS, event.issue["id"]):
        forget_worklog(site, record)
        site.issue_events.emit("worklog_deleted", event.issue, actor=event.actor,
                               worklog=worklog_json(site, record), flow="Secondary")


# --------------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------------


def _export(site: Site) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for record in site.store.values(data.WORKLOGS):
        item = {k: v for k, v in worklog_json(site, record, {"properties"}).items() if k not in ("self", "issueId")}
        if not item["properties"]:
            del item["properties"]
        out.setdefault(record["_issueId"], []).append(item)
    return out


@seed_type("issueWorklogs", omit_empty=True, exporter=_export, after=("issues", "users", "groups", "projectRoles"))
def seed_worklogs(site: Site, value: Any) -> None:
    """Seed value: ``{issueId: [GET /issue/{id}/worklog/{worklogId} answers]}`` (``self``/``issueId`` optional)."""
    if not isinstance(value, dict):
        raise ValueError("seed issueWorklogs: an object keyed by issue id is expected")
    for issue_id, items in value.items():
        if model.find_issue(site, issue_id) is None:
            raise ValueError(f"seed issueWorklogs: unknown issue {issue_id}")
        for item in items:
            if not isinstance(item, dict) or not {"id", "started", "timeSpentSeconds", "created"} <= set(item):
                raise ValueError("seed issueWorklogs: each worklog needs id, started, timeSpentSeconds and created: "
                                 f"{str(item)[:200]}")
            record: dict[str, Any] = {
                "id": str(item["id"]), "_issueId": str(issue_id), "_author": data.account_of(item.get("author")),
                "_updateAuthor": data.account_of(item.get("updateAuthor")),
                "comment": copy.deepcopy(item.get("comment")),
                "_created": model.parse_time(item["created"]),
                "_updated": model.parse_time(item.get("updated") or item["created"]),
                "_started": model.parse_time(item["started"]), "timeSpentSeconds": int(item["timeSpentSeconds"]),
                "_properties": {p["key"]: copy.deepcopy(p.get("value")) for p in item.get("properties") or []}}
            if item.get("visibility"):
                record["visibility"] = dict(item["visibility"])
            site.store.put(data.WORKLOGS, record["id"], record)
            site.store.bump("worklog", int(record["id"]))
    data.forget_index(site, data.WORKLOGS)


def _export_deleted(site: Site) -> list[dict[str, Any]]:
    return [dict(r) for r in site.store.values(data.WORKLOG_DELETIONS)]


@seed_type("worklogDeletions", omit_empty=True, exporter=_export_deleted, after=("issueWorklogs",))
def seed_deleted(site: Site, value: Any) -> None:
    """Seed value: the ``values`` of ``GET /worklog/deleted?since=0`` without ``properties`` (what the feed lists)."""
    if not isinstance(value, list):
        raise ValueError("seed worklogDeletions: a list is expected")
    for item in value:
        site.store.put(data.WORKLOG_DELETIONS, str(item["worklogId"]),
                       {"worklogId": int(item["worklogId"]), "updatedTime": int(item["updatedTime"])})
        site.store.bump("worklog", int(item["worklogId"]))
