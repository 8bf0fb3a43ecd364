"""The restore plan: every snapshot object matched against the destination and given an action, selection with
dependency pull-in, missing users, and the dependency order (pure domain: a reader, a ``JiraAccess``, no database)."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from graphlib import CycleError, TopologicalSorter
from typing import Any, Protocol

from ..jira.access import SiteAccess
from ..jira.errors import JiraError, JiraUnavailable, NeedsAuthorisation, RateLimited
from ..jira.operations import declare
from .ids import NO_STAND_IN, PeoplePolicy, RunIdMap
from .issues import restore as _issue_restore  # noqa: F401  (declares the issue data restore's operations)
from .membership import ALL_PROJECTS, memberships
from .types.base import Existing, Ref, Restorer, UnmappedReference

BULK_USERS = declare("GET", "/rest/api/3/user/bulk")
USERS_PER_CALL = 200  # the bulk endpoint's page cap
# A whole type's read is retried this many times when Jira stays unavailable beyond the client's own retries: one
# unlucky page among hundreds must not fail a run (a rate limit is not retried here: the job waits as told).
READ_ATTEMPTS = 4
READ_PAUSE = 0.2  # seconds, growing per attempt (the client has already backed off within each attempt)


def read_all(read: Callable[[], Iterable[Any]], attempts: int = READ_ATTEMPTS, pause: float = READ_PAUSE) -> list[Any]:
    """``list(read())``, started again from the beginning while Jira is unavailable (reads are repeatable).

    :raises JiraUnavailable: still unavailable after ``attempts`` reads (the job then requeues itself).
    """
    for attempt in range(attempts):
        try:
            return list(read())
        except RateLimited:
            raise
        except JiraUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")


class Action(enum.StrEnum):
    CREATE = "create"
    REUSE = "reuse"  # a matching object is there (identical, or a conflict kept as it is)
    UPDATE = "update"
    SKIP = "skip"
    CANNOT = "cannot"  # can't be restored: reason + what to do by hand


class PlanError(Exception):
    """The snapshot can't be planned as a whole (a dependency cycle, an unreadable snapshot)."""


class DependencyCycle(PlanError):
    def __init__(self, cycle: list[Any]) -> None:
        names = " -> ".join(f"{t} {s}" for t, s in cycle)
        super().__init__(f"The snapshot's objects refer to each other in a cycle: {names}.")
        self.cycle = cycle


class MissingDependency(PlanError):
    """An object refers to one the snapshot doesn't hold (recorded per item as a skip reason, not raised)."""

    def __init__(self, ref: Ref) -> None:
        super().__init__(f"It refers to {ref.type_key} {ref.source_id}, which the snapshot doesn't hold.")
        self.ref = ref


class SnapshotSource(Protocol):
    """What the planner reads (``SnapshotReader`` satisfies it)."""

    def objects(self, type_key: str) -> Iterator[dict[str, Any]]: ...


Key = tuple[str, str]  # (type key, source id)


@dataclass
class PlannedItem:
    type_key: str
    source_id: str
    natural_key: str
    name: str
    action: Action
    dest_id: str | None = None
    reason: str = ""
    fix: str = ""
    conflict: bool = False
    selected: bool = True
    pulled_in: bool = False  # not chosen, but something chosen depends on it
    refs: list[Ref] = field(default_factory=list)
    # Objects restored after this one whose parts it names, where ordering after them would close a cycle (a
    # workflow's rule naming a version of a project that uses the workflow): worked out as a run starts, and the
    # object completed once they exist (``Restorer.complete``). Not saved: every attempt works it out again.
    later: list[Ref] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.type_key, self.source_id)


@dataclass
class Selection:
    """Everything (no types, no projects, no JQL), or objects of ``types``, or objects of the projects ``projects``;
    ``jql`` narrows the issues to those it chooses in the backup (``app/restore/issues/subset.py``), and the
    configuration to their projects."""

    types: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    jql: str = ""

    def __post_init__(self) -> None:
        # Project keys as Jira compares them (upper case), each once, however they were typed.
        self.projects = list(dict.fromkeys(str(p).strip().upper() for p in self.projects if str(p).strip()))
        self.jql = str(self.jql or "").strip()

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Selection:
        data = data or {}
        return cls(types=[str(t) for t in data.get("types") or []],
                   projects=[str(p).upper() for p in data.get("projects") or []], jql=str(data.get("jql") or ""))

    def to_dict(self) -> dict[str, Any]:
        return {"types": self.types, "projects": self.projects, **({"jql": self.jql} if self.jql else {})}

    @property
    def everything(self) -> bool:
        return not self.types and not self.projects and not self.jql


@dataclass
class Plan:
    """Every snapshot object's planned item, and the selected objects' content.

    Memory: the planner streams the snapshot one type at a time and holds the destination's objects of one type at a
    time, but it keeps the *selected* source objects (``objects``) until the run ends, deliberately: the executor
    takes objects in dependency order across types (a project's create waits on five scheme types), comparing and
    verifying need them again after the writes, and re-reading a type from the snapshot means decrypting every blob
    of the type again (per object, a database round trip on the engine's thread). Unselected objects are dropped once
    the selection is known. A site's configuration is megabytes, not gigabytes, so this is the cheaper trade; a lazy
    per-type loader behind ``objects`` is the way out if it ever isn't.
    """

    items: dict[Key, PlannedItem]
    objects: dict[Key, dict[str, Any]]
    type_order: list[str]
    missing_users: list[str] = field(default_factory=list)
    unsupported_types: list[str] = field(default_factory=list)
    # Each missing user as the snapshot shows them: accountId, displayName (email where kept), and "leads": the keys
    # of the selected projects they lead (Jira requires a lead, so those fail unless someone takes their place).
    missing_people: list[dict[str, Any]] = field(default_factory=list)

    def selected(self) -> list[PlannedItem]:
        return [i for i in self.items.values() if i.selected]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per type: how many selected items get each action."""
        out: dict[str, dict[str, int]] = {}
        for item in self.selected():
            per = out.setdefault(item.type_key, {a.value: 0 for a in Action})
            per[item.action.value] += 1
        return out

    def order(self) -> TopologicalSorter:
        """The selected items as a prepared graph (``get_ready``/``done``): dependencies first."""
        graph: dict[Key, set[Key]] = {}
        for item in self.selected():
            graph[item.key] = {(r.type_key, r.source_id) for r in item.refs
                               if (r.type_key, r.source_id) in self.items
                               and self.items[(r.type_key, r.source_id)].selected}
        sorter = TopologicalSorter(graph)
        try:
            sorter.prepare()
        except CycleError as exc:
            raise DependencyCycle(list(exc.args[1])) from None
        return sorter


def select(items: dict[Key, PlannedItem], selection: Selection, projects_of: dict[Key, set[str]]) -> None:
    """Mark the chosen items and, transitively, everything they reference (``pulled_in``).

    Types and projects narrow together: "Projects, keys WEB" chooses the project WEB, not every project; projects
    alone choose every object that belongs to them (the project, its boards, its own statuses); types alone choose
    every object of those types. What they reference comes along, and nothing else.
    """
    if selection.everything:
        for item in items.values():
            item.selected, item.pulled_in = True, False
        return
    chosen = {k for k, i in items.items() if chosen_by(selection, i.type_key, projects_of.get(k, set()))}
    wanted = set(chosen)
    stack = list(chosen)
    while stack:
        for ref in items[stack.pop()].refs:
            target = (ref.type_key, ref.source_id)
            if target in items and target not in wanted:
                wanted.add(target)
                stack.append(target)
    for key, item in items.items():
        item.selected = key in wanted
        item.pulled_in = key in wanted and key not in chosen


def _issue_groups(plan: Plan, projects_of: dict[Key, set[str]], issue_groups: dict[str, set[tuple[str, str]]]) -> None:
    """A project's issues name the groups their restricted comments and work logs are shown to: each becomes an
    optional reference of the project (the project comes back without it; its comments need it), so choosing the
    project brings the group along. Found by the group's id, else its name (an older record names it by name)."""
    if not issue_groups:
        return
    by_name = {item.natural_key: key for key, item in plan.items.items() if item.type_key == "groups"}
    for key, item in plan.items.items():
        if item.type_key != "projects":
            continue
        have = {(r.type_key, r.source_id) for r in item.refs}
        for project in sorted(projects_of.get(key, ())):
            for group_id, name in sorted(issue_groups.get(project, ())):
                target = ("groups", group_id) if ("groups", group_id) in plan.items else by_name.get(name)
                if target is not None and target not in have:
                    item.refs.append(Ref(target[0], target[1], optional=True))
                    have.add(target)


def chosen_by(selection: Selection, type_key: str, projects: set[str]) -> bool:
    """Whether an object of ``type_key`` belonging to ``projects`` is one the selection names itself (an object
    of every project, such as a global field context, with any project)."""
    if selection.types and type_key not in selection.types:
        return False
    return not selection.projects or ALL_PROJECTS in projects or bool(projects & set(selection.projects))


def project_keys(restorer: Restorer, obj: dict[str, Any]) -> set[str]:
    """The keys of the projects an object belongs to, upper-cased as selections hold them (``ID:<id>`` for one
    named by id until ``memberships`` resolves it)."""
    return {str(p).upper() for p in restorer.projects(obj)}


def belongs_to_projects(restorer: Restorer) -> bool:
    """Whether objects of the restorer's type can belong to a project (it says which)."""
    return type(restorer).projects is not Restorer.projects


def people_in(value: Any, found: dict[str, dict[str, str]] | None = None) -> dict[str, dict[str, str]]:
    """Every person a snapshot object shows by name: accountId -> display name (and email where it was kept)."""
    found = {} if found is None else found
    if isinstance(value, dict):
        account = value.get("accountId")
        if isinstance(account, str) and account and isinstance(value.get("displayName"), str):
            person = found.setdefault(account, {"accountId": account})
            person.setdefault("displayName", value["displayName"])
            if isinstance(value.get("emailAddress"), str):
                person.setdefault("email", value["emailAddress"])
        for inner in value.values():
            people_in(inner, found)
    elif isinstance(value, list):
        for inner in value:
            people_in(inner, found)
    return found


def type_order(restorers: dict[str, Restorer], present: Iterable[str]) -> list[str]:
    """Snapshot types in restore order: each after every type its declaration's written references name
    (``Restorer.depends_on``, app/objects/declarations.py), so planning compares an object only once what it names
    has been matched."""
    present = [t for t in present if t in restorers]
    graph = {t: {d for d in restorers[t].depends_on if d in present} for t in present}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise DependencyCycle([(t, "*") for t in exc.args[1]]) from None


class Planner:
    """Reads the destination and plans every object of the snapshot."""

    def __init__(self, access: SiteAccess, restorers: dict[str, Restorer],
                 earlier: dict[Key, str] | None = None) -> None:
        self.access = access
        self.restorers = restorers
        # (type, source id) -> destination id, from earlier restores of the same source onto this destination
        self.earlier = earlier or {}

    def plan(self, snapshot: SnapshotSource, type_keys: Iterable[str], selection: Selection | None = None,
             people: PeoplePolicy = NO_STAND_IN, on_type: Any = None,
             issue_groups: dict[str, set[tuple[str, str]]] | None = None) -> Plan:
        """Plan the snapshot's ``type_keys``; ``on_type(type_key)`` is told as each type is read (progress);
        ``issue_groups``: per project key, the groups its issues' restricted comments and work logs are shown to
        ((group id, name), ``app.issuedata.records.restricted_groups``)."""
        type_keys = list(type_keys)
        order = type_order(self.restorers, type_keys)
        plan = Plan({}, {}, order, unsupported_types=sorted(t for t in type_keys if t not in self.restorers))
        projects_of: dict[Key, set[str]] = {}
        for type_key in order:
            restorer = self.restorers[type_key]
            for obj in snapshot.objects(type_key):
                key = (type_key, restorer.source_id(obj))
                plan.objects[key] = obj
                plan.items[key] = PlannedItem(type_key, key[1], restorer.natural_key(obj),
                                              restorer.display_name(obj), Action.CREATE,
                                              refs=list(restorer.references(obj)))
                projects_of[key] = project_keys(restorer, obj)
        _issue_groups(plan, projects_of, issue_groups or {})
        select(plan.items, selection or Selection(), memberships(projects_of))
        for key in [k for k, i in plan.items.items() if not i.selected]:
            del plan.objects[key]  # nothing reads an unselected object's content again
        plan.missing_users = self._missing_users(plan)
        plan.missing_people = missing_people(plan, plan.missing_users)
        ids = RunIdMap(plan.items, people, plan.missing_users)
        matches: dict[Key, Existing] = {}
        for type_key in order:
            if on_type is not None:
                on_type(type_key)
            self._match_type(plan, type_key, matches, ids)
        for type_key in order:
            self._decide_type(plan, type_key, ids, matches)
        self._skip_dependants(plan)
        return plan

    # -- matching ----------------------------------------------------------------------------------------

    def _match_type(self, plan: Plan, type_key: str, matches: dict[Key, Existing], ids: RunIdMap) -> None:
        restorer = self.restorers[type_key]
        items = [i for i in plan.items.values() if i.type_key == type_key and i.selected]
        if not items:
            return
        match_key = getattr(restorer, "match_key", None)
        if match_key is not None:
            # Optional extension of the contract: a key that depends on the id map (a filter's owner on the
            # destination, a board's restored filter). It is also what a lost create is looked up by.
            for item in items:
                item.natural_key = match_key(plan.objects[item.key], ids)
        try:
            existing = read_all(lambda: restorer.existing(self.access))
        except NeedsAuthorisation as exc:
            for item in items:
                item.action, item.reason, item.fix = (Action.CANNOT, "The destination's "
                                                      f"{restorer.title.lower() or type_key} can't be read.", exc.fix)
            return
        # One destination object per source object: where a natural key isn't unique (custom fields share names),
        # same-keyed objects pair off instead of all taking the first. An earlier restore's pairing comes first.
        by_dest = {found.dest_id: found for found in existing}
        by_key: dict[str, list[Existing]] = {}
        for found in existing:
            by_key.setdefault(found.natural_key, []).append(found)
        claimed: set[str] = set()
        paired: dict[Key, Existing] = {}
        for item in items:
            before = by_dest.get(self.earlier.get(item.key, ""))
            if before is not None and before.natural_key == item.natural_key and before.dest_id not in claimed:
                paired[item.key] = before
                claimed.add(before.dest_id)
        for item in items:
            obj = plan.objects[item.key]
            match = paired.get(item.key) or next(
                (f for f in by_key.get(item.natural_key, ()) if f.dest_id not in claimed), None)
            if restorer.is_default(obj):
                match = restorer.default_counterpart(existing) or match
                if match is not None:
                    item.reason = "The source's default, mapped onto the destination's default."
            if match is not None:
                claimed.add(match.dest_id)
                item.dest_id = match.dest_id
                item.action = Action.REUSE
                matches[item.key] = match

    def _decide_type(self, plan: Plan, type_key: str, ids: RunIdMap, matches: dict[Key, Existing]) -> None:
        restorer = self.restorers[type_key]
        for item in (i for i in plan.items.values() if i.type_key == type_key and i.selected):
            if item.action == Action.CANNOT:
                continue
            obj = plan.objects[item.key]
            match = matches.get(item.key)
            if match is None:
                wall = restorer.why_not(obj)
                if wall is not None:
                    item.action, item.reason, item.fix = Action.CANNOT, wall.reason, wall.fix
                    continue
                blocked = [op for op in restorer.writes if not self.access.can_call(op)]
                if blocked:
                    item.action = Action.CANNOT
                    item.reason = f"Creating it needs {blocked[0].method} {blocked[0].template}, which Connect " \
                                  "apps can't call."
                    item.fix = self.access.fix
                continue
            if self._same(restorer, obj, match, ids):
                item.reason = item.reason or "Already on the destination, identical."
                continue
            if restorer.can_update:
                item.action = Action.UPDATE
                item.reason = "On the destination with different content: it will be updated."
            else:
                item.conflict = True
                item.reason = ("On the destination with different content; kept as it is there "
                               "(this type isn't updated in place).")

    def _same(self, restorer: Restorer, obj: dict[str, Any], match: Existing, ids: RunIdMap) -> bool:
        try:
            return restorer.in_place(obj, match.obj, ids)
        except UnmappedReference:
            return False  # it references something not on the destination yet, so it can't be identical

    def _skip_dependants(self, plan: Plan) -> None:
        """Items whose required references can't be satisfied are skipped now, with the reason."""
        try:
            sorter = TopologicalSorter({k: {(r.type_key, r.source_id) for r in i.refs if (r.type_key, r.source_id)
                                            in plan.items} for k, i in plan.items.items()})
            ordered = list(sorter.static_order())
        except CycleError as exc:
            raise DependencyCycle(list(exc.args[1])) from None
        for key in ordered:
            item = plan.items.get(key)
            if item is None or not item.selected or item.action in (Action.CANNOT, Action.SKIP):
                continue
            for ref in item.refs:
                target = plan.items.get((ref.type_key, ref.source_id))
                if ref.optional:
                    continue
                if target is None:
                    item.action, item.reason = Action.SKIP, str(MissingDependency(ref))
                    break
                if target.action in (Action.CANNOT, Action.SKIP) and target.dest_id is None:
                    item.action = Action.SKIP
                    item.reason = f"It depends on {_label(self.restorers, target)}, which can't be restored."
                    break

    # -- users -------------------------------------------------------------------------------------------

    def _missing_users(self, plan: Plan) -> list[str]:
        wanted: set[str] = set()
        for item in plan.selected():
            wanted.update(self.restorers[item.type_key].account_ids(plan.objects[item.key]))
        if not wanted:
            return []
        found: set[str] = set()
        batch = sorted(wanted)
        try:
            for start in range(0, len(batch), USERS_PER_CALL):
                chunk = batch[start:start + USERS_PER_CALL]
                page = read_all(partial(self._users_page, chunk))[0]
                found.update(str(u.get("accountId")) for u in (page or {}).get("values") or [])
        except RateLimited:
            raise
        except JiraError:
            return batch  # can't check: treat all as missing so the fallback choice is offered
        return sorted(wanted - found)

    def _users_page(self, account_ids: list[str]) -> list[Any]:
        """One bulk read of these accounts, as a list of its one page (``read_all`` may repeat it)."""
        return [self.access.call(BULK_USERS, params={"accountId": account_ids, "maxResults": USERS_PER_CALL})]


def missing_people(plan: Plan, missing: list[str]) -> list[dict[str, Any]]:
    """The missing users by name as the selected objects show them, each with the projects they lead."""
    if not missing:
        return []
    known: dict[str, dict[str, str]] = {}
    leads: dict[str, list[str]] = {}
    for item in plan.selected():
        obj = plan.objects.get(item.key)
        if obj is None:
            continue
        people_in(obj, known)
        if item.type_key == "projects":
            lead = (obj.get("lead") or {}).get("accountId")
            if lead:
                leads.setdefault(str(lead), []).append(str(obj.get("key") or item.natural_key))
    return [{**known.get(a, {"accountId": a}), "accountId": a, "leads": sorted(leads.get(a, []))} for a in missing]


def _label(restorers: dict[str, Restorer], item: PlannedItem) -> str:
    title = restorers[item.type_key].title if item.type_key in restorers else item.type_key
    return f"{title.rstrip('s').lower()} {item.name!r}"
