"""A scripted Jira on loopback for protocol tests: verifies the app's JWTs independently and answers from a script.

Not the emulator: this only checks the Connect signing protocol and plays back response sequences (429, 503...),
so the client's retry behaviour can be pinned down exactly.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from atlassian_jwt.url_utils import hash_url
from werkzeug.wrappers import Request, Response

from fakejira.loopback import serve


@dataclass
class Received:
    method: str
    path: str
    query: str
    body: Any
    claims: dict[str, Any] | None
    auth_error: str | None
    at: float = field(default_factory=time.monotonic)


class JiraStub:
    """Answers ``(METHOD, path)`` from a queue of ``(status, body, headers)``; the last entry repeats."""

    def __init__(self, context_path: str = "") -> None:
        self.context_path = context_path.rstrip("/")
        self.secrets: dict[str, str] = {}  # iss (app key) -> shared secret
        self.script: dict[tuple[str, str], list[tuple[int, Any, dict[str, str]]]] = {}
        self.received: list[Received] = []
        self.base_url = ""
        self._lock = threading.Lock()

    def on(self, method: str, path: str, *responses: tuple[int, Any] | tuple[int, Any, dict[str, str]]) -> None:
        self.script[(method.upper(), path)] = [(r[0], r[1], r[2] if len(r) > 2 else {}) for r in responses]

    def _verify(self, request: Request) -> tuple[dict[str, Any] | None, str | None]:
        header = request.headers.get("Authorization", "")
        if not header.startswith("JWT "):
            return None, "no JWT"
        token = header.removeprefix("JWT ")
        try:
            iss = jwt.decode(token, options={"verify_signature": False})["iss"]
            claims = jwt.decode(token, self.secrets[iss], algorithms=["HS256"])
        except (jwt.PyJWTError, KeyError) as exc:
            return None, f"bad token: {type(exc).__name__}"
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
        path, _, query = raw.partition("?")
        relative = path[len(self.context_path):] if self.context_path else path
        expected = hash_url(request.method, relative + (f"?{query}" if query else ""))
        if claims.get("qsh") != expected:
            return claims, "qsh mismatch"
        return claims, None

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        claims, error = self._verify(request)
        path = request.path[len(self.context_path):] if self.context_path else request.path
        body = request.get_json(silent=True)
        with self._lock:
            self.received.append(Received(request.method, path, request.query_string.decode(), body, claims, error))
            queue = self.script.get((request.method, path))
            if error:
                status, payload, headers = 401, {"errorMessages": [error]}, {}
            elif not queue:
                status, payload, headers = 404, {"errorMessages": [f"unscripted {request.method} {path}"]}, {}
            else:
                status, payload, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(payload):
            payload = payload(request)
        resp = Response(json.dumps(payload) if payload is not None else "", status=status, headers=headers,
                        mimetype="application/json")
        return resp(environ, start_response)


@contextmanager
def jira_stub(context_path: str = "") -> Iterator[JiraStub]:
    stub = JiraStub(context_path)
    with serve(stub) as url:
        stub.base_url = url + stub.context_path
        yield stub
