"""A site's objects in their own terms, and a comparison of two sites in words.

``SiteObjects`` is what one site holds, by type: (natural key, the site's id, object) triples, from a snapshot (the
source, as backed up) or from reading the destination with the backup's own readers. ``Names`` indexes them: for
every id of that site, what it names there (``group 'team-leads'``, ``version 'HOS/1.0'``); an id the site doesn't
know becomes ``<missing group 1234>``. ``canonical`` replaces every declared reference of an object by its name,
drops what the server assigns by itself and sorts the lists whose order means nothing. Two sites' canonical forms
are then compared key by key — never through the restore's id map, so the restore can't grade its own work.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .declarations import DECLARATIONS, FIELD_VALUE, LINKS, Declaration, field_value, field_value_kind
from .references import jql_rewriter, paths_with_values, remove, rewrite, sort_lists, targets

SiteObjects = dict[str, list[tuple[str, str | None, dict[str, Any]]]]

SUB_NOUNS = {"versions": "version", "components": "component", "options": "option",
             "securityLevels": "security level", "users": "user"}


def noun(kind: str) -> str:
    declaration = DECLARATIONS.get(kind)
    return declaration.noun if declaration else SUB_NOUNS.get(kind, kind)


def id_order(value: str | None) -> tuple[int, int, str]:
    """The order a site's ids are told apart in: objects of one key (two custom fields named alike) are numbered
    in it (``#2``). The restore creates such twins in the source's order of it, so the numbers pair up."""
    text = str(value or "")
    return (0, int(text), text) if text.isdigit() else (1, 0, text)


class Names:
    """One site's ids and what they name there."""

    def __init__(self) -> None:
        self._names: dict[str, dict[str, str]] = defaultdict(dict)
        self.keys: dict[str, dict[str, str]] = defaultdict(dict)  # type -> id -> the object's key on this site
        self.field_kinds: dict[str, str] = {}  # custom field id -> what its values name (for JQL)

    def add(self, kind: str, oid: Any, name: str) -> None:
        self._names[kind][str(oid)] = name

    def name(self, kind: str, oid: str) -> str | None:
        if kind == "users":
            return f"user {oid}"  # accountIds are the same on every site
        found = self._names.get(kind, {}).get(str(oid))
        return None if found is None else f"{noun(kind)} {found!r}"

    def resolve(self, kind: str, oid: str) -> str:
        """The reference as a name; an id this site doesn't know stays visible as a marker."""
        if kind == FIELD_VALUE:  # a custom field's value: what it names follows from the field's type
            field_id, value = field_value(oid)
            value_kind = self.field_kinds.get(field_id)
            return value if value_kind is None else self.resolve(value_kind, value)
        return self.name(kind, oid) or f"<missing {noun(kind)} {oid}>"

    @classmethod
    def of(cls, site: SiteObjects) -> Names:
        names = cls()
        keyed_later = [t for t in site if (d := DECLARATIONS.get(t)) is not None and d.key is not None]
        for type_key in [t for t in site if t not in keyed_later] + keyed_later:
            declaration = DECLARATIONS.get(type_key)
            seen: dict[str, int] = defaultdict(int)
            for natural_key, oid, obj in sorted(site[type_key], key=lambda e: id_order(e[1])):
                key = natural_key
                if declaration is not None and declaration.key is not None:
                    key = declaration.key(obj, names.resolve)
                seen[key] += 1
                if seen[key] > 1:  # same key twice (two custom fields named alike): told apart by their order
                    key = f"{key} #{seen[key]}"
                if oid is not None:
                    names.add(type_key, oid, key)
                    names.keys[type_key][str(oid)] = key
                if type_key == "customFields" and oid is not None:
                    kind = field_value_kind(obj)
                    if kind is not None:
                        names.field_kinds[str(oid)] = kind
                for sub in declaration.provides if declaration is not None else ():
                    for child in paths_with_values(obj, sub.path):
                        if isinstance(child, dict) and child.get(sub.id_field) is not None:
                            names.add(sub.kind, child[sub.id_field], sub.label(obj, child))
        return names


def canonical(type_key: str, obj: dict[str, Any], names: Names) -> Any:
    """The object with every reference named as on its own site, server-assigned values dropped, order settled."""
    declaration = DECLARATIONS.get(type_key) or Declaration(type_key, type_key)
    if declaration.settle is not None:
        obj = declaration.settle(obj)
    out = rewrite(obj, declaration.refs, names.resolve, jql_rewriter(names.field_kinds.get))
    for path in declaration.volatile:
        remove(out, path)
    out = _settled(out)
    for path in sorted(declaration.unordered, key=lambda p: -p.count(".")):
        sort_lists(out, path)
    return out


# What a site shows of a person beside their accountId: their name there, not configuration.
PERSON_DETAILS = frozenset({"displayName", "active", "emailAddress", "timeZone", "accountType"})


def _settled(value: Any) -> Any:
    """Links, a person's site-specific details and empty members gone: Jira answers ``""``, ``[]`` or nothing for
    the same empty description or list, depending on the endpoint."""
    if isinstance(value, dict):
        person = "accountId" in value
        out = {k: _settled(v) for k, v in value.items() if k not in LINKS and not (person and k in PERSON_DETAILS)}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_settled(v) for v in value]
    return value


@dataclass
class Difference:
    type_key: str
    key: str
    path: str
    source: Any
    destination: Any
    source_id: str | None = None
    wall: str = ""  # Jira's API can't write this part: what to do by hand

    @property
    def words(self) -> str:
        what = f"{noun(self.type_key)} {self.key!r}"
        if self.path == "(object)":
            return f"{what}: {self.destination}"
        if (isinstance(self.source, dict) and "lacks" in self.source) or \
                (isinstance(self.destination, dict) and "has besides" in self.destination):
            parts = []
            if self.source:
                parts.append(f"this site lacks {show(self.source['lacks'])}")
            if self.destination:
                parts.append(f"has {show(self.destination['has besides'])} besides")
            return f"{what}, {self.path}: {'; '.join(parts)}"
        return f"{what}, {self.path}: {show(self.source)} on the source, {show(self.destination)} here"


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the destination has besides, where the restore only adds
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> compared / identical

    @property
    def compared(self) -> int:
        return sum(c["compared"] for c in self.counts.values())

    @property
    def identical(self) -> int:
        return sum(c["identical"] for c in self.counts.values())


def show(value: Any) -> str:
    """A canonical value as a person reads it: names as they are, one-member records as their member."""
    if isinstance(value, dict) and len(value) == 1:
        return show(next(iter(value.values())))
    if isinstance(value, list) and value and all(isinstance(v, dict) and len(v) == 1 for v in value):
        return ", ".join(show(v) for v in value)
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return value if value.startswith(("<missing", "user ", *(f"{n} '" for n in _NOUNS))) else repr(value)
    if isinstance(value, list) and not value:
        return "none"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(show(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


_NOUNS = {d.noun for d in DECLARATIONS.values()} | set(SUB_NOUNS.values())


def diff(source: Any, destination: Any, path: str = "", unordered: Mapping[str, str | None] | None = None
         ) -> list[tuple[str, Any, Any]]:
    """Where two canonical forms differ: (path, source value, destination value). ``unordered``: the declaration's
    paths of lists whose order means nothing, each with the member naming an entry (entries with the same name are
    compared member by member), or None."""
    unordered = unordered or {}
    if isinstance(source, dict) and isinstance(destination, dict):
        out = []
        for key in sorted(set(source) | set(destination), key=str):
            out += diff(source.get(key), destination.get(key), f"{path}.{key}" if path else str(key), unordered)
        return out
    if isinstance(source, list) and isinstance(destination, list) and source != destination:
        return _list_diff(source, destination, path or "(value)", unordered)
    return [] if source == destination else [(path or "(value)", source, destination)]


def _list_diff(source: list[Any], destination: list[Any], path: str, unordered: Mapping[str, str | None]
               ) -> list[tuple[str, Any, Any]]:
    """Entries of a collection pair up by their name where the declaration gives one; an ordered list of equal
    length differing in one entry differs inside that entry; otherwise say what the destination lacks and what it
    has besides (or that only the order differs)."""
    def key(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    theirs = Counter(key(v) for v in destination)
    ours = Counter(key(v) for v in source)
    if ours == theirs:
        return [(f"{path} (order)", source, destination)]
    general = re.sub(r"\[[^\]]*\]", "[]", path)
    name = unordered.get(general)
    if name is not None:
        return _named_entries(source, destination, path, name, unordered)
    positional = general not in unordered
    if positional and len(source) == len(destination) and sum((ours - theirs).values()) == 1:
        out = []
        for n, (s, d) in enumerate(zip(source, destination, strict=True)):
            out += diff(s, d, f"{path}[{n + 1}]", unordered)
        return out
    lacks = [v for v in source if key(v) in ours - theirs]
    extra = [v for v in destination if key(v) in theirs - ours]
    return [(path, {"lacks": lacks} if lacks else None, {"has besides": extra} if extra else None)]


def _named_entries(source: list[Any], destination: list[Any], path: str, name: str,
                   unordered: Mapping[str, str | None]) -> list[tuple[str, Any, Any]]:
    def named(entries: list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for entry in entries:
            label = json.dumps(entry.get(name) if isinstance(entry, dict) else entry, sort_keys=True,
                               ensure_ascii=False)
            label = label[1:-1] if label.startswith('"') else label
            while label in out:
                label += "'"
            out[label] = entry
        return out

    ours, theirs = named(source), named(destination)
    found: list[tuple[str, Any, Any]] = []
    for label in [k for k in ours if k in theirs]:
        found += diff(ours[label], theirs[label], f"{path}[{label}]", unordered)
    lacks = [ours[k] for k in ours if k not in theirs]
    extra = [theirs[k] for k in theirs if k not in ours]
    if lacks or extra:
        found.append((path, {"lacks": lacks} if lacks else None, {"has besides": extra} if extra else None))
    return found


def by_key(type_key: str, site: SiteObjects, names: Names) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """The type's objects on one site by their key there (as ``Names`` named them)."""
    out: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for natural_key, oid, obj in site.get(type_key, []):
        key = names.keys.get(type_key, {}).get(str(oid), natural_key) if oid is not None else natural_key
        out[key] = (oid, obj)
    return out


def compare(type_keys: Iterable[str], source: SiteObjects, destination: SiteObjects,
            wanted: dict[str, set[str]] | None = None, limit: int = 20, src_names: Names | None = None) -> Comparison:
    """Compare the source's objects of ``type_keys`` (only the ids in ``wanted[type]`` when given) with the
    destination's same-keyed objects, each in its own site's terms."""
    src_names, dst_names = src_names or Names.of(source), Names.of(destination)
    twins = Twins(source, src_names), Twins(destination, dst_names)
    for type_key in source:
        _pair_twins(type_key, source, destination, twins)
    paired = {t: _pair_loosely(t, source, destination, src_names, dst_names) for t in source}
    result = Comparison()
    for type_key in type_keys:
        declaration = DECLARATIONS.get(type_key) or Declaration(type_key, type_key)
        counts = result.counts.setdefault(type_key, {"compared": 0, "identical": 0})
        pairs = paired.get(type_key, {})
        for key, (oid, obj) in by_key(type_key, source, src_names).items():
            if wanted is not None and str(oid) not in wanted.get(type_key, set()):
                continue
            counts["compared"] += 1
            if key not in pairs:
                result.differences.append(Difference(type_key, key, "(object)", "present",
                                                     "missing on this site", oid))
                continue
            found = diff(canonical(type_key, obj, src_names), canonical(type_key, pairs[key], dst_names),
                         unordered=declaration.entry_names())
            found = _additive(declaration.additive(obj), found, result.notes, f"{noun(type_key)} {key!r}")
            if not found:
                counts["identical"] += 1
            for path, was, now in found[:limit]:
                result.differences.append(Difference(type_key, key, path, was, now, oid, declaration.wall(path)))
    return result


_TWIN = re.compile(r" #\d+(?=')")


def _base(key: str) -> str:
    return re.sub(r" #\d+$", "", key)


def _leaves(value: Any, path: str = "") -> set[str]:
    if isinstance(value, dict):
        return {leaf for k, v in value.items() for leaf in _leaves(v, f"{path}.{k}")}
    if isinstance(value, list):
        return {leaf for v in value for leaf in _leaves(v, f"{path}[]")}
    return {f"{path}={_TWIN.sub('', str(value))}"}


class Twins:
    """Tells apart objects of one site that share a key (custom fields of the same name and type): by what they
    hold and by what names them (a field's contexts and their options), since neither their key nor their id can."""

    def __init__(self, site: SiteObjects, names: Names) -> None:
        self.site, self.names = site, names
        self._naming: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] | None = None

    def naming(self) -> dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]:
        """(kind, id) -> the objects that refer to it."""
        if self._naming is None:
            self._naming = defaultdict(list)
            for type_key, entries in self.site.items():
                declaration = DECLARATIONS.get(type_key)
                if declaration is None:
                    continue
                for _key, _oid, obj in entries:
                    for kind, target in set(targets(obj, declaration.refs)):
                        self._naming[(kind, target)].append((type_key, obj))
        return self._naming

    def signature(self, type_key: str, oid: str | None, obj: dict[str, Any]) -> set[str]:
        leaves = _leaves(canonical(type_key, obj, self.names))
        for other_type, other in self.naming().get((type_key, str(oid)), []):
            leaves |= {f"<{other_type}>{leaf}" for leaf in _leaves(canonical(other_type, other, self.names))}
        return leaves


def _pair_twins(type_key: str, source: SiteObjects, destination: SiteObjects, twins: tuple[Twins, Twins]) -> None:
    """Pair same-keyed objects by likeness and give each destination twin its partner's name."""
    ours, theirs = (by_key(type_key, site, t.names) for site, t in zip((source, destination), twins, strict=True))
    groups: dict[str, list[str]] = defaultdict(list)
    for key in ours:
        groups[_base(key)].append(key)
    for base, keys in groups.items():
        candidates = [k for k in theirs if _base(k) == base]
        if len(keys) < 2 and len(candidates) < 2:
            continue
        mine = {k: twins[0].signature(type_key, ours[k][0], ours[k][1]) for k in keys}
        yours = {k: twins[1].signature(type_key, theirs[k][0], theirs[k][1]) for k in candidates}
        scored = sorted(((len(a & b) / max(1, len(a | b)), k, c) for k, a in mine.items() for c, b in yours.items()),
                        key=lambda t: (-t[0], t[1], t[2]))
        taken_src: set[str] = set()
        taken_dst: set[str] = set()
        for _score, key, candidate in scored:
            if key in taken_src or candidate in taken_dst:
                continue
            taken_src.add(key)
            taken_dst.add(candidate)
            _rename(twins[1].names, type_key, theirs[candidate][0], key)
        for n, candidate in enumerate((c for c in candidates if c not in taken_dst), start=1):
            _rename(twins[1].names, type_key, theirs[candidate][0], f"{base} (another {n})")


def _rename(names: Names, type_key: str, oid: str | None, key: str) -> None:
    if oid is not None:
        names.add(type_key, oid, key)
        names.keys[type_key][str(oid)] = key


def _pair_loosely(type_key: str, source: SiteObjects, destination: SiteObjects, src_names: Names,
                  dst_names: Names) -> dict[str, dict[str, Any]]:
    """Source key -> the destination object compared with it: the same key, else the same loose key (once).

    A loosely paired destination object takes its source partner's name, so what refers to it (a board naming a
    filter whose owner differs) compares equal there and the difference is told once, on the object itself.
    """
    declaration = DECLARATIONS.get(type_key) or Declaration(type_key, type_key)
    ours, theirs = by_key(type_key, source, src_names), by_key(type_key, destination, dst_names)
    pairs = {key: theirs[key][1] for key in ours if key in theirs}
    if declaration.loose_key is None:
        return pairs
    loose = declaration.loose_key
    spare: dict[str, list[tuple[str | None, dict[str, Any]]]] = defaultdict(list)
    for key, (oid, obj) in theirs.items():
        if key not in ours:
            spare[loose(obj)].append((oid, obj))
    for key, (_oid, obj) in ours.items():
        if key not in pairs and spare.get(loose(obj)):
            dest_id, pairs[key] = spare[loose(obj)].pop(0)
            _rename(dst_names, type_key, dest_id, key)
    return pairs


def _additive(paths: tuple[str, ...], found: list[tuple[str, Any, Any]], notes: list[str],
              what: str) -> list[tuple[str, Any, Any]]:
    """Drop differences that are only the destination's extra entries in a list the restore only adds to."""
    if not paths:
        return found
    kept = []
    for path, was, now in found:
        if path in paths and isinstance(now, dict) and "has besides" in now:
            notes.append(f"{what}, {path}: this site also has {show(now['has besides'])} (kept: the restore adds, "
                         "it never removes)")
            now = None
        if was is not None or now is not None:
            kept.append((path, was, now))
    return kept
