"""What the issue-data tests (comments, worklogs, attachments, links, sprints) share: a project with issues, extra
users, an event recorder on ``site.issue_events`` and ADF bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakejira.events import IssueEvent
from fakejira.site import Site
from tests.emulator import helpers

call = helpers.call  # every successful answer is checked against the spec's response schema
TASK, SUBTASK, EPIC = "10001", "10002", "10000"


def adf(text: str = "Hi") -> dict[str, Any]:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def add_user(site: Site, account_id: str, name: str, *, groups: tuple[str, ...] = ("jira-software-users",),
             active: bool = True) -> str:
    """Put a user on the site directly (apps can't create users) and into ``groups``."""
    site.store.put("users", account_id, {"accountId": account_id, "displayName": name, "active": active,
                                         "accountType": "atlassian",
                                         "self": f"{site.base_url}/rest/api/3/user?accountId={account_id}"})
    for group in site.store.values("groups"):
        if group["name"] in groups:
            group.setdefault("_members", []).append(account_id)
    return account_id


def make_issues(site: Site, count: int, project: str = "OPS", **fields: Any) -> list[str]:
    """``count`` tasks in ``project`` (created as the site admin); their keys."""
    keys = []
    for n in range(count):
        code, answer = call(site, "POST", "/issue", body={"fields": {
            "project": {"key": project}, "issuetype": {"id": TASK}, "summary": f"Task {n}", **fields}})
        assert code == 201, answer
        keys.append(answer["key"])
    return keys


def issue_site(site: Site, issues: int = 2) -> list[str]:
    """Give ``site`` project OPS with ``issues`` tasks; their keys."""
    helpers.make_project(site, "OPS")
    return make_issues(site, issues)


@dataclass
class Events:
    """Every issue event a site emits while recorded (kinds in order, the events themselves)."""

    seen: list[IssueEvent] = field(default_factory=list)

    def __call__(self, event: IssueEvent) -> None:
        self.seen.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.seen]

    def of(self, kind: str) -> list[IssueEvent]:
        return [e for e in self.seen if e.kind == kind]


def record_events(site: Site) -> Events:
    events = Events()
    site.issue_events.subscribe(events)
    return events


def errors_of(answer: dict[str, Any]) -> str:
    return " ".join(answer["errorMessages"] + list(answer["errors"].values()))
