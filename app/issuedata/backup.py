"""The backup's issue pass: issue data into the configuration's snapshot, first in full, then incrementally.

Reads go through the cheapest endpoints (reference ``issue-data.md``): id-only ``/search/jql`` pages (5,000 ids a
page, ``nextPageToken``), ``POST /issue/bulkfetch`` 100 issues at a time with ``fields=*all``, ``expand=changelog,
names,schema`` (histories, field names and schemas ride along without points of their own) and ``properties=*all``
(**[unverified]** on real Jira, whose spec documents up to 5 keys); comments and worklogs are paged only for issues
whose embedded field is truncated, changelogs only when their embedded page is (through ``POST
/changelog/bulkfetch`` where the grant allows, else per issue); watchers and voters only for issues that have some.
Attachment bytes stream into the tenant's blob store (``blobs.put_stream``: never whole in memory, one stored copy
per tenant); an attachment id seen by the previous snapshot is immutable in Jira, so its bytes are not read again.

Incremental: with a previous snapshot holding issue data, only issues with ``updated`` since the previous pass
(minus ``ISSUE_OVERLAP``; a relative JQL period, so Jira's clock and time zone judge it), issues whose worklogs
``/worklog/updated`` lists, and nothing else are read; the other issues are carried forward by reference (the same
blobs: ``SnapshotWriter.carry_forward``). Deletions come from a periodic id-set comparison
(``ISSUE_IDSET_DAYS``, every pass when 0) and, sooner, from Jira's webhooks (``app.issuedata.webhooks`` records
them in ``changes``): an issue a webhook says was deleted is dropped, one whose comment, worklog, attachment or link
changed is read again, and the pass marks those rows consumed when it finishes (they are deleted once its snapshot
has finished well, ``changes.settle``); a worklog deleted
(``/worklog/deleted``) marks its issue changed. A killed pass resumes: issues with an entry already in the snapshot
are not read again.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from ..backups import blobs
from ..backups.models import Blob, Snapshot, SnapshotEntry, SnapshotStatus, SnapshotType, TypeStatus
from ..backups.snapshots import Entry, SnapshotReader, SnapshotWriter
from ..connect.impersonation import Grant, ImpersonationRefused, client_as
from ..extensions import db
from ..jira.access import JiraAccess
from ..jira.errors import JiraError
from ..jira.operations import declare
from ..quota.points import cost
from ..tenants import Tenant
from . import changes
from .records import (
    COUNTS_TYPE,
    FIELD_META_TYPE,
    ISSUE_TYPE,
    STATE_TYPE,
    AttachmentRecord,
    IssueCounts,
    IssueRecord,
    VoteRecord,
    issue_state,
    project_of,
)
from .restricted import CommentIds, Found, HiddenComments, people_to_try, snapshot_people
from .sprints import read_board_sprints, scrum_boards

log = logging.getLogger(__name__)

API = "/rest/api/3"
OP_SEARCH = declare("POST", f"{API}/search/jql")
OP_BULK_FETCH = declare("POST", f"{API}/issue/bulkfetch")
OP_CHANGELOG_BULK = declare("POST", f"{API}/changelog/bulkfetch")
OP_CHANGELOG = declare("GET", f"{API}/issue/{{issueIdOrKey}}/changelog")
OP_COMMENTS = declare("GET", f"{API}/issue/{{issueIdOrKey}}/comment")
OP_WORKLOGS = declare("GET", f"{API}/issue/{{issueIdOrKey}}/worklog")
OP_WATCHERS = declare("GET", f"{API}/issue/{{issueIdOrKey}}/watchers")
OP_VOTES = declare("GET", f"{API}/issue/{{issueIdOrKey}}/votes")
OP_ATTACHMENT_CONTENT = declare("GET", f"{API}/attachment/content/{{id}}")
OP_WORKLOG_UPDATED = declare("GET", f"{API}/worklog/updated")
OP_WORKLOG_DELETED = declare("GET", f"{API}/worklog/deleted")
OP_WORKLOG_LIST = declare("POST", f"{API}/worklog/list")

ALL_ISSUES_JQL = "project IS NOT EMPTY ORDER BY key ASC"
ID_PAGE = 5000
BULK_FETCH = 100
CHANGELOG_BULK = 1000
WORKLOG_LIST = 1000
DEFAULT_OVERLAP_MINUTES = 60
DEFAULT_IDSET_DAYS = 7
DROPPED = frozenset({"self", "expand", "isWatching", "hasVoted", "lastViewed"})
SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
RANK_SCHEMA = "com.pyxis.greenhopper.jira:gh-lexo-rank"
ATTACHMENT_PIECE = 256 * 1024


@dataclass
class IssuePassOutcome:
    """What the pass did: counts of the snapshot's issue data, and what this pass read."""

    counts: IssueCounts
    read: int
    carried: int
    deleted: int
    mode: str  # full | incremental


@dataclass
class _State:
    """The pass's state object, stored as the single ``STATE_TYPE`` entry (the next pass starts from it)."""

    watermark: float  # our clock (epoch seconds) when this pass started reading
    idset_at: float  # when all ids were last compared
    counts: dict[str, int] = field(default_factory=dict)
    # issueId -> [[attachmentId, sha256, size]], for issues with attachments (holds and re-use, without reading)
    attachments: dict[str, list[list[Any]]] = field(default_factory=dict)
    # worklogId -> issueId, so a worklog deletion names its issue
    worklogs: dict[str, str] = field(default_factory=dict)
    # issueId -> [comments, worklogs, restricted comments] counts, so carried issues count without being read
    sizes: dict[str, list[int]] = field(default_factory=dict)
    # issueId -> issues its record names (links, parent, sub-tasks): re-read when it is deleted
    neighbours: dict[str, list[str]] = field(default_factory=dict)
    # issueId -> ids of its comments restricted to a group or role (asked for again when the issue is re-read)
    hidden: dict[str, list[str]] = field(default_factory=dict)
    comment_high: int = 0  # the highest comment id the passes so far asked about (``restricted``)
    # the last pass's search for restricted comments: read, unread, people, calls, points, reason
    restricted: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"watermark": self.watermark, "idsetAt": self.idset_at, "counts": self.counts,
                "attachments": self.attachments, "worklogs": self.worklogs, "sizes": self.sizes,
                "neighbours": self.neighbours, "hidden": self.hidden, "commentHigh": self.comment_high,
                "restricted": self.restricted}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> _State:
        return cls(float(obj.get("watermark") or 0), float(obj.get("idsetAt") or 0), dict(obj.get("counts") or {}),
                   dict(obj.get("attachments") or {}), dict(obj.get("worklogs") or {}), dict(obj.get("sizes") or {}),
                   dict(obj.get("neighbours") or {}), dict(obj.get("hidden") or {}),
                   int(obj.get("commentHigh") or 0), dict(obj.get("restricted") or {}))

    def forget(self, issue_id: str) -> None:
        self.attachments.pop(issue_id, None)
        self.sizes.pop(issue_id, None)
        self.neighbours.pop(issue_id, None)
        self.hidden.pop(issue_id, None)
        for worklog_id in [w for w, i in self.worklogs.items() if i == issue_id]:
            del self.worklogs[worklog_id]

    def learn(self, record: IssueRecord, restricted: int = 0) -> None:
        self.forget(record.id)
        if record.attachments:
            self.attachments[record.id] = [[a.id, a.sha256, a.size] for a in record.attachments]
        for worklog in record.worklogs:
            self.worklogs[str(worklog.get("id"))] = record.id
        self.sizes[record.id] = [len(record.comments), len(record.worklogs), restricted]
        hidden = [str(c.get("id")) for c in record.comments if c.get("visibility")]
        if hidden:
            self.hidden[record.id] = hidden
        neighbours = _neighbours(record.fields)
        if neighbours:
            self.neighbours[record.id] = neighbours


def _ref(issue: Any) -> Any:
    """Another issue named by this one: its id and key only. Jira embeds that issue's summary, status, priority and
    type, which change without this issue's ``updated`` moving; kept, they would make an unchanged issue differ."""
    if not isinstance(issue, dict):
        return issue
    return {k: issue[k] for k in ("id", "key") if k in issue}


def _link(link: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in link.items() if k not in {"inwardIssue", "outwardIssue"}}
    for side in ("inwardIssue", "outwardIssue"):
        if side in link:
            out[side] = _ref(link[side])
    return out


def _slim_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The issue's fields with the issues it names reduced to references (``_ref``)."""
    out = dict(fields)
    if isinstance(out.get("parent"), dict):
        out["parent"] = _ref(out["parent"])
    if isinstance(out.get("subtasks"), list):
        out["subtasks"] = [_ref(s) for s in out["subtasks"]]
    if isinstance(out.get("issuelinks"), list):
        out["issuelinks"] = [_link(link) for link in out["issuelinks"]]
    return out


def _neighbours(fields: dict[str, Any]) -> list[str]:
    """Issues whose record names this one (links, parent, sub-tasks): they change when this one is deleted."""
    found = [(fields.get("parent") or {}).get("id")]
    found += [s.get("id") for s in fields.get("subtasks") or []]
    for link in fields.get("issuelinks") or []:
        found += [(link.get(side) or {}).get("id") for side in ("inwardIssue", "outwardIssue")]
    return sorted({str(i) for i in found if i})


def _clean(value: Any) -> Any:
    """Drop links and what depends on the caller, at every depth, so an unchanged issue serialises the same."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in DROPPED}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class IssuePass:
    """One issue pass of one backup job into its (running) snapshot."""

    def __init__(self, writer: SnapshotWriter, access: JiraAccess, tenant_id: int, *,
                 now: Callable[[], float] = time.time, full: bool = False) -> None:
        self.writer = writer
        self.force_full = full  # read everything even when an earlier snapshot holds issue data
        self.access = access
        self.tenant_id = tenant_id
        self.now = now
        config = current_app.config
        self.overlap_minutes = int(config.get("ISSUE_OVERLAP_MINUTES", DEFAULT_OVERLAP_MINUTES))
        self.idset_days = float(config.get("ISSUE_IDSET_DAYS", DEFAULT_IDSET_DAYS))
        self.meta: dict[str, dict[str, Any]] = {"names": {}, "schema": {}}
        self.news = changes.PendingChanges(frozenset(), frozenset(), 0)
        self.seen = CommentIds()  # comment ids this pass read (restricted comments hide between them)
        self.people: Counter[str] = Counter()  # people seen on the issues read: who may see restricted comments
        self.said: dict[str, int] = {}  # issueId -> comments its comment field said it has (``total``)

    # -- the pass -------------------------------------------------------------------------------------------------

    def run(self) -> IssuePassOutcome:
        """Read issue data into the snapshot and record its types; :raises JiraError: on a refusal to read."""
        started = self.now()
        previous = None if self.force_full else previous_issue_snapshot(self.tenant_id, self.writer.snapshot_id)
        done = self.writer.source_ids(ISSUE_TYPE)  # a resumed run: what a killed one already wrote
        changes.settle(self.tenant_id)  # rows earlier finished snapshots used go; a failed one's come back
        self.news = changes.pending(self.tenant_id)  # webhooks' news, consumed when this pass finishes
        if previous is None:
            return self._full(started, done)
        return self._incremental(started, previous, done)

    def _full(self, started: float, done: set[str]) -> IssuePassOutcome:
        state = _State(watermark=started, idset_at=started)
        self._resume_state(state, done)
        ids = [i for i in self._search_ids(ALL_ISSUES_JQL) if i not in done]
        if not ids and not done:
            # A site without issues: the snapshot holds no issue types (restore sees "no issue data", the same
            # thing), and the next backup's full pass costs one search again.
            return IssuePassOutcome(IssueCounts(), 0, 0, 0, "full")
        read = self._read_issues(ids, state, previous=None)
        self._read_restricted(state, self.seen.gaps(0, 0))
        self._finish(state, done | set(ids))
        return IssuePassOutcome(IssueCounts.from_json(state.counts), read, 0, 0, "full")

    def _incremental(self, started: float, previous: int, done: set[str]) -> IssuePassOutcome:
        old = _State.from_json(issue_state(previous) or {})
        self.meta = _field_meta_of(previous) or self.meta
        minutes = int((started - old.watermark) / 60) + self.overlap_minutes + 1
        changed = set(self._search_ids(f"updated >= -{minutes}m ORDER BY key ASC"))
        since_ms = int((old.watermark - self.overlap_minutes * 60) * 1000)
        changed |= self._worklog_changes(since_ms, old)
        previous_ids = set(_previous_ids(previous))
        deleted: set[str] = set(self.news.deleted & (previous_ids | changed))
        changed |= self.news.changed
        state = _State(watermark=started, idset_at=old.idset_at, attachments=dict(old.attachments),
                       worklogs=dict(old.worklogs), sizes=dict(old.sizes), neighbours=dict(old.neighbours),
                       hidden=dict(old.hidden), comment_high=old.comment_high)
        if self.idset_days <= 0 or started - old.idset_at >= self.idset_days * 86400:
            present = set(self._search_ids(ALL_ISSUES_JQL))
            deleted |= previous_ids - present
            changed |= present - previous_ids  # created and lost from the updated search (eventual consistency)
            state.idset_at = started
        changed |= {n for i in deleted for n in old.neighbours.get(i, [])}  # they named a deleted issue
        changed -= deleted
        for issue_id in deleted:
            state.forget(issue_id)
        carried = 0 if done else self.writer.carry_forward(ISSUE_TYPE, previous, changed | deleted)
        to_read = sorted(changed - done, key=int)
        read = self._read_issues(to_read, state, previous=old)
        # Ids handed out since the last pass that weren't read, and the restricted comments of issues read again; a
        # new comment (restricted too) changes its issue's ``updated``, so with nothing read there is nothing new.
        again = {int(c) for i in to_read for c in old.hidden.get(i, []) if c.isdigit() and int(c) not in self.seen}
        new_ids = self.seen.gaps(old.comment_high, old.comment_high) if to_read else []
        self._read_restricted(state, sorted(again | set(new_ids)))
        self._finish(state, (previous_ids - deleted - changed) | changed | done)
        return IssuePassOutcome(IssueCounts.from_json(state.counts), read, carried, len(deleted), "incremental")

    def _resume_state(self, state: _State, done: set[str]) -> None:
        """After a kill: learn the issues already written (reading our own store, not Jira)."""
        if not done:
            return
        reader = SnapshotReader(self.writer.snapshot_id)
        for obj in reader.objects(ISSUE_TYPE):
            record = IssueRecord.from_json(obj)
            state.learn(record)
            self._note_seen(record)

    def _finish(self, state: _State, issue_ids: set[str]) -> None:
        state.counts = self._counts(state, issue_ids)
        self.writer.reset_type(FIELD_META_TYPE)
        self.writer.put(FIELD_META_TYPE, "fields", None, self.meta)
        self.writer.set_type_status(FIELD_META_TYPE, TypeStatus.COMPLETE.value, 1)
        self.writer.reset_type(COUNTS_TYPE)
        self.writer.put(COUNTS_TYPE, "counts", None, state.counts)
        self.writer.set_type_status(COUNTS_TYPE, TypeStatus.COMPLETE.value, 1)
        earlier = previous_config_snapshot(self.tenant_id, self.writer.snapshot_id, "boards")
        read_board_sprints(self.access, self.writer,
                           scrum_boards([self.writer.snapshot_id, *([earlier] if earlier else [])]))
        self.writer.reset_type(STATE_TYPE)
        self.writer.put(STATE_TYPE, "state", None, state.to_json())
        self.writer.set_type_status(STATE_TYPE, TypeStatus.COMPLETE.value, 1)
        self._hold_attachments(state)
        changes.consume(self.tenant_id, self.news.upto, self.writer.snapshot_id)  # committed with the status below
        self.writer.set_type_status(ISSUE_TYPE, TypeStatus.COMPLETE.value, state.counts["issues"],
                                    api_calls=self.access.calls)

    def _counts(self, state: _State, issue_ids: set[str]) -> dict[str, int]:
        stored = len(self.writer.source_ids(ISSUE_TYPE))
        comments = sum(state.sizes.get(i, [0, 0])[0] for i in issue_ids)
        worklogs = sum(state.sizes.get(i, [0, 0])[1] for i in issue_ids)
        restricted = sum(_restricted_of(state.sizes.get(i)) for i in issue_ids)
        attachments = [a for i in issue_ids for a in state.attachments.get(i, [])]
        found = state.restricted
        return IssueCounts(stored, comments, worklogs, len(attachments),
                           sum(int(a[2] or 0) for a in attachments), restricted,
                           restricted_read=sum(len(state.hidden.get(i, [])) for i in issue_ids),
                           restricted_unread=int(found.get("unread") or 0),
                           restricted_reason=found.get("reason")).to_json()

    def _hold_attachments(self, state: _State) -> None:
        """Record that this snapshot holds every attachment blob its issues name (retention keeps those)."""
        digests = {a[1] for items in state.attachments.values() for a in items if a[1]}
        for digest in sorted(digests):
            try:
                blobs.reference(self.tenant_id, self.writer.snapshot_id, digest)
            except blobs.BlobNotFound:
                log.warning("issue pass of tenant %s: attachment blob %s is gone", self.tenant_id, digest[:12])

    # -- restricted comments (``app.issuedata.restricted``) ----------------------------------------------------------

    def _note_seen(self, record: IssueRecord) -> None:
        """Remember the record's comment ids and the people on it (who may see what the app's user can't)."""
        for comment in record.comments:
            self.seen.add(comment.get("id"))
        people = [record.fields.get("reporter"), record.fields.get("assignee"),
                  *(c.get("author") for c in record.comments)]
        for person in people:
            if isinstance(person, dict) and person.get("accountId") and person.get("accountType") != "app":
                self.people[str(person["accountId"])] += 1
        for account_id in record.watchers:
            self.people[account_id] += 1

    def _hidden_reader(self) -> HiddenComments:
        tenant = db.session.get(Tenant, self.tenant_id)
        if tenant is None:
            return HiddenComments(None, "the site's installation is gone")
        try:
            grant = Grant.for_tenant(tenant)
        except ImpersonationRefused as refused:
            return HiddenComments(None, f"{refused.reason} Fix: {refused.fix}")
        return HiddenComments(lambda account_id: client_as(grant, account_id))

    def _read_restricted(self, state: _State, wanted: list[int]) -> None:
        """Read the comments hidden from the app's user as people allowed to see them; add them to their issues."""
        state.comment_high = max(state.comment_high, self.seen.high)
        if not wanted:
            state.restricted = {}
            return
        earlier = previous_config_snapshot(self.tenant_id, self.writer.snapshot_id, "groups")
        groups, projects = snapshot_people([self.writer.snapshot_id, *([earlier] if earlier else [])])
        found = self._hidden_reader().find(wanted, people_to_try(groups, projects, self.people))
        for issue_id, comments in sorted(found.comments.items()):
            self._add_comments(state, issue_id, comments)
        state.restricted = {"asked": found.asked, "read": found.read, "unread": found.unread,
                            "people": found.people, "calls": found.calls, "points": found.points,
                            "reason": found.reason if found.unread else None}
        _log_restricted(self.tenant_id, found)

    def _add_comments(self, state: _State, issue_id: str, comments: list[dict[str, Any]]) -> None:
        """Rewrite one issue's record in this snapshot with the restricted comments added (oldest first)."""
        self.writer.flush()
        row = db.session.execute(
            select(SnapshotEntry.id, SnapshotEntry.natural_key, Blob.sha256, Blob.size, Blob.stored_size)
            .join(Blob, Blob.id == SnapshotEntry.blob_id)
            .where(SnapshotEntry.snapshot_id == self.writer.snapshot_id, SnapshotEntry.type_key == ISSUE_TYPE,
                   SnapshotEntry.source_id == issue_id)).first()
        if row is None:
            return  # an issue this backup doesn't hold (created since, or one the app's user can't browse)
        entry = Entry(ISSUE_TYPE, row[1], issue_id, row[2], row[3])
        record = IssueRecord.from_json(next(SnapshotReader(self.writer.snapshot_id).objects_of([entry])))
        held = {str(c.get("id")) for c in record.comments}
        record.comments = sorted([*record.comments, *(_clean(c) for c in comments if str(c.get("id")) not in held)],
                                 key=_comment_order)
        db.session.execute(SnapshotEntry.__table__.delete().where(SnapshotEntry.id == row[0]))
        db.session.execute(update(Snapshot).where(Snapshot.id == self.writer.snapshot_id)
                           .values(bytes_stored=Snapshot.bytes_stored - int(row[4] or 0)))
        db.session.commit()
        self.writer.put(ISSUE_TYPE, record.key, record.id, _clean(record.to_json()))
        self.writer.flush()
        said = self.said.get(issue_id)
        state.learn(record, max(0, said - len(record.comments)) if said is not None else
                    _restricted_of(state.sizes.get(issue_id)))

    # -- reading --------------------------------------------------------------------------------------------------

    def _search_ids(self, jql: str) -> Iterator[str]:
        token: str | None = None
        while True:
            body: dict[str, Any] = {"jql": jql, "fields": ["id"], "maxResults": ID_PAGE}
            if token:
                body["nextPageToken"] = token
            page = self.access.call(OP_SEARCH, json=body, idempotent=True) or {}
            for issue in page.get("issues") or []:
                yield str(issue["id"])
            token = page.get("nextPageToken")
            if not token or page.get("isLast") is True:
                return

    def _worklog_changes(self, since_ms: int, old: _State) -> set[str]:
        """Issues whose worklogs changed or went since ``since_ms`` (Jira's worklog feeds)."""
        updated = [str(v["worklogId"]) for v in self._feed(OP_WORKLOG_UPDATED, since_ms)]
        gone = [str(v["worklogId"]) for v in self._feed(OP_WORKLOG_DELETED, since_ms)]
        issues = {old.worklogs[w] for w in gone if w in old.worklogs}
        unknown = [w for w in updated if w not in old.worklogs]
        issues |= {old.worklogs[w] for w in updated if w in old.worklogs}
        for start in range(0, len(unknown), WORKLOG_LIST):
            ids = [int(w) for w in unknown[start:start + WORKLOG_LIST]]
            for worklog in self.access.call(OP_WORKLOG_LIST, json={"ids": ids}, idempotent=True) or []:
                issues.add(str(worklog.get("issueId")))
        return issues

    def _feed(self, op: Any, since_ms: int) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"since": max(0, since_ms)}
        while True:
            page = self.access.call(op, params=params) or {}
            yield from page.get("values") or []
            if page.get("lastPage", True) or page.get("until") is None:
                return
            params = {"since": page["until"]}

    def _read_issues(self, ids: list[str], state: _State, previous: _State | None) -> int:
        read = 0
        for start in range(0, len(ids), BULK_FETCH):
            batch = ids[start:start + BULK_FETCH]
            page = self.access.call(OP_BULK_FETCH, json={
                "issueIdsOrKeys": batch, "fields": ["*all"], "expand": ["changelog", "names", "schema"],
                "properties": ["*all"]}, idempotent=True) or {}
            self.meta["names"].update(page.get("names") or {})
            self.meta["schema"].update(page.get("schema") or {})
            issues = page.get("issues") or []
            for issue in issues:
                self.meta["names"].update(issue.get("names") or {})
                self.meta["schema"].update(issue.get("schema") or {})
            histories = self._full_changelogs([i for i in issues if _changelog_truncated(i)])
            for issue in issues:
                record = self._record(issue, histories.get(str(issue["id"])), previous)
                self.writer.put(ISSUE_TYPE, record.key, record.id, _clean(record.to_json()))
                state.learn(record, _restricted_comments(issue, record))
                self._note_seen(record)
                said = ((issue.get("fields") or {}).get("comment") or {}).get("total")
                if isinstance(said, int):
                    self.said[record.id] = said
                read += 1
            self.writer.flush()
        return read

    def _record(self, issue: dict[str, Any], changelog: list[dict[str, Any]] | None,
                previous: _State | None) -> IssueRecord:
        issue_id = str(issue["id"])
        fields = _slim_fields(dict(issue.get("fields") or {}))
        embedded = issue.get("changelog") or {}
        sprint_field, rank_field = self._agile_fields()
        watches = fields.get("watches") or {}
        votes = fields.get("votes") or {}
        project = fields.get("project") or {}
        return IssueRecord(
            id=issue_id, key=str(issue["key"]), project_key=str(project.get("key") or project_of(str(issue["key"]))),
            project_id=None if project.get("id") is None else str(project["id"]),
            issue=_clean({"id": issue_id, "key": issue["key"], "fields": fields}),
            comments=_clean(self._complete(issue_id, fields.get("comment"), "comments", OP_COMMENTS)),
            worklogs=_clean(self._complete(issue_id, fields.get("worklog"), "worklogs", OP_WORKLOGS)),
            attachments=[self._attachment(issue_id, a, previous) for a in fields.get("attachment") or []],
            links=_clean(list(fields.get("issuelinks") or [])),
            watchers=self._watchers(issue_id, int(watches.get("watchCount") or 0)),
            watch_count=int(watches.get("watchCount") or 0),
            votes=self._votes(issue_id, int(votes.get("votes") or 0)),
            properties=[{"key": k, "value": v} for k, v in sorted((issue.get("properties") or {}).items())],
            sprints=_clean(list(fields.get(sprint_field) or [])) if sprint_field else [],
            rank=fields.get(rank_field) if rank_field else None,
            changelog=_clean(sorted(changelog if changelog is not None else embedded.get("histories") or [],
                                    key=lambda h: (str(h.get("created")), int(h.get("id") or 0)))))

    def _agile_fields(self) -> tuple[str | None, str | None]:
        found: dict[str, str] = {}
        for fid, schema in self.meta["schema"].items():
            custom = (schema or {}).get("custom")
            if custom == SPRINT_SCHEMA:
                found.setdefault("sprint", fid)
            elif custom == RANK_SCHEMA:
                found.setdefault("rank", fid)
        return found.get("sprint"), found.get("rank")

    def _complete(self, issue_id: str, embedded: Any, key: str, op: Any) -> list[dict[str, Any]]:
        """The embedded comments/worklogs when whole, else every page of them (only then a request)."""
        embedded = embedded or {}
        items = list(embedded.get(key) or [])
        if int(embedded.get("total") or 0) <= len(items):
            return items
        return list(self.access.paginate(op, path={"issueIdOrKey": issue_id}, page_size=5000, values_key=key))

    def _full_changelogs(self, issues: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        if not issues:
            return {}
        ids = [str(i["id"]) for i in issues]
        if self.access.can_call(OP_CHANGELOG_BULK):
            return self._bulk_changelogs(ids)
        return {i: list(self.access.paginate(OP_CHANGELOG, path={"issueIdOrKey": i}, page_size=100))
                for i in ids}

    def _bulk_changelogs(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        token: str | None = None
        while True:
            body: dict[str, Any] = {"issueIdsOrKeys": ids, "maxResults": CHANGELOG_BULK}
            if token:
                body["nextPageToken"] = token
            page = self.access.call(OP_CHANGELOG_BULK, json=body, idempotent=True) or {}
            for group in page.get("issueChangeLogs") or []:
                out.setdefault(str(group.get("issueId")), []).extend(group.get("changeHistories") or [])
            token = page.get("nextPageToken")
            if not token:
                return out

    def _watchers(self, issue_id: str, count: int) -> list[str]:
        if count <= 0:
            return []
        answer = self.access.call(OP_WATCHERS, path={"issueIdOrKey": issue_id}) or {}
        return sorted(str(w.get("accountId")) for w in answer.get("watchers") or [] if w.get("accountId"))

    def _votes(self, issue_id: str, count: int) -> VoteRecord:
        if count <= 0:
            return VoteRecord(0, [])
        try:
            answer = self.access.call(OP_VOTES, path={"issueIdOrKey": issue_id}) or {}
        except JiraError:
            return VoteRecord(count, None)  # voters hidden from us (View voters and watchers): the count remains
        voters = answer.get("voters")
        return VoteRecord(count, None if voters is None else sorted(str(v.get("accountId")) for v in voters))

    def _attachment(self, issue_id: str, meta: dict[str, Any], previous: _State | None) -> AttachmentRecord:
        attachment_id = str(meta["id"])
        author = meta.get("author") or None
        base = AttachmentRecord(id=attachment_id, filename=str(meta.get("filename") or ""),
                                size=int(meta.get("size") or 0), mime_type=meta.get("mimeType"),
                                created=meta.get("created"), author=_clean(author) if author else None, sha256=None)
        known = _known_attachment(previous, issue_id, attachment_id)
        if known is not None and blobs.stat(self.tenant_id, known) is not None:
            return replace(base, sha256=known)  # immutable per id in Jira: no need to read it again
        try:
            ref = blobs.put_stream(self.tenant_id, self._download(attachment_id),
                                   snapshot_id=self.writer.snapshot_id)
        except JiraError as exc:
            return replace(base, missing_reason=f"Jira refused its content: {exc.describe()}")
        return replace(base, sha256=ref.digest)

    def _download(self, attachment_id: str) -> Iterator[bytes]:
        """The attachment's bytes, chunk by chunk off the wire (one request, its points drawn and counted)."""
        credential = self.access.credential_for(OP_ATTACHMENT_CONTENT)
        client = credential.client
        path = OP_ATTACHMENT_CONTENT.path(id=attachment_id)
        url = f"{client.base_url}{path}"
        template = OP_ATTACHMENT_CONTENT.template
        # The JSON client reads whole answers; this one request streams, so it draws from and charges the quota as
        # ``JiraClient.request`` does.
        ticket = client.quota.draw("GET", path, template, None, client.retry.max_retry_after) \
            if client.quota is not None else None
        resp = client.session.get(url, params={"redirect": "false"}, auth=client.auth, timeout=client.timeout,
                                  stream=True, allow_redirects=False)
        client.calls += 1
        points = cost("GET", path, resp.status_code, {} if resp.status_code < 400 else None)
        client._charge(ticket, "GET", template, points)  # the streamed twin of request()
        if resp.status_code >= 400:
            body = resp.text[:500]
            resp.close()
            raise JiraError("GET", path, resp.status_code, {"errorMessages": [body]})
        return _chunks(resp.iter_content(ATTACHMENT_PIECE), resp.close)


def _chunks(pieces: Iterable[bytes], close: Callable[[], None]) -> Iterator[bytes]:
    try:
        yield from pieces
    finally:
        close()


def _comment_order(comment: dict[str, Any]) -> int:
    """In id order: the order Jira hands ids out, so comments read apart (restricted ones) fall where Jira lists
    them, and a record reads the same whichever pass added them."""
    number = str(comment.get("id") or "")
    return int(number) if number.isdigit() else 0


def _log_restricted(tenant_id: int, found: Found) -> None:
    log.info("issue pass of tenant %s: %d restricted comment(s) read as %d people (%d calls, %d points), %d id(s) "
             "unread%s", tenant_id, found.read, found.people, found.calls, found.points, found.unread,
             f" ({found.reason})" if found.reason else "")


def _restricted_of(size: list[int] | None) -> int:
    """The restricted-comments count of a ``_State.sizes`` entry (entries from before it have two numbers)."""
    return int(size[2]) if size and len(size) > 2 else 0


def _restricted_comments(issue: dict[str, Any], record: IssueRecord) -> int:
    """Comments the issue says it has (its comment field's ``total``) that the app's user couldn't read."""
    said = ((issue.get("fields") or {}).get("comment") or {}).get("total")
    return max(0, int(said or 0) - len(record.comments)) if isinstance(said, int) else 0


def _changelog_truncated(issue: dict[str, Any]) -> bool:
    changelog = issue.get("changelog") or {}
    return int(changelog.get("total") or 0) > len(changelog.get("histories") or [])


def _known_attachment(previous: _State | None, issue_id: str, attachment_id: str) -> str | None:
    if previous is None:
        return None
    for items in (previous.attachments.get(issue_id) or [], *previous.attachments.values()):
        for item in items:
            if str(item[0]) == attachment_id and item[1]:
                return str(item[1])
    return None


def _field_meta_of(snapshot_id: int) -> dict[str, dict[str, Any]] | None:
    for obj in SnapshotReader(snapshot_id).objects(FIELD_META_TYPE):
        return {"names": dict(obj.get("names") or {}), "schema": dict(obj.get("schema") or {})}
    return None


def _previous_ids(snapshot_id: int) -> list[str]:
    return [s for s in db.session.scalars(select(SnapshotEntry.source_id).where(
        SnapshotEntry.snapshot_id == snapshot_id, SnapshotEntry.type_key == ISSUE_TYPE)) if s is not None]


def previous_issue_snapshot(tenant_id: int, current_snapshot_id: int) -> int | None:
    """The tenant's newest finished snapshot whose issue data is complete (an incremental pass starts from it)."""
    return db.session.scalars(
        select(Snapshot.id).join(SnapshotType, SnapshotType.snapshot_id == Snapshot.id)
        .where(Snapshot.tenant_id == tenant_id, Snapshot.id != current_snapshot_id,
               Snapshot.status.in_([SnapshotStatus.COMPLETE.value, SnapshotStatus.PARTIAL.value]),
               SnapshotType.type_key == STATE_TYPE, SnapshotType.status == TypeStatus.COMPLETE.value)
        .order_by(Snapshot.taken_at.desc(), Snapshot.id.desc()).limit(1)).first()


def previous_config_snapshot(tenant_id: int, current_snapshot_id: int, type_key: str) -> int | None:
    """The tenant's newest other finished snapshot holding ``type_key`` (a pass into a snapshot without the
    configuration, as tests take, finds groups and boards there)."""
    return db.session.scalars(
        select(Snapshot.id).join(SnapshotType, SnapshotType.snapshot_id == Snapshot.id)
        .where(Snapshot.tenant_id == tenant_id, Snapshot.id != current_snapshot_id,
               Snapshot.status.in_([SnapshotStatus.COMPLETE.value, SnapshotStatus.PARTIAL.value]),
               SnapshotType.type_key == type_key)
        .order_by(Snapshot.taken_at.desc(), Snapshot.id.desc()).limit(1)).first()
