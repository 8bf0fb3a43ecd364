"""Jira Software sprints: create (future), start, close, read, list per board, delete, and their seed key.

Rules from the agile spec's own words (``jira-software-openapi.json``): a new sprint is ``future`` and needs a name
and an origin board; "A sprint can be started by updating the state to 'active'. This requires the sprint to be in
the 'future' state and have a startDate and endDate set"; "completed by updating the state to 'closed' ... This sets
the completeDate to the time of the request"; "Other changes to state are not allowed"; "The completeDate field
cannot be updated manually"; "Sprints that are in a closed state cannot be updated". A board lists its sprints
closed, then active, then future. Only future sprints can be deleted (an active or closed one holds history).
Dates are answered in UTC as ``yyyy-MM-ddTHH:mm:ss.SSSZ``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..registry import Ctx, Reply, bad_request, handles, not_found, seed_type
from ..site import Site
from ._common import SeedRefError, body_of, public, required_text
from .sharing import agile_page, board_or_404

AGILE = "/rest/agile/1.0"
STATES = ("future", "active", "closed")
LIST_ORDER = {"closed": 0, "active": 1, "future": 2}  # "ordered first by state (i.e. closed, active, future)"
DATE_KEYS = ("startDate", "endDate")
READ_ONLY_ECHOES = ("id", "self", "createdDate")  # a full update may send back what GET gave, unchanged


def _sprints(site: Site) -> dict[str, dict[str, Any]]:
    """The site's sprints by id (the collection is made on first use; a reset store starts without it)."""
    return site.store.collections.setdefault("sprints", {})


def _now() -> str:
    return _format(datetime.now(UTC))


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_date(value: Any, key: str) -> str:
    """An ISO 8601 date-time with an offset, normalised to UTC; Jira's 400 otherwise."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise bad_request(errors={key: f"The date '{value}' is not a valid ISO 8601 date-time with a time zone, "
                                       "such as 2015-04-11T15:22:00.000+10:00."})  # plausible wording
    return _format(moment)


def sprint_or_404(site: Site, sprint_id: Any) -> dict[str, Any]:
    found = _sprints(site).get(str(sprint_id))
    if found is None:
        raise not_found(f"The sprint with id '{sprint_id}' does not exist.")  # plausible wording
    return found


def sprint_view(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /sprint/{id}`` answers."""
    return {"id": record["id"], "self": f"{site.base_url}{AGILE}/sprint/{record['id']}", **public(
        {k: v for k, v in record.items() if k != "id"})}


def _scrum_board(site: Site, board_id: Any) -> dict[str, Any]:
    """The origin board: it must exist (404) and hold sprints (a kanban board doesn't: 400)."""
    if board_id is None:
        raise bad_request(errors={"originBoardId": "The origin board ID must be provided."})  # plausible wording
    board = board_or_404(site, board_id)
    if board.get("type") != "scrum":
        raise bad_request("The board does not support sprints")  # Jira's wording for a kanban board
    return board


def _check_dates(record: dict[str, Any]) -> None:
    start, end = record.get("startDate"), record.get("endDate")
    if start and end and end < start:  # same format, all UTC: text order is time order
        raise bad_request(errors={"endDate": f"The end date ({end}) must be after the start date ({start})."})


def _emit(ctx: Ctx, event: str, record: dict[str, Any]) -> None:
    ctx.site.webhooks.emit(event, {"sprint": sprint_view(ctx.site, record)}, account_id=ctx.account_id)


# --------------------------------------------------------------------------------------------------
# Handlers
# --------------------------------------------------------------------------------------------------


@handles("POST", f"{AGILE}/sprint")
def create_sprint(ctx: Ctx) -> Reply:
    body = body_of(ctx)
    name = required_text(body, "name", "The sprint name must not be empty.", max_len=255, strip=True)
    board = _scrum_board(ctx.site, body.get("originBoardId"))
    record: dict[str, Any] = {"id": ctx.site.store.next_id("sprint", start=0), "state": "future", "name": name}
    for key in DATE_KEYS:
        if body.get(key) is not None:
            record[key] = _parse_date(body[key], key)
    _check_dates(record)
    record.update(createdDate=_now(), originBoardId=int(board["id"]))
    if body.get("goal") is not None:
        record["goal"] = body["goal"]
    _sprints(ctx.site)[str(record["id"])] = record
    _emit(ctx, "sprint_created", record)
    return Reply(201, sprint_view(ctx.site, record))


@handles("GET", f"{AGILE}/sprint/{{sprintId}}")
def get_sprint(ctx: Ctx) -> dict[str, Any]:
    return sprint_view(ctx.site, sprint_or_404(ctx.site, ctx.path_params["sprintId"]))


@handles("PUT", f"{AGILE}/sprint/{{sprintId}}")
def replace_sprint(ctx: Ctx) -> dict[str, Any]:
    """Full update: what the body leaves out becomes null (dates, goal); the name stays required."""
    return _update(ctx, full=True)


@handles("POST", f"{AGILE}/sprint/{{sprintId}}")
def patch_sprint(ctx: Ctx) -> dict[str, Any]:
    """Partial update: what the body leaves out is kept."""
    return _update(ctx, full=False)


def _update(ctx: Ctx, *, full: bool) -> dict[str, Any]:
    record = sprint_or_404(ctx.site, ctx.path_params["sprintId"])
    body = body_of(ctx)
    if record["state"] == "closed":
        raise bad_request("Sprints that are in a closed state cannot be updated.")  # the spec's words
    if "completeDate" in body:
        raise bad_request(errors={"completeDate": "The completeDate field cannot be updated manually."})
    _check_echoes(ctx.site, record, body)
    new = {k: v for k, v in record.items() if not (full and k in (*DATE_KEYS, "goal"))}
    if full or "name" in body:
        new["name"] = required_text(body, "name", "The sprint name must not be empty.", max_len=255, strip=True)
    for key in DATE_KEYS:
        if body.get(key) is not None:
            new[key] = _parse_date(body[key], key)
    if body.get("goal") is not None:
        new["goal"] = body["goal"]
    if "originBoardId" in body:
        new["originBoardId"] = int(_scrum_board(ctx.site, body["originBoardId"])["id"])
    event = _move_state(new, record["state"], body.get("state", record["state"]))
    _check_dates(new)
    record.clear()
    record.update(new)
    _emit(ctx, event, record)
    return sprint_view(ctx.site, record)


def _check_echoes(site: Site, record: dict[str, Any], body: dict[str, Any]) -> None:
    """``id``, ``self`` and ``createdDate`` are the server's: sent back unchanged they are fine, changed a 400."""
    view = sprint_view(site, record)
    for key in READ_ONLY_ECHOES:
        if key in body and body[key] != view.get(key):
            raise bad_request(errors={key: f"The {key} of a sprint cannot be changed (it is {view.get(key)!r}, "
                                           f"the request says {body[key]!r})."})  # plausible wording


def _move_state(new: dict[str, Any], current: str, target: Any) -> str:
    """Apply a state change to ``new``; the webhook event it makes. Only future -> active -> closed."""
    if target not in STATES:
        raise bad_request(errors={"state": f"The sprint state must be one of {', '.join(STATES)}, "
                                           f"not '{target}'."})  # plausible wording
    if target == current:
        if current == "active" and not all(new.get(k) for k in DATE_KEYS):
            raise bad_request("An active sprint must have a startDate and an endDate.")  # plausible wording
        return "sprint_updated"
    if (current, target) == ("future", "active"):
        missing = [k for k in DATE_KEYS if not new.get(k)]
        if missing:
            raise bad_request(f"The sprint cannot be started without {' and '.join(missing)}.")  # plausible
        new["state"] = "active"
        return "sprint_started"
    if (current, target) == ("active", "closed"):
        new.update(state="closed", completeDate=_now())
        return "sprint_closed"
    raise bad_request(f"A sprint cannot change state from '{current}' to '{target}'; a future sprint can be "
                      "started (active) and an active one closed.")  # plausible wording


@handles("DELETE", f"{AGILE}/sprint/{{sprintId}}")
def delete_sprint(ctx: Ctx) -> Reply:
    record = sprint_or_404(ctx.site, ctx.path_params["sprintId"])
    if record["state"] != "future":
        raise bad_request(f"Only future sprints can be deleted; sprint {record['id']} is "
                          f"{record['state']}.")  # plausible wording
    del _sprints(ctx.site)[str(record["id"])]
    _emit(ctx, "sprint_deleted", record)
    return Reply(204)


@handles("GET", f"{AGILE}/board/{{boardId}}/sprint")
def board_sprints(ctx: Ctx) -> dict[str, Any]:
    board = _scrum_board(ctx.site, ctx.path_params["boardId"])
    states = ctx.list_arg("state")
    unknown = sorted(set(states) - set(STATES))
    if unknown:
        raise bad_request(f"The state '{unknown[0]}' is not valid; expected future, active or closed.")  # plausible
    items = [s for s in _sprints(ctx.site).values()
             if s["originBoardId"] == int(board["id"]) and (not states or s["state"] in states)]
    items.sort(key=lambda s: LIST_ORDER[s["state"]])  # stable: creation order within a state
    return agile_page(ctx, [sprint_view(ctx.site, s) for s in items])


# --------------------------------------------------------------------------------------------------
# Seed
# --------------------------------------------------------------------------------------------------


def export_sprints(site: Site) -> list[dict[str, Any]]:
    """Seed value: every sprint as ``GET /sprint/{id}`` answers it, without ``self``."""
    return [{k: v for k, v in sprint_view(site, s).items() if k != "self"} for s in _sprints(site).values()]


@seed_type("sprints", omit_empty=True, exporter=export_sprints, after=("boards",))
def seed_sprints(site: Site, data: Any) -> None:
    """Seed value: a list of ``GET /rest/agile/1.0/sprint/{id}`` answers (``self`` optional, rebuilt)."""
    if not isinstance(data, list):
        raise ValueError(f"seed sprints: a list is expected, got {type(data).__name__}")
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or not item.get("name"):
            raise ValueError(f"seed sprints: every entry needs an integer 'id' and a 'name': {item!r}")
        if item.get("state") not in STATES:
            raise ValueError(f"seed sprints: sprint {item['id']} has state {item.get('state')!r}; "
                             f"expected one of {', '.join(STATES)}")
        if site.store.get("boards", str(item.get("originBoardId"))) is None:
            raise SeedRefError(f"sprint {item['id']} names unknown board {item.get('originBoardId')!r}")
        _sprints(site)[str(item["id"])] = {k: v for k, v in item.items() if k != "self"}
        site.store.bump("sprint", item["id"])
