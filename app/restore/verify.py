"""Verification after a restore, independent of the restore: each site is read in its own terms and compared.

The source is the snapshot, the destination is read again with the backup's own readers (so both are the same shape),
and each side's objects are put in canonical form with its *own* ids replaced by the names they have on that site
(app/objects/canonical.py, driven by the per-type declarations). Objects are matched by name, never through the
restore's id map: a reference the restore copied or mapped wrongly names something else (or nothing) on the
destination and shows up as a difference, in words. Fidelity is identical ÷ restorable (objects Jira's API can
restore that were selected); "done" means every one of them is identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..backups.catalogue import CATALOGUE, ordered_types
from ..jira.access import SiteAccess
from ..jira.errors import JiraError, NeedsAuthorisation, RateLimited
from ..objects.canonical import Comparison, Names, SiteObjects, compare
from ..objects.canonical import diff as canonical_diff
from ..objects.declarations import DECLARATIONS
from .engine import HAS_ID, Result
from .plan import Action, Key, Plan
from .types.base import reader

MAX_DIFFS_PER_OBJECT = 20


@dataclass
class Difference:
    type_key: str
    source_id: str
    name: str
    path: str
    expected: Any
    actual: Any
    words: str = ""

    reason: str = ""  # why, when the restore knew it couldn't do better (a person without an account here)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_key, "sourceId": self.source_id, "name": self.name, "path": self.path,
                "expected": self.expected, "actual": self.actual, "words": self.words, "reason": self.reason}


@dataclass
class Verification:
    restorable: int = 0
    identical: int = 0
    differences: list[Difference] = field(default_factory=list)
    per_type: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the destination keeps besides (never a difference)

    @property
    def fidelity(self) -> float:
        return 1.0 if self.restorable == 0 else self.identical / self.restorable

    @property
    def unexplained(self) -> int:
        """Differences the restore can't account for (no missing person, unrestorable object or API wall behind
        them): what must be zero for a restore to be trusted."""
        return sum(1 for d in self.differences if not d.reason)

    @property
    def complete(self) -> bool:
        """Every restorable object identical: the only state that may be called done without qualification."""
        return self.identical == self.restorable

    def to_dict(self) -> dict[str, Any]:
        return {"restorable": self.restorable, "identical": self.identical, "fidelity": round(self.fidelity, 4),
                "complete": self.complete, "unexplained": self.unexplained, "perType": self.per_type,
                "notes": self.notes,
                "differences": [d.to_dict() for d in self.differences]}


def diff(expected: Any, actual: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two JSON-like values differ, as ``(path, expected, actual)`` triples."""
    return canonical_diff(expected, actual, path)


def _closure(type_keys: set[str]) -> set[str]:
    """The types plus every type they name (their objects' names are needed to compare references)."""
    found, stack = set(), list(type_keys)
    while stack:
        type_key = stack.pop()
        if type_key in found or type_key not in CATALOGUE:
            continue
        found.add(type_key)
        declaration = DECLARATIONS.get(type_key)
        stack += sorted(declaration.names() if declaration else ())
    return found


def read_site(access: SiteAccess, type_keys: set[str]) -> tuple[SiteObjects, dict[str, str]]:
    """The destination's objects of these types, read as a backup reads them; and the types that couldn't be read."""
    r = reader(access)
    objects: SiteObjects = {}
    unreadable: dict[str, str] = {}
    for object_type in ordered_types():  # in the catalogue's order: some readers use what earlier ones noted
        if object_type.key not in type_keys:
            continue
        try:
            objects[object_type.key] = [(i.natural_key, i.source_id, i.obj) for i in object_type.read(r)]
        except RateLimited:
            raise
        except (JiraError, NeedsAuthorisation) as exc:
            unreadable[object_type.key] = str(exc)
    return objects, unreadable


def verify(access: SiteAccess, plan: Plan, results: dict[Key, Result], source: SiteObjects) -> Verification:
    """Compare every selected, restorable object of the snapshot with what the destination holds now."""
    wanted: dict[str, set[str]] = {}
    names: dict[Key, str] = {}
    for item in plan.selected():
        if item.action != Action.CANNOT:
            wanted.setdefault(item.type_key, set()).add(str(item.source_id))
            names[item.key] = item.name
    types = _closure(set(wanted))
    destination, unreadable = read_site(access, types)
    report = Verification()
    readable = [t for t in plan.type_order if t in wanted and t not in unreadable]
    for type_key in [t for t in plan.type_order if t in wanted and t in unreadable]:
        for source_id in sorted(wanted[type_key]):
            report.restorable += 1
            report.differences.append(Difference(
                type_key, source_id, names.get((type_key, source_id), source_id), "(object)", "readable",
                f"couldn't be read: {unreadable[type_key]}",
                f"{type_key} couldn't be read on this site to check it: {unreadable[type_key]}"))
    source_closure = {t: v for t, v in source.items() if t in types}
    src_names = Names.of(source_closure)
    comparison = compare(readable, source_closure, destination, wanted, limit=MAX_DIFFS_PER_OBJECT,
                         src_names=src_names)
    _add(report, comparison, names, _known_causes(plan, results, src_names))
    return report


def _known_causes(plan: Plan, results: dict[Key, Result], src_names: Names) -> dict[str, str]:
    """What the restore knew it couldn't bring across, by the name a difference shows it under: people without an
    account on the destination, objects it couldn't or didn't restore (with the run's reason)."""
    causes = {f"user {a}": f"{a} has no account on this site: invite them, then run the restore again."
              for a in plan.missing_users}
    for key, item in plan.items.items():
        result = results.get(key)
        if item.action == Action.CANNOT:
            why = item.reason
        elif item.selected and (result is None or result.outcome not in HAS_ID):
            why = (result.reason if result is not None and result.reason else "it wasn't restored")
        elif not item.selected and item.action != Action.REUSE:
            why = "it wasn't selected for this restore"
        else:
            continue
        label = src_names.name(item.type_key, str(item.source_id))
        if label:
            causes[label] = f"{label} isn't on this site: {why}"
    return causes


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _explain(value: Any, causes: dict[str, str]) -> list[str]:
    texts = _strings(value)
    return [why for name, why in causes.items() if any(name in text for text in texts)]


def _add(report: Verification, comparison: Comparison, names: dict[Key, str], causes: dict[str, str]) -> None:
    report.notes += comparison.notes
    for type_key, counts in comparison.counts.items():
        report.restorable += counts["compared"]
        report.identical += counts["identical"]
        report.per_type[type_key] = {"restorable": counts["compared"], "identical": counts["identical"]}
    for d in comparison.differences:
        source_id = str(d.source_id or "")
        name = names.get((d.type_key, source_id), d.key)
        reason = d.wall or " ".join(_explain(d.source, causes))
        report.differences.append(Difference(d.type_key, source_id, name, d.path, d.source, d.destination, d.words,
                                             reason))


def add_issue_section(report: Verification, issues: dict[str, Any] | None, check: Any) -> None:
    """The issues' verification (app/restore/issues/verify.py) in the report: compared and identical counted with
    the configuration's, each difference in words (the run isn't "done" unless every issue is identical)."""
    if issues is None or check is None:
        return
    report.restorable += check.compared
    report.identical += check.identical
    report.per_type["issues"] = {"restorable": check.compared, "identical": check.identical}
    for d in check.differences:
        report.differences.append(Difference("issues", d.key, d.key, "", None, None, d.words, d.reason))
