"""One site's data: named collections of JSON-like records and per-kind id counters.

Records are stored in the shape Jira returns them (or close to it) so exports are cheap. Every
collection keeps insertion order, which is the order Jira lists objects in.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any

# Collection names shared by all resource modules. A module owns the collections it writes;
# others may read them (a project create checks that the scheme ids it names exist).
COLLECTIONS = (
    "projectCategories", "issueLinkTypes", "priorities", "prioritySchemes", "resolutions", "statuses",
    "issueTypes", "projectRoles", "groups", "users", "fields", "fieldContexts", "fieldOptions",
    "screens", "screenTabs", "screenTabFields", "fieldConfigurations", "fieldConfigurationItems",
    "fieldConfigurationSchemes", "screenSchemes", "issueTypeScreenSchemes", "issueTypeSchemes",
    "workflows", "workflowSchemes", "permissionSchemes", "notificationSchemes",
    "issueSecuritySchemes", "issueSecurityLevels", "issueSecurityLevelMembers", "projects",
    "components", "versions", "filters", "boards", "dashboards", "gadgets", "settings", "issues",
    # issue data beside the issues (issue_data.py): each record names its issue(s) in ``_issueId``/``_issueIds``
    "comments", "worklogs", "worklogDeletions", "attachments", "issueLinks",
)


class Store:
    """Thread-safe enough for a threaded dev server: one lock around every mutation."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.collections: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in COLLECTIONS}
        self._counters: dict[str, int] = {}
        # Derived look-ups (issue id -> record ids...) built on first use; they go when the store is replaced
        self.indexes: dict[str, Any] = {}
        # Attachment contents by attachment id (attachments.py: bytes in memory, a file beside a seed, or generated)
        self.blobs: dict[str, Any] = {}

    def next_id(self, kind: str, start: int = 10000) -> int:
        """A fresh numeric id for ``kind``; ids are never reused, as in Jira."""
        with self.lock:
            value = self._counters.get(kind, start) + 1
            self._counters[kind] = value
            return value

    def bump(self, kind: str, seen: int) -> None:
        """Make sure later ids of ``kind`` are above ``seen`` (used when seeding given ids)."""
        with self.lock:
            if self._counters.get(kind, 0) < seen:
                self._counters[kind] = seen

    def counter(self, kind: str) -> int | None:
        """The last id handed out (or bumped to) for ``kind``; None when none was."""
        with self.lock:
            return self._counters.get(kind)

    def coll(self, name: str) -> dict[str, dict[str, Any]]:
        return self.collections[name]

    def get(self, name: str, key: str | int) -> dict[str, Any] | None:
        return self.collections[name].get(str(key))

    def put(self, name: str, key: str | int, record: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.collections[name][str(key)] = record
        return record

    def delete(self, name: str, key: str | int) -> dict[str, Any] | None:
        with self.lock:
            return self.collections[name].pop(str(key), None)

    def values(self, name: str) -> Iterator[dict[str, Any]]:
        return iter(list(self.collections[name].values()))

    def find(self, name: str, **match: Any) -> dict[str, Any] | None:
        """The first record whose fields equal ``match`` (strings compared case-sensitively)."""
        for record in self.collections[name].values():
            if all(record.get(k) == v for k, v in match.items()):
                return record
        return None

    def find_name_ci(self, name: str, value: str, field: str = "name") -> dict[str, Any] | None:
        """The first record whose ``field`` equals ``value`` ignoring case (Jira's rule for most names)."""
        folded = value.casefold()
        for record in self.collections[name].values():
            if str(record.get(field, "")).casefold() == folded:
                return record
        return None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy({"collections": self.collections, "counters": self._counters})
