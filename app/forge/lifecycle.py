"""Endpoints Forge calls by itself: installed/upgraded (a trigger), pre-uninstall, and the hourly scheduled trigger.

Forge gives these calls 5 s and retries them 4 times, so each answers from the database alone: the one Jira call
an install needs (``serverInfo``, for the site URL) runs as a job. Every handler is idempotent under retries.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import update

from ..backups.schedule import BackupSchedule, next_slot, schedule_for
from ..backups.service import start_backup
from ..clock import utcnow
from ..extensions import affected_rows, db
from ..jira.errors import JiraError, JiraUnavailable, RateLimited
from ..jira.operations import declare
from ..jobs.models import Job
from ..jobs.runtime import JobContext, JobFailed, RetryLater, enqueue
from ..tenant_access import jira_access
from ..tenants import Tenant, record_base_url
from . import ForgeError
from .auth import authenticate_invocation
from .installations import installation_by_id, mark_installed, mark_uninstalled, site_url_known
from .tokens import forget

log = logging.getLogger(__name__)

bp = Blueprint("forge_lifecycle", __name__, url_prefix="/forge/events")

INSTALL_EVENTS = frozenset({"avi:forge:installed:app", "avi:forge:upgraded:app"})
SITE_INFO_KIND = "forge-site-info"
SERVER_INFO = declare("GET", "/rest/api/3/serverInfo")


def _event() -> dict[str, Any]:
    """The event, wrapped (``{"payload": {...}}``) or bare; an empty body is an empty event."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ForgeError("The event body must be a JSON object.", code="bad-event")
    payload = body.get("payload")
    return payload if isinstance(payload, dict) else body


APP_ARI_PREFIX = "ari:cloud:ecosystem::app/"


def _app_uuid(app_id: str) -> str:
    """The app's UUID from its id, bare or as the full ARI (compared case-insensitively, as UUIDs are)."""
    return app_id.strip().removeprefix(APP_ARI_PREFIX).lower()


def same_app(claimed: Any, app_id: str) -> bool:
    """Does an event's ``app.id`` name this app? Atlassian's lifecycle event reference types it as a string and
    shows the bare UUID, while the FIT's ``app.id``/``aud`` (our ``app_id``) is the ARI: accept both forms."""
    return isinstance(claimed, str) and bool(claimed.strip()) and _app_uuid(claimed) == _app_uuid(app_id)


def _ok(**fields: Any) -> ResponseReturnValue:
    return jsonify(status="ok", **fields), 200


@bp.post("/lifecycle")
def lifecycle() -> ResponseReturnValue:
    ctx = g.forge = authenticate_invocation()
    event = _event()
    event_type = event.get("eventType")
    if event_type is not None and event_type not in INSTALL_EVENTS:
        raise ForgeError(f"Unsupported lifecycle event {str(event_type)[:80]!r}; expected one of "
                         f"{sorted(INSTALL_EVENTS)}.", code="unsupported-event")
    inv = ctx.invocation
    if event.get("id") not in (None, inv.installation_id):
        raise ForgeError("The event's installation id is not the invocation token's.", code="installation-mismatch")
    app = event.get("app")
    if isinstance(app, dict) and app.get("id") is not None and not same_app(app["id"], inv.app_id):
        raise ForgeError(f"The event is for another app: expected app id {_app_uuid(inv.app_id)!r} (bare or as "
                         f"{APP_ARI_PREFIX}<id>), received {str(app['id'])[:120]!r}.", code="app-mismatch")
    installation = ctx.installation or installation_by_id(inv.installation_id)
    assert installation is not None  # tenant_for created it
    mark_installed(ctx.tenant, installation)
    job = _refresh_site_url(ctx.tenant)
    log.info("forge %s tenant=%s installation=%s", event_type or "lifecycle event", ctx.tenant.client_key,
             inv.installation_id)
    return _ok(tenant=ctx.tenant.client_key, siteInfoJob=job.id if job else None)


@bp.post("/pre-uninstall")
def pre_uninstall() -> ResponseReturnValue:
    ctx = g.forge = authenticate_invocation(allow_uninstalled=True)
    installation = ctx.installation or installation_by_id(ctx.invocation.installation_id)
    assert installation is not None
    mark_uninstalled(ctx.tenant, installation)
    forget(ctx.tenant.id, installation.installation_id)
    log.info("forge pre-uninstall tenant=%s installation=%s (data kept)", ctx.tenant.client_key,
             installation.installation_id)
    return _ok(tenant=ctx.tenant.client_key, installed=ctx.tenant.is_installed)


@bp.post("/hourly")
def hourly() -> ResponseReturnValue:
    """The scheduled trigger: its token keeps the store fresh (stored by the decorator); the schedule is checked."""
    ctx = g.forge = authenticate_invocation()
    _event()  # validates the body's shape; the trigger's context adds nothing we need
    enqueued = check_backup_schedule(ctx.tenant)
    if not site_url_known(ctx.tenant):
        _refresh_site_url(ctx.tenant)
    return _ok(tenant=ctx.tenant.client_key, backupEnqueued=enqueued)


# -- the site URL, read from Jira in a job ----------------------------------------------------------------------
def _refresh_site_url(tenant: Tenant) -> Job | None:
    """Queue the serverInfo read (one at a time per tenant); answers at once."""
    job, _created = enqueue(tenant.id, SITE_INFO_KIND, {}, singleton=f"{SITE_INFO_KIND}:{tenant.id}",
                            requested_by="forge")
    return job


def run_site_info(ctx: JobContext) -> dict[str, Any]:
    """Read the site's URL from ``GET {apiBaseUrl}/rest/api/3/serverInfo`` and record it (with its history)."""
    tenant = db.session.get(Tenant, ctx.tenant_id)
    if tenant is None or not tenant.is_installed:
        raise JobFailed("The app is no longer installed on this Jira site.")
    access = jira_access(tenant)
    db.session.commit()  # no transaction stays open while we wait on Jira
    try:
        info = access.call(SERVER_INFO) or {}
    except RateLimited as exc:  # includes "no usable system token yet"
        raise RetryLater(exc.retry_after or 60, "Waiting to read the site's address from Jira.") from None
    except JiraUnavailable as exc:
        raise RetryLater(60, f"Jira is unavailable ({exc.describe()}); reading the site address later.") from None
    except JiraError as exc:
        raise JobFailed(f"Jira refused to tell the site's address: {exc.describe()}") from None
    base_url = info.get("baseUrl") if isinstance(info, dict) else None
    if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")) or len(base_url) > 512:
        raise JobFailed("Jira's serverInfo has no usable baseUrl.")
    display = info.get("displayUrl")
    tenant = db.session.get(Tenant, ctx.tenant_id, populate_existing=True)
    assert tenant is not None
    record_base_url(tenant, base_url, display if isinstance(display, str) and display != base_url else None)
    db.session.commit()
    return {"base_url": tenant.base_url}


# -- the tenant's backup schedule, checked by the hourly trigger ------------------------------------------------
def check_backup_schedule(tenant: Tenant, now: datetime | None = None) -> bool:
    """Enqueue the tenant's backup if its slot has come; True when this call enqueued it.

    The same conditional update as the sweeper's tick, so the trigger and the tick never both enqueue one slot.
    """

    now = now or utcnow()
    schedule = schedule_for(tenant, now)
    if not schedule.enabled or schedule.next_run_at > now or not tenant.is_installed:
        return False
    planned = schedule.next_run_at
    following = next_slot(tenant.client_key, schedule.interval_hours, now)
    won = affected_rows(db.session.execute(
        update(BackupSchedule).where(BackupSchedule.tenant_id == tenant.id, BackupSchedule.next_run_at == planned)
        .values(next_run_at=following, last_enqueued_at=now).execution_options(synchronize_session=False)
    )) == 1
    db.session.commit()
    if not won:
        return False
    start_backup(tenant, None)
    return True
