"""Issue field values checked as Jira checks them: screens, field configuration, contexts, and each field's type.

A request's ``fields`` (and ``update`` operations) become the *stored form* of ``issues.py``. What Jira refuses is
collected per field into ``errors`` (Jira answers all of a request's field errors at once, keyed by field id):
a field not on the operation's screen or hidden by the field configuration, a required field left empty, an
option outside the field's context, an unknown version, component, user or priority, rich text that isn't ADF, a
label with spaces, a parent at the wrong hierarchy level.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .issues import COLLECTION, LIST_FIELDS, SERVER_FIELDS, find_issue
from .site import Site

# Jira's texts
NOT_SETTABLE = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
REQUIRED = "{} is required."
SUMMARY_REQUIRED = "You must specify a summary of the issue."
SUMMARY_TOO_LONG = "Summary must be less than 255 characters."
NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
LABEL_SPACES = "The label '{}' contains spaces which is invalid."
TEXT_TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 255 characters."
BAD_OPTION = "Option id '{}' is not valid"
BAD_OPTION_VALUE = "Option value '{}' is not valid"
ISSUE_TYPE_INVALID = "The issue type selected is invalid."
PRIORITY_INVALID = "The priority selected is invalid."
SUBTASK_NEEDS_PARENT = "Issue type is a sub-task but parent issue key or id not specified."
PARENT_NOT_FOUND = "Could not find issue by id or key."
PARENT_OTHER_PROJECT = "Given parent issue belongs to a different project"
# plausible wording (Jira's exact texts not found in the sources read)
BAD_VERSION = "Version id '{}' is not valid for this project."
BAD_COMPONENT = "Component id '{}' is not valid for this project."
BAD_USER = "Specify a valid value for {}: the user '{}' does not exist or can't be assigned."
BAD_DATE = "Error parsing date string: {}"
BAD_NUMBER = "'{}' is an invalid number"
BAD_SECURITY = "Security level '{}' is not valid for this project."
BAD_LEVEL = ("The parent's issue type has hierarchy level {}; an issue of level {} needs a parent of level {}.")
NO_PARENT_LEVEL = "An issue of hierarchy level {} can't have a parent."
BAD_SHAPE = "The value of field '{}' has the wrong shape: {}."
BOTH_FORMS = "Field '{}' can't be set in both 'fields' and 'update'."
BAD_OPERATION = "The operation '{}' is not supported for the field '{}'."

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REQUIRED_BY_DEFAULT = {"summary", "issuetype", "project"}


class FieldError(ValueError):
    """One field's refusal, in Jira's words."""


# --------------------------------------------------------------------------------------------------
# What the project's configuration says about a field
# --------------------------------------------------------------------------------------------------


def screen_fields(site: Site, project: dict[str, Any], type_id: str, operation: str) -> set[str]:
    """Field ids on the ``create``/``edit`` screen a project's issue type screen scheme gives ``type_id``."""
    from .resources.screens import DEFAULT_ITSS, itss_of_project

    itss = site.store.get("issueTypeScreenSchemes", itss_of_project(project)) or \
        site.store.get("issueTypeScreenSchemes", DEFAULT_ITSS) or {"_mappings": {}}
    mappings = itss.get("_mappings") or {}
    scheme = site.store.get("screenSchemes", str(mappings.get(type_id) or mappings.get("default")))
    if scheme is None:
        return set()
    screens = scheme.get("screens") or {}
    screen_id = screens.get(operation) or screens.get("default")
    return fields_on_screen(site, screen_id)


def fields_on_screen(site: Site, screen_id: Any) -> set[str]:
    if screen_id is None:
        return set()
    return {str(f["id"]) for f in site.store.values("screenTabFields") if str(f["_screenId"]) == str(screen_id)}


def field_configuration_id(site: Site, project: dict[str, Any], type_id: str) -> str:
    from .resources._common import scheme_of
    from .resources.screens import DEFAULT_FIELD_CONFIGURATION, FCS_KIND

    sid = scheme_of(project, FCS_KIND)
    scheme = site.store.get("fieldConfigurationSchemes", sid) if sid else None
    if scheme is None:
        return str(DEFAULT_FIELD_CONFIGURATION)
    mappings = scheme.get("_mappings") or {}
    return str(mappings.get(type_id) or mappings.get("default") or DEFAULT_FIELD_CONFIGURATION)


def field_configuration(site: Site, project: dict[str, Any], type_id: str) -> tuple[set[str], set[str]]:
    """(hidden, required) field ids of the field configuration a project gives ``type_id``."""
    fc_id = field_configuration_id(site, project, type_id)
    hidden: set[str] = set()
    required = set(REQUIRED_BY_DEFAULT)
    for item in site.store.values("fieldConfigurationItems"):
        if str(item.get("_fcId")) != fc_id:
            continue
        fid = str(item["id"])
        if item.get("isHidden"):
            hidden.add(fid)
        if item.get("isRequired"):
            required.add(fid)
        elif fid in required and item.get("isRequired") is False:
            required.discard(fid)
    return hidden, required | REQUIRED_BY_DEFAULT


def context_for(site: Site, field_id: str, project_id: str, type_id: str) -> dict[str, Any] | None:
    """The custom field's context that applies to the project and issue type (project-specific first)."""
    best = None
    for context in site.store.values("fieldContexts"):
        if context.get("_fieldId") != field_id:
            continue
        projects, types = context.get("_projectIds") or [], context.get("_issueTypeIds") or []
        if (projects and project_id not in map(str, projects)) or (types and type_id not in map(str, types)):
            continue
        if projects:
            return context
        best = best or context
    return best


def issue_types_of(site: Site, project: dict[str, Any]) -> list[str]:
    from .resources.typeschemes import issue_type_ids_for_project

    return issue_type_ids_for_project(site, project)


def level_of(site: Site, type_id: str) -> int:
    return int((site.store.get("issueTypes", type_id) or {}).get("hierarchyLevel", 0))


# --------------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------------


class FieldChecker:
    """Checks one request's field values for one project and issue type; collects Jira's per-field errors."""

    def __init__(self, site: Site, project: dict[str, Any], type_id: str, *, operation: str,
                 allowed: set[str] | None = None, override_screen: bool = False) -> None:
        self.site, self.project, self.type_id, self.operation = site, project, type_id, operation
        self.allowed = screen_fields(site, project, type_id, operation) if allowed is None else allowed
        self.hidden, self.required = field_configuration(site, project, type_id)
        self.override_screen = override_screen
        self.errors: dict[str, str] = {}

    # .............................................................................................. gate

    def settable(self, fid: str) -> bool:
        """Whether the request may set ``fid`` at all (screen, field configuration, server-owned fields)."""
        if fid in SERVER_FIELDS or self.site.store.get("fields", fid) is None:
            return False
        if fid in self.hidden:
            return False
        if fid.startswith("customfield_") and \
                context_for(self.site, fid, self.project["id"], self.type_id) is None:
            return False
        return self.override_screen or fid in self.allowed

    def values(self, fields: dict[str, Any], update: dict[str, Any], current: dict[str, Any],
               skip: set[str]) -> dict[str, Any]:
        """The stored values a request's ``fields`` and ``update`` give (only the fields it names)."""
        out: dict[str, Any] = {}
        for fid in update:
            if fid in fields:
                self.errors[fid] = BOTH_FORMS.format(fid)
        for fid, raw in fields.items():
            if fid in skip or fid in self.errors:
                continue
            if not self.settable(fid):
                self.errors[fid] = NOT_SETTABLE.format(fid)
                continue
            self._convert_into(out, fid, raw)
        for fid, ops in update.items():
            if fid in skip or fid in self.errors:
                continue
            if not self.settable(fid):
                self.errors[fid] = NOT_SETTABLE.format(fid)
                continue
            self._apply_ops(out, fid, ops, current.get(fid))
        return out

    def _convert_into(self, out: dict[str, Any], fid: str, raw: Any) -> None:
        try:
            out[fid] = self.convert(fid, raw)
        except FieldError as exc:
            self.errors[fid] = str(exc)

    def _apply_ops(self, out: dict[str, Any], fid: str, ops: Any, current: Any) -> None:
        """``update`` operations: ``set`` for any field, ``add``/``remove`` for list fields (Jira's verbs)."""
        if not isinstance(ops, list):
            self.errors[fid] = BAD_SHAPE.format(fid, "a list of operations is expected")
            return
        value = list(current or []) if isinstance(current, list) or fid in LIST_FIELDS else current
        for op in ops:
            if not isinstance(op, dict) or len(op) != 1:
                self.errors[fid] = BAD_SHAPE.format(fid, "each operation is one of set, add, remove, edit")
                return
            verb, arg = next(iter(op.items()))
            try:
                if verb == "set":
                    value = self.convert(fid, arg)
                elif verb in ("add", "remove") and isinstance(value, list):
                    items = self.convert(fid, [arg])
                    value = [*value, *[i for i in items if i not in value]] if verb == "add" else \
                        [v for v in value if v not in items]
                else:
                    raise FieldError(BAD_OPERATION.format(verb, fid))
            except FieldError as exc:
                self.errors[fid] = str(exc)
                return
        out[fid] = value

    def check_required(self, merged: dict[str, Any], touched: set[str] | None) -> None:
        """Required fields (field configuration) must hold a value; on edit only the fields the edit touches."""
        for fid in sorted(self.required):
            if fid in self.errors or fid in ("project", "issuetype") or (touched is not None and fid not in touched):
                continue
            if merged.get(fid) in (None, "", [], {}):
                if fid == "summary":
                    self.errors[fid] = SUMMARY_REQUIRED
                    continue
                field = self.site.store.get("fields", fid)
                self.errors[fid] = REQUIRED.format(field["name"] if field else fid)

    # .............................................................................................. values

    def convert(self, fid: str, raw: Any) -> Any:
        """The stored form of one field value, or FieldError in Jira's words."""
        if fid.startswith("customfield_"):
            return self._custom(fid, raw)
        method = getattr(self, f"_sys_{fid}", None)
        if method is None:
            return raw
        return method(raw)

    def _sys_summary(self, raw: Any) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str):
            raise FieldError(BAD_SHAPE.format("summary", "a string is expected"))
        if "\n" in raw or "\r" in raw:
            raise FieldError("The summary is invalid because it contains newline characters.")  # Jira's wording
        if len(raw) > 255:
            raise FieldError(SUMMARY_TOO_LONG)
        return raw

    def _adf(self, raw: Any) -> Any:
        if raw is None:
            return None
        if not is_adf(raw):
            raise FieldError(NOT_ADF)
        return raw

    _sys_description = _adf
    _sys_environment = _adf

    def _sys_labels(self, raw: Any) -> list[str]:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise FieldError(BAD_SHAPE.format("labels", "a list of strings is expected"))
        for label in raw:
            if not label or any(c.isspace() for c in label):
                raise FieldError(LABEL_SPACES.format(label))
            if len(label) > 255:
                raise FieldError(TEXT_TOO_LONG)
        return list(dict.fromkeys(raw))

    def _ids(self, raw: Any, fid: str) -> list[str]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise FieldError(BAD_SHAPE.format(fid, "a list is expected"))
        return [str(ref_id(v, "name")) for v in raw]

    def _sys_components(self, raw: Any) -> list[str]:
        out = []
        for ref in self._ids(raw, "components"):
            comp = self.site.store.get("components", ref) or next(
                (c for c in self.site.store.values("components") if c.get("name") == ref
                 and str(c.get("projectId")) == self.project["id"]), None)
            if comp is None or str(comp.get("projectId")) != self.project["id"]:
                raise FieldError(BAD_COMPONENT.format(ref))
            out.append(str(comp["id"]))
        return out

    def _versions(self, raw: Any, fid: str) -> list[str]:
        out = []
        for ref in self._ids(raw, fid):
            version = self.site.store.get("versions", ref) or next(
                (v for v in self.site.store.values("versions") if v.get("name") == ref
                 and str(v.get("projectId")) == self.project["id"]), None)
            if version is None or str(version.get("projectId")) != self.project["id"]:
                raise FieldError(BAD_VERSION.format(ref))
            out.append(str(version["id"]))
        return out

    def _sys_fixVersions(self, raw: Any) -> list[str]:
        return self._versions(raw, "fixVersions")

    def _sys_versions(self, raw: Any) -> list[str]:
        return self._versions(raw, "versions")

    def _user(self, raw: Any, fid: str) -> str | None:
        if raw is None:
            return None
        account = raw.get("accountId") if isinstance(raw, dict) else None
        if not isinstance(account, str) or not account:
            raise FieldError(BAD_SHAPE.format(fid, "an object with an accountId is expected"))
        user = self.site.store.get("users", account)
        if user is None or not user.get("active", True):
            raise FieldError(BAD_USER.format(fid, account))
        return account

    def _sys_assignee(self, raw: Any) -> str | None:
        return self._user(raw, "assignee")

    def _sys_reporter(self, raw: Any) -> str | None:
        return self._user(raw, "reporter")

    def _sys_priority(self, raw: Any) -> str | None:
        from .resources.typeschemes import priority_ids_for_project

        if raw is None:
            return None
        ref = ref_id(raw, "name")
        found = self.site.store.get("priorities", str(ref)) or self.site.store.find_name_ci("priorities", str(ref))
        if found is None or str(found["id"]) not in priority_ids_for_project(self.site, self.project["id"]):
            raise FieldError(PRIORITY_INVALID)
        return str(found["id"])

    def _sys_duedate(self, raw: Any) -> str | None:
        if raw in (None, ""):
            return None
        if not isinstance(raw, str) or not _DATE.match(raw) or not valid_date(raw):
            raise FieldError(BAD_DATE.format(raw))
        return raw

    def _sys_resolution(self, raw: Any) -> str | None:
        if raw is None:
            return None
        ref = str(ref_id(raw, "name"))
        found = self.site.store.get("resolutions", ref) or self.site.store.find_name_ci("resolutions", ref)
        if found is None:
            raise FieldError(f"Resolution '{ref}' is not valid.")  # plausible wording
        return str(found["id"])

    def _sys_security(self, raw: Any) -> str | None:
        from .resources._common import scheme_of

        if raw is None:
            return None
        ref = str(ref_id(raw, "name"))
        scheme = scheme_of(self.project, "issueSecurityScheme")
        level = self.site.store.get("issueSecurityLevels", ref)
        if level is None or scheme is None or str(level.get("_schemeId", level.get("issueSecuritySchemeId"))) \
                != str(scheme):
            raise FieldError(BAD_SECURITY.format(ref))
        return ref

    def _sys_parent(self, raw: Any) -> str | None:
        if raw is None:
            return None
        ref = raw.get("key") or raw.get("id") if isinstance(raw, dict) else None
        parent = find_issue(self.site, ref) if ref else None
        if parent is None:
            raise FieldError(PARENT_NOT_FOUND)
        return str(parent["id"])

    def _sys_issuetype(self, raw: Any) -> str:
        ref = str(ref_id(raw, "name")) if raw is not None else ""
        found = self.site.store.get("issueTypes", ref) or self.site.store.find_name_ci("issueTypes", ref)
        if found is None or str(found["id"]) not in issue_types_of(self.site, self.project):
            raise FieldError(ISSUE_TYPE_INVALID)
        return str(found["id"])

    def _sys_timetracking(self, raw: Any) -> Any:
        if raw is not None and not isinstance(raw, dict):
            raise FieldError(BAD_SHAPE.format("timetracking", "an object is expected"))
        return raw

    # .............................................................................................. custom

    def _custom(self, fid: str, raw: Any) -> Any:
        field = self.site.store.get("fields", fid) or {}
        schema = field.get("schema") or {}
        kind, items = schema.get("type"), schema.get("items")
        if raw is None:
            return None
        if kind == "string":
            return self._custom_string(fid, raw, schema)
        if kind == "number":
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise FieldError(BAD_NUMBER.format(raw))
            return raw
        if kind in ("date", "datetime"):
            return self._custom_date(raw, kind)
        if kind == "option":
            return self._option(fid, raw, parent=None)
        if kind == "option-with-child":
            return self._cascade(fid, raw)
        if kind == "user":
            return self._user(raw, fid)
        if kind == "group":
            return self._group(fid, raw)
        if kind == "version":
            return self._versions([raw], fid)[0]
        if kind == "project":
            return self._project(fid, raw)
        if kind == "array":
            if not isinstance(raw, list):
                raise FieldError(BAD_SHAPE.format(fid, "a list is expected"))
            if items == "option":
                return [self._option(fid, v, parent=None) for v in raw]
            if items == "user":
                return [self._user(v, fid) for v in raw]
            if items == "group":
                return [self._group(fid, v) for v in raw]
            if items == "version":
                return self._versions(raw, fid)
            if items == "string":
                return self._sys_labels(raw)
        return raw  # a type the emulator doesn't model (team, sprint, rank...): kept as given

    def _custom_string(self, fid: str, raw: Any, schema: dict[str, Any]) -> Any:
        if str(schema.get("custom", "")).endswith(":textarea"):
            if not is_adf(raw):
                raise FieldError(NOT_ADF)
            return raw
        if not isinstance(raw, str):
            raise FieldError(BAD_SHAPE.format(fid, "a string is expected"))
        if len(raw) > 255:
            raise FieldError(TEXT_TOO_LONG)
        return raw

    def _custom_date(self, raw: Any, kind: str) -> str:
        if not isinstance(raw, str):
            raise FieldError(BAD_DATE.format(raw))
        if kind == "date" and (not _DATE.match(raw) or not valid_date(raw)):
            raise FieldError(BAD_DATE.format(raw))
        if kind == "datetime":
            from .issues import parse_time

            try:
                parse_time(raw)
            except ValueError:
                raise FieldError(BAD_DATE.format(raw)) from None
        return raw

    def _options(self, fid: str) -> list[dict[str, Any]]:
        context = context_for(self.site, fid, self.project["id"], self.type_id)
        cid = context["id"] if context else None
        return [o for o in self.site.store.values("fieldOptions") if o.get("_contextId") == cid]

    def _option(self, fid: str, raw: Any, *, parent: str | None) -> str:
        if not isinstance(raw, dict) or ("id" not in raw and "value" not in raw):
            raise FieldError(BAD_SHAPE.format(fid, "an object with an id or a value is expected"))
        candidates = [o for o in self._options(fid) if (o.get("optionId") or None) == parent
                      and not o.get("disabled")]
        if "id" in raw:
            found = next((o for o in candidates if str(o["id"]) == str(raw["id"])), None)
            if found is None:
                raise FieldError(BAD_OPTION.format(raw["id"]))
        else:
            found = next((o for o in candidates if o["value"] == raw["value"]), None)
            if found is None:
                raise FieldError(BAD_OPTION_VALUE.format(raw["value"]))
        return str(found["id"])

    def _cascade(self, fid: str, raw: Any) -> dict[str, Any]:
        parent = self._option(fid, raw, parent=None)
        out: dict[str, Any] = {"id": parent}
        if isinstance(raw, dict) and raw.get("child") is not None:
            out["child"] = self._option(fid, raw["child"], parent=parent)
        return out

    def _group(self, fid: str, raw: Any) -> str:
        name = raw.get("name") if isinstance(raw, dict) else None
        gid = raw.get("groupId") if isinstance(raw, dict) else None
        group = next((g for g in self.site.store.values("groups") if (name and g.get("name") == name)
                      or (gid and g.get("groupId") == gid)), None)
        if group is None:
            raise FieldError(f"Group '{name or gid}' does not exist.")  # plausible wording
        return str(group["name"])

    def _project(self, fid: str, raw: Any) -> str:
        from .resources._common import find_project

        ref = ref_id(raw, "key")
        project = find_project(self.site, ref) if ref is not None else None
        if project is None:
            raise FieldError(f"Project '{ref}' does not exist.")  # plausible wording
        return str(project["id"])


# --------------------------------------------------------------------------------------------------
# Hierarchy
# --------------------------------------------------------------------------------------------------


def check_hierarchy(site: Site, project: dict[str, Any], type_id: str, parent_id: str | None,
                    errors: dict[str, str], *, parent_given: bool) -> None:
    """Parent rules by hierarchy level: a sub-task (-1) needs a level-0 parent in the same project; a level-0
    issue may have a level-1 (epic) parent; an epic has none (the emulator has no levels above 1)."""
    level = level_of(site, type_id)
    if parent_id is None:
        if level == -1 and "parent" not in errors:
            errors["parent"] = SUBTASK_NEEDS_PARENT if not parent_given else PARENT_NOT_FOUND
        return
    parent = site.store.get(COLLECTION, parent_id)
    if parent is None:
        errors["parent"] = PARENT_NOT_FOUND
        return
    parent_level = level_of(site, parent["fields"]["issuetype"])
    if level >= 1:
        errors["parent"] = NO_PARENT_LEVEL.format(level)
    elif parent_level != level + 1:
        errors["parent"] = BAD_LEVEL.format(parent_level, level, level + 1)
    elif level == -1 and parent["fields"]["project"] != project["id"]:
        errors["parent"] = PARENT_OTHER_PROJECT


# --------------------------------------------------------------------------------------------------
# Small value helpers
# --------------------------------------------------------------------------------------------------


def ref_id(raw: Any, name_key: str) -> Any:
    """The id a reference object names (``{"id"}``, else ``{name_key}``), or the raw scalar."""
    if isinstance(raw, dict):
        if raw.get("id") is not None:
            return raw["id"]
        return raw.get(name_key, raw.get("name"))
    return raw


def is_adf(value: Any) -> bool:
    """An Atlassian Document: ``{"type": "doc", "version": 1, "content": [nodes...]}`` with typed nodes."""
    if not isinstance(value, dict) or value.get("type") != "doc" or value.get("version") != 1:
        return False
    return isinstance(value.get("content"), list) and all(_adf_node(n) for n in value["content"])


def _adf_node(node: Any) -> bool:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return False
    if node["type"] == "text":
        return isinstance(node.get("text"), str) and node["text"] != ""
    content = node.get("content", [])
    return isinstance(content, list) and all(_adf_node(n) for n in content)


def valid_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
