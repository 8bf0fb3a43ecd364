"""An id-free export of an emulated site, and a comparison of two of them in words: a fidelity yardstick.

``canonical_export(site)`` reads the site's own export (``seeding.export_site``) and gives, per object type, the
objects keyed by their natural key (reference README: name, name + type, owner + name, project key...), every
reference replaced by what it names *on that same site*: ``role 'Developers'``, ``status 'In Review' [IN_PROGRESS]``,
``user 'ann@acme.example'``. References inside strings are resolved too: workflow rule parameters, field default
values, share permissions and JQL (through ``jql.py``'s tokenizer). A reference to nothing becomes an explicit
marker (``<missing status 10999>``) so it shows up as a difference. Server-assigned values (ids, self URLs,
avatars, timestamps, counters) are dropped.

Users are site-scoped in the emulator: a user is named by email (display name when there is none). An accountId the
site doesn't know as a user (a brand-new destination that lacks the source's people) becomes
``<missing user ACCOUNTID>``: a reference to a missing person is a difference, never silently equal.

``compare(source, destination)`` matches objects by natural key and lists differences in words, plus per-type
identical / total counts. Objects only the destination has (a new site's defaults) are not differences.

Nothing here imports the app: the yardstick must not share the restore's mapping or its mistakes.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import jql

Export = dict[str, Any]
Canonical = dict[str, dict[str, Any]]

# Types whose objects the app can't create through Jira's API (the reference's known walls).
NOT_API_RESTORABLE = {"users": "apps can't create users"}

TYPE_LABELS = {
    "projectCategories": "project category", "issueLinkTypes": "issue link type", "priorities": "priority",
    "resolutions": "resolution", "statuses": "status", "issueTypes": "issue type", "users": "user",
    "groups": "group", "projectRoles": "role", "fields": "custom field", "screens": "screen",
    "fieldConfigurations": "field configuration", "fieldConfigurationSchemes": "field configuration scheme",
    "screenSchemes": "screen scheme", "issueTypeScreenSchemes": "issue type screen scheme",
    "issueTypeSchemes": "issue type scheme", "prioritySchemes": "priority scheme", "workflows": "workflow",
    "workflowSchemes": "workflow scheme", "permissionSchemes": "permission scheme",
    "notificationSchemes": "notification scheme", "issueSecuritySchemes": "issue security scheme",
    "projects": "project", "filters": "filter", "boards": "board", "dashboards": "dashboard",
}

CF_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"

# Workflow rule parameters (spec: Workflows API rule docs) -> the kind of object their comma-separated ids name.
RULE_PARAMETERS = {
    "roleIds": "role", "groupIds": "group", "groupsExemptFromValidation": "group", "accountIds": "user",
    "accountId": "user", "agentId": "user", "groupCustomFields": "field", "allowUserCustomFields": "field",
    "denyUserCustomFields": "field", "fieldsRequired": "field", "fieldKey": "field", "fieldId": "field",
    "date1FieldKey": "field", "date2FieldKey": "field", "sourceFieldKey": "field", "targetFieldKey": "field",
    "field": "field", "remindingFieldIds": "field", "statusIds": "status", "previousStatusIds": "status",
    "fromStatusId": "status", "toStatusId": "status", "screenId": "screen",
}
RULE_GENERIC_VALUES = frozenset({"allow-assignee", "allow-reporter", ""})
# update-field's ``value`` for these system fields is an id of this kind
FIELD_VALUE_KINDS = {"resolution": "resolution", "priority": "priority", "assignee": "user", "reporter": "user",
                     "issuetype": "issuetype", "components": "component", "fixVersions": "version",
                     "versions": "version"}
# JQL field (lower case) -> the kind its id operands name
JQL_FIELDS = {
    "issuetype": "issuetype", "type": "issuetype", "status": "status", "priority": "priority",
    "resolution": "resolution", "project": "project", "fixversion": "version", "affectedversion": "version",
    "component": "component", "sprint": "sprint", "assignee": "user", "reporter": "user", "creator": "user",
    "watcher": "user", "voter": "user", "filter": "filter", "savedfilter": "filter", "request": "filter",
    "level": "securityLevel", "category": "projectCategory",
}
USER_FUNCTIONS_WITH_GROUP = frozenset({"membersof"})
DEFAULT_KINDS = {  # default value key -> kind
    "optionId": "option", "optionIds": "option", "cascadingOptionId": "option", "accountId": "user",
    "accountIds": "user", "groupId": "group", "groupIds": "group", "projectId": "project",
    "versionId": "version", "versionIds": "version",
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _label(kind: str, key: str) -> str:
    return f"{kind} {json.dumps(key, ensure_ascii=False)}" if "'" in key else f"{kind} '{key}'"


class Names:
    """What each id names on one site: kind -> id -> natural key."""

    def __init__(self, export: Export) -> None:
        self.keys: dict[str, dict[str, str]] = {}
        self.fields: dict[str, dict[str, Any]] = {}  # custom field id -> field record
        self.option_field: dict[str, str] = {}  # option id -> field id
        self.group_ids: set[str] = set()
        self._build(export)

    def _put(self, kind: str, oid: Any, key: str) -> None:
        self.keys.setdefault(kind, {})[str(oid)] = key

    def _build(self, e: Export) -> None:
        for kind, coll in (("projectCategory", "projectCategories"), ("issueLinkType", "issueLinkTypes"),
                           ("priority", "priorities"), ("resolution", "resolutions"), ("role", "projectRoles"),
                           ("screen", "screens"), ("fieldConfiguration", "fieldConfigurations"),
                           ("fieldConfigurationScheme", "fieldConfigurationSchemes"),
                           ("screenScheme", "screenSchemes"), ("issueTypeScreenScheme", "issueTypeScreenSchemes"),
                           ("issueTypeScheme", "issueTypeSchemes"), ("priorityScheme", "prioritySchemes"),
                           ("workflow", "workflows"), ("workflowScheme", "workflowSchemes"),
                           ("permissionScheme", "permissionSchemes"), ("notificationScheme", "notificationSchemes"),
                           ("issueSecurityScheme", "issueSecuritySchemes"), ("securityLevel", "issueSecurityLevels")):
            for rec in e.get(coll) or []:
                self._put(kind, rec.get("id"), str(rec.get("name")))
        for user in e.get("users") or []:
            self._put("user", user["accountId"], user_identity(user))
        for group in e.get("groups") or []:
            self._put("group", group.get("groupId") or group["name"], group["name"])
            self._put("group", group["name"], group["name"])
            self.group_ids.add(str(group.get("groupId")))
        for p in e.get("projects") or []:
            self._put("project", p["id"], p["key"])
        pkey = self.keys.get("project", {})
        for st in e.get("statuses") or []:
            self._put("status", st["id"], status_key(st, pkey))
        for it in e.get("issueTypes") or []:
            self._put("issuetype", it["id"], issue_type_key(it, pkey))
        for pid, comps in (e.get("projectComponents") or {}).items():
            for c in comps:
                self._put("component", c["id"], f"{pkey.get(str(pid), '?')}/{c['name']}")
        for pid, versions in (e.get("projectVersions") or {}).items():
            for v in versions:
                self._put("version", v["id"], f"{pkey.get(str(pid), '?')}/{v['name']}")
        for pid_tabs in (e.get("screenTabs") or {}).values():
            for tab in pid_tabs:
                self._put("tab", tab["id"], tab["name"])
        self._build_fields(e)
        for f in e.get("filters") or []:
            self._put("filter", f["id"], f"{self.user(_dict(f.get('owner')).get('accountId'), bare=True)} / "
                                         f"{f['name']}")
        for d in e.get("dashboards") or []:
            owner = _dict(d.get("owner")).get("accountId")
            self._put("dashboard", d["id"], f"{self.user(owner, bare=True) if owner else 'nobody'} / {d['name']}")
        for b in e.get("boards") or []:
            self._put("board", b["id"], f"{b['name']} [{b.get('type')}]")

    def _build_fields(self, e: Export) -> None:
        keys = Counter[str]()
        for f in e.get("fields") or []:
            if not str(f["id"]).startswith("customfield_"):
                self._put("field", f["id"], f["id"])
                continue
            key = field_key(f)
            keys[key] += 1
            key = key if keys[key] == 1 else f"{key} #{keys[key]}"
            self._put("field", f["id"], key)
            self._put("field", f"cf[{f['id'].removeprefix('customfield_')}]", key)
            self.fields[f["id"]] = f
        contexts: dict[str, tuple[str, str]] = {}
        for fid, ctxs in (e.get("fieldContexts") or {}).items():
            for c in ctxs:
                contexts[str(c["id"])] = (fid, c["name"])
        for cid, options in (e.get("fieldOptions") or {}).items():
            by_id = {str(o["id"]): o for o in options}
            fid, cname = contexts.get(str(cid), ("?", "?"))
            for o in options:
                parent = by_id.get(str(o.get("optionId"))) if o.get("optionId") else None
                value = f"{parent['value']} -> {o['value']}" if parent else o["value"]
                self._put("option", o["id"], f"{self.name('field', fid, bare=True)} / {cname} / {value}")
                self.option_field[str(o["id"])] = fid

    def name(self, kind: str, oid: Any, *, bare: bool = False) -> str:
        """``kind 'key'`` (``key`` alone when ``bare``) for an id of this site; a missing marker otherwise."""
        if oid is None:
            return "none"
        key = self.keys.get(kind, {}).get(str(oid))
        if key is None:
            return f"<missing {kind} {oid}>"
        return key if bare else _label(kind, key)

    def user(self, account_id: Any, *, bare: bool = False) -> str:
        return self.name("user", account_id, bare=bare)

    def names(self, kind: str, csv: str) -> str:
        """A comma-separated id list as a sorted list of names (generic values kept)."""
        parts = [p.strip() for p in str(csv).split(",")]
        return ", ".join(sorted(p if p in RULE_GENERIC_VALUES or (kind == "field" and not p.startswith(
            "customfield_")) else self.name(kind, p) for p in parts))


def user_identity(user: dict[str, Any]) -> str:
    return str(user.get("emailAddress") or user.get("displayName") or user.get("accountId"))


def status_key(status: dict[str, Any], projects: dict[str, str]) -> str:
    scope = _dict(status.get("scope"))
    where = f" in {projects.get(str(_dict(scope.get('project')).get('id')), '?')}" \
        if scope.get("type") == "PROJECT" else ""
    return f"{status['name']} [{status.get('statusCategory')}]{where}"


def issue_type_key(it: dict[str, Any], projects: dict[str, str]) -> str:
    scope = _dict(it.get("scope"))
    where = f" in {projects.get(str(_dict(scope.get('project')).get('id')), '?')}" \
        if scope.get("type") == "PROJECT" else ""
    return f"{it['name']} (level {it.get('hierarchyLevel', -1 if it.get('subtask') else 0)}){where}"


def field_key(f: dict[str, Any]) -> str:
    custom = str(_dict(f.get("schema")).get("custom") or "")
    return f"{f['name']} [{custom.removeprefix(CF_PREFIX)}]"


# -------------------------------------------------------------------------------------------------- JQL


def canonical_jql(text: str, names: Names) -> str:
    """``text`` with every id-valued operand and custom field id replaced by the named object's natural key."""
    if not text:
        return ""
    try:
        return jql.rewrite(text, lambda f: _jql_field(f, names), lambda f, t, fn, p: _jql_value(f, t, fn, p, names))
    except jql.JqlSyntaxError as exc:
        return f"<unreadable JQL: {exc}> {text}"


def _field_id(name: str) -> str | None:
    low = name.lower()
    if low.startswith("cf[") and low.endswith("]"):
        return "customfield_" + name[3:-1].strip()
    if low.startswith("customfield_"):
        return low
    return None


def _jql_field(name: str, names: Names) -> str | None:
    fid = _field_id(name)
    return None if fid is None else _jql_ref(names, "field", fid)


def _jql_ref(names: Names, kind: str, oid: str) -> str:
    """A JQL string of the natural key of what ``oid`` names, or the bare missing marker."""
    marker = names.name(kind, oid)
    return marker if marker.startswith("<missing") else jql.quote(names.name(kind, oid, bare=True))


def _jql_value(field_name: str, tok: jql.Token, function: str | None, predicate: str | None,
               names: Names) -> str | None:
    if function is not None:
        if function.lower() in USER_FUNCTIONS_WITH_GROUP and tok.value in names.group_ids:
            return _jql_ref(names, "group", tok.value)
        if function.lower() == "cascadeoption" and tok.kind == "word" and tok.value.isdigit():
            return _jql_ref(names, "option", tok.value)
        return None
    if predicate in ("after", "before", "on", "during"):
        return None
    fid = _field_id(field_name)
    kind = "user" if predicate == "by" else (_custom_kind(fid, names) if fid else JQL_FIELDS.get(field_name.lower()))
    if kind is None:
        return None
    value = tok.value
    if kind == "user":
        known = value in names.keys.get("user", {})
        return _jql_ref(names, "user", value) if known or ":" in value else None
    if kind == "group":
        return _jql_ref(names, "group", value) if value in names.group_ids else None
    if tok.kind == "string" or not value.isdigit():
        return None  # a name, a key or a quoted value: already natural
    if kind == "sprint":
        return jql.quote(f"sprint {value}")  # the emulator has no sprints: the id is all there is
    return _jql_ref(names, kind, value)


def _custom_kind(fid: str, names: Names) -> str | None:
    f = names.fields.get(fid)
    if f is None:
        return None
    schema = _dict(f.get("schema"))
    kind = schema.get("items") if schema.get("type") == "array" else schema.get("type")
    return {"option": "option", "option-with-child": "option", "user": "user", "group": "group",
            "version": "version", "project": "project"}.get(str(kind))


# -------------------------------------------------------------------------------------------------- objects


def _strip(rec: dict[str, Any], *drop: str) -> dict[str, Any]:
    gone = {"self", "id", "expand", "avatarUrls", "iconUrl", "created", "updated", *drop}
    return {k: v for k, v in rec.items() if k not in gone and not k.startswith("_")}


def _unique(out: dict[str, Any], key: str, value: Any) -> None:
    n, base = 1, key
    while key in out:
        n += 1
        key = f"{base} #{n}"
    out[key] = value


def _by_name(items: list[dict[str, Any]], fn: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        _unique(out, str(item.get("name")), fn(item))
    return out


def _share(share: dict[str, Any], names: Names) -> str:
    kind = share.get("type")
    if kind == "group":
        g = _dict(share.get("group"))
        return f"group: {names.name('group', g.get('groupId') or g.get('name'))}"
    if kind in ("project", "projectRole"):
        out = f"{kind}: {names.name('project', _dict(share.get('project')).get('id'))}"
        return out + (f" {names.name('role', _dict(share.get('role')).get('id'))}" if kind == "projectRole" else "")
    if kind == "user":
        return f"user: {names.user(_dict(share.get('user')).get('accountId'))}"
    return str(kind)


def _holder(holder: dict[str, Any], names: Names) -> str:
    kind, value = holder.get("type"), holder.get("value") or holder.get("parameter")
    ref = {"group": "group", "projectRole": "role", "user": "user", "userCustomField": "field",
           "groupCustomField": "field"}.get(str(kind))
    if ref:
        return f"{kind}: {names.name(ref, value)}"
    return str(kind) + (f": {holder['parameter']}" if holder.get("parameter") else "")


def _rule(rule: dict[str, Any], names: Names) -> dict[str, Any]:
    params = dict(_dict(rule.get("parameters")))
    target = params.get("field") or params.get("fieldId")
    for key, value in list(params.items()):
        if key in RULE_PARAMETERS:
            params[key] = names.names(RULE_PARAMETERS[key], value)
    if rule.get("ruleKey") == "system:update-field" and "value" in params:
        kind = FIELD_VALUE_KINDS.get(str(target)) or _custom_kind(str(target), names)
        if kind:
            params["value"] = names.names(kind, params["value"])
    if params.get("comparisonType") == "OPTIONID" and "fieldValue" in params:
        try:
            ids = json.loads(params["fieldValue"])
            params["fieldValue"] = sorted(names.name("option", i) for i in ids)
        except (ValueError, TypeError):
            pass
    for key in ("jql", "jqlQuery"):
        if isinstance(params.get(key), str):
            params[key] = canonical_jql(params[key], names)
    return {"rule": rule.get("ruleKey"), "parameters": params}


def _rules(rules: list[dict[str, Any]] | None, names: Names) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in rules or []:
        _unique(out, str(r.get("ruleKey")), _rule(r, names)["parameters"])
    return out


def _conditions(group: Any, names: Names) -> Any:
    if not isinstance(group, dict):
        return None
    return {"operation": group.get("operation"), "conditions": _rules(group.get("conditions"), names),
            "groups": [_conditions(g, names) for g in group.get("conditionGroups") or []]}


def _workflow(wf: dict[str, Any], names: Names) -> dict[str, Any]:
    transitions: dict[str, Any] = {}
    for tr in wf.get("transitions") or []:
        body = {
            "type": tr.get("type"), "description": tr.get("description") or "",
            "to": names.name("status", tr.get("toStatusReference")),
            "from": sorted(names.name("status", link.get("fromStatusReference")) for link in tr.get("links") or []),
            "properties": tr.get("properties") or {},
            "screen": names.name("screen", _dict(_dict(tr.get("transitionScreen")).get("parameters")).get("screenId"))
            if tr.get("transitionScreen") else None,
            "conditions": _conditions(tr.get("conditions"), names),
            "validators": _rules(tr.get("validators"), names), "post-functions": _rules(tr.get("actions"), names),
            "triggers": [_strip(t) for t in tr.get("triggers") or []],
        }
        _unique(transitions, str(tr.get("name")), body)
    return {"description": wf.get("description") or "", "scope": _scope(wf.get("scope"), names),
            "statuses": [names.name("status", s.get("statusReference")) for s in wf.get("statuses") or []],
            "status properties": {names.name("status", s.get("statusReference")): s.get("properties")
                                  for s in wf.get("statuses") or [] if s.get("properties")},
            "transitions": transitions}


def _scope(scope: Any, names: Names) -> str:
    scope = _dict(scope)
    if scope.get("type") == "PROJECT":
        return f"project {names.name('project', _dict(scope.get('project')).get('id'))}"
    return "global"


def _default_value(value: dict[str, Any], names: Names) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in value.items():
        if key == "contextId":
            continue
        kind = DEFAULT_KINDS.get(key)
        if key == "userFilter" and isinstance(val, dict):  # a single user picker's filter: group names, role ids
            out[key] = {**val, "groups": sorted(names.name("group", g) for g in val.get("groups") or []),
                        "roleIds": sorted(names.name("role", r) for r in val.get("roleIds") or [])}
        elif kind is None:
            out[key] = val
        elif isinstance(val, list):
            out[key] = [names.name(kind, v) for v in val]
        else:
            out[key] = names.name(kind, val)
    return out


class Builder:
    """Builds the canonical export of one site's seed-format export."""

    def __init__(self, export: Export) -> None:
        self.e = export
        self.n = Names(export)

    def build(self) -> Canonical:
        e, n = self.e, self.n
        out: Canonical = {
            "projectCategories": _by_name(e.get("projectCategories") or [], lambda r: _strip(r)),
            "issueLinkTypes": _by_name(e.get("issueLinkTypes") or [], lambda r: _strip(r)),
            "priorities": _by_name(e.get("priorities") or [], lambda r: _strip(r)),
            "resolutions": _by_name(e.get("resolutions") or [], lambda r: _strip(r)),
            "statuses": {n.name("status", s["id"], bare=True): {"description": s.get("description") or ""}
                         for s in e.get("statuses") or []},
            "issueTypes": {n.name("issuetype", t["id"], bare=True): _strip(t, "scope", "entityId")
                           for t in e.get("issueTypes") or []},
            "users": {user_identity(u): {"displayName": u.get("displayName"), "active": u.get("active"),
                                         "accountType": u.get("accountType")} for u in e.get("users") or []},
            "groups": self._groups(), "projectRoles": self._roles(), "fields": self._fields(),
            "screens": self._screens(), "fieldConfigurations": self._field_configs(),
            "fieldConfigurationSchemes": self._fc_schemes(), "screenSchemes": self._screen_schemes(),
            "issueTypeScreenSchemes": self._its_schemes(), "issueTypeSchemes": self._it_schemes(),
            "prioritySchemes": self._priority_schemes(),
            "workflows": {wf["name"]: _workflow(wf, n) for wf in e.get("workflows") or []},
            "workflowSchemes": self._workflow_schemes(), "permissionSchemes": self._permission_schemes(),
            "notificationSchemes": self._notification_schemes(), "issueSecuritySchemes": self._security(),
            "projects": self._projects(), "filters": self._filters(), "boards": self._boards(),
            "dashboards": self._dashboards(),
        }
        return out

    def _groups(self) -> dict[str, Any]:
        members = self.e.get("groupMembers") or {}
        return {g["name"]: {"members": sorted(self.n.user(m.get("accountId")) for m in
                                              members.get(g.get("groupId") or g["name"], []))}
                for g in self.e.get("groups") or []}

    def _actors(self, actors: list[dict[str, Any]]) -> list[str]:
        out = []
        for a in actors:
            if a.get("actorGroup"):
                g = a["actorGroup"]
                out.append(self.n.name("group", g.get("groupId") or g.get("name")))
            elif a.get("actorUser"):
                out.append(self.n.user(a["actorUser"].get("accountId")))
            else:
                out.append(str(a.get("displayName")))
        return sorted(out)

    def _roles(self) -> dict[str, Any]:
        return {r["name"]: {"description": r.get("description") or "", "default actors": self._actors(
            r.get("actors") or [])} for r in self.e.get("projectRoles") or []}

    def _fields(self) -> dict[str, Any]:
        e, n = self.e, self.n
        out: dict[str, Any] = {}
        for fid, f in n.fields.items():
            contexts = {}
            issue_types = {str(m.get("contextId")): m for m in (e.get("fieldContextIssueTypeMappings") or {})
                           .get(fid, [])}
            it_map: dict[str, list[str]] = {}
            for m in (e.get("fieldContextIssueTypeMappings") or {}).get(fid, []):
                if m.get("issueTypeId"):
                    it_map.setdefault(str(m["contextId"]), []).append(n.name("issuetype", m["issueTypeId"]))
            p_map: dict[str, list[str]] = {}
            for m in (e.get("fieldContextProjectMappings") or {}).get(fid, []):
                if m.get("projectId"):
                    p_map.setdefault(str(m["contextId"]), []).append(n.name("project", m["projectId"]))
            defaults = {str(d.get("contextId")): _default_value(d, n)
                        for d in (e.get("fieldContextDefaults") or {}).get(fid, [])}
            for c in (e.get("fieldContexts") or {}).get(fid, []):
                cid = str(c["id"])
                body = {"description": c.get("description") or "", "global": c.get("isGlobalContext"),
                        "any issue type": c.get("isAnyIssueType") or bool(issue_types.get(cid, {})
                                                                         .get("isAnyIssueType")),
                        "issue types": sorted(it_map.get(cid, [])), "projects": sorted(p_map.get(cid, [])),
                        "options": self._options(cid), "default": defaults.get(cid)}
                _unique(contexts, str(c["name"]), body)
            _unique(out, n.name("field", fid, bare=True).split(" #")[0],
                    {"description": f.get("description") or "", "searcherKey": f.get("searcherKey"),
                     "contexts": contexts})
        return out

    def _options(self, cid: str) -> list[Any]:
        options = (self.e.get("fieldOptions") or {}).get(cid, [])
        by_parent: dict[str, list[Any]] = {}
        for o in options:
            if o.get("optionId"):
                by_parent.setdefault(str(o["optionId"]), []).append(
                    o["value"] if not o.get("disabled") else {"value": o["value"], "disabled": True})
        out: list[Any] = []
        for o in options:
            if o.get("optionId"):
                continue
            item: Any = o["value"]
            if o.get("disabled") or str(o["id"]) in by_parent:
                item = {"value": o["value"], "disabled": bool(o.get("disabled"))}
                if str(o["id"]) in by_parent:
                    item["children"] = by_parent[str(o["id"])]
            out.append(item)
        return out

    def _screens(self) -> dict[str, Any]:
        tabs, fields = self.e.get("screenTabs") or {}, self.e.get("screenTabFields") or {}
        out: dict[str, Any] = {}
        for s in self.e.get("screens") or []:
            body = {"description": s.get("description") or "", "tabs": [
                {"name": t["name"], "fields": [self.n.name("field", f["id"]) for f in fields.get(str(t["id"]), [])]}
                for t in tabs.get(str(s["id"]), [])]}
            _unique(out, s["name"], body)
        return out

    def _field_configs(self) -> dict[str, Any]:
        items = self.e.get("fieldConfigurationItems") or {}
        return {c["name"]: {"description": c.get("description") or "", "items": {
            self.n.name("field", i["id"], bare=True): _strip(i) for i in items.get(str(c["id"]), [])}}
            for c in self.e.get("fieldConfigurations") or []}

    def _fc_schemes(self) -> dict[str, Any]:
        maps: dict[str, dict[str, str]] = {}
        for m in self.e.get("fieldConfigurationSchemeMappings") or []:
            it = "default" if m.get("issueTypeId") in (None, "default") else self.n.name("issuetype", m["issueTypeId"])
            maps.setdefault(str(m["fieldConfigurationSchemeId"]), {})[it] = self.n.name(
                "fieldConfiguration", m["fieldConfigurationId"])
        return {s["name"]: {"description": s.get("description") or "", "mappings": maps.get(str(s["id"]), {})}
                for s in self.e.get("fieldConfigurationSchemes") or []}

    def _screen_schemes(self) -> dict[str, Any]:
        return {s["name"]: {"description": s.get("description") or "", "screens": {
            op: self.n.name("screen", sid) for op, sid in _dict(s.get("screens")).items()}}
            for s in self.e.get("screenSchemes") or []}

    def _its_schemes(self) -> dict[str, Any]:
        maps: dict[str, dict[str, str]] = {}
        for m in self.e.get("issueTypeScreenSchemeMappings") or []:
            it = "default" if m.get("issueTypeId") == "default" else self.n.name("issuetype", m["issueTypeId"])
            maps.setdefault(str(m["issueTypeScreenSchemeId"]), {})[it] = self.n.name("screenScheme",
                                                                                    m["screenSchemeId"])
        return {s["name"]: {"description": s.get("description") or "", "mappings": maps.get(str(s["id"]), {})}
                for s in self.e.get("issueTypeScreenSchemes") or []}

    def _it_schemes(self) -> dict[str, Any]:
        maps: dict[str, list[str]] = {}
        for m in self.e.get("issueTypeSchemeMappings") or []:
            maps.setdefault(str(m["issueTypeSchemeId"]), []).append(self.n.name("issuetype", m["issueTypeId"]))
        return {s["name"]: {"description": s.get("description") or "",
                            "default issue type": self.n.name("issuetype", s.get("defaultIssueTypeId")),
                            "issue types": maps.get(str(s["id"]), [])}
                for s in self.e.get("issueTypeSchemes") or []}

    def _priority_schemes(self) -> dict[str, Any]:
        prios = self.e.get("prioritySchemePriorities") or {}
        return {s["name"]: {"description": s.get("description") or "",
                            "default priority": self.n.name("priority", s.get("defaultPriorityId")),
                            "priorities": [self.n.name("priority", p["id"]) for p in prios.get(str(s["id"]), [])]}
                for s in self.e.get("prioritySchemes") or []}

    def _workflow_schemes(self) -> dict[str, Any]:
        return {s["name"]: {"description": s.get("description") or "", "default workflow": s.get("defaultWorkflow"),
                            "issue types": {self.n.name("issuetype", it): wf for it, wf in
                                            _dict(s.get("issueTypeMappings")).items()}}
                for s in self.e.get("workflowSchemes") or []}

    def _permission_schemes(self) -> dict[str, Any]:
        return {s["name"]: {"description": s.get("description") or "", "grants": sorted(
            f"{g.get('permission')} to {_holder(_dict(g.get('holder')), self.n)}" for g in s.get("permissions") or [])}
            for s in self.e.get("permissionSchemes") or []}

    def _notification_schemes(self) -> dict[str, Any]:
        out = {}
        for s in self.e.get("notificationSchemes") or []:
            events = {}
            for ev in s.get("notificationSchemeEvents") or []:
                events[str(_dict(ev.get("event")).get("name"))] = sorted(self._notification(x)
                                                                       for x in ev.get("notifications") or [])
            out[s["name"]] = {"description": s.get("description") or "", "events": events}
        return out

    def _notification(self, x: dict[str, Any]) -> str:
        kind, param = x.get("notificationType"), x.get("parameter")
        ref = {"Group": "group", "ProjectRole": "role", "User": "user", "UserCustomField": "field",
               "GroupCustomField": "field"}.get(str(kind))
        return f"{kind}: {self.n.name(ref, param)}" if ref else str(kind) + (f": {param}" if param else "")

    def _security(self) -> dict[str, Any]:
        members: dict[str, list[str]] = {}
        for m in self.e.get("issueSecurityLevelMembers") or []:
            members.setdefault(str(m["issueSecurityLevelId"]), []).append(_holder(_dict(m.get("holder")), self.n))
        levels: dict[str, dict[str, Any]] = {}
        for lv in self.e.get("issueSecurityLevels") or []:
            levels.setdefault(str(lv["issueSecuritySchemeId"]), {})[lv["name"]] = {
                "description": lv.get("description") or "", "members": sorted(members.get(str(lv["id"]), []))}
        return {s["name"]: {"description": s.get("description") or "",
                            "default level": self.n.name("securityLevel", s.get("defaultSecurityLevelId"))
                            if s.get("defaultSecurityLevelId") else None,
                            "levels": levels.get(str(s["id"]), {})}
                for s in self.e.get("issueSecuritySchemes") or []}

    def _project_schemes(self) -> dict[str, dict[str, str]]:
        e, n = self.e, self.n
        out: dict[str, dict[str, str]] = {}

        def put(pid: Any, what: str, value: str) -> None:
            out.setdefault(str(pid), {})[what] = value
        for pid, sid in (e.get("projectPermissionSchemes") or {}).items():
            put(pid, "permission scheme", n.name("permissionScheme", sid))
        for pid, sid in (e.get("projectNotificationSchemes") or {}).items():
            put(pid, "notification scheme", n.name("notificationScheme", sid))
        for m in e.get("projectIssueSecuritySchemes") or []:
            put(m["projectId"], "issue security scheme", n.name("issueSecurityScheme", m["issueSecuritySchemeId"]))
        for m in e.get("projectFieldConfigurationSchemes") or []:
            sid = _dict(m.get("fieldConfigurationScheme")).get("id")
            for pid in m.get("projectIds") or []:
                put(pid, "field configuration scheme", n.name("fieldConfigurationScheme", sid) if sid else "default")
        for m in e.get("projectIssueTypeScreenSchemes") or []:
            sid = _dict(m.get("issueTypeScreenScheme")).get("id")
            for pid in m.get("projectIds") or []:
                put(pid, "issue type screen scheme", n.name("issueTypeScreenScheme", sid))
        kinds = {"workflowScheme": "workflowScheme", "issueTypeScheme": "issueTypeScheme",
                 "priorityScheme": "priorityScheme"}
        for pid, assoc in (e.get("projectSchemeAssociations") or {}).items():
            for what, sid in assoc.items():
                put(pid, what, n.name(kinds.get(what, what), sid))
        return out

    def _projects(self) -> dict[str, Any]:
        e, n = self.e, self.n
        schemes = self._project_schemes()
        comps, versions = e.get("projectComponents") or {}, e.get("projectVersions") or {}
        actors = e.get("projectRoleActors") or {}
        out = {}
        for p in e.get("projects") or []:
            pid = str(p["id"])
            out[p["key"]] = {
                "name": p.get("name"), "description": p.get("description") or "",
                "type": p.get("projectTypeKey"), "style": p.get("style"), "private": p.get("isPrivate"),
                "lead": n.user(_dict(p.get("lead")).get("accountId")),
                "default assignee": p.get("assigneeType"),
                "category": n.name("projectCategory", _dict(p.get("projectCategory")).get("id"))
                if p.get("projectCategory") else None,
                "components": _by_name(comps.get(pid, []), lambda c: {
                    "description": c.get("description") or "", "lead": n.user(_dict(c.get("lead")).get("accountId"))
                    if c.get("lead") else None, "assigneeType": c.get("assigneeType")}),
                "versions": [{"name": v["name"], "description": v.get("description") or "",
                              "released": v.get("released"), "archived": v.get("archived"),
                              "startDate": v.get("startDate"), "releaseDate": v.get("releaseDate")}
                             for v in versions.get(pid, [])],
                "role actors": {n.name("role", rid, bare=True): self._actors(a)
                                for rid, a in _dict(actors.get(pid)).items()},
                "schemes": schemes.get(pid, {}),
            }
        return out

    def _filters(self) -> dict[str, Any]:
        n = self.n
        return {n.name("filter", f["id"], bare=True): {
            "description": f.get("description") or "", "jql": canonical_jql(f.get("jql") or "", n),
            "shared with": sorted(_share(s, n) for s in f.get("sharePermissions") or []),
            "editable by": sorted(_share(s, n) for s in f.get("editPermissions") or [])}
            for f in self.e.get("filters") or []}

    def _boards(self) -> dict[str, Any]:
        n, configs = self.n, self.e.get("boardConfigurations") or {}
        out: dict[str, Any] = {}
        for b in self.e.get("boards") or []:
            c = _dict(configs.get(str(b["id"])))
            loc = _dict(c.get("location"))
            body = {"private": b.get("isPrivate"),
                    "location": f"{loc.get('type')} {n.name('project', loc.get('projectKeyOrId'))}"
                    if loc.get("type") == "project" else loc.get("type"),
                    "filter": n.name("filter", _dict(c.get("filter")).get("id")),
                    "sub-query": canonical_jql(str(_dict(c.get("subQuery")).get("query") or ""), n),
                    "columns": [{"name": col.get("name"), "statuses": [n.name("status", s.get("id"))
                                                                         for s in col.get("statuses") or []]}
                                for col in _dict(c.get("columnConfig")).get("columns") or []],
                    "constraint": _dict(c.get("columnConfig")).get("constraintType"),
                    "ranking": n.name("field", f"customfield_{_dict(c.get('ranking')).get('rankCustomFieldId')}")
                    if c.get("ranking") else None}
            _unique(out, n.name("board", b["id"], bare=True), body)
        return out

    def _dashboards(self) -> dict[str, Any]:
        n, gadgets = self.n, self.e.get("dashboardGadgets") or {}
        out: dict[str, Any] = {}
        for d in self.e.get("dashboards") or []:
            body = {"description": d.get("description") or "",
                    "shared with": sorted(_share(s, n) for s in d.get("sharePermissions") or []),
                    "editable by": sorted(_share(s, n) for s in d.get("editPermissions") or []),
                    "gadgets": [self._gadget(g) for g in gadgets.get(str(d["id"]), [])]}
            _unique(out, n.name("dashboard", d["id"], bare=True), body)
        return out

    def _gadget(self, g: dict[str, Any]) -> dict[str, Any]:
        out = _strip(g)
        props = out.pop("properties", None)
        if isinstance(props, dict):  # item properties (gadget configuration), JQL and ids inside strings
            out["configuration"] = {k: self._config_value(k, v) for k, v in props.items()}
        return out

    def _config_value(self, key: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._config_value(k, v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        low = key.lower()
        if "jql" in low:
            return canonical_jql(value, self.n)
        if low in ("filterid", "filter_id") or value.startswith("filter-"):
            return self.n.name("filter", value.removeprefix("filter-"))
        if low in ("projectid", "project_id") or value.startswith("project-"):
            return self.n.name("project", value.removeprefix("project-"))
        if low in ("statistictype", "xstattype", "ystattype") and value.startswith("customfield_"):
            return self.n.name("field", value)
        return value


def canonical_export(site: Any) -> Canonical:
    """The site's configuration, type -> natural key -> object, every reference named in that site's terms.

    ``site`` is an emulated ``Site`` or its seed-format export (``GET /_emulator/export``).
    """
    if isinstance(site, dict):
        export = site
    else:
        from .seeding import export_site

        export = export_site(site)
    return Builder(export).build()


# -------------------------------------------------------------------------------------------------- compare


@dataclass(frozen=True)
class Difference:
    type: str
    key: str
    path: tuple[str, ...]
    source: Any
    destination: Any
    words: str

    def __str__(self) -> str:
        return self.words


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> {"identical", "total"}

    @property
    def identical(self) -> int:
        return sum(c["identical"] for c in self.counts.values())

    @property
    def total(self) -> int:
        return sum(c["total"] for c in self.counts.values())


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value if value.startswith(("<missing", "none")) or " '" in value or ' "' in value else repr(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _diff(src: Any, dst: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any, Any]]:
    if src == dst:
        return []
    if isinstance(src, dict) and isinstance(dst, dict):
        out = []
        for k in list(src) + [k for k in dst if k not in src]:
            if k not in dst:
                out.append(((*path, str(k)), src[k], "<absent>"))
            elif k not in src:
                if dst[k] not in (None, "", [], {}):
                    out.append(((*path, str(k)), "<absent>", dst[k]))
            else:
                out += _diff(src[k], dst[k], (*path, str(k)))
        return out
    if isinstance(src, list) and isinstance(dst, list) and len(src) == len(dst) and all(
            isinstance(x, dict) for x in src + dst):
        out = []
        for i, (a, b) in enumerate(zip(src, dst, strict=True)):
            name = a.get("name") if isinstance(a.get("name"), str) else f"#{i + 1}"
            out += _diff(a, b, (*path, str(name)))
        return out
    if isinstance(src, list) and isinstance(dst, list) and len(src) == len(dst) and sorted(map(str, src)) != sorted(
            map(str, dst)):
        pairs = [(a, b) for a, b in zip(src, dst, strict=True) if a != b]
        if len(pairs) == 1:
            return [(path, pairs[0][0], pairs[0][1])]
    return [(path, src, dst)]


def _words(type_key: str, key: str, path: tuple[str, ...], src: Any, dst: Any) -> str:
    where = " ".join([f"{TYPE_LABELS.get(type_key, type_key)} '{key}'", *[_segment(p) for p in path]])
    if isinstance(src, list) and isinstance(dst, list) and all(isinstance(x, str) for x in src + dst):
        gone, extra = [x for x in src if x not in dst], [x for x in dst if x not in src]
        if gone or extra:
            parts = ([f"the destination lacks {', '.join(gone)}"] if gone else []) + (
                [f"has {', '.join(extra)} that the source doesn't"] if extra else [])
            return f"{where}: {'; '.join(parts)}"
    return f"{where}: {_show(src)} on the source, {_show(dst)} on the destination"


def _segment(part: str) -> str:
    return part if part.startswith(("#", "<")) or (" " in part and "'" not in part and part.islower()) \
        else f"'{part}'" if part[:1].isupper() or " " in part or ":" in part else part


def compare(source: Canonical, destination: Canonical) -> Comparison:
    """Differences between two canonical exports, in words, and per-type identical / total counts.

    Objects only the destination has (a new site's defaults) are not differences.
    """
    result = Comparison()
    for type_key, objects in source.items():
        theirs = destination.get(type_key, {})
        same = 0
        for key, obj in objects.items():
            if key not in theirs:
                result.differences.append(Difference(type_key, key, (), obj, None,
                                                     f"{TYPE_LABELS.get(type_key, type_key)} '{key}': missing on "
                                                     "the destination"))
                continue
            found = _diff(obj, theirs[key], ())
            same += not found
            for path, a, b in found:
                result.differences.append(Difference(type_key, key, path, a, b, _words(type_key, key, path, a, b)))
        result.counts[type_key] = {"identical": same, "total": len(objects)}
    return result


def classify(diff: Difference) -> str:
    """A short class for grouping differences into a work list (type + what kind of value differs)."""
    if diff.destination is None and not diff.path:
        return f"{diff.type}: missing on the destination"
    text = f"{_show(diff.source)} {_show(diff.destination)}"
    tail = diff.path[-1] if diff.path else ""
    what = "missing reference" if "<missing" in text else "value"
    if diff.type == "workflows" and len(diff.path) >= 3 and diff.path[0] == "transitions":
        return f"workflows: {diff.path[2]} {what}"
    if diff.type == "fields" and "default" in diff.path:
        return f"fields: default value {what}"
    return f"{diff.type}: {tail} {what}".replace("  ", " ")
