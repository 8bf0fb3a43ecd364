"""Receives Jira's issue-data webhooks (the descriptor's ``webhooks`` module) and records them for the next backup.

Jira signs each delivery with a Connect JWT (HS256, the tenant's shared secret, ``qsh`` of this POST): it is verified
exactly as the app's other Jira→app calls are (``app.connect.auth.authenticate``), before the body is read. A
delivery is recorded once per ``X-Atlassian-Webhook-Identifier`` (stable across Jira's retries), so a duplicate
answers 200 and records nothing more. Only the issue ids matter here: the next incremental issue pass reads the
issues again (or drops the deleted ones) through its usual cheap endpoints. A Forge installation gets the same events
through a ``trigger`` module (``app.forge.issue_events``), which records them through the same ``record_delivery``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..connect.auth import authenticate
from ..connect.errors import ConnectError
from ..connect.tokens import token_from_header
from . import changes

bp = Blueprint("issue_webhooks", __name__)

WEBHOOK_PATH = "/webhooks/issue-data"
DELETION = "jira:issue_deleted"
# Events whose issue (or issues) the next backup reads again.
CHANGING = frozenset({
    "jira:issue_created", "jira:issue_updated",
    "comment_created", "comment_updated", "comment_deleted",
    "worklog_created", "worklog_updated", "worklog_deleted",
    "attachment_created", "attachment_deleted",
    "issuelink_created", "issuelink_deleted",
})
EVENTS = frozenset({DELETION, *CHANGING})
MAX_IDENTIFIER = 128


class BadWebhook(ConnectError):
    """A signed delivery that isn't the webhook Jira sends (says expected vs received)."""

    status = 400


def issue_ids_of(body: dict[str, Any]) -> list[str]:
    """The issues a delivery names: ``issue.id``, a worklog's or attachment's ``issueId``, a link's two ends."""
    found: list[Any] = [(body.get("issue") or {}).get("id") if isinstance(body.get("issue"), dict) else None]
    for member in ("worklog", "attachment", "comment"):
        value = body.get(member)
        if isinstance(value, dict):
            found.append(value.get("issueId"))
    link = body.get("issueLink")
    if isinstance(link, dict):
        found += [link.get("sourceIssueId"), link.get("destinationIssueId")]
    return sorted({str(i) for i in found if isinstance(i, int | str) and str(i).isdigit()})


def _identifier() -> str:
    identifier = (request.headers.get("X-Atlassian-Webhook-Identifier") or "").strip()
    if not identifier or len(identifier) > MAX_IDENTIFIER:
        raise BadWebhook(f"Expected an X-Atlassian-Webhook-Identifier header of 1 to {MAX_IDENTIFIER} characters, "
                         f"received {len(identifier)} characters.")
    return identifier


def _body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=False)
    except RequestEntityTooLarge:
        raise
    except HTTPException:
        raise BadWebhook("Expected a JSON object as the webhook body, received something else.") from None
    if not isinstance(body, dict):
        raise BadWebhook(f"Expected a JSON object as the webhook body, received {type(body).__name__}.")
    return body


def record_delivery(tenant_id: int, identifier: str, event: Any, body: dict[str, Any]) -> tuple[bool, int]:
    """Record one delivery of ``event`` (a Connect webhook event name) for the tenant: the one way in of both doors
    (the Connect webhook below and the Forge trigger, ``app.forge.issue_events``). Returns whether it was new (False
    for a retry or duplicate of ``identifier``) and how many issues it names.

    :raises BadWebhook: for an event not subscribed to, or a body naming no issue (nothing is recorded).
    """
    if event not in EVENTS:
        raise BadWebhook(f"Expected one of the subscribed events ({', '.join(sorted(EVENTS))}), received "
                         f"{str(event)[:80]!r}.")
    issue_ids = issue_ids_of(body)
    if not issue_ids:
        raise BadWebhook(f"Expected the {event} delivery to name an issue id, received none.")
    kind = changes.DELETED if event == DELETION else changes.CHANGED
    return changes.record(tenant_id, identifier, str(event), issue_ids, kind), len(issue_ids)


@bp.post(WEBHOOK_PATH)
def issue_webhook() -> ResponseReturnValue:
    """Record one issue-data webhook delivery for the tenant that signed it."""
    ctx = authenticate(token_from_header(request.headers.get("Authorization")), allow_context=False,
                       allow_request=True)
    identifier = _identifier()
    body = _body()
    recorded, issues = record_delivery(ctx.tenant.id, identifier, body.get("webhookEvent"), body)
    return jsonify(recorded=recorded, issues=issues), 200
