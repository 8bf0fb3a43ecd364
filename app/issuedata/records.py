"""What a snapshot holds per issue (``IssueRecord``) and how a restore reads it back (``iter_issues``).

Format (``RECORD_FORMAT`` 1), one JSON object per issue, written by the backup's issue pass as an entry of type
``ISSUE_TYPE`` ("issueRecords") of the same snapshot as the configuration (one point in time):

- ``id``, ``key``, ``projectKey``, ``projectId``.
- ``issue``: the issue as ``GET /rest/api/3/issue/{id}?fields=*all`` (or ``POST /issue/bulkfetch`` with
  ``fields=["*all"]``) answers, without ``self``/``expand``: ``id``, ``key``, ``fields`` (every field, custom fields
  by id). The embedded ``comment``, ``worklog``, ``attachment`` and ``issuelinks`` fields are kept as Jira gave them
  (possibly truncated pages); the lists below are the complete ones and are what a restore uses.
- ``comments``: every comment (``GET .../comment/{id}`` answers without ``self``), oldest first.
- ``worklogs``: every worklog (without ``self``), oldest first.
- ``attachments``: ``AttachmentRecord``: Jira's metadata (``id``, ``filename``, ``size``, ``mimeType``,
  ``created``, ``author``) plus ``sha256``, the address of the bytes in the tenant's streamed blob store
  (``app.backups.blobs.open_stream(tenant_id, sha256)``); ``sha256`` is None only when the bytes couldn't be read
  (``missingReason`` says why).
- ``links``: the issue's ``issuelinks`` entries (``id``, ``type``, ``inwardIssue``/``outwardIssue`` with
  ``id``/``key``). A link appears on both of its issues; restore creates it once (by link id).
- ``watchers``: account ids; ``watchCount``.
- ``votes``: ``VoteRecord``: ``count`` always, ``voters`` (account ids) when readable, else None.
- ``properties``: ``[{key, value}]`` issue entity properties.
- ``sprints``: the Sprint field's sprint objects (``id``, ``name``, ``state``, ``boardId``, dates, ``goal``);
  ``rank``: the Rank field's LexoRank string (restore sorts by it within a board).
- ``changelog``: every history entry (``id``, ``author``, ``created``, ``items``), oldest first.
- ``recordFormat``.

Field ``names`` and ``schema`` (the same for every issue of a site) are stored once per snapshot as the single
entry of type ``FIELD_META_TYPE``; the pass's summary (watermark, counts) is the single entry of
``STATE_TYPE`` (see ``IssueBackupState``).

Storage: one encrypted blob per issue record in the snapshot blob store (``SnapshotWriter.put``), addressed by the
SHA-256 of the record's canonical JSON. An issue that did not change between two backups serialises to the same
bytes and so is the same blob: the later snapshot's entry points at it (carried forward by reference, never re-read
nor re-stored), and every snapshot still names all of its issues, so each restores on its own and retention may
drop any snapshot without breaking another (the chain is by content, not by delta). Per-issue blobs rather than
per-page: a page would change whenever any one of its issues did, storing 99 unchanged issues again.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from ..backups.snapshots import Entry, SnapshotReader
from ..extensions import db

RECORD_FORMAT = 1
ISSUE_TYPE = "issueRecords"
FIELD_META_TYPE = "issueFieldMeta"
STATE_TYPE = "issueBackupState"
COUNTS_TYPE = "issueCounts"  # the single small entry the Backups page reads (the state entry can be megabytes)

_KEY = re.compile(r"^([A-Z][A-Z0-9_]*)-(\d+)$")


class IssueRecordError(ValueError):
    """A stored issue record that doesn't have the shape this module reads."""


@dataclass(frozen=True)
class AttachmentRecord:
    """An attachment's metadata as Jira gives it, plus the address of its bytes in the tenant's blob store."""

    id: str
    filename: str
    size: int
    mime_type: str | None
    created: str | None
    author: dict[str, Any] | None
    sha256: str | None
    missing_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "filename": self.filename, "size": self.size, "mimeType": self.mime_type,
                "created": self.created, "author": self.author, "sha256": self.sha256,
                "missingReason": self.missing_reason}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> AttachmentRecord:
        return cls(id=str(obj["id"]), filename=str(obj.get("filename") or ""), size=int(obj.get("size") or 0),
                   mime_type=obj.get("mimeType"), created=obj.get("created"), author=obj.get("author"),
                   sha256=obj.get("sha256"), missing_reason=obj.get("missingReason"))


@dataclass(frozen=True)
class VoteRecord:
    """Votes on an issue: the count always, the voters when the caller may read them (else None)."""

    count: int
    voters: list[str] | None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "voters": self.voters}

    @classmethod
    def from_json(cls, obj: dict[str, Any] | None) -> VoteRecord:
        obj = obj or {}
        voters = obj.get("voters")
        return cls(count=int(obj.get("count") or 0), voters=None if voters is None else [str(v) for v in voters])


@dataclass
class IssueRecord:
    """One issue and all that hangs off it, as one snapshot holds it (see the module docstring)."""

    id: str
    key: str
    project_key: str
    project_id: str | None
    issue: dict[str, Any]
    comments: list[dict[str, Any]] = field(default_factory=list)
    worklogs: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[AttachmentRecord] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    watchers: list[str] = field(default_factory=list)
    watch_count: int = 0
    votes: VoteRecord = field(default_factory=lambda: VoteRecord(0, []))
    properties: list[dict[str, Any]] = field(default_factory=list)
    sprints: list[dict[str, Any]] = field(default_factory=list)
    rank: str | None = None
    changelog: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.issue.get("fields") or {})

    @property
    def updated(self) -> str | None:
        return self.fields.get("updated")

    @property
    def attachment_bytes(self) -> int:
        return sum(a.size for a in self.attachments)

    def to_json(self) -> dict[str, Any]:
        return {"recordFormat": RECORD_FORMAT, "id": self.id, "key": self.key, "projectKey": self.project_key,
                "projectId": self.project_id, "issue": self.issue, "comments": self.comments,
                "worklogs": self.worklogs, "attachments": [a.to_json() for a in self.attachments],
                "links": self.links, "watchers": self.watchers, "watchCount": self.watch_count,
                "votes": self.votes.to_json(), "properties": self.properties, "sprints": self.sprints,
                "rank": self.rank, "changelog": self.changelog}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> IssueRecord:
        """:raises IssueRecordError: on a record of another format or without id/key/issue."""
        version = obj.get("recordFormat")
        if version != RECORD_FORMAT:
            raise IssueRecordError(f"issue record format: expected {RECORD_FORMAT}, received {version!r}")
        for name in ("id", "key", "projectKey", "issue"):
            if not obj.get(name):
                raise IssueRecordError(f"issue record {obj.get('key')!r}: expected a {name!r}, received none")
        return cls(id=str(obj["id"]), key=str(obj["key"]), project_key=str(obj["projectKey"]),
                   project_id=obj.get("projectId"), issue=obj["issue"], comments=list(obj.get("comments") or []),
                   worklogs=list(obj.get("worklogs") or []),
                   attachments=[AttachmentRecord.from_json(a) for a in obj.get("attachments") or []],
                   links=list(obj.get("links") or []), watchers=list(obj.get("watchers") or []),
                   watch_count=int(obj.get("watchCount") or 0), votes=VoteRecord.from_json(obj.get("votes")),
                   properties=list(obj.get("properties") or []), sprints=list(obj.get("sprints") or []),
                   rank=obj.get("rank"), changelog=list(obj.get("changelog") or []))


@dataclass(frozen=True)
class IssueCounts:
    """What a snapshot holds of issue data (the backups page shows it; a restore preview starts from it)."""

    issues: int = 0
    comments: int = 0
    worklogs: int = 0
    attachments: int = 0
    attachment_bytes: int = 0
    # comments the issues say they have (their comment field's ``total``) but nobody the backup acted as could read
    restricted_comments: int = 0
    # comments restricted to a group or project role that the snapshot holds (read as someone allowed to see them:
    # ``app.issuedata.restricted``), and comment ids nobody it acted as could read (deleted comments mostly)
    restricted_read: int = 0
    restricted_unread: int = 0
    # why the backup stopped looking for restricted comments before every id was read (None: it didn't)
    restricted_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"issues": self.issues, "comments": self.comments, "worklogs": self.worklogs,
                "attachments": self.attachments, "attachmentBytes": self.attachment_bytes,
                "restrictedComments": self.restricted_comments, "restrictedRead": self.restricted_read,
                "restrictedUnread": self.restricted_unread, "restrictedReason": self.restricted_reason}

    @classmethod
    def from_json(cls, obj: dict[str, Any] | None) -> IssueCounts:
        obj = obj or {}
        reason = obj.get("restrictedReason")
        return cls(int(obj.get("issues") or 0), int(obj.get("comments") or 0), int(obj.get("worklogs") or 0),
                   int(obj.get("attachments") or 0), int(obj.get("attachmentBytes") or 0),
                   int(obj.get("restrictedComments") or 0), int(obj.get("restrictedRead") or 0),
                   int(obj.get("restrictedUnread") or 0), str(reason) if reason else None)

    @property
    def restricted_words(self) -> str | None:
        """What an admin should know and do about comments the backup couldn't read (None when there are none).

        Comments known to be missing (an issue said it had more) are said with the reason; ids nobody could read
        are said only when the backup stopped looking early (a refusal, a limit), as most of them are deleted
        comments."""
        n = self.restricted_comments
        if n > 0:
            why = f" ({self.restricted_reason})" if self.restricted_reason else ""
            return (f"{n} restricted comment{'s' if n != 1 else ''} couldn't be read{why}: give the app's user "
                    "membership of the groups and project roles those comments are restricted to, then back up again.")
        if self.restricted_reason and self.restricted_unread > 0:
            m = self.restricted_unread
            return (f"The backup may be missing comments restricted to a group or project role: {m:,} comment "
                    f"id{'s' if m != 1 else ''} couldn't be read as anyone allowed to see them (some are deleted "
                    f"comments) because {self.restricted_reason}")
        return None


def key_order(key: str) -> tuple[str, int, str]:
    """Sort key of an issue key: project, then number (``ABC-9`` before ``ABC-10``)."""
    match = _KEY.match(key)
    if match is None:
        return (key, 0, key)
    return (match.group(1), int(match.group(2)), key)


def project_of(key: str) -> str:
    return key_order(key)[0]


def iter_issues(snapshot_id: int, project_key: str | None = None) -> Iterator[IssueRecord]:
    """The issues of a snapshot, project by project (by key), each project's in key-number order.

    Only entry metadata (keys) is sorted in memory; records are read and checked a batch at a time.
    :raises CorruptSnapshot: when a stored record fails its checksum.
    """
    reader = SnapshotReader(snapshot_id)
    entries = [e for e in reader.entries(ISSUE_TYPE) if project_key is None or project_of(e.natural_key) == project_key]
    entries.sort(key=lambda e: key_order(e.natural_key))
    for obj in reader.objects_of(entries):
        yield IssueRecord.from_json(obj)


def read_records(snapshot_id: int, entries: list[Entry]) -> Iterator[IssueRecord]:
    """The records of ``entries`` (of ``issue_entries``) in the order given, read a batch at a time.

    :raises CorruptSnapshot: when a stored record fails its checksum.
    """
    for obj in SnapshotReader(snapshot_id).objects_of(entries):
        yield IssueRecord.from_json(obj)


def project_keys(snapshot_id: int) -> list[str]:
    """The projects a snapshot holds issues of, sorted."""
    return sorted({project_of(e.natural_key) for e in SnapshotReader(snapshot_id).entries(ISSUE_TYPE)})


def issue_entries(snapshot_id: int) -> dict[str, list[Entry]]:
    """Where a snapshot's issue records are, by project (sorted), each project's in key-number order.

    Entry metadata only (key, id, checksum: a few hundred bytes an issue); no record is read.
    """
    out: dict[str, list[Entry]] = {}
    for entry in SnapshotReader(snapshot_id).entries(ISSUE_TYPE):
        out.setdefault(project_of(entry.natural_key), []).append(entry)
    for entries in out.values():
        entries.sort(key=lambda e: key_order(e.natural_key))
    return dict(sorted(out.items()))


def restricted_groups(snapshot_id: int, projects: Iterable[str] | None = None) -> dict[str, set[tuple[str, str]]]:
    """Per project (all, or ``projects``), the groups its issues' restricted comments and work logs are shown to, as
    (group id, name) as the backup read them: a restore of the project needs them on the destination, or those
    comments can't come back as they were. Reads every record of those projects (seconds on 10,000 issues)."""
    entries = issue_entries(snapshot_id)
    wanted = set(entries) if projects is None else {p for p in projects if p in entries}
    out: dict[str, set[tuple[str, str]]] = {}
    for project in sorted(wanted):
        for record in read_records(snapshot_id, entries[project]):
            for item in (*record.comments, *record.worklogs):
                visibility = item.get("visibility") or {}
                if visibility.get("type") == "group":
                    out.setdefault(project, set()).add((str(visibility.get("identifier") or ""),
                                                        str(visibility.get("value") or "")))
    return out


WINDOW = 100  # records a StoredIssues holds read at once: two bulk batches (the one being written, the one before)


class StoredIssues(Sequence[IssueRecord]):
    """One project's issue records in key order, each read from the snapshot when first used and held only while
    among the ``window`` most recently used: a restore walks a project of any size in bounded memory.

    Items are ``StoredIssue`` handles (an ``IssueRecord`` whose id, key and project are known from the entry
    without reading it). A miss reads the record and the ones after it, up to half a window, in one batch: a
    restore walks a project in key order, so each pass reads each record about once. ``reads`` counts the records
    read. Each batch is read in a transaction of its own, committed at once: none stays open while Jira is called.
    """

    def __init__(self, snapshot_id: int, entries: list[Entry], window: int = WINDOW) -> None:
        self.snapshot_id = snapshot_id
        self.window = max(2, window)
        self._entries = list(entries)
        self._handles: list[IssueRecord] = [StoredIssue(self, n, e) for n, e in enumerate(self._entries)]
        self._held: OrderedDict[int, IssueRecord] = OrderedDict()
        self.reads = 0

    def __len__(self) -> int:
        return len(self._handles)

    @overload
    def __getitem__(self, index: int) -> IssueRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[IssueRecord]: ...

    def __getitem__(self, index: int | slice) -> IssueRecord | list[IssueRecord]:
        return self._handles[index]

    @property
    def held(self) -> int:
        """How many records are read and held now (at most ``window``)."""
        return len(self._held)

    def record(self, index: int) -> IssueRecord:
        """The record at ``index``, read from the snapshot unless it is held."""
        found = self._held.get(index)
        if found is None:
            self._read_from(index)
            found = self._held[index]
        else:
            self._held.move_to_end(index)
        return found

    def _read_from(self, index: int) -> None:
        wanted = [n for n in range(index, min(len(self._entries), index + self.window // 2)) if n not in self._held]
        for n, record in zip(wanted, read_records(self.snapshot_id, [self._entries[n] for n in wanted]),
                             strict=True):
            self._held[n] = record
            self.reads += 1
        db.session.commit()  # the read's transaction ends here, not after the Jira calls that follow
        while len(self._held) > self.window:
            self._held.popitem(last=False)


class _FromRecord:
    """A field of a ``StoredIssue``: read from its record, which is read from the snapshot when needed."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, handle: StoredIssue | None, owner: type | None = None) -> Any:
        if handle is None:
            return self
        return getattr(handle.record(), self.name)

    def __set__(self, handle: StoredIssue, value: Any) -> None:
        raise AttributeError(f"{self.name}: a stored issue record is read-only")


class StoredIssue(IssueRecord):
    """One issue of a ``StoredIssues``: its id, key and project from the snapshot's entry, the rest read from the
    snapshot when first asked for (and again if it has left the window since)."""

    project_id = _FromRecord()
    issue = _FromRecord()
    comments = _FromRecord()
    worklogs = _FromRecord()
    attachments = _FromRecord()
    links = _FromRecord()
    watchers = _FromRecord()
    watch_count = _FromRecord()
    votes = _FromRecord()
    properties = _FromRecord()
    sprints = _FromRecord()
    rank = _FromRecord()
    changelog = _FromRecord()

    def __init__(self, store: StoredIssues, index: int, entry: Entry) -> None:  # not the dataclass's: nothing read
        self.__dict__.update(_store=store, _index=index, id=entry.source_id or "", key=entry.natural_key,
                             project_key=project_of(entry.natural_key))
        if not entry.source_id:  # an entry written without the issue id: the record says it
            self.__dict__["id"] = self.record().id

    def record(self) -> IssueRecord:
        """The whole record, as the snapshot holds it."""
        store: StoredIssues = self.__dict__["_store"]
        return store.record(self.__dict__["_index"])


def field_meta(snapshot_id: int) -> dict[str, Any]:
    """``{"names": {fieldId: name}, "schema": {fieldId: schema}}`` as the issue pass read them ({} if none)."""
    for obj in SnapshotReader(snapshot_id).objects(FIELD_META_TYPE):
        return obj
    return {}


def issue_state(snapshot_id: int) -> dict[str, Any] | None:
    """The issue pass's state object of a snapshot (watermark, counts), None when it holds no issue data."""
    for obj in SnapshotReader(snapshot_id).objects(STATE_TYPE):
        return obj
    return None


def issue_counts(snapshot_id: int) -> IssueCounts | None:
    """How many issues, comments, worklogs, attachments (and bytes) a snapshot holds; None without issue data."""
    for obj in SnapshotReader(snapshot_id).objects(COUNTS_TYPE):
        return IssueCounts.from_json(obj)
    state = issue_state(snapshot_id)  # a snapshot from before COUNTS_TYPE
    return None if state is None else IssueCounts.from_json(state.get("counts"))
