"""The Forge admin page's JSON API (``/forge/api/v1``, contract in ``forge/API.md``): thin views over the same
domain services the Connect pages use (connections, backups, restore), answering JSON only.

Every view needs a valid Forge invocation token (FIT) and a principal Jira confirms is an admin. Everything the page
shows is data: names and reasons come from Jira sites and are returned as strings for the UI to render as text.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from ..answers import Refused, http_answer
from ..backups import schedule as backup_schedule
from ..backups import service as backups
from ..backups.models import Snapshot
from ..errors import respond
from ..extensions import db
from ..http_input import parse_id
from ..jobs.models import Job
from ..presenters import connections as p
from ..presenters import people
from ..presenters import restore as rp
from ..recovery import actions, messages
from ..recovery import connections as rc
from ..recovery.connections import Action, ConnectionState, RecoveryConnection, Side
from ..restore import service as restore
from ..restore.models import RestoreItem, RestoreRun, RunStatus
from ..restore.plan import Selection
from ..restore.restorers import load as restorers
from ..tenants import Tenant
from .auth import forge_admin_required, forge_current, forge_invocation_required

log = logging.getLogger(__name__)

bp = Blueprint("forge_api", __name__, url_prefix="/forge/api/v1")

MAX_REQUEST_BYTES = 500 * 1024  # Forge's own limit on an invokeRemote body
MAX_OFFSET = 10**9  # far past any site's snapshots, runs or report rows
F = TypeVar("F", bound=Callable[..., Any])


# -- plumbing: limits, auth --------------------------------------------------------------------------------------

@bp.before_request
def _limits() -> ResponseReturnValue | None:
    # Forge never sends more than 500 KB; anything bigger isn't from Forge (or is a mistake): refuse it unread.
    # (An unconfigured Forge door was already answered 404 by app.forge's guard.)
    request.max_content_length = MAX_REQUEST_BYTES  # the 413 names this limit; also bounds a body without a length
    if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
        return respond(http_answer(413, body_limit=MAX_REQUEST_BYTES))
    return None


@bp.after_request
def _no_store(response: Any) -> Any:
    # Responses may carry a newly issued recovery token or site data: keep them out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def admin_view(view: F) -> F:
    """A valid FIT, then a principal who holds ADMINISTER on the site (checked server-side)."""
    return functools.wraps(view)(forge_invocation_required(forge_admin_required(view)))  # type: ignore[return-value]


def _tenant() -> Tenant:
    return forge_current().tenant


def _account() -> str | None:
    return forge_current().account_id


# -- request parsing ---------------------------------------------------------------------------------------------

def _body() -> dict[str, Any]:
    """The JSON object sent (an empty body is an empty object)."""
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Refused(400, "bad-request", "The request body must be a JSON object.")
    return data


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):  # JSON numbers only, not digits in a string
        raise Refused(400, "bad-request", f"'{key}' must be a positive integer.")
    return parse_id(value, key)  # InvalidId: a 400 naming the field (``app.answers``)


def _string_list(data: dict[str, Any], key: str, limit: int = 500) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) for v in value):
        raise Refused(400, "bad-request", f"'{key}' must be a list of strings.")
    return value


def _page(default: int, maximum: int) -> tuple[int, int]:
    """``offset`` and ``limit`` from the query string, bounded so that a response stays well under 5 MB."""
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", default))
    except ValueError:
        raise Refused(400, "bad-request", "'offset' and 'limit' must be integers.") from None
    if not 0 <= offset <= MAX_OFFSET or limit < 1:  # an OFFSET past BIGINT fails in the database, not here
        raise Refused(400, "bad-request", f"'offset' must be from 0 to {MAX_OFFSET} and 'limit' 1 or more.")
    return offset, min(limit, maximum)


def _paged(total: int, offset: int, limit: int) -> dict[str, Any]:
    return {"total": total, "offset": offset, "limit": limit,
            "next": offset + limit if offset + limit < total else None}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # stored naive in UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- context -----------------------------------------------------------------------------------------------------

@bp.get("/context")
@admin_view
def context() -> ResponseReturnValue:
    """The site and the user the page runs for."""
    ctx = forge_current()
    tenant, inv = ctx.tenant, ctx.invocation
    return jsonify(apiVersion="v1", door="forge",
                   site={"url": tenant.link_url, "baseUrl": tenant.base_url, "displayUrl": tenant.display_url,
                         "cloudId": tenant.cloud_id},
                   user={"accountId": ctx.account_id},
                   installation={"id": inv.installation_id, "environmentType": inv.environment_type,
                                 "environmentId": inv.environment_id})


# -- connections -------------------------------------------------------------------------------------------------

def _site(tenant: Tenant | None) -> dict[str, Any] | None:
    return None if tenant is None else {"url": tenant.link_url, "installed": tenant.is_installed}


def _connection(conn: RecoveryConnection | None) -> dict[str, Any] | None:
    if conn is None:
        return None
    return {"id": conn.id, "state": conn.state.value, "stateLabel": conn.state.label,
            "createdAt": _iso(conn.created_at), "createdBy": conn.created_by, "updatedAt": _iso(conn.updated_at),
            "activatedAt": _iso(conn.activated_at), "activatedBy": conn.activated_by,
            "releasedAt": _iso(conn.released_at), "deactivatedAt": _iso(conn.deactivated_at),
            "tokenUsable": conn.live_token is not None,
            "source": _site(conn.source), "destination": _site(conn.destination)}


def _side(conn: RecoveryConnection | None, state: ConnectionState, actions: list[Action],
          hint: str | None = None) -> dict[str, Any]:
    return {"state": state.value, "stateLabel": state.label, "connection": _connection(conn),
            "actions": [{"action": a.value, "label": p.action_label(a, state)} for a in actions],
            "lostTokenHint": hint}


AUDIT_ROWS = 10  # the page shows the newest few entries first; "Show older entries" pages through the rest


def connections_body(tenant: Tenant) -> dict[str, Any]:
    """Both sides of the tenant's connections with their allowed actions, the newest audit log entries (of every
    action: connections, backups, restores, authorisations, the schedule) and a failed backup's alert."""
    sides = p.connection_sides(tenant)
    log = p.audit_page(tenant, 0, AUDIT_ROWS)
    names = log.names | people.display_names(tenant, [sides.source_conn.created_by if sides.source_conn else None])
    failure = p.backup_failure(tenant)
    return {
        "names": names,
        "source": _side(sides.source_conn, sides.source_state, sides.source_actions, sides.source_hint),
        "situation": sides.situation,
        "destination": _side(sides.dest_conn, sides.dest_state, sides.dest_actions),
        "activeSource": _site(sides.active_source),
        "audit": log.rows(), "auditTotal": log.total,
        "auditNext": AUDIT_ROWS if log.total > AUDIT_ROWS else None,
        "backupFailure": failure.to_dict() if failure else None,
    }


@bp.get("/audit")
@admin_view
def audit_log() -> ResponseReturnValue:
    """The audit log, newest first, paged (``offset``, ``limit``)."""
    offset, limit = _page(25, 100)
    log = p.audit_page(_tenant(), offset, limit)
    return jsonify(entries=log.rows(), **_paged(log.total, offset, limit))


@bp.get("/connections")
@admin_view
def connections() -> ResponseReturnValue:
    return jsonify(connections_body(_tenant()))


@bp.get("/notices")
@admin_view
def notices() -> ResponseReturnValue:
    """The fixed texts the page shows, by code, and the two confirmation steps."""
    return jsonify(notices={code: {"kind": kind, "text": text} for code, (kind, text) in messages.NOTICES.items()},
                   confirmations=messages.CONFIRMATIONS)


def _choice(side: Side, action: Action, data: dict[str, Any]) -> actions.Choice:
    """What the body chose: the connection, Yes/No of a reusable token, the token and address (strings only)."""
    reusable = data.get("reusable")
    token, url = data.get("token", ""), data.get("sourceUrl", "")
    if action is Action.ACTIVATE and not (isinstance(token, str) and isinstance(url, str)):
        raise Refused(400, "bad-request", "'token' and 'sourceUrl' must be strings.")
    return actions.Choice(connection_id=_optional_int(data, "connection"),
                          reusable=reusable if isinstance(reusable, bool) else None,
                          token=token if isinstance(token, str) else "", source_url=url if isinstance(url, str) else "")


def _act(side: Side, name: str) -> ResponseReturnValue:
    """One connection action through the domain's one way in; refusals are answered by ``app.answers``."""
    action = actions.action_named(side, name)
    if action is None:
        raise Refused(404, "not-found", http_answer(404).text)
    data = _body()
    tenant, account = _tenant(), _account()
    choice = _choice(side, action, data)
    if actions.needs_confirmation(action) and data.get("confirmed") is not True:
        # The page asks first (the same step the Connect page has), never for what would be refused.
        actions.check(tenant, side, action, account, choice.connection_id)
        raise Refused(400, "confirmation-required", messages.CONFIRMATIONS[action.value]["title"])
    acted = actions.perform(tenant, side, action, account, choice)
    body: dict[str, Any] = {"notice": messages.notice(acted.notice).to_dict(), "connections": connections_body(tenant)}
    if acted.issued is not None:
        body["token"] = acted.issued.token  # shown once: this response is no-store; only a hash is stored
        body["previousTokenRetired"] = acted.replaced
    return jsonify(body)


@bp.post("/connections/source/<action>")
@admin_view
def source_action(action: str) -> ResponseReturnValue:
    return _act(Side.SOURCE, action)


@bp.post("/connections/destination/<action>")
@admin_view
def destination_action(action: str) -> ResponseReturnValue:
    return _act(Side.DESTINATION, action)


# -- backups -----------------------------------------------------------------------------------------------------

def _snapshot(view: backups.SnapshotView) -> dict[str, Any]:
    return {"id": view.id, "takenAt": _iso(view.taken_at), "finishedAt": _iso(view.finished_at),
            "status": view.status, "message": view.message, "objectCount": view.object_count,
            "bytesStored": view.bytes_stored, "bytesNew": view.bytes_new, "apiCalls": view.api_calls,
            "durationSeconds": view.duration_seconds, "appVersion": view.app_version,
            "formatVersion": view.format_version,
            "types": [{"key": t.key, "label": t.label, "status": t.status, "count": t.count, "reason": t.reason,
                       "apiCalls": t.api_calls} for t in view.types],
            "issueData": None if view.issue_data is None else {
                **view.issue_data.to_json(), "restrictedWords": view.issue_data.restricted_words}}


def _snapshot_view(tenant: Tenant, snapshot_id: int) -> backups.SnapshotView:
    return backups.snapshot_detail(tenant, snapshot_id)


@bp.get("/backups")
@admin_view
def backup_list() -> ResponseReturnValue:
    """The site's snapshots, newest first (paged), and where its backup stands."""
    tenant = _tenant()
    offset, limit = _page(20, 50)
    total = db.session.scalar(select(func.count()).select_from(Snapshot).where(Snapshot.tenant_id == tenant.id))
    rows = db.session.execute(select(Snapshot.id, Job.requested_by).outerjoin(Job, Job.id == Snapshot.job_id)
                              .where(Snapshot.tenant_id == tenant.id)
                              .order_by(Snapshot.taken_at.desc(), Snapshot.id.desc()).offset(offset).limit(limit)).all()
    names = people.display_names(tenant, [who for _, who in rows])
    snapshots = [_snapshot_with_author(backups.snapshot_detail(tenant, snapshot_id), who, names)
                 for snapshot_id, who in rows]
    last = backups.last_backup_job(tenant)
    failure = p.backup_failure(tenant)
    return jsonify(snapshots=snapshots, progress=backups.progress(tenant),
                   lastFailed=None if last is None or last.state != "failed" else {"message": last.message,
                                                                                  "at": _iso(last.created_at)},
                   failure=failure.to_dict() if failure else None, schedule=p.schedule_view(tenant).to_dict(),
                   **_paged(total or 0, offset, limit))


def _schedule_setting(data: dict[str, Any], key: str) -> Any:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):  # JSON numbers only: "24" or 24.5 are refused
        raise Refused(400, "bad-request", f"'{key}' must be a whole number.", field=key)
    return value


@bp.post("/backups/schedule")
@admin_view
def save_schedule() -> ResponseReturnValue:
    """Save the schedule: ``enabled``, ``intervalHours``, ``retentionDaily``, ``retentionWeekly`` (and, to confirm
    a retention that deletes backups, ``confirmedDeletions``: their number). 400 on a bad value, 409 with the number
    and the words when deletions need confirming; nothing changes in either case."""
    data = _body()
    if not isinstance(data.get("enabled"), bool):
        raise Refused(400, "bad-request", "'enabled' must be true or false.", field="enabled")
    confirmed = data.get("confirmedDeletions")
    if confirmed is not None and (isinstance(confirmed, bool) or not isinstance(confirmed, int)):
        raise Refused(400, "bad-request", "'confirmedDeletions' must be a whole number.", field="confirmedDeletions")
    wanted = backup_schedule.Settings(enabled=data["enabled"],
                                      interval_hours=_schedule_setting(data, "intervalHours"),
                                      retention_daily=_schedule_setting(data, "retentionDaily"),
                                      retention_weekly=_schedule_setting(data, "retentionWeekly"))
    tenant = _tenant()
    # A value out of range (400) or deletions to confirm (409) are answered by ``app.answers``; nothing changes.
    change = backup_schedule.change_schedule(tenant, _account(), wanted, confirmed_deletions=confirmed)
    deleted = f" {change.deleted} backup{'s' if change.deleted != 1 else ''} deleted." if change.deleted else ""
    text = messages.NOTICES["schedule-saved"][1] + deleted
    return jsonify(notice={"code": "schedule-saved", "kind": "success", "text": text}, deleted=change.deleted,
                   schedule=p.schedule_view(tenant).to_dict())


@bp.post("/backups")
@admin_view
def back_up_now() -> ResponseReturnValue:
    """Queue a backup (one at a time per site); an already queued/running one is returned instead."""
    _body()
    job, created = backups.start_backup(_tenant(), _account())
    return jsonify(jobId=job.id, created=created, state=job.state), 202 if created else 200


@bp.get("/backups/progress")
@admin_view
def backup_progress() -> ResponseReturnValue:
    return jsonify(backups.progress(_tenant()))


def _snapshot_with_author(view: Any, who: str | None, names: dict[str, str]) -> dict[str, Any]:
    """A snapshot as the list and the detail both give it: with who started its backup, by name."""
    started_by = people.person(who, names)
    return {**_snapshot(view), "startedBy": None if started_by is None else {"accountId": started_by.account_id,
                                                                             "name": started_by.name},
            "points": p.snapshot_spend(_tenant().id, view.id)}  # Jira's points its backup spent


@bp.get("/backups/<int:snapshot_id>")
@admin_view
def backup_detail(snapshot_id: int) -> ResponseReturnValue:
    tenant = _tenant()
    view = _snapshot_view(tenant, snapshot_id)
    who = db.session.scalar(select(Job.requested_by).join(Snapshot, Snapshot.job_id == Job.id)
                            .where(Snapshot.id == snapshot_id, Snapshot.tenant_id == tenant.id))
    return jsonify(snapshot=_snapshot_with_author(view, who, people.display_names(tenant, [who])))


@bp.get("/backups/<int:snapshot_id>/types/<type_key>")
@admin_view
def backup_type(snapshot_id: int, type_key: str) -> ResponseReturnValue:
    """One type's entries in a snapshot (natural key, source id, size), paged; payloads stay encrypted."""
    tenant = _tenant()
    view = _snapshot_view(tenant, snapshot_id)
    summary = next((t for t in view.types if t.key == type_key), None)
    if summary is None:
        raise Refused(404, "not-found", "That snapshot holds no such type.")
    offset, limit = _page(200, 1000)
    entries = backups.snapshot_contents(tenant, snapshot_id, type_key, limit=offset + limit)[offset:]
    return jsonify(type=summary.key, label=summary.label,
                   entries=[{"naturalKey": e.natural_key, "sourceId": e.source_id, "size": e.size}
                            for e in entries], **_paged(summary.count, offset, limit))


# -- restore -----------------------------------------------------------------------------------------------------

def _run(run: RestoreRun) -> dict[str, Any]:
    return {"id": run.id, "snapshotId": run.snapshot_id, "status": run.status, "message": run.message,
            "createdAt": _iso(run.created_at), "finishedAt": _iso(run.finished_at), "requestedBy": run.requested_by,
            "userFallback": run.user_fallback, "selection": run.selection, "missingUsers": run.missing_users,
            "unsupportedTypes": run.unsupported_types, "summary": run.summary, "fidelity": run.fidelity,
            "verification": run.verification}


def _own_run(run_id: int) -> RestoreRun:
    return restore.get_run(_tenant(), run_id)


def _counts(rows: list[RestoreItem], field: str) -> list[dict[str, Any]]:
    return [{"type": t.type_key, "title": t.title, "counts": t.counts, "total": t.total}
            for t in restore.counts_by_type(rows, field)]


def _title(type_key: str) -> str:
    known = restorers()
    return known[type_key].title if type_key in known else type_key


def _item(row: RestoreItem, people_here: rp.People | None = None) -> dict[str, Any]:
    """One object of a run: the row's values, its reason, fix and notes in words (people by name, tense by outcome)."""
    return {"naturalKey": row.natural_key, "selected": row.selected,
            **rp.item_view(row, people_here or rp.People({}))}


@bp.get("/restore")
@admin_view
def restore_overview() -> ResponseReturnValue:
    """The connected source, its restorable snapshots, and this site's recent runs."""
    tenant = _tenant()
    source = rc.active_source_for(tenant)
    snapshots = ([_snapshot(backups.snapshot_detail(source, s.id)) for s in restore.restorable_snapshots(tenant)]
                 if source is not None else [])
    runs = list(db.session.scalars(select(RestoreRun).where(RestoreRun.tenant_id == tenant.id)
                                   .order_by(RestoreRun.id.desc()).limit(10)))
    people_here = rp.people_for(tenant, runs)
    return jsonify(source=_site(source), snapshots=snapshots,
                   runs=[{**_run(r), "words": rp.history_row(r, people_here)} for r in runs])


@bp.post("/restore/previews")
@admin_view
def start_preview() -> ResponseReturnValue:
    """Plan a snapshot of the connected source against this site (nothing is written)."""
    snapshot_id = _optional_int(_body(), "snapshotId")
    if snapshot_id is None:
        raise Refused(400, "bad-request", "Choose a snapshot to restore.")
    run = restore.start_preview(_tenant(), snapshot_id, _account())
    return jsonify(run=_run(run)), 202


@bp.get("/restore/runs/<int:run_id>")
@admin_view
def run_detail(run_id: int) -> ResponseReturnValue:
    """A run: its plan counts per type, outcomes, missing users, verification (items are paged separately)."""
    run = _own_run(run_id)
    rows = restore.items(run)
    job = restore.job_of(run)
    planned = RunStatus(run.status) == RunStatus.PLANNED
    return jsonify(run=_run(run),
                   job={"id": job.id, "state": job.state, "step": job.step, "done": job.progress_done,
                        "total": job.progress_total} if job else None,
                   planCounts=_counts([r for r in rows if r.selected or planned], "action"),
                   outcomeCounts=_counts([r for r in rows if r.selected], "outcome"),
                   conflictCount=sum(1 for r in rows if r.conflict), itemCount=len(rows),
                   types=[{"key": k, "title": _title(k)} for k in dict.fromkeys(r.type_key for r in rows)],
                   **_run_words(run))


def _run_words(run: RestoreRun) -> dict[str, Any]:
    """What the page shows of a run in words (the Connect page's presenters): its lozenge, who and when, whether a
    preview is out of date, the missing people by name, the choices, the confirmation and the differences."""
    account = _account()
    people_here = rp.people_for(_tenant(), [run], extra=[account] if account else [])
    stale = restore.stale_reason(run)
    selection = Selection.from_dict(run.selection)
    fallback = run.user_fallback or restore.DEFAULT_FALLBACK
    planned = RunStatus(run.status) == RunStatus.PLANNED and stale is None
    return {"words": {**rp.history_row(run, people_here), "stale": stale},
            "missingPeople": rp.missing_people(run, people_here),
            "fallbacks": rp.fallback_choices(people_here, account),
            "confirmation": rp.confirmation(run, selection, fallback, _tenant().base_url) if planned else None,
            "differences": [rp.difference_view(d, people_here)
                            for d in (run.verification or {}).get("differences", [])]}


@bp.get("/restore/runs/<int:run_id>/items")
@admin_view
def run_items(run_id: int) -> ResponseReturnValue:
    """A run's planned objects, paged, optionally of one type, only conflicts or only selected ones."""
    run = _own_run(run_id)
    offset, limit = _page(200, 1000)
    rows = restore.items(run, selected_only=request.args.get("selected") == "1")
    if request.args.get("type"):
        rows = [r for r in rows if r.type_key == request.args["type"]]
    if request.args.get("conflicts") == "1":
        rows = [r for r in rows if r.conflict]
    people_here = rp.people_for(_tenant(), [run])
    return jsonify(items=[_item(r, people_here) for r in rows[offset:offset + limit]],
                   **_paged(len(rows), offset, limit))


def _selection(data: dict[str, Any]) -> Any:
    scope = data.get("scope", "all")
    if scope not in ("all", "some"):
        raise Refused(400, "bad-request", "'scope' must be \"all\" or \"some\".")
    jql = data.get("jql") or ""
    if not isinstance(jql, str):
        raise Refused(400, "bad-request", "'jql' must be a string (a JQL query choosing issues in the backup).")
    return p.selection_from(scope, _string_list(data, "types"), _string_list(data, "projects"), jql)


@bp.post("/restore/runs/<int:run_id>/selection")
@admin_view
def run_selection(run_id: int) -> ResponseReturnValue:
    """What a selection includes — the objects chosen and those pulled in as dependencies — and, for the chosen
    fallback, the confirmation: what starting would create and update, and what blocks it (nothing changes)."""
    run = _own_run(run_id)
    data = _body()
    selection = _selection(data)
    fallback = data.get("userFallback") or run.user_fallback or restore.DEFAULT_FALLBACK
    restore.check_choices(run, selection, fallback if isinstance(fallback, str) else "")
    included = restore.selected_rows(run, selection) if not selection.everything else []

    def entry(row: RestoreItem) -> dict[str, Any]:
        return {"type": row.type_key, "title": _title(row.type_key), "sourceId": row.source_id, "name": row.name}

    stale = restore.stale_reason(run)
    return jsonify(selection=selection.to_dict(), stale=stale,
                   chosen=[entry(r) for r, pulled in included if not pulled],
                   pulledIn=[entry(r) for r, pulled in included if pulled],
                   confirmation=None if stale else rp.confirmation(run, selection, str(fallback),
                                                                   _tenant().base_url))


def _shown(value: Any) -> str:
    """A received JSON value as the error names it (short; never echoes a long string back)."""
    if value is None:
        return "nothing"
    if isinstance(value, (bool, int, float, str)):
        return json.dumps(value)[:20]
    return "an array" if isinstance(value, list) else "an object"


@bp.post("/restore/runs/<int:run_id>/start")
@admin_view
def run_start(run_id: int) -> ResponseReturnValue:
    """Restore the chosen objects (dependencies pulled in) with the chosen fallback for missing users, once the
    admin has confirmed on the confirmation step (``"confirmed": true``, as the Connect form's ``confirmed=yes``)
    and nothing blocks it."""
    _own_run(run_id)  # another site's run is missing before anything about the body is said
    data = _body()
    selection = _selection(data)
    fallback = data.get("userFallback", "")
    fallback = fallback if isinstance(fallback, str) else ""
    confirmed = data.get("confirmed")
    unconfirmed = None if confirmed is True else f"expected \"confirmed\": true, received {_shown(confirmed)}"
    run = actions.start_restore(_tenant(), run_id, selection, fallback, _account(), unconfirmed=unconfirmed)
    return jsonify(run=_run(run)), 202


@bp.post("/restore/runs/<int:run_id>/cancel")
@admin_view
def run_cancel(run_id: int) -> ResponseReturnValue:
    _body()
    run = restore.cancel(_tenant(), run_id)
    return jsonify(run=_run(run)), 202


@bp.get("/restore/runs/<int:run_id>/progress")
@admin_view
def run_progress(run_id: int) -> ResponseReturnValue:
    return jsonify(p.restore_progress(_own_run(run_id)))


@bp.get("/restore/runs/<int:run_id>/report")
@admin_view
def run_report(run_id: int) -> ResponseReturnValue:
    """The report as JSON, its objects paged."""
    report = restore.report_json(_own_run(run_id))
    offset, limit = _page(1000, 2000)
    objects = report.pop("objects")
    return jsonify(**report, objects=objects[offset:offset + limit], **_paged(len(objects), offset, limit))


@bp.get("/restore/runs/<int:run_id>/report.csv")
@admin_view
def run_report_csv(run_id: int) -> ResponseReturnValue:
    """The report as CSV text inside JSON (invokeRemote answers JSON only), paged by rows."""
    run = _own_run(run_id)
    offset, limit = _page(5000, 5000)
    # Re-read the service's CSV as records (a cell may hold a line break) and write out one page of them.
    header, *records = list(csv.reader(io.StringIO(restore.report_csv(run))))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(([header] if offset == 0 else []) + records[offset:offset + limit])
    return jsonify(filename=f"restore-{run.id}-report.csv", contentType="text/csv", csv=out.getvalue(),
                   **_paged(len(records), offset, limit))


@bp.get("/restore/runs/<int:run_id>/verification")
@admin_view
def run_verification(run_id: int) -> ResponseReturnValue:
    run = _own_run(run_id)
    return jsonify(status=run.status, fidelity=run.fidelity, verification=run.verification)
