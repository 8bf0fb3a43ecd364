"""The contract every per-type restorer fulfils; the planner and executor know types only through it.

A restorer works on objects exactly as the snapshot stores them (the catalogue's normalised Jira GET shapes) and on
the destination through ``JiraAccess``. It never touches the database: id mappings come in through ``IdMap``.

Writing a restorer (one subclass per snapshot type key, registered with ``@register``):

- ``type_key``/``title``: the snapshot type and its human name. What its objects reference, and so the order of
  types, is the type's declaration's (app/objects/declarations.py), shared with the backup and the verification.
- ``natural_key(obj)``: the matching key (reference README), normalised as Jira compares it (``casefold`` where
  Jira is case-insensitive). Source and destination objects go through the same function.
- ``references(obj)``: every object this one refers to, as ``Ref(type_key, source_id)``; ``optional=True`` for
  references that are dropped (and noted) rather than blocking, e.g. a group actor whose group isn't there.
- ``existing(access)``: the destination's objects of the type, as ``Existing`` (natural key, id, object, default?).
- ``create(access, obj, ids) -> dest id``: rewrite every reference through ``ids.require``/``ids.get``; raise
  ``CannotRestore(reason, fix)`` for a known wall; ``NeedsAuthorisation`` from ``JiraAccess`` passes through.
  Follow-up writes (tabs, options, ordering) belong in ``create`` after the object exists: ``after_create`` is
  called again on resume if the run died between the create and them, so they must be idempotent.
- ``writes``: the operations ``create`` calls; the plan reports those no credential may call.
- ``update(access, dest_id, obj, ids)``: optional; set ``can_update = True`` when implemented.
- ``comparable(obj, ids)``: the form both sides are compared in (source mapped through ``ids``; destination with
  ``ids=None``): drop ids, self links and anything the destination chooses (icons, avatars).
- ``why_not(obj)``: a ``CannotRestore`` for objects that can never be restored (read-only, hierarchy above 0...),
  known at plan time.
- ``lookup(access, natural_key)``: find one object by natural key (reconciling a create whose answer was lost);
  defaults to scanning ``existing``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from weakref import WeakKeyDictionary

from ...jira.access import SiteAccess
from ...jira.operations import Operation
from ...objects.declarations import DECLARATIONS

if TYPE_CHECKING:
    from ...backups.catalogue import Reader


@dataclass(frozen=True)
class Ref:
    """A reference from one object to another: the referenced object's type and its *source* id."""

    type_key: str
    source_id: str
    optional: bool = False  # a missing target is dropped from the body (and noted), not a reason to skip


class IdMap(Protocol):
    """Source id -> destination id, per type, as recorded so far in this restore; plus users."""

    def get(self, type_key: str, source_id: str) -> str | None: ...

    def require(self, type_key: str, source_id: str) -> str:
        """The destination id, or raise ``UnmappedReference`` (the dependency wasn't restored)."""
        ...

    def user(self, account_id: str) -> str | None:
        """The accountId to use on the destination (the same, the fallback admin, or None: drop it)."""
        ...


class UnmappedReference(Exception):
    """An object refers to something that has no destination counterpart (its restore failed or was skipped)."""

    def __init__(self, ref: Ref) -> None:
        super().__init__(f"{ref.type_key} {ref.source_id} was not restored")
        self.ref = ref


class CannotRestore(Exception):
    """A known wall (default scheme not editable, hierarchy above 0, groups apps can't create...): with what to do."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


@dataclass
class Existing:
    """An object already on the destination, as the restorer reads it for matching."""

    natural_key: str
    dest_id: str
    obj: dict[str, Any] = field(repr=False)
    is_default: bool = False


class Restorer:
    """Subclass per type. Class attributes describe the type; methods do the work."""

    type_key: ClassVar[str]  # the snapshot's type key (the backup catalogue's)
    title: ClassVar[str] = ""  # shown to people, e.g. "Workflow schemes"

    @property
    def depends_on(self) -> set[str]:
        """The types whose objects must be restored before this type's: its declaration's ``comes_after``."""
        declaration = DECLARATIONS.get(self.type_key)
        return declaration.comes_after() if declaration is not None else set()

    can_update: ClassVar[bool] = False  # whether ``update`` is implemented
    # Operations a create needs: checked at plan time, so the preview names INACCESSIBLE ones and the fix.
    writes: ClassVar[tuple[Operation, ...]] = ()

    def natural_key(self, obj: dict[str, Any]) -> str:
        """The key objects are matched on across sites (reference README), normalised as Jira compares it."""
        raise NotImplementedError

    def source_id(self, obj: dict[str, Any]) -> str:
        return str(obj["id"])

    def display_name(self, obj: dict[str, Any]) -> str:
        """What people see for the object in previews and reports."""
        return str(obj.get("name") or obj.get("key") or self.source_id(obj))

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        """Every object this one refers to (for ordering, dependency pull-in and skipping dependants): what its
        type's declaration says it names. A restorer overrides it only to follow fewer (parts it doesn't write)
        or, for a back link it writes itself, more (tests/restore/test_one_declaration.py holds it to the
        declaration)."""
        declaration = DECLARATIONS.get(self.type_key)
        if declaration is None:
            return []
        own = (self.type_key, self.source_id(obj)) if obj.get("id") is not None else None
        return [Ref(kind, source_id, optional) for kind, source_id, optional in declaration.references(obj)
                if (kind, source_id) != own]

    def ids_in_strings(self, obj: dict[str, Any], field_kind: Callable[[str], str | None]) -> Iterable[Any]:
        """The ids the object names inside its strings (a filter's JQL, a workflow's rule parameters), as
        ``subobjects.IdRef``: the run orders the object after what they name. ``field_kind`` tells what a custom
        field's values name. Nothing by default."""
        return ()

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        """AccountIds the object names (checked on the destination before the run)."""
        return ()

    def projects(self, obj: dict[str, Any]) -> Iterable[str]:
        """Project keys the object belongs to (for selection by project)."""
        return ()

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        """What the destination already has of this type."""
        raise NotImplementedError

    def lookup(self, access: SiteAccess, natural_key: str) -> Existing | None:
        """The destination's object with this natural key, if any (used to reconcile a lost create response)."""
        return next((e for e in self.existing(access) if e.natural_key == natural_key), None)

    def is_default(self, obj: dict[str, Any]) -> bool:
        """A source default that maps onto the destination's default rather than being copied."""
        return False

    def default_counterpart(self, existing: list[Existing]) -> Existing | None:
        """The destination's default that a source default maps onto."""
        return next((e for e in existing if e.is_default), None)

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        """A wall known before any write (read-only object, unsupported shape), or None."""
        return None

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        """Create the object on the destination with every reference rewritten through ``ids``; return its id.

        :raises CannotRestore: a known wall, with the fix.
        :raises UnmappedReference: a dependency has no destination id.
        """
        raise NotImplementedError

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        """Idempotent follow-up writes once the object exists (children, ordering); default none."""

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        """Bring the matching destination object in line with ``obj`` (only when ``can_update``)."""
        raise NotImplementedError

    def complete(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> bool:
        """Write what the object names in objects restored after it (its plan item's ``later``), once the run has
        restored them; idempotent (it compares first). True when it wrote. Default: nothing to complete."""
        return False

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        """A form of the object to compare source (mapped through ``ids``) with destination (``ids`` None)."""
        raise NotImplementedError

    def in_place(self, obj: dict[str, Any], dest: dict[str, Any], ids: IdMap) -> bool:
        """Whether the destination's object already is what restoring ``obj`` would make it (nothing to write).

        Equal comparable forms by default; a type whose update only adds (a group's members) overrides it."""
        return bool(self.comparable(obj, ids) == self.comparable(dest, None))

    def cost(self, obj: dict[str, Any]) -> int | None:
        """About how many requests creating the object takes, for scheduling (None: the engine's own guess)."""
        return None


def pick(obj: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The listed keys of ``obj`` that are present (a small helper for ``comparable`` and create bodies)."""
    return {k: obj[k] for k in keys if k in obj}


def fold(name: str) -> str:
    """A name normalised the way Jira compares names case-insensitively."""
    return str(name).strip().casefold()


_RUN_MEMOS: WeakKeyDictionary[Any, dict[str, dict[str, Any]]] = WeakKeyDictionary()
_RUN_MEMOS_LOCK = threading.Lock()


def run_memo(ids: IdMap, name: str) -> dict[str, Any]:
    """A dict restorers share for the length of one run (keyed by its id map): destination facts read once per run
    rather than once per object. What it holds must be safe to read again when stale (callers re-read on a miss).
    An id map that can't be weakly referenced gets a fresh dict each time (no sharing, same results)."""
    with _RUN_MEMOS_LOCK:
        try:
            return _RUN_MEMOS.setdefault(ids, {}).setdefault(name, {})
        except TypeError:
            return {}


_FRESH = threading.local()


def just_created() -> bool:
    """Whether the running ``after_create`` directly follows this worker's own create of the object, on its first
    attempt: the object is then exactly as Jira makes a new one (a screen's one empty tab, a project without
    components or versions, a dashboard without gadgets), so reading its state back can be skipped. False on
    resume, after a looked-up create, on a retry and in ``update``: then the state is read as before."""
    return bool(getattr(_FRESH, "on", False))


@contextmanager
def fresh_follow_up(on: bool) -> Iterator[None]:
    """Run the block with ``just_created()`` answering ``on`` (the engine's call; worker threads only)."""
    previous = getattr(_FRESH, "on", False)
    _FRESH.on = on
    try:
        yield
    finally:
        _FRESH.on = previous


_POOLED = threading.local()


@contextmanager
def pooled_reads(concurrency: int, initializer: Callable[[], None] | None = None) -> Iterator[None]:
    """Within the block (on this thread), restorers' reads of the destination (through ``reader``) fan out per
    object on a worker pool, at most ``concurrency`` requests at once; outside it they go one request at a time.

    For the preview's and the restore's planning reads and the verification pass, which read every object of a
    type (a screen's tabs, a dashboard's gadgets, a project's roles...): one at a time, a large site took minutes.
    """
    from ...backups.lanes import PriorityGate, PriorityPool

    concurrency = max(1, concurrency)
    previous = getattr(_POOLED, "value", None)
    with PriorityPool(2 * concurrency, initializer, name="restore-read") as pool:
        _POOLED.value = (pool, PriorityGate(concurrency), concurrency)
        try:
            yield
        finally:
            _POOLED.value = previous


def reader(access: SiteAccess) -> Reader:
    """A catalogue ``Reader`` over the destination: pooled inside ``pooled_reads``, sequential outside it."""
    from ...backups.catalogue import Reader

    active = getattr(_POOLED, "value", None)
    if active is None:
        return Reader(access)
    pool, gate, concurrency = active
    return Reader(access, pool.lane(0), concurrency, gate=gate)
