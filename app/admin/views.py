"""The Disaster recovery connections page and its POST actions (views stay thin over the domain services).

Every action is a POST carrying the context token (form field ``jwt``) from a user Jira confirms is an admin.
After an action the browser is redirected (303) back to the page with a fresh context token, since iframes can't
keep cookies; messages travel as short codes mapped to fixed texts, never as echoed input. The one exception is
a newly issued token, rendered directly (``no-store``) because it must be shown exactly once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..connect.auth import (
    admin_required,
    context_jwt_required,
    current,
    mint_context_token,
    page_jwt_required,
)
from ..http_input import InvalidId, parse_optional_id
from ..presenters import people
from ..presenters.connections import (
    ACTION_LABELS,
    CONFIRMATIONS,
    CONFIRMED_SOURCE_ACTIONS,
    DESTINATION_ACTIONS,
    NOTICES,
    SOURCE_ACTIONS,
    audit_page,
    backup_failure,
    connection_sides,
    refusal,
)
from ..recovery import connections as rc
from ..recovery.connections import Action, ConnectionState, RecoveryError, Side
from .sections import sections_for

bp = Blueprint("admin", __name__, url_prefix="/admin")
MAX_TYPED = 2000  # what a refused activation keeps of each typed field (a token is 42 characters)
AUDIT_ROWS = 10  # the main page shows the newest few entries; the audit page pages through all of them
AUDIT_PAGE_ROWS = 25

def _notice_from_query() -> tuple[str, str] | None:
    """The message a redirect asked for, rebuilt from fixed texts and enum values only."""
    code = request.args.get("notice", "")
    if code in NOTICES:
        return NOTICES[code]
    if code == "refused":
        try:
            return "error", rc.refusal_message(Action(request.args.get("action", "")),
                                                ConnectionState(request.args.get("state", "")))
        except ValueError:
            return None
    return None


def _page_context(tenant: Any, context_token: str) -> dict[str, Any]:
    sides = connection_sides(tenant)
    log = audit_page(tenant, 0, AUDIT_ROWS)
    sections = sections_for(tenant)
    grant = next((c["oauth"] for s, c in sections if s.key == "oauth" and "oauth" in c), None)
    names = log.names | people.display_names(tenant, [
        sides.source_conn.created_by if sides.source_conn else None, getattr(grant, "account_id", None)])
    return {
        "names": names,
        "audit": log,
        "audit_on_main_page": True,
        "backup_failure": backup_failure(tenant),
        "tenant": tenant,
        "context_token": context_token,
        "States": ConnectionState,
        "source_conn": sides.source_conn,
        "source_state": sides.source_state,
        "source_actions": {a.value for a in sides.source_actions},
        "dest_conn": sides.dest_conn,
        "dest_state": sides.dest_state,
        "dest_actions": {a.value for a in sides.dest_actions},
        "active_source": sides.active_source,
        "source_hint": sides.source_hint,
        "situation": sides.situation,
        "audit_entries": log.entries,
        "action_labels": ACTION_LABELS,
        "confirmations": CONFIRMATIONS,
        "sections": sections,
    }


def _render(status: int = 200, **extra: Any) -> ResponseReturnValue:
    ctx = current()
    token = mint_context_token(ctx)
    html = render_template("admin/recovery.html", **_page_context(ctx.tenant, token), **extra)
    response = make_response(html, status)
    # The page carries a context token (and maybe a recovery token): keep it out of caches and referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _back(notice: str, **params: Any) -> ResponseReturnValue:
    """Post/redirect/get: back to the page with a fresh context token (the iframe has no cookies)."""
    token = mint_context_token(current())
    return redirect(url_for("admin.recovery_view", jwt=token, notice=notice, **params), 303)


def _refused(err: RecoveryError) -> ResponseReturnValue:
    """Back to the page with the refusal's code (the page rebuilds its words from fixed texts)."""
    if isinstance(err, rc.TransitionRefused):
        return _back("refused", action=err.action.value, state=err.state.value)
    return _back(refusal(err).notice.code)


def _activation_refused(err: RecoveryError, token: str, base_url: str) -> ResponseReturnValue:
    """The page again, at once (no redirect), with the refusal's words and what the admin typed kept.

    The token is kept too: the response is ``no-store`` and ``no-referrer``, so it sits in the same page it was
    typed into and nowhere else, while a redirect would have to put it in an address (history, logs). Making the
    admin paste it again would only invite copying it around more.
    """
    answer = refusal(err)
    return _render(answer.status, notice=(answer.notice.kind, answer.notice.text),
                    typed={"token": token, "base_url": base_url}, refused_field=getattr(err, "field", None))


def _connection_id() -> int | None:
    """The form's connection id: untrusted; the domain checks it belongs to this tenant and side."""
    try:
        return parse_optional_id(request.form.get("connection"), "connection")
    except InvalidId:
        abort(400)


@bp.get("/recovery")
@page_jwt_required
@admin_required
def recovery_page() -> ResponseReturnValue:
    return _render()


@bp.get("/recovery/view")
@context_jwt_required
@admin_required
def recovery_view() -> ResponseReturnValue:
    """The page again after an action (reached by redirect, authenticated by the fresh context token)."""
    return _render(notice=_notice_from_query())


@bp.post("/recovery/source/<action>")
@context_jwt_required
@admin_required
def source_action(action: str) -> ResponseReturnValue:
    act = SOURCE_ACTIONS.get(action) or abort(404)
    ctx = current()
    tenant, account, conn_id = ctx.tenant, ctx.account_id, _connection_id()
    try:
        if act in CONFIRMED_SOURCE_ACTIONS and request.form.get("confirmed") != "yes":
            rc.check(tenant, Side.SOURCE, act, account, conn_id)  # never ask to confirm what would be refused
            return _confirm("source", act, conn_id)
        if act is Action.GENERATE:
            issued = rc.generate_token(tenant, account)
        elif act is Action.REFRESH:
            issued = rc.refresh_token(tenant, account, conn_id)
        elif act is Action.RESET:
            issued = rc.reset_token(tenant, account, conn_id)
        elif act is Action.RELEASE:
            return _release(Side.SOURCE, conn_id)
        else:
            rc.deactivate(tenant, Side.SOURCE, account, conn_id)
            return _back("deactivated")
    except RecoveryError as err:
        return _refused(err)
    # Shown once, in this response only; the redirect that follows "I've stored it" no longer has it.
    return _render(revealed_token=issued.token, revealed_action=act.value)


@bp.post("/recovery/destination/<action>")
@context_jwt_required
@admin_required
def destination_action(action: str) -> ResponseReturnValue:
    act = DESTINATION_ACTIONS.get(action) or abort(404)
    ctx = current()
    conn_id = _connection_id()
    if act in (Action.RELEASE, Action.DEACTIVATE) and request.form.get("confirmed") != "yes":
        return _confirm("destination", act, conn_id)
    try:
        if act is Action.ACTIVATE:
            return _activate()
        if act is Action.RELEASE:
            return _release(Side.DESTINATION, conn_id)
        rc.deactivate(ctx.tenant, Side.DESTINATION, ctx.account_id, conn_id)
        return _back("deactivated")
    except RecoveryError as err:
        return _refused(err)


def _activate() -> ResponseReturnValue:
    ctx = current()
    token, base_url = request.form.get("token", ""), request.form.get("base_url", "")
    try:
        rc.activate(ctx.tenant, ctx.account_id, token, base_url)
    except (rc.ActivationRefused, rc.ActivationThrottled, rc.InvalidActivationInput) as err:
        return _activation_refused(err, token[:MAX_TYPED], base_url[:MAX_TYPED])
    return _back("activated")


def _release(side: Side, conn_id: int | None) -> ResponseReturnValue:
    choice = request.form.get("reusable")
    if choice not in ("yes", "no"):
        abort(400)
    ctx = current()
    rc.release(ctx.tenant, side, ctx.account_id, conn_id, reusable=choice == "yes")
    return _back("released-reusable" if choice == "yes" else "released-retired")


def _confirm(side: str, action: Action, conn_id: int | None) -> ResponseReturnValue:
    """The server-side confirmation step (works without JavaScript)."""
    return _render(confirm={"side": side, "action": action.value, "connection": conn_id})


@bp.get("/recovery/audit")
@context_jwt_required
@admin_required
def audit_view() -> ResponseReturnValue:
    """The whole audit log, a page at a time (newest first)."""
    ctx = current()
    page = request.args.get("page", "1")
    if not page.isascii() or not page.isdigit() or not 1 <= int(page) <= 100_000:
        abort(400)
    log = audit_page(ctx.tenant, (int(page) - 1) * AUDIT_PAGE_ROWS, AUDIT_PAGE_ROWS)
    html = render_template("admin/audit_list.html", tenant=ctx.tenant, context_token=mint_context_token(ctx),
                           audit=log, audit_on_main_page=False)
    return html, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.get("/api/session")
@context_jwt_required
@admin_required
def session_refresh() -> ResponseReturnValue:
    """A fresh context token for a long-lived page (only a context token is accepted here)."""
    ctx = current()
    return jsonify(accountId=ctx.account_id, site=ctx.tenant.link_url, contextToken=mint_context_token(ctx))
