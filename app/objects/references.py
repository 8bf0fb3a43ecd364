"""Paths into an object's JSON that hold references, and the one walker that visits and rewrites them.

A path is a dot-separated list of segments: ``name`` steps into a dict member, ``name[]`` into every element of a
list member, ``*`` into every value of a dict and ``~`` marks the dict's *keys* as the references
(``issueTypeMappings.~``). A ``Ref`` says what a path's value names: a kind (a type key such as ``groups``, or a
sub-object kind such as ``versions`` or ``users``), or a function of the enclosing dict and the value that decides
(a permission holder's ``value`` is a group id, a role id or an account id depending on its ``type``). The value's
``form`` says how ids sit in it: the whole value, a comma-separated list, a JSON array inside a string, or JQL.

``rewrite(obj, refs, resolve)`` returns a copy of ``obj`` with every reference replaced by ``resolve(kind, id)``:
the restore maps source ids to destination ids with it, the verification replaces ids by names with it. Both go
through the same declaration, so a reference can't be mapped in one place and forgotten in the other.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# What a reference names: a kind, or a function of (enclosing dict, value) giving None (not a reference: a literal
# such as a system field's id), a kind, or a (kind, normalised value) pair.
KindFn = Callable[[dict[str, Any], str], "str | tuple[str, str] | None"]
Resolve = Callable[[str, str], Any]
# JQL is rewritten by a real grammar that knows which clause names which kind (app.restore.jql); it's looked up
# when first needed so this module stays free of the restore's imports.
JqlRewriter = Callable[[str, Resolve], str]

FORMS = ("id", "csv", "json", "jql", "gadget", "name")


def kinds(*names: str) -> Callable[[KindFn], KindFn]:
    """Mark a kind function with every kind it may answer (what ordering and dependency checks go by)."""

    def mark(fn: KindFn) -> KindFn:
        fn.kinds = frozenset(names)  # type: ignore[attr-defined]
        return fn

    return mark


@dataclass(frozen=True)
class Ref:
    """One place in a type's JSON that refers to other objects.

    ``back``: the other side owns the link (a scheme's list of the projects that use it is the projects' scheme
    slots read backwards): compared, but neither an ordering dependency nor a reason to pull the other object in.
    ``written``: False where the restore doesn't write the reference — Jira derives it (a project's issue types
    follow from its scheme) or its API can't write it (a board's columns): compared, not an ordering dependency.
    ``optional``: the restore leaves a reference whose target didn't come across out (and notes it) rather than
    not restoring the object.
    ``form``: how the value holds the reference: an ``id``, ids separated by commas (``csv``), a JSON list
    (``json``), ``jql`` text, a gadget's configuration (``gadget``), or the target's ``name`` (the same on every
    site: kept as it is, and still an ordering dependency — a workflow scheme names its workflows).
    """

    path: str
    kind: str | KindFn
    form: str = "id"
    back: bool = False
    written: bool = True
    # The restore's policy when the target didn't come across: drop the reference and note it (True), or don't
    # create the object (False: it can't exist without it, e.g. a screen scheme without its screens).
    optional: bool = False
    # For people: whether the run's stand-in (the restoring admin, by default) may take a missing person's place
    # (a project needs a lead, a filter an owner), or only the same person will do (a group's member, a workflow
    # rule naming someone: a stand-in would be handed their permissions).
    stand_in: bool = True
    # What goes when the restore leaves the reference out: the list ``entry`` holding it (a grant, a share, an
    # actor: it means nothing without its target), or only the ``member`` (a component keeps its other settings
    # without its lead).
    drops: str = "entry"

    @property
    def kinds(self) -> frozenset[str]:
        """Every kind this reference may name."""
        if isinstance(self.kind, str):
            return frozenset({self.kind})
        return frozenset(getattr(self.kind, "kinds", ()))

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ValueError(f"Unknown reference form {self.form!r} at {self.path!r}; expected one of {FORMS}.")
        if self.drops not in ("entry", "member"):
            raise ValueError(f"Unknown drop policy {self.drops!r} at {self.path!r}; expected 'entry' or 'member'.")

    def kind_of(self, parent: dict[str, Any], value: str) -> tuple[str, str] | None:
        """The kind and the id this value names, or None for a literal."""
        if isinstance(self.kind, str):
            return self.kind, value
        found = self.kind(parent, value)
        if found is None or isinstance(found, tuple):
            return found
        return found, value


def _segments(path: str) -> list[str]:
    return [s for s in path.split(".") if s]


def _slots(node: Any, segments: list[str]) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) the path reaches: ``container[key]`` holds the value (key ``~k`` for a dict key)."""
    if not segments:
        return
    head, rest = segments[0], segments[1:]
    if head.endswith("[]*"):  # zero or more levels down through this list (nested condition groups)
        yield from _slots(node, rest)
        items = node.get(head[:-3]) if isinstance(node, dict) else None
        for item in items if isinstance(items, list) else []:
            yield from _slots(item, segments)
        return
    if head == "~":
        if isinstance(node, dict) and not rest:
            for key in list(node):
                yield node, ("~", key)
        return
    if head == "*":
        children = list(node.items()) if isinstance(node, dict) else []
    elif head.endswith("[]"):
        name = head[:-2]
        items = node.get(name) if isinstance(node, dict) else None
        if not isinstance(items, list):
            return
        if not rest:
            for index in range(len(items)):
                yield items, index
            return
        for item in items:
            yield from _slots(item, rest)
        return
    else:
        if not isinstance(node, dict) or head not in node:
            return
        children = [(head, node[head])]
    for key, child in children:
        if rest:
            yield from _slots(child, rest)
        else:
            yield node, key


def remove(obj: Any, path: str) -> None:
    """Delete what ``path`` reaches, in place (list elements are never removed by this)."""
    for container, key in list(_slots(obj, _segments(path))):
        if isinstance(container, dict) and not isinstance(key, tuple):
            container.pop(key, None)


def sort_lists(obj: Any, path: str) -> None:
    """Sort, in place, the lists ``path`` reaches (their order means nothing), by each element's JSON."""
    for container, key in list(_slots(obj, _segments(path))):
        if isinstance(key, tuple):
            continue
        value = container[key]
        if isinstance(value, list):
            container[key] = sorted(value, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))


def paths_with_values(obj: Any, path: str) -> Iterator[Any]:
    """The values a path reaches (dict keys for ``~``)."""
    for container, key in _slots(obj, _segments(path)):
        yield key[1] if isinstance(key, tuple) else container[key]


class _LeftOut:
    """Marks a reference whose target has no counterpart while an object is being rewritten (then pruned)."""

    def __repr__(self) -> str:
        return "LEFT_OUT"


LEFT_OUT: Any = _LeftOut()
LEFT_OUT_MEMBER: Any = _LeftOut()  # only the member goes (``Ref.drops == "member"``)
# Resolves a reference knowing where it sits: (the declaration's Ref, kind, id) -> the new value, or None when the
# target has no counterpart (the reference is then left out: see ``Rewriter.apply``).
RefResolve = Callable[[Ref, str, str], Any]


class Rewriter:
    """Applies a type's references to one object: each reference is replaced by ``resolve(kind, id)`` (or, given
    ``resolve_ref``, by ``resolve_ref(ref, kind, id)``, which sees the declaration's policy for the place)."""

    def __init__(self, resolve: Resolve | None = None, jql: JqlRewriter | None = None, *,
                 collect_names: bool = False, resolve_ref: RefResolve | None = None,
                 map_names: bool = False) -> None:
        if resolve is None and resolve_ref is None:
            raise TypeError("Rewriter needs resolve or resolve_ref")
        self._resolve_ref = resolve_ref
        self._plain = resolve
        self._jql = jql
        self.collect_names = collect_names
        # References by name are the same on every site; the restore still maps them (a match by name is
        # case-insensitive: the destination's spelling is the one to name).
        self.map_names = map_names
        self._current: Ref | None = None
        # Every reference resolved to None: (the Ref, kind, source id), in the order met.
        self.left_out: list[tuple[Ref, str, str]] = []

    def resolve(self, kind: str, value: str) -> Any:
        """The current reference's target (JQL and gadget rewriters call it for the ids inside their text)."""
        if self._resolve_ref is not None and self._current is not None:
            found = self._resolve_ref(self._current, kind, value)
        else:
            assert self._plain is not None
            found = self._plain(kind, value)
        if found is None and self._current is not None:
            self.left_out.append((self._current, kind, value))
        return found

    def _one(self, ref: Ref, parent: dict[str, Any], value: Any) -> Any:
        if value is None or value == "":
            return value
        if ref.form == "name":  # the same on every site: only reported to a collector, unless mapping names
            found = self._id(ref, parent, str(value))
            return found if self.map_names else value
        if ref.form == "jql":
            return self.jql(str(value))
        if ref.form == "gadget":
            return gadget_rewriter()(value, self.resolve) if isinstance(value, dict) else value
        if ref.form == "csv":
            parts = [part.strip() for part in str(value).split(",") if part.strip()]
            mapped = [self._id(ref, parent, part) for part in parts]
            if mapped == parts:
                return value  # nothing named changes (literals, a text field's value): kept exactly as written
            return ",".join(str(v) for v in mapped if v is not None)
        if ref.form == "json":
            try:
                items = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                return self._id(ref, parent, str(value))
            if isinstance(items, list):
                found = [self._id(ref, parent, str(v)) for v in items]
                return json.dumps([v for v in found if v is not None], ensure_ascii=False)
            return self._id(ref, parent, str(items))
        if isinstance(value, list):
            found = [self._id(ref, parent, str(v)) for v in value]
            return [v for v in found if v is not None]
        return self._id(ref, parent, str(value))

    def _id(self, ref: Ref, parent: dict[str, Any], value: str) -> Any:
        found = ref.kind_of(parent, value)
        if found is None:
            return value
        return self.resolve(*found)

    def jql(self, text: str) -> str:
        rewriter = self._jql or default_jql_rewriter()
        return rewriter(text, self.resolve)

    def apply(self, obj: Any, refs: tuple[Ref, ...]) -> Any:
        """Every replacement is worked out on the object as it was, then applied: a reference whose kind depends
        on a sibling (update-field's value on its field) sees the sibling's original id, not its replacement.

        A single reference resolved to None is *left out* with what holds it: the innermost list entry holding it
        goes (a permission grant, a share, a screen's field, a role's actor), or, outside any list, the member
        itself (a default that named it; a dict entry keyed by it). In comma-separated, JSON and plain lists only
        the values without a counterpart go; an emptied list stays, for the type to judge."""
        out = copy.deepcopy(obj)
        changes: list[tuple[Any, Any, Any]] = []
        for ref in refs:
            if ref.form == "name" and not (self.collect_names or self.map_names):
                continue  # the same on every site: nothing to replace (and no write to collide with a key's move)
            for container, key in _slots(out, _segments(ref.path)):
                parent = container if isinstance(container, dict) else {}
                old = key[1] if isinstance(key, tuple) else container[key]
                self._current = ref
                try:
                    new = self._one(ref, parent, old)
                finally:
                    self._current = None
                if new is None and old is not None:
                    new = LEFT_OUT_MEMBER if ref.drops == "member" else LEFT_OUT
                changes.append((container, key, new))
        pruned = False
        # Values first, then keys: a value under a key that moves is updated where it was, then moves with it;
        # every moving entry leaves before any arrives (one's new key may be another's old one).
        moves: list[tuple[Any, Any, Any]] = []
        for container, key, new in changes:
            if isinstance(key, tuple):  # a dict key names the object: the entry moves to the new key
                moves.append((container, key[1], new))
            else:
                container[key] = new
                pruned = pruned or new is LEFT_OUT or new is LEFT_OUT_MEMBER
        moving = [(container, container.pop(old), new) for container, old, new in moves]
        for container, value, new in moving:
            if new not in (LEFT_OUT, LEFT_OUT_MEMBER):
                container[str(new)] = value
        return _prune(out) if pruned else out


def _holds_left_out(node: Any) -> bool:
    """Whether a reference left out sits in ``node`` itself (not inside one of its lists' entries)."""
    if node is LEFT_OUT:
        return True
    if isinstance(node, dict):
        return any(_holds_left_out(v) for v in node.values() if not isinstance(v, list))
    return False


def _prune(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _prune(v) for k, v in node.items() if v is not LEFT_OUT and v is not LEFT_OUT_MEMBER}
    if isinstance(node, list):
        return [_prune(item) for item in node if not _holds_left_out(item)]
    return node


def targets(obj: Any, refs: tuple[Ref, ...], *, jql: bool = False) -> list[tuple[str, str]]:
    """Every (kind, id) the object names through ``refs``, references by name included; with ``jql``, the ids its
    JQL names too (through the restore's grammar, app/restore/jql.py)."""
    found: list[tuple[str, str]] = []

    def collect(kind: str, value: str) -> str:
        found.append((kind, value))
        return value

    Rewriter(collect, jql=lambda text, _resolve: text, collect_names=True).apply(
        obj, tuple(r for r in refs if r.form != "jql"))
    if jql:
        from ..restore.jql import references as jql_references

        for ref in refs:
            if ref.form == "jql":
                for text in paths_with_values(obj, ref.path):
                    found += [(r.kind, str(r.source_id)) for r in jql_references(str(text or ""))]
    return found


def rewrite(obj: Any, refs: tuple[Ref, ...], resolve: Resolve, jql: JqlRewriter | None = None) -> Any:
    """A copy of ``obj`` with every reference declared in ``refs`` replaced by ``resolve(kind, id)``."""
    return Rewriter(resolve, jql).apply(obj, refs)


def jql_rewriter(field_kind: Callable[[str], str | None] | None = None) -> JqlRewriter:
    """The restore's JQL grammar (app/restore/jql.py) over a resolver: every id operand it knows replaced, nothing
    dropped. ``field_kind(custom field id)`` says what the field's values name (options of a select list...)."""
    from ..restore.jql import rewrite as rewrite_jql

    class _Mapper:
        def __init__(self, resolve: Resolve) -> None:
            self._resolve = resolve

        def field_kind(self, field_id: str) -> str | None:
            return field_kind(field_id) if field_kind is not None else None

        def map(self, kind: str, source_id: str) -> str | None:
            return str(self._resolve(kind, str(source_id)))

    return lambda text, resolve: rewrite_jql(text, _Mapper(resolve)).text


def gadget_rewriter() -> Callable[[dict[str, Any], Resolve], dict[str, Any]]:
    """A gadget's configuration (its dashboard item properties) with every id in it resolved: the restore's reading
    of where Jira's built-in gadgets keep ids (``filter-10001``, ``filterId=10001``, custom field ids, JQL...)."""
    from ..restore.types.sharing import map_gadget_properties

    class _AsIdMap:
        def __init__(self, resolve: Resolve) -> None:
            self._resolve = resolve

        def get(self, type_key: str, source_id: str) -> str | None:
            found = self._resolve(type_key, str(source_id))
            return None if found is None else str(found)

        def require(self, type_key: str, source_id: str) -> str:
            return str(self._resolve(type_key, str(source_id)))

        def user(self, account_id: str) -> str | None:
            found = self._resolve("users", account_id)
            return None if found is None else str(found)

    return lambda properties, resolve: map_gadget_properties(properties, _AsIdMap(resolve))[0]


def default_jql_rewriter() -> JqlRewriter:
    return jql_rewriter()
