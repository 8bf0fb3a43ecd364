"""Does a JQL subset choose from a backup the issues Jira would, and refuse in words what a backup can't answer?"""

from __future__ import annotations

from typing import Any

import pytest

from app.issuedata.records import IssueRecord
from app.restore.issues.subset import MAX_JQL, SubsetError, matcher, narrowed
from app.restore.plan import Selection


def _record(key: str, **fields: Any) -> IssueRecord:
    project = key.split("-")[0]
    base = {"project": {"id": f"1{len(project)}", "key": project, "name": f"Project {project}"},
            "issuetype": {"id": "10001", "name": "Bug"}, "status": {"id": "3", "name": "In Progress"},
            "priority": {"id": "2", "name": "High"}, "summary": "Invoice totals are wrong",
            "created": "2024-03-10T09:30:00.000+0000", "labels": ["billing"]}
    base.update(fields)
    comments = base.pop("comments", [])
    return IssueRecord(id=str(abs(hash(key)) % 100000), key=key, project_key=project, project_id=None,
                       issue={"fields": base}, comments=comments)


def _issues() -> list[IssueRecord]:
    """Made for each query, never held: other tests count the issue records alive in the process."""
    return [
        _record("WEB-1"),
        _record("WEB-2", status={"id": "10000", "name": "Done"}, labels=["customer", "urgent"],
                assignee={"accountId": "abc-123", "displayName": "Dana Scully"}),
        _record("WEB-10", issuetype={"id": "10002", "name": "Story"}, created="2023-12-31T23:00:00.000+0000",
                summary="Checkout page", components=[{"id": "500", "name": "Front end"}],
                comments=[{"body": {"type": "doc", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "The refund flow broke"}]}]}}]),
        _record("OPS-3", priority={"id": "1", "name": "Highest"}, fixVersions=[{"id": "700", "name": "2.0"}],
                customfield_10050={"id": "10101", "value": "Gold"}),
    ]


def chosen(jql: str) -> list[str]:
    test = matcher(jql)
    return [r.key for r in _issues() if test(r)]


@pytest.mark.parametrize(("jql", "keys"), [
    ("project = WEB", ["WEB-1", "WEB-2", "WEB-10"]),
    ("project = web", ["WEB-1", "WEB-2", "WEB-10"]),  # keys and names compare as Jira does: without case
    ('project = "Project OPS"', ["OPS-3"]),
    ("project in (WEB, OPS) AND status != Done", ["WEB-1", "WEB-10", "OPS-3"]),
    ("status = 10000", ["WEB-2"]),  # by id as well as by name
    ("issuetype = Story OR priority = Highest", ["WEB-10", "OPS-3"]),
    ("labels in (urgent, nothing)", ["WEB-2"]),
    ("labels not in (urgent)", ["WEB-1", "WEB-10", "OPS-3"]),
    ("assignee = abc-123", ["WEB-2"]),
    ('assignee = "Dana Scully"', ["WEB-2"]),
    ("assignee is EMPTY", ["WEB-1", "WEB-10", "OPS-3"]),
    ("assignee is not empty", ["WEB-2"]),
    ("assignee != abc-123", []),  # Jira: != never matches an issue whose field is empty
    ("key >= WEB-2", ["WEB-2", "WEB-10"]),  # by number, not as text (WEB-10 > WEB-2)
    ("key < WEB-10 AND key > WEB-1", ["WEB-2"]),
    ("issuekey in (WEB-1, OPS-3)", ["WEB-1", "OPS-3"]),
    ('created >= "2024-01-01"', ["WEB-1", "WEB-2", "OPS-3"]),
    ("created < 2024-01-01", ["WEB-10"]),
    ('created >= "2024/03/10 09:30"', ["WEB-1", "WEB-2", "OPS-3"]),
    ("created <= -1d", ["WEB-1", "WEB-2", "WEB-10", "OPS-3"]),
    ("summary ~ invoice", ["WEB-1", "WEB-2", "OPS-3"]),
    ("text ~ refund", ["WEB-10"]),  # text searches comments too
    ("comment ~ refund", ["WEB-10"]),
    ("summary !~ invoice", ["WEB-10"]),
    ('component = "Front end"', ["WEB-10"]),
    ('fixVersion = "2.0"', ["OPS-3"]),
    ("cf[10050] = Gold", ["OPS-3"]),
    ("customfield_10050 = 10101", ["OPS-3"]),
    ("not (project = WEB and status = Done)", ["WEB-1", "WEB-10", "OPS-3"]),
    ("project = WEB ORDER BY created DESC", ["WEB-1", "WEB-2", "WEB-10"]),  # the order is the restore's own
])
def test_a_subset_chooses_what_jira_would(jql: str, keys: list[str]) -> None:
    assert chosen(jql) == keys


@pytest.mark.parametrize(("jql", "words"), [
    ("", "Type a JQL query"),
    ("ORDER BY created", "no condition"),
    ('project = "WEB', "can't be read"),
    ("project = WEB AND", "can't be read"),
    ("status WAS Done", "history"),
    ("status CHANGED", "history"),
    ("assignee = currentUser()", "currentUser() can't be evaluated on a backup"),
    ("sprint in openSprints()", "openSprints() can't be evaluated on a backup"),
    ("watchers = abc-123", "can't search by 'watchers'"),
    ("votes > 2", "votes can't be compared with >"),
    ("summary = Invoice", "summary is searched with ~"),
    ("status > Done", "can't be compared with >"),
    ("created > yesterday", "isn't a date JQL takes"),
    ("key > 12", "isn't an issue key"),
    ("assignee is Dana", "IS takes EMPTY or NULL"),
    ("project = " + "W" * MAX_JQL, "the most is"),
])
def test_what_a_backup_cant_answer_is_refused_in_words(jql: str, words: str) -> None:
    with pytest.raises(SubsetError) as refused:
        matcher(jql)
    assert words in str(refused.value)


def test_a_subset_of_no_issue_never_narrows_to_every_project() -> None:
    """No projects in a selection means all of them: a JQL that chose nothing must not become that."""
    with pytest.raises(SubsetError):
        narrowed(Selection(jql="project = NOPE"), {})
    assert narrowed(Selection(jql="project = WEB"), {"WEB": ["WEB-1"]}).projects == ["WEB"]
    plain = Selection(projects=["OPS"])
    assert narrowed(plain, None) is plain
