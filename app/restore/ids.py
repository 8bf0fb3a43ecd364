"""The restore's one id map and its people policy.

``RunIdMap`` answers, for a source object, its counterpart on the destination: first what this run recorded
(created, reconciled, or forgotten after a failure), then what planning matched. Planning uses it while it matches
(the items' matches as they are found), the executor while it writes (adding its outcomes), the issue restore after
it; one class for all three.

``PeoplePolicy`` is the explicit answer to "this person isn't on the destination": the admin who started the run
stands in (``stand_in``), or the reference is dropped (``None``). Decided once per run, from the admin's choice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .types.base import Ref, UnmappedReference

Key = tuple[str, str]
ADMIN_STANDS_IN = "admin"  # the admin's choice: the person who started the run takes a missing person's place
DROP = "drop"  # the admin's choice: a missing person's place is left empty (or, where Jira needs someone, skipped)
CHOICES = (ADMIN_STANDS_IN, DROP)


@dataclass(frozen=True)
class PeoplePolicy:
    """Who takes the place of a person the destination doesn't have."""

    stand_in: str | None = None  # an account id, or None: the reference is dropped

    @classmethod
    def chosen(cls, choice: str, requested_by: str | None) -> PeoplePolicy:
        """The policy an admin's choice (``CHOICES``) means for a run ``requested_by`` started."""
        if choice not in CHOICES:
            raise ValueError(f"Unknown choice for missing people: {choice!r} (expected one of {', '.join(CHOICES)}).")
        return cls(requested_by if choice == ADMIN_STANDS_IN else None)


NO_STAND_IN = PeoplePolicy()  # a missing person's reference is dropped


class Matched(Protocol):
    """What planning knows of an object: its match on the destination, if any."""

    dest_id: str | None


class RunIdMap:
    """Source id -> destination id for one run, safe to share between the executor's worker threads.

    ``matched`` is read live (planning fills its items' matches as it goes); ``set``/``forget`` record what the run
    did on top of it. ``missing`` are the people planning found absent from the destination.
    """

    def __init__(self, matched: Mapping[Key, Matched], people: PeoplePolicy = NO_STAND_IN,
                 missing: Iterable[str] = ()) -> None:
        self._matched = matched
        self.people = people
        self.missing = set(missing)
        self._lock = threading.Lock()
        self._recorded: dict[Key, str | None] = {}  # None: forgotten (the match no longer holds)

    def set(self, key: Key, dest_id: str) -> None:
        with self._lock:
            self._recorded[key] = dest_id

    def forget(self, key: Key) -> None:
        with self._lock:
            self._recorded[key] = None

    def get(self, type_key: str, source_id: str) -> str | None:
        key = (type_key, str(source_id))
        with self._lock:
            if key in self._recorded:
                return self._recorded[key]
        item = self._matched.get(key)
        return item.dest_id if item is not None and item.dest_id else None

    def require(self, type_key: str, source_id: str) -> str:
        found = self.get(type_key, source_id)
        if found is None:
            raise UnmappedReference(Ref(type_key, str(source_id)))
        return found

    def user(self, account_id: str) -> str | None:
        """The account to name on the destination: the same person, or the policy's stand-in when they're missing."""
        return self.people.stand_in if account_id in self.missing else account_id
