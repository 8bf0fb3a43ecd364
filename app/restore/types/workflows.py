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
from ...jira.access import SiteAccess
from ...jira.errors import JiraError
from ...jira.operations import declare
from ...objects.declarations import DECLARATIONS, FIELD_VALUE, RULE_LISTS, RULE_REFS, field_value
from ...objects.references import Ref as Declared
from ...objects.references import Rewriter, targets
from ..jql import IdRef, Mapper
from ..mapping import to_destination
from ..notes import note
from ..subobjects import Resolver
from .base import CannotRestore, Existing, IdMap, Restorer, fold, reader, run_memo
from .simple import status_category

CREATE_WORKFLOWS = declare("POST", "/rest/api/3/workflows/create")
READ_WORKFLOWS = declare("POST", "/rest/api/3/workflows")
UPDATE_WORKFLOWS = declare("POST", "/rest/api/3/workflows/update")
VALIDATE_WORKFLOWS = declare("POST", "/rest/api/3/workflows/create/validation")
LIST_STATUSES = declare("GET", "/rest/api/3/status")
CREATE_WORKFLOW_SCHEME = declare("POST", "/rest/api/3/workflowscheme")

SYSTEM_WORKFLOW = "jira"
DEFAULT_SCHEME = "Default Workflow Scheme"
DEFAULT_SCHEME_ID = "default"  # the destination's default scheme has no id Jira lists; projects need none for it
CONFLICT_FIX = ("Compare the two in Jira; to get the snapshot's version, rename the destination's one and run the "
                "restore again.")
RESTRICT = "system:restrict-issue-transition"
# A condition that can't be restored as it was is replaced by this one: nobody may make the transition until a
# person fixes it (failing closed; a dropped restriction would open the transition to everyone).
BLOCK_ALL: dict[str, Any] = {"ruleKey": "system:restrict-from-all-users", "parameters": {"restrictMode": "users"}}
KIND_WORDS = {"projectRoles": "role", "groups": "group", "users": "user", "customFields": "custom field",
              "statuses": "status", "screens": "screen", "resolutions": "resolution", "priorities": "priority",
              "issueTypes": "issue type", "components": "component", "versions": "version", "options": "option",
              "projects": "project"}
FieldKind = Callable[[str], "str | None"]


# A restriction's criteria: one left with none would open the transition to everyone.
RESTRICTION_CRITERIA = ("accountIds", "roleIds", "groupIds", "permissionKeys", "groupCustomFields",
                        "allowUserCustomFields", "denyUserCustomFields")
# What a rule sets or compares with: a rule that loses any of it can't stay.
RULE_VALUES = frozenset({"parameters.value", "parameters.fieldValue"})


def rule_refs(rule: dict[str, Any], field_kind: FieldKind) -> list[IdRef]:
    """Every id a rule's parameters name, by the workflow declaration's rule references (``field_kind``: what a
    custom field's values name)."""
    found = []
    for kind, value in targets(rule, RULE_REFS):
        if kind == FIELD_VALUE:
            field_id, value = field_value(value)
            value_kind = field_kind(field_id)
            if value_kind is None:
                continue
            kind = value_kind
        found.append(IdRef(kind, value))
    return found


def map_rule(rule: dict[str, Any], mapper: Mapper) -> tuple[dict[str, Any] | None, list[str]]:
    """The rule in destination terms, and what it named that has no counterpart here (in words).

    Mapped by the workflow declaration's rule references (``RULE_REFS``). A list loses the values that don't map;
    a rule is None (can't stay) when a parameter it had is left empty, or a value it sets or compares with doesn't
    map. A restriction keeps what maps of its criteria."""
    missing: list[str] = []
    lost: set[str] = set()

    def resolve(ref: Declared, kind: str, value: str) -> str | None:
        if kind == FIELD_VALUE:
            field_id, value = field_value(value)
            value_kind = mapper.field_kind(field_id)
            if value_kind is None:
                return value
            kind = value_kind
        new = mapper.map(kind, value)
        if new is None:
            missing.append(f"{KIND_WORDS.get(kind, kind)} {value}")
            lost.add(ref.path)
        return new

    source = rule.get("parameters") or {}
    params = (Rewriter(resolve_ref=resolve).apply(rule, RULE_REFS).get("parameters") or {})
    emptied = any(source.get(path.split(".", 1)[1]) and not params.get(path.split(".", 1)[1])
                  for path in lost - RULE_VALUES)
    if rule.get("ruleKey") == RESTRICT:
        emptied = not any(params.get(k) for k in RESTRICTION_CRITERIA)
    if emptied or lost & RULE_VALUES:
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


def workflow_refs(obj: dict[str, Any], field_kind: FieldKind) -> list[IdRef]:
    """Every id a workflow's rules name (for ordering after what they name, parts' parents included)."""
    return [ref for tr in obj.get("transitions") or [] for rule in _all_rules(tr)
            for ref in rule_refs(rule, field_kind)]


# The workflow's own references to statuses (its layout, each transition's target and sources): mapped with the
# workflow; each rule's (``RULE_LISTS``, a transition's screen included) rule by rule, to judge each on its own.
STATUS_REFS = tuple(ref for ref in DECLARATIONS["workflows"].refs
                    if not any(ref.path.startswith(where) for where in RULE_LISTS))


def _screen_id(transition: dict[str, Any]) -> str | None:
    screen = ((transition.get("transitionScreen") or {}).get("parameters") or {}).get("screenId")
    return None if screen in (None, "") else str(screen)


def _transition(tr: dict[str, Any], mapper: Mapper | None) -> dict[str, Any]:
    """A transition (of a workflow ``in_terms``) with its rules and screen in destination terms (``mapper``: the
    run's; None: the destination's own transition, as it is)."""
    out: dict[str, Any] = {
        "id": str(tr["id"]), "name": tr["name"], "description": tr.get("description") or "", "type": tr["type"],
        "toStatusReference": str(tr["toStatusReference"]),
        "links": [dict(link, fromStatusReference=str(link["fromStatusReference"])) for link in tr.get("links") or []],
        "properties": dict(tr.get("properties") or {}),
        "triggers": copy.deepcopy(tr.get("triggers") or []),
    }
    if mapper is None:
        out["actions"], out["validators"] = copy.deepcopy(tr.get("actions") or []), copy.deepcopy(tr.get(
            "validators") or [])
        if tr.get("conditions"):
            out["conditions"] = copy.deepcopy(tr["conditions"])
    else:
        out["actions"] = _map_rules(tr.get("actions") or [], mapper, "post function", tr["name"])
        out["validators"] = _map_rules(tr.get("validators") or [], mapper, "validator", tr["name"])
        if tr.get("conditions"):
            out["conditions"] = _map_conditions(tr["conditions"], mapper, tr["name"])
    screen = _screen_id(tr)
    if screen is not None:
        mapped = tr["transitionScreen"] if mapper is None else map_rule(tr["transitionScreen"], mapper)[0]
        if mapped is not None:
            out["transitionScreen"] = mapped
        else:
            note(f"Transition {tr['name']!r}: its screen {screen} has no counterpart here; the transition has no "
                 "screen. Set it in the workflow editor.")
    if tr.get("customIssueEventId"):
        out["customIssueEventId"] = tr["customIssueEventId"]
    return out


def _layouts(wf: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for layout in wf.get("statuses") or []:
        item: dict[str, Any] = {"statusReference": str(layout["statusReference"]),
                                "properties": dict(layout.get("properties") or {})}
        if layout.get("layout"):
            item["layout"] = layout["layout"]
        out.append(item)
    return out


def _rules(workflow: dict[str, Any]) -> list[tuple[str, str, str]]:
    """A workflow's rules as (transition id, rule key, parameters), in a stable order (to compare two sites')."""
    return sorted((str(tr.get("id")), str(rule.get("ruleKey")),
                   json.dumps(rule.get("parameters") or {}, sort_keys=True))
                  for tr in workflow.get("transitions") or [] for rule in _all_rules(tr))


class Workflows(Restorer):
    type_key = "workflows"
    title = "Workflows"
    writes = (VALIDATE_WORKFLOWS, CREATE_WORKFLOWS, READ_WORKFLOWS, UPDATE_WORKFLOWS)

    def source_id(self, obj: dict[str, Any]) -> str:
        return str(obj["name"])  # schemes refer to workflows by name

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def ids_in_strings(self, obj: dict[str, Any], field_kind: FieldKind) -> list[IdRef]:
        return workflow_refs(obj, field_kind)

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        return sorted({r.source_id for r in workflow_refs(obj, lambda _field: None) if r.kind == "users"})

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
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
        obj, mapper = to_destination("workflows", obj, ids, refs=STATUS_REFS), Resolver(ids)
        workflow: dict[str, Any] = {"name": obj["name"], "description": obj.get("description") or "",
                                    "statuses": _layouts(obj),
                                    "transitions": [_transition(t, mapper) for t in obj.get("transitions") or []]}
        for layout in ("startPointLayout", "loopedTransitionContainerLayout"):
            if obj.get(layout):
                workflow[layout] = obj[layout]
        return {"scope": {"type": "GLOBAL"}, "statuses": [], "workflows": [workflow]}

    def _status_list(self, access: SiteAccess, payload: dict[str, Any], ids: IdMap) -> list[dict[str, Any]]:
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

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
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

    def complete(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> bool:
        """Rules naming parts of objects restored after the workflow (a version of a project that uses it) are
        written once those exist: the workflow's rules mapped again and, where they differ from the destination's,
        the workflow updated in place — its statuses and transitions stay as they are (an active workflow's
        structure can't change), only rules are added. Idempotent: an identical workflow is left alone."""
        payload = self._payload(obj, ids)
        wanted = payload["workflows"][0]
        answer = access.call(READ_WORKFLOWS, json={"workflowNames": [dest_id]}) or {}
        current = next((w for w in answer.get("workflows") or [] if w.get("name") == dest_id), None)
        if current is None or _rules(current) == _rules(wanted):
            return False
        update = {k: v for k, v in wanted.items() if k != "name"}
        update.update(id=str(current["id"]), version=current["version"])
        access.call(UPDATE_WORKFLOWS, json={"statuses": self._status_list(access, payload, ids),
                                            "workflows": [update]})
        note("Rules naming parts of objects restored after the workflow (a project's versions...) were written "
             "once those existed.")
        return True

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        mapper = None if ids is None else Resolver(ids)
        obj = to_destination("workflows", obj, ids, refs=STATUS_REFS)
        return {"name": obj["name"], "description": obj.get("description") or "",
                "statuses": sorted(_layouts(obj), key=lambda s: s["statusReference"]),
                "transitions": sorted((_transition(t, mapper) for t in obj.get("transitions") or []),
                                      key=lambda t: t["id"])}


class WorkflowSchemes(Restorer):
    type_key = "workflowSchemes"
    title = "Workflow schemes"
    writes = (CREATE_WORKFLOW_SCHEME,)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
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
        # Through the declaration: an issue type not on this site drops its row; workflows are named by name (the
        # destination's spelling of the workflow the run matched or made).
        obj = to_destination(self.type_key, obj, ids, quiet=True)
        mappings = {str(type_id): name for type_id, name in (obj.get("issueTypeMappings") or {}).items()}
        return {"name": obj["name"], "description": obj.get("description") or "",
                "defaultWorkflow": obj.get("defaultWorkflow") or SYSTEM_WORKFLOW,
                "issueTypeMappings": dict(sorted(mappings.items()))}

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        return str(access.call(CREATE_WORKFLOW_SCHEME, json=self._body(obj, ids))["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return self._body(obj, ids)
