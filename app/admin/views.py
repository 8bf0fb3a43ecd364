"""The Disaster recovery connections page and its POST actions (views stay thin over the domain services).

Every action is a POST carrying the context token (form field ``jwt``) from a user Jira confirms is an admin.
Each action goes through the domain's one way in (``app.recovery.actions``), as the Forge API's do. After an
action the browser is redirected (303) back to the page with a fresh context token, since iframes can't keep
cookies; messages travel as short codes mapped to fixed texts, never as echoed input. Two answers are rendered
directly (``no-store``): a newly issued token, shown exactly once, and a refusal, with the status, code and words
of the one error table (``app.answers``) that the Forge API answers too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..answers import answer_for
from ..connect.auth import (
    admin_required,
    context_jwt_required,
    current,
    mint_context_token,
    page_jwt_required,
)
from ..http_input import parse_optional_id
from ..presenters import people
from ..presenters.connections import ACTION_LABELS, audit_page, backup_failure, connection_sides
from ..recovery import actions
from ..recovery.connections import Action, ConnectionState, RecoveryError, Side
from ..recovery.messages import CONFIRMATIONS, NOTICES
from .sections import sections_for

bp = Blueprint("admin", __name__, url_prefix="/admin")
MAX_TYPED = 2000  # what a refused activation keeps of each typed field (a token is 42 characters)
AUDIT_ROWS = 10  # the main page shows the newest few entries; the audit page pages through all of them
AUDIT_PAGE_ROWS = 25


def _notice_from_query() -> dict[str, Any]:
    """The message a redirect asked for, rebuilt from fixed texts only (an unknown code shows nothing)."""
    code = request.args.get("notice", "")
    return {"notice": NOTICES[code], "notice_code": code} if code in NOTICES else {}


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


def _refused(err: RecoveryError, choice: actions.Choice) -> ResponseReturnValue:
    """The page again, at once, with the status, code and words of the one error table (as the Forge API answers).

    A refused activation keeps what the admin typed, the token too: the response is ``no-store`` and
    ``no-referrer``, so it sits in the same page it was typed into and nowhere else, while a redirect would have to
    put it in an address (history, logs). Making the admin paste it again would only invite copying it around more.
    """
    answer = answer_for(err)
    typed = {"token": choice.token[:MAX_TYPED], "base_url": choice.source_url[:MAX_TYPED]}
    return _render(answer.status, notice=(answer.notice.kind, answer.notice.text), notice_code=answer.code,
                   typed=typed, refused_field=getattr(err, "field", None))


def _choice() -> actions.Choice:
    """The form's choices: the connection id (untrusted: the domain checks it is this tenant's on this side; a
    malformed one is a 400), Yes/No of a reusable token, the token and the source's address."""
    reusable = request.form.get("reusable")
    return actions.Choice(connection_id=parse_optional_id(request.form.get("connection"), "connection"),
                          reusable={"yes": True, "no": False}.get(reusable or ""),
                          token=request.form.get("token", ""), source_url=request.form.get("base_url", ""))


def _act(side: Side, name: str) -> ResponseReturnValue:
    """One connection action through the domain's one way in; a confirmation first for what can't be undone."""
    action = actions.action_named(side, name) or abort(404)
    ctx = current()
    choice = _choice()
    try:
        if actions.needs_confirmation(action) and request.form.get("confirmed") != "yes":
            actions.check(ctx.tenant, side, action, ctx.account_id, choice.connection_id)  # never ask in vain
            return _confirm(side.value, action, choice.connection_id)
        acted = actions.perform(ctx.tenant, side, action, ctx.account_id, choice)
    except RecoveryError as err:
        return _refused(err, choice)
    if acted.issued is not None:
        # Shown once, in this response only; the redirect that follows "I've stored it" no longer has it.
        return _render(revealed_token=acted.issued.token, revealed_action=action.value)
    return _back(acted.notice)


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
    return _render(**_notice_from_query())


@bp.post("/recovery/source/<action>")
@context_jwt_required
@admin_required
def source_action(action: str) -> ResponseReturnValue:
    return _act(Side.SOURCE, action)


@bp.post("/recovery/destination/<action>")
@context_jwt_required
@admin_required
def destination_action(action: str) -> ResponseReturnValue:
    return _act(Side.DESTINATION, action)


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
