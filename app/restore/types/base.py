"""The contract every per-type restorer fulfils; the planner and executor know types only through it.

A restorer works on objects exactly as the snapshot stores them (the catalogue's normalised Jira GET shapes) and on
the destination through ``JiraAccess``. It never touches the database: id mappings come in through ``IdMap``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ...jira.access import JiraAccess


@dataclass(frozen=True)
class Ref:
    """A reference from one object to another: the referenced object's type and its *source* id."""

    type_key: str
    source_id: str


class IdMap(Protocol):
    """Source id -> destination id, per type, as recorded so far in this restore."""

    def get(self, type_key: str, source_id: str) -> str | None: ...

    def require(self, type_key: str, source_id: str) -> str:
        """The destination id, or raise ``UnmappedReference`` (the dependency wasn't restored)."""
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
    depends_on: ClassVar[tuple[str, ...]] = ()  # type keys whose objects this type's objects may reference
    title: ClassVar[str] = ""  # shown to people, e.g. "Workflow schemes"

    def natural_key(self, obj: dict[str, Any]) -> str:
        """The key objects are matched on across sites (reference README), normalised as Jira compares it."""
        raise NotImplementedError

    def source_id(self, obj: dict[str, Any]) -> str:
        return str(obj["id"])

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        """Every object this one refers to (for ordering, dependency pull-in and skipping dependants)."""
        return ()

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        """What the destination already has of this type."""
        raise NotImplementedError

    def is_default(self, obj: dict[str, Any]) -> bool:
        """A source default that maps onto the destination's default rather than being copied."""
        return False

    def default_counterpart(self, existing: list[Existing]) -> Existing | None:
        """The destination's default that a source default maps onto."""
        return next((e for e in existing if e.is_default), None)

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        """Create the object on the destination with every reference rewritten through ``ids``; return its id.

        :raises CannotRestore: a known wall, with the fix.
        :raises UnmappedReference: a dependency has no destination id.
        """
        raise NotImplementedError

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        """A form of the object to compare source (mapped through ``ids``) with destination (``ids`` None)."""
        raise NotImplementedError
