"""Ids of *parts* of other objects found inside strings (JQL, workflow rule parameters): a project's versions and
components, a field context's options, sprints. They aren't objects of their own in the snapshot or the id map, so:

- the snapshot says what each belongs to: version 20001 is "1.0" of project 20001 (``SourceIndex``, built from the
  run's planned objects); a custom field's type says what its values name (option ids of a select list...);
- its destination id is found through its parent's mapping and its name: the destination project's version "1.0"
  (``Resolver``, reading the parent's parts once per run and again on a miss);
- an object naming one must be restored after its parent: ``attach`` adds those ordering edges to the plan's items
  (optional references, never one that would close a cycle) when a run starts. Sprints are never restored (they
  are board data): an id of one has no counterpart and is reported by whoever meets it;
- JQL names objects by name, key or value too (``project = WEB``, ``cf[10042] = "Journey 0"``, a field by its
  name): the text is sent as written, and Jira refuses a query naming what isn't there yet, so the objects holding
  those names are ordered first as well (``named_references``): a project, or the context whose options (its
  follow-up writes) hold the value.

``Resolver`` also maps the kinds the id map knows (statuses, roles, custom fields...) and users (an accountId is the
same on every site; a missing person has no counterpart: no fallback account is put in a query or a rule).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..backups.catalogue import OP_COMPONENTS, OP_VERSIONS
from ..jira.access import SiteAccess
from ..jira.operations import declare
from ..objects.canonical import id_order
from .jql import (
    EMPTY_WORDS,
    FIELD_KINDS,
    FUNCTION_ARGS,
    IdRef,
    JqlSyntaxError,
    Operand,
    Query,
    custom_field_id,
    parse,
)
from .plan import Action, Key, Plan, PlannedItem
from .types.base import IdMap, Ref, fold, run_memo

if TYPE_CHECKING:
    from .types.base import Restorer

LIST_OPTIONS = declare("GET", "/rest/api/3/field/{fieldId}/context/{contextId}/option")

CHILD_KINDS = ("versions", "components", "options")
NEVER_RESTORED = frozenset({"sprints", "securityLevels"})
# custom field schema type (or array items) -> the kind of object its values name
FIELD_VALUE_KINDS = {"option": "options", "option-with-child": "options", "version": "versions",
                     "project": "projects", "user": "users", "group": "groups"}
# kinds JQL may name by their (folded) name besides their id; projects by key too
NAMED_TYPES = frozenset({"projects", "issueTypes", "statuses", "priorities", "resolutions", "filters",
                         "projectCategories", "groups", "customFields"})
Path = tuple[str, ...]
NameKey = tuple[str, ...]  # (kind, folded name), or ("options", custom field source id, folded value)


def field_value_kind(obj: dict[str, Any]) -> str | None:
    """What a custom field's values name (``options``, ``versions``...), from its schema; None: not ids."""
    schema = obj.get("schema") or {}
    raw = schema.get("items") if schema.get("type") == "array" else schema.get("type")
    return FIELD_VALUE_KINDS.get(str(raw))


def option_paths(options: Iterable[dict[str, Any]]) -> dict[str, Path]:
    """Option id -> its value path (parent value first for a cascading child), folded as Jira compares values."""
    options = list(options)
    by_id = {str(o.get("id")): o for o in options}
    out = {}
    for o in options:
        parent = by_id.get(str(o.get("optionId"))) if o.get("optionId") else None
        values = (parent["value"], o["value"]) if parent else (o["value"],)
        out[str(o["id"])] = tuple(fold(v) for v in values)
    return out


@dataclass
class SourceIndex:
    """What the snapshot tells about parts: kind -> source id -> (parent key, name path); custom field value kinds."""

    parents: dict[str, dict[str, tuple[Key, Path]]] = field(default_factory=dict)
    field_kinds: dict[str, str] = field(default_factory=dict)
    context_fields: dict[str, str] = field(default_factory=dict)  # context source id -> custom field source id
    holders: dict[NameKey, list[Key]] = field(default_factory=dict)  # a name -> the objects that hold it

    @classmethod
    def of(cls, objects: Mapping[Key, dict[str, Any]]) -> SourceIndex:
        index = cls({kind: {} for kind in CHILD_KINDS})
        for (type_key, source_id), obj in objects.items():
            key = (type_key, source_id)
            if type_key in NAMED_TYPES and isinstance(obj.get("name"), str):
                index._holds((type_key, fold(obj["name"])), key)
            if type_key == "projects":
                if isinstance(obj.get("key"), str):
                    index._holds(("projects", fold(obj["key"])), key)
                for kind in ("versions", "components"):
                    for part in obj.get(kind) or []:
                        if part.get("id") is not None:
                            index.parents[kind][str(part["id"])] = (key, (fold(part["name"]),))
                        if isinstance(part.get("name"), str):
                            index._holds((kind, fold(part["name"])), key)
            elif type_key == "customFields":
                value_kind = field_value_kind(obj)
                if value_kind is not None:
                    index.field_kinds[source_id] = value_kind
            elif type_key == "fieldContexts":
                field_id = index.context_fields[source_id] = str(obj.get("fieldId"))
                for oid, path in option_paths(obj.get("options") or []).items():
                    index.parents["options"][oid] = (key, path)
                    index._holds(("options", field_id, path[-1]), key)
        return index

    def _holds(self, name: NameKey, key: Key) -> None:
        found = self.holders.setdefault(name, [])
        if key not in found:
            found.append(key)

    def parent(self, kind: str, source_id: str) -> tuple[Key, Path] | None:
        return self.parents.get(kind, {}).get(str(source_id))

    def holding(self, name: NameKey) -> list[Key]:
        """The snapshot's objects that hold ``name``: ``("projects", "web")``, ``("options", field id, value)``."""
        return self.holders.get(name, [])

    def field_kind(self, field_id: str) -> str | None:
        return self.field_kinds.get(field_id)


_EMPTY = SourceIndex({kind: {} for kind in CHILD_KINDS})


def _state(ids: IdMap) -> dict[str, Any]:
    return run_memo(ids, "subobjects")


def attach(plan: Plan, ids: IdMap, access: SiteAccess | None, restorers: Mapping[str, Restorer]) -> None:
    """Get a run ready to map parts: index the snapshot, remember how to read the destination, and order objects
    naming a part after the part's parent (the engine's one call, as the run starts)."""
    state = _state(ids)
    state["index"] = index = SourceIndex.of(plan.objects)
    state["access"] = access
    link_parents(plan, index, restorers)
    chain_twins(plan)


def chain_twins(plan: Plan) -> None:
    """Objects of one type sharing a natural key (two custom fields named "Customer" of one type, their contexts)
    are created one after the other in the source's id order: the destination's ids then grow in the same order,
    so a comparison telling twins apart by their order (app/objects/canonical.py) pairs each with its own. Workers
    would otherwise create them in any order and the twins' contents would seem swapped."""
    twins: dict[tuple[str, str], list[PlannedItem]] = {}
    for item in plan.selected():
        if item.action == Action.CREATE:
            twins.setdefault((item.type_key, item.natural_key), []).append(item)
    for group in twins.values():
        group.sort(key=lambda i: id_order(i.source_id))
        for before, after in itertools.pairwise(group):
            ref = Ref(before.type_key, before.source_id, optional=True)
            if ref not in after.refs and not any(r.type_key == after.type_key and r.source_id == after.source_id
                                                 for r in before.refs):
                after.refs.append(ref)


def index_of(ids: IdMap) -> SourceIndex:
    """The run's snapshot index (empty outside a run: then parts map only where the id map knows them)."""
    return _state(ids).get("index") or _EMPTY


# -- ordering -------------------------------------------------------------------------------------------

# type key -> the objects an object's JQL names by name, key or value (not by id): ordering edges only
LATE_NAMES: dict[str, Callable[[dict[str, Any], SourceIndex], Iterable[Ref]]] = {
    "filters": lambda obj, index: named_references(obj.get("jql") or "", index),
}


def ordering_refs(found: Iterable[IdRef], index: SourceIndex) -> list[Ref]:
    """The objects to restore first for these ids: a part's parent, or the object itself (optional references)."""
    out = []
    for ref in found:
        if ref.kind in CHILD_KINDS:
            parent = index.parent(ref.kind, ref.source_id)
            if parent is not None:
                out.append(Ref(parent[0][0], parent[0][1], optional=True))
        elif ref.kind not in NEVER_RESTORED and ref.kind != "users":
            out.append(Ref(ref.kind, ref.source_id, optional=True))
    return list(dict.fromkeys(out))


def named_references(text: str, index: SourceIndex) -> list[Ref]:
    """The objects JQL names by name, key or value rather than by id (optional references, for ordering only).

    A project by key or name, a custom field by name, an option by value (the contexts of the clause's field holding
    it: options are written after their context is made), a version or component by name (the projects that have
    one), an issue type, status, priority... by name. Ids are ``references``'s; users and sprints aren't restored.
    """
    try:
        q = parse(text or "")
    except JqlSyntaxError:
        return []
    out: list[Ref] = []
    for clause in q.clauses():
        fields, kind = _clause_field(q.tokens[clause.field].value, index)
        out += [Ref("customFields", f, optional=True) for f in fields]
        if clause.operator in ("~", "!~"):
            continue
        operands = [clause.operand] if clause.operand is not None else []
        operands += [operand for word, operand in clause.predicates if word in ("from", "to")]
        for operand in operands:
            for value_kind, value in _named_values(q, operand, kind):
                out += _holders(index, value_kind, fields, value)
    for key in q.sort:
        fields, _kind = _clause_field(q.tokens[key.field].value, index)
        out += [Ref("customFields", f, optional=True) for f in fields]
    return list(dict.fromkeys(out))


def _clause_field(name: str, index: SourceIndex) -> tuple[list[str], str | None]:
    """A clause's field: the custom field source ids it stands for, and the kind of object its values name."""
    fid = custom_field_id(name)
    if fid is not None:
        return [fid], index.field_kind(fid)
    kind = FIELD_KINDS.get(name.strip().lower())
    if kind is not None:
        return [], kind
    fields = [source_id for _t, source_id in index.holding(("customFields", fold(name)))]
    return fields, next((k for f in fields if (k := index.field_kind(f)) is not None), None)


def _named_values(q: Query, operand: Operand, kind: str | None) -> Iterable[tuple[str, str]]:
    """(kind, folded value) for every operand value that is a name, key or option value rather than an id."""
    if operand.kind == "function":
        name = operand.token if operand.token is not None else operand.first
        fn_kind = FUNCTION_ARGS.get(q.tokens[name].text.lower())
        for arg in operand.items:
            yield from _named_values(q, arg, fn_kind)
        return
    if kind is None or kind == "users" or kind in NEVER_RESTORED:
        return
    for at in operand.values():
        tok = q.tokens[at]
        if tok.kind == "word" and (tok.low in EMPTY_WORDS or tok.value.isdigit()):
            continue  # an id (``references``'s) or EMPTY
        yield kind, fold(tok.value)


def _holders(index: SourceIndex, kind: str, fields: list[str], value: str) -> list[Ref]:
    if kind == "options":
        keys = [k for f in fields for k in index.holding(("options", f, value))]
    else:
        keys = index.holding((kind, value))
    return [Ref(t, s, optional=True) for t, s in keys]


def link_parents(plan: Plan, index: SourceIndex, restorers: Mapping[str, Restorer]) -> None:
    """Add to each selected item the ordering references its strings imply, unless one would close a cycle (a
    workflow's rule naming a version of a project that uses the workflow: the part is then mapped if its parent is
    there in time, else reported)."""
    selected = {i.key: i for i in plan.selected()}
    below: dict[Key, set[Key]] = {}

    def depends_on(key: Key) -> set[Key]:
        if key not in below:
            seen: set[Key] = set()
            stack = [key]
            while stack:
                item = selected.get(stack.pop())
                for ref in item.refs if item is not None else ():
                    target = (ref.type_key, ref.source_id)
                    if target in selected and target not in seen:
                        seen.add(target)
                        stack.append(target)
            below[key] = seen
        return below[key]

    for key, item in selected.items():
        restorer, named = restorers.get(item.type_key), LATE_NAMES.get(item.type_key)
        obj = plan.objects.get(key)
        if obj is None or restorer is None:
            continue
        have = {(r.type_key, r.source_id) for r in item.refs}
        late = ordering_refs(restorer.ids_in_strings(obj, index.field_kind), index)
        for ref in [*late, *(named(obj, index) if named is not None else [])]:
            target = (ref.type_key, ref.source_id)
            if target in selected and target != key and target not in have:
                if key in depends_on(target):  # restored after it: completed once it exists
                    if ref not in item.later:
                        item.later.append(ref)
                    continue
                item.refs.append(ref)
                have.add(target)
                below.clear()  # the new edge changes what depends on what


# -- mapping --------------------------------------------------------------------------------------------


class Resolver:
    """Source ids of any kind -> destination ids for one object's strings (``jql.Mapper``)."""

    def __init__(self, ids: IdMap) -> None:
        self.ids = ids
        self.state = _state(ids)
        self.index = index_of(ids)

    def field_kind(self, field_id: str) -> str | None:
        return self.index.field_kind(field_id)

    def map(self, kind: str, source_id: str) -> str | None:
        source_id = str(source_id)
        if kind == "users":
            return source_id if self.ids.user(source_id) == source_id else None
        if kind in NEVER_RESTORED:
            return None
        found = self.ids.get(kind, source_id)
        if found is not None or kind not in CHILD_KINDS:
            return found
        return self._part(kind, source_id)

    def _part(self, kind: str, source_id: str) -> str | None:
        known = self.index.parent(kind, source_id)
        if known is None:
            return None
        (parent_type, parent_id), path = known
        dest_parent = self.ids.get(parent_type, parent_id)
        if dest_parent is None:
            return None
        cache = self.state.setdefault("dest", {})
        lock = self.state.setdefault("lock", threading.Lock())
        table = cache.get((kind, dest_parent))
        if (table is None or path not in table) and self.state.get("access") is not None:
            with lock:
                table = cache[(kind, dest_parent)] = self._read(kind, parent_id, dest_parent)
        return (table or {}).get(path)

    def _read(self, kind: str, parent_id: str, dest_parent: str) -> dict[Path, str]:
        """The destination parent's parts: name path -> id."""
        access: SiteAccess = self.state["access"]
        if kind == "options":
            field_id = self.ids.get("customFields", self.index.context_fields.get(parent_id, ""))
            if field_id is None:
                return {}
            options = list(access.paginate(LIST_OPTIONS, path={"fieldId": field_id, "contextId": dest_parent},
                                           page_size=100))
            return {path: oid for oid, path in option_paths(options).items()}
        op = OP_VERSIONS if kind == "versions" else OP_COMPONENTS
        return {(fold(p["name"]),): str(p["id"]) for p in access.call(op, path={"projectIdOrKey": dest_parent}) or []}
