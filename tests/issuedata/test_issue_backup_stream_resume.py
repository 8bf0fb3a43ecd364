"""Does the issue pass stream a large attachment without holding it in memory, and does a backup killed in the middle
of its issue records resume without reading again what it already stored?"""

from __future__ import annotations

import copy
import hashlib
import math
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.backups import service
from app.clock import utcnow
from app.extensions import db
from app.issuedata import backup as issue_backup
from app.issuedata.records import iter_issues
from app.jira.access import JiraAccess
from app.jobs.models import Job
from app.jobs.runtime import run_job
from fakejira import generator, installer, seeding
from fakejira.attachments import GeneratedBlob, content_seed
from fakejira.site import Site
from tests.backups.capture_support import CaptureWorld, capture_world, tenant_of

API = "/rest/api/3"
BULK = f"{API}/issue/bulkfetch"
CONTENT = f"{API}/attachment/content/{{id}}"
LARGE = 30 * 1024 * 1024  # the attachment the memory test backs up
# The most the backup job may allocate at once (traced: the app and the in-process emulator together). Without the
# large attachment it peaks at 14-24 MB on issues-small (a bulk-fetch page, the writer's batch, the configuration's
# reads); a copy of the attachment held whole adds 30 MB on top (reading it whole measured 80 MB).
PEAK_LIMIT = 40 * 1024 * 1024


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str, fakejira_spec: None) -> Iterator[CaptureWorld]:
    with capture_world(tmp_path_factory.mktemp("issue-stream"), worker_id) as built:
        yield built


_SEED: dict[str, Any] = {}


def issues_small() -> dict[str, Any]:
    if not _SEED:
        _SEED.update(generator.generate_preset("issues-small", site_name="issues"))
    return copy.deepcopy(_SEED)


def add_site(world: CaptureWorld, name: str, seed: dict[str, Any]) -> Site:
    site = world.cloud.add_site(name, seed=seed)
    site.client_key = installer.install_app(site, world.app.config["BASE_URL"] + "/atlassian-connect.json").client_key
    return site


def with_large_attachment(seed: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The seed with its first attachment grown to ``LARGE`` bytes (generated on read, so nothing is held)."""
    issue_id = next(iter(seed["issueAttachments"]))
    item = seed["issueAttachments"][issue_id][0]
    item["size"] = LARGE
    return seed, str(item["id"])


def served_sha256(site: Site, attachment_id: str) -> str:
    digest = hashlib.sha256()
    for chunk in GeneratedBlob(content_seed(site), attachment_id, LARGE).chunks():
        digest.update(chunk)
    return digest.hexdigest()


def test_does_a_30_mb_attachment_stream_through_the_backup_without_being_held_whole(world: CaptureWorld) -> None:
    """Backing up an issue with a 30 MB attachment: its bytes reach the blob store whole and exact, while the app's
    traced allocations during the backup never peak anywhere near the attachment's size."""
    seed, attachment_id = with_large_attachment(issues_small())
    site = add_site(world, "large-attachment", seed)
    with world.app.app_context():
        tenant = tenant_of(site.client_key)
        job, _ = service.start_backup(tenant, "admin")
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            state = run_job(job.id)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        done = db.session.get(Job, job.id, populate_existing=True)
        assert state == "succeeded", done.message
        stored = {a.id: a for r in iter_issues(done.result["snapshot_id"]) for a in r.attachments}
    assert stored[attachment_id].size == LARGE
    assert stored[attachment_id].sha256 == served_sha256(site, attachment_id)
    assert len(site.calls.find(method="GET", template=CONTENT)) == len(stored)
    assert peak < PEAK_LIMIT, f"expected a traced peak under {PEAK_LIMIT >> 20} MB, received {peak / 2**20:.1f} MB"


class _Kill(BaseException):
    """What a SIGKILL does to the job: nothing after it runs (not an Exception, so no handler swallows it)."""


def test_does_a_backup_killed_mid_issues_resume_without_rereading_what_it_stored(
        world: CaptureWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after two pages of issue records were stored, the resumed job fetches only the issues it hadn't
    stored (no bulk-fetch of a stored issue, no download of a stored issue's attachment) and its snapshot holds
    every issue exactly once."""
    site = add_site(world, "killed-mid-issues", issues_small())
    export = seeding.export_site(site)
    issue_ids = {str(i["id"]) for i in export["issues"]}
    attachment_of = {str(a["id"]): issue_id for issue_id, items in export["issueAttachments"].items()
                     for a in items}
    page = 20
    monkeypatch.setattr(issue_backup, "BULK_FETCH", page)
    fetched: list[list[str]] = []  # the ids of each bulk fetch the app asked for, in order
    original_call = JiraAccess.call

    def spying_call(self: JiraAccess, op: Any, **kwargs: Any) -> Any:
        if op is issue_backup.OP_BULK_FETCH:
            fetched.append([str(i) for i in kwargs["json"]["issueIdsOrKeys"]])
            if len(fetched) == 3 and not killed:
                killed.append(True)
                raise _Kill("worker killed")
        return original_call(self, op, **kwargs)

    killed: list[bool] = []
    monkeypatch.setattr(JiraAccess, "call", spying_call)
    with world.app.app_context():
        tenant = tenant_of(site.client_key)
        job, _ = service.start_backup(tenant, "admin")
        with pytest.raises(_Kill):
            run_job(job.id, worker="dead")
        db.session.rollback()
        stored_before = set(fetched[0] + fetched[1])
        downloads_before = {c.path.rsplit("/", 1)[1] for c in site.calls.find(method="GET", template=CONTENT)}
        site.calls.clear()
        fetched_before = len(fetched)
        db.session.execute(Job.__table__.update().where(Job.id == job.id)
                           .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert run_job(job.id, worker="new") == "succeeded"
        done = db.session.get(Job, job.id, populate_existing=True)
        held = [r.id for r in iter_issues(done.result["snapshot_id"])]
    resumed = [i for ids in fetched[fetched_before:] for i in ids]
    downloads_after = {c.path.rsplit("/", 1)[1] for c in site.calls.find(method="GET", template=CONTENT)}
    assert len(stored_before) == 2 * page and done.attempts == 2
    assert not stored_before & set(resumed), "the resumed job fetched issues the killed one had stored"
    assert sorted(resumed, key=int) == sorted(issue_ids - stored_before, key=int)
    assert len(site.calls.find(method="POST", template=BULK)) == math.ceil(len(issue_ids - stored_before) / page)
    assert not {attachment_of[a] for a in downloads_after} & stored_before
    assert {attachment_of[a] for a in downloads_before} <= stored_before
    assert sorted(held, key=int) == sorted(issue_ids, key=int)  # every issue once
