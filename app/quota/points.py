"""Jira's points: what one request costs, and the meter that adds a job's requests up by phase, type and endpoint.

The rule is Jira Cloud's documented shape (reference "Rate limits (Jira Cloud, 2026)"): every request costs 1 point,
plus points per object a read returns. Reads are GETs and the few POSTs that search or fetch in bulk. Objects are a
page's ``values`` (or the search/bulk lists), a bare list's items, 1 for one object (a binary answer too), 0 for an
empty answer. Answers Jira refused before doing anything (429, 5xx, the connection dropped) cost nothing.
``read_points`` and ``write_points`` bill counts by the same rule: what the estimates before a job add up.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

BASE_POINTS = 1
POINTS_PER_OBJECT = 1
PAGE_SIZE = 50  # Jira's usual page of a paged list (``maxResults``' default on most endpoints)
# POST operations that read: charged per returned object like GETs
READ_POSTS = frozenset({"/rest/api/3/search/jql", "/rest/api/3/issue/bulkfetch", "/rest/api/3/changelog/bulkfetch",
                        "/rest/api/3/search/approximate-count", "/rest/api/3/comment/list",
                        "/rest/api/3/worklog/list"})
LIST_KEYS = ("values", "issues", "issueChangeLogs", "histories", "comments", "worklogs", "watchers", "voters")
NOT_CHARGED = frozenset({401, 429})  # refused before the work: the rate limiter and authentication answer first
_API_PREFIX = re.compile(r"^/rest/(?:api|agile)/[^/]+/|^/rest/[^/]+/[^/]+/")
_ID_SEGMENT = re.compile(r"^(?:\{[^}]*\}|\d+|[0-9a-f-]{32,36}|customfield_\d+)$")

PHASES = ("plan", "write", "verify", "read", "other")


def is_read(method: str, path: str) -> bool:
    """Whether Jira charges per returned object for this request (a GET, or a POST that searches/fetches)."""
    method = method.upper()
    return method == "GET" or (method == "POST" and path in READ_POSTS)


def count_objects(body: Any) -> int:
    """How many objects a read returned (see the module docstring)."""
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for key in LIST_KEYS:
            if isinstance(body.get(key), list):
                return len(body[key])
        return 1
    return 0


def cost(method: str, path: str, status: int, body: Any) -> int:
    """The points an answered request costs: nothing when refused before the work, else base plus objects read."""
    if status in NOT_CHARGED or status >= 500 or status == 0:
        return 0
    if not is_read(method, path):
        return BASE_POINTS
    return BASE_POINTS + POINTS_PER_OBJECT * count_objects(body)


def read_points(objects: int, page_size: int = PAGE_SIZE) -> int:
    """What reading ``objects`` through a paged list costs, as ``cost`` bills each page: base per page (one at
    least, even when empty) plus each object returned."""
    pages = max(1, math.ceil(max(objects, 0) / page_size))
    return pages * BASE_POINTS + max(objects, 0) * POINTS_PER_OBJECT


def write_points(objects: int, per_request: int = 1) -> int:
    """What writing ``objects`` costs, ``per_request`` of them a request (1: one by one; a bulk endpoint's cap),
    as ``cost`` bills a write: base per request, nothing per object."""
    return math.ceil(max(objects, 0) / per_request) * BASE_POINTS


def answer_body(content: bytes, content_type: str | None) -> Any:
    """What ``count_objects`` counts in a raw answer: parsed JSON, a marker for a non-empty binary body, or None."""
    if not content:
        return None
    if content_type and "json" in content_type:
        try:
            return json.loads(content)
        except ValueError:
            return {}
    return {}  # one binary object (an attachment's bytes)


def estimate(method: str, path: str, params: dict[str, Any] | None, learned: int | None) -> int:
    """Points to draw before sending: a write's base; a read's base plus its page size when it asks for one (the
    most it can return), else what the same endpoint cost last time (``learned``), else base plus one object."""
    if not is_read(method, path):
        return BASE_POINTS
    size = (params or {}).get("maxResults")
    try:
        if size is not None:
            return BASE_POINTS + POINTS_PER_OBJECT * max(0, int(size))
    except (TypeError, ValueError):
        pass
    return learned if learned is not None else BASE_POINTS + POINTS_PER_OBJECT


def resource_of(template: str) -> str:
    """The object type an endpoint is about, from its template: ``/rest/api/3/field/{id}/context`` -> ``field``
    plus its last named part (``field/context``), so per-type figures read like the API."""
    rest = _API_PREFIX.sub("", template.split("?")[0]).strip("/")
    names = [part for part in rest.split("/") if part and not _ID_SEGMENT.match(part)]
    if not names:
        return rest or template
    return names[0] if len(names) == 1 else f"{names[0]}/{names[-1]}"


def template_of(path: str) -> str:
    """A path's ids replaced by ``{}`` (when the caller didn't say which operation it was)."""
    return "/".join("{}" if _ID_SEGMENT.match(part) and part else part for part in path.split("/"))


@dataclass
class PointsTally:
    """Points and requests of one job: in total, and by phase, by object type and by ``METHOD template``."""

    points: int = 0
    requests: int = 0
    by_phase: Counter[str] | None = None
    by_type: Counter[str] | None = None
    by_endpoint: Counter[str] | None = None

    def __post_init__(self) -> None:
        self.by_phase = Counter(self.by_phase or {})
        self.by_type = Counter(self.by_type or {})
        self.by_endpoint = Counter(self.by_endpoint or {})

    def add(self, points: int, phase: str, type_key: str, endpoint: str) -> None:
        assert self.by_phase is not None and self.by_type is not None and self.by_endpoint is not None
        self.points += points
        self.requests += 1
        self.by_phase[phase] += points
        self.by_type[type_key] += points
        self.by_endpoint[endpoint] += points

    def to_dict(self) -> dict[str, Any]:
        return {"points": self.points, "requests": self.requests, "byPhase": dict(self.by_phase or {}),
                "byType": dict(self.by_type or {}), "byEndpoint": dict(self.by_endpoint or {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PointsTally:
        data = data or {}
        return cls(int(data.get("points") or 0), int(data.get("requests") or 0), Counter(data.get("byPhase") or {}),
                   Counter(data.get("byType") or {}), Counter(data.get("byEndpoint") or {}))


class PointsMeter:
    """Counts a job's points as its requests are answered, from any of its threads; ``phase`` is the job's current
    phase (the runtime moves it). ``dirty`` says whether anything was counted since the last ``snapshot``."""

    def __init__(self, phase: str = "other", earlier: dict[str, Any] | None = None) -> None:
        self.phase = phase
        self.tally = PointsTally.from_dict(earlier)
        self.dirty = False
        self._lock = threading.Lock()

    def record(self, method: str, template: str, points: int) -> None:
        with self._lock:
            self.tally.add(points, self.phase, resource_of(template), f"{method.upper()} {template}")
            self.dirty = True

    def snapshot(self) -> dict[str, Any]:
        """The tally so far (and the meter clean again)."""
        with self._lock:
            self.dirty = False
            return self.tally.to_dict()

    @property
    def points(self) -> int:
        return self.tally.points
