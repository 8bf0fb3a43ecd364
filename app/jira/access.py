"""Per-tenant access to Jira that picks, per operation, a credential allowed to call it.

The Connect JWT is used wherever the operation's Connect scope allows it; otherwise the first other credential
(an admin's OAuth 2.0 grant, a Forge token) whose scopes cover the operation. When none can, callers get a typed
``NeedsAuthorisation`` naming the fix, which previews and reports show as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .client import JiraClient
from .errors import NeedsAuthorisation
from .operations import Operation

AUTHORISE_FIX = ("Authorise full backup and restore on the Disaster recovery page (an administrator's consent "
                 "lets the app call the parts of Jira's API that Connect apps can't).")


@dataclass
class Credential:
    """One way of calling Jira: a client plus the rule saying which operations it may call."""

    name: str  # "connect", "oauth", "forge"
    client: JiraClient
    allows: Callable[[Operation], bool]


def connect_allows() -> Callable[[Operation], bool]:
    """Connect may call an operation unless the spec marks it INACCESSIBLE."""
    return lambda op: op.connect_allowed


def oauth_allows(granted_scopes: set[str]) -> Callable[[Operation], bool]:
    """An OAuth/Forge token may call an operation whose classic scopes it was granted."""
    return lambda op: op.oauth_scopes <= granted_scopes


class SiteAccess(Protocol):
    """What the domain receives to talk to one Jira site: a ``JiraAccess``, or a wrapper of one that adds a
    concern to its calls (the restore paces them, ``app.restore.pacing``; its executor counts writes)."""

    fix: str  # what an administrator does when no credential may call an operation

    def credential_for(self, op: Operation) -> Credential: ...

    def can_call(self, op: Operation) -> bool: ...

    def call(self, op: Operation, *, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
             json: Any = None, idempotent: bool | None = None) -> Any: ...

    def paginate(self, op: Operation, *, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
                 page_size: int = 50, body: dict[str, Any] | None = None, values_key: str = "values"
                 ) -> Iterator[Any]: ...

    @property
    def calls(self) -> int: ...

    @property
    def points(self) -> int: ...


class JiraAccess:
    """What the domain receives to talk to one Jira site; it knows nothing of Flask or Connect."""

    def __init__(self, credentials: list[Credential], *, fix: str = AUTHORISE_FIX) -> None:
        self.credentials = credentials
        self.fix = fix

    def credential_for(self, op: Operation) -> Credential:
        for credential in self.credentials:
            if credential.allows(op):
                return credential
        raise NeedsAuthorisation(op.method, op.template, self.fix)

    def can_call(self, op: Operation) -> bool:
        return any(c.allows(op) for c in self.credentials)

    def call(self, op: Operation, *, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
             json: Any = None, idempotent: bool | None = None) -> Any:
        client = self.credential_for(op).client
        return client.request(op.method, op.path(**(path or {})), params=params, json=json, idempotent=idempotent,
                              template=op.template)

    def paginate(self, op: Operation, *, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
                 page_size: int = 50, body: dict[str, Any] | None = None, values_key: str = "values"
                 ) -> Iterator[Any]:
        client = self.credential_for(op).client
        return client.paginate(op.path(**(path or {})), params, page_size=page_size, method=op.method, body=body,
                               values_key=values_key, template=op.template)

    @property
    def calls(self) -> int:
        """Requests sent so far through every credential (retries included)."""
        return sum(c.client.calls for c in self.credentials)

    @property
    def points(self) -> int:
        """Jira's points those requests cost (``app.quota.points``)."""
        return sum(c.client.points for c in self.credentials)
