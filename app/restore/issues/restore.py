"""Restores a snapshot's issues, project by project, onto the destination: keys kept, fields mapped, authors kept.

Per project, in key order. Into an empty project, issues are created 50 a call in key order with placeholder issues
filling the gaps (deleted at the end of the project), so ``ABC-123`` is ``ABC-123`` again; a project that already
holds other issues gets new keys, and the outcome maps old key to new key. Every restored issue carries its source
(``SOURCE_PROPERTY``, set in the create call itself, so there is no window where an issue exists without it) and,
once everything hanging off it is written, ``DONE_PROPERTY``: a resumed or repeated run reads both with one search
per project page and writes nothing for what is done. Parents come before children (epics, then standard issues,
then sub-tasks, each tier in key order); a child whose parent is in a later tier is created when its tier comes.

The destination is read once per project, not once per issue: that one search gives what an earlier run left
(restored issues with their status, placeholders); an issue this run created has no comments, worklogs, attachments
or votes yet and starts in its workflow's initial status (read once per issue type), so only a resumed issue (started
by an earlier run, not marked done) has its own read before writing. Transitions are read once per issue type and
status and followed by their target status; a transition the remembered list offers but Jira refuses for this issue
(a condition) is read again for the issue itself.

Which fields a create takes is read once per issue type (its create metadata): a source issue's value for a field
its destination's create screen lacks is left out of the create, so Jira doesn't refuse the issue (and its key, its
children's parent, its links with it), and set by one edit that overrides the screen, first thing in the issue's
follow-up. Only issues holding such values pay that write; a resumed issue (not marked done) gets it again, which
sets the same values.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...connect.impersonation import ImpersonationRefused
from ...issuedata.records import IssueRecord, key_order
from ...jira.access import JiraAccess
from ...jira.client import JiraClient, parse_retry_after
from ...jira.errors import JiraError, JiraUnavailable, RateLimited
from ...jira.operations import declare
from ...quota.points import cost
from ..types.base import IdMap
from .fields import mapped_fields, split_for_screen

SEARCH = declare("POST", "/rest/api/3/search/jql")
BULK_CREATE = declare("POST", "/rest/api/3/issue/bulk")
DELETE_ISSUE = declare("DELETE", "/rest/api/3/issue/{issueIdOrKey}")
TRANSITIONS = declare("GET", "/rest/api/3/issue/{issueIdOrKey}/transitions")
TRANSITION = declare("POST", "/rest/api/3/issue/{issueIdOrKey}/transitions")
SET_PROPERTY = declare("PUT", "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}")
ADD_COMMENT = declare("POST", "/rest/api/3/issue/{issueIdOrKey}/comment")
LIST_COMMENTS = declare("GET", "/rest/api/3/issue/{issueIdOrKey}/comment")
ADD_WORKLOG = declare("POST", "/rest/api/3/issue/{issueIdOrKey}/worklog")
LIST_WORKLOGS = declare("GET", "/rest/api/3/issue/{issueIdOrKey}/worklog")
GROUP_MEMBERS = declare("GET", "/rest/api/3/group/member")
ADD_ATTACHMENT = declare("POST", "/rest/api/3/issue/{issueIdOrKey}/attachments")
EDIT_ISSUE = declare("PUT", "/rest/api/3/issue/{issueIdOrKey}")
GET_ISSUE = declare("GET", "/rest/api/3/issue/{issueIdOrKey}")
CREATE_META = declare("GET", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}")
CREATE_LINK = declare("POST", "/rest/api/3/issueLink")
ADD_WATCHER = declare("POST", "/rest/api/3/issue/{issueIdOrKey}/watchers")
GET_VOTES = declare("GET", "/rest/api/3/issue/{issueIdOrKey}/votes")
ADD_VOTE = declare("POST", "/rest/api/3/issue/{issueIdOrKey}/votes")

SOURCE_PROPERTY = "jiradr.source"  # {"id", "key", "snapshot"}: what the restored issue was
DONE_PROPERTY = "jiradr.restored"  # {"done": true}: comments, worklogs, attachments... all written
PLACEHOLDER_PROPERTY = "jiradr.placeholder"  # a gap filler, deleted once its project is done
BEFORE_PROPERTY = "jiradr.before"  # what Jira lets nobody set: dates, people, the history (for the issue panel)
BULK_MAX = 50
PROGRESS_SECONDS = 5.0  # the least time between two words of a project's progress
PROPERTY_MAX_BYTES = 32_000  # Jira's limit is 32,768 bytes per property value
MAX_TRANSITION_STEPS = 12
CREATE_META_PAGE = 200  # the spec's maximum: one read per issue type unless its create screen has more fields
OVERRIDE_SCREEN = {"overrideScreenSecurity": "true", "notifyUsers": "false"}  # Connect app with Administer Jira
SPRINT_DATES = ("name", "state", "startDate", "endDate", "completeDate")
NO_VOTER = "the voter isn't on this site (Jira takes a vote only from the voter themselves)"
NO_VOTERS_READ = "the backup couldn't read who voted (View voters and watchers), only how many"


@dataclass
class IssueOutcome:
    """What became of one source issue."""

    source_key: str
    dest_key: str | None = None
    dest_id: str | None = None
    outcome: str = "pending"  # created | already-restored | failed
    notes: list[str] = field(default_factory=list)

    @property
    def key_kept(self) -> bool:
        return self.dest_key == self.source_key


@dataclass
class ProjectReport:
    """Per project: each issue's outcome, and the old key -> new key map where keys couldn't be kept."""

    project_key: str
    keys_kept: bool = True
    issues: dict[str, IssueOutcome] = field(default_factory=dict)
    writes: int = 0
    leftover_placeholders: list[str] = field(default_factory=list)  # in words: which, and Jira's reason
    keys_not_kept: str = ""  # why the keys couldn't be kept, in words (Jira refused the gap fillers...)
    votes_cast: int = 0
    votes_not_cast: dict[str, int] = field(default_factory=dict)  # why (in words) -> how many votes

    def vote_lost(self, why: str, count: int = 1) -> None:
        self.votes_not_cast[why] = self.votes_not_cast.get(why, 0) + count

    @property
    def key_map(self) -> dict[str, str]:
        return {k: o.dest_key for k, o in self.issues.items() if o.dest_key and not o.key_kept}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for issue in self.issues.values():
            out[issue.outcome] = out.get(issue.outcome, 0) + 1
        return out


class Authors:
    """Who writes comments and worklogs: the original author through impersonation when they are on the site,
    else the app (with an "originally by" line). A refused grant for one person falls back to the app, noted."""

    def __init__(self, as_user: Callable[[str], JiraClient] | None, present: Callable[[str], bool]) -> None:
        self.as_user = as_user
        self.present = present
        self._clients: dict[str, JiraClient | None] = {}
        self.refusals: dict[str, str] = {}  # accountId -> the refusal with its fix

    def client_for(self, account_id: str | None) -> JiraClient | None:
        if not account_id or self.as_user is None or not self.present(account_id):
            return None
        if account_id not in self._clients:
            try:
                self._clients[account_id] = self.as_user(account_id)
            except ImpersonationRefused as refused:
                self.refusals[account_id] = str(refused)
                self._clients[account_id] = None
        return self._clients[account_id]


def _number(key: str) -> int:
    return key_order(key)[1]


def _tier(record: IssueRecord) -> int:
    """Epics (level 1) first, then standard issues, then sub-tasks: parents before children."""
    issue_type = record.fields.get("issuetype") or {}
    if issue_type.get("subtask"):
        return 2
    level = issue_type.get("hierarchyLevel")
    return 0 if isinstance(level, int) and level >= 1 else 1


ATTRIBUTION = "Originally by "  # how the paragraph naming the original author begins


def attribution(author: dict[str, Any] | None, when: str | None) -> dict[str, Any]:
    """The ADF paragraph that says who wrote an item the app writes in their stead, and when."""
    name = (author or {}).get("displayName") or (author or {}).get("accountId") or "someone"
    return {"type": "paragraph", "content": [{"type": "text", "text": f"{ATTRIBUTION}{name} on {when or '?'}",
                                               "marks": [{"type": "em"}]}]}


def with_attribution(body: Any, author: dict[str, Any] | None, when: str | None) -> dict[str, Any]:
    content = list(body.get("content") or []) if isinstance(body, dict) else []
    return {"type": "doc", "version": 1, "content": [attribution(author, when), *content]}


def _without_attribution(body: Any) -> Any:
    """A body the app wrote in someone's stead, without the "Originally by" paragraph it added."""
    content = list(body.get("content") or []) if isinstance(body, dict) else []
    if content and _words({"content": content[:1]}).startswith(ATTRIBUTION):
        return {**body, "content": content[1:]}
    return body


def _worklog_signature(worklog: dict[str, Any]) -> tuple[Any, ...]:
    """What recognises a work log on either site: when it started (as an instant: sites write offsets their own
    way), how long, and its words without the app's "originally by" line."""
    started = str(worklog.get("started") or "")
    try:
        instant: Any = datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        instant = started
    return instant, int(worklog.get("timeSpentSeconds") or 0), _words(_without_attribution(worklog.get("comment")))


def _words(body: Any) -> str:
    """The words of an ADF body (or a plain string), whitespace normalised: how a comment is recognised again."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for child in node.get("content") or []:
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, str):
            out.append(node)

    walk(body)
    return " ".join(" ".join(out).split())


class ProjectIssues:
    """Restores one project's issues. ``access`` is the app on the destination; ``ids`` the configuration's id map."""

    def __init__(self, access: JiraAccess, ids: IdMap, *, project_key: str, snapshot_id: int,
                 authors: Authors, custom_schemas: dict[str, str] | None = None,
                 attachment_stream: Callable[[str], Iterator[bytes]] | None = None,
                 dest_keys: dict[str, str] | None = None, progress: Callable[[str], None] | None = None) -> None:
        self.access = access
        self._progress = progress  # told how far the project is, in words, every few seconds
        self._told_at = 0.0
        self._writers: dict[str, JiraClient | None] = {}  # group -> who writes its restricted comments for the gone
        self.ids = ids
        self.project_key = project_key
        self.snapshot_id = snapshot_id
        self.authors = authors
        self.custom_schemas = custom_schemas or {}
        self.attachment_stream = attachment_stream
        self.dest_keys = dest_keys if dest_keys is not None else {}  # source id -> destination key, every project
        self.report = ProjectReport(project_key)
        self._project_id: str | None = None
        self._late_parents: list[IssueRecord] = []
        self._records: list[IssueRecord] = []
        self._filler_type: str | None = None
        self._fillers_refused = ""  # the last batch's placeholders all refused: Jira's words
        self._fresh: set[str] = set()  # source ids this run created: nothing hangs off them yet
        self._placeholders: list[dict[str, Any]] = []  # left by an earlier run, then those this run created
        self._status_found: dict[str, str] = {}  # source id -> status id, of issues an earlier run restored
        self._initial_status: dict[str, str] = {}  # destination issue type id -> the status a new issue starts in
        self._transitions: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (issue type, status) -> transitions
        self._create_screens: dict[str, set[str] | None] = {}  # destination issue type id -> fields a create takes

    # -- what the destination holds ------------------------------------------------------------------

    def _existing(self) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], int]:
        """Restored issues by source id, placeholders left behind, and the highest key number in the project."""
        restored: dict[str, dict[str, Any]] = {}
        placeholders: list[dict[str, Any]] = []
        highest = 0
        body: dict[str, Any] = {"jql": f'project = "{self.project_key}" ORDER BY key ASC', "maxResults": 100,
                                "fields": ["status"],
                                "properties": [SOURCE_PROPERTY, DONE_PROPERTY, PLACEHOLDER_PROPERTY]}
        while True:
            page = self.access.call(SEARCH, json=body, idempotent=True) or {}
            for issue in page.get("issues") or []:
                highest = max(highest, _number(str(issue.get("key"))))
                props = issue.get("properties") or {}
                if props.get(PLACEHOLDER_PROPERTY):
                    placeholders.append(issue)
                elif isinstance(props.get(SOURCE_PROPERTY), dict):
                    restored[str(props[SOURCE_PROPERTY].get("id"))] = issue
            token = page.get("nextPageToken")
            if not token:
                return restored, placeholders, highest
            body["nextPageToken"] = token

    # -- the run -------------------------------------------------------------------------------------

    def restore(self, records: Iterable[IssueRecord]) -> ProjectReport:
        """Create what isn't there yet, then write what hangs off each issue; delete the placeholders."""
        records = sorted(records, key=lambda r: key_order(r.key))
        self._records = records
        self._project_id, self._filler_type = self._project_and_filler_type(records)
        restored, placeholders, highest = self._existing()
        self._placeholders = list(placeholders)
        foreign = highest > 0 and not restored and not placeholders
        self.report.keys_kept = not foreign
        for record in records:
            found = restored.get(record.id)
            outcome = self.report.issues.setdefault(record.key, IssueOutcome(record.key))
            if found is not None:
                outcome.dest_id, outcome.dest_key = str(found["id"]), str(found["key"])
                outcome.outcome = "already-restored"
                self.dest_keys[record.id] = outcome.dest_key
                status = ((found.get("fields") or {}).get("status") or {}).get("id")
                if status is not None:
                    self._status_found[record.id] = str(status)
        pending = [r for r in records if r.id not in restored]
        self._tell(f"creating issues, {len(records) - len(pending):,} of {len(records):,} there", force=True)
        if self.report.keys_kept:
            self._create_all(pending, highest + 1, keep_keys=True)  # key order; late parents set afterwards
        else:
            for tier in (0, 1, 2):  # parents before children
                self._create_all([r for r in pending if _tier(r) == tier], highest + 1, keep_keys=False)
        self._set_late_parents()
        for n, record in enumerate(records):
            self._tell(f"comments, work logs, attachments and links, {n:,} of {len(records):,} issues")
            outcome = self.report.issues[record.key]
            found = restored.get(record.id)
            if outcome.dest_id and not (found and (found.get("properties") or {}).get(DONE_PROPERTY)):
                self._follow_up_or_note(record, outcome)
        self._delete_placeholders()
        return self.report

    def _tell(self, words: str, *, force: bool = False) -> None:
        """Say how far the project is (at most every ``PROGRESS_SECONDS``): the admin watching a project of
        thousands of issues sees it move."""
        now = time.monotonic()
        if self._progress is not None and (force or now - self._told_at >= PROGRESS_SECONDS):
            self._told_at = now
            self._progress(words)

    def _create_all(self, records: list[IssueRecord], next_number: int, *, keep_keys: bool) -> int:
        """Create ``records`` in key order, 50 a call, with placeholders for the gaps when keys are kept.

        A batch ends before a child whose parent is in it, so every parent is set from a key Jira returned; after
        each batch the destination's next key number is taken from the keys it returned (a refused issue moves
        the keys after it down by one, and the next batch's placeholders bring them back into line)."""
        pending = list(records)
        while pending:
            batch, taken = self._next_batch(pending, next_number, keep_keys=keep_keys)
            del pending[:taken]
            next_number = self._create_batch(batch, next_number)
            self._tell(f"creating issues, {sum(1 for o in self.report.issues.values() if o.dest_id):,} of "
                       f"{len(self._records):,} there")
            if keep_keys and self._fillers_refused:
                # Without gap fillers the keys can't be kept, and a gap of 50 or more would be a batch of fillers
                # alone, refused again and again: the rest is created in key order without them.
                keep_keys = False
                self.report.keys_kept = False
                self.report.keys_not_kept = ("Jira refused the placeholder issues that keep keys in line: "
                                             f"{self._fillers_refused}")
        return next_number

    def _next_batch(self, pending: list[IssueRecord], next_number: int, *, keep_keys: bool
                    ) -> tuple[list[tuple[IssueRecord | None, int]], int]:
        """The next bulk call's items (a record or a placeholder, with the key number it should get) and how many
        of ``pending`` it takes. A child whose parent is in the batch waits for the next one."""
        batch: list[tuple[IssueRecord | None, int]] = []
        ids_in_batch: set[str] = set()
        taken = 0
        for record in pending:
            wanted = _number(record.key)
            if keep_keys and record.project_key == self.project_key:
                while next_number < wanted and len(batch) < BULK_MAX:
                    batch.append((None, next_number))
                    next_number += 1
            parent_id = str((record.fields.get("parent") or {}).get("id") or "")
            if len(batch) >= BULK_MAX or (batch and parent_id in ids_in_batch):
                break
            batch.append((record, wanted))
            ids_in_batch.add(record.id)
            next_number = max(next_number, wanted + 1) if keep_keys else next_number + 1
            taken += 1
        return batch, taken

    def _body(self, record: IssueRecord | None, project_id: str | None, filler_type: str | None
              ) -> tuple[dict[str, Any], list[str]]:
        project = {"id": project_id} if project_id else {"key": self.project_key}
        if record is None:
            return self._placeholder(project, filler_type), []
        mapped, notes = mapped_fields(record.fields, self.ids, self.custom_schemas)
        fields, _later = split_for_screen(mapped, self._create_screen(self._dest_type(record)))
        fields["project"] = project
        fields["issuetype"] = {"id": self._dest_type(record)}
        parent = record.fields.get("parent") or {}
        if parent.get("id"):
            dest_parent = self.dest_keys.get(str(parent["id"]))  # only a key Jira returned
            if dest_parent:
                fields["parent"] = {"key": dest_parent}
            else:
                self._late_parents.append(record)  # an epic with a higher key: its child gets it once it exists
        source = {"id": record.id, "key": record.key, "snapshot": self.snapshot_id}
        return {"fields": fields, "properties": [{"key": SOURCE_PROPERTY, "value": source}]}, notes

    def _placeholder(self, project: dict[str, Any], template: str | None) -> dict[str, Any]:
        """A gap filler: a standard issue of the project shaped like a real one (so required fields hold)."""
        record = next((r for r in self._records if r.key == template), None)
        fields: dict[str, Any] = {"project": project}
        if record is not None:
            mapped, _notes = mapped_fields(record.fields, self.ids, self.custom_schemas)
            fields, _later = split_for_screen(mapped, self._create_screen(self._dest_type(record)))
            fields.update(project=project, issuetype={"id": self._dest_type(record)})
        fields["summary"] = "Placeholder kept by the restore (deleted after it)"
        return {"fields": fields, "properties": [{"key": PLACEHOLDER_PROPERTY, "value": {"placeholder": True}}]}

    def _set_late_parents(self) -> None:
        for record in self._late_parents:
            outcome = self.report.issues.get(record.key)
            parent = record.fields.get("parent") or {}
            dest_parent = self.dest_keys.get(str(parent.get("id")))
            if outcome is None or not outcome.dest_id:
                continue
            if dest_parent is None:
                outcome.notes.append(f"parent {parent.get('key')} was not restored")
                continue
            try:
                self.access.call(EDIT_ISSUE, path={"issueIdOrKey": outcome.dest_id},
                                 json={"fields": {"parent": {"key": dest_parent}}})
            except JiraUnavailable:
                raise
            except JiraError as exc:
                outcome.notes.append(f"parent {parent.get('key')} not set: {exc.describe()}")
                continue
            self.report.writes += 1
        self._late_parents = []

    def _project_and_filler_type(self, records: list[IssueRecord]) -> tuple[str | None, str | None]:
        first = records[0] if records else None
        project_id = self.ids.get("projects", str(first.project_id)) if first and first.project_id else None
        standard = [r for r in records if _tier(r) == 1 and not (r.fields.get("parent") or {}).get("id")]
        fillers = standard or [r for r in records if _tier(r) == 1] or records
        return project_id, fillers[0].key if fillers else None

    def _create_batch(self, batch: list[tuple[IssueRecord | None, int]], next_number: int) -> int:
        """One bulk create; each item's outcome from the answer (Jira's words for a refused one). Returns the
        destination's next key number as the returned keys show it."""
        project_id, filler_type = self._project_id, self._filler_type
        bodies, notes = [], []
        for record, _number_wanted in batch:
            body, why = self._body(record, project_id, filler_type)
            bodies.append(body)
            notes.append(why)
        answer = self._bulk(bodies)
        created = iter(answer.get("issues") or [])
        failed = {int(e.get("failedElementNumber", -1)): e for e in answer.get("errors") or []}
        highest = 0
        fillers = [n for n, (record, _wanted) in enumerate(batch) if record is None]
        self._fillers_refused = _error_words(failed[fillers[0]]) if fillers and all(n in failed for n in fillers) \
            else ""
        for n, (record, wanted) in enumerate(batch):
            if n in failed:
                if record is not None:
                    self._failed(record, failed[n])
                continue
            issue = next(created, None)
            if issue is None:
                continue
            key = str(issue["key"])
            if key_order(key)[0] == self.project_key:
                highest = max(highest, _number(key))
            if record is None:
                self._placeholders.append({"id": str(issue["id"]), "key": key})
                continue
            if _number(key) != wanted or key_order(key)[0] != record.project_key:
                self.report.keys_kept = False  # an item refused before it: the keys after it moved down
            outcome = self.report.issues.setdefault(record.key, IssueOutcome(record.key))
            outcome.dest_id, outcome.dest_key, outcome.outcome = str(issue["id"]), key, "created"
            outcome.notes += notes[n]
            self.dest_keys[record.id] = outcome.dest_key
            self._fresh.add(record.id)
        self.report.writes += 1
        return highest + 1 if highest else next_number

    def _bulk(self, bodies: list[dict[str, Any]]) -> dict[str, Any]:
        try:
            return self.access.call(BULK_CREATE, json={"issueUpdates": bodies}) or {}
        except JiraError as exc:
            if exc.status == 400 and isinstance(exc.body, dict) and "errors" in exc.body:
                return exc.body  # every item refused: the per-item errors say why
            raise

    def _failed(self, record: IssueRecord, error: dict[str, Any]) -> None:
        outcome = self.report.issues.setdefault(record.key, IssueOutcome(record.key))
        outcome.outcome = "failed"
        outcome.notes.append(f"Jira refused the create: {_error_words(error)}")

    # -- what hangs off an issue ---------------------------------------------------------------------

    def _follow_up_or_note(self, record: IssueRecord, outcome: IssueOutcome) -> None:
        """Write what hangs off one issue; Jira refusing something of this issue is reported for it (in Jira's
        words) and the run goes on. A later run carries on where it stopped (the issue isn't marked done)."""
        try:
            self._follow_up(record, outcome)
        except JiraUnavailable:  # the site, not this issue: the job's retry handles it
            raise
        except JiraError as exc:
            outcome.outcome = "failed"
            outcome.notes.append(f"created as {outcome.dest_key}, but not completed: {exc.describe()}")

    def _follow_up(self, record: IssueRecord, outcome: IssueOutcome) -> None:
        dest = outcome.dest_id
        assert dest is not None
        fresh = record.id in self._fresh  # created by this run: it holds nothing yet, so nothing is read
        self._off_screen_fields(record, dest, outcome)
        self._votes(record, dest, fresh)  # before the status: Jira Server refuses votes on resolved issues
        self._reach_status(record, dest, outcome)
        self._comments(record, dest, fresh)
        self._worklogs(record, dest, fresh)
        self._attachments(record, dest, fresh)
        self._links(record, dest)
        self._watchers(record, dest)
        for prop in record.properties:
            if str(prop.get("key", "")).startswith("jiradr."):
                continue
            self._put_property(dest, str(prop["key"]), prop.get("value"))
        self._put_property(dest, BEFORE_PROPERTY, self._before(record))
        self._put_property(dest, DONE_PROPERTY, {"done": True})

    def _create_screen(self, issue_type: str) -> set[str] | None:
        """The field ids a create of ``issue_type`` in this project takes (its create metadata), read once per
        type; None when Jira won't say (every field is then sent to the create, as it was)."""
        if issue_type not in self._create_screens:
            self._create_screens[issue_type] = self._read_create_screen(issue_type)
        return self._create_screens[issue_type]

    def _read_create_screen(self, issue_type: str) -> set[str] | None:
        project = self._project_id or self.project_key
        accepted: set[str] = set()
        start = 0
        while True:
            try:
                page = self.access.call(CREATE_META, path={"projectIdOrKey": project, "issueTypeId": issue_type},
                                        params={"startAt": start, "maxResults": CREATE_META_PAGE}) or {}
            except JiraUnavailable:
                raise
            except JiraError:
                return None
            fields = page.get("fields") or []
            accepted |= {str(f.get("fieldId") or f.get("key")) for f in fields if isinstance(f, dict)}
            start += len(fields)
            if not fields or start >= int(page.get("total") or 0):
                return accepted

    def _off_screen_fields(self, record: IssueRecord, dest: str, outcome: IssueOutcome) -> None:
        """The source's values for fields the create screen doesn't take, set by one edit overriding the screen
        (as the app, which holds Administer Jira). A refusal is said for the issue, in Jira's words; the rest of
        the issue is still restored."""
        mapped, _notes = mapped_fields(record.fields, self.ids, self.custom_schemas)
        _now, later = split_for_screen(mapped, self._create_screen(self._dest_type(record)))
        if not later:
            return
        try:
            self.access.call(EDIT_ISSUE, path={"issueIdOrKey": dest}, params=OVERRIDE_SCREEN,
                             json={"fields": later})
        except JiraUnavailable:
            raise
        except JiraError as exc:
            outcome.notes.append(f"{', '.join(sorted(later))} not set (not on the create screen, and the edit "
                                 f"was refused): {exc.describe()}")
            return
        self.report.writes += 1

    def _put_property(self, dest: str, key: str, value: Any) -> None:
        self.access.call(SET_PROPERTY, path={"issueIdOrKey": dest, "propertyKey": key}, json=value)
        self.report.writes += 1

    def _before(self, record: IssueRecord) -> dict[str, Any]:
        """What Jira lets nobody set, as it was (``before_value``)."""
        return before_value(record)

    def _reach_status(self, record: IssueRecord, dest: str, outcome: IssueOutcome) -> None:
        """Walk the workflow's transitions to the source's status (and resolution where a transition sets it)."""
        status = record.fields.get("status") or {}
        target_id = self.ids.get("statuses", str(status.get("id"))) or str(status.get("id"))
        target_name = str(status.get("name") or "").casefold()
        resolution = (record.fields.get("resolution") or {}).get("name")
        issue_type = self._dest_type(record)
        current = self._status_now(record, dest, issue_type)
        remembered = True  # the transitions read for another issue of the same type and status may be used
        seen: set[str] = set()
        for _step in range(MAX_TRANSITION_STEPS):
            if current == target_id:
                return
            seen.add(current)
            options = self._options(dest, issue_type, current, remembered)

            def hits(t: dict[str, Any]) -> bool:
                to = t.get("to") or {}
                return str(to.get("id")) == target_id or str(to.get("name", "")).casefold() == target_name

            direct = next((t for t in options if hits(t)), None)
            step = direct or next((t for t in options if str((t.get("to") or {}).get("id")) not in seen), None)
            if step is None:
                break
            try:
                self._transition(dest, step, resolution if direct is not None else None)
            except JiraUnavailable:
                raise
            except JiraError:
                if not remembered:
                    raise
                remembered = False  # a condition of this issue's own: its own transitions are read
                seen.discard(current)
                continue
            self.report.writes += 1
            if direct is not None:
                return
            reached = (step.get("to") or {}).get("id")
            current = str(reached) if reached is not None else self._current_status(dest)
        outcome.notes.append(f"status {status.get('name')!r} not reachable through the workflow's transitions")

    def _dest_type(self, record: IssueRecord) -> str:
        source_type = str((record.fields.get("issuetype") or {}).get("id"))
        return self.ids.get("issueTypes", source_type) or source_type

    def _status_now(self, record: IssueRecord, dest: str, issue_type: str) -> str:
        """The issue's status on the destination: a new one's is its type's initial status (read once per type),
        a resumed one's came with the project's search (read again only when the search didn't say)."""
        if record.id not in self._fresh:
            return self._status_found.get(record.id) or self._current_status(dest)
        if issue_type not in self._initial_status:
            self._initial_status[issue_type] = self._current_status(dest)
        return self._initial_status[issue_type]

    def _options(self, dest: str, issue_type: str, status: str, remembered: bool) -> list[dict[str, Any]]:
        """The transitions out of ``status``: those read for an issue of the same type and status when
        ``remembered``, else this issue's own (which are remembered for the next)."""
        key = (issue_type, status)
        if not remembered or key not in self._transitions:
            answer = self.access.call(TRANSITIONS, path={"issueIdOrKey": dest}) or {}
            self._transitions[key] = list(answer.get("transitions") or [])
        return self._transitions[key]

    def _transition(self, dest: str, step: dict[str, Any], resolution: str | None) -> None:
        """One transition; with the resolution when it reaches the target, sent again without it if Jira refuses
        the field (the transition has no screen for it)."""
        body: dict[str, Any] = {"transition": {"id": str(step["id"])}}
        if resolution:
            body["fields"] = {"resolution": {"name": resolution}}
        try:
            self.access.call(TRANSITION, path={"issueIdOrKey": dest}, json=body)
        except JiraError as exc:
            if "fields" not in body or exc.status != 400:
                raise
            body.pop("fields")
            self.access.call(TRANSITION, path={"issueIdOrKey": dest}, json=body)

    def _current_status(self, dest: str) -> str:
        issue = self.access.call(GET_ISSUE, path={"issueIdOrKey": dest}, params={"fields": "status"}) or {}
        return str(((issue.get("fields") or {}).get("status") or {}).get("id"))

    def _comments(self, record: IssueRecord, dest: str, fresh: bool) -> None:
        if not record.comments:
            return
        # A resumed issue: the comments an interrupted attempt wrote, recognised by their words (not by their
        # number: a restricted comment Jira refused is left out, so the ones after it don't line up).
        present = Counter() if fresh else self._comments_present(record, dest)
        for comment in record.comments:
            words = _words(comment.get("body"))
            if present[words] > 0:
                present[words] -= 1
                continue
            author = comment.get("author") or {}
            client = self.authors.client_for(author.get("accountId"))
            body: dict[str, Any] = {"body": comment.get("body")}
            if comment.get("visibility"):
                body["visibility"] = self._visibility(comment["visibility"])
                if client is None and (client := self._restricted_writer(body["visibility"])) is not None:
                    body["body"] = with_attribution(comment.get("body"), author, comment.get("created"))
            try:
                if client is not None:
                    client.request("POST", ADD_COMMENT.path(issueIdOrKey=dest), json=body,
                                   template=ADD_COMMENT.template)
                else:
                    body["body"] = with_attribution(comment.get("body"), author, comment.get("created"))
                    self.access.call(ADD_COMMENT, path={"issueIdOrKey": dest}, json=body)
            except JiraError as exc:
                if exc.status != 400 or "visibility" not in body:
                    raise
                # never widened: a restricted comment Jira won't take as it was (its group isn't on this site, or
                # the writer isn't in it) stays out, said so; the issue's other comments still come
                self.report.issues[record.key].notes.append(
                    f"restricted comment {comment.get('id')} not restored: {exc.describe()}")
                continue
            self.report.writes += 1

    def _comments_present(self, record: IssueRecord, dest: str) -> Counter[str]:
        """The words of every comment the destination issue holds, as many times as it holds them."""
        seen = self._present(record.comments, dest, LIST_COMMENTS, "comments")
        return Counter(_words(_without_attribution(c.get("body"))) for c in seen)

    def _worklogs_present(self, record: IssueRecord, dest: str) -> Counter[tuple[Any, ...]]:
        """What identifies each work log the destination issue holds (when, how long, its words), as many times as
        it holds it."""
        return Counter(_worklog_signature(w) for w in self._present(record.worklogs, dest, LIST_WORKLOGS, "worklogs"))

    def _present(self, wanted: list[dict[str, Any]], dest: str, op: Any, items: str) -> list[dict[str, Any]]:
        """Every comment (or work log) the destination issue holds, once each.

        The app's user may not see a restricted one it wrote as its author: those are read as each author of a
        restricted one (union by id), so a resumed issue never gets one twice.
        """
        restricted_authors = {(c.get("author") or {}).get("accountId") for c in wanted if c.get("visibility")}
        clients = [c for c in (self.authors.client_for(a) for a in sorted(a for a in restricted_authors if a))
                   if c is not None]
        for item in wanted:  # those written by a member of their group in their gone author's stead
            if item.get("visibility") and self.authors.client_for((item.get("author") or {}).get("accountId")) is None:
                writer = self._restricted_writer(self._visibility(item["visibility"]))
                if writer is not None and writer not in clients:
                    clients.append(writer)
        seen = self._all_items(lambda params: self.access.call(op, path={"issueIdOrKey": dest}, params=params), items)
        path = op.path(issueIdOrKey=dest)
        for client in clients:
            seen.update(self._all_items(lambda params, c=client: c.request(  # type: ignore[misc]
                "GET", path, params=params, template=op.template), items))
        return list(seen.values())

    @staticmethod
    def _all_items(read: Callable[[dict[str, Any]], Any], items: str) -> dict[str, dict[str, Any]]:
        """Every comment (or work log) a reader sees on the issue, by id, page by page."""
        found: dict[str, dict[str, Any]] = {}
        start = 0
        while True:
            page = read({"startAt": start, "maxResults": 100}) or {}
            got = page.get(items) or []
            found.update({str(c.get("id")): c for c in got})
            start += len(got)
            if not got or start >= int(page.get("total") or 0):
                return found

    def _restricted_writer(self, visibility: dict[str, Any]) -> JiraClient | None:
        """Who may write a restricted comment whose author the app can't act as (their account is gone or
        inactive): a member of its group on this site the app may act as, writing it with an "originally by" line.
        The app's own user isn't in the group, and Jira won't take a restriction from someone outside it. None when
        the group has no such member (the comment is then refused and said, never widened)."""
        if visibility.get("type") != "group":
            return None
        group = str(visibility.get("identifier") or visibility.get("value") or "")
        if group not in self._writers:
            params = ({"groupId": group} if visibility.get("identifier") else {"groupname": group})
            self._writers[group] = None
            try:
                for member in self.access.paginate(GROUP_MEMBERS, params=params, page_size=50):
                    writer = self.authors.client_for(str(member.get("accountId")))
                    if writer is not None:
                        self._writers[group] = writer
                        break
            except JiraError as exc:
                if exc.status not in (400, 404):
                    raise
        return self._writers[group]

    def _visibility(self, visibility: dict[str, Any]) -> dict[str, Any]:
        """A comment's restriction in the destination's terms. A group is named by its id, which differs between
        sites: the destination's group restored from it, else the group's name alone (Jira finds it by name). A role
        is named by its name on both."""
        if visibility.get("type") != "group":
            return dict(visibility)
        source = visibility.get("identifier")
        dest = self.ids.get("groups", str(source)) if source else None
        if dest:
            return {"type": "group", "identifier": dest}
        return {"type": "group", "value": visibility.get("value")}

    def _worklogs(self, record: IssueRecord, dest: str, fresh: bool) -> None:
        if not record.worklogs:
            return
        # A resumed issue: the work logs an interrupted attempt wrote, recognised by when, how long and their words
        # (not by their number: a restricted one Jira refused is left out, so the ones after it don't line up).
        present = Counter() if fresh else self._worklogs_present(record, dest)
        for worklog in record.worklogs:
            signature = _worklog_signature(worklog)
            if present[signature] > 0:
                present[signature] -= 1
                continue
            author = worklog.get("author") or {}
            body: dict[str, Any] = {"started": worklog.get("started"),
                                    "timeSpentSeconds": worklog.get("timeSpentSeconds")}
            if worklog.get("comment"):
                body["comment"] = worklog["comment"]
            if worklog.get("visibility"):
                body["visibility"] = self._visibility(worklog["visibility"])  # never widened
            params = {"adjustEstimate": "leave", "notifyUsers": "false"}
            client = self.authors.client_for(author.get("accountId"))
            if client is None and "visibility" in body \
                    and (client := self._restricted_writer(body["visibility"])) is not None:
                body["comment"] = with_attribution(worklog.get("comment"), author, worklog.get("started"))
            try:
                if client is not None:
                    client.request("POST", ADD_WORKLOG.path(issueIdOrKey=dest), params=params, json=body,
                                   template=ADD_WORKLOG.template)
                else:
                    body["comment"] = with_attribution(worklog.get("comment"), author, worklog.get("started"))
                    self.access.call(ADD_WORKLOG, path={"issueIdOrKey": dest}, params=params, json=body)
            except JiraError as exc:
                if exc.status != 400 or "visibility" not in body:
                    raise
                self.report.issues[record.key].notes.append(
                    f"restricted work log {worklog.get('id')} not restored: {exc.describe()}")
                continue
            self.report.writes += 1

    def _attachments(self, record: IssueRecord, dest: str, fresh: bool) -> None:
        if not record.attachments or self.attachment_stream is None:
            return
        have = set() if fresh else self._attachments_here(dest)
        for attachment in record.attachments:
            if (attachment.filename, attachment.size) in have:
                continue
            outcome = self.report.issues[record.key]
            if attachment.sha256 is None:
                outcome.notes.append(f"attachment {attachment.filename!r}: not in the backup "
                                     f"({attachment.missing_reason or 'unreadable'})")
                continue
            upload(self.access, dest, attachment.filename, attachment.mime_type, attachment.size,
                   self.attachment_stream(attachment.sha256))
            self.report.writes += 1

    def _attachments_here(self, dest: str) -> set[tuple[Any, int]]:
        """(file name, size) of the attachments a resumed issue already holds."""
        issue = self.access.call(GET_ISSUE, path={"issueIdOrKey": dest}, params={"fields": "attachment"}) or {}
        return {(a.get("filename"), int(a.get("size") or 0))
                for a in (issue.get("fields") or {}).get("attachment") or []}

    def _links(self, record: IssueRecord, dest: str) -> None:
        """Each link once: written by the later of its two issues, when both are on the destination."""
        del dest
        for link in record.links:
            inward, outward = link.get("inwardIssue"), link.get("outwardIssue")
            other = inward or outward or {}
            other_dest = self.dest_keys.get(str(other.get("id")))
            mine = self.dest_keys.get(record.id)
            if not other_dest or not mine or key_order(str(other.get("key"))) > key_order(record.key):
                continue
            type_id = str((link.get("type") or {}).get("id"))
            body = {"type": {"id": self.ids.get("issueLinkTypes", type_id) or type_id},
                    "inwardIssue": {"key": other_dest if inward else mine},
                    "outwardIssue": {"key": mine if inward else other_dest}}
            self.access.call(CREATE_LINK, json=body)
            self.report.writes += 1

    def _watchers(self, record: IssueRecord, dest: str) -> None:
        for account in record.watchers:
            mapped = self.ids.user(account)
            if mapped and mapped == account:
                try:
                    self.access.call(ADD_WATCHER, path={"issueIdOrKey": dest}, json=account)
                    self.report.writes += 1
                except JiraError as exc:
                    self.report.issues[record.key].notes.append(f"watcher {account}: {exc.describe()}")

    def _votes(self, record: IssueRecord, dest: str, fresh: bool) -> None:
        """Each voter votes as themselves (impersonation): Jira has no way to vote in another's name. A voter who
        isn't here, can't be impersonated, or whom Jira refuses (a reporter can't vote on their own issue) is
        counted and said in words; the run goes on."""
        voters = record.votes.voters
        if voters is None:
            if record.votes.count:
                self.report.vote_lost(NO_VOTERS_READ, record.votes.count)
                self.report.issues[record.key].notes.append(f"{record.votes.count} vote(s) not restored: "
                                                            f"{NO_VOTERS_READ}")
            return
        if not voters:
            return
        already = set() if fresh else self._voters_here(dest)
        for account in voters:
            if account in already:
                continue
            why = self._vote_as(account, dest)
            if why is None:
                self.report.votes_cast += 1
                self.report.writes += 1
                continue
            self.report.vote_lost(why)
            self.report.issues[record.key].notes.append(f"vote of {account} not restored: {why}")

    def _voters_here(self, dest: str) -> set[str]:
        try:
            answer = self.access.call(GET_VOTES, path={"issueIdOrKey": dest}) or {}
        except JiraUnavailable:
            raise
        except JiraError:
            return set()  # voters hidden from the app: voting again is harmless (one vote per person)
        return {str(v.get("accountId")) for v in answer.get("voters") or [] if isinstance(v, dict)}

    def _vote_as(self, account: str, dest: str) -> str | None:
        """Vote on ``dest`` as ``account``; None when done, else why not in words."""
        client = self.authors.client_for(account)
        if client is None:
            refused = self.authors.refusals.get(account)
            return f"impersonation refused: {refused}" if refused else NO_VOTER
        try:
            client.request("POST", ADD_VOTE.path(issueIdOrKey=dest), template=ADD_VOTE.template)
        except JiraUnavailable:
            raise
        except JiraError as exc:
            if exc.status >= 500:
                raise
            return f"Jira refused it: {'; '.join(exc.messages) or exc.status}"
        return None

    def _delete_placeholders(self) -> None:
        """The gap fillers an earlier run left (found by the project's search) and those this run created (from the
        bulk answers): no second search of the project."""
        placeholders, self._placeholders = self._placeholders, []
        for issue in placeholders:
            try:
                self.access.call(DELETE_ISSUE, path={"issueIdOrKey": str(issue["id"])})
            except JiraUnavailable:
                raise
            except JiraError as exc:
                self.report.leftover_placeholders.append(f"placeholder {issue.get('key')} not deleted: "
                                                         f"{exc.describe()}")
                continue
            self.report.writes += 1


def _person(user: Any) -> dict[str, Any] | None:
    """A person as the panel needs them: account id and display name only (None: nobody, or not a person)."""
    if not isinstance(user, dict) or not (user.get("accountId") or user.get("displayName")):
        return None
    return {"accountId": user.get("accountId"), "displayName": user.get("displayName")}


def _dated(items: list[dict[str, Any]], when: str) -> list[dict[str, Any]]:
    """Comments or worklogs reduced to who wrote them and when (``when``: the date field Jira can't keep)."""
    return [{"id": item.get("id"), "author": _person(item.get("author")), "when": item.get(when)}
            for item in items if isinstance(item, dict)]


def _json_size(value: Any) -> int:
    return len(json.dumps(value).encode())


def before_value(record: IssueRecord, limit: int = PROPERTY_MAX_BYTES) -> dict[str, Any]:
    """The ``jiradr.before`` property of a restored issue: its original key, created date, creator, reporter and
    assignee (account id and display name), its comments' and worklogs' authors and dates, its sprints' dates and
    its history, so the issue panel needs no backup record (retention may have removed it).

    Fitted under Jira's property limit: the oldest history entries go first (``trimmed`` says how many and
    ``truncated`` is set, which the panel shows); only when no history is left do the newest comments and worklogs
    go (``commentsTrimmed``, ``worklogsTrimmed``).
    """
    fields = record.fields
    value: dict[str, Any] = {"key": record.key, "created": fields.get("created"),
                             "creator": (fields.get("creator") or {}).get("displayName"),
                             "creatorAccountId": (fields.get("creator") or {}).get("accountId"),
                             "reporter": _person(fields.get("reporter")), "assignee": _person(fields.get("assignee")),
                             "comments": _dated(record.comments, "created"),
                             "worklogs": _dated(record.worklogs, "started"),
                             "changelog": list(record.changelog), "trimmed": 0, "truncated": False}
    if record.sprints:  # Jira sets a restored sprint's completeDate itself: the original dates are kept here
        value["sprints"] = [{k: s.get(k) for k in SPRINT_DATES if s.get(k)} for s in record.sprints
                            if isinstance(s, dict)]
    excess = _json_size(value) - limit
    if excess <= 0:
        return value
    value["truncated"] = True
    excess += len(b"true") - len(b"false") + 12  # the flag and a few digits of the counts
    entries = value["changelog"]
    dropped = 0
    while dropped < len(entries) and excess > 0:
        excess -= _json_size(entries[dropped]) + 2  # the entry and its separator
        dropped += 1
    value["changelog"] = entries[dropped:]
    value["trimmed"] = dropped
    while value["changelog"] and _json_size(value) > limit:  # the estimate fell short (it rarely does)
        value["changelog"].pop(0)
        value["trimmed"] += 1
    for name in ("comments", "worklogs"):
        items = value[name]
        while items and _json_size(value) > limit:
            keep = max(0, len(items) - max(1, len(items) // 8))  # an eighth at a time, newest first
            value[f"{name}Trimmed"] = int(value.get(f"{name}Trimmed", 0)) + len(items) - keep
            del items[keep:]
    return value


def upload(access: JiraAccess, dest: str, filename: str, mime_type: str | None, size: int,
           chunks: Iterator[bytes]) -> Any:
    """One multipart upload streamed from ``chunks`` (``size`` bytes): never whole in memory.

    ``JiraClient.request`` sends JSON only, so the body goes through the credential's session with its auth; the
    length is known up front, so the request is sent with ``Content-Length`` rather than chunked.
    """
    client = access.credential_for(ADD_ATTACHMENT).client
    boundary = uuid.uuid4().hex
    safe_name = filename.replace('"', "%22").replace("\r", " ").replace("\n", " ")
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{safe_name}\"\r\n"
            f"Content-Type: {mime_type or 'application/octet-stream'}\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    url = client.base_url + ADD_ATTACHMENT.path(issueIdOrKey=dest)
    headers = {"X-Atlassian-Token": "no-check", "Content-Type": f"multipart/form-data; boundary={boundary}",
               "Accept": "application/json"}
    body = _SizedStream([head], chunks, [tail], len(head) + size + len(tail))
    route, template = ADD_ATTACHMENT.path(issueIdOrKey=dest), ADD_ATTACHMENT.template
    # The upload draws from the app's quota ledger and is counted like every request the client sends itself.
    ticket = client.quota.draw("POST", route, template, None, client.retry.max_retry_after) \
        if client.quota is not None else None
    resp = client.session.post(url, data=body, headers=headers, auth=client.auth, timeout=client.timeout)
    client.calls += 1
    points = cost("POST", route, resp.status_code, None)
    client.points += points
    if client.quota is not None:
        client.quota.charged(ticket, "POST", template, points)
        client.quota.learn(resp.headers)
    if resp.status_code == 429:
        raise RateLimited("POST", template, parse_retry_after(resp.headers.get("Retry-After")), {})
    if resp.status_code >= 400:
        try:
            answer = resp.json()
        except ValueError:
            answer = {"errorMessages": [resp.text[:200]]}
        raise JiraError("POST", ADD_ATTACHMENT.template, resp.status_code, answer)
    return resp.json()


class _SizedStream:
    """An iterable body of known length: requests streams it with ``Content-Length`` (not chunked)."""

    def __init__(self, head: list[bytes], chunks: Iterator[bytes], tail: list[bytes], length: int) -> None:
        self.head, self.chunks, self.tail, self.length = head, chunks, tail, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        yield from self.head
        yield from self.chunks
        yield from self.tail


def _error_words(error: dict[str, Any]) -> str:
    """A bulk create's refusal of one item, in Jira's words."""
    element = error.get("elementErrors") or {}
    words = "; ".join([*element.get("errorMessages", []),
                       *[f"{k}: {v}" for k, v in (element.get("errors") or {}).items()]])
    return words or str(error.get("status") or "refused")
