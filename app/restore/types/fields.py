"""Restorers of custom fields and their contexts (issue-type and project mappings, options — cascading too —, and
default values); locked and app-provided fields can't be created, so they are matched by name + type or reported."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...backups.catalogue import CATALOGUE
from ...jira.access import SiteAccess
from ...jira.operations import declare
from ...objects.declarations import DECLARATIONS
from ..mapping import to_destination
from ..membership import ALL_PROJECTS, PROJECT_ID
from ..notes import note
from .base import CannotRestore, Existing, IdMap, Ref, Restorer, fold, just_created, pick, reader, run_memo

CREATE_FIELD = declare("POST", "/rest/api/3/field")
LIST_CONTEXTS = declare("GET", "/rest/api/3/field/{fieldId}/context")
CREATE_CONTEXT = declare("POST", "/rest/api/3/field/{fieldId}/context")
UPDATE_CONTEXT = declare("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}")
DELETE_CONTEXT = declare("DELETE", "/rest/api/3/field/{fieldId}/context/{contextId}")
CONTEXT_TYPES = declare("GET", "/rest/api/3/field/{fieldId}/context/issuetypemapping")
ADD_CONTEXT_TYPES = declare("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/issuetype")
LIST_OPTIONS = declare("GET", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
CREATE_OPTIONS = declare("POST", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
UPDATE_OPTIONS = declare("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/option")
MOVE_OPTIONS = declare("PUT", "/rest/api/3/field/{fieldId}/context/{contextId}/option/move")
GET_DEFAULTS = declare("GET", "/rest/api/3/field/{fieldId}/context/defaultValue")
SET_DEFAULTS = declare("PUT", "/rest/api/3/field/{fieldId}/context/defaultValue")
GROUPS_BY_NAME = declare("GET", "/rest/api/3/group/bulk")
LIST_VERSIONS = declare("GET", "/rest/api/3/project/{projectIdOrKey}/versions")

# Field types anyone may create through ``POST /field``; others belong to Jira's own features or to apps.
CREATABLE_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"
OPTIONS_PER_REQUEST = 1000  # Jira's cap on ``POST .../option``


def read_existing(type_key: str, access: SiteAccess) -> Iterator[tuple[str, dict[str, Any]]]:
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

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
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

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
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


# --------------------------------------------------------------------------- default values: references as data
#
# Where a context's default value holds references, what each names, and how it is written on the destination.
# Pure functions over the captured default (no Jira, no id map): the HTTP side hands in a ``Resolve`` that says what
# a source reference is on the destination (or None: not there), and gets back the body to send plus, in words,
# every reference that couldn't come along. Nothing is ever kept with a source id.

# The words the notes use for what a default names, by the declaration's kinds.
_DEFAULT_KINDS = {"options": "option", "users": "user", "groups": "group", "projects": "project",
                  "versions": "version", "projectRoles": "role"}


def _declared_default_references(prefix: str) -> dict[str, str]:
    """The members under ``prefix`` of a context's default value that name something, and what (from the
    fieldContexts declaration: the one list of where a default holds references)."""
    found = {}
    for ref in DECLARATIONS["fieldContexts"].refs:
        rest = ref.path.removeprefix(prefix)
        if rest != ref.path and "." not in rest and isinstance(ref.kind, str):
            found[rest.removesuffix("[]")] = _DEFAULT_KINDS[ref.kind]
    return found


# default value key -> the kind of object it names (one id, or a list of ids)
DEFAULT_REFERENCES: dict[str, str] = _declared_default_references("defaultValue.")
# a single user picker's ``userFilter``: its roles by id (declared); its groups by *name*, the same on every site
# (a literal to the declaration), which the restore still checks exist here
USER_FILTER_REFERENCES: dict[str, str] = {**_declared_default_references("defaultValue.userFilter."),
                                          "groups": "group name"}
# What places the context itself (its field, projects and issue types): mapped through the declaration. Its options
# and default are its own parts, created with it: matched by value path (``map_default``), not through the id map.
SCOPE_REFS = ("fieldId", "projectIds[]", "issueTypeIds[]")
# without these the default means nothing (the spec's required keys): a default that loses one isn't set
DEFAULT_REQUIRED: dict[str, str] = {
    "option.single": "optionId", "option.multiple": "optionIds", "option.cascading": "optionId",
    "single.user.select": "accountId", "multi.user.select": "accountIds", "grouppicker.single": "groupId",
    "grouppicker.multiple": "groupIds", "version.single": "versionId", "version.multiple": "versionIds",
    "project": "projectId",
}
# the snapshot type a reference kind's objects are restored as (for ordering and the id map)
KIND_TYPES = {"group": "groups", "project": "projects", "role": "projectRoles"}

# (kind, what the snapshot holds: an option path, a version's {id, projectId, name}, or an id) -> destination value
Resolve = Callable[[str, Any], "str | None"]


def default_source_value(kind: str, value: Any, obj: dict[str, Any]) -> Any:
    """What a reference in ``obj``'s default names on the source, in terms that survive the trip: an option by its
    value path, a version by project + name (from the capture's ``defaultVersions``), anything else by its id."""
    if kind == "option":
        by_id = _options_by_id(obj)
        option = by_id.get(str(value))
        return _option_path(option, by_id) if option is not None else None
    if kind == "version":
        return next((v for v in obj.get("defaultVersions") or [] if str(v.get("id")) == str(value)),
                    {"id": str(value), "projectId": None, "name": None})
    return str(value)


def describe_reference(kind: str, value: Any, source: Any) -> str:
    """A reference named for people: ``option 'EMEA -> Berlin'``, ``version '1.0' of project 10001``."""
    if kind == "option":
        return f"option {' -> '.join(source)!r}" if source else f"option {value} (not among the context's options)"
    if kind == "version":
        name = source.get("name") if isinstance(source, dict) else None
        return f"version {name!r} of project {source.get('projectId')}" if name else f"version {value}"
    return f"{kind} {value!r}" if kind == "group name" else f"{kind} {value}"


def map_default(obj: dict[str, Any], resolve: Resolve) -> tuple[dict[str, Any] | None, list[str]]:
    """The context's default value with every reference written in destination terms (``contextId`` left out), or
    None when it can't be set; and what couldn't come along, in words (the outcome's notes)."""
    default = obj.get("defaultValue")
    if not default:
        return None, []
    out: dict[str, Any] = {k: v for k, v in default.items() if k != "contextId"}
    problems: list[str] = []

    def one(kind: str, value: Any) -> str | None:
        source = default_source_value(kind, value, obj)
        found = resolve(kind, source) if source is not None else None
        if found is None:
            problems.append(f"{describe_reference(kind, value, source)} isn't on this site")
        elif kind == "user" and found != str(value):
            problems.append(f"user {value} has no account on this site: {found} stands in")
        return found

    for key, kind in DEFAULT_REFERENCES.items():
        if key not in out:
            continue
        if isinstance(out[key], list):
            out[key] = list(dict.fromkeys(m for m in (one(kind, v) for v in out[key]) if m is not None))
        elif out[key] is not None:
            out[key] = one(kind, out[key])
    if isinstance(out.get("userFilter"), dict):
        user_filter = dict(out["userFilter"])
        for key, kind in USER_FILTER_REFERENCES.items():
            if user_filter.get(key):
                mapped = [one(kind, v) for v in user_filter[key]]
                user_filter[key] = [int(m) if kind == "role" else m for m in mapped if m is not None]
        out["userFilter"] = user_filter
    needed = DEFAULT_REQUIRED.get(str(out.get("type")))
    if needed and out.get(needed) in (None, []):
        return None, [*problems, "so the default value isn't set"]
    return {k: v for k, v in out.items() if v is not None}, problems




def comparable_default(obj: dict[str, Any], ids: IdMap | None) -> dict[str, Any] | None:
    """The default in a form both sites share: options by value path, versions by project + name, users through the
    run's missing-user policy, groups, projects and roles mapped (source) or as they are (destination)."""

    def resolve(kind: str, source: Any) -> Any:
        if kind == "option":
            return source
        if kind == "version":
            project = source.get("projectId")
            mapped = project if ids is None or project is None else ids.require("projects", str(project))
            return f"{mapped} / {source.get('name')}"
        if ids is None or kind == "group name":
            return source
        if kind == "user":
            return ids.user(source)
        return ids.require(KIND_TYPES[kind], source)

    body, _problems = map_default(obj, resolve)
    if body is None:
        return None
    for key in ("optionIds", "accountIds", "groupIds", "versionIds"):
        if isinstance(body.get(key), list):
            body[key] = sorted(body[key], key=str)
    if isinstance(body.get("userFilter"), dict):
        body["userFilter"] = {k: sorted(v, key=str) if isinstance(v, list) else v
                              for k, v in body["userFilter"].items()}
    return body


class _DefaultTargets:
    """What a default value's references are on the destination: the HTTP side of ``map_default``."""

    def __init__(self, access: SiteAccess, ids: IdMap, options: dict[tuple[str, ...], str]) -> None:
        self.access, self.ids, self.options = access, ids, options

    def __call__(self, kind: str, source: Any) -> str | None:
        if kind == "option":
            return self.options.get(_key(source))
        if kind == "user":
            return self.ids.user(str(source))  # the run's missing-user policy: the same, the fallback, or None
        if kind == "group name":  # a user filter names groups by name: it has to exist by that name here
            page = self.access.call(GROUPS_BY_NAME, params={"groupName": str(source)}) or {}
            return str(source) if any(g.get("name") == source for g in page.get("values") or []) else None
        if kind == "version":
            return self._version(source)
        return self.ids.get(KIND_TYPES[kind], str(source))

    def _version(self, version: dict[str, Any]) -> str | None:
        """The destination's version of that name in the restored project (versions come with their project)."""
        project = self.ids.get("projects", str(version.get("projectId"))) if version.get("projectId") else None
        if project is None or not version.get("name"):
            return None
        for found in self.access.call(LIST_VERSIONS, path={"projectIdOrKey": project}) or []:
            if fold(found.get("name", "")) == fold(version["name"]):
                return str(found["id"])
        return None


class FieldContexts(Restorer):
    """Custom field contexts with their issue types, projects, options (in order, cascading children included) and
    default value. Matched on field (name + type) + context name.

    A new field comes with a global context of Jira's naming, and a field can have only one global context: a
    source global context therefore takes over the destination's (renamed to the source's name) instead of
    failing to create a second one. Since April 2026 Jira refuses issue types added to a global context
    (CHANGE-3019): a source global context limited to some issue types replaces the destination's when that one is
    as Jira made it (nothing lost), and otherwise keeps every issue type, noted with the manual fix.

    Default values are written in destination terms (``map_default``); what can't come along is noted.
    """

    type_key = "fieldContexts"
    title = "Custom field contexts"
    can_update = True  # additive: missing issue types and options are added, order and default set
    writes = (CREATE_CONTEXT, UPDATE_CONTEXT, DELETE_CONTEXT, ADD_CONTEXT_TYPES, CREATE_OPTIONS, UPDATE_OPTIONS,
              MOVE_OPTIONS, SET_DEFAULTS)

    def cost(self, obj: dict[str, Any]) -> int:
        # create, then options read, parents, re-read, children, re-read; default read and write
        return 2 + (5 if obj.get("options") else 0) + (2 if obj.get("defaultValue") else 0)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return f"{fold(obj['field'])} / {fold(obj['name'])}"

    def display_name(self, obj: dict[str, Any]) -> str:
        return f"{obj['field']} / {obj['name']}"

    def projects(self, obj: dict[str, Any]) -> Iterable[str]:
        """A context belongs to the projects it names, a global one to every project: restoring some projects
        brings the contexts (and options) their issues' fields need."""
        project_ids = obj.get("projectIds") or []
        return [f"{PROJECT_ID}{p}" for p in project_ids] if project_ids else [ALL_PROJECTS]

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        default = obj.get("defaultValue") or {}
        return [str(a) for a in [default.get("accountId"), *(default.get("accountIds") or [])] if a]

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for dest_id, obj in read_existing(self.type_key, access):
            yield Existing(self.natural_key(obj), dest_id, obj)

    def _in_terms(self, obj: dict[str, Any], ids: IdMap | None, *, strict: bool = False) -> dict[str, Any]:
        """The context's field, issue types and projects in destination terms (``SCOPE_REFS``); one that didn't
        come back is left out and noted."""
        refs = tuple(r for r in DECLARATIONS[self.type_key].refs if r.path in SCOPE_REFS)
        return to_destination(self.type_key, obj, ids, refs=refs, strict=strict, say=lambda _ref, kind, source_id: (
            f"The context's {'issue type' if kind == 'issueTypes' else 'project'} {source_id} isn't on this site: "
            "the context is bound without it."))

    def _scope(self, obj: dict[str, Any], ids: IdMap) -> tuple[list[str], list[str]]:
        """The context's issue types and projects on the destination; one that didn't come back is noted."""
        mapped = self._in_terms(obj, ids)
        types = [str(t) for t in mapped.get("issueTypeIds") or []]
        projects = [str(p) for p in mapped.get("projectIds") or []]
        if obj.get("issueTypeIds") and not types:
            raise CannotRestore("None of the context's issue types was restored; without them it would apply to "
                                "every issue type.", "Restore its issue types, then run the restore again.")
        if obj.get("projectIds") and not projects:
            raise CannotRestore("None of the context's projects was restored; without them it would apply to "
                                "every project.", "Restore its projects, then run the restore again.")
        return types, projects

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        field_id = str(self._in_terms(obj, ids)["fieldId"])
        types, projects = self._scope(obj, ids)
        description = obj.get("description") or ""
        if not projects:
            taken = next(iter(access.paginate(LIST_CONTEXTS, path={"fieldId": field_id},
                                              params={"isGlobalContext": "true"})), None)
            if taken is not None and types and self._replaceable(access, field_id, taken, obj, ids):
                # Jira no longer adds issue types to a global context (CHANGE-3019): the empty one Jira made
                # gives way to ours, created with its issue types.
                access.call(DELETE_CONTEXT, path={"fieldId": field_id, "contextId": str(taken["id"])})
                taken = None
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

    def _replaceable(self, access: SiteAccess, field_id: str, taken: dict[str, Any], obj: dict[str, Any],
                     ids: IdMap) -> bool:
        """Whether the destination's global context is as Jira makes one (any issue type, no options, no default),
        so replacing it loses nothing: always for a field this run created, else read to be sure."""
        if not taken.get("isAnyIssueType"):
            return False
        if run_memo(ids, "createdFields").get(field_id):
            return True
        path = {"fieldId": field_id, "contextId": str(taken["id"])}
        if "options" in obj and next(iter(access.paginate(LIST_OPTIONS, path=path, page_size=1)), None):
            return False
        return next(iter(access.paginate(GET_DEFAULTS, path={"fieldId": field_id},
                                         params={"contextId": str(taken["id"])})), None) is None

    def _pristine(self, dest_id: str, ids: IdMap) -> str | None:
        """How a context we just made came to be (``created``, or ``taken over`` from a field we just created), when
        it is still as Jira made it: no options, no default, its issue types those of the create. Else None."""
        return run_memo(ids, "pristineContexts").get(dest_id) if just_created() else None

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        field_id = str(self._in_terms(obj, ids)["fieldId"])
        path = {"fieldId": field_id, "contextId": dest_id}
        types, _ = self._scope(obj, ids)
        pristine = self._pristine(dest_id, ids)
        if types and pristine != "created":  # a taken-over global context applies to any type until told otherwise
            have = set() if pristine else {str(m.get("issueTypeId")) for m in access.paginate(
                CONTEXT_TYPES, path={"fieldId": field_id}, params={"contextId": dest_id}) if m.get("issueTypeId")}
            missing = [t for t in types if t not in have]
            if missing and not obj.get("projectIds"):
                note("Jira doesn't add issue types to a global context any more (CHANGE-3019), and this field's "
                     "already holds options or a default: it applies to every issue type here. Narrow it to the "
                     "source's issue types in Jira's field settings.")
            elif missing:
                access.call(ADD_CONTEXT_TYPES, path=path, json={"issueTypeIds": missing})
        dest_options: dict[tuple[str, ...], str] = {}
        if "options" in obj:
            dest_options = self._restore_options(access, path, obj, fresh=pristine is not None)
        self._restore_default(access, field_id, dest_id, obj, dest_options, ids, fresh=pristine is not None)

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self.after_create(access, dest_id, obj, ids)

    def _read_options(self, access: SiteAccess, path: dict[str, str]) -> list[dict[str, Any]]:
        return list(access.paginate(LIST_OPTIONS, path=path, page_size=100))

    def _restore_options(self, access: SiteAccess, path: dict[str, str], obj: dict[str, Any], *,
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

    def _create_missing(self, access: SiteAccess, path: dict[str, str], options: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
        """Create the options, a thousand a request; the options Jira says it made, in order."""
        made: list[dict[str, Any]] = []
        for start in range(0, len(options), OPTIONS_PER_REQUEST):
            batch = options[start:start + OPTIONS_PER_REQUEST]
            answer = access.call(CREATE_OPTIONS, path=path, json={"options": batch})
            made += (answer or {}).get("options") or []
        return made

    def _order(self, access: SiteAccess, path: dict[str, str], source: list[dict[str, Any]],
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

    def _restore_default(self, access: SiteAccess, field_id: str, dest_id: str, obj: dict[str, Any],
                         dest_options: dict[tuple[str, ...], str], ids: IdMap, *, fresh: bool = False) -> None:
        body, problems = map_default(obj, _DefaultTargets(access, ids, dest_options))
        for problem in problems:
            note(f"Default value: {problem}.")
        if body is None:
            return
        body["contextId"] = dest_id
        current = None if fresh else next(  # a context we just made has no default
            (d for d in access.paginate(GET_DEFAULTS, path={"fieldId": field_id}, params={"contextId": dest_id})
             if str(d.get("contextId")) == dest_id), None)
        if current != body:
            access.call(SET_DEFAULTS, path={"fieldId": field_id}, json={"defaultValues": [body]})

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        by_id = _options_by_id(obj)
        scope = self._in_terms(obj, ids, strict=True)
        groups: dict[str, list[list[Any]]] = {}
        for option in obj.get("options") or []:
            *parent, value = _option_path(option, by_id)
            groups.setdefault(" / ".join(parent), []).append([value, bool(option.get("disabled"))])
        return {"name": obj["name"], "description": obj.get("description") or "",
                "issueTypeIds": sorted(str(t) for t in scope.get("issueTypeIds") or []),
                "projectIds": sorted(str(p) for p in scope.get("projectIds") or []),
                "options": groups, "defaultValue": comparable_default(obj, ids)}
