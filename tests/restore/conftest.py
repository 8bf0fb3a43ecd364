"""Restore fixtures: a seeded source and an empty destination (both emulated sites with the app installed, linked by
an Active connection), a real backup of the source, and an OAuth credential through the emulated gateway."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.jira.access import Credential, oauth_allows
from app.jira.client import JiraClient, RetryPolicy
from app.jobs.models import Job
from app.jobs.runtime import enqueue, run_job
from app.recovery.connections import activate, generate_token
from app.tenants import Tenant
from fakejira.resources.basics import admin_account_id

GROUP_QA = "6c2b3a8e-0d4e-4f38-9d55-2a1f1c7f0a01"
GROUP_DEVS = "0e1f4d2c-7a3b-4c5d-8e9f-1a2b3c4d5e6f"

BASICS_SEED: dict[str, Any] = {
    "projectCategories": [{"id": "10000", "name": "Internal", "description": "Our own tools"},
                          {"id": "10001", "name": "=HYPERLINK(\"x\") <b>Clients</b>", "description": ""}],
    "issueLinkTypes": [{"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
                       {"id": "10004", "name": "Causes", "inward": "is caused by", "outward": "causes"}],
    "resolutions": [{"id": "10000", "name": "Done", "description": "Work has been completed on this issue.",
                     "default": True},
                    {"id": "10005", "name": "Obsolete", "description": "No longer relevant", "default": False}],
    "statuses": [{"id": "10000", "name": "To Do", "statusCategory": "TODO", "scope": {"type": "GLOBAL"},
                  "description": ""},
                 {"id": "10001", "name": "Done", "statusCategory": "DONE", "scope": {"type": "GLOBAL"},
                  "description": ""},
                 {"id": "10007", "name": "In Review", "statusCategory": "IN_PROGRESS",
                  "scope": {"type": "GLOBAL"}, "description": "Waiting for a reviewer"}],
    "groups": [{"name": "qa-team", "groupId": GROUP_QA}, {"name": "developers", "groupId": GROUP_DEVS}],
}


def seed_with_types(site: Any) -> dict[str, Any]:
    """The basics seed plus issue types and roles built on the site's own defaults (so ids stay consistent)."""
    seed = copy.deepcopy(BASICS_SEED)
    seed["issueTypes"] = [
        {"id": "10001", "name": "Task", "description": "A small, distinct piece of work.", "subtask": False,
         "hierarchyLevel": 0, "avatarId": 10318},
        {"id": "10002", "name": "Sub-task", "description": "A small piece of work.", "subtask": True,
         "hierarchyLevel": -1, "avatarId": 10316},
        {"id": "10010", "name": "Incident", "description": "Something broke", "subtask": False,
         "hierarchyLevel": 0, "avatarId": 10318},
        {"id": "10011", "name": "Initiative", "description": "Above epics", "subtask": False,
         "hierarchyLevel": 2, "avatarId": 10318},
    ]
    return seed


@dataclass
class Sites:
    source: Any
    dest: Any
    source_tenant_id: int
    dest_tenant_id: int
    admin: str


@pytest.fixture
def sites(app, fake_cloud, install_into) -> Sites:
    """A source seeded with the basics and an empty destination, both with the app, connected (Active)."""
    source = fake_cloud.add_site("source")
    dest = fake_cloud.add_site("dest")
    from fakejira.seeding import load_seed

    load_seed(source, seed_with_types(source))
    source.client_key = install_into(source)
    dest.client_key = install_into(dest)
    admin = admin_account_id(dest)
    with app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        issued = generate_token(src, admin_account_id(source))
        activate(dst, admin, issued.token, src.base_url)
        return Sites(source, dest, src.id, dst.id, admin)


def take_backup(app, tenant_id: int, cloud: Any) -> int:
    """Run the real backup job for the tenant (under the spec-violation guard) and return its snapshot id."""
    with app.app_context():
        job, _ = enqueue(tenant_id, "backup", {}, dispatch=False)
        assert run_job(job.id) == "succeeded", db.session.get(Job, job.id).message
        return int(db.session.get(Job, job.id, populate_existing=True).result["snapshot_id"])


def killed_then_resumed(job_id: str) -> None:
    """Run the job until a planted kill ends its worker (SystemExit), expire its lease, run it again to the end.
    Inside an app context."""
    with pytest.raises(SystemExit):
        run_job(job_id)
    db.session.execute(db.update(Job).where(Job.id == job_id)
                       .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert run_job(job_id) == "succeeded", db.session.get(Job, job_id).message


def across_quota_windows(job_id: str, clock: list[float], limit: int = 60) -> tuple[str, int]:
    """Run the job; each time it waits for Jira's hourly quota, move the emulator's ``clock`` an hour on and run it
    again. Returns the final state and the attempts made. Inside an app context."""
    attempts, state = 1, run_job(job_id)
    while state == "queued" and attempts < limit:
        job = db.session.get(Job, job_id, populate_existing=True)
        assert "slow down" in (job.message or ""), job.message  # waiting for the quota, said so on the page
        clock[0] += 3600
        db.session.execute(db.update(Job).where(Job.id == job_id).values(not_before=None))
        db.session.commit()
        attempts, state = attempts + 1, run_job(job_id)
    return state, attempts


@pytest.fixture
def snapshot_id(app, sites, fake_cloud) -> int:
    return take_backup(app, sites.source_tenant_id, fake_cloud)


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


SCOPES = ["read:jira-work", "write:jira-work", "manage:jira-configuration", "manage:jira-project", "read:jira-user"]


@pytest.fixture
def oauth_grant(app, fake_cloud) -> Iterator[Callable[[Any, int], None]]:
    """``grant(site, tenant_id)``: the tenant gains an OAuth credential (a real bearer token at the gateway)."""
    granted: dict[int, Credential] = {}

    def source(tenant: Tenant) -> Credential | None:
        return granted.get(tenant.id)

    def grant(site: Any, tenant_id: int) -> None:
        client = fake_cloud.oauth.register_client(["https://dr-app.example.test/oauth/callback"])
        admin = admin_account_id(site)
        site.admins.add(admin)
        tokens = fake_cloud.oauth.issue_tokens(client.client_id, admin, [site], SCOPES)
        jira = JiraClient(fake_cloud.gateway_url(site), _Bearer(tokens["access_token"]),
                          retry=RetryPolicy(max_retries=2, base_delay=0.01, max_retry_after=5), label="oauth-test")
        granted[tenant_id] = Credential("oauth", jira, oauth_allows(set(SCOPES)))

    app.extensions["wiring"].credential_sources.append(source)  # this app's only: nothing to undo
    yield grant
