"""Board data of restored issues: their sprints (created, filled, started and closed as they were) and rank order.

Runs once every selected project's issues exist, since a board's sprint may hold issues of several projects and a
closed sprint takes no more issues. What the destination already holds is read first (each board's sprints, and the
restored issues' Sprint and Rank fields), so a resumed or repeated run writes only what is missing:

- **Sprints**: a source sprint is the destination board's sprint of the same name (the board mapped through the
  run's id map), else created (future, with its name, goal and dates). Sprints are taken closed ones first (oldest
  first), then active, then future, so an issue carried over from sprint to sprint ends where it was. Issues missing
  from an open sprint are moved in, 50 a call; then the sprint is started (with its start and end dates) and closed
  where the source's was. Jira sets ``completeDate`` itself ("completeDate field cannot be updated manually"): the
  original is kept in each issue's "before the restore" property (``restore.BEFORE_PROPERTY``, key ``sprints``).
  Sprints without issues (a future sprint nobody planned into yet, a closed one whose issues went) come from the
  boards' sprint lists the backup keeps (``app.issuedata.sprints``) and are created, started and closed the same way.
- **Rank**: the restored issues' order by their source rank is the wanted order (Jira's Rank is one global order,
  so every board and backlog shows its issues in it). The longest run already in order stays; the others are ranked
  after the issue they follow (before the next one, at the very top), 50 a call, so an ordered site takes no write.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...jira.access import SiteAccess
from ...jira.errors import JiraError, JiraUnavailable
from ...jira.operations import declare
from ..types.base import IdMap

SEARCH = declare("POST", "/rest/api/3/search/jql")
FIELDS = declare("GET", "/rest/api/3/field")
BOARD_SPRINTS = declare("GET", "/rest/agile/1.0/board/{boardId}/sprint")
CREATE_SPRINT = declare("POST", "/rest/agile/1.0/sprint")
UPDATE_SPRINT = declare("POST", "/rest/agile/1.0/sprint/{sprintId}")
MOVE_TO_SPRINT = declare("POST", "/rest/agile/1.0/sprint/{sprintId}/issue")
RANK_ISSUES = declare("PUT", "/rest/agile/1.0/issue/rank")
SPRINT_OPS = (BOARD_SPRINTS, CREATE_SPRINT, UPDATE_SPRINT, MOVE_TO_SPRINT)

SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
RANK_SCHEMA = "com.pyxis.greenhopper.jira:gh-lexo-rank"
AGILE_MAX = 50  # issues per move or rank call
SEARCH_PAGE = 100  # issues per search page when fields are asked for
STATE_ORDER = {"closed": 0, "active": 1, "future": 2}


@dataclass(frozen=True)
class AgileIssue:
    """What the board pass needs of one restored issue: where it is now, its source sprints and rank."""

    source_key: str
    dest_key: str
    sprints: tuple[dict[str, Any], ...] = ()
    rank: str | None = None


@dataclass
class AgileReport:
    """What the board pass did, in counts, and what it couldn't do, in words."""

    sprints_created: int = 0
    sprints_started: int = 0
    sprints_closed: int = 0
    issues_moved: int = 0
    issues_ranked: int = 0
    writes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        """What an admin should know of what was done (not a failure)."""
        if not self.sprints_closed:
            return []
        n = self.sprints_closed
        return [f"{n} sprint{'s' if n != 1 else ''} closed again by the restore: Jira sets a sprint's completion "
                "date itself, so each of their issues keeps the original dates in its \"Before the restore\" panel"]

    def summary(self) -> dict[str, Any]:
        return {"sprintsCreated": self.sprints_created, "sprintsStarted": self.sprints_started,
                "sprintsClosed": self.sprints_closed, "issuesMoved": self.issues_moved,
                "issuesRanked": self.issues_ranked, "writes": self.writes, "notes": list(self.notes),
                "words": self.words}


@dataclass
class DestSprint:
    id: int
    name: str
    state: str
    board_id: int | None


def sprint_order(sprint: dict[str, Any]) -> tuple[int, str, int]:
    """Closed sprints first (the oldest first), then the active, then the future ones: the order they happened."""
    when = str(sprint.get("completeDate") or sprint.get("startDate") or "")
    return STATE_ORDER.get(str(sprint.get("state")), 2), when, int(sprint.get("id") or 0)


def source_sprints(issues: Iterable[AgileIssue], empty: Iterable[dict[str, Any]] = ()
                   ) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    """The source's sprints (once each, in the order they happened) and each one's issues (destination keys);
    ``empty``: the boards' sprints as the backup listed them, those no issue names included."""
    sprints: dict[int, dict[str, Any]] = {}
    members: dict[int, list[str]] = {}
    for sprint in empty:
        if isinstance(sprint, dict) and sprint.get("id") is not None:
            sprints.setdefault(int(sprint["id"]), sprint)
            members.setdefault(int(sprint["id"]), [])
    for issue in issues:
        for sprint in issue.sprints:
            if not isinstance(sprint, dict) or sprint.get("id") is None:
                continue
            sid = int(sprint["id"])
            sprints.setdefault(sid, sprint)
            members.setdefault(sid, []).append(issue.dest_key)
    return sorted(sprints.values(), key=sprint_order), members


def longest_ordered(positions: list[int]) -> set[int]:
    """Indexes of a longest strictly increasing subsequence of ``positions`` (patience sorting, n log n)."""
    tails: list[int] = []  # positions value ending the best run of each length
    tail_at: list[int] = []  # index in ``positions`` of that value
    previous = [-1] * len(positions)
    for i, value in enumerate(positions):
        length = bisect.bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[length], tail_at[length] = value, i
        previous[i] = tail_at[length - 1] if length else -1
    kept: set[int] = set()
    at = tail_at[-1] if tail_at else -1
    while at >= 0:
        kept.add(at)
        at = previous[at]
    return kept


def rank_moves(wanted: list[str], current: list[str]) -> list[tuple[list[str], str, str]]:
    """The rank calls that turn ``current`` (the destination's order) into ``wanted``: ``(keys, "after"|"before",
    anchor)``, each at most 50 keys. Issues of the longest run already in order stay put."""
    position = {key: n for n, key in enumerate(current)}
    kept = longest_ordered([position[key] for key in wanted])
    moves: list[tuple[list[str], str, str]] = []
    n = 0
    while n < len(wanted):
        if n in kept:
            n += 1
            continue
        end = n
        while end < len(wanted) and end not in kept:
            end += 1
        run = wanted[n:end]
        for start in range(0, len(run), AGILE_MAX):
            chunk = run[start:start + AGILE_MAX]
            if start:
                moves.append((chunk, "after", run[start - 1]))
            elif n:
                moves.append((chunk, "after", wanted[n - 1]))
            else:
                moves.append((chunk, "before", wanted[end]))  # at the top: before the first kept issue
        n = end
    return moves


class BoardData:
    """Restores the sprints and rank order of ``issues`` (every restored issue of the run) on the destination."""

    def __init__(self, access: SiteAccess, ids: IdMap, issues: list[AgileIssue],
                 sprints: list[dict[str, Any]] | None = None) -> None:
        self.access = access
        self.ids = ids
        self.issues = issues
        self.board_sprints = sprints or []  # the boards' sprints the backup listed (``snapshot_sprints``)
        self.report = AgileReport()
        self._in_sprints: dict[str, set[int]] = {}  # destination key -> the sprints it is in
        self._ranks: dict[str, str | None] = {}  # destination key -> its Rank there
        self._dest_sprints: dict[int, DestSprint] = {}
        self._boards: dict[int, list[DestSprint]] = {}
        self._taken: set[int] = set()  # destination sprints already matched to a source sprint

    def restore(self) -> AgileReport:
        """Sprints first, then rank; Jira refusing one sprint or rank call is reported and the rest goes on."""
        wanted_sprints, members = source_sprints(self.issues, self.board_sprints)
        ranked = [i for i in self.issues if i.rank]
        if not wanted_sprints and not ranked:
            return self.report
        wanted_sprints = wanted_sprints if self._may("sprints", SPRINT_OPS) or not wanted_sprints else []
        ranked = ranked if self._may("rank order", (RANK_ISSUES,)) or not ranked else []
        if not wanted_sprints and not ranked:
            return self.report
        sprint_field, rank_field = self._agile_fields()
        if self.issues:
            self._read_issues(sprint_field, rank_field)
        if wanted_sprints and sprint_field is None:
            self.report.notes.append("sprints not restored: this site has no Sprint field (Jira Software)")
        elif wanted_sprints:
            for sprint in wanted_sprints:
                self._guarded(f"sprint {sprint.get('name')!r}", self._sprint, sprint, members[int(sprint["id"])])
        if ranked and rank_field is None:
            self.report.notes.append("rank order not restored: this site has no Rank field (Jira Software)")
        elif ranked:
            self._rank(ranked)
        return self.report

    def _may(self, what: str, ops: tuple[Any, ...]) -> bool:
        """Whether the app's credentials here may call ``ops``; if not, why not and the fix, in words."""
        refused = [op for op in ops if not self.access.can_call(op)]
        if refused:
            self.report.notes.append(f"{what} not restored: the app may not call "
                                     f"{', '.join(f'{op.method} {op.template}' for op in refused)} on this site. "
                                     f"{self.access.fix}")
        return not refused

    def _guarded(self, what: str, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except JiraUnavailable:  # the site, not this sprint: the job's retry handles it
            raise
        except JiraError as exc:
            self.report.notes.append(f"{what}: {exc.describe()}")

    # -- what the destination holds ------------------------------------------------------------------

    def _agile_fields(self) -> tuple[str | None, str | None]:
        """The destination's Sprint and Rank field ids, found by their type (never assumed)."""
        found: dict[str, str] = {}
        for item in self.access.call(FIELDS, idempotent=True) or []:
            custom = str(((item or {}).get("schema") or {}).get("custom") or "")
            if custom in (SPRINT_SCHEMA, RANK_SCHEMA):
                found.setdefault(custom, str(item["id"]))
        return found.get(SPRINT_SCHEMA), found.get(RANK_SCHEMA)

    def _read_issues(self, sprint_field: str | None, rank_field: str | None) -> None:
        """The restored issues' sprints and rank as the destination holds them: one search per 100 issues."""
        wanted = {i.dest_key for i in self.issues}
        projects = sorted({key.rsplit("-", 1)[0] for key in wanted})
        fields = [f for f in (sprint_field, rank_field) if f]
        quoted = ", ".join(f'"{p}"' for p in projects)
        body: dict[str, Any] = {"jql": f"project in ({quoted}) ORDER BY key ASC", "fields": fields,
                                "maxResults": SEARCH_PAGE}
        while True:
            page = self.access.call(SEARCH, json=body, idempotent=True) or {}
            for issue in page.get("issues") or []:
                key = str(issue.get("key"))
                if key not in wanted:
                    continue
                values = issue.get("fields") or {}
                self._in_sprints[key] = self._sprints_of(values.get(sprint_field) if sprint_field else None)
                self._ranks[key] = values.get(rank_field) if rank_field else None
            token = page.get("nextPageToken")
            if not token:
                return
            body["nextPageToken"] = token

    def _sprints_of(self, value: Any) -> set[int]:
        out: set[int] = set()
        for sprint in value or []:
            if isinstance(sprint, dict) and sprint.get("id") is not None:
                out.add(int(sprint["id"]))
        return out

    def _board_sprints(self, board_id: int) -> list[DestSprint]:
        if board_id not in self._boards:
            found = [DestSprint(int(s["id"]), str(s.get("name") or ""), str(s.get("state")),
                                s.get("originBoardId"))
                     for s in self.access.paginate(BOARD_SPRINTS, path={"boardId": board_id}, page_size=50)]
            self._boards[board_id] = found
            self._dest_sprints.update({s.id: s for s in found})
        return self._boards[board_id]

    # -- sprints -------------------------------------------------------------------------------------

    def _sprint(self, sprint: dict[str, Any], keys: list[str]) -> None:
        name = str(sprint.get("name") or "")
        source_board = sprint.get("boardId", sprint.get("originBoardId"))
        board = self.ids.get("boards", str(source_board)) if source_board is not None else None
        if board is None:
            self.report.notes.append(f"sprint {name!r} not restored: its board ({source_board}) isn't on this site")
            return
        dest = self._find_or_create(int(board), sprint)
        state = str(sprint.get("state"))
        if dest.state == "closed":
            if state != "closed":
                self.report.notes.append(f"sprint {name!r} is {state} in the backup but already closed here; "
                                         "its issues were left as they are")
            return
        self._move_in(dest, [k for k in keys if k in self._in_sprints])
        if state in ("active", "closed") and dest.state == "future":
            self._start(dest, sprint)
        if state == "closed" and dest.state == "active":
            self._update(dest, {"state": "closed"})
            dest.state = "closed"
            self.report.sprints_closed += 1

    def _find_or_create(self, board: int, sprint: dict[str, Any]) -> DestSprint:
        """The board's sprint of that name not taken by another source sprint, else a new (future) one."""
        name = str(sprint.get("name") or "")
        for dest in self._board_sprints(board):
            if dest.name == name.strip() and dest.id not in self._taken:
                self._taken.add(dest.id)
                return dest
        body: dict[str, Any] = {"name": name, "originBoardId": board}
        body.update({k: sprint[k] for k in ("startDate", "endDate", "goal") if sprint.get(k)})
        created = self.access.call(CREATE_SPRINT, json=body) or {}
        self.report.writes += 1
        self.report.sprints_created += 1
        dest = DestSprint(int(created["id"]), str(created.get("name") or name), str(created.get("state") or "future"),
                          board)
        self._boards[board].append(dest)
        self._dest_sprints[dest.id] = dest
        self._taken.add(dest.id)
        return dest

    def _move_in(self, dest: DestSprint, keys: list[str]) -> None:
        missing = [k for k in keys if dest.id not in self._in_sprints[k]]
        for start in range(0, len(missing), AGILE_MAX):
            chunk = missing[start:start + AGILE_MAX]
            self.access.call(MOVE_TO_SPRINT, path={"sprintId": dest.id}, json={"issues": chunk})
            self.report.writes += 1
            self.report.issues_moved += len(chunk)
            for key in chunk:  # an issue is in one open sprint at most: the move takes it out of the others
                held = self._in_sprints[key]
                held -= {s for s in held if self._open(s)}
                held.add(dest.id)

    def _open(self, sprint_id: int) -> bool:
        known = self._dest_sprints.get(sprint_id)
        return known is not None and known.state != "closed"

    def _start(self, dest: DestSprint, sprint: dict[str, Any]) -> None:
        """Start with the source's dates (Jira needs both to start a sprint; a missing one is the other, or now)."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
        start = sprint.get("startDate") or sprint.get("endDate") or now
        end = sprint.get("endDate") or sprint.get("completeDate") or start
        self._update(dest, {"state": "active", "startDate": start, "endDate": end})
        dest.state = "active"
        self.report.sprints_started += 1

    def _update(self, dest: DestSprint, body: dict[str, Any]) -> None:
        self.access.call(UPDATE_SPRINT, path={"sprintId": dest.id}, json=body)
        self.report.writes += 1

    # -- rank ----------------------------------------------------------------------------------------

    def _rank(self, ranked: list[AgileIssue]) -> None:
        here = [i for i in ranked if i.dest_key in self._ranks]
        wanted = [i.dest_key for i in sorted(here, key=lambda i: (str(i.rank), i.source_key))]
        current = sorted(wanted, key=lambda k: (self._ranks[k] is None, str(self._ranks[k] or ""), k))
        for keys, where, anchor in rank_moves(wanted, current):
            body = {"issues": keys, "rankAfterIssue" if where == "after" else "rankBeforeIssue": anchor}
            self._guarded(f"rank of {keys[0]}…{keys[-1]}", self._rank_call, body)

    def _rank_call(self, body: dict[str, Any]) -> None:
        answer = self.access.call(RANK_ISSUES, json=body)
        self.report.writes += 1
        refused = [e for e in (answer or {}).get("entries") or [] if int(e.get("status") or 200) >= 400]
        self.report.issues_ranked += len(body["issues"]) - len(refused)
        for entry in refused:  # 207: the others are ranked
            words = "; ".join(str(m) for m in entry.get("errors") or [])
            self.report.notes.append(f"rank of {entry.get('issueKey')}: {words or entry.get('status')}")

