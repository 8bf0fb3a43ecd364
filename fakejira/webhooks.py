"""Descriptor webhooks of installed Connect apps: who subscribes, the signed POST, retries, and test faults.

What Jira does (Atlassian's webhooks page, retry policy, and its 2019 announcement "New Jira Cloud webhook retry
policy"): a webhook is a POST to the app's ``baseUrl`` + the module's ``url``, signed with a Connect JWT (HS256 with
the installation's shared secret, ``qsh`` of the POST relative to the app's base URL);
``X-Atlassian-Webhook-Identifier`` is unique within the site and the same on every retry (the receiver's
de-duplication key); retried deliveries carry
``X-Atlassian-Webhook-Retry`` (the retry count); ``X-Atlassian-Webhook-Flow`` is ``Primary`` or ``Secondary`` (the
fallout of a cascade, e.g. an issue's comments when it is deleted). Retried on 408, 409, 425, 429, 5xx and on a
failed or timed-out connection, up to 5 times; other answers are final. Jira's waits between retries are minutes
(deliveries "up to 30 minutes" late); the emulator's are ``retry_delay`` seconds, drawn from a seeded RNG.

Test faults, all off by default and decided at ``emit`` time from a seeded RNG (one seed, one outcome): ``lose_rate``
(the delivery never happens), ``delay_rate`` + ``delay_seconds`` (it happens late), ``duplicate_rate`` (it happens
twice, same identifier). ``wait_idle()`` returns once nothing is queued or in flight.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt
import requests
from atlassian_jwt.url_utils import hash_url

if TYPE_CHECKING:  # pragma: no cover
    from .site import Installation, Site

ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
EVENTS = frozenset({
    *ISSUE_EVENTS,
    "comment_created", "comment_updated", "comment_deleted",
    "worklog_created", "worklog_updated", "worklog_deleted",
    "attachment_created", "attachment_deleted",
    "issuelink_created", "issuelink_deleted",
    "sprint_created", "sprint_updated", "sprint_started", "sprint_closed", "sprint_deleted",
})
FLOWS = ("Primary", "Secondary")
RETRY_STATUSES = frozenset({408, 409, 425, 429})  # and every 5xx
MAX_RETRIES = 5
TOKEN_TTL = 180
USER_AGENT = "Atlassian Webhook HTTP Client"


class WebhookError(ValueError):
    """A webhook request the emulator refuses: an unknown event, flow or knob value (says expected vs received)."""


@dataclass
class Knobs:
    """How deliveries behave; rates are probabilities per delivery, times are seconds."""

    seed: int = 0
    lose_rate: float = 0.0
    delay_rate: float = 0.0
    delay_seconds: float = 1.0
    duplicate_rate: float = 0.0
    retry_delay: tuple[float, float] = (0.05, 0.2)  # uniform wait before each retry (Jira: minutes)
    max_retries: int = MAX_RETRIES
    timeout: tuple[float, float] = (5.0, 20.0)  # connect, read

    def describe(self) -> dict[str, Any]:
        return {"seed": self.seed, "loseRate": self.lose_rate, "delayRate": self.delay_rate,
                "delaySeconds": self.delay_seconds, "duplicateRate": self.duplicate_rate,
                "retryDelay": list(self.retry_delay), "maxRetries": self.max_retries, "timeout": list(self.timeout)}


@dataclass
class Delivery:
    """One webhook on its way to one app (a duplicate is a second Delivery with the same identifier)."""

    identifier: str
    event: str
    app_key: str
    url: str
    body: dict[str, Any] | None  # None: the module says ``excludeBody``
    flow: str
    account_id: str | None
    retry: int = 0
    duplicate: bool = False
    delayed: bool = False


@dataclass
class Attempt:
    """One POST (or one lost delivery): ``outcome`` is delivered, retrying, failed, gave-up or lost."""

    identifier: str
    event: str
    app_key: str
    url: str
    retry: int
    status: int | None
    outcome: str
    duplicate: bool = False
    delayed: bool = False
    error: str = ""
    timestamp: float = field(default_factory=time.time)


def _retriable(status: int | None) -> bool:
    return status is None or status in RETRY_STATUSES or 500 <= status <= 599


def _qsh(method: str, app_base: str, url: str) -> str:
    """qsh of ``url`` relative to the app's base URL (its path prefix removed), as Connect computes it."""
    base_path = urlsplit(app_base).path.rstrip("/")
    parts = urlsplit(url)
    path = parts.path[len(base_path):] if base_path and parts.path.startswith(base_path) else parts.path
    return hash_url(method, f"{path or '/'}?{parts.query}" if parts.query else (path or "/"))


def sign(inst: Installation, url: str, account_id: str | None = None) -> str:
    """The Connect JWT Jira puts on a POST to the app: iss = clientKey, HS256 with the shared secret."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": inst.client_key, "iat": now, "exp": now + TOKEN_TTL,
                              "qsh": _qsh("POST", inst.base_url, url)}
    if account_id:
        claims["sub"] = account_id
    return jwt.encode(claims, inst.shared_secret, algorithm="HS256")


class WebhookDispatcher:
    """One site's webhook queue and its delivery thread (started on the first emit)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.knobs = Knobs()
        self.attempts: list[Attempt] = []
        self._faults_rng = random.Random(0)
        self._retry_rng = random.Random(1)
        self._queue: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._closing = False
        self._session = requests.Session()

    # -- knobs -----------------------------------------------------------------------------------------------
    def configure(self, *, seed: int | None = None, lose_rate: float | None = None, delay_rate: float | None = None,
                  delay_seconds: float | None = None, duplicate_rate: float | None = None,
                  retry_delay: tuple[float, float] | list[float] | None = None, max_retries: int | None = None,
                  timeout: tuple[float, float] | list[float] | None = None) -> Knobs:
        """Change some knobs (None keeps one); a ``seed`` restarts both RNGs, so the same seed gives the same run.

        :raises WebhookError: a rate outside 0..1, a negative time, a pair that isn't two numbers lo <= hi.
        """
        checked: dict[str, Any] = {}  # every value checked before any is applied: a bad one changes nothing
        for name, value in (("lose_rate", lose_rate), ("delay_rate", delay_rate), ("duplicate_rate", duplicate_rate)):
            if value is not None:
                checked[name] = _rate(name, value)
        if delay_seconds is not None:
            checked["delay_seconds"] = _seconds("delay_seconds", delay_seconds)
        if retry_delay is not None:
            checked["retry_delay"] = _pair("retry_delay", retry_delay, ordered=True)
        if timeout is not None:
            checked["timeout"] = _pair("timeout", timeout, ordered=False)
            if min(checked["timeout"]) <= 0:
                raise WebhookError(f"timeout must be two numbers of seconds > 0 [connect, read], not {timeout!r}")
        if max_retries is not None:
            if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
                raise WebhookError(f"max_retries must be an integer >= 0, not {max_retries!r}")
            checked["max_retries"] = max_retries
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise WebhookError(f"seed must be an integer, not {seed!r}")
        with self._cond:
            for name, value in checked.items():
                setattr(self.knobs, name, value)
            if seed is not None:
                self.knobs.seed = seed
                self._faults_rng = random.Random(seed)
                self._retry_rng = random.Random(seed + 1)
            return self.knobs

    def reset(self) -> None:
        """Knobs back to their defaults, queue and attempt log emptied (a delivery in flight still finishes)."""
        with self._cond:
            self.knobs = Knobs()
            self._faults_rng, self._retry_rng = random.Random(0), random.Random(1)
            self._queue.clear()
            self.attempts.clear()
            self._cond.notify_all()

    # -- emitting --------------------------------------------------------------------------------------------
    def subscribers(self, event: str) -> list[tuple[Installation, dict[str, Any]]]:
        """Enabled installations whose descriptor's ``modules.webhooks`` lists ``event`` (and which may READ)."""
        from .auth import connect_covers  # auth's scope rule; imported late: auth imports the site's types

        found = []
        for inst in list(self.site.installations.values()):
            if not inst.enabled or not connect_covers(inst.scopes, "READ"):
                continue
            for module in (inst.descriptor.get("modules") or {}).get("webhooks") or []:
                if isinstance(module, dict) and module.get("event") == event:
                    found.append((inst, module))
        return found

    def emit(self, event: str, payload: dict[str, Any], *, flow: str = "Primary",
             account_id: str | None = None) -> list[str]:
        """Queue ``event`` for every subscribed app; returns the identifiers (one per app; duplicates share one).

        ``payload`` holds the event's members (``issue``, ``comment``, ``user``, ``changelog``...); ``timestamp``
        and ``webhookEvent`` (and ``issue_event_type_name`` for issue events) are added. Never blocks: callers
        hold the store lock.
        """
        if event not in EVENTS:
            raise WebhookError(f"unknown webhook event {event!r}; expected one of {', '.join(sorted(EVENTS))}")
        if flow not in FLOWS:
            raise WebhookError(f"webhook flow must be Primary or Secondary, not {flow!r}")
        body = {"timestamp": int(time.time() * 1000), "webhookEvent": event, **payload}
        if event in ISSUE_EVENTS:
            body.setdefault("issue_event_type_name", event.removeprefix("jira:"))
        identifiers = []
        with self._cond:
            for inst, module in self.subscribers(event):
                identifier = str(uuid.uuid4())
                identifiers.append(identifier)
                url = inst.base_url.rstrip("/") + str(module.get("url", ""))
                delivery = Delivery(identifier, event, inst.app_key, url,
                                    None if module.get("excludeBody") else body, flow, account_id)
                self._schedule_new(delivery)
            self._ensure_thread()
        return identifiers

    def on_issue_event(self, event: Any) -> None:
        """Subscriber for ``site.issue_events`` (events.py): one issue-data change becomes its webhook.

        ``event.kind`` is the webhook name without ``jira:`` for issue events (``issue_created``) and as is for the
        others (``comment_created``...); ``event.details`` may carry the ``comment``, ``worklog``, ``attachment``
        or ``issueLink`` and a ``flow`` (``Secondary`` for the fallout of a cascade). Kinds without a webhook are
        ignored.
        """
        from .resources._common import user_ref  # late: resources import the site module that imports this one

        name = f"jira:{event.kind}" if f"jira:{event.kind}" in ISSUE_EVENTS else event.kind
        if name not in EVENTS:
            return
        issue = dict(event.issue or {})
        if "id" in issue:
            issue.setdefault("self", f"{self.site.base_url}/rest/api/2/issue/{issue['id']}")
        payload: dict[str, Any] = {"issue": issue if name in ISSUE_EVENTS else
                                   {k: issue[k] for k in ("id", "key", "self", "fields") if k in issue}}
        if name in ISSUE_EVENTS and event.changelog:
            payload["changelog"] = event.changelog
        payload.update({k: v for k, v in (event.details or {}).items()
                        if k in ("comment", "worklog", "attachment", "issueLink")})
        if event.actor:
            payload["user"] = user_ref(self.site, event.actor)
        self.emit(name, payload, flow=(event.details or {}).get("flow", "Primary"), account_id=event.actor)

    def _schedule_new(self, delivery: Delivery) -> None:
        """Decide the faults for one new delivery (three draws, always, so one seed gives one outcome)."""
        knobs, rng = self.knobs, self._faults_rng
        lost, late, twice = (rng.random() < knobs.lose_rate, rng.random() < knobs.delay_rate,
                             rng.random() < knobs.duplicate_rate)
        if lost:
            self.attempts.append(Attempt(delivery.identifier, delivery.event, delivery.app_key, delivery.url, 0,
                                         None, "lost"))
            return
        due = time.monotonic() + (knobs.delay_seconds if late else 0.0)
        delivery.delayed = late
        self._push(due, delivery)
        if twice:
            copy = Delivery(**{**asdict(delivery), "duplicate": True})
            self._push(due, copy)

    def _push(self, due: float, delivery: Delivery) -> None:
        heapq.heappush(self._queue, (due, next(self._order), delivery))
        self._cond.notify_all()

    # -- waiting and stopping --------------------------------------------------------------------------------
    def pending(self) -> int:
        """Deliveries queued (late ones and scheduled retries included) or being sent."""
        with self._cond:
            return len(self._queue) + self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery, late or retried, has been sent or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self) -> None:
        """Stop the delivery thread (queued deliveries stay queued; the next emit starts a new thread)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._cond:
            self._closing = False
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=f"fakejira-webhooks-{self.site.name}",
                                            daemon=True)
            self._thread.start()

    # -- delivering ------------------------------------------------------------------------------------------
    def _next_due(self) -> Delivery | None:
        """The next delivery once it is due; None when closing. Caller holds the condition."""
        while not self._closing:
            if not self._queue:
                self._cond.wait()
                continue
            due = self._queue[0][0]
            now = time.monotonic()
            if due > now:
                self._cond.wait(due - now)
                continue
            self._in_flight += 1
            return heapq.heappop(self._queue)[2]
        return None

    def _run(self) -> None:
        while True:
            with self._cond:
                delivery = self._next_due()
            if delivery is None:
                return
            attempt: Attempt | None = None
            try:
                attempt = self._send(delivery)
            finally:
                with self._cond:  # logged and re-queued before it stops counting as in flight: wait_idle sees it
                    if attempt is not None:
                        self.attempts.append(attempt)
                        if attempt.outcome == "retrying":
                            low, high = self.knobs.retry_delay
                            delivery.retry += 1
                            self._push(time.monotonic() + self._retry_rng.uniform(low, high), delivery)
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _send(self, delivery: Delivery) -> Attempt:
        inst = self.site.installations.get(delivery.app_key)
        attempt = Attempt(delivery.identifier, delivery.event, delivery.app_key, delivery.url, delivery.retry,
                          None, "failed", delivery.duplicate, delivery.delayed)
        if inst is None or not inst.enabled:  # uninstalled or disabled meanwhile: Jira drops what it still holds
            attempt.error = "the app is no longer installed and enabled"
            return attempt
        headers = {"Authorization": f"JWT {sign(inst, delivery.url, delivery.account_id)}",
                   "X-Atlassian-Webhook-Identifier": delivery.identifier,
                   "X-Atlassian-Webhook-Flow": delivery.flow, "User-Agent": USER_AGENT}
        if delivery.retry:
            headers["X-Atlassian-Webhook-Retry"] = str(delivery.retry)
        data = None
        if delivery.body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(delivery.body).encode()
        try:
            response = self._session.post(delivery.url, data=data, headers=headers, timeout=self.knobs.timeout,
                                          allow_redirects=False)
            attempt.status = response.status_code
        except requests.RequestException as exc:
            attempt.error = exc.__class__.__name__  # never the URL's query or the token
        if attempt.status is not None and 200 <= attempt.status < 300:
            attempt.outcome = "delivered"
        elif _retriable(attempt.status):
            attempt.outcome = "retrying" if delivery.retry < self.knobs.max_retries else "gave-up"
        return attempt

    def log(self) -> list[dict[str, Any]]:
        """The attempt log as JSON-ready dicts, in order."""
        with self._cond:
            return [asdict(a) for a in self.attempts]


def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise WebhookError(f"{name} must be a probability between 0 and 1, not {value!r}")
    return float(value)


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise WebhookError(f"{name} must be a number of seconds >= 0, not {value!r}")
    return float(value)


def _pair(name: str, value: Any, *, ordered: bool) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise WebhookError(f"{name} must be two numbers of seconds, not {value!r}")
    low, high = _seconds(name, value[0]), _seconds(name, value[1])
    if ordered and low > high:
        raise WebhookError(f"{name} must be [low, high] with low <= high, not {value!r}")
    return low, high
