"""A site's issue events: the one place a change to issue data is announced (the changelog writer, webhooks).

Handlers subscribe with ``site.issue_events.subscribe(fn)``; every create, edit, transition and delete calls
``emit(kind, issue, ...)`` once the store holds the change. ``kind`` is Jira's webhook event name without the
``jira:`` prefix (``issue_created``, ``issue_updated``, ``issue_deleted``); later parts add ``comment_created`` and
the like through the same call. A subscriber that raises never undoes the change: its error is kept in ``failures``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class IssueEvent:
    """One change to issue data, as subscribers see it (the issue is the stored record's public view)."""

    kind: str
    issue: dict[str, Any]
    actor: str | None = None  # accountId of the user (or app user) that made the change
    changelog: dict[str, Any] | None = None  # the history entry written for an update, if any
    details: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[IssueEvent], None]


class IssueEvents:
    """Subscribers to a site's issue events, called in subscription order on the thread that made the change."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self.failures: list[tuple[str, str]] = []  # (event kind, repr of the subscriber's exception)

    def subscribe(self, fn: Subscriber) -> Subscriber:
        with self._lock:
            self._subscribers.append(fn)
        return fn

    def unsubscribe(self, fn: Subscriber) -> None:
        with self._lock:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

    def emit(self, kind: str, issue: dict[str, Any], *, actor: str | None = None,
             changelog: dict[str, Any] | None = None, **details: Any) -> IssueEvent:
        """Announce one change to every subscriber; returns the event."""
        event = IssueEvent(kind, issue, actor, changelog, dict(details))
        with self._lock:
            subscribers = list(self._subscribers)
        for fn in subscribers:
            try:
                fn(event)
            except Exception as exc:
                self.failures.append((kind, repr(exc)))
        return event
