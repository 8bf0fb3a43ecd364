"""Issues: create (one and bulk), read, edit, delete, transitions along the workflow, changelog, properties, seeds.

The model (stored form, rendering, the changelog writer, events) is ``issues.py``; field checks are
``issue_fields.py``. Jira's texts are used where known (marked "Jira's wording"), plausible wording elsewhere.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from .. import issues as model
from ..issue_fields import (
    NOT_SETTABLE,
    FieldChecker,
    FieldError,
    check_hierarchy,
    fields_on_screen,
    level_of,
)
from ..paging import page_bean
from ..registry import Ctx, JiraError, Reply, bad_request, handles, not_found, seed_type
from ..site import Site
from ._common import API, find_project

BULK_MAX = 50  # "Creates upto 50 issues" (spec)
BULK_FETCH_MAX = 100
CHANGELOG_BULK_DEFAULT = 1000
PROPERTY_KEY_MAX = 255
PROPERTY_VALUE_MAX = 32768
PROJECT_REQUIRED = "Specify a valid project ID or key"  # Jira's wording
ISSUE_TYPE_REQUIRED = "Specify an issue type"  # Jira's wording
TRANSITION_MISSING = "Missing 'transition' identifier"  # Jira's wording
TRANSITION_INVALID = "Transition id '{}' is not valid for this issue."  # Jira's wording
HAS_SUBTASKS = "The issue has subtasks: set deleteSubtasks=true to delete them with it."  # plausible wording
PROPERTY_MISSING = "The property with key '{}' does not exist."  # Jira's wording
PROPERTY_KEY_TOO_LONG = "The property key can not be longer than 255 characters."  # Jira's wording
PROPERTY_VALUE_TOO_LONG = "The property value can not be longer than 32768 bytes."  # plausible wording
NO_BODY = "The request body is missing or is not a JSON object."  # plausible wording
TYPE_LEVEL_CHANGE = "An issue's type can only change to a type of the same hierarchy level (use a move)."  # plausible
OVERRIDE_FORBIDDEN = ("Only Connect and Forge app users with the Administer Jira global permission can override "
                      "the screen security or the editable flag.")  # Jira's wording (spec)


# --------------------------------------------------------------------------------------------------
# Workflow look-ups
# --------------------------------------------------------------------------------------------------


def workflow_of(site: Site, project: dict[str, Any], type_id: str) -> dict[str, Any]:
    from .workflows import JIRA_WORKFLOW, workflow_by_name, workflow_for_issue_type

    name = workflow_for_issue_type(site, project, type_id)
    found = workflow_by_name(site, name) or workflow_by_name(site, JIRA_WORKFLOW)
    if found is None:
        raise JiraError(422, f"The workflow '{name}' of the issue type doesn't exist.")  # plausible wording
    return found


def initial_status(workflow: dict[str, Any]) -> str:
    initial = next((t for t in workflow["transitions"] if t.get("type") == "INITIAL"), None)
    if initial is None:
        return workflow["statuses"][0]["statusReference"]
    return str(initial["toStatusReference"])


def _category(site: Site, status_id: str) -> str:
    return str((site.store.get("statuses", status_id) or {}).get("statusCategory", ""))


def _reachable(tr: dict[str, Any], status_id: str) -> bool:
    if tr.get("type") == "INITIAL":
        return False
    links = tr.get("links") or []
    if tr.get("type") == "GLOBAL" or not links:
        return str(tr["toStatusReference"]) != status_id
    return any(str(link.get("fromStatusReference")) == status_id for link in links)


def condition_holds(site: Site, issue: dict[str, Any], group: Any, actor: str | None) -> bool:
    """A transition's condition tree (ALL/ANY groups). The emulator judges previous status, accounts (with
    ``allow-reporter``/``allow-assignee``) and group membership; rule parts it can't judge (roles, permissions,
    user custom fields, field values) hold."""
    if not isinstance(group, dict):
        return True
    results = [_rule_holds(site, issue, rule, actor) for rule in group.get("conditions") or []]
    results += [condition_holds(site, issue, sub, actor) for sub in group.get("conditionGroups") or []]
    if not results:
        return True
    return any(results) if group.get("operation") == "ANY" else all(results)


def _csv(value: Any) -> list[str]:
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _rule_holds(site: Site, issue: dict[str, Any], rule: dict[str, Any], actor: str | None) -> bool:
    params = rule.get("parameters") or {}
    key = rule.get("ruleKey")
    if key == "system:previous-status-condition":
        seen = _previous_statuses(issue)
        wanted = set(_csv(params.get("previousStatusIds")))
        held = bool(seen & wanted)
        return not held if str(params.get("not")) == "true" else held
    if key == "system:restrict-issue-transition":
        accounts = _csv(params.get("accountIds"))
        groups = _csv(params.get("groupIds"))
        if not accounts and not groups:
            return True
        f = issue["fields"]
        allowed = {a for a in accounts if a not in ("allow-reporter", "allow-assignee")}
        if "allow-reporter" in accounts and f.get("reporter"):
            allowed.add(f["reporter"])
        if "allow-assignee" in accounts and f.get("assignee"):
            allowed.add(f["assignee"])
        in_group = any(actor in (g.get("_members") or []) for g in site.store.values("groups")
                       if g.get("groupId") in groups)
        return actor in allowed or in_group
    return True


def _previous_statuses(issue: dict[str, Any]) -> set[str]:
    return {str(item.get("from")) for h in issue.get("_changelog", []) for item in h["items"]
            if item.get("fieldId") == "status"}


def transitions_of(site: Site, issue: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The issue's workflow and the transitions that lead away from its current status."""
    project = model.project_of(site, issue)
    workflow = workflow_of(site, project, issue["fields"]["issuetype"])
    current = issue["fields"]["status"]
    return workflow, [t for t in workflow["transitions"] if _reachable(t, current)]


def _screen_id(tr: dict[str, Any]) -> str | None:
    screen = ((tr.get("transitionScreen") or {}).get("parameters") or {}).get("screenId")
    return str(screen) if screen not in (None, "") else None


def transition_json(site: Site, issue: dict[str, Any], tr: dict[str, Any], *, available: bool,
                    with_fields: bool) -> dict[str, Any]:
    links = tr.get("links") or []
    out: dict[str, Any] = {"id": str(tr["id"]), "name": tr["name"],
                           "to": model.status_json(site, str(tr["toStatusReference"])),
                           "hasScreen": _screen_id(tr) is not None,
                           "isGlobal": tr.get("type") == "GLOBAL" or not links, "isInitial": False,
                           "isAvailable": available, "isConditional": bool(tr.get("conditions")),
                           "isLooped": False}
    if with_fields:
        out["fields"] = {fid: _field_meta(site, fid) for fid in sorted(fields_on_screen(site, _screen_id(tr)))}
    return out


def _field_meta(site: Site, fid: str) -> dict[str, Any]:
    field = site.store.get("fields", fid) or {"name": fid, "schema": {"type": "any"}}
    return {"required": fid == "resolution", "schema": copy.deepcopy(field["schema"]), "name": field["name"],
            "key": fid, "operations": ["set"]}


def available_transitions(site: Site, issue: dict[str, Any], actor: str | None, *,
                          include_unavailable: bool = False, with_fields: bool = False) -> list[dict[str, Any]]:
    _workflow, candidates = transitions_of(site, issue)
    out = []
    for tr in candidates:
        ok = condition_holds(site, issue, tr.get("conditions"), actor)
        if ok or include_unavailable:
            out.append(transition_json(site, issue, tr, available=ok, with_fields=with_fields))
    return out


# --------------------------------------------------------------------------------------------------
# Request pieces
# --------------------------------------------------------------------------------------------------


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(errors={what: f"The '{what}' member must be an object."})  # plausible wording
    return value


def _properties(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise bad_request("The 'properties' member must be a list of {key, value} objects.")  # plausible wording
    out = {}
    for item in raw:
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key:
            raise bad_request("Each issue property needs a key.")  # plausible wording
        _check_property(key, item.get("value"))
        out[key] = copy.deepcopy(item.get("value"))
    return out


def _check_property(key: str, value: Any) -> None:
    if len(key) > PROPERTY_KEY_MAX:
        raise bad_request(PROPERTY_KEY_TOO_LONG)
    if len(json.dumps(value).encode()) > PROPERTY_VALUE_MAX:
        raise bad_request(PROPERTY_VALUE_TOO_LONG)


def _history_metadata(body: dict[str, Any]) -> dict[str, Any] | None:
    meta = body.get("historyMetadata")
    return copy.deepcopy(meta) if isinstance(meta, dict) else None


def _write_allowed(site: Site, issue_id: str) -> None:
    """The per-issue write limit (``limits.py``): 429 ``jira-per-issue-on-write``."""
    limited = site.limits.check_issue_write(issue_id)
    if limited is not None:
        raise JiraError(429, "Rate limit exceeded.", headers=limited.headers)


# --------------------------------------------------------------------------------------------------
# Create
# --------------------------------------------------------------------------------------------------


def _project_and_type(site: Site, fields: dict[str, Any]) -> tuple[dict[str, Any], str]:
    raw = fields.get("project")
    ref = (raw.get("id") or raw.get("key")) if isinstance(raw, dict) else raw
    project = find_project(site, ref) if ref not in (None, "") else None
    if project is None:
        raise bad_request(errors={"project": PROJECT_REQUIRED})
    if fields.get("issuetype") in (None, {}, ""):
        raise bad_request(errors={"issuetype": ISSUE_TYPE_REQUIRED})
    checker = FieldChecker(site, project, "", operation="create", allowed=set())
    try:
        type_id = checker._sys_issuetype(fields["issuetype"])
    except FieldError as exc:
        raise bad_request(errors={"issuetype": str(exc)}) from None
    return project, type_id


def _default_priority(site: Site, project: dict[str, Any]) -> str | None:
    from .typeschemes import _scheme_of_project, priority_ids_for_project

    allowed = priority_ids_for_project(site, project["id"])
    default = str(_scheme_of_project(site, project).get("defaultPriorityId") or "")
    if default in allowed:
        return default
    return "3" if "3" in allowed else (allowed[0] if allowed else None)


def prepare_create(ctx: Ctx, body: Any) -> dict[str, Any]:
    """Check one create request completely; the stored record to add (nothing is stored here).

    :raises JiraError: 400 with Jira's per-field errors.
    """
    site = ctx.site
    if not isinstance(body, dict):
        raise bad_request(NO_BODY)
    fields = _object(body.get("fields"), "fields")
    update = _object(body.get("update"), "update")
    project, type_id = _project_and_type(site, fields)
    checker = FieldChecker(site, project, type_id, operation="create")
    values = checker.values(fields, update, {}, skip={"project", "issuetype"})
    actor = model.actor_of(ctx)
    if "reporter" not in values and "reporter" not in checker.errors:
        values["reporter"] = actor if "reporter" not in checker.hidden else None
    if "priority" not in values and "priority" not in checker.hidden:
        values["priority"] = _default_priority(site, project)
    checker.check_required(values, None)
    check_hierarchy(site, project, type_id, values.get("parent"), checker.errors,
                    parent_given="parent" in fields or "parent" in update)
    properties = _properties(body.get("properties"))
    workflow = workflow_of(site, project, type_id)
    if checker.errors:
        raise bad_request(errors=checker.errors)
    ms = model.now_ms(site)
    stamp = model.jira_time(ms)
    stored: dict[str, Any] = {
        "summary": values.pop("summary", None), "issuetype": type_id, "project": project["id"],
        "status": initial_status(workflow), "priority": values.pop("priority", None), "resolution": None,
        "resolutiondate": None, "assignee": values.pop("assignee", None), "reporter": values.pop("reporter", None),
        "creator": actor, "labels": values.pop("labels", []), "components": values.pop("components", []),
        "fixVersions": values.pop("fixVersions", []), "versions": values.pop("versions", []),
        "duedate": values.pop("duedate", None), "description": values.pop("description", None),
        "environment": values.pop("environment", None), "parent": values.pop("parent", None),
        "created": stamp, "updated": stamp, "statuscategorychangedate": stamp,
        **{k: v for k, v in values.items() if v is not None}}
    return {"fields": stored, "_project": project, "_properties": properties, "_ms": ms,
            "_transition": body.get("transition")}


def store_created(site: Site, prepared: dict[str, Any], actor: str | None) -> dict[str, Any]:
    """Give a checked create its id and key and store it; announce ``issue_created``."""
    project = prepared["_project"]
    issue_id = str(site.store.next_id("issue"))
    key, number = model.next_key(site, project)
    issue = {"id": issue_id, "key": key, "fields": prepared["fields"], "_changelog": [],
             "_properties": prepared["_properties"], "_updatedMs": prepared["_ms"], "_number": number}
    site.store.put(model.COLLECTION, issue_id, issue)
    model.touch_keys(site)
    site.issue_events.emit("issue_created", model.public_issue(issue), actor=actor)
    return issue


def _created_json(site: Site, issue: dict[str, Any]) -> dict[str, Any]:
    return {"id": issue["id"], "key": issue["key"], "self": model.issue_url(site, issue["id"])}


def _check_create_transition(site: Site, prepared: dict[str, Any]) -> str | None:
    raw = prepared["_transition"]
    if raw is None:
        return None
    tid = str((raw or {}).get("id", "")) if isinstance(raw, dict) else ""
    probe = {"id": "0", "key": "X-0", "fields": prepared["fields"], "_changelog": []}
    _workflow, candidates = transitions_of(site, probe)
    if not any(str(t["id"]) == tid for t in candidates):
        raise bad_request(TRANSITION_INVALID.format(tid))
    return tid


@handles("POST", f"{API}/issue")
def create_issue(ctx: Ctx) -> Reply:
    prepared = prepare_create(ctx, ctx.body)
    transition = _check_create_transition(ctx.site, prepared)
    actor = model.actor_of(ctx)
    issue = store_created(ctx.site, prepared, actor)
    if transition is not None:
        do_transition(ctx.site, issue, {"transition": {"id": transition}}, actor, check_limit=False)
    return Reply(201, _created_json(ctx.site, issue))


@handles("POST", f"{API}/issue/bulk")
def create_issues(ctx: Ctx) -> Reply:
    body = ctx.body if isinstance(ctx.body, dict) else None
    updates = body.get("issueUpdates") if body else None
    if not isinstance(updates, list) or not updates:
        raise bad_request("The request must contain at least one issue to create in 'issueUpdates'.")  # plausible
    if len(updates) > BULK_MAX:
        raise bad_request(f"The number of issues to create is more than the maximum of {BULK_MAX}.")  # plausible
    actor = model.actor_of(ctx)
    created, errors = [], []
    for n, item in enumerate(updates):
        try:
            prepared = prepare_create(ctx, item)
            transition = _check_create_transition(ctx.site, prepared)
        except JiraError as err:
            errors.append({"status": err.status, "elementErrors": err.body(), "failedElementNumber": n})
            continue
        issue = store_created(ctx.site, prepared, actor)
        if transition is not None:
            do_transition(ctx.site, issue, {"transition": {"id": transition}}, actor, check_limit=False)
        created.append(_created_json(ctx.site, issue))
    return Reply(201 if created else 400, {"issues": created, "errors": errors})


# --------------------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------------------


def _expand(ctx: Ctx) -> set[str]:
    return set(ctx.list_arg("expand"))


@handles("GET", f"{API}/issue/{{issueIdOrKey}}")
def get_issue(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    return model.issue_json(ctx.site, issue, fields=ctx.list_arg("fields") or None, default="*all",
                            expand=_expand(ctx), properties=ctx.list_arg("properties"))


@handles("POST", f"{API}/issue/bulkfetch")
def bulk_fetch(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    refs = body.get("issueIdsOrKeys") or []
    if not refs:
        raise bad_request("At least one issue ID or key must be provided.")  # plausible wording
    if len(refs) > BULK_FETCH_MAX:
        raise bad_request(f"The number of issues requested is more than the maximum of {BULK_FETCH_MAX}.")
    found: dict[str, dict[str, Any]] = {}
    errors = []
    for ref in refs:
        issue = model.find_issue(ctx.site, ref)
        if issue is None:
            errors.append({"id": str(ref), "errorMessage": model.NOT_FOUND})
        else:
            found[issue["id"]] = issue
    expand = set(body.get("expand") or [])
    issues = [model.issue_json(ctx.site, found[i], fields=body.get("fields") or None, default="*navigable",
                               expand=expand, properties=body.get("properties") or [])
              for i in sorted(found, key=int)]  # "returned in id order"
    return {"issues": issues, "issueErrors": errors}


# --------------------------------------------------------------------------------------------------
# Create metadata
# --------------------------------------------------------------------------------------------------

CREATEMETA_MAX = 200  # the spec's maximum for maxResults (default 50)
CREATEMETA_PROJECT_MISSING = "No project could be found with key or id '{}'."  # plausible wording
CREATEMETA_TYPE_INVALID = "The issue type '{}' is not valid for this project."  # plausible wording


def create_field_ids(site: Site, project: dict[str, Any], type_id: str) -> list[str]:
    """The fields a create of ``type_id`` in ``project`` accepts, as the create call checks them: on the create
    screen, not hidden, a custom field only with a context here; project and issue type always."""
    checker = FieldChecker(site, project, type_id, operation="create")
    on_screen = sorted(f for f in checker.allowed if f not in ("project", "issuetype") and checker.settable(f))
    return ["project", "issuetype", *on_screen]


def _create_field_meta(site: Site, fid: str, required: set[str]) -> dict[str, Any]:
    field = site.store.get("fields", fid) or {"name": fid, "schema": {"type": "any"}}
    operations = ["add", "set", "remove"] if fid in model.LIST_FIELDS else ["set"]
    return {"fieldId": fid, "key": fid, "name": field["name"], "required": fid in required,
            "hasDefaultValue": fid == "priority", "operations": operations,
            "schema": copy.deepcopy(field.get("schema") or {"type": "any"})}


@handles("GET", f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes/{{issueTypeId}}")
def create_meta_fields(ctx: Ctx) -> dict[str, Any]:
    """A page of the fields a create of this issue type in this project takes (the create screen's)."""
    site = ctx.site
    ref, type_id = ctx.path_params["projectIdOrKey"], str(ctx.path_params["issueTypeId"])
    project = find_project(site, ref)
    if project is None:
        raise bad_request(CREATEMETA_PROJECT_MISSING.format(ref))
    from ..issue_fields import field_configuration, issue_types_of

    if type_id not in issue_types_of(site, project):
        raise bad_request(CREATEMETA_TYPE_INVALID.format(type_id))
    start, size = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 50)
    if start < 0 or size < 0:
        raise bad_request("The 'startAt' and 'maxResults' parameters must not be negative.")  # plausible wording
    size = min(size, CREATEMETA_MAX)
    _hidden, required = field_configuration(site, project, type_id)
    ids = create_field_ids(site, project, type_id)
    fields = [_create_field_meta(site, fid, required) for fid in ids[start:start + size]]
    return {"fields": fields, "maxResults": size, "startAt": start, "total": len(ids)}


# --------------------------------------------------------------------------------------------------
# Edit
# --------------------------------------------------------------------------------------------------


def _may_override(ctx: Ctx) -> bool:
    """Who may send ``overrideScreenSecurity``/``overrideEditableFlag`` (spec): a Connect app whose app user holds
    *Administer Jira* (the descriptor's ADMIN scope), acting as itself or as an administrator, and a Forge app acting
    for an administrator. A user's own token (OAuth, API token) may not, administrator or not."""
    if ctx.auth_kind in ("connect", "impersonation"):
        if ctx.app_key is None:
            return True  # an in-process call of the emulator itself (seeding), not an app's request
        inst = ctx.site.installations.get(ctx.app_key)
        if inst is None or "ADMIN" not in inst.scopes:
            return False
        return ctx.account_id is None or ctx.account_id in ctx.site.admins
    if ctx.auth_kind == "forge":
        return ctx.account_id is not None and ctx.account_id in ctx.site.admins
    return False


@handles("PUT", f"{API}/issue/{{issueIdOrKey}}")
def edit_issue(ctx: Ctx) -> Reply:
    site = ctx.site
    issue = model.issue_or_404(site, ctx.path_params["issueIdOrKey"])
    if not isinstance(ctx.body, dict):
        raise bad_request(NO_BODY)
    override = ctx.arg("overrideScreenSecurity") == "true" or ctx.arg("overrideEditableFlag") == "true"
    if override and not _may_override(ctx):
        raise JiraError(403, OVERRIDE_FORBIDDEN)
    fields = _object(ctx.body.get("fields"), "fields")
    update = _object(ctx.body.get("update"), "update")
    project = model.project_of(site, issue)
    current = issue["fields"]
    checker = FieldChecker(site, project, current["issuetype"], operation="edit",
                           override_screen=ctx.arg("overrideScreenSecurity") == "true")
    if "project" in fields or "project" in update:
        checker.errors["project"] = NOT_SETTABLE.format("project")
    values = checker.values(fields, update, current, skip={"project"})
    new_type = values.get("issuetype", current["issuetype"])
    if level_of(site, new_type) != level_of(site, current["issuetype"]):
        checker.errors["issuetype"] = TYPE_LEVEL_CHANGE
    merged = {**current, **values}
    checker.check_required(merged, set(values))
    if "parent" in values:
        check_hierarchy(site, project, new_type, values["parent"], checker.errors, parent_given=True)
    properties = _properties(ctx.body.get("properties"))
    if checker.errors:
        raise bad_request(errors=checker.errors)
    _write_allowed(site, issue["id"])
    before = copy.deepcopy(current)
    current.update(values)
    issue.setdefault("_properties", {}).update(properties)
    model.record_change(site, issue, before, model.actor_of(ctx), history_metadata=_history_metadata(ctx.body))
    if ctx.arg("returnIssue") == "true":
        return Reply(200, model.issue_json(site, issue, expand=_expand(ctx)))
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Delete
# --------------------------------------------------------------------------------------------------


@handles("DELETE", f"{API}/issue/{{issueIdOrKey}}")
def delete_issue(ctx: Ctx) -> Reply:
    site = ctx.site
    issue = model.issue_or_404(site, ctx.path_params["issueIdOrKey"])
    children = model.subtasks_of(site, issue)
    subtasks = [c for c in children if level_of(site, c["fields"]["issuetype"]) == -1]
    if subtasks and ctx.arg("deleteSubtasks") != "true":
        raise bad_request(HAS_SUBTASKS)
    _write_allowed(site, issue["id"])
    actor = model.actor_of(ctx)
    for child in children:
        if child in subtasks:
            remove_issue(site, child, actor)
        else:  # an epic's children stay, without their parent
            before = copy.deepcopy(child["fields"])
            child["fields"]["parent"] = None
            model.record_change(site, child, before, actor)
    remove_issue(site, issue, actor)
    return Reply(204)


def remove_issue(site: Site, issue: dict[str, Any], actor: str | None) -> None:
    """Delete one stored issue (its key number stays used) and announce ``issue_deleted``."""
    site.store.delete(model.COLLECTION, issue["id"])
    model.touch_keys(site)
    site.issue_events.emit("issue_deleted", model.public_issue(issue), actor=actor)


# --------------------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------------------


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/transitions")
def get_transitions(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    items = available_transitions(ctx.site, issue, model.actor_of(ctx),
                                  include_unavailable=ctx.arg("includeUnavailableTransitions") == "true",
                                  with_fields="transitions.fields" in _expand(ctx))
    wanted = ctx.arg("transitionId")
    if wanted:
        items = [t for t in items if t["id"] == str(wanted)]
    return {"expand": "transitions", "transitions": items}


@handles("POST", f"{API}/issue/{{issueIdOrKey}}/transitions")
def post_transition(ctx: Ctx) -> Reply:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    if not isinstance(ctx.body, dict):
        raise bad_request(NO_BODY)
    do_transition(ctx.site, issue, ctx.body, model.actor_of(ctx))
    return Reply(204)


def do_transition(site: Site, issue: dict[str, Any], body: dict[str, Any], actor: str | None, *,
                  check_limit: bool = True) -> None:
    """Move the issue along one transition of its workflow: screen fields, validators, post functions, history."""
    raw = body.get("transition")
    tid = str(raw.get("id", "")) if isinstance(raw, dict) and raw.get("id") is not None else ""
    if not tid:
        raise bad_request(TRANSITION_MISSING)
    _workflow, candidates = transitions_of(site, issue)
    tr = next((t for t in candidates if str(t["id"]) == tid), None)
    if tr is None or not condition_holds(site, issue, tr.get("conditions"), actor):
        raise bad_request(TRANSITION_INVALID.format(tid))
    project = model.project_of(site, issue)
    current = issue["fields"]
    checker = FieldChecker(site, project, current["issuetype"], operation="transition",
                           allowed=fields_on_screen(site, _screen_id(tr)))
    values = checker.values(_object(body.get("fields"), "fields"), _object(body.get("update"), "update"),
                            current, skip=set())
    merged = {**current, **values}
    _run_validators(site, issue, tr, merged, checker.errors)
    properties = _properties(body.get("properties"))
    if checker.errors:
        raise bad_request(errors=checker.errors)
    if check_limit:
        _write_allowed(site, issue["id"])
    before = copy.deepcopy(current)
    current.update(values)
    to = str(tr["toStatusReference"])
    ms = model.now_ms(site)
    if _category(site, to) != _category(site, before["status"]):
        current["statuscategorychangedate"] = model.jira_time(ms)
    current["status"] = to
    _run_post_functions(site, issue, tr)
    if current.get("resolution") and not before.get("resolution"):
        current["resolutiondate"] = model.jira_time(ms)
    elif not current.get("resolution"):
        current["resolutiondate"] = None
    issue.setdefault("_properties", {}).update(properties)
    model.record_change(site, issue, before, actor, history_metadata=_history_metadata(body), transition=tid)


def _run_validators(site: Site, issue: dict[str, Any], tr: dict[str, Any], merged: dict[str, Any],
                    errors: dict[str, str]) -> None:
    for rule in tr.get("validators") or []:
        params = rule.get("parameters") or {}
        if rule.get("ruleKey") == "system:validate-field-value" and params.get("ruleType") == "fieldRequired":
            for fid in _csv(params.get("fieldsRequired")):
                if merged.get(fid) in (None, "", [], {}):
                    name = (site.store.get("fields", fid) or {}).get("name", fid)
                    errors[fid] = params.get("errorMessage") or f"{name} is required."  # Jira's wording
        elif rule.get("ruleKey") == "system:previous-status-validator":
            wanted = set(_csv(params.get("previousStatusIds")))
            if wanted and not (_previous_statuses(issue) | {issue["fields"]["status"]}) & wanted:
                errors["status"] = "The issue hasn't been in a status this transition requires."  # plausible


def _run_post_functions(site: Site, issue: dict[str, Any], tr: dict[str, Any]) -> None:
    """The post functions the emulator can run: update-field (system and option fields) and change-assignee."""
    f = issue["fields"]
    for rule in tr.get("actions") or []:
        params = rule.get("parameters") or {}
        key = rule.get("ruleKey")
        if key == "system:update-field":
            target, value = str(params.get("field") or ""), params.get("value")
            if target in ("resolution", "priority") or target in ("assignee", "reporter"):
                f[target] = str(value) if value not in (None, "") else None
            elif target.startswith("customfield_") and site.store.get("fields", target) is not None:
                schema = site.store.get("fields", target)["schema"]
                many = schema.get("type") == "array"
                f[target] = (_csv(value) if many else str(value)) if value not in (None, "") else None
        elif key == "system:change-assignee":
            kind = params.get("type")
            if kind == "to-selected-user":
                f["assignee"] = params.get("accountId") or None
            elif kind == "to-unassigned":
                f["assignee"] = None
            elif kind == "to-reporter":
                f["assignee"] = f.get("reporter")


# --------------------------------------------------------------------------------------------------
# Changelog
# --------------------------------------------------------------------------------------------------


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/changelog")
def get_changelog(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    return page_bean(ctx, [copy.deepcopy(h) for h in issue.get("_changelog", [])], default_max=100, cap=100)


def encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str, kind: str) -> dict[str, Any]:
    """A page token's payload; 400 for one this site didn't hand out for ``kind``."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        payload = None
    if not isinstance(payload, dict) or payload.get("k") != kind or not isinstance(payload.get("o"), int):
        raise bad_request(f"The nextPageToken '{token}' is invalid.")  # plausible wording
    return payload


@handles("POST", f"{API}/changelog/bulkfetch")
def bulk_changelog(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    refs = body.get("issueIdsOrKeys") or []
    wanted = set(body.get("fieldIds") or [])
    size = int(body.get("maxResults") or CHANGELOG_BULK_DEFAULT)
    offset = decode_token(body["nextPageToken"], "changelog")["o"] if body.get("nextPageToken") else 0
    rows: list[tuple[str, dict[str, Any]]] = []
    for ref in refs:
        issue = model.find_issue(ctx.site, ref)
        for history in (issue or {}).get("_changelog", []):
            items = [i for i in history["items"] if not wanted or i.get("fieldId") in wanted]
            if items:
                rows.append((issue["id"], {**copy.deepcopy(history), "items": copy.deepcopy(items)}))
    window = rows[offset:offset + size]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for issue_id, history in window:
        grouped.setdefault(issue_id, []).append(history)
    out: dict[str, Any] = {"issueChangeLogs": [{"issueId": i, "changeHistories": h} for i, h in grouped.items()]}
    if offset + size < len(rows):
        out["nextPageToken"] = encode_token({"k": "changelog", "o": offset + size})
    return out


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/properties")
def list_properties(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    url = model.issue_url(ctx.site, issue["id"])
    return {"keys": [{"self": f"{url}/properties/{k}", "key": k} for k in issue.get("_properties", {})]}


@handles("GET", f"{API}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}")
def get_property(ctx: Ctx) -> dict[str, Any]:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    key = ctx.path_params["propertyKey"]
    stored = issue.get("_properties", {})
    if key not in stored:
        raise not_found(PROPERTY_MISSING.format(key))
    return {"key": key, "value": copy.deepcopy(stored[key])}


@handles("PUT", f"{API}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}")
def set_property(ctx: Ctx) -> Reply:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    key = ctx.path_params["propertyKey"]
    if ctx.body is None:
        raise bad_request("The property value must be a JSON value in the request body.")  # plausible wording
    _check_property(key, ctx.body)
    _write_allowed(ctx.site, issue["id"])
    stored = issue.setdefault("_properties", {})
    created = key not in stored
    stored[key] = copy.deepcopy(ctx.body)
    ctx.site.issue_events.emit("issue_property_set", model.public_issue(issue), actor=model.actor_of(ctx),
                               property={"key": key, "value": copy.deepcopy(ctx.body)})
    return Reply(201 if created else 200)


@handles("DELETE", f"{API}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}")
def delete_property(ctx: Ctx) -> Reply:
    issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
    key = ctx.path_params["propertyKey"]
    stored = issue.get("_properties", {})
    if key not in stored:
        raise not_found(PROPERTY_MISSING.format(key))
    _write_allowed(ctx.site, issue["id"])
    del stored[key]
    ctx.site.issue_events.emit("issue_property_deleted", model.public_issue(issue), actor=model.actor_of(ctx),
                               property={"key": key})
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Seeds: issues as ``GET /issue/{id}`` answers, changelogs, properties, and the key counters
# --------------------------------------------------------------------------------------------------

_REF_FIELDS = {"issuetype": "id", "project": "id", "status": "id", "priority": "id", "resolution": "id",
               "security": "id", "parent": "id", "assignee": "accountId", "reporter": "accountId",
               "creator": "accountId"}
_RENDER_ONLY = frozenset({"subtasks", "watches", "votes", "issuelinks", "comment", "worklog", "attachment"})


def stored_from_rendered(site: Site, fields: dict[str, Any]) -> dict[str, Any]:
    """The stored form of an IssueBean's ``fields`` (what ``issue_json`` renders back the same way)."""
    out: dict[str, Any] = {}
    for fid, value in fields.items():
        if fid in _RENDER_ONLY:
            continue
        if fid in _REF_FIELDS:
            out[fid] = str(value[_REF_FIELDS[fid]]) if isinstance(value, dict) else None
        elif fid in ("components", "fixVersions", "versions"):
            out[fid] = [str(v["id"]) for v in value or []]
        elif fid.startswith("customfield_"):
            out[fid] = _stored_custom(site, fid, value)
        else:
            out[fid] = copy.deepcopy(value)
    return out


def _stored_custom(site: Site, fid: str, value: Any) -> Any:
    schema = (site.store.get("fields", fid) or {}).get("schema") or {}
    kind, items = schema.get("type"), schema.get("items")
    if value is None:
        return None
    one = {"option": lambda v: str(v["id"]), "user": lambda v: v["accountId"], "group": lambda v: v["name"],
           "version": lambda v: str(v["id"]), "project": lambda v: str(v["id"])}
    if kind == "option-with-child":
        out = {"id": str(value["id"])}
        if value.get("child"):
            out["child"] = str(value["child"]["id"])
        return out
    if kind in one:
        return one[kind](value)
    if kind == "array" and items in one:
        return [one[items](v) for v in value]
    return copy.deepcopy(value)


def _check_seed_issue(site: Site, item: Any) -> None:
    if not isinstance(item, dict) or not {"id", "key", "fields"} <= set(item):
        raise ValueError(f"seed issues: every issue needs id, key and fields: {str(item)[:200]}")
    f = item["fields"]
    for fid, coll in (("project", "projects"), ("issuetype", "issueTypes"), ("status", "statuses")):
        ref = (f.get(fid) or {}).get("id")
        if ref is None or site.store.get(coll, str(ref)) is None:
            raise ValueError(f"seed issues: issue {item['key']} names unknown {fid} {ref!r}")


def _seed_fields_shown(site: Site, issue: dict[str, Any]) -> list[str]:
    """What an exported issue lists: every system field plus the custom fields it holds (rendering order)."""
    return [f for f in model.all_field_ids(site, issue) if f not in _RENDER_ONLY]


def _export_issues(site: Site) -> list[dict[str, Any]]:
    out = []
    for issue in site.store.values(model.COLLECTION):
        bean = model.issue_json(site, issue, fields=_seed_fields_shown(site, issue))
        out.append({"id": bean["id"], "key": bean["key"], "fields": bean["fields"]})
    return out


@seed_type("issues", omit_empty=True, exporter=_export_issues,
           after=("projects", "issueTypes", "statuses", "users", "priorities", "resolutions", "fields",
                  "fieldOptions", "projectComponents", "projectVersions"))
def seed_issues(site: Site, data: Any) -> None:
    """Seed value: ``GET /issue/{id}?fields=*all`` answers (id, key, fields), in id order; ids and keys kept."""
    if not isinstance(data, list):
        raise ValueError("seed issues: a list is expected")
    for item in data:
        _check_seed_issue(site, item)
        project_id = str(item["fields"]["project"]["id"])
        number = int(str(item["key"]).rsplit("-", 1)[1])
        stored = stored_from_rendered(site, item["fields"])
        updated = stored.get("updated")
        issue = {"id": str(item["id"]), "key": item["key"], "fields": stored, "_changelog": [],
                 "_properties": {}, "_number": number,
                 "_updatedMs": model.parse_time(updated) if isinstance(updated, str) else 0}
        site.store.put(model.COLLECTION, issue["id"], issue)
        site.store.bump("issue", int(issue["id"]))
        site.store.bump(model.key_kind(project_id), number)
    model.touch_keys(site)


def _export_changelogs(site: Site) -> dict[str, list[dict[str, Any]]]:
    return {i["id"]: copy.deepcopy(i["_changelog"]) for i in site.store.values(model.COLLECTION)
            if i.get("_changelog")}


@seed_type("issueChangelogs", omit_empty=True, exporter=_export_changelogs, after=("issues",))
def seed_changelogs(site: Site, data: Any) -> None:
    """Seed value: ``{issueId: GET /issue/{id}/changelog values}`` (oldest first)."""
    for issue_id, histories in data.items():
        issue = site.store.get(model.COLLECTION, issue_id)
        if issue is None:
            raise ValueError(f"seed issueChangelogs: unknown issue {issue_id}")
        issue["_changelog"] = copy.deepcopy(histories)
        for history in histories:
            site.store.bump("changelog", int(history["id"]))


def _export_properties(site: Site) -> dict[str, list[dict[str, Any]]]:
    return {i["id"]: [{"key": k, "value": copy.deepcopy(v)} for k, v in i["_properties"].items()]
            for i in site.store.values(model.COLLECTION) if i.get("_properties")}


@seed_type("issueProperties", omit_empty=True, exporter=_export_properties, after=("issues",))
def seed_properties(site: Site, data: Any) -> None:
    """Seed value: ``{issueId: [GET /issue/{id}/properties/{key} answers]}``."""
    for issue_id, entries in data.items():
        issue = site.store.get(model.COLLECTION, issue_id)
        if issue is None:
            raise ValueError(f"seed issueProperties: unknown issue {issue_id}")
        issue["_properties"] = {e["key"]: copy.deepcopy(e.get("value")) for e in entries}


def _export_counters(site: Site) -> dict[str, int]:
    """Per project: the last key number handed out, when it is above the highest key held (a deleted tail)."""
    out = {}
    for project in site.store.values("projects"):
        last = site.store.counter(model.key_kind(project["id"]))
        held = max((i["_number"] for i in site.store.values(model.COLLECTION)
                    if i["fields"]["project"] == project["id"]), default=0)
        if last is not None and last > held:
            out[project["id"]] = last
    return out


@seed_type("issueKeyCounters", omit_empty=True, exporter=_export_counters, after=("issues",))
def seed_counters(site: Site, data: Any) -> None:
    """Seed value: ``{projectId: last issue number}`` where deleted issues left a gap at the end of the keys."""
    for project_id, last in data.items():
        if site.store.get("projects", str(project_id)) is None:
            raise ValueError(f"seed issueKeyCounters: unknown project {project_id}")
        site.store.bump(model.key_kind(str(project_id)), int(last))
