"""Sites for the "Before the restore" panel tests: a destination the real issue restore wrote to, and a site whose
issues carry the panel's properties set through the emulator (as the restore writes them)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.issuedata.before import BEFORE_PROPERTY, SOURCE_PROPERTY
from app.issuedata.records import IssueRecord
from app.restore.issues.restore import Authors, ProjectIssues
from app.tenant_access import jira_access
from app.tenants import Tenant
from fakejira import generator, installer
from tests.restore.test_restore_issues import APP, ISSUE_DATA_KEYS, SameIds, _records

HOSTILE = "<script>alert(1)</script>"
LONG_HISTORY = 45  # more than two pages of the panel's history
COMMENTS_TRIMMED = 3  # the newest comments the property had no room for (worklogs: one)


def issues_seed() -> dict[str, Any]:
    return generator.generate_preset("issues-small", rng_seed=42)


@dataclass
class Restored:
    """A destination site the app is installed on, holding one project restored from the source's records."""

    site: Any
    tenant_id: int
    records: list[IssueRecord]  # the restored project's source records, by key

    def record_with_history(self) -> IssueRecord:
        """The restored issue with the longest history whose author names include markup."""
        return max(self.records, key=lambda r: (any(HOSTILE in str(e.get("author")) for e in r.changelog),
                                                len(r.changelog)))


def restore_one_project(app: Any, fake_cloud: Any, install_into: Any, name: str = "dst") -> Restored:
    """Restore the smallest project of ``issues-small`` onto a new site with the live app installed (the real
    ``ProjectIssues`` run through the tenant's own Jira access; comments by the app, as no grant is asked for)."""
    seed = issues_seed()
    source = fake_cloud.add_site(f"{name}-src", seed=seed)
    installer.install_direct(source, APP, ["READ"])
    blobs: dict[str, bytes] = {}
    records = _records(seed, source, blobs)
    config = {k: v for k, v in copy.deepcopy(seed).items() if k not in ISSUE_DATA_KEYS}
    dest = fake_cloud.add_site(name, seed=config)
    dest.client_key = install_into(dest)
    projects: dict[str, list[IssueRecord]] = {}
    for record in records:
        projects.setdefault(record.project_key, []).append(record)
    project, chosen = min(projects.items(), key=lambda p: len(p[1]))
    people = {u["accountId"] for u in config["users"] if u.get("active", True)}
    schemas = {f["id"]: (f.get("schema") or {}).get("custom", "") for f in seed.get("fields", [])}

    def stream(digest: str) -> Iterator[bytes]:
        yield blobs[digest]

    with app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        job = ProjectIssues(jira_access(tenant), SameIds(people), project_key=project, snapshot_id=1,
                            authors=Authors(None, lambda _a: False), custom_schemas=schemas,
                            attachment_stream=stream)
        report = job.restore(chosen)
        assert set(report.counts()) == {"created"}, report.counts()
        return Restored(dest, tenant.id, chosen)


def long_history(count: int = LONG_HISTORY) -> list[dict[str, Any]]:
    author = {"accountId": "557058:someone", "displayName": f"{HOSTILE} Ada Lovelace"}
    return [{"id": str(10000 + n), "created": f"2021-03-{1 + n % 28:02d}T09:{n % 60:02d}:00.000+0000",
             "author": author, "items": [{"field": "summary", "fieldtype": "jira", "fromString": f"take {n}",
                                          "toString": f"take {n + 1}"}]} for n in range(count)]


def before_value(key: str, changelog: list[dict[str, Any]], *, creator: str = "Grace Hopper",
                 created: str = "2020-02-03T04:05:06.000+0000") -> dict[str, Any]:
    """A ``jiradr.before`` value in the shape the issue restore writes."""
    return {"key": key, "created": created, "creator": creator, "changelog": changelog, "trimmed": 0,
            "commentsTrimmed": COMMENTS_TRIMMED, "worklogsTrimmed": 1,
            "sprints": [{"name": "Sprint <1>", "state": "closed", "startDate": "2020-03-02T09:00:00.000Z",
                         "endDate": "2020-03-16T09:00:00.000Z", "completeDate": "2020-03-17T10:30:00.000Z"}]}


def site_with_panel_properties(fake_cloud: Any, name: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A site seeded with issues; its first issue carries the panel's properties (a long history), its second none.
    Returns the site, the issue with the properties and the one without."""
    seed = issues_seed()
    seed = {k: v for k, v in seed.items() if k not in ("issueProperties",)}
    first, second = seed["issues"][0], seed["issues"][1]
    seed["issueProperties"] = {first["id"]: [
        {"key": BEFORE_PROPERTY, "value": before_value("OLD-7", long_history())},
        {"key": SOURCE_PROPERTY, "value": {"id": "99999", "key": "OLD-7", "snapshot": 1}}]}
    return fake_cloud.add_site(name, seed=seed), first, second
