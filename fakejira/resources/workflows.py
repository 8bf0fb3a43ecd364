"""Workflows (the new bulk API and the classic search) and workflow schemes with drafts and project assignment."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from typing import Any

from ..paging import page_bean
from ..registry import Ctx, JiraError, Reply, bad_request, handles, not_found, seed_type, site_defaults
from ..site import Site
from ._common import (
    API,
    api_url,
    body_of,
    export_records,
    public,
    required_text,
    scheme_of,
    seed_records,
    set_scheme,
    stored_or_404,
)
from .basics import check_status_input, create_status
from .schemes import PROJECT_PERMISSIONS, find_user, group_ref, role_ref

JIRA_WORKFLOW = "jira"
DEFAULT_SCHEME_NAME = "Default Workflow Scheme"
_LEVEL_ERROR = "ERROR"

# --------------------------------------------------------------------------- look-ups shared with other modules


def workflow_by_name(site: Site, name: str) -> dict[str, Any] | None:
    # (Store.find can't match a field called "name": that is its own first parameter)
    return next((w for w in site.store.values("workflows") if w["name"] == name), None)


def _scheme_workflow_names(scheme: dict[str, Any]) -> set[str]:
    names = set((scheme.get("issueTypeMappings") or {}).values())
    if scheme.get("defaultWorkflow"):
        names.add(scheme["defaultWorkflow"])
    return names


def active_workflow_names(site: Site) -> set[str]:
    """Workflows used by a project through its workflow scheme (the default scheme uses ``jira``)."""
    names: set[str] = set()
    for project in site.store.values("projects"):
        sid = scheme_of(project, "workflowScheme")
        scheme = site.store.get("workflowSchemes", sid) if sid else None
        names |= _scheme_workflow_names(scheme) if scheme else {JIRA_WORKFLOW}
    return names


def workflows_using_status(site: Site, status_id: str) -> list[str]:
    """Names of workflows that contain ``status_id``."""
    return [w["name"] for w in site.store.values("workflows")
            if any(s["statusReference"] == status_id for s in w.get("statuses", []))]


def on_issue_type_deleted(site: Site, type_id: str) -> None:
    """Drop a deleted issue type from every scheme's mappings (and drafts), as Jira does."""
    for scheme in site.store.values("workflowSchemes"):
        for holder in (scheme, scheme.get("_draft") or {}):
            (holder.get("issueTypeMappings") or {}).pop(type_id, None)


# --------------------------------------------------------------------------- workflow validation


def _error(message: str, kind: str, code: str, **ref: str) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "level": _LEVEL_ERROR, "message": message, "type": kind}
    if ref:
        out["elementReference"] = ref
    return out


def _resolve_statuses(site: Site, statuses: Any, scope: dict[str, Any],
                      errors: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Map each request ``statusReference`` to an existing status or a definition to create."""
    refs: dict[str, dict[str, Any]] = {}
    for item in statuses or []:
        ref = item.get("statusReference") if isinstance(item, dict) else None
        if not ref:
            errors.append(_error("A status reference is required.", "STATUS", "MISSING_STATUS_REFERENCE"))
            continue
        if item.get("id") is not None:
            if site.store.get("statuses", str(item["id"])) is None:
                errors.append(_error(f"The status with ID {item['id']} does not exist.", "STATUS",
                                     "STATUS_NOT_FOUND", statusReference=ref))
            refs[ref] = {"id": str(item["id"])}
            continue
        try:
            check_status_input(site, item, scope)
        except JiraError as exc:
            errors.append(_error((exc.error_messages or ["Invalid status."])[0], "STATUS", "INVALID_STATUS",
                                 statusReference=ref))
            continue
        refs[ref] = {"new": item}
    return refs


def _status_id_of(site: Site, ref: str, refs: dict[str, dict[str, Any]]) -> str | None:
    if ref in refs:
        return refs[ref].get("id")
    return ref if site.store.get("statuses", ref) is not None else None


def _validate_workflow(site: Site, wf: Any, refs: dict[str, dict[str, Any]], errors: list[dict[str, Any]],
                       *, name: str) -> None:
    """Structure checks shared by create and update: statuses, transitions, links, rules."""
    if not isinstance(wf.get("statuses"), list) or not isinstance(wf.get("transitions"), list):
        errors.append(_error(f"Workflow '{name}' must list statuses and transitions.", "WORKFLOW",
                             "INVALID_WORKFLOW"))
        return
    mine = set()
    for layout in wf["statuses"]:
        ref = (layout or {}).get("statusReference")
        if not ref or (ref not in refs and site.store.get("statuses", ref) is None):
            errors.append(_error(f"The status reference '{ref}' is not defined.", "STATUS_LAYOUT",
                                 "STATUS_REFERENCE_NOT_FOUND", statusReference=str(ref)))
        mine.add(ref)
    if not mine:
        errors.append(_error("A workflow must contain at least one status.", "WORKFLOW", "NO_STATUSES"))
    seen_ids, initial = set(), 0
    for tr in wf["transitions"]:
        tid = str(tr.get("id", ""))
        if not tid or tid in seen_ids:
            errors.append(_error(f"Transition IDs must be unique and present: '{tid}'.", "TRANSITION",
                                 "INVALID_TRANSITION_ID", transitionId=tid))
        seen_ids.add(tid)
        if not str(tr.get("name", "")).strip():
            errors.append(_error("A transition name is required.", "TRANSITION", "MISSING_NAME", transitionId=tid))
        if tr.get("type") not in ("INITIAL", "GLOBAL", "DIRECTED"):
            errors.append(_error(f"Invalid transition type '{tr.get('type')}'.", "TRANSITION", "INVALID_TYPE",
                                 transitionId=tid))
        initial += tr.get("type") == "INITIAL"
        if tr.get("toStatusReference") not in mine:
            errors.append(_error(f"The transition '{tr.get('name')}' goes to a status that is not in the workflow.",
                                 "TRANSITION", "TO_STATUS_NOT_IN_WORKFLOW", transitionId=tid))
        for link in tr.get("links") or []:
            if link.get("fromStatusReference") not in mine:
                errors.append(_error(f"The transition '{tr.get('name')}' starts at a status that is not in the "
                                     "workflow.", "TRANSITION", "FROM_STATUS_NOT_IN_WORKFLOW", transitionId=tid))
        _validate_screen(site, tr, tid, errors)
        _validate_rules(site, tr, tid, errors)
    if initial != 1:
        errors.append(_error("A workflow must have exactly one initial transition.", "WORKFLOW",
                             "INVALID_INITIAL_TRANSITION_COUNT"))


def _validate_screen(site: Site, tr: dict[str, Any], tid: str, errors: list[dict[str, Any]]) -> None:
    screen = (tr.get("transitionScreen") or {}).get("parameters") or {}
    sid = screen.get("screenId")
    if sid and site.store.get("screens", str(sid)) is None:
        errors.append(_error(f"The screen with ID {sid} does not exist.", "RULE", "SCREEN_NOT_FOUND",
                             transitionId=tid))


# Rule parameters (spec: GET /workflows/capabilities, the catalogue of Atlassian-provided rules) -> the kind of
# object the parameter's comma-separated values name. Jira refuses a rule naming something the site doesn't have;
# its exact texts aren't published, so the messages below are plausible wording in the shape of its others.
RULE_PARAMETERS = {
    "roleIds": "role", "groupIds": "group", "groupsExemptFromValidation": "group", "accountIds": "user",
    "accountId": "user", "agentId": "user", "permissionKeys": "permission", "permissionKey": "permission",
    "groupCustomFields": "groupField", "allowUserCustomFields": "userField", "denyUserCustomFields": "userField",
    "fieldsRequired": "field", "fieldKey": "field", "fieldId": "field", "date1FieldKey": "field",
    "date2FieldKey": "field", "sourceFieldKey": "field", "targetFieldKey": "field", "field": "field",
    "remindingFieldIds": "field", "statusIds": "status", "previousStatusIds": "status", "fromStatusId": "status",
    "toStatusId": "status", "screenId": "screen",
}
GENERIC_ACCOUNTS = frozenset({"allow-assignee", "allow-reporter", "accountIds"})
# update-field: the kind of object ``value`` names when ``field`` is one of these system fields
UPDATE_FIELD_VALUES = {"resolution": "resolution", "priority": "priority", "assignee": "user", "reporter": "user",
                       "issuetype": "issuetype", "components": "component", "fixVersions": "version",
                       "versions": "version"}
_RULE_WORDS = {
    "role": "The project role with ID '{}' does not exist.", "group": "The group with ID '{}' does not exist.",
    "user": "The user with account ID '{}' does not exist.", "permission": "The permission key '{}' is not valid.",
    "field": "The field with ID '{}' does not exist.",
    "groupField": "The field with ID '{}' does not exist or is not a group picker custom field.",
    "userField": "The field with ID '{}' does not exist or is not a user picker custom field.",
    "status": "The status with ID '{}' does not exist.", "screen": "The screen with ID '{}' does not exist.",
    "resolution": "The resolution with ID '{}' does not exist.", "priority": "The priority with ID '{}' does not "
    "exist.", "issuetype": "The issue type with ID '{}' does not exist.", "component": "The component with ID "
    "'{}' does not exist.", "version": "The version with ID '{}' does not exist.",
    "option": "The option with ID '{}' does not exist for the field '{}'.",
}


def _custom_type(site: Site, field_id: str) -> tuple[str | None, str | None]:
    """(schema type, items) of a custom field, or (None, None) when there is no such custom field."""
    field = site.store.get("fields", field_id)
    if field is None or not str(field_id).startswith("customfield_"):
        return None, None
    schema = field.get("schema") or {}
    return schema.get("type"), schema.get("items")


def _option_ids(site: Site, field_id: str) -> set[str]:
    contexts = {c["id"] for c in site.store.values("fieldContexts") if c.get("_fieldId") == field_id}
    return {str(o["id"]) for o in site.store.values("fieldOptions") if o.get("_contextId") in contexts}


def rule_value_exists(site: Site, kind: str, value: str) -> bool:
    """Whether one rule parameter value names something this site has."""
    store = site.store
    if kind == "role":
        return role_ref(site, value) is not None
    if kind == "group":
        return group_ref(site, group_id=value) is not None
    if kind == "user":
        return value in GENERIC_ACCOUNTS or find_user(site, value) is not None
    if kind == "permission":
        return value in PROJECT_PERMISSIONS
    if kind == "field":
        return store.get("fields", value) is not None
    if kind in ("groupField", "userField"):
        type_, items = _custom_type(site, value)
        return (items if type_ == "array" else type_) == kind.removesuffix("Field")
    collection = {"status": "statuses", "screen": "screens", "resolution": "resolutions", "priority": "priorities",
                  "issuetype": "issueTypes", "component": "components", "version": "versions"}.get(kind)
    return collection is None or store.get(collection, value) is not None


def _rules_of(tr: dict[str, Any]) -> list[dict[str, Any]]:
    """Every rule of a transition: conditions (at any depth), validators and post functions."""
    out: list[dict[str, Any]] = []
    groups = [tr.get("conditions")] if isinstance(tr.get("conditions"), dict) else []
    while groups:
        group = groups.pop()
        out += [r for r in group.get("conditions") or [] if isinstance(r, dict)]
        groups += [g for g in group.get("conditionGroups") or [] if isinstance(g, dict)]
    for key in ("validators", "actions"):
        out += [r for r in tr.get(key) or [] if isinstance(r, dict)]
    return out


def rule_problems(site: Site, rule: dict[str, Any]) -> list[str]:
    """What the rule's parameters name that the site doesn't have, in words (empty: the rule is valid)."""
    params = rule.get("parameters") or {}
    problems = []
    for key, kind in RULE_PARAMETERS.items():
        raw = params.get(key)
        if raw in (None, ""):
            continue
        for value in (v.strip() for v in str(raw).split(",")):
            if value and not rule_value_exists(site, kind, value):
                problems.append(_RULE_WORDS[kind].format(value))
    target = str(params.get("field") or "")
    if rule.get("ruleKey") == "system:update-field" and params.get("value") not in (None, ""):
        type_, items = _custom_type(site, target)
        if (items if type_ == "array" else type_) in ("option", "option-with-child"):
            options = _option_ids(site, target)
            problems += [_RULE_WORDS["option"].format(v, target) for v in str(params["value"]).split(",")
                         if v.strip() not in options]
        elif target in UPDATE_FIELD_VALUES:
            kind = UPDATE_FIELD_VALUES[target]
            problems += [_RULE_WORDS[kind].format(v.strip()) for v in str(params["value"]).split(",")
                         if v.strip() and not rule_value_exists(site, kind, v.strip())]
    if rule.get("ruleKey") == "system:check-field-value" and params.get("comparisonType") == "OPTIONID":
        field_id = str(params.get("fieldId") or "")
        try:
            wanted = [str(v) for v in json.loads(params.get("fieldValue") or "[]")]
        except (TypeError, ValueError):
            wanted = [str(params.get("fieldValue"))]
        options = _option_ids(site, field_id)
        problems += [_RULE_WORDS["option"].format(v, field_id) for v in wanted if v not in options]
    return problems


def _validate_rules(site: Site, tr: dict[str, Any], tid: str, errors: list[dict[str, Any]]) -> None:
    for rule in _rules_of(tr):
        for problem in rule_problems(site, rule):
            ref = {"transitionId": tid}
            if rule.get("id"):
                ref["ruleId"] = str(rule["id"])
            errors.append(_error(problem, "RULE", "INVALID_RULE_CONFIGURATION", **ref))


def _scope_of(site: Site, scope: Any, errors: list[dict[str, Any]]) -> dict[str, Any]:
    scope = scope or {"type": "GLOBAL"}
    if scope.get("type") == "PROJECT":
        pid = str((scope.get("project") or {}).get("id", ""))
        if site.store.get("projects", pid) is None:
            errors.append(_error(f"The project with ID {pid} does not exist.", "SCOPE", "PROJECT_NOT_FOUND"))
        return {"type": "PROJECT", "project": {"id": pid}}
    if scope.get("type") != "GLOBAL":
        errors.append(_error("The scope type must be GLOBAL or PROJECT.", "SCOPE", "INVALID_SCOPE"))
    return {"type": "GLOBAL"}


def _validate_create(site: Site, payload: Any) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if not isinstance(payload, dict):
        return [_error("The request payload is missing.", "WORKFLOW", "MISSING_PAYLOAD")], {}, {}
    scope = _scope_of(site, payload.get("scope"), errors)
    refs = _resolve_statuses(site, payload.get("statuses"), scope, errors)
    names: set[str] = set()
    for wf in payload.get("workflows") or []:
        name = str((wf or {}).get("name", "")).strip()
        if not name:
            errors.append(_error("A workflow name is required.", "WORKFLOW", "MISSING_NAME"))
            continue
        if name.casefold() in names or any(w["name"].casefold() == name.casefold()
                                           for w in site.store.values("workflows")):
            errors.append(_error(f"A workflow with the name '{name}' already exists.", "WORKFLOW",
                                 "NON_UNIQUE_WORKFLOW_NAME"))  # plausible wording
        names.add(name.casefold())
        _validate_workflow(site, wf, refs, errors, name=name)
    if not payload.get("workflows"):
        errors.append(_error("At least one workflow must be provided.", "WORKFLOW", "NO_WORKFLOWS"))
    return errors, refs, scope


def _materialise(site: Site, refs: dict[str, dict[str, Any]], scope: dict[str, Any]) -> dict[str, str]:
    """Create the statuses a payload defines; returns request reference -> status id."""
    out: dict[str, str] = {}
    for ref, target in refs.items():
        if "id" in target:
            out[ref] = target["id"]
        else:
            item = target["new"]
            out[ref] = create_status(site, item["name"].strip(), item["statusCategory"],
                                     item.get("description") or "", scope)["id"]
    return out


def _rewrite(wf: dict[str, Any], ids: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The workflow's statuses and transitions with request references replaced by status ids."""
    statuses = []
    for layout in wf["statuses"]:
        item = {"deprecated": False, "properties": dict(layout.get("properties") or {}),
                "statusReference": ids.get(layout["statusReference"], layout["statusReference"])}
        if layout.get("layout"):
            item["layout"] = copy.deepcopy(layout["layout"])
        if layout.get("approvalConfiguration"):
            item["approvalConfiguration"] = copy.deepcopy(layout["approvalConfiguration"])
        statuses.append(item)
    transitions = []
    for tr in wf["transitions"]:
        item = {"actions": copy.deepcopy(tr.get("actions") or []), "description": tr.get("description") or "",
                "id": str(tr["id"]), "links": [], "name": tr["name"], "properties": dict(tr.get("properties") or {}),
                "toStatusReference": ids.get(tr["toStatusReference"], tr["toStatusReference"]),
                "triggers": copy.deepcopy(tr.get("triggers") or []), "type": tr["type"],
                "validators": copy.deepcopy(tr.get("validators") or [])}
        for link in tr.get("links") or []:
            item["links"].append({**copy.deepcopy(link),
                                  "fromStatusReference": ids.get(link["fromStatusReference"],
                                                                 link["fromStatusReference"])})
        for optional in ("conditions", "transitionScreen", "customIssueEventId"):
            if tr.get(optional):
                item[optional] = copy.deepcopy(tr[optional])
        transitions.append(item)
    return statuses, transitions


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


# --------------------------------------------------------------------------- workflow rendering


def _workflow_json(site: Site, record: dict[str, Any], *, transitions: bool = True) -> dict[str, Any]:
    out = public(record)
    out["isEditable"] = record.get("isEditable", True) and record["name"] not in active_workflow_names(site)
    if not transitions:
        out.pop("transitions", None)
    return out


def _status_json(site: Site, sid: str) -> dict[str, Any] | None:
    status = site.store.get("statuses", sid)
    if status is None:
        return None
    return {**public(status), "statusReference": sid}


def _statuses_of(site: Site, workflows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for wf in workflows:
        for layout in wf.get("statuses", []):
            sid = layout["statusReference"]
            if sid not in seen and (js := _status_json(site, sid)) is not None:
                seen[sid] = js
    return list(seen.values())


def _workflow(site: Site, entity_id: str) -> dict[str, Any]:
    return stored_or_404(site, "workflows", entity_id,
                         f"Workflow with ID '{entity_id}' not found.")  # plausible wording


# --------------------------------------------------------------------------- workflow endpoints


@handles("POST", f"{API}/workflows")
def read_workflows(ctx: Ctx) -> dict[str, Any]:
    body = body_of(ctx)
    found: list[dict[str, Any]] = []
    for wid in body.get("workflowIds") or []:
        if (wf := ctx.site.store.get("workflows", str(wid))) is not None and wf not in found:
            found.append(wf)
    for name in body.get("workflowNames") or []:
        if (wf := workflow_by_name(ctx.site, name)) is not None and wf not in found:
            found.append(wf)
    for pair in body.get("projectAndIssueTypes") or []:
        project = ctx.site.store.get("projects", str(pair.get("projectId")))
        if project is None:
            continue
        name = workflow_for_issue_type(ctx.site, project, str(pair.get("issueTypeId")))
        if (wf := workflow_by_name(ctx.site, name)) is not None and wf not in found:
            found.append(wf)
    return {"workflows": [_workflow_json(ctx.site, w) for w in found], "statuses": _statuses_of(ctx.site, found)}


@handles("GET", f"{API}/workflows/search")
def search_workflows(ctx: Ctx) -> dict[str, Any]:
    items = list(ctx.site.store.values("workflows"))
    text = (ctx.arg("queryString") or "").casefold()
    if text:
        items = [w for w in items if text in w["name"].casefold()]
    if ctx.arg("isActive") in ("true", "false"):
        active = active_workflow_names(ctx.site)
        items = [w for w in items if (w["name"] in active) == (ctx.arg("isActive") == "true")]
    if ctx.arg("scope"):
        items = [w for w in items if (w.get("scope") or {}).get("type") == ctx.arg("scope")]
    order = ctx.arg("orderBy")
    if order:
        field = order.lstrip("+-")
        if field not in ("name", "created", "updated"):
            raise bad_request(f"The 'orderBy' parameter value '{order}' is invalid.")  # plausible wording
        items.sort(key=lambda w: str(w.get(field, "")).casefold(), reverse=order.startswith("-"))
    with_transitions = "values.transitions" in ctx.list_arg("expand")
    bean = page_bean(ctx, items)
    bean["statuses"] = _statuses_of(ctx.site, bean["values"])
    bean["values"] = [_workflow_json(ctx.site, w, transitions=with_transitions) for w in bean["values"]]
    return bean


@handles("POST", f"{API}/workflows/create/validation")
def validate_create(ctx: Ctx) -> dict[str, Any]:
    body = body_of(ctx)
    errors, _refs, _scope = _validate_create(ctx.site, body.get("payload"))
    return {"errors": _filter_levels(errors, body.get("validationOptions"))}


def _filter_levels(errors: list[dict[str, Any]], options: Any) -> list[dict[str, Any]]:
    levels = set((options or {}).get("levels") or ["ERROR", "WARNING"])
    return [e for e in errors if e["level"] in levels]


@handles("POST", f"{API}/workflows/create")
def create_workflows(ctx: Ctx) -> dict[str, Any]:
    payload = body_of(ctx)
    errors, refs, scope = _validate_create(ctx.site, payload)
    if errors:
        raise bad_request(*[e["message"] for e in errors])
    ids = _materialise(ctx.site, refs, scope)
    created = []
    for wf in payload["workflows"]:
        statuses, transitions = _rewrite(wf, ids)
        now = _now()
        record: dict[str, Any] = {"id": str(uuid.uuid4()), "name": wf["name"].strip(),
                                  "description": wf.get("description") or "", "scope": copy.deepcopy(scope),
                                  "statuses": statuses, "transitions": transitions,
                                  "version": {"id": str(uuid.uuid4()), "versionNumber": 0},
                                  "created": now, "updated": now, "isEditable": True}
        for layout in ("startPointLayout", "loopedTransitionContainerLayout"):
            if wf.get(layout):
                record[layout] = copy.deepcopy(wf[layout])
        ctx.site.store.put("workflows", record["id"], record)
        created.append(record)
    return {"workflows": [_workflow_json(ctx.site, w) for w in created],
            "statuses": _statuses_of(ctx.site, created)}


def _structure(statuses: list[dict[str, Any]], transitions: list[dict[str, Any]]) -> Any:
    """What can't change on an active workflow: its status set and its transitions' graph."""
    graph = sorted((t["id"], t["type"], t["toStatusReference"],
                    tuple(sorted(link["fromStatusReference"] for link in t.get("links") or [])))
                   for t in transitions)
    return sorted(s["statusReference"] for s in statuses), graph


def _validate_update(site: Site, payload: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if not isinstance(payload, dict) or not payload.get("workflows"):
        return [_error("At least one workflow must be provided.", "WORKFLOW", "NO_WORKFLOWS")], {}
    refs = _resolve_statuses(site, payload.get("statuses"), {"type": "GLOBAL"}, errors)
    active = active_workflow_names(site)
    for wf in payload["workflows"]:
        record = site.store.get("workflows", str((wf or {}).get("id")))
        if record is None:
            errors.append(_error(f"Workflow with ID '{(wf or {}).get('id')}' not found.", "WORKFLOW",
                                 "WORKFLOW_NOT_FOUND"))
            continue
        if not record.get("isEditable", True):
            errors.append(_error(f"The workflow '{record['name']}' is read-only and can't be edited.", "WORKFLOW",
                                 "READ_ONLY_WORKFLOW"))  # plausible wording
            continue
        version = (wf.get("version") or {}).get("versionNumber")
        if version != record["version"]["versionNumber"]:
            errors.append(_error(f"The workflow '{record['name']}' has been changed since version {version}.",
                                 "WORKFLOW", "OUTDATED_WORKFLOW_VERSION"))  # plausible wording
        _validate_workflow(site, wf, refs, errors, name=record["name"])
        if record["name"] in active and not errors:
            ids = {ref: t.get("id", ref) for ref, t in refs.items()}
            if any("new" in t for t in refs.values()) or \
                    _structure(*_rewrite(wf, ids)) != _structure(record["statuses"], record["transitions"]):
                # the emulator's wall: an active workflow's statuses and transitions can't be edited in place
                errors.append(_error(f"The workflow '{record['name']}' is active; its statuses and transitions "
                                     "can't be changed in place.", "WORKFLOW", "ACTIVE_WORKFLOW"))
    return errors, refs


@handles("POST", f"{API}/workflows/update/validation")
def validate_update(ctx: Ctx) -> dict[str, Any]:
    body = body_of(ctx)
    errors, _refs = _validate_update(ctx.site, body.get("payload"))
    return {"errors": _filter_levels(errors, body.get("validationOptions"))}


@handles("POST", f"{API}/workflows/update")
def update_workflows(ctx: Ctx) -> dict[str, Any]:
    payload = body_of(ctx)
    errors, refs = _validate_update(ctx.site, payload)
    if errors:
        raise bad_request(*[e["message"] for e in errors])
    ids = _materialise(ctx.site, refs, {"type": "GLOBAL"})
    updated = []
    for wf in payload["workflows"]:
        record = ctx.site.store.get("workflows", str(wf["id"]))
        record["statuses"], record["transitions"] = _rewrite(wf, ids)
        if "description" in wf:
            record["description"] = wf["description"] or ""
        for layout in ("startPointLayout", "loopedTransitionContainerLayout"):
            if wf.get(layout):
                record[layout] = copy.deepcopy(wf[layout])
        record["version"] = {"id": str(uuid.uuid4()), "versionNumber": record["version"]["versionNumber"] + 1}
        record["updated"] = _now()
        updated.append(record)
    return {"workflows": [_workflow_json(ctx.site, w) for w in updated],
            "statuses": _statuses_of(ctx.site, updated)}


@handles("DELETE", f"{API}/workflow/{{entityId}}")
def delete_workflow(ctx: Ctx) -> Reply:
    record = _workflow(ctx.site, ctx.path_params["entityId"])
    if not record.get("isEditable", True):
        raise bad_request("Cannot delete a system workflow.")  # plausible wording
    if record["name"] in active_workflow_names(ctx.site):
        raise bad_request(f"Cannot delete an active workflow '{record['name']}'.")  # plausible wording
    for scheme in ctx.site.store.values("workflowSchemes"):
        for holder in (scheme, scheme.get("_draft") or {}):
            if record["name"] in _scheme_workflow_names(holder):
                raise bad_request(f"Cannot delete workflow '{record['name']}': it is used by workflow scheme "
                                  f"'{scheme['name']}'.")  # plausible wording
    ctx.site.store.delete("workflows", record["id"])
    return Reply(204)


@handles("GET", f"{API}/workflow/search")
def classic_search(ctx: Ctx) -> dict[str, Any]:
    """The deprecated classic search: ``Workflow`` objects (statuses/transitions on expand)."""
    items = list(ctx.site.store.values("workflows"))
    names = set(ctx.query.getlist("workflowName"))
    if names:
        items = [w for w in items if w["name"] in names]
    text = (ctx.arg("queryString") or "").casefold()
    if text:
        items = [w for w in items if text in w["name"].casefold()]
    expand = set(ctx.list_arg("expand"))
    bean = page_bean(ctx, items)
    bean["values"] = [_classic_json(ctx.site, w, expand) for w in bean["values"]]
    return bean


def _classic_json(site: Site, record: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": {"name": record["name"], "entityId": record["id"]},
                           "description": record.get("description", ""),
                           "isDefault": record["name"] == JIRA_WORKFLOW}
    if "statuses" in expand:
        known = [site.store.get("statuses", s["statusReference"]) for s in record["statuses"]]
        out["statuses"] = [{"id": s["id"], "name": s["name"]} for s in known if s is not None]
    if "transitions" in expand:
        out["transitions"] = [{"id": t["id"], "name": t["name"], "description": t.get("description", ""),
                               "from": [link["fromStatusReference"] for link in t.get("links") or []],
                               "to": t["toStatusReference"], "type": t["type"].lower()}
                              for t in record.get("transitions", [])]
    return out


def _check_seed_workflow(site: Site, item: dict[str, Any]) -> None:
    for layout in item.get("statuses", []):
        if site.store.get("statuses", layout["statusReference"]) is None:
            raise ValueError(f"seed workflows: workflow {item.get('name')!r} names unknown status "
                             f"{layout['statusReference']} (statusReference must be a status id)")


@seed_type("workflows", exporter=lambda site: export_records(site, "workflows"),
           after=("statuses",))
def seed_workflows(site: Site, data: Any) -> None:
    """Seed value: ``GET /workflows/search?expand=values.transitions`` values (replacing the defaults)."""
    site.store.coll("workflows").clear()
    seed_records(site, "workflows", data, kind="workflow", check=_check_seed_workflow)


# --------------------------------------------------------------------------- workflow schemes


def _default_scheme_json(site: Site) -> dict[str, Any]:
    """The Default Workflow Scheme: stored without an id, so Jira returns none."""
    return {"name": DEFAULT_SCHEME_NAME, "description": "Default Workflow Scheme", "defaultWorkflow": JIRA_WORKFLOW,
            "issueTypeMappings": {}, "self": api_url(site, "/workflowscheme/project")}


def workflow_scheme(site: Site, sid: Any) -> dict[str, Any]:
    """The stored workflow scheme ``sid``; 404 in Jira's words otherwise."""
    return stored_or_404(site, "workflowSchemes", sid, "The workflow scheme was not found.")  # Jira's wording


def _is_active(site: Site, scheme: dict[str, Any]) -> bool:
    return any(scheme_of(p, "workflowScheme") == str(scheme["id"]) for p in site.store.values("projects"))


def workflow_for_issue_type(site: Site, project: dict[str, Any], type_id: str) -> str:
    """The workflow name a project uses for an issue type."""
    sid = scheme_of(project, "workflowScheme")
    scheme = site.store.get("workflowSchemes", sid) if sid else None
    if scheme is None:
        return JIRA_WORKFLOW
    return (scheme.get("issueTypeMappings") or {}).get(type_id) or scheme.get("defaultWorkflow") or JIRA_WORKFLOW


def _scheme_json(site: Site, record: dict[str, Any], *, draft: bool = False) -> dict[str, Any]:
    if draft and record.get("_draft"):
        out = {**public(record), **copy.deepcopy(record["_draft"]), "draft": True,
               "originalDefaultWorkflow": record.get("defaultWorkflow", JIRA_WORKFLOW),
               "originalIssueTypeMappings": copy.deepcopy(record.get("issueTypeMappings") or {})}
        return out
    return public(record)


def _check_mapping_refs(site: Site, default: Any, mappings: Any) -> None:
    if default is not None and workflow_by_name(site, str(default)) is None:
        raise bad_request(errors={"defaultWorkflow": f"Workflow with name '{default}' does not exist."})  # plausible
    if mappings is None:
        return
    if not isinstance(mappings, dict):
        raise bad_request(errors={"issueTypeMappings": "The issue type mappings must be an object."})
    for type_id, name in mappings.items():
        if site.store.get("issueTypes", str(type_id)) is None:
            raise bad_request(errors={"issueTypeMappings": f"Issue type with ID '{type_id}' does not exist."})
        if workflow_by_name(site, str(name)) is None:
            raise bad_request(errors={"issueTypeMappings": f"Workflow with name '{name}' does not exist."})


def _check_scheme_name(site: Site, name: str, own_id: str | None) -> None:
    clash = site.store.find_name_ci("workflowSchemes", name)
    if (clash is not None and str(clash["id"]) != own_id) or name.casefold() == DEFAULT_SCHEME_NAME.casefold():
        raise bad_request(errors={"name": f"A workflow scheme with the name '{name}' already exists."})  # plausible


@handles("GET", f"{API}/workflowscheme")
def list_workflow_schemes(ctx: Ctx) -> dict[str, Any]:
    return page_bean(ctx, [_scheme_json(ctx.site, s) for s in ctx.site.store.values("workflowSchemes")])


@handles("GET", f"{API}/workflowscheme/{{id}}")
def get_workflow_scheme(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    return _scheme_json(ctx.site, record, draft=ctx.arg("returnDraftIfExists") == "true")


@handles("POST", f"{API}/workflowscheme")
def create_workflow_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    name = required_text(body, "name", "The workflow scheme name must not be empty.", max_len=255, strip=True)
    _check_scheme_name(ctx.site, name, None)
    _check_mapping_refs(ctx.site, body.get("defaultWorkflow"), body.get("issueTypeMappings"))
    sid = ctx.site.store.next_id("workflowScheme")
    record = {"id": sid, "name": name, "description": body.get("description") or "",
              "defaultWorkflow": body.get("defaultWorkflow") or JIRA_WORKFLOW,
              "issueTypeMappings": {str(k): v for k, v in (body.get("issueTypeMappings") or {}).items()},
              "self": api_url(ctx.site, f"/workflowscheme/{sid}"), "draft": False}
    ctx.site.store.put("workflowSchemes", sid, record)
    return Reply(201, _scheme_json(ctx.site, record))


def _editable_target(ctx: Ctx, record: dict[str, Any], update_draft: Any) -> dict[str, Any]:
    """Where an edit lands: the scheme itself, or its draft when it is active and the caller allows drafts."""
    if not _is_active(ctx.site, record):
        return record
    if update_draft is not True and ctx.arg("updateDraftIfNeeded") != "true":
        # Jira's rule: an active scheme is only changed through a draft
        raise bad_request("Cannot update an active workflow scheme. Set 'updateDraftIfNeeded' to true to update "
                          "its draft instead.")  # plausible wording
    if not record.get("_draft"):
        record["_draft"] = {"defaultWorkflow": record.get("defaultWorkflow", JIRA_WORKFLOW),
                            "issueTypeMappings": copy.deepcopy(record.get("issueTypeMappings") or {})}
    return record["_draft"]


def _answer(ctx: Ctx, record: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    return _scheme_json(ctx.site, record, draft=target is not record)


@handles("PUT", f"{API}/workflowscheme/{{id}}")
def update_workflow_scheme(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    body = body_of(ctx)
    _check_mapping_refs(ctx.site, body.get("defaultWorkflow"), body.get("issueTypeMappings"))
    if "name" in body:
        name = required_text(body, "name", "The workflow scheme name must not be empty.", max_len=255, strip=True)
        _check_scheme_name(ctx.site, name, str(record["id"]))
    structural = "defaultWorkflow" in body or "issueTypeMappings" in body
    target = _editable_target(ctx, record, body.get("updateDraftIfNeeded")) if structural else record
    if "name" in body:
        record["name"] = body["name"].strip()
    if "description" in body:
        record["description"] = body["description"] or ""
    if "defaultWorkflow" in body:
        target["defaultWorkflow"] = body["defaultWorkflow"] or JIRA_WORKFLOW
    if "issueTypeMappings" in body:
        target["issueTypeMappings"] = {str(k): v for k, v in (body["issueTypeMappings"] or {}).items()}
    return _answer(ctx, record, target)


@handles("DELETE", f"{API}/workflowscheme/{{id}}")
def delete_workflow_scheme(ctx: Ctx) -> Reply:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    if _is_active(ctx.site, record):
        raise bad_request("Cannot delete an active workflow scheme.")  # plausible wording
    ctx.site.store.delete("workflowSchemes", str(record["id"]))
    return Reply(204)


@handles("GET", f"{API}/workflowscheme/{{id}}/default")
def get_scheme_default(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    view = _scheme_json(ctx.site, record, draft=ctx.arg("returnDraftIfExists") == "true")
    return {"workflow": view.get("defaultWorkflow", JIRA_WORKFLOW)}


@handles("PUT", f"{API}/workflowscheme/{{id}}/default")
def set_scheme_default(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    body = body_of(ctx)
    if not body.get("workflow"):
        raise bad_request(errors={"workflow": "The workflow name must be provided."})  # plausible wording
    _check_mapping_refs(ctx.site, body["workflow"], None)
    target = _editable_target(ctx, record, body.get("updateDraftIfNeeded"))
    target["defaultWorkflow"] = body["workflow"]
    return _answer(ctx, record, target)


@handles("DELETE", f"{API}/workflowscheme/{{id}}/default")
def reset_scheme_default(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    target = _editable_target(ctx, record, None)
    target["defaultWorkflow"] = JIRA_WORKFLOW
    return _answer(ctx, record, target)


@handles("GET", f"{API}/workflowscheme/{{id}}/issuetype/{{issueType}}")
def get_type_mapping(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    view = _scheme_json(ctx.site, record, draft=ctx.arg("returnDraftIfExists") == "true")
    type_id = ctx.path_params["issueType"]
    if ctx.site.store.get("issueTypes", type_id) is None:
        raise not_found(f"Issue type with ID '{type_id}' not found.")  # plausible wording
    name = (view.get("issueTypeMappings") or {}).get(type_id) or view.get("defaultWorkflow", JIRA_WORKFLOW)
    return {"issueType": type_id, "workflow": name}


@handles("PUT", f"{API}/workflowscheme/{{id}}/issuetype/{{issueType}}")
def set_type_mapping(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    body = body_of(ctx)
    type_id = ctx.path_params["issueType"]
    _check_mapping_refs(ctx.site, None, {type_id: body.get("workflow")})
    target = _editable_target(ctx, record, body.get("updateDraftIfNeeded"))
    target.setdefault("issueTypeMappings", {})[type_id] = body["workflow"]
    return _answer(ctx, record, target)


@handles("DELETE", f"{API}/workflowscheme/{{id}}/issuetype/{{issueType}}")
def delete_type_mapping(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    target = _editable_target(ctx, record, None)
    (target.get("issueTypeMappings") or {}).pop(ctx.path_params["issueType"], None)
    return _answer(ctx, record, target)


@handles("GET", f"{API}/workflowscheme/{{id}}/workflow")
def get_workflow_mappings(ctx: Ctx) -> Any:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    view = _scheme_json(ctx.site, record, draft=ctx.arg("returnDraftIfExists") == "true")
    rows = _mapping_rows(view)
    # the spec answers one IssueTypesWorkflowMapping object: the named workflow's, else the default one's
    wanted = ctx.arg("workflowName") or view.get("defaultWorkflow", JIRA_WORKFLOW)
    for row in rows:
        if row["workflow"] == wanted:
            return row
    raise not_found(f"Workflow with name '{wanted}' is not in the workflow scheme.")  # plausible wording


def _mapping_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    default = view.get("defaultWorkflow", JIRA_WORKFLOW)
    rows: dict[str, dict[str, Any]] = {default: {"workflow": default, "issueTypes": [], "defaultMapping": True}}
    for type_id, name in (view.get("issueTypeMappings") or {}).items():
        rows.setdefault(name, {"workflow": name, "issueTypes": [], "defaultMapping": False})["issueTypes"].append(
            type_id)
    return list(rows.values())


@handles("PUT", f"{API}/workflowscheme/{{id}}/workflow")
def set_workflow_mapping(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    body = body_of(ctx)
    name = ctx.arg("workflowName")
    if not name:
        raise bad_request("The workflowName parameter is required.")  # plausible wording
    types = [str(t) for t in body.get("issueTypes") or []]
    _check_mapping_refs(ctx.site, name, {t: name for t in types})
    target = _editable_target(ctx, record, body.get("updateDraftIfNeeded"))
    mappings = target.setdefault("issueTypeMappings", {})
    for type_id in [t for t, n in mappings.items() if n == name and t not in types]:
        del mappings[type_id]
    for type_id in types:
        mappings[type_id] = name
    if body.get("defaultMapping"):
        target["defaultWorkflow"] = name
    return _answer(ctx, record, target)


@handles("DELETE", f"{API}/workflowscheme/{{id}}/workflow")
def delete_workflow_mapping(ctx: Ctx) -> Reply:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    name = ctx.arg("workflowName")
    if not name:
        raise bad_request("The workflowName parameter is required.")  # plausible wording
    target = _editable_target(ctx, record, None)
    mappings = target.setdefault("issueTypeMappings", {})
    for type_id in [t for t, n in mappings.items() if n == name]:
        del mappings[type_id]
    if target.get("defaultWorkflow") == name:
        target["defaultWorkflow"] = JIRA_WORKFLOW
    return Reply(200)


@handles("POST", f"{API}/workflowscheme/{{id}}/createdraft")
def create_draft(ctx: Ctx) -> Reply:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    if not _is_active(ctx.site, record):
        raise bad_request("Only an active workflow scheme can have a draft.")  # plausible wording
    if record.get("_draft"):
        raise bad_request("The workflow scheme already has a draft.")  # plausible wording
    _editable_target(ctx, record, True)
    return Reply(201, _scheme_json(ctx.site, record, draft=True))


@handles("GET", f"{API}/workflowscheme/{{id}}/draft")
def get_draft(ctx: Ctx) -> dict[str, Any]:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    if not record.get("_draft"):
        raise not_found("The workflow scheme does not have a draft.")  # plausible wording
    return _scheme_json(ctx.site, record, draft=True)


@handles("DELETE", f"{API}/workflowscheme/{{id}}/draft")
def delete_draft(ctx: Ctx) -> Reply:
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    if not record.pop("_draft", None):
        raise not_found("The workflow scheme does not have a draft.")  # plausible wording
    return Reply(204)


@handles("POST", f"{API}/workflowscheme/{{id}}/draft/publish")
def publish_draft(ctx: Ctx) -> Reply:
    """Publish at once (no issues exist in the emulator, so no status migration is needed)."""
    record = workflow_scheme(ctx.site, ctx.path_params["id"])
    draft = record.get("_draft")
    if not draft:
        raise not_found("The workflow scheme does not have a draft.")  # plausible wording
    if ctx.arg("validateOnly") == "true":
        return Reply(204)
    record.update(copy.deepcopy(draft))
    del record["_draft"]
    return Reply(204)


@handles("GET", f"{API}/workflowscheme/project")
def schemes_for_projects(ctx: Ctx) -> dict[str, Any]:
    ids = ctx.list_arg("projectId")
    if not ids:
        raise bad_request(errors={"projectId": "The ID of a project has to be provided."})  # Jira's wording
    groups: dict[str | None, list[str]] = {}
    for pid in ids:
        project = ctx.site.store.get("projects", pid)
        if project is None or project.get("simplified"):
            continue  # unknown and team-managed projects are ignored, as documented
        groups.setdefault(scheme_of(project, "workflowScheme"), []).append(project["id"])
    values = []
    for sid, project_ids in groups.items():
        scheme = _default_scheme_json(ctx.site) if sid is None else _scheme_json(ctx.site,
                                                                               workflow_scheme(ctx.site, sid))
        values.append({"projectIds": project_ids, "workflowScheme": scheme})
    return {"values": values}


@handles("PUT", f"{API}/workflowscheme/project")
def assign_workflow_scheme(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    if body.get("projectId") is None:
        raise bad_request(errors={"projectId": "The ID of a project has to be provided."})  # Jira's wording
    project = ctx.site.store.get("projects", str(body["projectId"]))
    if project is None:
        raise not_found("The project was not found.")  # plausible wording
    if project.get("simplified"):
        raise bad_request("Only classic projects can have workflow schemes assigned.")  # Jira's wording
    sid = body.get("workflowSchemeId")
    if sid is not None:
        workflow_scheme(ctx.site, sid)
    set_scheme(project, "workflowScheme", None if sid is None else str(sid))
    return Reply(204)


def _check_seed_scheme(site: Site, item: dict[str, Any]) -> None:
    names = _scheme_workflow_names(item)
    missing = [n for n in names if workflow_by_name(site, n) is None]
    if missing:
        raise ValueError(f"seed workflowSchemes: scheme {item.get('name')!r} names unknown workflows {missing}")
    types = [t for t in item.get("issueTypeMappings") or {} if site.store.get("issueTypes", t) is None]
    if types:
        raise ValueError(f"seed workflowSchemes: scheme {item.get('name')!r} names unknown issue types {types}")


@seed_type("workflowSchemes", exporter=lambda site: export_records(site, "workflowSchemes"),
           after=("workflows", "issueTypes"))
def seed_workflow_schemes(site: Site, data: Any) -> None:
    """Seed value: ``GET /workflowscheme`` values."""
    seed_records(site, "workflowSchemes", data, kind="workflowScheme", check=_check_seed_scheme)


# --------------------------------------------------------------------------- a brand-new site

_JIRA_TRANSITIONS = (  # id, name, type, to, from
    ("1", "Create", "INITIAL", "1", ()),
    ("4", "Start Progress", "DIRECTED", "3", ("1", "4")),
    ("301", "Stop Progress", "DIRECTED", "1", ("3",)),
    ("5", "Resolve Issue", "DIRECTED", "5", ("1", "3", "4")),
    ("2", "Close Issue", "DIRECTED", "6", ("1", "3", "4", "5")),
    ("3", "Reopen Issue", "DIRECTED", "4", ("5", "6")),
)


@site_defaults
def install_jira_workflow(site: Site) -> None:
    """The read-only system workflow ``jira`` (Open, In Progress, Reopened, Resolved, Closed)."""
    wid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"fakejira-workflow:{site.name}:jira"))
    statuses = [{"deprecated": False, "layout": {"x": 100.0 * n, "y": 0.0}, "properties": {}, "statusReference": s}
                for n, s in enumerate(("1", "3", "4", "5", "6"))]
    transitions = [{"actions": [], "description": "", "id": tid, "links": [
        {"fromPort": 0, "fromStatusReference": src, "toPort": 1} for src in sources], "name": name, "properties": {},
        "toStatusReference": to, "triggers": [], "type": kind, "validators": []}
        for tid, name, kind, to, sources in _JIRA_TRANSITIONS]
    site.store.put("workflows", wid, {
        "id": wid, "name": JIRA_WORKFLOW, "description": "The default Jira workflow.", "scope": {"type": "GLOBAL"},
        "statuses": statuses, "transitions": transitions, "isEditable": False,
        "version": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, wid)), "versionNumber": 0},
        "created": "2020-01-01T00:00:00.000+0000", "updated": "2020-01-01T00:00:00.000+0000"})
    site.store.bump("workflowScheme", 10000)
