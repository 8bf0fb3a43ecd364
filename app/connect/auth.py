"""Decorators that authenticate incoming requests from Jira's iframes and from our own pages' forms/fetches.

- ``page_jwt_required``: the iframe load; a request-bound JWT (real qsh) signed with the tenant's shared secret.
- ``context_jwt_required``: browser calls back to us; only context tokens (qsh ``context-qsh``): ours, minted
  into the page, or Jira's own from ``AP.context.getToken()``.
- ``admin_required``: the acting user must hold Jira's ADMINISTER global permission, asked of Jira itself
  (conditions in the descriptor only hide links; they protect nothing).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import current_app, g, request

from .. import tenants
from ..admin_check import is_jira_admin
from ..jira.errors import JiraError
from .current_request import relative_request_url
from .errors import AuthenticationError, ForbiddenError, UnknownTenantError
from .qsh import CONTEXT_QSH
from .tokens import check_qsh, encode_hs256, token_from_header, unverified_claims, verify_hs256

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class ConnectContext:
    """Who is calling: the tenant (Jira site) and the user's accountId, and how they proved it."""

    tenant: tenants.Tenant
    account_id: str | None
    token_kind: str  # "request" or "context"
    claims: dict[str, Any] = field(repr=False)


DISABLED_MESSAGE = "The app is disabled on this site; an admin can enable it in Manage apps."


class AppDisabledError(ForbiddenError):
    """The site's admin disabled the app (Connect ``/disabled``): its pages and browser calls are refused."""

    def __init__(self) -> None:
        super().__init__(DISABLED_MESSAGE)


class SessionExpiredError(AuthenticationError):
    """A context token whose page session (``sess``, the first page load) is older than the absolute lifetime."""


def current() -> ConnectContext:
    ctx = g.get("connect")
    if ctx is None:
        raise AuthenticationError("This request was not authenticated.")
    return ctx


def _token_from_request(*, allow_form: bool) -> str | None:
    token = token_from_header(request.headers.get("Authorization"))
    if token:
        return token
    token = request.args.get("jwt")
    if not token and allow_form and request.method == "POST":
        token = request.form.get("jwt")
    return token or None


def authenticate(token: str | None, *, allow_context: bool, allow_request: bool) -> ConnectContext:
    """Verify ``token`` for the current request and return who it speaks for."""
    if not token:
        raise AuthenticationError("This page must be opened from Jira: no JWT was sent.")
    claims = unverified_claims(token)
    client_key = claims.get("iss")
    if not isinstance(client_key, str) or not client_key:
        raise AuthenticationError("The JWT names no issuer.")
    tenant = tenants.get_by_client_key(client_key)
    if tenant is None or not tenant.is_installed:
        raise UnknownTenantError("The JWT's issuer is not an installation of this app.")
    verified = verify_hs256(token, tenant.shared_secret, leeway=current_app.config["JWT_LEEWAY_SECONDS"])
    g.connect_tenant = tenant  # signed by the tenant: our response headers may let its site frame the answer
    kind = check_qsh(verified, request.method, relative_request_url(),
                     allow_context=allow_context, allow_request=allow_request)
    if kind == "context":
        _check_session_age(verified)
    if not tenant.enabled:
        # Checked after the signature, so a stranger learns nothing about a site. Lifecycle events don't come
        # through here (they must keep working to re-enable the app); a restore already running goes on.
        raise AppDisabledError()
    sub = verified.get("sub")
    return ConnectContext(tenant=tenant, account_id=sub if isinstance(sub, str) and sub else None,
                          token_kind=kind, claims=verified)


def page_jwt_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.connect = authenticate(_token_from_request(allow_form=False), allow_context=False, allow_request=True)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def context_jwt_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.connect = authenticate(_token_from_request(allow_form=True), allow_context=True, allow_request=False)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _session_start(claims: dict[str, Any], default: int) -> int:
    """When the page session began: our ``sess`` claim, else the token's own ``iat`` (Jira's tokens)."""
    for name in ("sess", "iat"):
        if name not in claims:
            continue
        value = claims[name]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise AuthenticationError(f"The JWT's {name!r} claim must be a number of seconds, got {value!r}.")
        return int(value)
    return default


def _check_session_age(claims: dict[str, Any]) -> None:
    """Refuse a context token whose page was first loaded longer ago than ``CONTEXT_SESSION_MAX_SECONDS``.

    Each page load and redirect mints a fresh context token from the last one; without this bound a page kept
    open (or a leaked token refreshed by a script) would stay signed in forever.
    """
    now = int(time.time())
    start = _session_start(claims, now)
    limit = current_app.config["CONTEXT_SESSION_MAX_SECONDS"]
    if start > now + current_app.config["JWT_LEEWAY_SECONDS"]:
        raise AuthenticationError(f"The JWT's session starts in the future ({start}; the time is now {now}).")
    if now - start > limit:
        raise SessionExpiredError(
            f"Your session on this page has expired; reopen it from Jira (opened {now - start} seconds ago, "
            f"at most {limit} allowed).")


def mint_context_token(ctx: ConnectContext, *, now: int | None = None) -> str:
    """A short-lived token for the page's forms and fetches (iframes can't rely on cookies).

    It carries ``sess``, the time of the Jira-signed page load the session began with, so re-minting from a
    context token never extends the session past ``CONTEXT_SESSION_MAX_SECONDS``.
    """
    issued = int(now if now is not None else time.time())
    claims = {"iss": ctx.tenant.client_key, "iat": issued, "sess": _session_start(ctx.claims, issued),
              "exp": issued + current_app.config["CONTEXT_TOKEN_TTL_SECONDS"], "qsh": CONTEXT_QSH}
    if ctx.account_id:
        claims["sub"] = ctx.account_id
    return encode_hs256(claims, ctx.tenant.shared_secret)


def admin_required(view: F) -> F:
    """Use under one of the JWT decorators: refuses users who aren't Jira administrators."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = current()
        if not ctx.account_id:
            raise ForbiddenError("Only a signed-in Jira administrator can do this.")
        try:
            allowed = is_jira_admin(ctx.tenant, ctx.account_id)
        except JiraError as exc:
            raise ForbiddenError(
                f"Could not confirm with Jira that you are an administrator ({exc.status}); try again.") from None
        if not allowed:
            raise ForbiddenError("Only Jira administrators can use disaster recovery.")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
