"""Decorators for views Forge invokes: a verified FIT resolves the tenant and stores its token; admins via Jira.

- ``forge_invocation_required``: ``Authorization: Bearer <FIT>`` verified (401 JSON otherwise), the tenant found or
  created (``tenant_for``), the request's system token kept if fresher, ``g.forge`` set.
- ``forge_admin_required``: the FIT's ``principal`` must hold Jira's ADMINISTER global permission, asked of Jira
  through the Forge credential (``app.admin_check``, the check Connect's pages make too); 403 JSON otherwise, and
  for calls with no principal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import g, request

from ..admin_check import is_jira_admin
from ..jira.errors import JiraError
from ..tenants import Tenant
from . import ForgeError, ForgeForbidden
from .fit import Invocation, token_from_authorization, verify_fit
from .installations import ForgeInstallation, installation_by_id, tenant_for
from .tokens import ForgeTokenUnavailable, store_from_request, wake_token_waiters

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class ForgeContext:
    """Who is calling through Forge: the tenant, the verified invocation and the user's accountId (if any)."""

    tenant: Tenant
    invocation: Invocation
    account_id: str | None
    installation: ForgeInstallation | None = None


def forge_current() -> ForgeContext:
    ctx = g.get("forge")
    if ctx is None:
        raise ForgeError("This request was not authenticated by Forge.", status=401, code="invalid-invocation-token")
    return ctx


def authenticate_invocation(*, allow_uninstalled: bool = False) -> ForgeContext:
    """Verify the request's FIT, resolve its tenant, keep its system token; nothing is written before the FIT holds."""
    invocation = verify_fit(token_from_authorization(request.headers.get("Authorization")))
    tenant = tenant_for(invocation)
    installation = installation_by_id(invocation.installation_id)
    if installation is not None and not installation.is_installed and not allow_uninstalled:
        raise ForgeForbidden("This installation of the app has been uninstalled.", code="installation-uninstalled")
    live = installation is None or installation.is_installed
    if live and store_from_request(tenant, request.headers, installation_id=invocation.installation_id):
        wake_token_waiters(tenant.id)
    return ForgeContext(tenant=tenant, invocation=invocation, account_id=invocation.principal,
                        installation=installation)


def forge_invocation_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.forge = authenticate_invocation()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def forge_admin_required(view: F) -> F:
    """Use under ``forge_invocation_required``: refuses callers who aren't Jira administrators."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = forge_current()
        if not ctx.account_id:
            raise ForgeForbidden("Only a signed-in Jira administrator can do this (the call names no user).")
        try:
            allowed = is_jira_admin(ctx.tenant, ctx.account_id)
        except ForgeTokenUnavailable:
            raise  # no usable system token: answered 503, the UI tries again
        except JiraError as exc:
            raise ForgeForbidden(f"Could not confirm with Jira that you are an administrator ({exc.status}); "
                                 "try again.") from None
        if not allowed:
            raise ForgeForbidden("Only Jira administrators can use disaster recovery.")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
