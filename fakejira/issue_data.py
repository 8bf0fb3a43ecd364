"""Issue data kept beside the issues (comments, worklogs, attachments, links): per-issue look-ups and visibility.

Records live in their own store collections keyed by id and name their issue in ``_issueId`` (a link names two in
``_issueIds``). ``ids_of`` answers "which records belong to this issue" from an index built on first use and kept up
to date by ``add``/``remove`` (only these functions write the collections), so listing an issue's comments doesn't
scan every comment of the site. Visibility (comments, worklogs) is Jira's ``{"type": "group"|"role", "value",
"identifier"}``: the writer must be in the group or role, and readers outside it don't see the record.
"""

from __future__ import annotations

from typing import Any

from .registry import JiraError, bad_request
from .site import Site

COMMENTS, WORKLOGS, ATTACHMENTS, LINKS = "comments", "worklogs", "attachments", "issueLinks"
WORKLOG_DELETIONS = "worklogDeletions"
# Jira Server's texts for a visibility the writer isn't part of (the Cloud texts were not found in the sources read)
NOT_IN_GROUP = "You are currently not a member of the group: {}."
NOT_IN_ROLE = "You are currently not a member of the project role: {}."
NO_GROUP = "Group: {} does not exist."
NO_ROLE = "Project role: {} does not exist."  # plausible wording
BAD_VISIBILITY = "Visibility must be an object with a type of 'group' or 'role' and a value or an identifier."


# --------------------------------------------------------------------------------------------------
# Records and the per-issue index
# --------------------------------------------------------------------------------------------------


def issues_of(record: dict[str, Any]) -> list[str]:
    """The issue ids a record belongs to."""
    return list(record.get("_issueIds") or [record["_issueId"]])


def _index(site: Site, coll: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] | None = site.store.indexes.get(coll)
    if found is None:
        found = {}
        for rid, record in site.store.coll(coll).items():
            for issue_id in issues_of(record):
                found.setdefault(issue_id, []).append(rid)
        site.store.indexes[coll] = found
    return found


def ids_of(site: Site, coll: str, issue_id: str) -> list[str]:
    """The ids of ``coll`` records that belong to issue ``issue_id``, oldest first."""
    return list(_index(site, coll).get(str(issue_id), ()))


def records_of(site: Site, coll: str, issue_id: str) -> list[dict[str, Any]]:
    records = site.store.coll(coll)
    return [records[rid] for rid in ids_of(site, coll, issue_id) if rid in records]


def add(site: Site, coll: str, record: dict[str, Any]) -> dict[str, Any]:
    """Store a new record (its ``id`` and issue ids set) and index it."""
    site.store.put(coll, record["id"], record)
    index = site.store.indexes.get(coll)
    if index is not None:
        for issue_id in issues_of(record):
            index.setdefault(issue_id, []).append(str(record["id"]))
    return record


def remove(site: Site, coll: str, record_id: str) -> dict[str, Any] | None:
    """Delete a record and drop it from the index; the record, or None when there was none."""
    record = site.store.delete(coll, record_id)
    index = site.store.indexes.get(coll)
    if record is not None and index is not None:
        for issue_id in issues_of(record):
            ids = index.get(issue_id, [])
            if str(record_id) in ids:
                ids.remove(str(record_id))
    return record


def forget_index(site: Site, coll: str) -> None:
    """Drop a collection's index (a seed loaded records directly); the next look-up rebuilds it."""
    site.store.indexes.pop(coll, None)


# --------------------------------------------------------------------------------------------------
# Visibility (comments and worklogs)
# --------------------------------------------------------------------------------------------------


def _group(site: Site, name: Any, group_id: Any) -> dict[str, Any] | None:
    """A group by id when one is given (the id wins: a name beside an unknown id finds nothing), else by name."""
    for group in site.store.values("groups"):
        if group_id:
            if group.get("groupId") == group_id:
                return group
        elif name and group.get("name") == name:
            return group
    return None


def _role(site: Site, name: Any, identifier: Any) -> dict[str, Any] | None:
    """A role by name; ``identifier`` is the role's name too (the spec), or its id (seeds written before)."""
    for role in site.store.values("projectRoles"):
        if identifier not in (None, "") and str(identifier) in (str(role.get("name")), str(role.get("id"))):
            return role
        if name and role.get("name") == name:
            return role
    return None


def in_group(site: Site, group: dict[str, Any], account_id: str | None) -> bool:
    return bool(account_id) and account_id in (group.get("_members") or [])


def in_role(site: Site, project_id: str, role: dict[str, Any], account_id: str | None) -> bool:
    """Whether ``account_id`` is an actor of ``role`` in the project: as a user, or through a group."""
    if not account_id:
        return False
    project = site.store.get("projects", project_id) or {}
    for actor in (project.get("_roleActors") or {}).get(str(role["id"]), []):
        if (actor.get("actorUser") or {}).get("accountId") == account_id:
            return True
        group_ref = actor.get("actorGroup") or {}
        group = _group(site, group_ref.get("name"), group_ref.get("groupId"))
        if group is not None and in_group(site, group, account_id):
            return True
    return False


def parse_visibility(site: Site, issue: dict[str, Any], raw: Any, actor: str | None,
                     error_key: str) -> dict[str, Any] | None:
    """The stored visibility of a request's ``visibility`` member; the writer must belong to it.

    :raises JiraError: 400 for an unknown group or role, or one the writer is not part of.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in ("group", "role") or \
            not (raw.get("value") or raw.get("identifier")):
        raise bad_request(errors={error_key: BAD_VISIBILITY})  # plausible wording
    if raw["type"] == "group":
        group = _group(site, raw.get("value"), raw.get("identifier"))
        if group is None:
            raise bad_request(errors={error_key: NO_GROUP.format(raw.get("value") or raw.get("identifier"))})
        if not in_group(site, group, actor):
            raise bad_request(errors={error_key: NOT_IN_GROUP.format(group["name"])})
        return {"type": "group", "value": group["name"], "identifier": group["groupId"]}
    role = _role(site, raw.get("value"), raw.get("identifier"))
    if role is None:
        raise bad_request(errors={error_key: NO_ROLE.format(raw.get("value") or raw.get("identifier"))})
    if not in_role(site, issue["fields"]["project"], role, actor):
        raise bad_request(errors={error_key: NOT_IN_ROLE.format(role["name"])})
    # the spec's Visibility: "identifier: The ID of the group or the name of the role"
    return {"type": "role", "value": role["name"], "identifier": role["name"]}


def can_see(site: Site, record: dict[str, Any], project_id: str, account_id: str | None) -> bool:
    """Whether ``account_id`` may read a record with (or without) a visibility restriction."""
    visibility = record.get("visibility")
    if not visibility:
        return True
    if visibility["type"] == "group":
        group = _group(site, visibility.get("value"), visibility.get("identifier"))
        return group is not None and in_group(site, group, account_id)
    role = _role(site, visibility.get("value"), visibility.get("identifier"))
    return role is not None and in_role(site, project_id, role, account_id)


def write_allowed(site: Site, issue_id: str) -> None:
    """The per-issue write limit (``limits.py``): 429 ``jira-per-issue-on-write``."""
    limited = site.limits.check_issue_write(issue_id)
    if limited is not None:
        raise JiraError(429, "Rate limit exceeded.", headers=limited.headers)


def account_of(value: Any) -> str | None:
    """The accountId a seed's user object names (None for anything else)."""
    return value.get("accountId") if isinstance(value, dict) else None
