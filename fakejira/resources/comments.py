"""Comments: list, add, read, edit, delete, read by ids, the issue's ``comment`` field, and the seed key.

Jira's rules (platform spec): ``author``/``created``/``updated`` are the server's (the spec marks them readOnly: the
author is the caller, so an impersonation token makes it that user); the body is ADF; ``visibility`` restricts a
comment to a group or project role the writer belongs to, and readers outside it don't see it (not in lists, 404
alone); ``POST /comment/list`` takes 1 to 1,000 ids. Jira writes no changelog for comments (issue-data.md: comments
are re-read, there is no "changed since" API) but bumps the issue's ``updated``; each change emits
``comment_created``/``comment_updated``/``comment_deleted`` through ``site.issue_events`` (webhooks).
"""

from __future__ import annotations

import copy
from typing import Any

from .. import issue_data as data
from .. import issues as model
from ..issue_fields import NOT_ADF, is_adf
from ..registry import Ctx, JiraError, Reply, bad_request, current_ctx, handles, not_found, on_issue_event, seed_type
from ..site import Site
from ._common import API

BODY_EMPTY = "Comment body can not be empty!"  # Jira's wording
BODY_MAX = 32767
BODY_TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."  # Jira's wording
COMMENT_NOT_FOUND = "Can not find a comment for the id: {}."  # plausible wording
LIST_MAX = 1000
LIST_SIZE = "The number of comment IDs must be between 1 and 1000."  # plausible wording
TOO_MANY = "The issue has reached the limit of {} comments."  # plausible wording
OVERRIDE_FORBIDDEN = ("Only Connect and Forge app users with the Administer Jira global permission can override "
                      "the editable flag.")  # the spec's condition, plausible wording
PAGE_CAP = 5000


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def comment_url(site: Site, record: dict[str, Any]) -> str:
    return f"{site.base_url}{API}/issue/{record['_issueId']}/comment/{record['id']}"


def comment_json(site: Site, record: dict[str, Any], expand: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """A ``Comment`` as Jira answers it (times in RFC 3339, the spec's ``date-time``)."""
    out: dict[str, Any] = {"self": comment_url(site, record), "id": record["id"]}
    author = model.user_json(site, record.get("_author"))
    if author is not None:
        out["author"] = author
    out["body"] = copy.deepcopy(record["body"])
    editor = model.user_json(site, record.get("_updateAuthor"))
    if editor is not None:
        out["updateAuthor"] = editor
    out["created"] = model.rfc_time(record["_created"])
    out["updated"] = model.rfc_time(record["_updated"])
    if record.get("visibility"):
        out["visibility"] = dict(record["visibility"])
    out["jsdPublic"] = True
    if "renderedBody" in expand:
        out["renderedBody"] = model._rendered(record["body"])
    if "properties" in expand:
        out["properties"] = [{"key": k, "value": copy.deepcopy(v)} for k, v in record.get("_properties", {}).items()]
    return out


def _reader() -> str | None:
    ctx = current_ctx()
    return model.actor_of(ctx) if ctx is not None else None


def visible_comments(site: Site, issue: dict[str, Any], reader: str | None) -> list[dict[str, Any]]:
    project_id = issue["fields"]["project"]
    return [c for c in data.records_of(site, data.COMMENTS, issue["id"])
            if data.can_see(site, c, project_id, reader)]


def render_comment_field(site: Site, issue: dict[str, Any]) -> dict[str, Any]:
    """The issue's ``comment`` field: the comments the caller may see (all of them outside a request)."""
    ctx = current_ctx()
    shown = visible_comments(site, issue, _reader()) if ctx is not None else \
        data.records_of(site, data.COMMENTS, issue["id"])
    comments = [comment_json(site, c) for c in shown]
    return {"comments": comments, "self": f"{model.issue_url(site, issue['id'])}/comment",
            "maxResults": len(comments), "total": len(comments), "startAt": 0}


model.EXTRA_FIELDS["comment"] = render_comment_field


# --------------------------------------------------------------------------------------------------
# Request pieces
# --------------------------------------------------------------------------------------------------


def _expand(ctx: Ctx) -> set[str]:
    return set(ctx.list_arg("expand"))


def check_body(raw: Any) -> Any:
    """A comment body: required, ADF, at most 32,767 characters of text."""
    if raw is None or raw == "" or (isinstance(raw, dict) and not raw.get("content")):
        raise bad_request(errors={"comment": BODY_EMPTY})
    if not is_adf(raw):
        raise bad_request(errors={"comment": NOT_ADF})
    if len(model.adf_text(raw)) > BODY_MAX:
        raise bad_request(errors={"comment": BODY_TOO_LONG})
    return copy.deepcopy(raw)


def _properties(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(isinstance(p, dict) and isinstance(p.get("key"), str) for p in raw):
        raise bad_request("The 'properties' member must be a list of {key, value} objects.")  # plausible wording
    return {p["key"]: copy.deepcopy(p.get("value")) for p in raw}


def _comment_or_404(ctx: Ctx, issue: dict[str, Any]) -> dict[str, Any]:
    cid = ctx.path_params["id"]
    record = ctx.site.store.get(data.COMMENTS, cid)
    if record is None or record["_issueId"] != issue["id"] or \
            not data.can_see(ctx.site, record, issue["fields"]["project"], model.actor_of(ctx)):
        raise not_found(COMMENT_NOT_FOUND.format(cid))
    return record


def _check_override(ctx: Ctx) -> None:
    if ctx.arg("overrideEditableFlag") == "true" and not (ctx.account_id is None or ctx.account_id in ctx.site.admins):
        raise JiraError(403, OVERRIDE_FORBIDDEN)


def new_comment(site: Site, issue: dict[str, Any], body: dict[str, Any], actor: str | None) -> dict[str, Any]:
    """Check a comment request completely and return the record to store (nothing is stored here)."""
    text = check_body(body.get("body"))
    visibility = data.parse_visibility(site, issue, body.get("visibility"), actor, "commentLevel")
    properties = _properties(body.get("properties"))
    if len(data.ids_of(site, data.COMMENTS, issue["id"])) >= site.limits.issue_caps["comments"]:
        raise JiraError(413, TOO_MANY.format(site.limits.issue_caps["comments"]))
    ms = model.now_ms(site)
    record: dict[str, Any] = {"id": "", "_issueId": issue["id"], "body": text, "_author": actor,
                              "_updateAuthor": actor, "_created": ms, "_updated": ms, "_properties": properties}
    if visibility:
        record["visibility"] = visibility
    return record


def store_comment(site: Site, issue: dict[str, Any], record: dict[str, Any], actor: str | None) -> dict[str, Any]:
    """Give a checked comment its id, store it, bump the issue's ``updated`` and emit ``comment_created``."""
    record["id"] = str(site.store.next_id("comment"))
    data.add(site, data.COMMENTS, record)
    model.touch(site, issue, record["_created"])
    site.issue_events.emit("comment_created", model.public_issue(issue), actor=actor,
                           comment=comment_json(site, record))
    return record


# --------------------------------------------------------------------------------------------------
# Handlers
# --------------------------------------------------------------------------------------------------


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/comment")
def list_comments(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    start_at, max_results = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 100)
    if start_at < 0 or max_results < 0:
        raise bad_request("The 'startAt' and 'maxResults' parameters must not be negative.")  # plausible wording
    shown = visible_comments(ctx.site, issue, model.actor_of(ctx))
    if ctx.arg("orderBy") == "-created":
        shown = list(reversed(shown))
    max_results = min(max_results, PAGE_CAP)
    expand = _expand(ctx)
    window = [comment_json(ctx.site, c, expand) for c in shown[start_at:start_at + max_results]]
    return {"comments": window, "maxResults": max_results, "total": len(shown), "startAt": start_at}


@handles("POST", f"{API}/issue/{{issueIdOrKey}}/comment")
def add_comment(ctx: Ctx) -> Reply:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    if not isinstance(ctx.body, dict):
        raise bad_request(errors={"comment": BODY_EMPTY})
    actor = model.actor_of(ctx)
    record = new_comment(ctx.site, issue, ctx.body, actor)
    data.write_allowed(ctx.site, issue["id"])
    store_comment(ctx.site, issue, record, actor)
    return Reply(201, comment_json(ctx.site, record, _expand(ctx)))


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/comment/{{id}}")
def get_comment(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    return comment_json(ctx.site, _comment_or_404(ctx, issue), _expand(ctx))


@handles("PUT", f"{API}/issue/{{issueIdOrKey}}/comment/{{id}}")
def edit_comment(ctx: Ctx) -> dict[str, Any]:
    site = ctx.site
    issue = model.issue_or_404(site, ctx.path_params["issueIdOrKey"])
    record = _comment_or_404(ctx, issue)
    _check_override(ctx)
    if not isinstance(ctx.body, dict):
        raise bad_request(errors={"comment": BODY_EMPTY})
    actor = model.actor_of(ctx)
    text = check_body(ctx.body.get("body"))
    visibility = data.parse_visibility(site, issue, ctx.body.get("visibility"), actor, "commentLevel") \
        if "visibility" in ctx.body else record.get("visibility")
    properties = _properties(ctx.body.get("properties"))
    data.write_allowed(site, issue["id"])
    record.update(body=text, _updateAuthor=actor, _updated=model.now_ms(site))
    record["_properties"].update(properties)
    record.pop("visibility", None)
    if visibility:
        record["visibility"] = visibility
    model.touch(site, issue, record["_updated"])
    site.issue_events.emit("comment_updated", model.public_issue(issue), actor=actor,
                           comment=comment_json(site, record))
    return comment_json(site, record, _expand(ctx))


@handles("DELETE", f"{API}/issue/{{issueIdOrKey}}/comment/{{id}}")
def delete_comment(ctx: Ctx) -> Reply:
    site = ctx.site
    issue = model.issue_or_404(site, ctx.path_params["issueIdOrKey"])
    record = _comment_or_404(ctx, issue)
    data.write_allowed(site, issue["id"])
    data.remove(site, data.COMMENTS, record["id"])
    model.touch(site, issue)
    actor = model.actor_of(ctx)
    site.issue_events.emit("comment_deleted", model.public_issue(issue), actor=actor,
                           comment=comment_json(site, record))
    return Reply(204)


@handles("POST", f"{API}/comment/list")
def comments_by_id(ctx: Ctx) -> dict[str, Any]:
    ids = ctx.body.get("ids") if isinstance(ctx.body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= LIST_MAX:
        raise bad_request(LIST_SIZE)
    reader = model.actor_of(ctx)
    found = []
    for cid in sorted({int(i) for i in ids}):
        record = ctx.site.store.get(data.COMMENTS, str(cid))
        issue = ctx.site.store.get(model.COLLECTION, record["_issueId"]) if record else None
        if record is not None and issue is not None and \
                data.can_see(ctx.site, record, issue["fields"]["project"], reader):
            found.append(comment_json(ctx.site, record, _expand(ctx)))
    return {"isLast": True, "maxResults": LIST_MAX, "startAt": 0, "total": len(found), "values": found}


# --------------------------------------------------------------------------------------------------
# A deleted issue takes its comments along (Secondary webhooks, as Jira sends them)
# --------------------------------------------------------------------------------------------------


@on_issue_event
def _drop_comments_of_deleted_issue(site: Site, event: Any) -> None:
    if event.kind != "issue_deleted":
        return
    for record in data.records_of(site, data.COMMENTS, event.issue["id"]):
        data.remove(site, data.COMMENTS, record["id"])
        site.issue_events.emit("comment_deleted", event.issue, actor=event.actor,
                               comment=comment_json(site, record), flow="Secondary")


# --------------------------------------------------------------------------------------------------
# Seed
# --------------------------------------------------------------------------------------------------


def _export(site: Site) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for record in site.store.values(data.COMMENTS):
        item = {k: v for k, v in comment_json(site, record, {"properties"}).items() if k != "self"}
        if not item["properties"]:
            del item["properties"]
        out.setdefault(record["_issueId"], []).append(item)
    return out


@seed_type("issueComments", omit_empty=True, exporter=_export, after=("issues", "users", "groups", "projectRoles"))
def seed_comments(site: Site, value: Any) -> None:
    """Seed value: ``{issueId: [GET /issue/{id}/comment/{commentId} answers, oldest first]}`` (``self`` optional)."""
    if not isinstance(value, dict):
        raise ValueError("seed issueComments: an object keyed by issue id is expected")
    for issue_id, items in value.items():
        if model.find_issue(site, issue_id) is None:
            raise ValueError(f"seed issueComments: unknown issue {issue_id}")
        for item in items:
            if not isinstance(item, dict) or not {"id", "body", "created"} <= set(item):
                raise ValueError(f"seed issueComments: each comment needs id, body and created: {str(item)[:200]}")
            record: dict[str, Any] = {
                "id": str(item["id"]), "_issueId": str(issue_id), "body": copy.deepcopy(item["body"]),
                "_author": data.account_of(item.get("author")),
                "_updateAuthor": data.account_of(item.get("updateAuthor")),
                "_created": model.parse_time(item["created"]),
                "_updated": model.parse_time(item.get("updated") or item["created"]),
                "_properties": {p["key"]: copy.deepcopy(p.get("value")) for p in item.get("properties") or []}}
            if item.get("visibility"):
                record["visibility"] = dict(item["visibility"])
            site.store.put(data.COMMENTS, record["id"], record)
            site.store.bump("comment", int(record["id"]))
    data.forget_index(site, data.COMMENTS)
