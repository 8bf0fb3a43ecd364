"""What a restore of issue data will bring back, per project: the counts the preview shows before anything is written.

Per selected project: issues, comments, worklogs, attachments (and their bytes), sprints and votes, the comments the
backup couldn't read (restricted to a group or role the app's user isn't in; the words from the snapshot's
``issue_counts``), and the least number of Jira's quota points the project's writes take
(``app.quota.figures.restore_estimate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ...extensions import db
from ...issuedata.records import IssueRecord, issue_counts, issue_entries, read_records
from ...quota.figures import restore_estimate
from ..plan import Selection
from .restore import BULK_MAX
from .run import chosen
from .subset import narrowed, only, subset_of

PROPERTIES_PER_ISSUE = 2  # the "before the restore" property and the "done" marker, on every restored issue


@dataclass
class ProjectFigures:
    """One project's issue data as the snapshot holds it."""

    project: str
    issues: int = 0
    comments: int = 0
    worklogs: int = 0
    attachments: int = 0
    attachment_bytes: int = 0
    restricted_comments: int = 0
    sprint_ids: set[int] = field(default_factory=set)  # the sprints the project's issues are in (of any board)
    votes: int = 0

    @property
    def sprints(self) -> int:
        return len(self.sprint_ids)

    def add(self, record: IssueRecord) -> None:
        self.issues += 1
        self.comments += len(record.comments)
        self.worklogs += len(record.worklogs)
        self.attachments += len(record.attachments)
        self.attachment_bytes += record.attachment_bytes
        self.sprint_ids |= {int(s["id"]) for s in record.sprints if isinstance(s, dict) and s.get("id") is not None}
        self.votes += record.votes.count
        said = (record.fields.get("comment") or {}).get("total")
        if isinstance(said, int) and said > len(record.comments):
            self.restricted_comments += said - len(record.comments)

    @property
    def least_writes(self) -> int:
        """Writes no restore of this project can do without: the bulk creates, each comment, worklog and upload,
        and the two properties every restored issue carries (transitions, links, watchers, votes and sprints
        come on top: a sprint's writes are its board's, shared by the projects whose issues it holds)."""
        return (math.ceil(self.issues / BULK_MAX) + self.comments + self.worklogs + self.attachments
                + PROPERTIES_PER_ISSUE * self.issues)


def project_figures(snapshot_id: int, selection: Selection) -> list[ProjectFigures]:
    """The selected projects' figures, read from the snapshot's records (nothing is read from Jira), one record at
    a time: the entries are listed once, and no record is held after it is counted."""
    entries = issue_entries(snapshot_id)
    subset = subset_of(snapshot_id, selection)  # JQL: only the issues it chose
    if subset is not None:
        entries = only(entries, subset)
    out = []
    for project in chosen(list(entries), narrowed(selection, subset)):
        figures = ProjectFigures(project)
        for record in read_records(snapshot_id, entries.pop(project)):
            figures.add(record)
        out.append(figures)
    db.session.commit()  # the snapshot's reads hold no transaction open
    return out


def size_words(n: int) -> str:
    """A byte count as a person reads it: "3.2 MB"."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def figures_view(tenant_id: int, figures: ProjectFigures) -> dict[str, Any]:
    """One project's row as both doors show it."""
    estimate = restore_estimate(tenant_id, None, figures.least_writes, figures.issues)
    return {"project": figures.project, "issues": figures.issues, "comments": figures.comments,
            "worklogs": figures.worklogs, "attachments": figures.attachments,
            "attachmentBytes": figures.attachment_bytes, "attachmentSize": size_words(figures.attachment_bytes),
            "restrictedComments": figures.restricted_comments, "sprints": figures.sprints, "votes": figures.votes,
            "points": int(estimate["points"])}


def issue_preview(tenant_id: int, snapshot_id: int, selection: Selection) -> dict[str, Any] | None:
    """Per project counts and points for the preview (None: the snapshot holds no issue data for the selection)."""
    figures = project_figures(snapshot_id, selection)
    if not figures:
        return None
    rows = [figures_view(tenant_id, f) for f in figures]
    counts = issue_counts(snapshot_id)
    total = restore_estimate(tenant_id, None, sum(f.least_writes for f in figures), sum(f.issues for f in figures))
    return {"projects": rows, "points": int(total["points"]), "pointsWords": total["words"],
            "restrictedComments": sum(f.restricted_comments for f in figures),
            "restrictedWords": counts.restricted_words if counts is not None else None}
