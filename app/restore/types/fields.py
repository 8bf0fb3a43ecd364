"""Restorers of custom fields and their contexts (issue-type and project mappings, options — cascading too —, and
default values); locked and app-provided fields can't be created, so they are matched by name + type or reported."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ...backups.catalogue import CATALOGUE
from ...jira.access import JiraAccess
from ...jira.operations import declare
from . import register
from .base import CannotRestore, Existing, IdMap, Ref, Restorer, fold, just_created, pick, reader, run_memo

CREATE_FIELD = declare("POST", "/rest/api/3/field")
LIST_CONTEXTS = declare("GET", "/rest/api/3/field/{fieldId}/context")
CREATE_CONTEXT = declare("POST", "/rest/api/3/field/{fieldId}/context")
UPDATE_CONTEXT = declare("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}")
CONTEXT_TYPES = declare("GET", "/rest/api/3/field/{fieldId}/context/issuetypemapping")
ADD_CONTEXT_TYPES = declare("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/issuetype")
LIST_OPTIONS = declare("GET", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
CREATE_OPTIONS = declare("POST", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
UPDATE_OPTIONS = declare("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
MOVE_OPTIONS = declare("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/option/move")
GET_DEFAULTS = declare("GET", "/rest/api/3/field/{fieldId}/context/defaultValue")
SET_DEFAULTS = declare("PUT", "/rest/api/3/field/{fieldId}/context/defaultValue")

# Field types anyone may create through ``POST /field``; others belong to Jira's own features or to apps.
CREATABLE_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"
OPTIONS_PER_REQUEST = 1000  # Jira's cap on ``POST .../option``
_OPTION_DEFAULTS = ("option.single", "option.multiple", "option.cascading")


def read_existing(type_key: str, access: JiraAccess) -> Iterator[tuple[str, dict[str, Any]]]:
    """The destination's objects of a type read exactly as a backup reads them: ``(id, object)`` pairs.

    Reading through the backup catalogue keeps both sides of every comparison in the same shape.
    """
    for item in CATALOGUE[type_key].read(reader(access)):
        if item.source_id is not None:
            yield item.source_id, item.obj


def field_type(obj: dict[str, Any]) -> str:
    return str((obj.get("schema") or {}).get("custom") or "")


def field_natural_key(name: str, type_key: str) -> str:
    """Custom fields are matched on name + type: Jira allows two fields of one name."""
    return f"{fold(name)} ({type_key})"


def custom_field_ref(field_id: str, optional: bool = True) -> Ref | None:
    """A reference to a custom field, or None for system fields (same id on every site)."""
    return Ref("customFields", field_id, optional) if str(field_id).startswith("customfield_") else None


def map_field(field_id: str, ids: IdMap | None, *, strict: bool) -> str | None:
    """A field id on the destination: system ids pass through; custom ids go through the id map."""
    if ids is None or not str(field_id).startswith("customfield_"):
        return str(field_id)
    return ids.require("customFields", field_id) if strict else ids.get("customFields", field_id)


@register
class CustomFields(Restorer):
    """Custom fields, matched on name + type. Locked fields (Sprint, Rank...) and app field types can't be created
    through the API: when the destination has no field of that name and type, they are reported."""

    type_key = "customFields"
    title = "Custom fields"
    writes = (CREATE_FIELD,)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return field_natural_key(obj["name"], field_type(obj))

    def display_name(self, obj: dict[str, Any]) -> str:
        return f"{obj['name']} ({field_type(obj).rsplit(':', 1)[-1]})"

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        for dest_id, obj in read_existing(self.type_key, access):
            yield Existing(self.natural_key(obj), dest_id, obj)

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if obj.get("isLocked"):
            return CannotRestore(f"{obj['name']!r} is a locked field that Jira or an app manages; it can't be "
                                 "created through the API.", "Enable the Jira feature or install the app that "
                                                             "provides it, then run the restore again to map it.")
        if not field_type(obj).startswith(CREATABLE_PREFIX):
            return CannotRestore(f"Field type {field_type(obj)!r} belongs to an app; only Jira's own custom field "
                                 "types can be created through the API.", "Install the app that provides the "
                                                                          "field, then run the restore again.")
        return None

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "type": field_type(obj), **pick(obj, "description", "searcherKey")}
        dest_id = str(access.call(CREATE_FIELD, json=body)["id"])
        run_memo(ids, "createdFields")[dest_id] = True  # its global context is Jira's new, empty one
        return dest_id

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "type": field_type(obj), "description": obj.get("description") or "",
                "searcherKey": obj.get("searcherKey")}


def _options_by_id(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(o["id"]): o for o in obj.get("options") or []}


def _option_path(option: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """An option named by value (and its parent's value for cascading children): ids differ per site."""
    parent = by_id.get(str(option.get("optionId"))) if option.get("optionId") else None
    return (parent["value"], option["value"]) if parent else (option["value"],)


def _key(path: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """An option path as Jira compares option values: case-insensitively."""
    return tuple(str(v).casefold() for v in path)


def _default_by_value(obj: dict[str, Any], ids: IdMap | None) -> dict[str, Any] | None:
    """The context's default value with option ids replaced by values and other references mapped."""
    default = obj.get("defaultValue")
    if not default:
        return None
    by_id = _options_by_id(obj)
    out = {k: v for k, v in default.items() if k != "contextId"}
    for key in ("optionId", "cascadingOptionId"):
        if out.get(key):
            out[key] = _option_path(by_id[str(out[key])], by_id) if str(out[key]) in by_id else None
    if out.get("optionIds"):
        out["optionIds"] = [_option_path(by_id[str(i)], by_id) for i in out["optionIds"] if str(i) in by_id]
    if ids is not None:
        if out.get("accountId"):
            out["accountId"] = ids.user(str(out["accountId"]))
        if out.get("accountIds"):
            out["accountIds"] = [a for a in (ids.user(str(x)) for x in out["accountIds"]) if a]
        if out.get("projectId"):
            out["projectId"] = ids.require("projects", str(out["projectId"]))
    return out


@register
class FieldContexts(Restorer):
    """Custom field contexts with their issue types, projects, options (in order, cascading children included) and
    default value. Matched on field (name + type) + context name.

    A new field comes with a global context of Jira's naming, and a field can have only one global context: a
    source global context therefore takes over the destination's (renamed to the source's name) instead of
    failing to create a second one.
    """

    type_key = "fieldContexts"
    title = "Custom field contexts"
    depends_on = ("customFields", "issueTypes", "projects")
    can_update = True  # additive: missing issue types and options are added, order and default set
    writes = (CREATE_CONTEXT, UPDATE_CONTEXT, ADD_CONTEXT_TYPES, CREATE_OPTIONS, UPDATE_OPTIONS, MOVE_OPTIONS,
              SET_DEFAULTS)

    def cost(self, obj: dict[str, Any]) -> int:
        # create, then options read, parents, re-read, children, re-read; default read and write
        return 2 + (5 if obj.get("options") else 0) + (2 if obj.get("defaultValue") else 0)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return f"{fold(obj['field'])} / {fold(obj['name'])}"

    def display_name(self, obj: dict[str, Any]) -> str:
        return f"{obj['field']} / {obj['name']}"

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        yield Ref("customFields", str(obj["fieldId"]))
        # Optional: a type or project that can't come back is left out of the context (create() refuses a
        # context that would lose all of them, as that would widen it to every type or project).
        for type_id in obj.get("issueTypeIds") or []:
            yield Ref("issueTypes", str(type_id), optional=True)
        for project_id in obj.get("projectIds") or []:
            yield Ref("projects", str(project_id), optional=True)

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        default = obj.get("defaultValue") or {}
        return [str(a) for a in [default.get("accountId"), *(default.get("accountIds") or [])] if a]

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        for dest_id, obj in read_existing(self.type_key, access):
            yield Existing(self.natural_key(obj), dest_id, obj)

    def _scope(self, obj: dict[str, Any], ids: IdMap) -> tuple[list[str], list[str]]:
        types = [t for t in (ids.get("issueTypes", str(i)) for i in obj.get("issueTypeIds") or []) if t]
        projects = [p for p in (ids.get("projects", str(i)) for i in obj.get("projectIds") or []) if p]
        if obj.get("issueTypeIds") and not types:
            raise CannotRestore("None of the context's issue types was restored; without them it would apply to "
                                "every issue type.", "Restore its issue types, then run the restore again.")
        if obj.get("projectIds") and not projects:
            raise CannotRestore("None of the context's projects was restored; without them it would apply to "
                                "every project.", "Restore its projects, then run the restore again.")
        return types, projects

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        field_id = ids.require("customFields", str(obj["fieldId"]))
        types, projects = self._scope(obj, ids)
        description = obj.get("description") or ""
        if not projects:
            taken = next(iter(access.paginate(LIST_CONTEXTS, path={"fieldId": field_id},
                                              params={"isGlobalContext": "true"})), None)
            if taken is not None:
                if (taken.get("name"), taken.get("description") or "") != (obj["name"], description):
                    access.call(UPDATE_CONTEXT, path={"fieldId": field_id, "contextId": taken["id"]},
                                json={"name": obj["name"], "description": description})
                if run_memo(ids, "createdFields").get(field_id):
                    run_memo(ids, "pristineContexts")[str(taken["id"])] = "taken over"
                return str(taken["id"])
        body: dict[str, Any] = {"name": obj["name"], "description": description}
        if types:
            body["issueTypeIds"] = types
        if projects:
            body["projectIds"] = projects
        dest_id = str(access.call(CREATE_CONTEXT, path={"fieldId": field_id}, json=body)["id"])
        run_memo(ids, "pristineContexts")[dest_id] = "created"
        return dest_id

    def _pristine(self, dest_id: str, ids: IdMap) -> str | None:
        """How a context we just made came to be (``created``, or ``taken over`` from a field we just created), when
        it is still as Jira made it: no options, no default, its issue types those of the create. Else None."""
        return run_memo(ids, "pristineContexts").get(dest_id) if just_created() else None

    def after_create(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        field_id = ids.require("customFields", str(obj["fieldId"]))
        path = {"fieldId": field_id, "contextId": dest_id}
        types, _ = self._scope(obj, ids)
        pristine = self._pristine(dest_id, ids)
        if types and pristine != "created":  # a taken-over global context applies to any type until told otherwise
            have = set() if pristine else {str(m.get("issueTypeId")) for m in access.paginate(
                CONTEXT_TYPES, path={"fieldId": field_id}, params={"contextId": dest_id}) if m.get("issueTypeId")}
            missing = [t for t in types if t not in have]
            if missing:
                access.call(ADD_CONTEXT_TYPES, path=path, json={"issueTypeIds": missing})
        dest_options: dict[tuple[str, ...], str] = {}
        if "options" in obj:
            dest_options = self._restore_options(access, path, obj, fresh=pristine is not None)
        self._restore_default(access, field_id, dest_id, obj, dest_options, ids, fresh=pristine is not None)

    def update(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self.after_create(access, dest_id, obj, ids)

    def _read_options(self, access: JiraAccess, path: dict[str, str]) -> list[dict[str, Any]]:
        return list(access.paginate(LIST_OPTIONS, path=path, page_size=100))

    def _restore_options(self, access: JiraAccess, path: dict[str, str], obj: dict[str, Any], *,
                         fresh: bool = False) -> dict[tuple[str, ...], str]:
        """Create missing options (parents, then children), set disabled flags and the order; return path -> id.

        ``fresh``: the context has no options yet, so the list is built from the creates' answers (each names the
        options it made, in order) instead of being read before and after them.
        """
        source = obj.get("options") or []
        by_id = _options_by_id(obj)
        current = [] if fresh else self._read_options(access, path)
        index = self._index(current)
        parents = [o for o in source if not o.get("optionId")]
        made = self._create_missing(access, path, [{"value": o["value"], "disabled": bool(o.get("disabled"))}
                                                   for o in parents if _key((o["value"],)) not in index])
        if fresh:
            current = current + made
        elif any(_key((o["value"],)) not in index for o in parents):
            current = self._read_options(access, path)
        index = self._index(current)
        children = []
        for option in source:
            if option.get("optionId"):
                key = _key(_option_path(option, by_id))
                parent_id = index.get(key[:1])
                if key not in index and parent_id:
                    children.append({"value": option["value"], "optionId": parent_id,
                                     "disabled": bool(option.get("disabled"))})
        if children:
            made = self._create_missing(access, path, children)
            current = current + made if fresh else self._read_options(access, path)
            index = self._index(current)
        state = {str(o["id"]): bool(o.get("disabled")) for o in current}
        flips = [{"id": index[k], "disabled": bool(o.get("disabled"))} for o in source
                 if (k := _key(_option_path(o, by_id))) in index and state.get(index[k]) != bool(o.get("disabled"))]
        if flips:
            access.call(UPDATE_OPTIONS, path=path, json={"options": flips})
        self._order(access, path, source, by_id, current, index)
        return index

    def _index(self, options: list[dict[str, Any]]) -> dict[tuple[str, ...], str]:
        by_id = {str(o["id"]): o for o in options}
        return {_key(_option_path(o, by_id)): str(o["id"]) for o in options}

    def _create_missing(self, access: JiraAccess, path: dict[str, str], options: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
        """Create the options, a thousand a request; the options Jira says it made, in order."""
        made: list[dict[str, Any]] = []
        for start in range(0, len(options), OPTIONS_PER_REQUEST):
            batch = options[start:start + OPTIONS_PER_REQUEST]
            answer = access.call(CREATE_OPTIONS, path=path, json={"options": batch})
            made += (answer or {}).get("options") or []
        return made

    def _order(self, access: JiraAccess, path: dict[str, str], source: list[dict[str, Any]],
               by_id: dict[str, dict[str, Any]], current: list[dict[str, Any]],
               index: dict[tuple[str, ...], str]) -> None:
        """One move per sibling group whose order differs: the group, in the source's order, to the top."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for option in source:
            key = _key(_option_path(option, by_id))
            if key in index:
                groups.setdefault(key[:-1], []).append(index[key])
        dest_by_id = {str(o["id"]): o for o in current}
        for parent, wanted in groups.items():
            have = [str(o["id"]) for o in current if _key(_option_path(o, dest_by_id)[:-1]) == parent]
            if have[:len(wanted)] != wanted:
                access.call(MOVE_OPTIONS, path=path, json={"customFieldOptionIds": wanted, "position": "First"})

    def _restore_default(self, access: JiraAccess, field_id: str, dest_id: str, obj: dict[str, Any],
                         dest_options: dict[tuple[str, ...], str], ids: IdMap, *, fresh: bool = False) -> None:
        wanted = _default_by_value(obj, ids)
        if not wanted:
            return
        body = dict(wanted, contextId=dest_id)
        for key in ("optionId", "cascadingOptionId"):
            if body.get(key):
                body[key] = dest_options.get(_key(body[key]))
        if body.get("optionIds"):
            body["optionIds"] = [dest_options[_key(p)] for p in body["optionIds"] if _key(p) in dest_options]
        body = {k: v for k, v in body.items() if v not in (None, [])}
        if body.get("type") in _OPTION_DEFAULTS and not (body.get("optionId") or body.get("optionIds")):
            return  # its options didn't come back: no default rather than a wrong one
        current = None if fresh else next(  # a context we just made has no default
            (d for d in access.paginate(GET_DEFAULTS, path={"fieldId": field_id}, params={"contextId": dest_id})
             if str(d.get("contextId")) == dest_id), None)
        if current != body:
            access.call(SET_DEFAULTS, path={"fieldId": field_id}, json={"defaultValues": [body]})

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        by_id = _options_by_id(obj)

        def mapped(type_key: str, values: list[Any]) -> list[str]:
            if ids is None:
                return sorted(str(v) for v in values)
            return sorted(ids.require(type_key, str(v)) for v in values)

        groups: dict[str, list[list[Any]]] = {}
        for option in obj.get("options") or []:
            *parent, value = _option_path(option, by_id)
            groups.setdefault(" / ".join(parent), []).append([value, bool(option.get("disabled"))])
        return {"name": obj["name"], "description": obj.get("description") or "",
                "issueTypeIds": mapped("issueTypes", obj.get("issueTypeIds") or []),
                "projectIds": mapped("projects", obj.get("projectIds") or []),
                "options": groups, "defaultValue": _default_by_value(obj, ids)}
