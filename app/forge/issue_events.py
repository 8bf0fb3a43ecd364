"""Jira's issue events through the Forge door: the manifest's issue-data ``trigger`` delivers them here, and they are
recorded for the next backup exactly as the Connect webhooks are (``app.issuedata.webhooks.record_delivery``).

Authenticated as every call Forge makes by itself: the Forge Invocation Token (RS256 against Forge's keys, this
app's audience) names the installation, and so the tenant; an uninstalled installation is refused, and an event
whose ``context.cloudId`` isn't the token's site is refused (a token of one installation can't feed another site's
backups). Forge gives an event 5 s and retries it up to 4 times: the handler writes one row per issue and answers.

Idempotent by event id. Forge's product events carry no documented event id (**[unverified]**: none is listed in
the events reference), and a retry resends the same payload (apart from a ``retryContext``), so the id is the
SHA-256 of the installation and the payload without ``retryContext``: a retried or duplicated event records once.
Two distinct events with identical payloads would record once too, which loses nothing: a row only says "read this
issue again" (or "it is gone").
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from ..issuedata import webhooks
from . import ForgeError
from .auth import authenticate_invocation

log = logging.getLogger(__name__)

bp = Blueprint("forge_issue_events", __name__, url_prefix="/forge/events")

EVENT_PATH = "/forge/events/issue-data"
# Forge's issue-data events and the Connect webhook event each one is recorded as (one vocabulary in the rows).
# Forge has no "comment updated" event: editing a comment moves its issue's ``updated``, which the pass searches.
FORGE_EVENTS: dict[str, str] = {
    "avi:jira:created:issue": "jira:issue_created",
    "avi:jira:updated:issue": "jira:issue_updated",
    "avi:jira:deleted:issue": webhooks.DELETION,
    "avi:jira:commented:issue": "comment_created",
    "avi:jira:deleted:comment": "comment_deleted",
    "avi:jira:created:worklog": "worklog_created",
    "avi:jira:updated:worklog": "worklog_updated",
    "avi:jira:deleted:worklog": "worklog_deleted",
    "avi:jira:created:attachment": "attachment_created",
    "avi:jira:deleted:attachment": "attachment_deleted",
    "avi:jira:created:issuelink": "issuelink_created",
    "avi:jira:deleted:issuelink": "issuelink_deleted",
}
IDENTIFIER_PREFIX = "forge:"
VOLATILE = frozenset({"retryContext"})  # what a retry of the same event changes


def _body() -> tuple[dict[str, Any], dict[str, Any]]:
    """The event and its context: wrapped (``{"payload": {...}, "context": {...}}``) or the bare event."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ForgeError("Expected a JSON object as the event body, received something else.", code="bad-event")
    payload = body.get("payload")
    if isinstance(payload, dict):
        context = body.get("context")
        return payload, context if isinstance(context, dict) else {}
    context = body.get("context")
    return body, context if isinstance(context, dict) else {}


def event_identifier(installation_id: str, payload: dict[str, Any]) -> str:
    """A delivery's stable id: the same for every retry or duplicate of one event of one installation."""
    stable = {k: v for k, v in payload.items() if k not in VOLATILE}
    canonical = json.dumps([installation_id, stable], sort_keys=True, separators=(",", ":"), default=str)
    return IDENTIFIER_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def _check_site(context: dict[str, Any], token_cloud_id: str) -> None:
    claimed = context.get("cloudId")
    if claimed is not None and claimed != token_cloud_id:
        raise ForgeError("The event is for another site than the invocation token's installation: expected cloud "
                         f"id {token_cloud_id!r}, received {str(claimed)[:64]!r}.", code="installation-mismatch",
                         status=403)


@bp.post("/issue-data")
def issue_event() -> ResponseReturnValue:
    """Record one Forge issue-data event for the tenant of the installation that Forge's token names."""
    ctx = g.forge = authenticate_invocation()
    payload, context = _body()
    _check_site(context, ctx.invocation.cloud_id)
    event_type = payload.get("eventType")
    event = FORGE_EVENTS.get(event_type) if isinstance(event_type, str) else None
    if event is None:
        raise ForgeError(f"Unsupported issue event {str(event_type)[:80]!r}; expected one of "
                         f"{sorted(FORGE_EVENTS)}.", code="unsupported-event")
    identifier = event_identifier(ctx.invocation.installation_id, payload)
    recorded, issues = webhooks.record_delivery(ctx.tenant.id, identifier, event, payload)
    log.info("forge %s tenant=%s issues=%d recorded=%s", event_type, ctx.tenant.client_key, issues, recorded)
    return jsonify(status="ok", recorded=recorded, issues=issues), 200
