"""Restorers of workflows (statuses, transitions, rules, screens, properties, layout) and workflow schemes.

Workflow schemes name workflows by *name*, so a workflow's source and destination ids in the id map are its names
(Jira's own identifier for workflows in schemes): a scheme's references then map straight to what Jira expects.

Active workflows and schemes: the strategy is **report**. A destination workflow or scheme of the same name with
different content is kept as it is, flagged as a conflict in the preview and listed by verification, because
changing an active workflow's statuses or transitions needs a status migration of live issues that only a person
can decide. The read-only system workflow ``jira`` and the Default Workflow Scheme map onto the destination's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from ...backups.catalogue import read_workflow_schemes, read_workflows
from ...jira.access import JiraAccess
from ...jira.errors import JiraError
from ...jira.operations import declare
from . import register
from .base import CannotRestore, Existing, IdMap, Ref, Restorer, fold, reader, run_memo
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
_CUSTOM_FIELD = re.compile(r"customfield_\d+")


def map_custom_fields(value: Any, ids: IdMap | None) -> Any:
    """``value`` with every ``customfield_NNNNN`` inside strings rewritten through ``ids`` (rule parameters, JQL)."""
    if ids is None:
        return value
    if isinstance(value, dict):
        return {k: map_custom_fields(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [map_custom_fields(v, ids) for v in value]
    if isinstance(value, str):
        return _CUSTOM_FIELD.sub(lambda m: ids.get("customFields", m.group(0)) or m.group(0), value)
    return value


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
    }
    for rules in ("actions", "validators", "triggers"):
        out[rules] = map_custom_fields(tr.get(rules) or [], ids)
    if tr.get("conditions"):
        out["conditions"] = map_custom_fields(tr["conditions"], ids)
    screen = _screen_id(tr)
    if screen is not None:
        mapped = screen if ids is None else ids.get("screens", screen)
        if mapped is not None:  # an unrestored screen is dropped (verification lists the difference)
            out["transitionScreen"] = dict(tr["transitionScreen"],
                                           parameters=dict(tr["transitionScreen"]["parameters"], screenId=mapped))
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
    depends_on = ("statuses", "screens", "customFields")
    writes = (VALIDATE_WORKFLOWS, CREATE_WORKFLOWS)

    def source_id(self, obj: dict[str, Any]) -> str:
        return str(obj["name"])  # schemes refer to workflows by name

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        seen: set[Ref] = set()
        for layout in obj.get("statuses") or []:
            seen.add(Ref("statuses", str(layout["statusReference"])))
        for tr in obj.get("transitions") or []:
            screen = _screen_id(tr)
            if screen is not None:
                seen.add(Ref("screens", screen, optional=True))
        return sorted(seen, key=lambda r: (r.type_key, r.source_id))

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
    depends_on = ("workflows", "issueTypes")
    writes = (CREATE_WORKFLOW_SCHEME,)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def _workflow_names(self, obj: dict[str, Any]) -> set[str]:
        names = set((obj.get("issueTypeMappings") or {}).values())
        names.add(obj.get("defaultWorkflow") or SYSTEM_WORKFLOW)
        return names

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        refs = [Ref("workflows", name) for name in sorted(self._workflow_names(obj))]
        # An issue type that can't be restored (hierarchy above 0) drops its mapping rather than the scheme.
        refs += [Ref("issueTypes", str(t), optional=True) for t in sorted(obj.get("issueTypeMappings") or {})]
        return refs

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
