"""Verification of restored issues, independent of the restore: the snapshot's records against the destination as read.

Each side in its own terms (as the configuration's verification does, app/restore/verify.py): the source is the
snapshot's records, the destination is read again (each project's issues with all their fields by one paged search,
read once: no second fetch per issue; comments and worklogs paged only where the issue's own field holds fewer than
it has, attachment bytes downloaded and hashed as they stream). Issues are matched by key (or the report's old key ->
new key map, where keys couldn't be kept), never through ids the run remembered; values are compared by name (issue
type, status, priority, people, options, custom fields by field name). Differences are words.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ...backups.snapshots import SnapshotReader
from ...extensions import db
from ...issuedata.records import WINDOW, IssueRecord, StoredIssues, field_meta, issue_entries
from ...jira.access import SiteAccess
from ...jira.errors import JiraError
from ...jira.operations import declare
from .agile import RANK_SCHEMA, SPRINT_SCHEMA, longest_ordered
from .subset import only

AsAuthor = Callable[[str], Any]  # account id -> a Jira client acting as that person (None: the app may not)
SEARCH = declare("POST", "/rest/api/3/search/jql")
LIST_COMMENTS = declare("GET", "/rest/api/3/issue/{issueIdOrKey}/comment")
LIST_WORKLOGS = declare("GET", "/rest/api/3/issue/{issueIdOrKey}/worklog")
ATTACHMENT_CONTENT = declare("GET", "/rest/api/3/attachment/content/{id}")
FIELDS = declare("GET", "/rest/api/3/field")
GET_USER = declare("GET", "/rest/api/3/user")
GROUPS_BY_NAME = declare("GET", "/rest/api/3/group/bulk")
BOARDS = declare("GET", "/rest/agile/1.0/board")
SEARCH_PAGE = 100  # issues per search page with their fields (Jira's most)
SYSTEM_COMPARED = ("labels", "components", "fixVersions", "versions", "duedate", "assignee", "environment")
CUSTOM_SKIPPED = ("lexo-rank", "gh-sprint", "gh-epic-link", "gh-lexo-rank")  # rank and sprints: their own checks
ATTRIBUTION = "Originally by "
VOTES_REASON = ("Jira takes a vote only from the voter themselves: a voter who isn't on this site, whom Jira "
                "refuses (a reporter on their own issue) or whom the backup couldn't name couldn't vote again")
RESTRICTED_REASON = ("a restricted comment can be read only as someone allowed to see it, and the app may not act as "
                     "its author on this site (user impersonation not granted, or the author has no account here)")
ORDER_SHOWN = 5  # out-of-place keys named in a board order difference
LINKS_OUTSIDE = "links to issues outside this restore"
HIDDEN = ("people without an account", "people", "parent outside", "sprint boards")  # explain; never compared


@dataclass
class IssueDifference:
    key: str
    words: str
    reason: str = ""  # why, when it isn't the restore's fault (a person with no active account on this site)


@dataclass
class IssueCheck:
    """What the verification of issues found: how many were compared, how many identical, the differences."""

    compared: int = 0
    identical: int = 0
    differences: list[IssueDifference] = field(default_factory=list)


def _text(adf: Any) -> str:
    """The words of an ADF document (or a plain string), whitespace normalised."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(str(node.get("text") or ""))
            for child in node.get("content") or []:
                walk(child)
            if node.get("type") == "paragraph":
                out.append(" ")
        elif isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, str):
            out.append(node)

    walk(adf)
    return " ".join("".join(out).split())


def _without_attribution(body: Any, author: str | None) -> tuple[str, str | None]:
    """A comment or worklog the app wrote in someone's stead says who: read it as theirs."""
    if isinstance(body, dict):
        content = list(body.get("content") or [])
        first = _text(content[:1]) if content else ""
        if first.startswith(ATTRIBUTION) and " on " in first:
            return _text(content[1:]), first[len(ATTRIBUTION):].rsplit(" on ", 1)[0]
    return _text(body), author


def _shown(value: Any) -> Any:
    """A field value by what a person sees: an option's value, a thing's name, a person's display name."""
    if isinstance(value, list):
        return sorted(str(_shown(v)) for v in value)
    if isinstance(value, dict):
        for name in ("value", "name", "displayName", "key"):
            if name in value:
                child = value.get("child")
                return f"{value[name]} / {_shown(child)}" if isinstance(child, dict) else value[name]
        return _text(value) if value.get("type") == "doc" else None
    return value


def _fields_by_name(fields: dict[str, Any], names: dict[str, str], skipped: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fid, value in fields.items():
        if fid in skipped or not (fid in SYSTEM_COMPARED or fid.startswith("customfield_")):
            continue
        shown = _shown(value)
        if shown not in (None, [], ""):
            out[names.get(fid, fid)] = shown
    return out


def _source_view(record: IssueRecord, key_map: dict[str, str], names: dict[str, str],
                 skipped: set[str], inside: Callable[[str], bool]) -> dict[str, Any]:
    f = record.fields
    parent = (f.get("parent") or {}).get("key")
    comments = []
    for c in record.comments:
        if c.get("visibility"):
            continue  # restricted: compared on their own, as their authors see them (restricted_differences)
        comments.append((_text(c.get("body")), (c.get("author") or {}).get("displayName")))
    shown_parent = key_map.get(parent, parent) if parent else None
    return {"summary": f.get("summary"), "issue type": (f.get("issuetype") or {}).get("name"),
            "status": (f.get("status") or {}).get("name"), "priority": (f.get("priority") or {}).get("name"),
            "parent": shown_parent,
            "parent outside": shown_parent if shown_parent and not inside(shown_parent) else None,
            "fields": _fields_by_name(f, names, skipped), "comments": comments,
            "worklog seconds": sorted(int(w.get("timeSpentSeconds") or 0) for w in record.worklogs),
            "attachments": sorted((a.filename, a.sha256) for a in record.attachments),
            **_links(record.links, key_map, inside),
            "sprints": _sprints(record.sprints), "votes": record.votes.count,
            "sprint boards": {(str(sp.get("name")), str(sp.get("state"))): sp.get("boardId", sp.get("originBoardId"))
                              for sp in record.sprints if isinstance(sp, dict)},
            "people without an account": _inactive_people(f, names), "people": _people(f, names)}


def _sprints(value: Any) -> list[tuple[str, str]]:
    """An issue's sprints by name and state (ids differ between sites)."""
    return sorted((str(s.get("name")), str(s.get("state"))) for s in value or [] if isinstance(s, dict))


def _project_of(key: str) -> str:
    return key.rsplit("-", 1)[0]


def _links(links: Iterable[dict[str, Any]], key_map: dict[str, str], inside: Callable[[str], bool]) -> dict[str, Any]:
    """An issue's links by type, direction and the other issue's key, apart: those whose other issue this restore
    brought (compared as they are) and the others (a restore links only issues it restored); ``inside`` is asked of
    the other issue's key as shown (on this site)."""
    every = sorted(_link(link, key_map) for link in links)
    return {"links": [link for link in every if inside(link[2])],
            LINKS_OUTSIDE: [link for link in every if not inside(link[2])]}


def _link(link: dict[str, Any], key_map: dict[str, str]) -> tuple[str, str, str]:
    kind = link.get("type") or {}
    if link.get("inwardIssue"):
        other = str(link["inwardIssue"].get("key"))
        return (str(kind.get("name")), str(kind.get("inward") or "inward"), key_map.get(other, other))
    other = str((link.get("outwardIssue") or {}).get("key"))
    return (str(kind.get("name")), str(kind.get("outward") or "outward"), key_map.get(other, other))


class DestinationIssues:
    """The destination's issues of one project, read as the app reads any site."""

    def __init__(self, access: SiteAccess) -> None:
        self.access = access
        self._fields: list[dict[str, Any]] | None = None
        self.sprint_field: str | None = None
        self.rank_field: str | None = None

    def views(self, project: str, names: dict[str, str], skipped: set[str],
              inside: Callable[[str], bool]) -> dict[str, tuple[dict[str, Any], str | None]]:
        """The project's issues by key, each as its comparable view and its rank: one search paged 100 at a time,
        each page turned into views as it comes (a page's raw issues, every field of them, are not kept)."""
        body: dict[str, Any] = {"jql": f'project = "{project}" ORDER BY key ASC', "fields": ["*all"],
                                "maxResults": SEARCH_PAGE}
        found: dict[str, tuple[dict[str, Any], str | None]] = {}
        while True:
            page = self.access.call(SEARCH, json=body, idempotent=True) or {}
            for issue in page.get("issues") or []:
                found[str(issue["key"])] = (self.view(issue, names, skipped, inside), self.rank(issue))
            if not page.get("nextPageToken"):
                return found
            body["nextPageToken"] = page["nextPageToken"]

    def field_names(self) -> dict[str, str]:
        """Field id -> name, as this site names its fields."""
        fields = [f for f in self.access.call(FIELDS, idempotent=True) or [] if isinstance(f, dict) and f.get("id")]
        for item in fields:  # this site's Sprint and Rank fields, by their type
            custom = str((item.get("schema") or {}).get("custom") or "")
            if custom == SPRINT_SCHEMA and self.sprint_field is None:
                self.sprint_field = str(item["id"])
            elif custom == RANK_SCHEMA and self.rank_field is None:
                self.rank_field = str(item["id"])
        return {str(f["id"]): str(f.get("name")) for f in fields}

    def _all(self, op: Any, key: str, items: str, embedded: dict[str, Any] | None) -> list[dict[str, Any]]:
        if embedded and int(embedded.get("total") or 0) <= len(embedded.get(items) or []):
            return list(embedded.get(items) or [])
        out: list[dict[str, Any]] = []
        while True:
            page = self.access.call(op, path={"issueIdOrKey": key}, params={"startAt": len(out), "maxResults": 100},
                                    idempotent=True) or {}
            got = page.get(items) or []
            out += got
            if not got or len(out) >= int(page.get("total") or 0):
                return out

    def comments_as(self, client: Any, key: str) -> list[dict[str, Any]]:
        """Every comment of the issue as ``client`` (a person the app acts as) reads them, page by page."""
        out: list[dict[str, Any]] = []
        path = LIST_COMMENTS.path(issueIdOrKey=key)
        while True:
            page = client.request("GET", path, params={"startAt": len(out), "maxResults": 100},
                                  template=LIST_COMMENTS.template) or {}
            got = page.get("comments") or []
            out += got
            if not got or len(out) >= int(page.get("total") or 0):
                return out

    def sha256(self, attachment_id: str) -> str:
        """The attachment's bytes hashed as they stream (never whole in memory)."""
        client = self.access.credential_for(ATTACHMENT_CONTENT).client
        url = client.base_url + ATTACHMENT_CONTENT.path(id=attachment_id)
        digest = hashlib.sha256()
        with client.session.get(url, auth=client.auth, params={"redirect": "false"}, stream=True,
                                timeout=client.timeout) as resp:
            resp.raise_for_status()
            for chunk in resp.iter_content(64 * 1024):
                digest.update(chunk)
        return digest.hexdigest()

    def view(self, issue: dict[str, Any], names: dict[str, str], skipped: set[str],
             inside: Callable[[str], bool]) -> dict[str, Any]:
        f = issue.get("fields") or {}
        key = str(issue["key"])
        comments = [_without_attribution(c.get("body"), (c.get("author") or {}).get("displayName"))
                    for c in self._all(LIST_COMMENTS, key, "comments", f.get("comment"))
                    if not c.get("visibility")]  # restricted ones: compared as their authors see them
        worklogs = self._all(LIST_WORKLOGS, key, "worklogs", f.get("worklog"))
        return {"summary": f.get("summary"), "issue type": (f.get("issuetype") or {}).get("name"),
                "status": (f.get("status") or {}).get("name"), "priority": (f.get("priority") or {}).get("name"),
                "parent": (f.get("parent") or {}).get("key"), "fields": _fields_by_name(f, names, skipped),
                "comments": comments,
                "worklog seconds": sorted(int(w.get("timeSpentSeconds") or 0) for w in worklogs),
                "attachments": sorted((str(a.get("filename")), self.sha256(str(a["id"])))
                                      for a in f.get("attachment") or []),
                **_links(f.get("issuelinks") or [], {}, inside),
                "sprints": _sprints(f.get(self.sprint_field) if self.sprint_field else None),
                "votes": int((f.get("votes") or {}).get("votes") or 0)}

    def rank(self, issue: dict[str, Any]) -> str | None:
        value = (issue.get("fields") or {}).get(self.rank_field) if self.rank_field else None
        return str(value) if value else None


def _words(key: str, what: str, expected: Any, actual: Any) -> str:
    return f"{key}: {what} was {_say(expected)} in the backup, {_say(actual)} on this site"


def _say(value: Any) -> str:
    if value in (None, [], {}, ""):
        return "nothing"
    if isinstance(value, list):
        return "; ".join(_say(v) for v in value)
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value if v is not None)
    return repr(value) if isinstance(value, str) else str(value)


class SiteFacts:
    """What the verification asks the destination itself to explain a difference, each question once: whether a
    person has an active account here (and their name), whether a group of that name is here. ``stand_in`` is the
    account the run put in a missing person's place (None: such a place was left empty)."""

    def __init__(self, access: SiteAccess, stand_in: str | None = None,
                 board_names: dict[str, str] | None = None) -> None:
        self.access, self.stand_in = access, stand_in
        self.board_names = board_names or {}  # the backup's boards: source id -> name
        self._people: dict[str, str | None] = {}
        self._groups: dict[str, bool] = {}
        self._boards: dict[str, bool] = {}

    def person(self, account_id: str) -> str | None:
        """The person's name here, or None when they have no active account on this site."""
        if account_id not in self._people:
            try:
                found = self.access.call(GET_USER, params={"accountId": account_id}, idempotent=True) or {}
                self._people[account_id] = (str(found.get("displayName") or account_id)
                                            if found.get("active", True) else None)
            except JiraError as exc:
                if exc.status != 404:
                    raise
                self._people[account_id] = None
        return self._people[account_id]

    def stood_in_for(self, people: list[tuple[str, str]], shown: Any) -> bool:
        """Whether a field naming ``people`` (account id, name) shows here what the run puts where someone is
        missing: the people who have an account here as they were, each missing one as the stand-in (or left out
        when there is none); at least one of them missing."""
        if all(self.person(account) is not None for account, _name in people):
            return False
        stand_in = self.person(self.stand_in) if self.stand_in is not None else None
        wanted = [w for w in (name if self.person(account) is not None else stand_in for account, name in people)
                  if w is not None]
        if isinstance(shown, list):
            return sorted(set(wanted)) == sorted(set(map(str, shown)))
        return (wanted[0] if wanted else None) == shown

    def has_board(self, source_board: Any) -> bool:
        """Whether the backup's board (by its source id) is on this site, found by its name."""
        name = self.board_names.get(str(source_board))
        if name is None:
            return False  # a board the backup doesn't hold can't have come across
        if name not in self._boards:
            found = self.access.paginate(BOARDS, params={"name": name}, page_size=50)
            self._boards[name] = any(str(b.get("name")) == name for b in found)
        return self._boards[name]

    def has_group(self, name: str) -> bool:
        if name not in self._groups:
            page = self.access.call(GROUPS_BY_NAME, params={"groupName": name}, idempotent=True) or {}
            self._groups[name] = any(str(g.get("name")) == name for g in page.get("values") or [])
        return self._groups[name]


def compare_issue(key: str, expected: dict[str, Any], actual: dict[str, Any],
                  site: SiteFacts | None = None) -> list[IssueDifference]:
    """The differences of one issue in words (empty: identical); ``site`` explains those the restore couldn't
    avoid (a person with no account here, a link to an issue this restore didn't bring)."""
    out: list[IssueDifference] = []
    gone = expected.get("people without an account") or set()
    people = expected.get("people") or {}
    for what in expected:
        if what in HIDDEN:
            continue
        if what == "fields":
            for name in sorted(set(expected["fields"]) | set(actual["fields"])):
                want, got = expected["fields"].get(name), actual["fields"].get(name)
                if want != got:
                    reason = ""
                    if name in gone and got is None:
                        reason = f"{want} has no active account, and Jira sets no inactive person"
                    elif site is not None and name in people and site.stood_in_for(people[name], got):
                        missing = [who for account, who in people[name] if site.person(account) is None]
                        reason = (f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no account on this "
                                  f"site, so the restore put {_say(got) if got else 'nobody'} here (the choice made "
                                  f"for missing people): invite them, then run the restore again")
                    out.append(IssueDifference(key, _words(key, f"field {name!r}", want, got), reason))
        elif expected[what] != actual.get(what):
            reason = VOTES_REASON if what == "votes" and int(actual.get(what) or 0) < int(expected[what]) else ""
            if what == "parent" and expected.get("parent outside") and actual.get(what) is None:
                reason = (f"the parent {expected['parent outside']} wasn't in this restore: restore it with its "
                          f"children and the parent is set")
            if what == "sprints" and site is not None:
                reason = reason or _sprints_reason(expected, actual, site)
            if what == LINKS_OUTSIDE and not Counter(actual.get(what) or []) - Counter(expected[what]):
                reason = (f"the linked issues ({', '.join(sorted({link[2] for link in expected[what]}))}) weren't "
                          f"in this restore: a link is made when both its issues are restored by one run")
            out.append(IssueDifference(key, _words(key, what, expected[what], actual.get(what)), reason))
    return out


def _sprints_reason(expected: dict[str, Any], actual: dict[str, Any], site: SiteFacts) -> str:
    """Why an issue is in fewer sprints here, when every missing sprint's board isn't on this site (else "")."""
    lost = Counter(expected["sprints"]) - Counter(actual.get("sprints") or [])
    boards = expected.get("sprint boards") or {}
    if not lost or Counter(actual.get("sprints") or []) - Counter(expected["sprints"]) \
            or any(site.has_board(boards.get(sprint)) for sprint in lost):
        return ""
    gone = sorted({site.board_names.get(str(boards.get(sprint)), str(boards.get(sprint))) for sprint in lost})
    one = len(gone) == 1
    return (f"the board{'' if one else 's'} of {'that sprint' if len(lost) == 1 else 'those sprints'} "
            f"({', '.join(gone)}) {'is' if one else 'are'}n't on this site: restore {'its' if one else 'their'} "
            f"project too, or everything")


def _people(fields: dict[str, Any], names: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Fields (by name) holding people: each person's account id on the source and name, in the field's order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for fid, value in fields.items():
        values = value if isinstance(value, list) else [value]
        people = [(str(v["accountId"]), str(v.get("displayName") or v["accountId"])) for v in values
                  if isinstance(v, dict) and v.get("accountId")]
        if people and len(people) == len(values):
            out[names.get(fid, fid)] = people
    return out


def _inactive_people(fields: dict[str, Any], names: dict[str, str]) -> set[str]:
    """Fields (by name) naming a person whose account was inactive on the source: Jira won't set them anywhere."""
    return {names.get(fid, fid) for fid, value in fields.items()
            if isinstance(value, dict) and value.get("accountId") and value.get("active") is False}


def _board_names(snapshot_id: int) -> dict[str, str]:
    """The backup's boards, source id -> name (the sprints of an issue name their board by id)."""
    found = {str(b.get("id")): str(b.get("name")) for b in SnapshotReader(snapshot_id).objects("boards")
             if isinstance(b, dict)}
    db.session.commit()
    return found


def _skipped_custom(snapshot_id: int) -> tuple[dict[str, str], set[str]]:
    meta = field_meta(snapshot_id)
    skipped = {fid for fid, schema in (meta.get("schema") or {}).items()
               if any(part in str((schema or {}).get("custom") or "") for part in CUSTOM_SKIPPED)}
    return dict(meta.get("names") or {}), skipped


def verify_issues(access: SiteAccess, snapshot_id: int, projects: Iterable[str],
                  key_maps: dict[str, dict[str, str]], as_author: AsAuthor | None = None, *,
                  stand_in: str | None = None, not_restored: dict[str, str] | None = None,
                  subset: dict[str, list[str]] | None = None) -> IssueCheck:
    """Compare the snapshot's issues of ``projects`` with the destination's, by key (or the old -> new key map).

    A project at a time, and within it the backup's records read as the comparison goes (``StoredIssues``: a window
    of them, never the whole project) against the destination's issues as views (not their every field).
    Restricted comments, which the app's user can't read here, are compared as their authors read them
    (``as_author``: a client acting as that person, or None when the app may not act as them). A difference the
    restore couldn't avoid is explained from the destination itself (``SiteFacts``: a person with no account here
    where the run's ``stand_in`` or nobody stands, a restricted comment whose group isn't here) or from the projects
    the run didn't restore (``not_restored``: project -> why). ``subset``: the issues a JQL chose, per project (None:
    every issue of the projects)."""
    check = IssueCheck()
    projects = list(projects)
    not_restored = not_restored or {}
    restored = {p for p in projects if p not in not_restored}
    chose = {k for keys in subset.values() for k in keys} if subset is not None else None
    key_map = {old: new for m in key_maps.values() for old, new in m.items()}
    back = {new: old for old, new in key_map.items()}

    def inside(shown: str) -> bool:  # whether the run brought this issue (key as on this site): a link to it can be
        key = back.get(shown, shown)
        return key in chose if chose is not None else _project_of(key) in restored

    src_names, skipped = _skipped_custom(snapshot_id)
    dest = DestinationIssues(access)
    site = SiteFacts(access, stand_in, _board_names(snapshot_id))
    dest_names = dest.field_names()
    entries = issue_entries(snapshot_id)
    if subset is not None:
        entries = only(entries, subset)
    db.session.commit()  # no transaction stays open while we read Jira
    for project in projects:
        records = StoredIssues(snapshot_id, entries.pop(project, []), window=WINDOW)  # in key order
        found = dest.views(project, dest_names, skipped, inside) if len(records) else {}
        ranked: list[tuple[str, str]] = []
        identical: list[str] = []
        for record in records:
            check.compared += 1
            key = key_map.get(record.key, record.key)
            if record.rank:
                ranked.append((str(record.rank), key))
            here = found.get(key)
            if here is None:
                check.differences.append(IssueDifference(record.key, f"{record.key}: not on this site (as {key})",
                                                         not_restored.get(project, "")))
                continue
            found_here = compare_issue(record.key, _source_view(record, key_map, src_names, skipped, inside),
                                       here[0], site)
            found_here += restricted_differences(record, key, dest, as_author, site)
            check.differences += found_here
            if not found_here:
                identical.append(key)
        out_of_order = _order_difference(project, ranked, {k: rank for k, (_view, rank) in found.items()})
        moved: set[str] = set()
        if out_of_order is not None:
            check.differences.append(out_of_order[0])
            moved = out_of_order[1]
        check.identical += sum(1 for key in identical if key not in moved)
    return check


def _order_difference(project: str, ranked: list[tuple[str, str]], ranks_here: dict[str, str | None]
                      ) -> tuple[IssueDifference, set[str]] | None:
    """The project's board order (Jira's one Rank order) by key on each site: the backup's by its ranks
    (``ranked``: (rank, key here)), this site's by its own; the issues out of place (those outside the longest run in
    the same order), or None."""
    wanted = [key for _rank, key in sorted(ranked) if ranks_here.get(key)]
    here = sorted(wanted, key=lambda k: (ranks_here[k] or "", k))
    if wanted == here:
        return None
    position = {key: n for n, key in enumerate(here)}
    kept = longest_ordered([position[k] for k in wanted])
    moved = [k for n, k in enumerate(wanted) if n not in kept]
    shown = ", ".join(moved[:ORDER_SHOWN]) + (f" and {len(moved) - ORDER_SHOWN} more" if len(moved) > ORDER_SHOWN
                                              else "")
    words = (f"{project}: board order differs from the backup's: {len(moved)} issue(s) not where they were "
             f"({shown}); the backup's order begins {', '.join(wanted[:ORDER_SHOWN])}, this site's "
             f"{', '.join(here[:ORDER_SHOWN])}")
    return IssueDifference(project, words), set(moved)


def restricted_differences(record: IssueRecord, key: str, dest: DestinationIssues, as_author: AsAuthor | None,
                           site: SiteFacts | None = None) -> list[IssueDifference]:
    """The record's restricted comments against the destination issue's, each side by (text, author, who may see
    it), the destination's read as each of their authors (the app's user sees none of them); an author the app can't
    act as leaves their comments unverified, said with the reason."""
    wanted = [c for c in record.comments if c.get("visibility")]
    if not wanted:
        return []
    seen: dict[str, dict[str, Any]] = {}
    read: set[str] = set()  # the authors whose restricted comments could be read here
    for account in sorted({str((c.get("author") or {}).get("accountId")) for c in wanted}):
        client = as_author(account) if as_author is not None else None
        if client is None:
            continue
        read.add(account)
        for comment in dest.comments_as(client, key):
            if comment.get("visibility"):
                seen[str(comment.get("id"))] = comment
    unverified = sum(1 for c in wanted if str((c.get("author") or {}).get("accountId")) not in read)
    expected = Counter(_restricted(c) for c in wanted if str((c.get("author") or {}).get("accountId")) in read)
    actual = Counter(_restricted(c) for c in seen.values())
    out = [IssueDifference(record.key, f"{record.key}: restricted comment by {who or 'someone'} ({_say(text[:80])}, "
                                       f"visible to {whom}) is missing here", _group_missing(whom, site))
           for (text, who, whom), n in (expected - actual).items() for _ in range(n)]
    if unverified:
        out.append(IssueDifference(record.key, f"{record.key}: {unverified} restricted comment(s) not compared",
                                   RESTRICTED_REASON))
    return out


def _group_missing(whom: str, site: SiteFacts | None) -> str:
    """Why a restricted comment isn't here, when its group isn't on this site (else no reason)."""
    kind, _, name = whom.partition(" ")
    if kind != "group" or site is None or site.has_group(name):
        return ""
    return (f"the group {name} isn't on this site, and a restricted comment is never shown to more people: restore "
            f"the group, then run the restore again")


def _restricted(comment: dict[str, Any]) -> tuple[str, str | None, str]:
    text, author = _without_attribution(comment.get("body"), (comment.get("author") or {}).get("displayName"))
    visibility = comment.get("visibility") or {}
    return text, author, f"{visibility.get('type')} {visibility.get('value') or visibility.get('identifier')}"


def verify_restored(access: SiteAccess, snapshot_id: int, report: dict[str, Any] | None,
                    as_author: AsAuthor | None = None, stand_in: str | None = None,
                    subset: dict[str, list[str]] | None = None) -> IssueCheck | None:
    """The issues' verification of a run whose issue report is ``report`` (None: the run restored no issue data);
    ``stand_in``: the account the run put in a missing person's place; ``subset``: the issues its JQL chose."""
    if not report:
        return None
    projects = report.get("projects") or {}
    skipped = {p: "; ".join(r.get("notes") or ["its issues weren't restored"]) for p, r in projects.items()
               if set(r.get("outcomes") or {}) == {"not-restored"}}
    return verify_issues(access, snapshot_id, list(projects),
                         {p: dict(r.get("key_map") or {}) for p, r in projects.items()}, as_author,
                         stand_in=stand_in, not_restored=skipped, subset=subset)
