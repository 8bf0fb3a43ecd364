"""Installs an app into an emulated site as Jira does, and signs what Jira signs for the app (iframes, context).

Lifecycle callbacks ``installed``/``uninstalled`` are RS256 "signed install" tokens from the cloud's install key
(``kid`` header, ``iss`` = clientKey, ``aud`` = the app's baseUrl, qsh of the callback relative to the app's
base URL); ``enabled``/``disabled`` are HS256 with the shared secret. ``build_install_request`` exposes every
knob so tests can forge bad installs (wrong aud or qsh, expired, HS256, unknown kid, iss != clientKey...).
"""

from __future__ import annotations

import contextlib
import copy
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from atlassian_jwt.url_utils import hash_url
from jsonschema import Draft4Validator

from . import spec
from .site import Installation

if TYPE_CHECKING:  # pragma: no cover
    from .site import Site

SERVER_VERSION = "100282"
PLUGINS_VERSION = "1001.0.0-SNAPSHOT"
INSTALL_TOKEN_TTL = 180
IFRAME_TOKEN_TTL = 180
CONTEXT_TOKEN_TTL = 900
KEY_MAX = 64  # the 2019 schema allows 80; Jira Cloud refuses keys over 64 characters today
KNOWN_SCOPES = {"NONE", "READ", "WRITE", "DELETE", "PROJECT_ADMIN", "ADMIN", "ACT_AS_USER",
                "ACCESS_EMAIL_ADDRESSES"}
DELETE = object()  # a claim/body override value that removes the entry
TIMEOUT = 10


class InstallError(Exception):
    """The install (or another lifecycle call) failed; the message says why, never carrying the secret."""


# -- the descriptor ------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _descriptor_validator() -> Draft4Validator:
    schema = json.loads((spec.reference_dir() / "jira-global-schema.json").read_text(encoding="utf-8"))
    # The 2019 snapshot predates these two opt-ins; overlay them rather than edit the reference file.
    migrations = schema["properties"]["apiMigrations"]["properties"]
    migrations["signed-install"] = {"type": "boolean"}
    migrations["context-qsh"] = {"type": "boolean"}
    return Draft4Validator(schema)


def check_descriptor(descriptor: Any) -> list[str]:
    """What Jira would refuse in a Connect descriptor (schema, key length, JWT auth, signed install...)."""
    if not isinstance(descriptor, dict):
        return ["the descriptor is not a JSON object"]
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in _descriptor_validator().iter_errors(descriptor)]
    key = descriptor.get("key", "")
    if isinstance(key, str) and len(key) > KEY_MAX:
        problems.append(f"key: '{key[:20]}...' is longer than {KEY_MAX} characters")
    base = descriptor.get("baseUrl", "")
    if not isinstance(base, str) or urlsplit(base).scheme not in ("http", "https"):
        problems.append("baseUrl: must be an absolute http(s) URL")
    if (descriptor.get("authentication") or {}).get("type", "").lower() != "jwt":
        problems.append("authentication.type: must be 'jwt'")
    lifecycle = descriptor.get("lifecycle") or {}
    if not str(lifecycle.get("installed", "")).startswith("/"):
        problems.append("lifecycle.installed: a path starting with '/' is required")
    if (descriptor.get("apiMigrations") or {}).get("signed-install") is not True:
        problems.append("apiMigrations.signed-install: must be true (unsigned installs are no longer sent)")
    return problems


def fetch_descriptor(url: str) -> dict[str, Any]:
    """GET the descriptor as Jira does when an admin installs from a URL."""
    try:
        response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise InstallError(f"could not fetch the descriptor from {url}: {exc.__class__.__name__}") from None
    if response.status_code != 200:
        raise InstallError(f"fetching the descriptor from {url} answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise InstallError(f"the descriptor at {url} is not JSON") from None


# -- signed lifecycle requests -------------------------------------------------------------------------------
@dataclass
class LifecycleRequest:
    """A lifecycle POST ready to send (tests may alter it before ``send``)."""

    url: str
    body: dict[str, Any]
    token: str
    claims: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def send(self) -> requests.Response:
        headers = {"Authorization": f"JWT {self.token}", "Content-Type": "application/json", **self.headers}
        return requests.post(self.url, data=json.dumps(self.body), headers=headers, timeout=TIMEOUT)


_last_lifecycle_iat: dict[str, int] = {}
_lifecycle_iat_lock = threading.Lock()


def lifecycle_iat(client_key: str) -> int:
    """``iat`` for a site's next lifecycle token: now in whole seconds, after its previous one (waits if needed).

    A real site's lifecycle events are an admin's clicks apart; the emulator's can fall in one second, and an app
    may (ours does) refuse an event whose ``iat`` is not newer than the last one it accepted, as a replay. Waiting
    for the next second keeps every token's ``iat`` in the past, as a verifier without leeway expects.
    """
    with _lifecycle_iat_lock:  # reserve the second; wait outside the lock
        issued = max(int(time.time()), _last_lifecycle_iat.get(client_key, 0) + 1)
        _last_lifecycle_iat[client_key] = issued
    while (now := time.time()) < issued:
        time.sleep(issued - now)
    return issued


def _lifecycle_times(client_key: str) -> dict[str, int]:
    issued = lifecycle_iat(client_key)
    return {"iat": issued, "exp": issued + INSTALL_TOKEN_TTL}


def _callback_url(app_base: str, path: str) -> str:
    return app_base.rstrip("/") + path


def _qsh(method: str, app_base: str, url: str) -> str:
    """qsh of ``url`` relative to the app's base URL (its path prefix removed)."""
    base_path = urlsplit(app_base).path.rstrip("/")
    parts = urlsplit(url)
    path = parts.path[len(base_path):] if base_path and parts.path.startswith(base_path) else parts.path
    return hash_url(method, f"{path or '/'}?{parts.query}" if parts.query else (path or "/"))


def oauth_client_id_for(site: Site, app_key: str) -> str:
    """The app's OAuth 2.0 client id on ``site`` (user impersonation's ``iss``): stable per site and app."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"oauth-client/{site.client_key_for(app_key)}/{app_key}"))


def lifecycle_body(site: Site, descriptor: dict[str, Any], event: str, shared_secret: str) -> dict[str, Any]:
    """The JSON Jira posts to a lifecycle URL (``oauthClientId``: for the JWT-bearer grant of impersonation)."""
    key = descriptor["key"]
    return {
        "key": key,
        "clientKey": site.client_key_for(key),
        "oauthClientId": oauth_client_id_for(site, key),
        "sharedSecret": shared_secret,
        "serverVersion": SERVER_VERSION,
        "pluginsVersion": PLUGINS_VERSION,
        "baseUrl": site.base_url,
        "displayUrl": site.display_url or site.base_url,
        "productType": "jira",
        "description": f"Atlassian JIRA at {site.base_url}",
        "eventType": event,
        "cloudId": site.cloud_id,
        "installationId": f"ari:cloud:ecosystem::installation/{uuid.uuid5(uuid.NAMESPACE_URL, site.cloud_id + key)}",
    }


def build_install_request(site: Site, descriptor: dict[str, Any], *, event: str = "installed",
                          shared_secret: str | None = None, algorithm: str = "RS256", kid: str | None = None,
                          signing_key: Any = None, claims: dict[str, Any] | None = None,
                          body: dict[str, Any] | None = None, url: str | None = None) -> LifecycleRequest:
    """Build a signed ``installed``/``uninstalled`` POST; ``claims``/``body`` override (``DELETE`` removes).

    ``algorithm="HS256"`` signs with ``signing_key`` (a string secret) to forge a token Jira would never send.
    """
    cloud = site.cloud
    app_base = descriptor["baseUrl"]
    target = url or _callback_url(app_base, (descriptor.get("lifecycle") or {}).get(event, f"/{event}"))
    payload = lifecycle_body(site, descriptor, event, shared_secret or secrets.token_urlsafe(32))
    _apply(payload, body)
    now = int(time.time())
    token_claims: dict[str, Any] = {"iss": payload["clientKey"], "sub": payload["clientKey"],
                                    "aud": app_base, "qsh": _qsh("POST", app_base, target), "iat": now,
                                    "exp": now + INSTALL_TOKEN_TTL, "context": {}}
    _apply(token_claims, claims)
    if algorithm == "RS256":
        key = cloud.install_key
        token = jwt.encode(token_claims, signing_key or key.private_pem, algorithm="RS256",
                           headers={"kid": kid or key.kid})
    else:
        token = jwt.encode(token_claims, signing_key or payload["sharedSecret"], algorithm=algorithm,
                           headers={"kid": kid} if kid else None)
    return LifecycleRequest(target, payload, token, token_claims)


def _apply(target: dict[str, Any], overrides: dict[str, Any] | None) -> None:
    for name, value in (overrides or {}).items():
        if value is DELETE:
            target.pop(name, None)
        else:
            target[name] = value


# -- install / uninstall / enable / disable ------------------------------------------------------------------
def install_app(site: Site, app_descriptor_url: str) -> Installation:
    """Install the app at ``app_descriptor_url`` into ``site``; stored only if the app answers 2xx.

    :raises InstallError: descriptor unreachable or invalid, or the app refused the ``installed`` callback.
    """
    descriptor = fetch_descriptor(app_descriptor_url)
    problems = check_descriptor(descriptor)
    if problems:
        raise InstallError("the descriptor is invalid: " + "; ".join(problems))
    shared_secret = secrets.token_urlsafe(32)  # fresh on every install, as Jira does
    request = build_install_request(site, descriptor, shared_secret=shared_secret,
                                    claims=_lifecycle_times(site.client_key_for(descriptor["key"])))
    try:
        response = request.send()
    except requests.RequestException as exc:
        raise InstallError(f"the installed callback {request.url} failed: {exc.__class__.__name__}") from None
    if not 200 <= response.status_code < 300:
        raise InstallError(f"the app answered {response.status_code} to the installed callback")
    key = descriptor["key"]
    installation = Installation(
        app_key=key, client_key=request.body["clientKey"], shared_secret=shared_secret,
        base_url=descriptor["baseUrl"].rstrip("/"), descriptor=copy.deepcopy(descriptor),
        scopes=frozenset(s.upper() for s in descriptor.get("scopes", [])),
        app_account_id=f"712020:{uuid.uuid5(uuid.NAMESPACE_URL, site.cloud_id + '/' + key)}",
        oauth_client_id=oauth_client_id_for(site, key))
    with site.store.lock:
        site.installations[key] = installation
    return installation


def uninstall_app(site: Site, app_key: str) -> None:
    """Send the RS256-signed ``uninstalled`` callback (if declared) and forget the installation."""
    inst = _installation(site, app_key)
    if "uninstalled" in inst.lifecycle:
        request = build_install_request(site, inst.descriptor, event="uninstalled",
                                        shared_secret=inst.shared_secret, claims=_lifecycle_times(inst.client_key))
        request.body.pop("sharedSecret", None)  # Jira doesn't resend the secret on uninstall
        _post_quietly(request)
    with site.store.lock:
        site.installations.pop(app_key, None)


def set_enabled(site: Site, app_key: str, enabled: bool) -> None:
    """Enable or disable the app; sends ``enabled``/``disabled`` (HS256, shared secret) if declared."""
    inst = _installation(site, app_key)
    event = "enabled" if enabled else "disabled"
    path = inst.lifecycle.get(event)
    if path:
        target = _callback_url(inst.base_url, path)
        body = lifecycle_body(site, inst.descriptor, event, inst.shared_secret)
        body.pop("sharedSecret")
        now = int(time.time())
        claims = {"iss": inst.client_key, "iat": now, "exp": now + INSTALL_TOKEN_TTL,
                  "qsh": _qsh("POST", inst.base_url, target)}
        token = jwt.encode(claims, inst.shared_secret, algorithm="HS256")
        _post_quietly(LifecycleRequest(target, body, token, claims))
    inst.enabled = enabled


def enable_app(site: Site, app_key: str) -> None:
    set_enabled(site, app_key, True)


def disable_app(site: Site, app_key: str) -> None:
    set_enabled(site, app_key, False)


def _post_quietly(request: LifecycleRequest) -> None:
    # Jira doesn't retry or fail these on an error answer; a dead app must not block an uninstall.
    with contextlib.suppress(requests.RequestException):
        request.send()


def _installation(site: Site, app_key: str) -> Installation:
    inst = site.installations.get(app_key)
    if inst is None:
        raise InstallError(f"app {app_key!r} is not installed on site {site.name!r}")
    return inst


# -- tokens Jira hands to the app's pages --------------------------------------------------------------------
def sign_iframe_url(site: Site, app_key: str, path: str, account_id: str,
                    extra_query: dict[str, str] | None = None) -> str:
    """The full URL Jira loads in an iframe for the app's page at ``path`` (relative to the app's baseUrl)."""
    inst = _installation(site, app_key)
    query = dict(extra_query or {})
    query.update({"xdm_e": site.base_url, "xdm_c": f"channel-{app_key}", "cp": "",
                  "xdm_deprecated_addon_key_do_not_use": app_key, "lic": "none", "cv": PLUGINS_VERSION})
    url = f"{inst.base_url}{path}?{urlencode(query)}"
    now = int(time.time())
    claims = {"iss": inst.client_key, "sub": account_id, "iat": now, "exp": now + IFRAME_TOKEN_TTL,
              "qsh": _qsh("GET", inst.base_url, url), "context": {}}
    return f"{url}&jwt={jwt.encode(claims, inst.shared_secret, algorithm='HS256')}"


def context_token(site: Site, app_key: str, account_id: str) -> str:
    """A token as ``AP.context.getToken()`` returns it (qsh ``context-qsh``)."""
    inst = _installation(site, app_key)
    now = int(time.time())
    claims = {"iss": inst.client_key, "sub": account_id, "iat": now, "exp": now + CONTEXT_TOKEN_TTL,
              "qsh": "context-qsh", "context": {}}
    return jwt.encode(claims, inst.shared_secret, algorithm="HS256")


def app_token(site: Site, app_key: str, method: str, path_and_query: str, *, claims: dict[str, Any] | None = None,
              secret: str | None = None, algorithm: str = "HS256") -> str:
    """A Connect JWT as a well-behaved app would mint it to call ``site`` (for tests of the site itself)."""
    inst = _installation(site, app_key)
    now = int(time.time())
    body: dict[str, Any] = {"iss": inst.app_key, "iat": now, "exp": now + 180,
                            "qsh": hash_url(method.upper(), path_and_query)}
    _apply(body, claims)
    return jwt.encode(body, secret if secret is not None else inst.shared_secret, algorithm=algorithm)


def install_direct(site: Site, app_key: str, scopes: list[str], *, base_url: str = "http://127.0.0.1:9",
                   shared_secret: str | None = None) -> Installation:
    """Record an installation without any callback (for tests of the site that need no real app)."""
    descriptor = {"key": app_key, "baseUrl": base_url, "authentication": {"type": "jwt"},
                  "lifecycle": {"installed": "/installed"}, "apiMigrations": {"signed-install": True},
                  "scopes": list(scopes)}
    installation = Installation(
        app_key=app_key, client_key=site.client_key_for(app_key),
        shared_secret=shared_secret or secrets.token_urlsafe(32), base_url=base_url, descriptor=descriptor,
        scopes=frozenset(s.upper() for s in scopes),
        app_account_id=f"712020:{uuid.uuid5(uuid.NAMESPACE_URL, site.cloud_id + '/' + app_key)}",
        oauth_client_id=oauth_client_id_for(site, app_key))
    with site.store.lock:
        site.installations[app_key] = installation
    return installation
