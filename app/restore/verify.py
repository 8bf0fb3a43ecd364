"""Verification after a restore: re-read the destination, compare each restored object with the snapshot after id
mapping, and compute fidelity (identical ÷ restorable) with every difference listed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..jira.access import JiraAccess
from ..jira.errors import JiraError, NeedsAuthorisation, RateLimited
from .engine import HAS_ID, Result, RunIds
from .plan import Action, Key, Plan, read_all
from .types import load
from .types.base import Existing, Restorer, UnmappedReference

MAX_DIFFS_PER_OBJECT = 20


@dataclass
class Difference:
    type_key: str
    source_id: str
    name: str
    path: str
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_key, "sourceId": self.source_id, "name": self.name, "path": self.path,
                "expected": self.expected, "actual": self.actual}


@dataclass
class Verification:
    restorable: int = 0
    identical: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def fidelity(self) -> float:
        return 1.0 if self.restorable == 0 else self.identical / self.restorable

    def to_dict(self) -> dict[str, Any]:
        return {"restorable": self.restorable, "identical": self.identical, "fidelity": round(self.fidelity, 4),
                "differences": [d.to_dict() for d in self.differences]}


def diff(expected: Any, actual: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two JSON-like values differ, as ``(path, expected, actual)`` triples."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            out += diff(expected.get(key), actual.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for n, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += diff(e, a, f"{path}[{n}]")
        return out
    return [] if expected == actual else [(path or "(object)", expected, actual)]


def verify(access: JiraAccess, plan: Plan, results: dict[Key, Result], ids: RunIds,
           restorers: dict[str, Restorer] | None = None) -> Verification:
    """Compare every selected, restorable object with what the destination holds now."""
    restorers = restorers if restorers is not None else load()
    report = Verification()
    for type_key in plan.type_order:
        items = [i for i in plan.selected() if i.type_key == type_key and i.action != Action.CANNOT]
        if not items:
            continue
        restorer = restorers[type_key]
        try:
            by_id: dict[str, Existing] = {e.dest_id: e for e in read_all(lambda r=restorer: r.existing(access))}
        except RateLimited:
            raise
        except (JiraError, NeedsAuthorisation) as exc:
            for item in items:
                report.restorable += 1
                report.differences.append(Difference(type_key, item.source_id, item.name, "(object)", "readable",
                                                     f"couldn't be read: {exc}"))
            continue
        for item in items:
            report.restorable += 1
            result = results.get(item.key)
            dest_id = result.dest_id if result is not None and result.outcome in HAS_ID else None
            if dest_id is None or dest_id not in by_id:
                outcome = result.outcome.value if result is not None else "pending"
                report.differences.append(Difference(type_key, item.source_id, item.name, "(object)", "present",
                                                     f"missing ({outcome})"))
                continue
            try:
                expected = restorer.comparable(plan.objects[item.key], ids)
            except UnmappedReference as exc:
                report.differences.append(Difference(type_key, item.source_id, item.name, "(object)",
                                                     "all references restored", str(exc)))
                continue
            found = diff(expected, restorer.comparable(by_id[dest_id].obj, None))
            if not found:
                report.identical += 1
            for path, want, got in found[:MAX_DIFFS_PER_OBJECT]:
                report.differences.append(Difference(type_key, item.source_id, item.name, path, want, got))
    return report
