"""Sprint membership and rank (agile API): issues into a sprint or the backlog, a sprint's issues, a board's backlog,
``PUT /issue/rank``, and the Sprint and Rank fields on issues.

Rules from the agile spec: "Issues can only be moved to open or active sprints", at most 50 issues per move or rank
call; moving to the backlog "is equivalent to remove future and active sprints"; a board's backlog "contains
incomplete issues that are not assigned to any future or active sprint", ordered by rank. An issue is in at most one
future or active sprint and keeps the closed sprints it was in. Stored forms: the Sprint field
(``com.pyxis.greenhopper.jira:gh-sprint``) holds a list of sprint ids and renders as sprint objects; the Rank field
(``gh-lexo-rank``) holds a LexoRank-like string (``0|<base36>:``), given to every new issue at the bottom, so rank
round-trips with the ``issues`` seed. Changes write Jira's ``Sprint`` and ``Rank`` ("Ranked higher"/"Ranked lower")
history items.
"""

from __future__ import annotations

import string
from typing import Any

from .. import issues as model
from ..issue_search import JqlError, Search
from ..registry import Ctx, Reply, bad_request, handles, on_issue_event
from ..site import Site
from .sharing import board_or_404
from .sprints import AGILE, sprint_or_404

MOVE_MAX = 50
SPRINT_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"
RANK_TYPE = "com.pyxis.greenhopper.jira:gh-lexo-rank"
DIGITS = string.digits + string.ascii_lowercase
TOO_MANY = "At most 50 issues can be moved or ranked at once."  # plausible wording
NO_ISSUES = "The 'issues' list must name at least one issue."  # plausible wording
CLOSED = "Issues can only be moved to open or active sprints; sprint {} is closed."  # the spec's words, plausible
UNKNOWN = "Issue '{}' does not exist or you do not have permission to see it."  # plausible wording
ONE_ANCHOR = "Exactly one of rankBeforeIssue and rankAfterIssue must be given."  # plausible wording
BAD_RANK_FIELD = "The rank custom field id {} is not the Rank field."  # plausible wording


def _field_id(site: Site, custom: str) -> str | None:
    for field in site.store.values("fields"):
        if (field.get("schema") or {}).get("custom") == custom:
            return str(field["id"])
    return None


# --------------------------------------------------------------------------------------------------
# Rank strings
# --------------------------------------------------------------------------------------------------


WIDTH = 16  # base-36 digits of a rank's body: fixed, so ranks sort as strings the way they sort as numbers


def _body(rank: str) -> str:
    return rank.split("|", 1)[-1].rstrip(":")


def _value(rank: str, width: int) -> int:
    return int(_body(rank).ljust(width, "0")[:width], 36)


def _text(number: int, width: int) -> str:
    out = ""
    for _ in range(width):
        number, digit = divmod(number, 36)
        out = DIGITS[digit] + out
    return f"0|{out}:"  # never trimmed: a trimmed '…1:' would sort after '…10:' as text


def _width(*ranks: str | None) -> int:
    return max([WIDTH, *(len(_body(r)) for r in ranks if r)])


def between(low: str | None, high: str | None) -> str:
    """A rank strictly between ``low`` and ``high`` (None: the ends of the rank space)."""
    width = _width(low, high)
    while True:
        lo = _value(low, width) if low else 0
        hi = _value(high, width) if high else 36 ** width
        if hi - lo > 1:
            return _text((lo + hi) // 2, width)
        width += 1


def after(low: str | None) -> str:
    """A rank below ``low`` (the bottom so far) one fixed step on, as Jira appends: bisecting towards the end of the
    rank space instead would grow the strings a character every few issues (thousands long after 10,000 issues)."""
    width = _width(low)
    lo = _value(low, width) if low else 0
    step = 36 ** (width - 6)
    return _text(lo + step, width) if lo + step < 36 ** width else between(low, None)


def _bottom(site: Site, fid: str) -> str | None:
    """The lowest rank held (kept on the site; forgotten whenever ranks move, and found again once)."""
    cached = getattr(site, "_rank_bottom", None)
    if cached is None or cached[0] != fid:
        ranks = [i["fields"].get(fid) for i in site.store.values(model.COLLECTION) if i["fields"].get(fid)]
        width = _width(*ranks)
        cached = (fid, max(ranks, key=lambda r: _value(r, width)) if ranks else None)
        site._rank_bottom = cached  # type: ignore[attr-defined]
    return cached[1]


def ranked(site: Site, issues: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Issues in rank order (issues without a rank last, by id)."""
    fid = _field_id(site, RANK_TYPE)
    pool = list(site.store.values(model.COLLECTION)) if issues is None else issues
    return sorted(pool, key=lambda i: (i["fields"].get(fid) is None, str(i["fields"].get(fid) or ""), int(i["id"])))


@on_issue_event
def _rank_new_issue(site: Site, event: Any) -> None:
    """A new issue goes to the bottom of the rank, as in Jira."""
    fid = _field_id(site, RANK_TYPE)
    issue = site.store.get(model.COLLECTION, event.issue["id"]) if event.kind == "issue_created" else None
    if fid is None or issue is None or issue["fields"].get(fid):
        return
    issue["fields"][fid] = rank = after(_bottom(site, fid))
    site._rank_bottom = (fid, rank)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# The Sprint field
# --------------------------------------------------------------------------------------------------


def sprint_ids(site: Site, issue: dict[str, Any]) -> list[int]:
    fid = _field_id(site, SPRINT_TYPE)
    raw = issue["fields"].get(fid) if fid else None
    values = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    return [int(v["id"] if isinstance(v, dict) else v) for v in values]


def _sprint_brief(site: Site, sprint_id: int) -> dict[str, Any]:
    from .sprints import _sprints

    record = _sprints(site).get(str(sprint_id)) or {"id": sprint_id, "name": str(sprint_id), "state": "closed"}
    out = {"id": record["id"], "name": record["name"], "state": record["state"],
           "boardId": record.get("originBoardId")}
    out.update({k: record[k] for k in ("goal", "startDate", "endDate", "completeDate") if record.get(k)})
    return out


def render_sprint_field(site: Site, issue: dict[str, Any]) -> Any:
    ids = sprint_ids(site, issue)
    return [_sprint_brief(site, s) for s in ids] or None


model.EXTRA_FIELDS["customfield_10020"] = render_sprint_field  # the Sprint field of a Jira Software site


def _open_sprints(site: Site, issue: dict[str, Any]) -> list[int]:
    return [s for s in sprint_ids(site, issue) if _sprint_brief(site, s)["state"] != "closed"]


def _set_sprints(site: Site, issue: dict[str, Any], new: list[int], actor: str | None) -> None:
    fid = _field_id(site, SPRINT_TYPE)
    old = sprint_ids(site, issue)
    if fid is None or old == new:
        return
    issue["fields"][fid] = new or None
    names = [_sprint_brief(site, s)["name"] for s in new]
    item = {"field": "Sprint", "fieldtype": "custom", "fieldId": fid,
            "from": ", ".join(map(str, old)), "fromString": ", ".join(_sprint_brief(site, s)["name"] for s in old),
            "to": ", ".join(map(str, new)), "toString": ", ".join(names)}
    model.record_items(site, issue, [{k: v for k, v in item.items() if v != ""}], actor)


# --------------------------------------------------------------------------------------------------
# Moves
# --------------------------------------------------------------------------------------------------


def _issues_of(site: Site, body: Any) -> list[dict[str, Any]]:
    refs = body.get("issues") if isinstance(body, dict) else None
    if not isinstance(refs, list) or not refs:
        raise bad_request(NO_ISSUES)
    if len(refs) > MOVE_MAX:
        raise bad_request(TOO_MANY)
    found = []
    for ref in refs:
        issue = model.find_issue(site, ref)
        if issue is None:
            raise bad_request(UNKNOWN.format(ref))
        found.append(issue)
    return found


@handles("POST", f"{AGILE}/sprint/{{sprintId}}/issue")
def move_to_sprint(ctx: Ctx) -> Reply:
    sprint = sprint_or_404(ctx.site, ctx.path_params["sprintId"])
    if sprint["state"] == "closed":
        raise bad_request(CLOSED.format(sprint["id"]))
    issues = _issues_of(ctx.site, ctx.body)
    anchor = _anchor(ctx.site, ctx.body, required=False)
    actor = model.actor_of(ctx)
    for issue in issues:
        kept = [s for s in sprint_ids(ctx.site, issue) if s not in _open_sprints(ctx.site, issue)]
        _set_sprints(ctx.site, issue, [*kept, int(sprint["id"])], actor)
    if anchor is not None:
        _rank(ctx.site, issues, anchor, actor)
    return Reply(204)


@handles("POST", f"{AGILE}/backlog/issue")
def move_to_backlog(ctx: Ctx) -> Reply:
    issues = _issues_of(ctx.site, ctx.body)
    actor = model.actor_of(ctx)
    for issue in issues:
        open_ones = _open_sprints(ctx.site, issue)
        _set_sprints(ctx.site, issue, [s for s in sprint_ids(ctx.site, issue) if s not in open_ones], actor)
    return Reply(204)


def _search_results(ctx: Ctx, issues: list[dict[str, Any]]) -> dict[str, Any]:
    start_at, max_results = ctx.int_arg("startAt", 0), min(ctx.int_arg("maxResults", 50), 50)
    jql = ctx.arg("jql")
    if jql:
        try:
            wanted = {i["id"] for i in Search(ctx.site, jql, model.actor_of(ctx), model.now_ms(ctx.site)).run()}
        except JqlError as exc:
            raise bad_request(*exc.messages) from None
        issues = [i for i in issues if i["id"] in wanted]
    window = ranked(ctx.site, issues)[start_at:start_at + max_results]
    return {"expand": "schema,names", "startAt": start_at, "maxResults": max_results, "total": len(issues),
            "issues": [model.issue_json(ctx.site, i, fields=ctx.list_arg("fields") or None, default="*navigable")
                       for i in window]}


@handles("GET", f"{AGILE}/sprint/{{sprintId}}/issue")
def sprint_issues(ctx: Ctx) -> dict[str, Any]:
    sprint = sprint_or_404(ctx.site, ctx.path_params["sprintId"])
    members = [i for i in ctx.site.store.values(model.COLLECTION) if int(sprint["id"]) in sprint_ids(ctx.site, i)]
    return _search_results(ctx, members)


def _board_issues(site: Site, board: dict[str, Any]) -> list[dict[str, Any]]:
    """The issues of a board's filter; a filter the emulator can't evaluate falls back to the board's project."""
    record = site.store.get("filters", str(board.get("_filterId"))) or {}
    text = str(record.get("jql") or "").split(" ORDER BY")[0].split(" order by")[0]
    try:
        return Search(site, text, None, model.now_ms(site)).run() if text.strip() else []
    except JqlError:
        project = str((board.get("location") or {}).get("projectId"))
        return [i for i in site.store.values(model.COLLECTION) if i["fields"]["project"] == project]


@handles("GET", f"{AGILE}/board/{{boardId}}/backlog")
def board_backlog(ctx: Ctx) -> dict[str, Any]:
    board = board_or_404(ctx.site, ctx.path_params["boardId"])
    backlog = [i for i in _board_issues(ctx.site, board) if not _open_sprints(ctx.site, i)
               and model.status_json(ctx.site, i["fields"]["status"]).get("statusCategory", {}).get("key") != "done"]
    return _search_results(ctx, backlog)


# --------------------------------------------------------------------------------------------------
# Rank
# --------------------------------------------------------------------------------------------------


def _anchor(site: Site, body: Any, *, required: bool) -> tuple[str, dict[str, Any]] | None:
    before, after = (body.get("rankBeforeIssue"), body.get("rankAfterIssue")) if isinstance(body, dict) else (None,
                                                                                                             None)
    if (before and after) or (required and not (before or after)):
        raise bad_request(ONE_ANCHOR)
    if not (before or after):
        return None
    issue = model.find_issue(site, before or after)
    if issue is None:
        raise bad_request(UNKNOWN.format(before or after))
    return ("before" if before else "after"), issue


def _rank(site: Site, issues: list[dict[str, Any]], anchor: tuple[str, dict[str, Any]], actor: str | None) -> None:
    fid = _field_id(site, RANK_TYPE)
    if fid is None:
        return
    where, target = anchor
    moving = {i["id"] for i in issues}
    order = [i for i in ranked(site) if i["id"] not in moving]
    at = next(n for n, i in enumerate(order) if i["id"] == target["id"])
    low = order[at - 1]["fields"].get(fid) if where == "before" and at > 0 else \
        (target["fields"].get(fid) if where == "after" else None)
    high = target["fields"].get(fid) if where == "before" else \
        (order[at + 1]["fields"].get(fid) if at + 1 < len(order) else None)
    position = {i["id"]: n for n, i in enumerate(ranked(site))}
    site._rank_bottom = None  # type: ignore[attr-defined]  (an issue may now rank below the old bottom)
    for issue in issues:
        old = position.get(issue["id"], 0)
        issue["fields"][fid] = low = between(low, high)
        new_position = at if where == "before" else at + 1
        words = "Ranked higher" if new_position <= old else "Ranked lower"
        model.record_items(site, issue, [{"field": "Rank", "fieldtype": "custom", "fieldId": fid,
                                          "toString": words}], actor)


@handles("PUT", f"{AGILE}/issue/rank")
def rank_issues(ctx: Ctx) -> Reply:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    fid = _field_id(ctx.site, RANK_TYPE)
    if body.get("rankCustomFieldId") is not None and f"customfield_{body['rankCustomFieldId']}" != fid:
        raise bad_request(BAD_RANK_FIELD.format(body["rankCustomFieldId"]))
    refs = body.get("issues")
    if not isinstance(refs, list) or not refs:
        raise bad_request(NO_ISSUES)
    if len(refs) > MOVE_MAX:
        raise bad_request(TOO_MANY)
    anchor = _anchor(ctx.site, body, required=True)
    assert anchor is not None
    found = [model.find_issue(ctx.site, r) for r in refs]
    issues = [i for i in found if i is not None and i["id"] != anchor[1]["id"]]
    _rank(ctx.site, issues, anchor, model.actor_of(ctx))
    if all(i is not None for i in found):
        return Reply(204)
    entries = [{"issueId": int(i["id"]), "issueKey": i["key"], "status": 200} if i is not None else
               {"issueKey": str(r), "status": 404, "errors": [UNKNOWN.format(r)]}
               for r, i in zip(refs, found, strict=True)]
    return Reply(207, {"entries": entries})  # "may fail for some issues": the others are ranked
