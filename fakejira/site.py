"""One emulated Jira Cloud site: its identity, data store, installed apps and run-time knobs (limits, faults, log)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from .events import IssueEvents
from .limits import CallLog, Faults, Limits
from .registry import run_issue_event_hooks
from .store import Store
from .webhooks import WebhookDispatcher


@dataclass
class Installation:
    """An app installed on a site, as Jira remembers it after a successful ``installed`` callback."""

    app_key: str
    client_key: str
    shared_secret: str
    base_url: str  # the app's baseUrl from its descriptor
    descriptor: dict[str, Any]
    scopes: frozenset[str]
    enabled: bool = True
    app_account_id: str = ""  # the app's own user on the site (Jira creates one per installed app)
    oauth_client_id: str = ""  # the installed payload's ``oauthClientId`` (user impersonation); derived if empty

    def __post_init__(self) -> None:
        if not self.oauth_client_id:  # stable per site and app, like the clientKey
            self.oauth_client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"oauth-client/{self.client_key}/{self.app_key}"))

    @property
    def lifecycle(self) -> dict[str, str]:
        return dict(self.descriptor.get("lifecycle") or {})


class Site:
    def __init__(self, name: str, base_url: str = "", *, cloud_id: str | None = None) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.cloud_id = cloud_id or str(uuid.uuid4())
        self.store = Store()
        self.admins: set[str] = set()  # accountIds holding ADMINISTER
        self.extra: dict[str, Any] = {}
        self.installations: dict[str, Installation] = {}  # by app key
        self.client_keys: dict[str, str] = {}  # app key -> clientKey, stable across reinstalls as in Jira
        self.limits = Limits()
        self.faults = Faults()
        self.calls = CallLog()
        self.display_url = ""  # empty: same as base_url
        self.cloud: Any = None  # the Cloud hosting this site, set by Cloud.add_site
        self.issue_events = IssueEvents()  # changes to issue data (events.py): webhooks subscribe here
        self.webhooks = WebhookDispatcher(self)  # delivers the installed apps' descriptor webhooks (webhooks.py)
        self.issue_events.subscribe(self.webhooks.on_issue_event)  # every issue-data change becomes its webhook
        # then the resource modules' hooks (registry.on_issue_event): a deleted issue takes its comments along...
        self.issue_events.subscribe(functools.partial(run_issue_event_hooks, self))

    def installation_by_client_key(self, client_key: str) -> Installation | None:
        for inst in self.installations.values():
            if inst.client_key == client_key:
                return inst
        return None

    def client_key_for(self, app_key: str) -> str:
        """The clientKey this site uses for ``app_key``: minted once, kept across reinstalls."""
        if app_key not in self.client_keys:
            self.client_keys[app_key] = str(uuid.uuid4())
        return self.client_keys[app_key]

