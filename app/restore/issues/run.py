"""Runs the issue-data restore inside a restore job: after the configuration, per selected project, and reports it.

The restore job calls ``restore_issue_data`` once the configuration executor is done, with the run's id map. What
is done is found again on the destination (every restored issue carries its source id as a property), so a resumed
or repeated job writes nothing twice; the report is a plain dict for the run's summary.

Memory: a project's records are never held at once. The run lists the snapshot's issue entries (metadata: key, id,
checksum) and hands each project to the restore as a ``StoredIssues``, which reads records from the snapshot as
they are used and holds at most ``WINDOW`` of them (two bulk batches); what is kept across the project is per issue
and small (its outcome, its destination key, its sprints and rank for the board pass).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...backups import blobs
from ...connect.impersonation import Grant, ImpersonationRefused, client_as
from ...extensions import db
from ...issuedata.records import ISSUE_TYPE, IssueRecord, StoredIssues, field_meta, issue_entries
from ...issuedata.sprints import snapshot_sprints
from ...jira.client import JiraClient
from ...jira.errors import JiraError
from ...jira.operations import declare
from ...tenants import Tenant
from ..ids import NO_STAND_IN, PeoplePolicy
from ..plan import Selection
from ..types.base import IdMap
from .agile import AgileIssue, BoardData
from .restore import BULK_MAX, Authors, ProjectIssues, ProjectReport
from .subset import narrowed, only, subset_of

GET_USER = declare("GET", "/rest/api/3/user")
GET_PROJECT = declare("GET", "/rest/api/3/project/{projectIdOrKey}")
NOTES_SHOWN = 50  # per project, the issue notes kept in the run's summary (the rest are counted)
WINDOW = 2 * BULK_MAX  # issue records held read at once: the bulk batch being written and the one before


def chosen(held: list[str], selection: Selection) -> list[str]:
    """The projects of ``held`` (those a snapshot holds issues of, sorted) that ``selection`` restores."""
    if selection.projects:
        return [p for p in held if p in selection.projects]
    if selection.types and ISSUE_TYPE not in selection.types:
        return []  # a selection of configuration types only
    return held


class DestinationPeople:
    """The run's id map, with people checked against the destination: issues name people the configuration never
    did (an assignee who left), and Jira refuses the whole issue for one unknown user. Each person is read once."""

    def __init__(self, ids: IdMap, access: Any, fallback: str | None) -> None:
        self.ids, self.access, self.fallback = ids, access, fallback
        self._known: dict[str, bool] = {}

    def get(self, type_key: str, source_id: str) -> str | None:
        return self.ids.get(type_key, source_id)

    def require(self, type_key: str, source_id: str) -> str:
        return self.ids.require(type_key, source_id)

    def user(self, account_id: str) -> str | None:
        mapped = self.ids.user(account_id)
        if mapped != account_id or not account_id:
            return mapped
        return account_id if self._present(account_id) else self.fallback

    def _present(self, account_id: str) -> bool:
        if account_id not in self._known:
            try:
                found = self.access.call(GET_USER, params={"accountId": account_id}, idempotent=True) or {}
                self._known[account_id] = bool(found.get("active", True))
            except JiraError as exc:
                if exc.status != 404:
                    raise
                self._known[account_id] = False
        return self._known[account_id]


def _schemas(snapshot_id: int) -> dict[str, str]:
    """Custom field id -> its schema's ``custom`` type, as the backup read them."""
    schema = field_meta(snapshot_id).get("schema") or {}
    return {fid: str((s or {}).get("custom") or "") for fid, s in schema.items() if isinstance(s, dict)}


def authors_for(tenant: Tenant, ids: IdMap) -> tuple[Authors, str | None]:
    """Who writes comments and worklogs on ``tenant``: each author through impersonation when the id map keeps them,
    else the app. The second value is why nobody can be impersonated (the fix included), or None."""
    try:
        grant = Grant.for_tenant(tenant)
    except ImpersonationRefused as refused:
        return Authors(None, lambda _a: False), f"{refused} {refused.fix}"

    def as_user(account_id: str) -> JiraClient:
        return client_as(grant, account_id)

    return Authors(as_user, lambda account_id: ids.user(account_id) == account_id), None


def _stream(source_tenant_id: int) -> Callable[[str], Iterator[bytes]]:
    """Attachment bytes from the source tenant's blobs: the destination's run reads the source's snapshot."""
    return lambda digest: blobs.open_stream(source_tenant_id, digest)


def project_summary(report: ProjectReport, refusals: dict[str, str]) -> dict[str, Any]:
    """What the run's report says of one project: outcomes, old key -> new key, and the notes in words."""
    notes = [f"{key}: {note}" for key, issue in report.issues.items() for note in issue.notes]
    notes += report.leftover_placeholders
    if report.keys_not_kept:
        notes.insert(0, report.keys_not_kept)
    return {"keys_kept": report.keys_kept, "outcomes": report.counts(), "key_map": report.key_map,
            "writes": report.writes, "notes": notes[:NOTES_SHOWN], "more_notes": max(0, len(notes) - NOTES_SHOWN),
            "impersonation_refused": dict(refusals), "votes": votes_summary(report)}


def votes_summary(report: ProjectReport) -> dict[str, Any]:
    """Votes cast, and those that couldn't be, counted per reason in words."""
    lost = sum(report.votes_not_cast.values())
    words = [f"{n} vote{'s' if n != 1 else ''} not restored: {why}" for why, n in report.votes_not_cast.items()]
    return {"cast": report.votes_cast, "notCast": lost, "words": words}


def board_issues(records: Iterable[IssueRecord], report: ProjectReport) -> list[AgileIssue]:
    """What the board pass needs of a project's restored issues (those with a sprint or a rank)."""
    out = []
    for record in records:
        outcome = report.issues.get(record.key)
        if outcome is not None and outcome.dest_key and (record.sprints or record.rank):
            out.append(AgileIssue(record.key, outcome.dest_key, tuple(record.sprints), record.rank))
    return out


def _on_destination(access: Any, records: Iterable[IssueRecord], ids: IdMap, project: str) -> bool:
    """Whether the project is on the destination: in the run's id map (restored or matched), else found by key
    (a project the configuration restore skipped may still be there)."""
    project_id = next((r.project_id for r in records if r.project_id), None)
    if project_id is not None and ids.get("projects", str(project_id)) is not None:
        return True
    try:
        access.call(GET_PROJECT, path={"projectIdOrKey": project}, idempotent=True)
    except JiraError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def not_restored(project: str, count: int) -> dict[str, Any]:
    """The report of a project the configuration restore didn't bring onto the destination."""
    return {"keys_kept": False, "outcomes": {"not-restored": count}, "key_map": {}, "writes": 0,
            "notes": [f"project {project} is not on the destination (its configuration wasn't restored), so its "
                      f"{count} issue(s) weren't restored"], "more_notes": 0, "impersonation_refused": {}}


def _prefixed(progress: Callable[[str], None], said: str) -> Callable[[str], None]:
    """``progress`` with each of a project's words after what is said of the project."""
    return lambda words: progress(f"{said}: {words}")


def restore_issue_data(access: Any, tenant: Tenant, *, snapshot_id: int, source_tenant_id: int, ids: IdMap,
                       people: PeoplePolicy = NO_STAND_IN,
                       selection: Selection, progress: Callable[[str], None],
                       between: Callable[[], None] = lambda: None) -> dict[str, Any] | None:
    """Restore the selected projects' issues from the snapshot; the report per project (None: no issue data).

    ``progress`` receives a sentence per project; ``between`` runs before each project (the job's connection check).
    """
    entries = issue_entries(snapshot_id)
    subset = subset_of(snapshot_id, selection)  # JQL: only the issues it chose
    projects = chosen(list(entries), narrowed(selection, subset))
    if subset is not None:
        entries = only(entries, subset)
    if not projects:
        return None
    ids = DestinationPeople(ids, access, people.stand_in)
    schemas = _schemas(snapshot_id)
    authors, nobody = authors_for(tenant, ids)
    stream = _stream(source_tenant_id)
    dest_keys: dict[str, str] = {}  # across projects: links and parents between projects find their issue
    agile: list[AgileIssue] = []  # sprints and rank wait for every project's issues (a board spans projects)
    out: dict[str, Any] = {"projects": {}, "impersonation": nobody}
    for n, project in enumerate(projects, start=1):
        between()
        progress(f"Restoring the issues of {project} (project {n} of {len(projects)})")
        records = StoredIssues(snapshot_id, entries.pop(project), window=WINDOW)  # read as the restore goes
        db.session.commit()  # no transaction stays open while we write to Jira
        if not _on_destination(access, records, ids, project):
            out["projects"][project] = not_restored(project, len(records))
            continue
        said = f"Restoring the issues of {project} (project {n} of {len(projects)})"
        job = ProjectIssues(access, ids, project_key=project, snapshot_id=snapshot_id, authors=authors,
                            custom_schemas=schemas, attachment_stream=stream, dest_keys=dest_keys,
                            progress=_prefixed(progress, said))
        report = job.restore(records)
        out["projects"][project] = project_summary(report, authors.refusals)
        agile += board_issues(records, report)
    sprints = snapshot_sprints(snapshot_id, set(projects))  # the boards' own list: sprints no issue is in too
    db.session.commit()
    if agile or sprints:
        between()
        progress("Restoring sprints and rank order")
        out["boards"] = BoardData(access, ids, agile, sprints=sprints).restore().summary()
    return out
