"""The WSGI app of one emulated site: Jira's request pipeline around the registered handlers, and the control API.

Pipeline: log start -> faults -> auth (401) -> scope (403) -> rate limit (429) -> route (404/405)
-> JSON body (400/413/415) -> spec request validation (400, violation recorded) -> handler under the store lock
-> strict spec response validation (500, violation recorded) -> the rest of the latency -> log. Werkzeug only, no
Flask, so nothing of the app under test leaks in.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from . import attachments, auth, dispatch, shell, spec
from .limits import CallRecord
from .registry import HANDLERS, Ctx, JiraError, Multipart, RawBody, Reply

if TYPE_CHECKING:  # pragma: no cover
    from .cloud import Cloud
    from .site import Site

JSON_TYPE = "application/json;charset=UTF-8"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class DroppedConnection(ConnectionResetError):
    """Raised to make the threaded server close the socket without an answer (an injected timeout)."""


@dataclass
class Answer:
    """What the pipeline decided, before it becomes a werkzeug Response."""

    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    text: str | None = None  # a non-JSON body (edge proxies answer 502/503/504 in plain text)
    note: str = ""

    def to_response(self) -> Response:
        headers = dict(self.headers or {})
        if isinstance(self.body, RawBody):  # attachment bytes, streamed as they come
            if self.body.length is not None:
                headers["Content-Length"] = str(self.body.length)
            return Response(self.body.chunks, status=self.status, headers=headers, mimetype=self.body.mime_type,
                            direct_passthrough=True)
        if self.text is not None:
            return Response(self.text, status=self.status, headers=headers, content_type="text/plain")
        if self.status == 204 or self.body is None:
            return Response(status=self.status, headers=headers)
        return Response(json.dumps(self.body), status=self.status, headers=headers, content_type=JSON_TYPE)


def jira_error(status: int, *messages: str, headers: dict[str, str] | None = None, note: str = "") -> Answer:
    return Answer(status, {"errorMessages": list(messages), "errors": {}}, headers, note=note)


class SiteApp:
    """WSGI app for one site. ``mode`` is ``"connect"`` (the site's own URL) or ``"oauth"`` (the gateway, where
    OAuth and Forge tokens are accepted)."""

    def __init__(self, cloud: Cloud, site: Site) -> None:
        self.cloud = cloud
        self.site = site

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith("/_emulator/") or request.path == "/_emulator":
            from .control import control  # the control API is optional weight for in-process use

            return control(self.cloud, self.site, request)(environ, start_response)
        if request.path.startswith(attachments.MEDIA_PREFIX):  # download URLs (attachment content's 303)
            return attachments.serve_media(self.site, request)(environ, start_response)
        if shell.handles(request.path):  # the Jira-like admin pages that frame an app (shell.py)
            return shell.shell(self.cloud, self.site, request)(environ, start_response)
        return self.handle(request, request.path, mode="connect")(environ, start_response)

    # -- the pipeline ----------------------------------------------------------------------------------------
    def handle(self, request: Request, path: str, *, mode: str, raw_path: str | None = None) -> Response:
        """Answer one REST request; ``path`` is relative to the site (the gateway strips its prefix)."""
        started, stamp = time.perf_counter(), time.time()
        record = CallRecord(method=request.method, path=path, template=None, status=0, auth_kind=mode,
                            duration_ms=0.0, timestamp=stamp, query=request.query_string.decode("latin-1"))
        try:
            answer = self._pipeline(request, path, mode, raw_path, record)
        except DroppedConnection:
            self._wait_out_latency(started)
            record.note = record.note or "fault: dropped"
            self._log(record, started)
            _drop_socket(request)
            raise
        self._wait_out_latency(started)
        record.status, record.note = answer.status, record.note or answer.note
        self._log(record, started)
        return answer.to_response()

    def _wait_out_latency(self, started: float) -> None:
        """Answer no sooner than ``latency`` after the request came in. The latency is the site's response time, and
        the emulator's own work counts toward it as a real server's does: added on top, the emulator's CPU (its spec
        validation costs as much as the app) would be charged to the app under test. Slept outside the store lock:
        a slow site is not a locked site."""
        remaining = self.site.limits.latency - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)

    def _log(self, record: CallRecord, started: float) -> None:
        record.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        self.site.calls.add(record)

    def _pipeline(self, request: Request, path: str, mode: str, raw_path: str | None,
                  record: CallRecord) -> Answer:
        site, method = self.site, request.method.upper()
        found = dispatch.match(method, path)
        template = found[1] if found else None
        record.template = template

        fault = site.faults.pick(method, template)
        if fault is not None:
            return self._fault(fault, record)

        try:
            principal = self._authenticate(request, path, mode, raw_path)
            record.principal = principal.name
            record.auth_kind = principal.kind  # "forge" when a Forge token came through the gateway
            if found is not None:
                self._authorize(principal, method, found[1])
        except auth.AuthError as err:
            return Answer(err.status, err.body(), note=f"auth: {err.message}")

        limited = site.limits.check(method, template or path)
        if limited is not None:
            return jira_error(429, "Rate limit exceeded.", headers=limited.headers,
                              note=f"rate-limited: {limited.reason}")

        if found is None:
            return self._no_route(method, path)
        handler, template, params = found

        parsed = self._parse_body(request, method, template)
        if isinstance(parsed, Answer):
            return parsed
        has_body, body = parsed

        problems = spec.validate_request(method, template, request.args, body, has_body=has_body)
        if isinstance(body, Multipart):
            problems += attachments.spec_problems(body)
        if problems:
            self.cloud.record_violation(site, "request", method, path, template, problems)
            return Answer(400, {"errorMessages": problems, "errors": {}}, note="request violates the spec")

        answer = self._run_handler(handler, method, path, template, params, request.args, body, principal,
                                   headers=request.headers)
        site.limits.charge(method, template, answer.body)
        if answer.status < 500 and answer.note != "handler crashed":
            problems = spec.validate_response(method, template, answer.status, answer.body)
            if problems:
                self.cloud.record_violation(site, "response", method, path, template, problems)
                return jira_error(500, "The emulator's answer violates the Jira spec (an emulator bug):",
                                  *problems, note="response violates the spec")
        quota_headers = site.limits.quota_headers()
        if quota_headers:
            answer.headers = {**quota_headers, **(answer.headers or {})}
        return answer

    def _fault(self, fault: Any, record: CallRecord) -> Answer:
        if fault.timeout:
            time.sleep(fault.hang)
            if fault.drop:
                record.note = "fault: timeout (dropped)"
                raise DroppedConnection("injected timeout")
            return Answer(504, text="Gateway Timeout", note="fault: timeout (504)")
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.status == 500:
            return jira_error(500, "Internal server error.", headers=headers, note="fault: 500")
        reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[fault.status]
        return Answer(fault.status, text=reason, headers=headers, note=f"fault: {fault.status}")

    def _authenticate(self, request: Request, path: str, mode: str, raw_path: str | None) -> auth.Principal:
        header = request.headers.get("Authorization")
        if mode == "oauth":
            forge = getattr(self.cloud, "forge", None)  # Forge system/user tokens share the gateway
            principal = forge.authenticate(self.site, header) if forge is not None else None
            return principal or auth.authenticate_oauth(self.site, header, self.cloud.oauth)
        if header and header.partition(" ")[0].lower() == "bearer":  # user impersonation: the site's own URL
            return self.cloud.impersonation.authenticate(self.site, header)
        raw = raw_path if raw_path is not None else _raw_path(request)
        return auth.authenticate_connect(self.site, request.method, raw, request.query_string.decode("latin-1"),
                                         header, request.args.get("jwt"))

    def _authorize(self, principal: auth.Principal, method: str, template: str) -> None:
        if spec.operation(method, template) is None:
            # A handler for a path the spec doesn't have is an emulator bug, and scopes can't be judged.
            self.cloud.record_violation(self.site, "route", method, template, template,
                                        ["handler registered for an operation that is not in the Jira spec"])
            raise auth.AuthError(403, f"{method} {template} is not a Jira operation.")
        if principal.kind in ("oauth", "forge"):
            auth.check_oauth_scope(principal, method, template)
            if principal.kind == "oauth" or principal.account_id:  # an app acting as itself has no user to check
                auth.check_oauth_admin(self.site, principal, method, template)
        else:
            auth.check_connect_scope(principal, method, template)
            if principal.kind == "impersonation":  # the app's scopes AND the user's permissions
                auth.check_impersonated_admin(self.site, principal, method, template)

    @staticmethod
    def _no_route(method: str, path: str) -> Answer:
        allowed = sorted({m for m, _t in HANDLERS if m != method and dispatch.match(m, path) is not None})
        if allowed:
            return Answer(405, {"errorMessages": [f"Method '{method}' is not supported for this resource."],
                                "errors": {}}, headers={"Allow": ", ".join(allowed)})
        # Jira's text for an unknown REST path.
        return jira_error(404, "null for uri: " + path)

    def _parse_body(self, request: Request, method: str, template: str) -> tuple[bool, Any] | Answer:
        if request.mimetype == "multipart/form-data":  # uploads: streamed, held to the upload limit per file
            try:
                return True, attachments.read_multipart(self.site, request, method, template)
            except attachments.BodyRefused as refused:
                if refused.plain:
                    return Answer(refused.status, text=refused.message)
                return Answer(refused.status, refused.body())
        length = request.content_length or 0
        if length > self.site.limits.max_body_bytes:
            return jira_error(413, "Request entity too large.")
        raw = request.get_data(cache=True)
        if len(raw) > self.site.limits.max_body_bytes:
            return jira_error(413, "Request entity too large.")
        if not raw:
            return False, None
        if request.mimetype != "application/json":
            return Answer(415, {"errorMessages": ["Unsupported Media Type"], "errors": {}})
        try:
            return True, json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return jira_error(400, f"Unexpected character in the JSON body: {exc}")

    def _run_handler(self, handler: Any, method: str, path: str, template: str, params: dict[str, str],
                     query: MultiDict, body: Any, principal: auth.Principal, *, headers: Any = None) -> Answer:
        ctx = Ctx(site=self.site, method=method, path=path, path_params=params, query=query, body=body,
                  account_id=principal.account_id, auth_kind=principal.kind, headers=headers,
                  app_key=principal.name if principal.kind in ("connect", "impersonation") else None)
        try:
            with self.site.store.lock:
                result = handler(ctx)
        except JiraError as err:
            return Answer(err.status, err.body(), err.headers)
        except Exception:
            self.cloud.record_violation(self.site, "crash", method, path, template,
                                        [traceback.format_exc(limit=6)])
            return jira_error(500, "Internal server error.", note="handler crashed")
        if isinstance(result, Reply):
            return Answer(result.status, result.body, dict(result.headers))
        return Answer(200, result)


def _raw_path(request: Request) -> str:
    """The path exactly as the client sent it (qsh is computed over the un-decoded path)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0]
    from urllib.parse import quote

    return quote(request.path, safe="/;=,&+$!*'()@:~")


def _drop_socket(request: Request) -> None:
    """Close the client's socket so it sees a dropped connection (keep-alive would otherwise leave it waiting)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # the client may have gone already
            sock.shutdown(socket.SHUT_RDWR)


def is_loopback(request: Request) -> bool:
    return (request.remote_addr or "") in LOOPBACK
