"""What a restored issue was before the restore (created, creator, people, history): the issue panel's one way in.

Both doors call ``before_the_restore``: the Connect web panel (``app.admin.before_views``) and the Forge issue
panel's remote call (``app.forge.issue_panel``). It reads, with one call to the tenant's Jira, the issue's current
reporter/assignee and the two properties the issue restore writes (``jiradr.before``: key, created, creator, the
original reporter and assignee, the authors and dates of comments and worklogs, the history, its sprints' original
dates; ``jiradr.source``: the source issue and snapshot). The property is preferred: it outlives the backup, which
retention removes. Only a property written before it held people and dates (no ``reporter``/``assignee``/
``comments``/``worklogs`` member) sends the panel to the backup's record of the source issue, and only where this
tenant itself ran a restore from that snapshot.

Issue properties are writable by anyone who may edit the issue, so their values are untrusted: every value is
checked for shape, cut to a bounded length, and the snapshot they name is used only when it is one this tenant
restored from (a property pointing at another tenant's backup reads nothing). Renderers escape every string.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..backups.models import Blob, SnapshotEntry
from ..backups.snapshots import CorruptSnapshot, Entry, SnapshotNotFound, SnapshotReader
from ..extensions import db
from ..jira.access import JiraAccess
from ..jira.errors import JiraError
from ..jira.operations import PERMISSIONS_CHECK, declare
from ..tenants import Tenant
from .records import ISSUE_TYPE, IssueRecord, IssueRecordError

GET_ISSUE = declare("GET", "/rest/api/3/issue/{issueIdOrKey}")
BEFORE_PROPERTY = "jiradr.before"  # written by app.restore.issues.restore (BEFORE_PROPERTY there)
SOURCE_PROPERTY = "jiradr.source"  # written by app.restore.issues.restore (SOURCE_PROPERTY there)
HISTORY_PAGE_ROWS = 20
MAX_ISSUE_ID_DIGITS = 18
MAX_TEXT = 500  # a field value of the history is cut here (the panel is narrow; the backup keeps it whole)
MAX_LISTED = 200  # comments or worklogs listed with their original dates
UNKNOWN_PERSON = "someone the backup has no name for"
PEOPLE_MEMBERS = ("reporter", "assignee", "comments", "worklogs")
PEOPLE_FIELDS = (("reporter", "Reporter"), ("assignee", "Assignee"))


class BeforeError(Exception):
    """Base of the panel's refusals: an HTTP ``status``, a stable ``code`` and words safe to show anyone."""

    status = 400
    code = "bad-request"


class InvalidIssueId(BeforeError):
    """The issue id isn't a Jira issue id (digits)."""

    code = "invalid-issue-id"


class InvalidPage(BeforeError):
    """The history page asked for isn't a page number."""

    code = "invalid-page"


class NotRestored(BeforeError):
    """Nothing to show: the issue wasn't restored by the app, or it isn't one the caller may see on this site.

    One answer for all of these, so a caller learns nothing about issues they can't see or other sites."""

    status = 404
    code = "not-restored"

    def __init__(self) -> None:
        super().__init__("This issue wasn't restored by the app.")


@dataclass(frozen=True)
class HistoryRow:
    """One changed field of one history entry: when, who (display name), which field, from and to."""

    when: str | None
    who: str
    field: str
    before: str
    after: str

    def to_json(self) -> dict[str, Any]:
        return {"when": self.when, "who": self.who, "field": self.field, "from": self.before, "to": self.after}


@dataclass(frozen=True)
class DatedItem:
    """A comment or worklog as the backup holds it: who wrote it and when (Jira dates them at the restore)."""

    who: str
    when: str | None

    def to_json(self) -> dict[str, Any]:
        return {"who": self.who, "when": self.when}


@dataclass(frozen=True)
class SprintDates:
    """A sprint the issue was in, with the dates it had (Jira dates a restored sprint's completion itself)."""

    name: str
    state: str | None
    start: str | None
    end: str | None
    complete: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "startDate": self.start, "endDate": self.end,
                "completeDate": self.complete}


@dataclass(frozen=True)
class Replaced:
    """A person field the restore couldn't keep: who it was in the backup, and who it is now (None: nobody)."""

    field: str
    original: str
    now: str | None

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "original": self.original, "now": self.now}


@dataclass
class BeforeTheRestore:
    """What the panel shows for one restored issue, with one page of its history."""

    issue_id: str
    original_key: str | None
    created: str | None
    creator: str | None
    history: list[HistoryRow]
    history_rows: int  # every row, all pages
    page: int
    pages: int
    trimmed: int  # history entries the restore left out to fit Jira's property size (the oldest)
    sprints: list[SprintDates] = field(default_factory=list)
    replaced: list[Replaced] = field(default_factory=list)
    comments: list[DatedItem] = field(default_factory=list)
    worklogs: list[DatedItem] = field(default_factory=list)
    from_backup: bool = False  # the backup's record was read (people and dates of comments/worklogs)
    comments_trimmed: int = 0  # comments (the newest) the property had no room for after the whole history went
    worklogs_trimmed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"issueId": self.issue_id, "originalKey": self.original_key, "created": self.created,
                "creator": self.creator, "history": [r.to_json() for r in self.history],
                "historyRows": self.history_rows, "page": self.page, "pages": self.pages, "trimmed": self.trimmed,
                "sprints": [p.to_json() for p in self.sprints], "replaced": [r.to_json() for r in self.replaced],
                "comments": [c.to_json() for c in self.comments], "worklogs": [w.to_json() for w in self.worklogs],
                "fromBackup": self.from_backup, "commentsTrimmed": self.comments_trimmed,
                "worklogsTrimmed": self.worklogs_trimmed}


# -- input ---------------------------------------------------------------------------------------------------------

def parse_issue_id(raw: Any) -> str:
    """:raises InvalidIssueId: unless ``raw`` is a Jira issue id (1 to 18 digits)."""
    text = raw if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= MAX_ISSUE_ID_DIGITS):
        shown = f"{len(text)} characters" if text else "nothing"
        raise InvalidIssueId(f"The issue id must be 1 to {MAX_ISSUE_ID_DIGITS} digits; received {shown}.")
    return text


def parse_page(raw: Any) -> int:
    """:raises InvalidPage: unless ``raw`` is absent or a page number from 1."""
    if raw is None or raw == "":
        return 1
    text = str(raw)
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and int(text) >= 1):
        raise InvalidPage("The history page must be a whole number from 1 to 999999.")
    return int(text)


# -- the one way in ------------------------------------------------------------------------------------------------

def before_the_restore(access: JiraAccess, tenant: Tenant, issue_id: str, *, page: int = 1,
                       viewer: str | None = None, check_viewer: bool = False) -> BeforeTheRestore:
    """What ``issue_id`` of ``tenant``'s site was before the restore, with page ``page`` of its history.

    ``check_viewer``: ask Jira whether ``viewer`` may browse the issue first (the Forge door, whose issue id comes
    from the browser; the Connect door's id is covered by Jira's request-bound signature).
    :raises NotRestored: no such issue here, not the viewer's to see, or no readable ``jiradr.before``.
    """
    if check_viewer and not _may_browse(access, viewer, issue_id):
        raise NotRestored()
    issue = _issue_with_properties(access, issue_id)
    props = issue.get("properties") or {}
    before = props.get(BEFORE_PROPERTY)
    if not isinstance(before, dict):
        raise NotRestored()
    rows = _history_rows(before.get("changelog"))
    pages = max(1, math.ceil(len(rows) / HISTORY_PAGE_ROWS))
    page = min(page, pages)
    result = BeforeTheRestore(
        issue_id=issue_id, original_key=_text(before.get("key"), 64), created=_text(before.get("created"), 64),
        creator=_text(before.get("creator")), history=rows[(page - 1) * HISTORY_PAGE_ROWS:page * HISTORY_PAGE_ROWS],
        history_rows=len(rows), page=page, pages=pages, trimmed=_trimmed(before),
        sprints=_sprints(before.get("sprints")), comments_trimmed=_count(before.get("commentsTrimmed")),
        worklogs_trimmed=_count(before.get("worklogsTrimmed")))
    if _holds_people(before):
        _add_from_property(result, before, issue.get("fields") or {})
        return result
    record = _backup_record(tenant, props.get(SOURCE_PROPERTY))
    if record is not None:
        _add_from_backup(result, record, issue.get("fields") or {})
    return result


def _trimmed(before: dict[str, Any]) -> int:
    """History entries left out; at least one when the property says it was cut without a (readable) count."""
    return max(_count(before.get("trimmed")), 1 if before.get("truncated") is True else 0)


def _holds_people(before: dict[str, Any]) -> bool:
    """Whether the property carries the original people and dates (written by a restore since it does)."""
    return any(name in before for name in PEOPLE_MEMBERS)


def _may_browse(access: JiraAccess, viewer: str | None, issue_id: str) -> bool:
    if not viewer:
        return False
    body = {"accountId": viewer,
            "projectPermissions": [{"permissions": ["BROWSE_PROJECTS"], "issues": [int(issue_id)]}]}
    try:
        answer = access.call(PERMISSIONS_CHECK, json=body, idempotent=True) or {}
    except JiraError as exc:
        if exc.status in (400, 404):  # an account Jira doesn't know
            return False
        raise
    return any(g.get("permission") == "BROWSE_PROJECTS" and int(issue_id) in [_int(i) for i in g.get("issues") or []]
               for g in answer.get("projectPermissions") or [] if isinstance(g, dict))


def _issue_with_properties(access: JiraAccess, issue_id: str) -> dict[str, Any]:
    try:
        issue = access.call(GET_ISSUE, path={"issueIdOrKey": issue_id},
                            params={"fields": "reporter,assignee",
                                    "properties": f"{BEFORE_PROPERTY},{SOURCE_PROPERTY}"}) or {}
    except JiraError as exc:
        if exc.status in (403, 404):  # not on this site, or not the app's to read: the same answer
            raise NotRestored() from None
        raise
    return issue if isinstance(issue, dict) else {}


# -- the property's history ----------------------------------------------------------------------------------------

def _history_rows(changelog: Any) -> list[HistoryRow]:
    """One row per changed field, oldest first, from a changelog of any shape (malformed entries are skipped)."""
    rows: list[HistoryRow] = []
    for entry in changelog if isinstance(changelog, list) else []:
        if not isinstance(entry, dict):
            continue
        when, who = _text(entry.get("created"), 64), person(entry.get("author"))
        for item in entry.get("items") or []:
            if isinstance(item, dict):
                rows.append(HistoryRow(when, who, _text(item.get("field")) or "?",
                                       _value(item, "fromString", "from"), _value(item, "toString", "to")))
    return rows


def _sprints(sprints: Any) -> list[SprintDates]:
    """The sprints the property lists with their original dates (malformed entries skipped)."""
    out = []
    for sprint in sprints[:MAX_LISTED] if isinstance(sprints, list) else []:
        if isinstance(sprint, dict) and _text(sprint.get("name")):
            out.append(SprintDates(str(_text(sprint.get("name"))), _text(sprint.get("state"), 16),
                                   _text(sprint.get("startDate"), 64), _text(sprint.get("endDate"), 64),
                                   _text(sprint.get("completeDate"), 64)))
    return out


def _value(item: dict[str, Any], shown: str, raw: str) -> str:
    return _text(item.get(shown)) or _text(item.get(raw)) or ""


def person(user: Any) -> str:
    """A person by display name (never an account id shown as a name)."""
    if isinstance(user, dict):
        return _text(user.get("displayName")) or UNKNOWN_PERSON
    return _text(user) or UNKNOWN_PERSON


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if isinstance(value, bool) or value is None or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return (text[:limit - 1] + "…" if len(text) > limit else text) or None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- the backup's record -------------------------------------------------------------------------------------------

def _backup_record(tenant: Tenant, source: Any) -> IssueRecord | None:
    """The backup's record of the source issue, only from a snapshot ``tenant`` itself restored from."""
    if not isinstance(source, dict):
        return None
    snapshot_id, source_id = _int(source.get("snapshot")), _text(source.get("id"), 32)
    if snapshot_id is None or source_id is None or not _restored_from(tenant, snapshot_id):
        return None
    row = db.session.execute(
        select(SnapshotEntry.natural_key, SnapshotEntry.source_id, Blob.sha256, Blob.size)
        .join(Blob, Blob.id == SnapshotEntry.blob_id)
        .where(SnapshotEntry.snapshot_id == snapshot_id, SnapshotEntry.type_key == ISSUE_TYPE,
               SnapshotEntry.source_id == source_id).limit(1)).first()
    if row is None:
        return None
    try:
        reader = SnapshotReader(snapshot_id)
        entry = Entry(ISSUE_TYPE, row.natural_key, row.source_id, row.sha256, row.size)
        return next((IssueRecord.from_json(obj) for obj in reader.objects_of([entry])), None)
    except (SnapshotNotFound, CorruptSnapshot, IssueRecordError):
        return None  # the panel still shows the property; the backup's trouble is the backups page's to report


def _restored_from(tenant: Tenant, snapshot_id: int) -> bool:
    from ..restore.models import RestoreRun

    return db.session.scalars(select(RestoreRun.id).where(RestoreRun.tenant_id == tenant.id,
                                                          RestoreRun.snapshot_id == snapshot_id).limit(1)).first() \
        is not None


def _add_from_property(result: BeforeTheRestore, before: dict[str, Any], now: dict[str, Any]) -> None:
    for name, label in PEOPLE_FIELDS:
        _add_replaced(result, label, before.get(name), now.get(name))
    result.comments = _dated_items(before.get("comments"))
    result.worklogs = _dated_items(before.get("worklogs"))


def _dated_items(items: Any) -> list[DatedItem]:
    """The property's ``[{author, when}]`` (malformed entries skipped, at most ``MAX_LISTED``)."""
    if not isinstance(items, list):
        return []
    return [DatedItem(person(i.get("author")), _text(i.get("when"), 64))
            for i in items[:MAX_LISTED] if isinstance(i, dict)]


def _add_replaced(result: BeforeTheRestore, label: str, original: Any, current: Any) -> None:
    """Name the original person where the restore couldn't keep them (someone else, or nobody, holds it now)."""
    if not isinstance(original, dict):
        return
    current = current if isinstance(current, dict) else None
    if current is None or current.get("accountId") != original.get("accountId"):
        result.replaced.append(Replaced(label, person(original), person(current) if current else None))


def _add_from_backup(result: BeforeTheRestore, record: IssueRecord, now: dict[str, Any]) -> None:
    result.from_backup = True
    fields = record.fields
    for name, label in PEOPLE_FIELDS:
        _add_replaced(result, label, fields.get(name), now.get(name))
    result.comments = [DatedItem(person(c.get("author")), _text(c.get("created"), 64))
                       for c in record.comments[:MAX_LISTED] if isinstance(c, dict)]
    result.worklogs = [DatedItem(person(w.get("author")), _text(w.get("started"), 64))
                       for w in record.worklogs[:MAX_LISTED] if isinstance(w, dict)]
