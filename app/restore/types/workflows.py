"""Restorers of workflows (statuses, transitions, rules, screens, properties, layout) and workflow schemes.

Workflow schemes name workflows by *name*, so a workflow's source and destination ids in the id map are its names
(Jira's own identifier for workflows in schemes): a scheme's references then map straight to what Jira expects.

Active workflows and schemes: the strategy is **report**. A destination workflow or scheme of the same name with
different content is kept as it is, flagged as a conflict in the preview and listed by verification, because
changing an active workflow's statuses or transitions needs a status migration of live issues that only a person
can decide. The read-only system workflow ``jira`` and the Default Workflow Scheme map onto the destination's own.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...backups.catalogue import read_workflow_schemes, read_workflows
from ...jira.access import JiraAccess
from ...jira.errors import JiraError
from ...jira.operations import declare
from ...objects.declarations import GENERIC_USER_VALUES, RULE_PARAMETER_KINDS, UPDATE_FIELD_VALUES
from ..jql import IdRef, Mapper
from ..notes import note
from ..subobjects import Resolver, late_references
from . import register
from .base import CannotRestore, Existing, IdMap, Restorer, fold, reader, run_memo
from .simple import status_category

CREATE_WORKFLOWS = declare("POST", "/rest/api/3/workflows/create")
VALIDATE_WORKFLOWS = declare("POST", "/rest/api/3/workflows/create/validation")
LIST_STATUSES = declare("GET", "/rest/api/3/status")
CREATE_WORKFLOW_SCHEME = declare("POST", "/rest/api/3/workflowscheme")

SYSTEM_WORKFLOW = "jira"
DEFAULT_SCHEME = "Default Workflow Scheme"
DEFAULT_SCHEME_ID = "default"  # the destination's default scheme has no id Jira lists; projects need none for it
CONFLICT_FIX = ("Compare the two in Jira; to get the snapshot's version, rename the destination's one and run the "
                "restore again.")
# What each rule parameter names, the generic user values and update-field's values: declared once, beside the
# workflow type's other references (app/objects/declarations.py), for the restore and the verification alike.
RULE_PARAMETERS = RULE_PARAMETER_KINDS
GENERIC_VALUES = GENERIC_USER_VALUES
RESTRICT = "system:restrict-issue-transition"
# A condition that can't be restored as it was is replaced by this one: nobody may make the transition until a
# person fixes it (failing closed; a dropped restriction would open the transition to everyone).
BLOCK_ALL: dict[str, Any] = {"ruleKey": "system:restrict-from-all-users", "parameters": {"restrictMode": "users"}}
KIND_WORDS = {"projectRoles": "role", "groups": "group", "users": "user", "customFields": "custom field",
              "statuses": "status", "screens": "screen", "resolutions": "resolution", "priorities": "priority",
              "issueTypes": "issue type", "components": "component", "versions": "version", "options": "option",
              "projects": "project"}
FieldKind = Callable[[str], "str | None"]


def _csv(raw: Any) -> list[str]:
    return [v.strip() for v in str(raw).split(",") if v.strip()] if isinstance(raw, str | int) else []


def _param_ref(kind: str, value: str) -> IdRef | None:
    """The reference one parameter value holds (None: a generic value, a system field: the same everywhere)."""
    if kind == "users":
        return None if value in GENERIC_VALUES else IdRef("users", value)
    if kind == "fields":
        return IdRef("customFields", value) if value.startswith("customfield_") else None
    return IdRef(kind, value)


def _value_kind(params: dict[str, Any], field_kind: FieldKind) -> str | None:
    target = str(params.get("field") or "")
    return UPDATE_FIELD_VALUES.get(target) or (field_kind(target) if target.startswith("customfield_") else None)


def _option_list(raw: Any) -> list[str] | None:
    try:
        found = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    return [str(v) for v in found] if isinstance(found, list) else None


def rule_refs(rule: dict[str, Any], field_kind: FieldKind) -> list[IdRef]:
    """Every id a rule's parameters name (``field_kind``: what a custom field's values name)."""
    params = rule.get("parameters") or {}
    found = [ref for key, kind in RULE_PARAMETERS.items() for v in _csv(params.get(key))
             if (ref := _param_ref(kind, v)) is not None]
    if rule.get("ruleKey") == "system:update-field" and (kind := _value_kind(params, field_kind)):
        found += [IdRef(kind, v) for v in _csv(params.get("value"))]
    if rule.get("ruleKey") == "system:check-field-value" and params.get("comparisonType") == "OPTIONID":
        found += [IdRef("options", v) for v in _option_list(params.get("fieldValue")) or []]
    return found


def map_rule(rule: dict[str, Any], mapper: Mapper) -> tuple[dict[str, Any] | None, list[str]]:
    """The rule in destination terms, and what it named that has no counterpart here (in words).

    A list loses the values that don't map; a rule is None (can't stay) when a parameter it had is left empty, or a
    value it sets or compares with doesn't map. A restriction keeps what maps of its criteria."""
    source = rule.get("parameters") or {}
    params = dict(source)
    missing: list[str] = []
    emptied = False

    def one(ref: IdRef | None, value: str) -> str | None:
        if ref is None:
            return value
        new = mapper.map(ref.kind, ref.source_id)
        if new is None:
            missing.append(f"{KIND_WORDS.get(ref.kind, ref.kind)} {ref.source_id}")
        return new

    for key, kind in RULE_PARAMETERS.items():
        values = _csv(params.get(key))
        if not values:
            continue
        kept = [new for v in values if (new := one(_param_ref(kind, v), v)) is not None]
        if kept != values:
            params[key] = ",".join(kept)
            emptied = emptied or not kept
    lost_value = False
    if rule.get("ruleKey") == "system:update-field" and (kind := _value_kind(source, mapper.field_kind)):
        new_values = [one(IdRef(kind, v), v) for v in _csv(params.get("value"))]
        lost_value = None in new_values
        params["value"] = ",".join(v for v in new_values if v is not None)
    if rule.get("ruleKey") == "system:check-field-value" and params.get("comparisonType") == "OPTIONID":
        options = [one(IdRef("options", v), v) for v in _option_list(params.get("fieldValue")) or []]
        lost_value = lost_value or None in options
        params["fieldValue"] = json.dumps([v for v in options if v is not None])
    if rule.get("ruleKey") == RESTRICT:
        emptied = not any(params.get(k) for k in ("accountIds", "roleIds", "groupIds", "permissionKeys",
                                                   "groupCustomFields", "allowUserCustomFields",
                                                   "denyUserCustomFields"))
    if emptied or lost_value:
        return None, missing
    return dict(rule, parameters=params), missing


def _rule_words(rule: dict[str, Any]) -> str:
    return str(rule.get("ruleKey") or "a rule")


def _map_rules(rules: list[dict[str, Any]], mapper: Mapper, where: str, transition: str) -> list[dict[str, Any]]:
    """A transition's validators or post functions in destination terms; one that can't stay is left out (noted)."""
    out = []
    for rule in rules:
        mapped, missing = map_rule(rule, mapper)
        if missing or mapped is None:
            what = f" ({', '.join(missing)} has no counterpart here)" if missing else ""
            fate = "left out" if mapped is None else "kept without what has no counterpart"
            note(f"Transition {transition!r}: {where} {_rule_words(rule)} {fate}{what}. Set it up by hand in the "
                 "workflow editor.")
        if mapped is not None:
            out.append(mapped)
    return out


def _map_conditions(group: dict[str, Any], mapper: Mapper, transition: str) -> dict[str, Any]:
    """A condition group at any depth; a condition that can't stay becomes 'nobody may' (failing closed)."""
    conditions = []
    for rule in group.get("conditions") or []:
        mapped, missing = map_rule(rule, mapper)
        if missing or mapped is None:
            what = f" ({', '.join(missing)} has no counterpart here)" if missing else ""
            fate = "replaced by a block on everyone" if mapped is None else "kept without what has no counterpart"
            note(f"Transition {transition!r}: condition {_rule_words(rule)} {fate}{what}. Set it up by hand in the "
                 "workflow editor.")
        conditions.append(mapped if mapped is not None else copy.deepcopy(BLOCK_ALL))
    return dict(group, conditions=conditions,
                conditionGroups=[_map_conditions(g, mapper, transition) for g in group.get("conditionGroups") or []])


def _all_rules(tr: dict[str, Any]) -> Iterator[dict[str, Any]]:
    groups = [tr["conditions"]] if isinstance(tr.get("conditions"), dict) else []
    while groups:
        group = groups.pop()
        yield from group.get("conditions") or []
        groups += group.get("conditionGroups") or []
    for key in ("validators", "actions"):
        yield from tr.get(key) or []


@late_references("workflows")
def workflow_refs(obj: dict[str, Any], field_kind: FieldKind) -> list[IdRef]:
    """Every id a workflow's rules name (for ordering after what they name, parts' parents included)."""
    return [ref for tr in obj.get("transitions") or [] for rule in _all_rules(tr)
            for ref in rule_refs(rule, field_kind)]


def _status(ref: Any, ids: IdMap | None) -> str:
    return str(ref) if ids is None else ids.require("statuses", str(ref))


def _screen_id(transition: dict[str, Any]) -> str | None:
    screen = ((transition.get("transitionScreen") or {}).get("parameters") or {}).get("screenId")
    return None if screen in (None, "") else str(screen)


def _transition(tr: dict[str, Any], ids: IdMap | None) -> dict[str, Any]:
    """A transition with its statuses, screen and rule parameters in destination terms."""
    out: dict[str, Any] = {
        "id": str(tr["id"]), "name": tr["name"], "description": tr.get("description") or "", "type": tr["type"],
        "toStatusReference": _status(tr["toStatusReference"], ids),
        "links": [dict(link, fromStatusReference=_status(link["fromStatusReference"], ids))
                  for link in tr.get("links") or []],
        "properties": dict(tr.get("properties") or {}),
        "triggers": copy.deepcopy(tr.get("triggers") or []),
    }
    if ids is None:
        out["actions"], out["validators"] = copy.deepcopy(tr.get("actions") or []), copy.deepcopy(tr.get(
            "validators") or [])
        if tr.get("conditions"):
            out["conditions"] = copy.deepcopy(tr["conditions"])
    else:
        mapper = Resolver(ids)
        out["actions"] = _map_rules(tr.get("actions") or [], mapper, "post function", tr["name"])
        out["validators"] = _map_rules(tr.get("validators") or [], mapper, "validator", tr["name"])
        if tr.get("conditions"):
            out["conditions"] = _map_conditions(tr["conditions"], mapper, tr["name"])
    screen = _screen_id(tr)
    if screen is not None:
        mapped = screen if ids is None else ids.get("screens", screen)
        if mapped is not None:
            out["transitionScreen"] = dict(tr["transitionScreen"],
                                           parameters=dict(tr["transitionScreen"]["parameters"], screenId=mapped))
        else:
            note(f"Transition {tr['name']!r}: its screen {screen} has no counterpart here; the transition has no "
                 "screen. Set it in the workflow editor.")
    if tr.get("customIssueEventId"):
        out["customIssueEventId"] = tr["customIssueEventId"]
    return out


def _layouts(wf: dict[str, Any], ids: IdMap | None) -> list[dict[str, Any]]:
    out = []
    for layout in wf.get("statuses") or []:
        item: dict[str, Any] = {"statusReference": _status(layout["statusReference"], ids),
                                "properties": dict(layout.get("properties") or {})}
        if layout.get("layout"):
            item["layout"] = layout["layout"]
        out.append(item)
    return out


@register
class Workflows(Restorer):
    type_key = "workflows"
    title = "Workflows"
    writes = (VALIDATE_WORKFLOWS, CREATE_WORKFLOWS)

    def source_id(self, obj: dict[str, Any]) -> str:
        return str(obj["name"])  # schemes refer to workflows by name

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        return sorted({r.source_id for r in workflow_refs(obj, lambda _field: None) if r.kind == "users"})

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        for item in read_workflows(reader(access)):
            obj = item.obj
            yield Existing(self.natural_key(obj), str(obj["name"]), obj, obj["name"] == SYSTEM_WORKFLOW)

    def is_default(self, obj: dict[str, Any]) -> bool:
        return obj.get("name") == SYSTEM_WORKFLOW

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if (obj.get("scope") or {}).get("type") == "PROJECT":
            return CannotRestore("A team-managed project's workflow: team-managed projects can't be recreated "
                                 "through Jira's API.", "Recreate the team-managed project and its workflow by hand.")
        if obj.get("name") == SYSTEM_WORKFLOW:
            return CannotRestore("Jira's read-only system workflow; every site has its own.", "Nothing to do.")
        return None

    def _payload(self, obj: dict[str, Any], ids: IdMap) -> dict[str, Any]:
        statuses = _layouts(obj, ids)
        workflow: dict[str, Any] = {"name": obj["name"], "description": obj.get("description") or "",
                                    "statuses": statuses,
                                    "transitions": [_transition(t, ids) for t in obj.get("transitions") or []]}
        for layout in ("startPointLayout", "loopedTransitionContainerLayout"):
            if obj.get(layout):
                workflow[layout] = obj[layout]
        return {"scope": {"type": "GLOBAL"}, "statuses": [], "workflows": [workflow]}

    def _status_list(self, access: JiraAccess, payload: dict[str, Any], ids: IdMap) -> list[dict[str, Any]]:
        """The statuses the workflow uses, as existing ones (id) with the name and category Jira requires."""
        wanted = sorted({s["statusReference"] for s in payload["workflows"][0]["statuses"]})
        # One read of the status list per run, not per workflow; read again when a status is newer than it.
        memo = run_memo(ids, "destinationStatuses")
        known = memo.get("byId") or {}
        if any(ref not in known for ref in wanted):
            known = memo["byId"] = {str(s["id"]): s for s in access.call(LIST_STATUSES) or []}
        out = []
        for ref in wanted:
            status = known.get(ref) or {"name": ref}
            out.append({"id": ref, "statusReference": ref, "name": status.get("name", ref),
                        "statusCategory": status_category(status), "description": status.get("description") or ""})
        return out

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        payload = self._payload(obj, ids)
        # The statuses exist already (restored as their own type): reference them by destination id.
        payload["statuses"] = self._status_list(access, payload, ids)
        try:
            created = (access.call(CREATE_WORKFLOWS, json=payload) or {}).get("workflows") or []
        except JiraError as exc:
            if exc.status != 400:
                raise
            # Validation only once the create is refused (not a second request for every workflow): Jira's answer
            # to it names every problem at once, where the create stops at the first.
            checked = access.call(VALIDATE_WORKFLOWS, json={"payload": payload,
                                                            "validationOptions": {"levels": ["ERROR"]}}) or {}
            errors = [e.get("message", "") for e in checked.get("errors") or [] if e.get("level", "ERROR") == "ERROR"]
            raise CannotRestore("Jira's workflow validation refused it: " + (" ".join(errors[:5]) or exc.describe()),
                                "Recreate the workflow by hand in Settings > Issues > Workflows.") from None
        return str(created[0]["name"]) if created else str(obj["name"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "statuses": sorted(_layouts(obj, ids), key=lambda s: s["statusReference"]),
                "transitions": sorted((_transition(t, ids) for t in obj.get("transitions") or []),
                                      key=lambda t: t["id"])}


@register
class WorkflowSchemes(Restorer):
    type_key = "workflowSchemes"
    title = "Workflow schemes"
    writes = (CREATE_WORKFLOW_SCHEME,)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def _workflow_names(self, obj: dict[str, Any]) -> set[str]:
        names = set((obj.get("issueTypeMappings") or {}).values())
        names.add(obj.get("defaultWorkflow") or SYSTEM_WORKFLOW)
        return names

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        listed_default = False
        for item in read_workflow_schemes(reader(access)):
            obj = item.obj
            default = fold(obj["name"]) == fold(DEFAULT_SCHEME)
            listed_default = listed_default or default
            yield Existing(self.natural_key(obj), str(obj["id"]), obj, default)
        if not listed_default:  # Jira doesn't list the default scheme: it is what projects without one use
            yield Existing(fold(DEFAULT_SCHEME), DEFAULT_SCHEME_ID,
                           {"name": DEFAULT_SCHEME, "description": DEFAULT_SCHEME,
                            "defaultWorkflow": SYSTEM_WORKFLOW, "issueTypeMappings": {}}, True)

    def is_default(self, obj: dict[str, Any]) -> bool:
        return fold(obj.get("name", "")) == fold(DEFAULT_SCHEME)

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if self.is_default(obj):
            return CannotRestore("The Default Workflow Scheme can't be created or edited.", "Nothing to do.")
        return None

    def _body(self, obj: dict[str, Any], ids: IdMap | None) -> dict[str, Any]:
        def workflow(name: str) -> str:
            return name if ids is None or name == SYSTEM_WORKFLOW else ids.require("workflows", name)

        mappings = {}
        for type_id, name in (obj.get("issueTypeMappings") or {}).items():
            dest_type = str(type_id) if ids is None else ids.get("issueTypes", str(type_id))
            if dest_type is not None:
                mappings[dest_type] = workflow(name)
        return {"name": obj["name"], "description": obj.get("description") or "",
                "defaultWorkflow": workflow(obj.get("defaultWorkflow") or SYSTEM_WORKFLOW),
                "issueTypeMappings": dict(sorted(mappings.items()))}

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        return str(access.call(CREATE_WORKFLOW_SCHEME, json=self._body(obj, ids))["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return self._body(obj, ids)
