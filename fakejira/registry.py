"""The emulator's extension points: request handlers, site defaults, seed loaders and exporters.

Resource modules (``fakejira/resources/*.py``) register themselves here at import time;
the WSGI pipeline (``app.py``) only ever looks things up here, so the two never import each other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.datastructures import MultiDict

    from .site import Site


class JiraError(Exception):
    """An error answered the way Jira answers it: ``{"errorMessages": [...], "errors": {...}}``."""

    def __init__(self, status: int, *messages: str, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, messages, errors)
        self.status = status
        self.error_messages = list(messages)
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.error_messages, "errors": self.errors}


def bad_request(*messages: str, errors: dict[str, str] | None = None) -> JiraError:
    return JiraError(400, *messages, errors=errors)


def not_found(message: str) -> JiraError:
    return JiraError(404, message)


@dataclass
class Reply:
    """A handler's answer when it is not a plain 200 with a JSON body."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RawBody:
    """A non-JSON answer (attachment bytes): ``chunks`` are streamed as they come, never joined in memory."""

    chunks: Any  # an iterable of bytes
    mime_type: str = "application/octet-stream"
    length: int | None = None


@dataclass
class Multipart:
    """A ``multipart/form-data`` request body as the pipeline parsed it (werkzeug's spooled files and form)."""

    files: Any  # the ``file`` parts, in order: ``attachments.Upload`` (file name, mime type, the spooled bytes)
    form: Any  # MultiDict of str: the non-file parts
    headers: Any  # the request's headers (X-Atlassian-Token...)


@dataclass
class Ctx:
    """Everything a handler may look at: the site, the matched path parameters, query and body."""

    site: Site
    method: str
    path: str
    path_params: dict[str, str]
    query: MultiDict
    body: Any
    account_id: str | None  # the acting user (OAuth/user tokens); None for an app acting as itself
    auth_kind: str  # "connect", "oauth", "forge", "anonymous"
    headers: Any = None  # the request's headers (``Range`` of a download); None outside the pipeline
    app_key: str | None = None  # the calling Connect app (also when it acts as a user); None for OAuth/Forge

    def __post_init__(self) -> None:
        _CURRENT.ctx = self

    def arg(self, name: str, default: Any = None) -> Any:
        return self.query.get(name, default)

    def int_arg(self, name: str, default: int) -> int:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f"The value '{raw}' is invalid for parameter '{name}'.") from None

    def list_arg(self, name: str) -> list[str]:
        """Values of a repeated or comma-separated parameter (Jira accepts both)."""
        out: list[str] = []
        for raw in self.query.getlist(name):
            out.extend(v for v in raw.split(",") if v != "")
        return out


_CURRENT = threading.local()


def current_ctx() -> Ctx | None:
    """The request this thread is answering (the last Ctx made on it), for renderers that take no Ctx: an issue's
    ``comment`` field hides restricted comments from readers outside their visibility, ``watches`` says whether the
    caller watches. None on a thread that never handled a request."""
    return getattr(_CURRENT, "ctx", None)


Handler = Callable[[Ctx], Any]

HANDLERS: dict[tuple[str, str], Handler] = {}
DEFAULTS: list[Callable[[Site], None]] = []
SEEDERS: dict[str, Callable[[Site, Any], None]] = {}
EXPORTERS: dict[str, Callable[[Site], Any]] = {}
SEED_AFTER: dict[str, tuple[str, ...]] = {}
OMIT_EMPTY: set[str] = set()  # seed keys an export leaves out when empty (issue data: configuration seeds lack it)
# fn(site, IssueEvent) run on every issue event after the webhooks saw it (cascades: a deleted issue's comments...)
ISSUE_EVENT_HOOKS: list[Callable[[Site, Any], None]] = []


def handles(method: str, path_template: str) -> Callable[[Handler], Handler]:
    """Register a handler for an operation; ``path_template`` is the spec's path, e.g. ``/rest/api/3/role/{id}``."""

    def register(fn: Handler) -> Handler:
        key = (method.upper(), path_template)
        if key in HANDLERS:
            raise RuntimeError(f"two handlers for {key}")
        HANDLERS[key] = fn
        return fn

    return register


def site_defaults(fn: Callable[[Site], None]) -> Callable[[Site], None]:
    """Register a function that puts what a brand-new Jira site has into a fresh site."""
    DEFAULTS.append(fn)
    return fn


def seed_type(name: str, *, exporter: Callable[[Site], Any], after: tuple[str, ...] = (),
              omit_empty: bool = False) -> Callable[[Callable[[Site, Any], None]], Any]:
    """Register the seed loader (and its exporter) for one top-level key of the seed document.

    ``after`` names the keys whose records this key references; seeding loads those first. ``omit_empty`` leaves
    the key out of an export when its value is empty (so seeds written before the key existed still round-trip).
    """

    def register(fn: Callable[[Site, Any], None]) -> Callable[[Site, Any], None]:
        if name in SEEDERS:
            raise RuntimeError(f"two seeders for {name}")
        SEEDERS[name] = fn
        EXPORTERS[name] = exporter
        SEED_AFTER[name] = tuple(after)
        if omit_empty:
            OMIT_EMPTY.add(name)
        return fn

    return register


def on_issue_event(fn: Callable[[Site, Any], None]) -> Callable[[Site, Any], None]:
    """Register ``fn(site, event)`` for every site's issue events (``events.py``), after the webhooks."""
    ISSUE_EVENT_HOOKS.append(fn)
    return fn


def run_issue_event_hooks(site: Site, event: Any) -> None:
    """Call the registered hooks for one event (a site subscribes this to its ``issue_events``)."""
    for hook in list(ISSUE_EVENT_HOOKS):
        hook(site, event)
