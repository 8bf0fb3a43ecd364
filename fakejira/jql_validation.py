"""JQL checked the way Jira checks a filter's query: unknown fields, values and functions are 400s in Jira's words.

Walks the query with the yardstick's tokenizer (``jql.py``, which keeps every character) and checks, per clause,
that the field exists (system clause names, custom fields by name, ``cf[N]`` and ``customfield_N``), that a value of a
field whose values are objects names one of this site's (status, issue type, priority, resolution, project, version,
component, option, sprint, user, group, filter, category, security level: by id, or by name/key where Jira accepts
one) and that every function is one Jira has. The emulator has no sprints, so any sprint value is unknown, as a
sprint id from another site is on Jira.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import jql
from .site import Site

# Jira's texts (seen in Jira Cloud answers)
UNKNOWN_FIELD = "Field '{}' does not exist or you do not have permission to view it."
UNKNOWN_VALUE = "The value '{}' does not exist for the field '{}'."
UNKNOWN_FUNCTION = "Unable to find JQL function '{}()'."
UNKNOWN_GROUP = "Function 'membersOf' can not generate a list of usernames for group '{}'; the group does not exist."

SYSTEM_CLAUSES = frozenset(n.casefold() for n in (
    "affectedVersion", "approvals", "assignee", "attachments", "category", "comment", "component", "created",
    "createdDate", "creator", "description", "due", "duedate", "environment", "filter", "fixVersion", "id", "issue",
    "issueKey", "key", "issueLinkType", "issuetype", "type", "labels", "lastViewed", "level", "originalEstimate",
    "timeOriginalEstimate", "parent", "priority", "project", "projectType", "remainingEstimate", "timeEstimate",
    "reporter", "request", "resolution", "resolved", "resolutionDate", "savedFilter", "searchRequest", "sprint",
    "status", "statusCategory", "statusCategoryChangedDate", "summary", "text", "textfields", "timeSpent", "updated",
    "updatedDate", "voter", "votes", "watcher", "watchers", "worklogAuthor", "worklogComment", "worklogDate",
    "workRatio", "hierarchyLevel", "Rank", "Epic Link", "Flagged", "Team", "Start date", "Story point estimate"))
FUNCTIONS = frozenset(n.casefold() for n in (
    "approved", "approver", "breached", "cascadeOption", "closedSprints", "completed", "componentsLeadByUser",
    "currentLogin", "currentUser", "earliestUnreleasedVersion", "earliestUnreleasedVersionByReleaseDate", "elapsed",
    "endOfDay", "endOfMonth", "endOfWeek", "endOfYear", "everbreached", "futureSprints", "issueHistory",
    "issuesWithRemoteLinksByGlobalId", "lastLogin", "latestReleasedVersion", "latestReleasedVersionByReleaseDate",
    "linkedIssues", "membersOf", "myApproval", "myPending", "now", "openSprints", "paused", "pending", "pendingBy",
    "projectsLeadByUser", "projectsWhereUserHasPermission", "projectsWhereUserHasRole", "releasedVersions",
    "remaining", "running", "standardIssueTypes", "startOfDay", "startOfMonth", "startOfWeek", "startOfYear",
    "subtaskIssueTypes", "unreleasedVersions", "updatedBy", "votedIssues", "watchedIssues", "withinCalendarHours"))
# JQL field (lower case) -> the kind of object its values name
VALUE_KINDS = {
    "project": "project", "issuetype": "issuetype", "type": "issuetype", "status": "status", "priority": "priority",
    "resolution": "resolution", "fixversion": "version", "affectedversion": "version", "component": "component",
    "sprint": "sprint", "assignee": "user", "reporter": "user", "creator": "user", "watcher": "user",
    "voter": "user", "worklogauthor": "user", "filter": "filter", "savedfilter": "filter", "searchrequest": "filter",
    "request": "filter", "category": "category", "level": "securityLevel",
}
CUSTOM_KINDS = {"option": "option", "option-with-child": "option", "user": "user", "group": "group",
                "version": "version", "project": "project"}
KEYWORDS = frozenset({"empty", "null", "in", "not", "is", "was", "changed", "and", "or", "order", "by"})


ISSUE_PROPERTY = re.compile(r"^issue\.property\[(?P<key>[^\]]+)\]\.(?P<path>.+)$", re.IGNORECASE)


def indexed_issue_properties(site: Site) -> dict[str, tuple[str, str, str]]:
    """What installed apps index for JQL (descriptor ``modules.jiraEntityProperties`` of entity type issue):
    ``issue.property[key].path`` (and each extraction's alias), lower case -> (property key, path, type)."""
    out: dict[str, tuple[str, str, str]] = {}
    for inst in site.installations.values():
        if not inst.enabled:
            continue
        for module in (inst.descriptor.get("modules") or {}).get("jiraEntityProperties") or []:
            if str(module.get("entityType", "issue")).lower() != "issue":
                continue
            for config in module.get("keyConfigurations") or []:
                key = str(config.get("propertyKey", ""))
                for extraction in config.get("extractions") or []:
                    path, kind = str(extraction.get("objectName", "")), str(extraction.get("type", "string")).lower()
                    out[f"issue.property[{key}].{path}".casefold()] = (key, path, kind)
                    if extraction.get("alias"):
                        out[str(extraction["alias"]).casefold()] = (key, path, kind)
    return out


def _named(records: Any, value: str, *keys: str) -> bool:
    """Whether a record has ``value`` as its id or (case-insensitively) as one of ``keys``."""
    folded = value.casefold()
    return any(str(r.get("id")) == value or any(str(r.get(k, "")).casefold() == folded for k in keys)
               for r in records)


class Checker:
    """One site's answer to "does this field / value / function exist?"."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.store = site.store
        self.customs = {str(f["id"]): f for f in self.store.values("fields") if str(f["id"]).startswith("customfield_")}
        self.properties = indexed_issue_properties(site)

    def fields_named(self, name: str) -> list[dict[str, Any]]:
        """The custom fields a clause name stands for (``cf[N]``, ``customfield_N`` or the field's name)."""
        low = name.strip().casefold()
        if low.startswith("cf[") and low.endswith("]"):
            found = self.customs.get("customfield_" + low[3:-1].strip())
            return [found] if found else []
        if low.startswith("customfield_"):
            found = self.customs.get(low)
            return [found] if found else []
        return [f for f in self.customs.values() if str(f.get("name", "")).casefold() == low]

    def field_exists(self, name: str) -> bool:
        low = name.strip().casefold()
        if low in SYSTEM_CLAUSES or self.store.get("fields", name) is not None or low in self.properties:
            return True
        return bool(self.fields_named(name))

    def kinds(self, name: str) -> list[str]:
        """The kinds of object the field's values name (several when a name fits several custom fields)."""
        kind = VALUE_KINDS.get(name.strip().casefold())
        if kind is not None:
            return [kind]
        out = []
        for f in self.fields_named(name):
            schema = f.get("schema") or {}
            raw = schema.get("items") if schema.get("type") == "array" else schema.get("type")
            if raw in CUSTOM_KINDS:
                out.append(CUSTOM_KINDS[raw] + ("@" + str(f["id"]) if raw.startswith("option") else ""))
        return out

    def exists(self, kind: str, value: str) -> bool:
        """Whether ``value`` names an object of ``kind`` on this site (by id, or by name/key where Jira allows)."""
        s = self.store
        check: dict[str, Callable[[], bool]] = {
            "project": lambda: _named(s.values("projects"), value, "key", "name"),
            "issuetype": lambda: _named(s.values("issueTypes"), value, "name"),
            "status": lambda: _named(s.values("statuses"), value, "name"),
            "priority": lambda: _named(s.values("priorities"), value, "name"),
            "resolution": lambda: value.casefold() == "unresolved" or _named(s.values("resolutions"), value, "name"),
            "version": lambda: _named(s.values("versions"), value, "name"),
            "component": lambda: _named(s.values("components"), value, "name"),
            "sprint": lambda: False,  # no sprints here: any sprint id or name is unknown
            "user": lambda: _named(s.values("users"), value, "accountId", "emailAddress", "displayName"),
            "group": lambda: _named(s.values("groups"), value, "name", "groupId"),
            "filter": lambda: _named(s.values("filters"), value, "name"),
            "category": lambda: _named(s.values("projectCategories"), value, "name"),
            "securityLevel": lambda: _named(s.values("issueSecurityLevels"), value, "name"),
        }
        if kind.startswith("option@"):
            contexts = {str(c["id"]) for c in s.values("fieldContexts") if c.get("_fieldId", c.get("fieldId"))
                        == kind.removeprefix("option@")}
            options = [o for o in s.values("fieldOptions") if str(o.get("_contextId")) in contexts]
            return _named(options, value, "value")
        return check[kind]() if kind in check else True


def check_jql(site: Site, text: Any) -> list[str]:
    """Jira's error messages for the query (empty when Jira would accept it). Unreadable JQL: one message."""
    if not isinstance(text, str) or not text.strip():
        return []
    checker = Checker(site)
    errors: list[str] = []
    try:
        tokens = jql.tokenize(text)
    except jql.JqlSyntaxError as exc:
        return [f"Error in the JQL Query: {exc}."]
    solid = [t for t in tokens if t.kind != "ws"]
    for tok, nxt in zip(solid, [*solid[1:], None], strict=True):
        if tok.kind == "word" and nxt is not None and nxt.kind == "lparen" and tok.lower not in KEYWORDS \
                and tok.lower not in FUNCTIONS:
            errors.append(UNKNOWN_FUNCTION.format(tok.text))

    def on_field(name: str) -> None:
        if not checker.field_exists(name):
            errors.append(UNKNOWN_FIELD.format(name))

    def on_value(field: str, tok: jql.Token, function: str | None, predicate: str | None) -> None:
        value = tok.value
        if predicate in ("after", "before", "on", "during") or not checker.field_exists(field):
            return
        if function is not None:
            low = function.casefold()
            if low == "membersof" and not checker.exists("group", value):
                errors.append(UNKNOWN_GROUP.format(value))
            elif low == "cascadeoption" and value.casefold() != "none":
                kinds = [k for k in checker.kinds(field) if k.startswith("option@")]
                if kinds and not any(checker.exists(k, value) for k in kinds):
                    errors.append(UNKNOWN_VALUE.format(value, field))
            return
        kinds = ["user"] if predicate == "by" else checker.kinds(field)
        if kinds and not any(checker.exists(k, value) for k in kinds):
            errors.append(UNKNOWN_VALUE.format(value, field))

    def resolve_field(name: str) -> None:
        on_field(name)

    def resolve_value(field: str, tok: jql.Token, function: str | None, predicate: str | None) -> None:
        on_value(field, tok, function, predicate)

    jql.rewrite(text, resolve_field, resolve_value)
    return list(dict.fromkeys(errors))
