"""Handles Connect lifecycle events: signed ``installed``/``uninstalled`` (RS256) and ``enabled``/``disabled``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..extensions import lazy_extension
from . import tenants
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


def _verify_signed_install() -> dict[str, Any]:
    """Verify an RS256 signed-install request; return its body. Nothing is read from the body before this."""
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
    return body


@bp.post("/installed")
def installed() -> tuple[str, int]:
    body = _verify_signed_install()
    if not isinstance(body.get("sharedSecret"), str) or not body["sharedSecret"]:
        raise BadLifecyclePayload("The installed body lacks 'sharedSecret'.")
    tenant = tenants.save_installation(body)
    log.info("installed client_key=%s base_url=%s", tenant.client_key, tenant.base_url)
    return "", 204


@bp.post("/uninstalled")
def uninstalled() -> tuple[str, int]:
    body = _verify_signed_install()
    tenant = tenants.get_by_client_key(body["clientKey"])
    if tenant is not None:
        tenants.mark_uninstalled(tenant)
        log.info("uninstalled client_key=%s (data kept %s days)", tenant.client_key,
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
