"""The emulator's control API under ``/_emulator/...`` (seed, export, reset, faults, limits, calls, installs,
OAuth tokens, quota points, webhooks).

For when the emulator runs as a separate process. It needs no JWT but answers loopback clients only. GET endpoints
take their parameters from the query string, the others from a JSON object body.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from . import installer, seeding, webhooks
from .limits import CostRule
from .resources.basics import admin_account_id
from .store import Store

if TYPE_CHECKING:  # pragma: no cover
    from .cloud import Cloud
    from .site import Site


OAUTH_CALLBACK = "https://dr-app.example.test/oauth/callback"  # never called: the tokens skip the browser dance


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"errorMessages": [message], "errors": {}}, status)


def control(cloud: Cloud, site: Site, request: Request) -> Response:
    """Answer one control request for ``site``."""
    if (request.remote_addr or "") not in ("127.0.0.1", "::1"):
        return _error(403, "The control API answers loopback clients only.")
    name = request.path.removeprefix("/_emulator").strip("/")
    route = ROUTES.get((request.method, name))
    if route is None:
        return _error(404, f"No control endpoint {request.method} /_emulator/{name}")
    if request.method == "GET":
        body: Any = request.args.to_dict()
    else:
        body = request.get_json(silent=True) if request.get_data() else None
    if body is not None and not isinstance(body, dict):
        return _error(400, f"The body of {request.method} /_emulator/{name} must be a JSON object.")
    try:
        return route(cloud, site, body or {})
    except (ValueError, KeyError, TypeError, seeding.SeedError, installer.InstallError, webhooks.WebhookError) as exc:
        return _error(400, f"{exc.__class__.__name__}: {exc}")


def _site_info(cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    return _json({"name": site.name, "baseUrl": site.base_url, "cloudId": site.cloud_id,
                  "adminAccountId": admin_account_id(site), "admins": sorted(site.admins),
                  "platformUrl": cloud.platform_url, "installKeysUrl": cloud.install_keys_url,
                  "gatewayUrl": cloud.gateway_url(site),
                  "installations": [{"key": i.app_key, "clientKey": i.client_key, "baseUrl": i.base_url,
                                     "scopes": sorted(i.scopes), "enabled": i.enabled}
                                    for i in site.installations.values()]})


def _seed(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    seeding.load_seed(site, body)
    return Response(status=204)


def _export(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    return _json(seeding.export_site(site))


def _reset(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    """Fresh data (defaults unless ``{"defaults": false}``, then ``seed``); installations are kept."""
    with site.store.lock:
        site.store = Store()
    if body.get("defaults", True):
        seeding.apply_defaults(site)
    if body.get("seed"):
        seeding.load_seed(site, body["seed"])
    site.calls.clear()
    return Response(status=204)


def _faults_get(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    return _json(site.faults.describe())


def _faults_add(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    """``{"status": 503, "rate": 0.5 | "nth": 3, "method", "template", "retryAfter", "times", "seed"}`` or
    ``{"timeout": true, "hang": 2, "drop": true, ...}``."""
    if "seed" in body:
        site.faults.seed(int(body["seed"]))
    common = {"rate": float(body.get("rate", 0.0)), "nth": body.get("nth"), "method": body.get("method"),
              "template": body.get("template"), "times": body.get("times")}
    if body.get("timeout"):
        rule = site.faults.add_timeout(float(body.get("hang", 1.0)), drop=bool(body.get("drop", True)), **common)
    else:
        rule = site.faults.add(int(body.get("status", 503)), retry_after=body.get("retryAfter"), **common)
    return _json(asdict(rule), 201)


def _faults_clear(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    site.faults.clear()
    return Response(status=204)


def _limits_get(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    return _json(site.limits.describe())


def _limits_set(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    """``{"latency", "quota", "window", "burstRate", "burstCapacity", "maxBodyBytes", "attachmentMaxBytes",
    "perIssueWrites", "perIssueWindow", "cost": {"base", "perObject"}}``."""
    cost = body.get("cost")
    upload_limit = body.get("attachmentMaxBytes")
    if upload_limit is not None and (isinstance(upload_limit, bool) or not isinstance(upload_limit, int)
                                     or upload_limit < 1):
        return _error(400, f"attachmentMaxBytes: a positive number of bytes expected, not {upload_limit!r}")
    refused = _per_issue_refusal(body)
    if refused:
        return _error(400, refused)
    site.limits.configure(latency=body.get("latency"), quota=body.get("quota"), window=body.get("window"),
                          burst_rate=body.get("burstRate"), burst_capacity=body.get("burstCapacity"),
                          max_body_bytes=body.get("maxBodyBytes"), attachment_max_bytes=body.get("attachmentMaxBytes"),
                          per_issue_writes=body.get("perIssueWrites"), per_issue_window=body.get("perIssueWindow"),
                          cost_rule=CostRule(base=int(cost.get("base", 1)), per_object=int(cost.get("perObject", 1)))
                          if cost else None)
    return _json(site.limits.describe())


def _per_issue_refusal(body: dict[str, Any]) -> str:
    """Why the per-issue write limit knobs are unusable ('' when they are fine or absent)."""
    writes, window = body.get("perIssueWrites"), body.get("perIssueWindow")
    if writes is not None and (isinstance(writes, bool) or not isinstance(writes, int) or writes < 1):
        return f"perIssueWrites: a positive whole number of writes per issue expected, not {writes!r}"
    if window is not None and (isinstance(window, bool) or not isinstance(window, (int, float)) or window <= 0):
        return f"perIssueWindow: a positive number of seconds expected, not {window!r}"
    return ""


def _limits_refill(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    """The hourly quota full again now (skips the wait for the next window); answers the limits."""
    site.limits.refill()
    return _json(site.limits.describe())


def _limits_clear(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    site.limits.reset()
    return Response(status=204)


def _calls(_cloud: Cloud, site: Site, query: dict[str, Any]) -> Response:
    """``?method=&template=&status=`` filter the log (as ``CallLog.find``); ``count=true`` answers ``{"count": n}``
    (a benchmark's count without shipping a large log into the measured process)."""
    status, count = query.get("status"), query.get("count", "false")
    if status is not None and not status.isdigit():
        raise ValueError(f"status must be an HTTP status code such as 429, not {status!r}")
    if count not in ("true", "false"):
        raise ValueError(f"count must be true or false, not {count!r}")
    found = site.calls.find(method=query.get("method"), template=query.get("template"),
                            status=int(status) if status is not None else None)
    if count == "true":
        return _json({"count": len(found)})
    return _json([asdict(record) for record in found])


def _calls_clear(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    site.calls.clear()
    return Response(status=204)


def _violations(cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    return _json([asdict(v) for v in cloud.violations if v.site == site.name])


def _install(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    inst = installer.install_app(site, body["descriptorUrl"])
    return _json({"key": inst.app_key, "clientKey": inst.client_key}, 201)


def _uninstall(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    installer.uninstall_app(site, body["appKey"])
    return Response(status=204)


def _iframe_url(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    url = installer.sign_iframe_url(site, body["appKey"], body["path"], body["accountId"], body.get("query"))
    return _json({"url": url})


def _oauth_token(cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    """``{"scopes": [...], "accountId"?}``: the token response a completed 3LO consent for this site gives, plus the
    ``client_id``/``client_secret`` of the integration registered for it (default account: the site's admin)."""
    scopes = body.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(
            isinstance(s, str) and s and not any(c.isspace() for c in s) for s in scopes):
        raise ValueError(f'scopes must be a non-empty list of scope names such as ["read:jira-work"], not {scopes!r}')
    account = body.get("accountId", admin_account_id(site))
    # Jira only lets a user of the site consent: an unknown accountId is a bench or test bug, said at once.
    if not isinstance(account, str) or site.store.get("users", account) is None:
        raise ValueError(f"no user with accountId {account!r} on site {site.name!r}")
    client = cloud.oauth.register_client([OAUTH_CALLBACK], name=f"control-api {site.name}")
    tokens = cloud.oauth.issue_tokens(client.client_id, account, [site], scopes)
    return _json({**tokens, "client_id": client.client_id, "client_secret": client.secret})


def _points(_cloud: Cloud, site: Site, query: dict[str, Any]) -> Response:
    """``?top=N``: quota points charged per ``"METHOD template"`` since the last clear, the N largest (default all)."""
    top = query.get("top")
    if top is not None and not (top.isdigit() and int(top) > 0):
        raise ValueError(f"top must be a positive integer, not {top!r}")
    points = site.limits.points()
    return _json({"total": sum(points.values()),
                  "byTemplate": dict(points.most_common(int(top) if top is not None else None))})


def _points_clear(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    site.limits.clear_points()
    return Response(status=204)


def _admins(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    site.admins.update(body.get("add", []))
    site.admins.difference_update(body.get("remove", []))
    return _json(sorted(site.admins))


_WEBHOOK_KNOBS = {"seed": "seed", "loseRate": "lose_rate", "delayRate": "delay_rate", "delaySeconds": "delay_seconds",
                  "duplicateRate": "duplicate_rate", "retryDelay": "retry_delay", "maxRetries": "max_retries",
                  "timeout": "timeout"}


def _webhooks_get(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    """The knobs, how many deliveries are pending, and every attempt so far (lost ones included)."""
    return _json({"knobs": site.webhooks.knobs.describe(), "pending": site.webhooks.pending(),
                  "attempts": site.webhooks.log()})


def _webhooks_set(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    """``{"seed", "loseRate", "delayRate", "delaySeconds", "duplicateRate", "retryDelay": [lo, hi], "maxRetries",
    "timeout": [connect, read]}``: all are checked before any is applied."""
    unknown = sorted(set(body) - set(_WEBHOOK_KNOBS))
    if unknown:
        raise ValueError(f"unknown webhook knobs {unknown}; expected some of {sorted(_WEBHOOK_KNOBS)}")
    knobs = site.webhooks.configure(**{_WEBHOOK_KNOBS[k]: v for k, v in body.items()})
    return _json(knobs.describe())


def _webhooks_reset(_cloud: Cloud, site: Site, _body: dict[str, Any]) -> Response:
    site.webhooks.reset()
    return Response(status=204)


def _webhooks_emit(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    """``{"event", "payload": {...}, "flow"?, "accountId"?}``: queue a webhook as if the change had happened."""
    payload = body.get("payload", {})
    if not isinstance(payload, dict):
        raise ValueError(f"payload must be a JSON object, not {type(payload).__name__}")
    identifiers = site.webhooks.emit(str(body["event"]), payload, flow=body.get("flow", "Primary"),
                                     account_id=body.get("accountId"))
    return _json({"identifiers": identifiers}, 202)


def _webhooks_drain(_cloud: Cloud, site: Site, body: dict[str, Any]) -> Response:
    """``{"timeout": s}`` (default 10): wait until nothing is queued or in flight; ``drained`` says if it happened."""
    timeout = body.get("timeout", 10)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 <= timeout <= 600:
        raise ValueError(f"timeout must be a number of seconds between 0 and 600, not {timeout!r}")
    drained = site.webhooks.wait_idle(float(timeout))
    return _json({"drained": drained, "pending": site.webhooks.pending()})


ROUTES = {
    ("GET", "site"): _site_info, ("POST", "seed"): _seed, ("GET", "export"): _export, ("POST", "reset"): _reset,
    ("GET", "faults"): _faults_get, ("POST", "faults"): _faults_add, ("DELETE", "faults"): _faults_clear,
    ("GET", "limits"): _limits_get, ("POST", "limits"): _limits_set, ("DELETE", "limits"): _limits_clear,
    ("POST", "limits/refill"): _limits_refill,
    ("GET", "calls"): _calls, ("DELETE", "calls"): _calls_clear, ("GET", "violations"): _violations,
    ("POST", "install"): _install, ("POST", "uninstall"): _uninstall, ("POST", "iframe-url"): _iframe_url,
    ("POST", "admins"): _admins, ("POST", "oauth-token"): _oauth_token, ("GET", "points"): _points,
    ("DELETE", "points"): _points_clear,
    ("GET", "webhooks"): _webhooks_get, ("POST", "webhooks"): _webhooks_set, ("DELETE", "webhooks"): _webhooks_reset,
    ("POST", "webhooks/emit"): _webhooks_emit, ("POST", "webhooks/drain"): _webhooks_drain,
}
