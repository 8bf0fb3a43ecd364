"""Per-site rate limits (hourly points quota, per-endpoint burst bucket), latency, injected faults and the call log.

All of it is off by default. Rate-limit answers copy Jira Cloud's 2026 behaviour: 429 with ``Retry-After`` (seconds),
``X-RateLimit-Reset`` (``yyyy-MM-ddTHH:mmZ``), ``X-RateLimit-Limit``/``-Remaining`` and ``RateLimit-Reason``
(``jira-burst-based`` for the per-second limit, ``jira-quota-tenant-based`` for the hourly points quota, as observed
on real tenants in March 2026 together with ``Beta-RateLimit-Policy: "tenant-app-quota";q=...;w=3600``).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .registry import RawBody

BURST_REASON = "jira-burst-based"
QUOTA_REASON = "jira-quota-tenant-based"
PER_ISSUE_REASON = "jira-per-issue-on-write"  # writes to one issue faster than Jira allows
# POST operations that read (a search, a bulk fetch): charged per returned object like GETs
READ_POSTS = frozenset({"/rest/api/3/search/jql", "/rest/api/3/issue/bulkfetch", "/rest/api/3/changelog/bulkfetch",
                        "/rest/api/3/search/approximate-count", "/rest/api/3/comment/list",
                        "/rest/api/3/worklog/list"})
ATTACHMENT_MAX_BYTES = 1 << 30  # Jira Cloud's default upload limit per file (1 GB; admins may raise it to 2 GB)
# Jira Cloud's per-issue limits on issue data (413 beyond them); tests lower them through ``configure(issue_caps=)``
ISSUE_CAPS = {"comments": 5000, "worklogs": 10000, "attachments": 2000, "issueLinks": 2000}


def reset_header(now: float, retry_after: int) -> str:
    """``X-RateLimit-Reset``: request time plus ``Retry-After``, in Jira's ``yyyy-MM-ddTHH:mmZ`` form."""
    return datetime.fromtimestamp(now + retry_after, UTC).strftime("%Y-%m-%dT%H:%MZ")


def count_objects(body: Any) -> int:
    """How many objects a read returned: a page's ``values``, a bare list's items, or 1 for one object (an
    attachment's bytes count as one)."""
    if isinstance(body, RawBody):
        return 1
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for key in ("values", "issues", "issueChangeLogs", "histories", "comments", "worklogs", "watchers", "voters"):
            if isinstance(body.get(key), list):
                return len(body[key])
        return 1
    return 0


@dataclass
class CostRule:
    """The points a request costs: ``base`` for every request, plus ``per_object`` per returned object on reads.

    Jira doesn't publish its exact table; this is the documented shape ("1 point plus per-object points on
    reads"), explicit so tests can reason about it. Replace ``cost`` for anything finer.
    """

    base: int = 1
    per_object: int = 1
    read_methods: tuple[str, ...] = ("GET",)

    def cost(self, method: str, template: str | None, body: Any) -> int:
        if method.upper() in self.read_methods or (method.upper() == "POST" and template in READ_POSTS):
            return self.base + self.per_object * count_objects(body)
        return self.base


@dataclass
class RateLimited:
    """A 429 decision: which limit, how long to wait, and the headers to send."""

    reason: str
    retry_after: int
    limit: int
    headers: dict[str, str]


@dataclass
class _Bucket:
    tokens: float
    last: float


class Limits:
    """One site's latency, points quota and burst buckets. Everything is off until configured."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.latency = 0.0  # seconds: the least time an answer takes (the emulator's own work counts toward it)
        self.quota: int | None = None  # points per window; None = unlimited
        self.window = 3600  # seconds; windows are aligned to the clock, as Jira resets at the top of the hour
        self.cost_rule = CostRule()
        self.burst_rate: float | None = None  # tokens per second per endpoint+method; None = unlimited
        self.burst_capacity: float = 1.0
        self.max_body_bytes = 10 * 1024 * 1024
        self._lock = threading.Lock()
        self._used = 0
        self._window_start: float | None = None
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        # The per-issue write limit: at most ``per_issue_writes`` writes to one issue per ``per_issue_window``
        # seconds (sliding); None = off. Jira doesn't publish its numbers, so tests set their own.
        self.per_issue_writes: int | None = None
        self.per_issue_window = 1.0
        self._issue_writes: dict[str, list[float]] = {}
        self.attachment_max_bytes = ATTACHMENT_MAX_BYTES  # GET /attachment/meta uploadLimit; larger files: 413
        self.issue_caps = dict(ISSUE_CAPS)
        # Points charged per "METHOD template" since the last clear, whatever the quota: benchmarks read where
        # the points go (control API ``GET /_emulator/points``) without wrapping ``charge`` in-process.
        self._points: Counter[str] = Counter()

    def configure(self, *, latency: float | None = None, quota: int | None = None, window: int | None = None,
                  burst_rate: float | None = None, burst_capacity: float | None = None,
                  cost_rule: CostRule | None = None, max_body_bytes: int | None = None,
                  per_issue_writes: int | None = None, per_issue_window: float | None = None,
                  attachment_max_bytes: int | None = None, issue_caps: dict[str, int] | None = None) -> Limits:
        """Set the given knobs (leave others as they are); returns self for chaining."""
        with self._lock:
            if latency is not None:
                self.latency = latency
            if quota is not None:
                self.quota = quota
            if window is not None:
                self.window = window
            if burst_rate is not None:
                self.burst_rate = burst_rate
            if burst_capacity is not None:
                self.burst_capacity = burst_capacity
            if cost_rule is not None:
                self.cost_rule = cost_rule
            if max_body_bytes is not None:
                self.max_body_bytes = max_body_bytes
            if per_issue_writes is not None:
                self.per_issue_writes = per_issue_writes
            if per_issue_window is not None:
                self.per_issue_window = per_issue_window
            if attachment_max_bytes is not None:
                self.attachment_max_bytes = attachment_max_bytes
            if issue_caps is not None:
                unknown = sorted(set(issue_caps) - set(ISSUE_CAPS))
                if unknown:
                    raise ValueError(f"unknown issue caps {unknown}; expected some of {sorted(ISSUE_CAPS)}")
                self.issue_caps.update(issue_caps)
        return self

    def reset(self) -> None:
        """Everything off and all counters cleared."""
        with self._lock:
            self.latency, self.quota, self.burst_rate, self.burst_capacity = 0.0, None, None, 1.0
            self.window, self.cost_rule = 3600, CostRule()
            self._used, self._window_start, self._buckets = 0, None, {}
            self.per_issue_writes, self.per_issue_window, self._issue_writes = None, 1.0, {}
            self.attachment_max_bytes, self.issue_caps = ATTACHMENT_MAX_BYTES, dict(ISSUE_CAPS)
            self._points.clear()

    def describe(self) -> dict[str, Any]:
        return {"latency": self.latency, "quota": self.quota, "window": self.window, "used": self.used(),
                "burstRate": self.burst_rate, "burstCapacity": self.burst_capacity,
                "cost": asdict(self.cost_rule), "maxBodyBytes": self.max_body_bytes,
                "perIssueWrites": self.per_issue_writes, "perIssueWindow": self.per_issue_window,
                "attachmentMaxBytes": self.attachment_max_bytes, "issueCaps": dict(self.issue_caps)}

    # -- quota ---------------------------------------------------------------------------------------------
    def _roll_window(self, now: float) -> float:
        start = math.floor(now / self.window) * self.window
        if self._window_start != start:
            self._window_start, self._used = start, 0
        return start

    def refill(self) -> None:
        """The hourly quota full again at once, as when the window turns (benchmarks skip an hour's wait with it)."""
        with self._lock:
            self._used = 0

    def used(self) -> int:
        with self._lock:
            if self._window_start is not None:
                self._roll_window(self.clock())
            return self._used

    def charge(self, method: str, template: str | None, body: Any) -> int:
        """Charge the points of an answered request to the quota; returns the cost."""
        cost = self.cost_rule.cost(method, template, body)
        with self._lock:
            self._roll_window(self.clock())
            self._used += cost
            self._points[f"{method} {template}"] += cost
        return cost

    def points(self) -> Counter[str]:
        """A copy of the points charged per ``"METHOD template"`` since the last ``clear_points``/``reset``."""
        with self._lock:
            return Counter(self._points)

    def clear_points(self) -> None:
        with self._lock:
            self._points.clear()

    def quota_headers(self) -> dict[str, str]:
        """Headers every answer carries while a quota is configured (policy and near-limit warning)."""
        if self.quota is None:
            return {}
        remaining = max(0, self.quota - self.used())
        headers = {"Beta-RateLimit-Policy": f'"tenant-app-quota";q={self.quota};w={self.window}'}
        if remaining < 0.2 * self.quota:
            headers["X-RateLimit-NearLimit"] = "true"
        return headers

    # -- the check before a request ------------------------------------------------------------------------
    def check(self, method: str, template: str) -> RateLimited | None:
        """Decide whether this request is refused with a 429 (quota first, then the burst bucket)."""
        now = self.clock()
        with self._lock:
            if self.quota is not None:
                start = self._roll_window(now)
                if self._used >= self.quota:
                    wait = max(1, math.ceil(start + self.window - now))
                    return self._refusal(QUOTA_REASON, wait, self.quota, now, {
                        "Beta-RateLimit-Policy": f'"tenant-app-quota";q={self.quota};w={self.window}'})
            if self.burst_rate is not None:
                return self._take_token((method.upper(), template), now)
        return None

    def check_issue_write(self, issue_id: str) -> RateLimited | None:
        """Decide whether one more write to issue ``issue_id`` is refused (``jira-per-issue-on-write``)."""
        if self.per_issue_writes is None:
            return None
        now = self.clock()
        with self._lock:
            recent = [t for t in self._issue_writes.get(issue_id, []) if t > now - self.per_issue_window]
            if len(recent) >= self.per_issue_writes:
                self._issue_writes[issue_id] = recent
                wait = max(1, math.ceil(recent[0] + self.per_issue_window - now))
                return self._refusal(PER_ISSUE_REASON, wait, self.per_issue_writes, now, {})
            self._issue_writes[issue_id] = [*recent, now]
        return None

    def _take_token(self, key: tuple[str, str], now: float) -> RateLimited | None:
        rate, capacity = self.burst_rate or 0.0, max(1.0, self.burst_capacity)
        bucket = self._buckets.setdefault(key, _Bucket(tokens=capacity, last=now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.last) * rate)
        bucket.last = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        wait = max(1, math.ceil((1.0 - bucket.tokens) / rate)) if rate > 0 else self.window
        return self._refusal(BURST_REASON, wait, int(capacity), now, {})

    @staticmethod
    def _refusal(reason: str, wait: int, limit: int, now: float, extra: dict[str, str]) -> RateLimited:
        headers = {"Retry-After": str(wait), "X-RateLimit-Reset": reset_header(now, wait),
                   "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                   "X-RateLimit-NearLimit": "true", "RateLimit-Reason": reason, **extra}
        return RateLimited(reason=reason, retry_after=wait, limit=limit, headers=headers)


# -- faults --------------------------------------------------------------------------------------------------
@dataclass
class FaultRule:
    """One injected failure: a 5xx or a timeout, on a random share of calls or on the Nth matching call.

    ``status`` is 500, 502, 503 or 504; ``timeout=True`` hangs ``hang`` seconds and then either drops the
    connection without an answer (``drop=True``) or answers 504 as the edge proxy does.
    """

    status: int = 503
    rate: float = 0.0
    nth: int | None = None
    method: str | None = None
    template: str | None = None
    retry_after: int | None = None
    timeout: bool = False
    hang: float = 0.0
    drop: bool = True
    times: int | None = None  # stop after firing this often; None = no limit
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, template: str | None) -> bool:
        return ((self.method is None or self.method.upper() == method.upper())
                and (self.template is None or self.template == template))


class Faults:
    """The fault rules of one site with a seeded RNG, so a failing run can be replayed."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self.rng = random.Random(seed)
        self._lock = threading.Lock()

    def seed(self, seed: int) -> None:
        with self._lock:
            self.rng = random.Random(seed)

    def add(self, status: int = 503, *, rate: float = 0.0, nth: int | None = None, method: str | None = None,
            template: str | None = None, retry_after: int | None = None, times: int | None = None) -> FaultRule:
        """Answer ``status`` (500/502/503/504) on a share ``rate`` of matching calls, or on the ``nth`` one."""
        if status not in (500, 502, 503, 504):
            raise ValueError(f"fault status must be 500, 502, 503 or 504, not {status}")
        return self._add(FaultRule(status=status, rate=rate, nth=nth, method=method, template=template,
                                   retry_after=retry_after, times=times))

    def add_timeout(self, hang: float, *, drop: bool = True, rate: float = 0.0, nth: int | None = None,
                    method: str | None = None, template: str | None = None,
                    times: int | None = None) -> FaultRule:
        """Hang ``hang`` seconds, then drop the connection (``drop``) or answer 504."""
        return self._add(FaultRule(status=504, timeout=True, hang=hang, drop=drop, rate=rate, nth=nth,
                                   method=method, template=template, times=times))

    def _add(self, rule: FaultRule) -> FaultRule:
        if rule.nth is None and not 0.0 < rule.rate <= 1.0:
            raise ValueError("a fault needs nth=N or a rate in (0, 1]")
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def pick(self, method: str, template: str | None) -> FaultRule | None:
        """The rule that fires for this call, if any (every matching rule counts the call)."""
        chosen = None
        with self._lock:
            for rule in self.rules:
                if not rule.matches(method, template):
                    continue
                rule.seen += 1
                if chosen is not None or (rule.times is not None and rule.fired >= rule.times):
                    continue
                hit = rule.seen == rule.nth if rule.nth is not None else self.rng.random() < rule.rate
                if hit:
                    rule.fired += 1
                    chosen = rule
        return chosen

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(rule) for rule in self.rules]


# -- call log ------------------------------------------------------------------------------------------------
@dataclass
class CallRecord:
    """One request as the site saw it."""

    method: str
    path: str
    template: str | None
    status: int
    auth_kind: str
    duration_ms: float
    timestamp: float
    principal: str = ""  # app key or OAuth client id; never a token
    query: str = ""
    note: str = ""  # e.g. "fault", "rate-limited: jira-burst-based"


@dataclass
class CallLog:
    """Every request a site answered (or dropped), in arrival order."""

    records: list[CallRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self.records.append(record)

    def clear(self) -> None:
        with self._lock:
            self.records.clear()

    def find(self, method: str | None = None, template: str | None = None,
             status: int | None = None) -> list[CallRecord]:
        with self._lock:
            return [r for r in self.records
                    if (method is None or r.method == method.upper())
                    and (template is None or r.template == template)
                    and (status is None or r.status == status)]

    def as_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(r) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)
