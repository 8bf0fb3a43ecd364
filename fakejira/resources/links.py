"""Issue links, watchers and votes: their operations, the issue's ``issuelinks``/``watches``/``votes`` fields, seeds.

Links (platform spec): ``POST /issueLink`` names the type by name or id (it must exist: 404) and both issues; it
answers 201 without a body, and a duplicate "is reported as created" without a second link; an optional comment goes
on the outward issue. Jira's inward/outward naming is the well-known trap: for "Blocks", ``inwardIssue`` *blocks*
``outwardIssue``; each issue's ``issuelinks`` shows the other end. Both issues get a ``Link`` history item
("This issue blocks OPS-2"). Watchers: one accountId per POST, sent as a JSON string; a new issue is watched by its
creator and reporter (Jira's autowatch default). Votes: only the caller's own; a reporter can't vote on the issue.
Watchers and votes write no history and don't bump ``updated`` [unverified in the sources read].
"""

from __future__ import annotations

from typing import Any

from .. import issue_data as data
from .. import issues as model
from ..registry import Ctx, JiraError, Reply, bad_request, current_ctx, handles, not_found, on_issue_event, seed_type
from ..site import Site
from ._common import API
from .comments import new_comment, store_comment

LINK_TYPE_MISSING = "No issue link type with name '{}' found."  # Jira's wording
LINK_TYPE_ID_MISSING = "No issue link type with ID '{}' found."  # Jira's wording
LINK_NOT_FOUND = "No issue link with id '{}' exists."  # plausible wording
LINK_ID_INVALID = "The issue link id '{}' is invalid."  # plausible wording
TOO_MANY = "The issue has reached the limit of {} issue links."  # plausible wording
OWN_VOTE = "You cannot vote for an issue you have reported."  # Jira's wording
NOT_VOTED = "You have not voted for this issue."  # plausible wording
USER_MISSING = "The user with account ID '{}' does not exist."  # plausible wording
ACCOUNT_REQUIRED = "The accountId query parameter is required."  # plausible wording


# --------------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------------


def _linked_issue(site: Site, issue_id: str) -> dict[str, Any]:
    """A ``LinkedIssue``: id, key, self and the few fields Jira shows (summary, status, priority, type)."""
    return model.parent_json(site, issue_id)


def _type_json(site: Site, type_id: str) -> dict[str, Any]:
    record = site.store.get("issueLinkTypes", type_id) or {"id": type_id}
    return {k: record[k] for k in ("id", "name", "inward", "outward", "self") if k in record}


def link_json(site: Site, link: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /issueLink/{id}`` answers."""
    return {"id": link["id"], "self": f"{site.base_url}{API}/issueLink/{link['id']}",
            "type": _type_json(site, link["_type"]), "inwardIssue": _linked_issue(site, link["_inward"]),
            "outwardIssue": _linked_issue(site, link["_outward"])}


def render_issuelinks(site: Site, issue: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's ``issuelinks``: each link with the other end, as ``outwardIssue`` when this issue is the inward."""
    out = []
    for link in data.records_of(site, data.LINKS, issue["id"]):
        entry = {"id": link["id"], "self": f"{site.base_url}{API}/issueLink/{link['id']}",
                 "type": _type_json(site, link["_type"])}
        if link["_inward"] == issue["id"]:
            entry["outwardIssue"] = _linked_issue(site, link["_outward"])
        else:
            entry["inwardIssue"] = _linked_issue(site, link["_inward"])
        out.append(entry)
    return out


model.EXTRA_FIELDS["issuelinks"] = render_issuelinks


def _link_type(site: Site, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not (raw.get("id") or raw.get("name")):
        raise bad_request(errors={"issuelinks": "The issue link type must be given by id or name."})  # plausible
    if raw.get("id"):
        found = site.store.get("issueLinkTypes", str(raw["id"]))
        if found is None:
            raise not_found(LINK_TYPE_ID_MISSING.format(raw["id"]))
        return found
    found = site.store.find_name_ci("issueLinkTypes", str(raw["name"]))
    if found is None:
        raise not_found(LINK_TYPE_MISSING.format(raw["name"]))
    return found


def _end(site: Site, raw: Any) -> dict[str, Any]:
    ref = (raw.get("key") or raw.get("id")) if isinstance(raw, dict) else None
    return model.issue_or_404(site, ref or "")


def _link_item(site: Site, link_type: dict[str, Any], other: dict[str, Any], *, outward: bool,
               removed: bool) -> dict[str, Any]:
    words = link_type["outward"] if outward else link_type["inward"]
    side = ("from", "fromString") if removed else ("to", "toString")
    return {"field": "Link", "fieldtype": "jira", side[0]: other["key"], side[1]: f"This issue {words} {other['key']}"}


def _link_history(site: Site, link: dict[str, Any], actor: str | None, *, removed: bool) -> None:
    """The ``Link`` history item on both issues (an issue deleted meanwhile gets none)."""
    link_type = site.store.get("issueLinkTypes", link["_type"]) or {"inward": "", "outward": ""}
    inward = site.store.get(model.COLLECTION, link["_inward"])
    outward = site.store.get(model.COLLECTION, link["_outward"])
    if inward is not None and outward is not None:
        model.record_items(site, inward, [_link_item(site, link_type, outward, outward=True, removed=removed)], actor)
        model.record_items(site, outward, [_link_item(site, link_type, inward, outward=False, removed=removed)],
                           actor)


def _event_link(site: Site, link: dict[str, Any]) -> dict[str, Any]:
    link_type = site.store.get("issueLinkTypes", link["_type"]) or {}
    return {"id": int(link["id"]), "sourceIssueId": int(link["_inward"]), "destinationIssueId": int(link["_outward"]),
            "issueLinkType": {"id": int(link["_type"]), "name": link_type.get("name"),
                              "outwardName": link_type.get("outward"), "inwardName": link_type.get("inward"),
                              "isSubTaskLinkType": False, "isSystemLinkType": False}, "systemLink": False}


@handles("POST", f"{API}/issueLink")
def create_link(ctx: Ctx) -> Reply:
    site = ctx.site
    body = ctx.body if isinstance(ctx.body, dict) else {}
    link_type = _link_type(site, body.get("type"))
    inward, outward = _end(site, body.get("inwardIssue")), _end(site, body.get("outwardIssue"))
    actor = model.actor_of(ctx)
    comment = new_comment(site, outward, body["comment"], actor) if isinstance(body.get("comment"), dict) else None
    existing = next((lk for lk in data.records_of(site, data.LINKS, inward["id"])
                     if (lk["_type"], lk["_inward"], lk["_outward"]) == (link_type["id"], inward["id"],
                                                                         outward["id"])), None)
    if existing is None:
        cap = site.limits.issue_caps["issueLinks"]
        if any(len(data.ids_of(site, data.LINKS, i["id"])) >= cap for i in (inward, outward)):
            raise JiraError(413, TOO_MANY.format(cap))
        data.write_allowed(site, inward["id"])
        link = {"id": str(site.store.next_id("issueLink")), "_type": link_type["id"], "_inward": inward["id"],
                "_outward": outward["id"], "_issueIds": list(dict.fromkeys([inward["id"], outward["id"]]))}
        data.add(site, data.LINKS, link)
        _link_history(site, link, actor, removed=False)
        site.issue_events.emit("issuelink_created", model.public_issue(inward), actor=actor,
                               issueLink=_event_link(site, link))
    if comment is not None:
        store_comment(site, outward, comment, actor)
    return Reply(201)


def _link_or_404(ctx: Ctx) -> dict[str, Any]:
    lid = ctx.path_params["linkId"]
    if not lid.isdigit():
        raise bad_request(LINK_ID_INVALID.format(lid))
    link = ctx.site.store.get(data.LINKS, lid)
    if link is None:
        raise not_found(LINK_NOT_FOUND.format(lid))
    return link


@handles("GET", f"{API}/issueLink/{{linkId}}")
def get_link(ctx: Ctx) -> dict[str, Any]:
    return link_json(ctx.site, _link_or_404(ctx))


@handles("DELETE", f"{API}/issueLink/{{linkId}}")
def delete_link(ctx: Ctx) -> Reply:
    link = _link_or_404(ctx)
    actor = model.actor_of(ctx)
    data.write_allowed(ctx.site, link["_inward"])
    data.remove(ctx.site, data.LINKS, link["id"])
    _link_history(ctx.site, link, actor, removed=True)
    source = ctx.site.store.get(model.COLLECTION, link["_inward"])
    ctx.site.issue_events.emit("issuelink_deleted", model.public_issue(source) if source else {"id": link["_inward"]},
                               actor=actor, issueLink=_event_link(ctx.site, link))
    return Reply(204)


@on_issue_event
def _issue_lifecycle(site: Site, event: Any) -> None:
    """A deleted issue's links go (Secondary events); a new issue is watched by its creator and reporter."""
    if event.kind == "issue_deleted":
        for link in data.records_of(site, data.LINKS, event.issue["id"]):
            data.remove(site, data.LINKS, link["id"])
            site.issue_events.emit("issuelink_deleted", event.issue, actor=event.actor,
                                   issueLink=_event_link(site, link), flow="Secondary")
    elif event.kind == "issue_created":
        issue = site.store.get(model.COLLECTION, event.issue["id"])
        if issue is not None:
            people = [event.issue["fields"].get("creator"), event.issue["fields"].get("reporter")]
            issue["_watchers"] = [a for a in dict.fromkeys(people) if a and site.store.get("users", a) is not None]


# --------------------------------------------------------------------------------------------------
# Watchers and votes
# --------------------------------------------------------------------------------------------------


def _caller() -> str | None:
    ctx = current_ctx()
    return model.actor_of(ctx) if ctx is not None else None


def render_watches(site: Site, issue: dict[str, Any]) -> dict[str, Any]:
    watchers = issue.get("_watchers", [])
    return {"self": f"{model.issue_url(site, issue['id'])}/watchers", "watchCount": len(watchers),
            "isWatching": _caller() in watchers}


def render_votes(site: Site, issue: dict[str, Any]) -> dict[str, Any]:
    voters = issue.get("_voters", [])
    return {"self": f"{model.issue_url(site, issue['id'])}/votes", "votes": len(voters),
            "hasVoted": _caller() in voters}


model.EXTRA_FIELDS["watches"] = render_watches
model.EXTRA_FIELDS["votes"] = render_votes


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/watchers")
def get_watchers(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    watchers = issue.get("_watchers", [])
    return {"self": f"{model.issue_url(ctx.site, issue['id'])}/watchers", "isWatching":
            model.actor_of(ctx) in watchers, "watchCount": len(watchers),
            "watchers": [model.user_json(ctx.site, a) for a in watchers]}


@handles("POST", f"{API}/issue/{{issueIdOrKey}}/watchers")
def add_watcher(ctx: Ctx) -> Reply:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    account = ctx.body if isinstance(ctx.body, str) and ctx.body.strip() else model.actor_of(ctx)
    user = ctx.site.store.get("users", account or "")
    if user is None or not user.get("active", True):
        raise not_found(USER_MISSING.format(account))
    watchers = issue.setdefault("_watchers", [])
    if account not in watchers:
        watchers.append(account)
    return Reply(204)


@handles("DELETE", f"{API}/issue/{{issueIdOrKey}}/watchers")
def remove_watcher(ctx: Ctx) -> Reply:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    account = ctx.arg("accountId")
    if not account:
        raise bad_request(ACCOUNT_REQUIRED)
    if ctx.site.store.get("users", account) is None:
        raise not_found(USER_MISSING.format(account))
    if account in issue.get("_watchers", []):
        issue["_watchers"].remove(account)
    return Reply(204)


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/votes")
def get_votes(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    voters = issue.get("_voters", [])
    return {"self": f"{model.issue_url(ctx.site, issue['id'])}/votes", "votes": len(voters),
            "hasVoted": model.actor_of(ctx) in voters, "voters": [model.user_json(ctx.site, a) for a in voters]}


@handles("POST", f"{API}/issue/{{issueIdOrKey}}/votes")
def add_vote(ctx: Ctx) -> Reply:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    actor = model.actor_of(ctx)
    if actor and actor == issue["fields"].get("reporter"):
        raise bad_request(OWN_VOTE)
    voters = issue.setdefault("_voters", [])
    if actor and actor not in voters:
        voters.append(actor)
    return Reply(204)


@handles("DELETE", f"{API}/issue/{{issueIdOrKey}}/votes")
def remove_vote(ctx: Ctx) -> Reply:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    actor = model.actor_of(ctx)
    if actor not in issue.get("_voters", []):
        raise not_found(NOT_VOTED)
    issue["_voters"].remove(actor)
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------------


def _export_links(site: Site) -> list[dict[str, Any]]:
    return [{"id": lk["id"], "type": {"id": lk["_type"]}, "inwardIssue": {"id": lk["_inward"]},
             "outwardIssue": {"id": lk["_outward"]}} for lk in site.store.values(data.LINKS)]


@seed_type("issueLinks", omit_empty=True, exporter=_export_links, after=("issues", "issueLinkTypes"))
def seed_links(site: Site, value: Any) -> None:
    """Seed value: ``GET /issueLink/{id}`` answers reduced to ids (``id``, ``type.id``, ``inward/outwardIssue.id``)."""
    if not isinstance(value, list):
        raise ValueError("seed issueLinks: a list is expected")
    for item in value:
        ends = [str((item.get(k) or {}).get("id")) for k in ("inwardIssue", "outwardIssue")]
        if any(site.store.get(model.COLLECTION, e) is None for e in ends):
            raise ValueError(f"seed issueLinks: link {item.get('id')} names an unknown issue {ends}")
        if site.store.get("issueLinkTypes", str(item["type"]["id"])) is None:
            raise ValueError(f"seed issueLinks: link {item.get('id')} names unknown type {item['type']['id']}")
        link = {"id": str(item["id"]), "_type": str(item["type"]["id"]), "_inward": ends[0], "_outward": ends[1],
                "_issueIds": list(dict.fromkeys(ends))}
        site.store.put(data.LINKS, link["id"], link)
        site.store.bump("issueLink", int(link["id"]))
    data.forget_index(site, data.LINKS)


def _export_people(key: str) -> Any:
    def export(site: Site) -> dict[str, list[str]]:
        return {i["id"]: list(i[key]) for i in site.store.values(model.COLLECTION) if i.get(key)}
    return export


def _seed_people(site: Site, value: Any, key: str, name: str) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"seed {name}: an object keyed by issue id is expected")
    for issue_id, accounts in value.items():
        issue = site.store.get(model.COLLECTION, str(issue_id))
        if issue is None:
            raise ValueError(f"seed {name}: unknown issue {issue_id}")
        issue[key] = [str(a) for a in accounts]


@seed_type("issueWatchers", omit_empty=True, exporter=_export_people("_watchers"), after=("issues", "users"))
def seed_watchers(site: Site, value: Any) -> None:
    """Seed value: ``{issueId: [accountId of each watcher]}`` (``GET /issue/{id}/watchers`` → accountIds)."""
    _seed_people(site, value, "_watchers", "issueWatchers")


@seed_type("issueVoters", omit_empty=True, exporter=_export_people("_voters"), after=("issues", "users"))
def seed_voters(site: Site, value: Any) -> None:
    """Seed value: ``{issueId: [accountId of each voter]}`` (``GET /issue/{id}/votes`` → accountIds)."""
    _seed_people(site, value, "_voters", "issueVoters")
