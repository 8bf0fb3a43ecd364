"""Handles Connect lifecycle events: signed ``installed``/``uninstalled`` (RS256) and ``enabled``/``disabled``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .. import tenants
from ..admin_check import forget_admin_answers
from ..extensions import lazy_extension
from . import installs
from .current_request import relative_request_url
from .errors import AuthenticationError, BadLifecyclePayload
from .install_keys import InstallKeyStore
from .tokens import check_qsh, token_from_header, unverified_header, verify_hs256, verify_install_rs256

log = logging.getLogger(__name__)

bp = Blueprint("lifecycle", __name__)


def install_keys() -> InstallKeyStore:
    return lazy_extension("install_keys", lambda app: InstallKeyStore(app.config["CONNECT_INSTALL_KEYS_URL"]))


# Field -> longest value we store (the tenants table's columns); every field must be a string when present.
FORGE_KEY_PREFIX = "forge:"  # app.forge.installations.tenant_key builds Forge tenants' keys with it
FIELD_LIMITS = {"key": 64, "clientKey": 255, "baseUrl": 512, "displayUrl": 512, "productType": 64, "cloudId": 64,
                "sharedSecret": 1024, "description": 1024, "eventType": 64, "serverVersion": 64,
                "pluginsVersion": 64}


def _payload() -> dict[str, Any]:
    try:
        body = request.get_json(silent=False)
    except RequestEntityTooLarge:
        raise
    except HTTPException:  # malformed JSON, or not sent as application/json
        raise BadLifecyclePayload("The lifecycle body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise BadLifecyclePayload("The lifecycle body must be a JSON object.")
    for field in ("key", "clientKey", "baseUrl"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise BadLifecyclePayload(f"The lifecycle body lacks {field!r}.")
    for field, limit in FIELD_LIMITS.items():
        value = body.get(field)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            raise BadLifecyclePayload(f"The lifecycle body's {field!r} must be a string of at most {limit} characters.")
    if body["clientKey"].startswith(FORGE_KEY_PREFIX):
        # Forge tenants' keys live in this namespace; a Connect event naming one must never take over that site.
        raise BadLifecyclePayload(f"A Connect clientKey can't start with {FORGE_KEY_PREFIX!r}.")
    if body["key"] != current_app.config["APP_KEY"]:
        raise BadLifecyclePayload(
            f"The lifecycle body is for app {body['key']!r}, expected {current_app.config['APP_KEY']!r}.")
    if not body["baseUrl"].startswith(("https://", "http://")):
        raise BadLifecyclePayload("The lifecycle body's baseUrl is not an http(s) URL.")
    return body


class LifecycleReplayError(AuthenticationError):
    """A genuine signed lifecycle token sent again, or one older than the last event accepted for the tenant."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verify_signed_install(event: str) -> tuple[dict[str, Any], installs.LifecycleStamp]:
    """Verify an RS256 signed-install request; return its body and stamp. Nothing is read from the body before this.

    The stamp binds what we remember of the event: the token's ``iat``, and digests of the token and of the event
    name with the raw body (so an exact retry can be told from the same token carrying another body).
    """
    token = token_from_header(request.headers.get("Authorization"))
    if token is None:
        raise AuthenticationError("A signed install needs an 'Authorization: JWT <token>' header.")
    header = unverified_header(token)
    if header.get("alg") != "RS256":
        raise AuthenticationError(f"Install callbacks must be signed with RS256, got alg {header.get('alg')!r}.")
    key = install_keys().get(header.get("kid"))
    cfg = current_app.config
    claims = verify_install_rs256(token, key, audience=cfg["BASE_URL"], leeway=cfg["JWT_LEEWAY_SECONDS"])
    check_qsh(claims, request.method, relative_request_url(), allow_context=False)
    body = _payload()
    if claims.get("iss") != body["clientKey"]:
        raise AuthenticationError("The install JWT's issuer is not the body's clientKey.")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):  # pyjwt checked it is a number; be sure
        raise AuthenticationError(f"The install JWT's 'iat' must be a number of seconds, got {str(iat)[:40]!r}.")
    stamp = installs.LifecycleStamp(iat=int(iat), token_sha256=_sha256(token.encode()),
                                   body_sha256=_sha256(event.encode() + b"\n" + request.get_data(cache=True)))
    return body, stamp


def _is_new_event(tenant: tenants.Tenant | None, stamp: installs.LifecycleStamp, event: str) -> bool:
    """True for an event to apply; False for a retry of the last accepted one (answer 204, change nothing).

    Jira retries a callback whose answer got lost, with the same token or one re-signed in the same second; both
    carry the same body, so accepting them again changes nothing. Anything else not newer is a replay: a genuine
    token captured in transit and re-sent (with the replayer's sharedSecret and baseUrl) must not take the tenant.
    :raises LifecycleReplayError: the token was already used, or the event is not newer than the last accepted.
    """
    last = installs.last_lifecycle_stamp(tenant) if tenant is not None else None
    if tenant is None or last is None:
        return True
    retry = stamp.body_sha256 == last.body_sha256 and stamp.iat >= last.iat
    if stamp.token_sha256 == last.token_sha256 and not retry:
        _refuse(event, tenant, stamp, last, "This install token was already used; Jira signs every lifecycle "
                                            "event with a new token.")
    if retry and stamp.iat == last.iat:
        return False
    if stamp.iat <= last.iat:
        _refuse(event, tenant, stamp, last,
                f"This {event} event is older than the last accepted lifecycle event for this clientKey: "
                f"expected an iat after {last.iat}, received {stamp.iat}.")
    return True


def _refuse(event: str, tenant: tenants.Tenant, stamp: installs.LifecycleStamp, last: installs.LifecycleStamp,
            message: str) -> NoReturn:
    log.warning("refused %s client_key=%s: replayed or stale signed token (iat %s, last accepted iat %s)", event,
                tenant.client_key, stamp.iat, last.iat)
    raise LifecycleReplayError(message)


def _apply_once(event: str, client_key: str, stamp: installs.LifecycleStamp,
                apply: Callable[[tenants.Tenant | None], None]) -> bool:
    """Run ``apply(tenant)`` for a new event; False for a retry. A lost race is judged again against the winner
    (the loser's session was rolled back, so the tenant is read again as committed)."""
    for _attempt in range(2):
        tenant = tenants.get_by_client_key(client_key)
        if not _is_new_event(tenant, stamp, event):
            log.info("%s retried client_key=%s: already applied, nothing changed", event, client_key)
            return False
        try:
            apply(tenant)
        except installs.LifecycleConflict:
            continue
        forget_admin_answers(client_key)  # a cached answer must not outlive a changed secret or site
        return True
    raise LifecycleReplayError(f"Another {event} event for this clientKey was accepted at the same time; "
                               "this one was not applied.")


def _host(url: str | None) -> str:
    return urlsplit(url or "").hostname or "?"


@bp.post("/installed")
def installed() -> tuple[str, int]:
    body, stamp = _verify_signed_install("installed")
    if not isinstance(body.get("sharedSecret"), str) or not body["sharedSecret"]:
        raise BadLifecyclePayload("The installed body lacks 'sharedSecret'.")
    previous: dict[str, str | None] = {}

    def apply(tenant: tenants.Tenant | None) -> None:
        previous["base_url"] = tenant.base_url if tenant is not None else None
        installs.save_installation(body, stamp)

    if _apply_once("installed", body["clientKey"], stamp, apply):
        new_url = body["baseUrl"].rstrip("/")
        if previous["base_url"] not in (None, new_url):
            # Atlassian: a site rename re-sends `installed` with the new baseUrl for the same clientKey. Accepted
            # only from a fresh signed token (above); the old URL stays in the tenant's history for recovery.
            log.warning("site rename client_key=%s %s -> %s", body["clientKey"], _host(previous["base_url"]),
                        _host(new_url))
        log.info("installed client_key=%s base_url=%s", body["clientKey"], new_url)
    return "", 204


@bp.post("/uninstalled")
def uninstalled() -> tuple[str, int]:
    body, stamp = _verify_signed_install("uninstalled")
    if tenants.get_by_client_key(body["clientKey"]) is None:
        return "", 204  # nothing installed here: nothing to change

    def apply(tenant: tenants.Tenant | None) -> None:
        assert tenant is not None  # tenants are never deleted by a lifecycle event
        installs.mark_uninstalled(tenant, stamp)

    if _apply_once("uninstalled", body["clientKey"], stamp, apply):
        log.info("uninstalled client_key=%s (data kept %s days)", body["clientKey"],
                 current_app.config["UNINSTALL_RETENTION_DAYS"])
    return "", 204


def _verify_shared_secret_event() -> tenants.Tenant:
    token = token_from_header(request.headers.get("Authorization"))
    if token is None:
        raise AuthenticationError("This lifecycle event needs an 'Authorization: JWT <token>' header.")
    body = _payload()
    tenant = tenants.get_by_client_key(body["clientKey"])
    if tenant is None or not tenant.is_installed:
        raise AuthenticationError("No installation is known for this clientKey.")
    claims = verify_hs256(token, tenant.shared_secret, leeway=current_app.config["JWT_LEEWAY_SECONDS"])
    if claims.get("iss") != tenant.client_key:
        raise AuthenticationError("The JWT's issuer is not the body's clientKey.")
    check_qsh(claims, request.method, relative_request_url(), allow_context=False)
    return tenant


@bp.post("/enabled")
def enabled() -> tuple[str, int]:
    tenants.set_enabled(_verify_shared_secret_event(), True)
    return "", 204


@bp.post("/disabled")
def disabled() -> tuple[str, int]:
    tenants.set_enabled(_verify_shared_secret_event(), False)
    return "", 204
