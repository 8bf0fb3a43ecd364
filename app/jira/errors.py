"""Typed errors of calls to Jira, carrying Jira's own ``errorMessages``/``errors``."""

from __future__ import annotations

from typing import Any


class JiraError(Exception):
    """Jira answered with an error status; ``messages`` and ``field_errors`` are Jira's words."""

    def __init__(self, method: str, path: str, status: int, body: Any = None) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        self.messages: list[str] = []
        self.field_errors: dict[str, str] = {}
        if isinstance(body, dict):
            self.messages = [str(m) for m in body.get("errorMessages") or []]
            errors = body.get("errors") or {}
            if isinstance(errors, dict):
                self.field_errors = {str(k): str(v) for k, v in errors.items()}
            if not self.messages and body.get("message"):
                self.messages = [str(body["message"])]
        super().__init__(self.describe())

    def describe(self) -> str:
        detail = "; ".join(self.messages + [f"{k}: {v}" for k, v in self.field_errors.items()])
        return f"{self.method} {self.path} -> {self.status}" + (f": {detail}" if detail else "")


class JiraUnavailable(JiraError):
    """Jira kept failing (5xx, timeouts, rate limits) beyond the retry budget; the call may be retried later."""


class RateLimited(JiraUnavailable):
    """Jira asked us to wait longer than we are willing to, or kept answering 429."""

    def __init__(self, method: str, path: str, retry_after: float | None, body: Any = None) -> None:
        self.retry_after = retry_after
        super().__init__(method, path, 429, body)


class NeedsAuthorisation(Exception):
    """No credential we hold may call this operation (e.g. INACCESSIBLE to Connect and no OAuth grant)."""

    def __init__(self, method: str, path: str, fix: str) -> None:
        self.method = method
        self.path = path
        self.fix = fix
        super().__init__(f"{method} {path} needs authorisation: {fix}")
