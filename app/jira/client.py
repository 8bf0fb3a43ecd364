"""The Jira REST client: timeouts, retries that respect Jira's rate limits, pagination, typed errors.

Authentication is a ``requests.auth.AuthBase`` supplied by the caller, so the same client serves Connect JWT,
OAuth 2.0 bearer tokens and Forge tokens.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from ..quota.points import answer_body, cost, estimate, is_read, template_of
from .errors import JiraError, JiraUnavailable, RateLimited

log = logging.getLogger("app.jira")

NOT_KEPT: Any = object()  # what a ReadCache answers for a read it doesn't hold


class ReadCache(Protocol):
    """Where a job keeps the answers of its reads (``app.jobs.journal.ReadJournal``)."""

    def lookup(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any) -> Any: ...

    def keep(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any, raw: bytes) -> None: ...

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """Atlassian's advice: honour Retry-After; otherwise back off ~5 s doubling to 30 s, jitter x0.7-1.3, 4 retries."""

    max_retries: int = 4
    base_delay: float = 5.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0  # a longer wait than this fails the call (the job can reschedule)
    jitter: tuple[float, float] = (0.7, 1.3)

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * (2 ** attempt))
        return delay * random.uniform(*self.jitter)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class JiraClient:
    """Calls one Jira site. ``base_url`` is what paths are appended to (a site URL or an OAuth gateway URL)."""

    def __init__(self, base_url: str, auth: requests.auth.AuthBase | None, *,
                 session: requests.Session | None = None, timeout: tuple[float, float] = (5.0, 30.0),
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 label: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.session = session or _session_for(self.base_url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.label = label
        self.calls = 0  # requests actually sent, retries included
        self.points = 0  # Jira's points these requests cost (see ``app.quota.points``)
        # Optional: answers of reads kept by a job so a later attempt replays them (see ``ReadCache``).
        self.read_cache: ReadCache | None = None
        # Where each request draws its points from and what counts them: the job's scope when the client is made
        # inside one (every thread the job fans out to uses this client, so it is decided here, once).
        self.quota = ClientQuota.for_client(self.base_url)

    # -- single requests -------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
                idempotent: bool | None = None, expect_json: bool = True, template: str | None = None) -> Any:
        """Send one logical request, retrying where it is safe; return the parsed JSON (or None).

        A POST is retried only on 429 (Jira did not process it) unless ``idempotent=True`` says it is a read.
        Every attempt first draws its points from the quota (``template``, the operation's path template, names the
        endpoint in the figures); a draw that can't be served soon raises ``RateLimited`` as Jira's 429 would.
        """
        method = method.upper()
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        safe_to_repeat = idempotent if idempotent is not None else method in IDEMPOTENT
        cache = self.read_cache if expect_json and (method == "GET" or idempotent is True) else None
        if cache is not None:
            kept = cache.lookup(method, url, params, json)
            if kept is not NOT_KEPT:
                return kept
        attempt = 0
        route = self._path(url)
        endpoint = template or template_of(route)
        while True:
            ticket = self.quota.draw(method, route, endpoint, params, self.retry.max_retry_after) \
                if self.quota is not None else None
            started = time.monotonic()
            try:
                resp = self.session.request(method, url, params=params, json=json, auth=self.auth,
                                            timeout=self.timeout, allow_redirects=False)
            except requests.ConnectionError as exc:
                self._charge(ticket, method, endpoint, 0)  # Jira charges answers: a dropped call cost nothing
                self.calls += 1
                self._log(method, url, "connection-error", started)
                # A refused connection never reached Jira; anything else might have.
                never_sent = isinstance(exc, requests.ConnectTimeout) or "Connection refused" in str(exc)
                if (safe_to_repeat or never_sent) and attempt < self.retry.max_retries:
                    self.sleep(self.retry.backoff(attempt))
                    attempt += 1
                    continue
                raise JiraUnavailable(method, self._path(url), 0, {"errorMessages": [str(type(exc).__name__)]}) \
                    from None
            except requests.Timeout:
                self._charge(ticket, method, endpoint, 0)
                self.calls += 1
                self._log(method, url, "timeout", started)
                if safe_to_repeat and attempt < self.retry.max_retries:
                    self.sleep(self.retry.backoff(attempt))
                    attempt += 1
                    continue
                raise JiraUnavailable(method, self._path(url), 0, {"errorMessages": ["timed out"]}) from None
            self.calls += 1
            self._log(method, url, resp.status_code, started)
            points, parsed = _counted(method, route, resp)
            self._charge(ticket, method, endpoint, points)
            if self.quota is not None:
                self.quota.learn(resp.headers)
            if resp.status_code < 400:
                if not expect_json or resp.status_code == 204 or not resp.content:
                    return None
                try:
                    answer = resp.json() if parsed is NOT_PARSED else parsed
                except ValueError:
                    raise JiraError(method, self._path(url), resp.status_code,
                                    {"errorMessages": ["Jira answered with a body that is not JSON"]}) from None
                if cache is not None:
                    cache.keep(method, url, params, json, resp.content)
                return answer
            body = _body(resp)
            wait = parse_retry_after(resp.headers.get("Retry-After"))
            if resp.status_code == 429 or (resp.status_code == 503 and wait is not None):
                retryable = resp.status_code == 429 or safe_to_repeat
                if not retryable or attempt >= self.retry.max_retries:
                    raise RateLimited(method, self._path(url), wait, body)
                if wait is None:
                    wait = self.retry.backoff(attempt)
                if wait > self.retry.max_retry_after:
                    raise RateLimited(method, self._path(url), wait, body)
                self.sleep(wait)
                attempt += 1
                continue
            if resp.status_code >= 500 and safe_to_repeat and attempt < self.retry.max_retries:
                self.sleep(self.retry.backoff(attempt))
                attempt += 1
                continue
            if resp.status_code >= 500:
                raise JiraUnavailable(method, self._path(url), resp.status_code, body)
            raise JiraError(method, self._path(url), resp.status_code, body)

    def get(self, path: str, params: dict[str, Any] | None = None, *, template: str | None = None) -> Any:
        return self.request("GET", path, params=params, template=template)

    def post(self, path: str, json: Any = None, *, params: dict[str, Any] | None = None,
             idempotent: bool | None = None) -> Any:
        return self.request("POST", path, params=params, json=json, idempotent=idempotent)

    def put(self, path: str, json: Any = None, *, params: dict[str, Any] | None = None) -> Any:
        return self.request("PUT", path, params=params, json=json)

    def delete(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        return self.request("DELETE", path, params=params)

    # -- pagination ------------------------------------------------------------------------------------

    def paginate(self, path: str, params: dict[str, Any] | None = None, *, page_size: int = 50,
                 method: str = "GET", body: dict[str, Any] | None = None, values_key: str = "values",
                 template: str | None = None) -> Iterator[Any]:
        """Items of a PageBean endpoint (``startAt``/``maxResults``/``total``/``isLast``/``values``).

        Stops on ``isLast``, on ``startAt + len >= total``, or on an empty page; never trusts one alone,
        since Jira's pages may come back shorter than asked (page-size caps).
        """
        start = 0
        while True:
            query = dict(params or {}, startAt=start, maxResults=page_size)
            if method == "GET":
                page = self.get(path, query, template=template)
            else:
                page = self.request(method, path, params=query, json=body, idempotent=True, template=template)
            values = (page or {}).get(values_key) or []
            yield from values
            start += len(values)
            total = page.get("total") if isinstance(page, dict) else None
            if not values or page.get("isLast") is True:
                return
            if page.get("isLast") is None and total is not None and start >= total:
                return

    # -- helpers ---------------------------------------------------------------------------------------

    def _charge(self, ticket: Any, method: str, endpoint: str, points: int) -> None:
        """Count an attempt's points here and in the job's meter, and correct its draw from the quota."""
        self.points += points
        if self.quota is not None:
            self.quota.charged(ticket, method, endpoint, points)

    def _path(self, url: str) -> str:
        return urlsplit(url).path

    def _log(self, method: str, url: str, status: Any, started: float) -> None:
        # Method, path, status and duration only: never the query (it may carry a jwt) nor headers.
        log.info("jira %s%s %s -> %s in %.0f ms", f"[{self.label}] " if self.label else "", method,
                 self._path(url), status, (time.monotonic() - started) * 1000)


def _session_for(base_url: str) -> requests.Session:
    """A session with the environment's proxy and CA settings for ``base_url`` resolved once: by default requests
    re-reads them from ``os.environ`` on every request, a measurable share of a backup's CPU over thousands of calls.
    Every request of a client goes to the one site, so resolving them for its base URL is the same answer."""
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


class ClientQuota:
    """A client's side of the quota: the ledger key and priority it draws at, the budget, the job's meter."""

    def __init__(self, budget: Any, scope: Any) -> None:
        self.budget = budget
        self.scope = scope

    @classmethod
    def for_client(cls, base_url: str) -> ClientQuota | None:
        """The current job's scope (or the site's, as a page's call) and the app's budget; None outside an app."""
        from ..quota.budget import current_budget
        from ..quota.priorities import Priority, QuotaScope, current_scope

        budget = current_budget()
        scope = current_scope() or QuotaScope("site:" + base_url[-56:], Priority.INTERACTIVE)
        if budget is None and scope.meter is None:
            return None
        return cls(budget, scope)

    def draw(self, method: str, route: str, endpoint: str, params: dict[str, Any] | None, max_wait: float) -> Any:
        if self.budget is None:
            return None
        points = estimate(method, route, params, self.budget.last_cost(f"{method} {endpoint}"))
        from ..quota.ledger import QuotaExhausted

        try:
            return self.budget.before(self.scope.key, self.scope.priority, points, max_wait)
        except QuotaExhausted as exc:
            raise RateLimited(method, route, exc.retry_after,
                              {"errorMessages": [f"Not sent: {exc.reason} (the app's quota ledger)."]}) from None

    def charged(self, ticket: Any, method: str, endpoint: str, points: int) -> None:
        if self.scope.meter is not None:
            self.scope.meter.record(method, endpoint, points)
        if self.budget is not None:
            if points:
                self.budget.remember_cost(f"{method} {endpoint}", points)
            self.budget.after(ticket, self.scope.key, points)

    def learn(self, headers: Any) -> None:
        if self.budget is not None:
            self.budget.learn_from_headers(self.scope.key, headers)


NOT_PARSED: Any = object()


def _counted(method: str, route: str, resp: requests.Response) -> tuple[int, Any]:
    """The points an answer cost, and its JSON when counting a read's objects had to parse it (else ``NOT_PARSED``)."""
    if not is_read(method, route) or resp.status_code >= 500:
        return cost(method, route, resp.status_code, None), NOT_PARSED
    content_type = resp.headers.get("Content-Type") or ""
    if "json" in content_type and resp.content:
        try:
            body = resp.json()
        except ValueError:
            return cost(method, route, resp.status_code, {}), NOT_PARSED
        return cost(method, route, resp.status_code, body), body
    return cost(method, route, resp.status_code, answer_body(resp.content, content_type)), NOT_PARSED


def _body(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return {"errorMessages": [resp.text[:500]]} if resp.text else None
