"""A source object in the destination's terms, derived from its type's declaration: the restore's one mapping.

Every restorer shapes its request bodies from ``to_destination(type_key, obj, ids)``: the object with every
reference its declaration lists (app/objects/declarations.py) replaced by the destination's id, so a reference the
declaration knows can't be forgotten by a restorer, and a new one is declared once for the restore, the ordering and
the verification alike. The policy for a target without a counterpart comes from the reference's declaration:

- people: the run's stand-in where the place allows one (``Ref.stand_in``: a project's lead, a filter's owner),
  otherwise only the same person (a group's member, a workflow rule naming someone);
- ``optional`` references: left out with what holds them (the grant, the share, the screen's field) and noted;
- the others: the object can't be restored without it (``UnmappedReference``: the engine reports the dependency);
- JQL: the grammar leaves out each clause naming what didn't come across, and notes it (``map_jql``).

Not mapped here: back links (the other side writes them) and references the restore doesn't write
(``written=False``). References by name are mapped too: a match by name is case-insensitive, and the destination's
spelling is the one to name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..objects.declarations import DECLARATIONS, FIELD_VALUE, field_value
from ..objects.references import Ref as Declared
from ..objects.references import RefResolve, Rewriter
from .jql import rewrite as rewrite_jql
from .notes import note
from .subobjects import Resolver
from .types.base import IdMap, Ref, UnmappedReference

NOUNS = {"projectRoles": "project role", "groups": "group", "users": "person", "customFields": "custom field",
         "statuses": "status", "screens": "screen", "resolutions": "resolution", "priorities": "priority",
         "issueTypes": "issue type", "components": "component", "versions": "version", "options": "option",
         "projects": "project", "filters": "filter", "workflows": "workflow", "projectCategories": "category",
         "securityLevels": "security level", "fieldConfigurations": "field configuration",
         "screenSchemes": "screen scheme"}


def words_for(kind: str, source_id: str) -> str:
    """How a note names a target without a counterpart."""
    if kind == "users":
        return f"person {source_id} (no account on this site)"
    return f"{NOUNS.get(kind, kind)} {source_id} (not on this site)"


def map_jql(jql: str, ids: IdMap | None) -> str:
    """JQL in destination terms, read with a real grammar (``restore/jql.py``): every id operand mapped (custom
    fields, projects, types, statuses, versions, options, users...), names, functions, quoting and order kept; a
    clause naming something with no counterpart here is left out and noted on the object's outcome."""
    if ids is None or not jql:
        return jql
    result = rewrite_jql(jql, Resolver(ids))
    if result.unreadable:
        note(f"The JQL couldn't be read ({result.unreadable}): it was kept as it was.")
    for dropped in result.dropped:
        note(f"Left out of the JQL: {dropped.words()}. Add it back by hand once that exists here.")
    return result.text


def policy(ids: IdMap, *, strict: bool = False) -> RefResolve:
    """The restore's resolver: (declared reference, kind, source id) -> destination id, or None (left out).
    ``strict``: an optional reference without a counterpart raises too (a comparison that must see an object still
    to be created as a difference, not as a reference to leave out)."""
    resolver = Resolver(ids)

    def resolve(ref: Declared, kind: str, source_id: str) -> Any:
        if kind == FIELD_VALUE:  # a custom field's value names what the field's type holds (or nothing)
            field_id, value = field_value(source_id)
            value_kind = resolver.field_kind(field_id)
            if value_kind is None:
                return value
            kind, source_id = value_kind, value
        if kind == "users":
            if ref.stand_in:
                return ids.user(source_id)
            return source_id if ids.user(source_id) == source_id else None
        found = resolver.map(kind, source_id)
        if found is None and (strict or not ref.optional):
            raise UnmappedReference(Ref(kind, source_id))
        return found

    return resolve


def mapped_references(type_key: str, skip: Iterable[str] = ()) -> tuple[Declared, ...]:
    """The references of a type the restore maps: written, not back links, not in ``skip``."""
    declaration = DECLARATIONS.get(type_key)
    skipped = set(skip)
    return tuple(ref for ref in (declaration.refs if declaration is not None else ())
                 if ref.written and not ref.back and ref.path not in skipped)


def to_destination(type_key: str, obj: dict[str, Any], ids: IdMap | None, *, skip: Iterable[str] = (),
                   refs: tuple[Declared, ...] | None = None,
                   say: Callable[[Declared, str, str], str | None] | None = None,
                   quiet: bool = False, strict: bool = False) -> dict[str, Any]:
    """``obj`` with every reference of its type's declaration in destination terms (the policy above); with ``ids``
    None, ``obj`` as it is (a destination's own object, compared in the same shape as a mapped source's).

    ``skip``: paths the restorer maps itself, with a reason in its code (a gadget's configuration, written by its
    own requests). ``refs``: a subset of the declaration to apply (a workflow maps each rule on its own, to judge
    each). ``say``: the words noting a left-out reference (None: say nothing, the caller words it); by default
    ``words_for``; ``quiet``: say nothing (what the verification lists anyway). ``strict``: see ``policy``.
    """
    if ids is None:
        return obj
    rewriter = Rewriter(resolve_ref=policy(ids, strict=strict), jql=lambda text, _resolve: map_jql(text, ids),
                        map_names=True)
    out = rewriter.apply(obj, refs if refs is not None else mapped_references(type_key, skip))
    for ref, kind, source_id in rewriter.left_out:
        if ref.form == "jql" or quiet:
            continue  # the grammar noted the clause it left out
        words = say(ref, kind, source_id) if say is not None else f"{words_for(kind, source_id)}: left out."
        if words:
            note(words[:1].upper() + words[1:])
    return out
