"""Does the Backups page say, per snapshot, how many issues, comments, worklogs and attachments (bytes) it holds?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app.backups import service
from app.forge.api import _snapshot
from app.issuedata.records import IssueCounts, issue_counts
from fakejira import generator, installer
from fakejira.resources.basics import admin_account_id
from tests.admin.test_recovery_page import Element, Page
from tests.backups.capture_support import CaptureWorld, backup, capture_world, tenant_of


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str, fakejira_spec: None) -> Iterator[CaptureWorld]:
    with capture_world(tmp_path_factory.mktemp("counts"), worker_id) as built:
        yield built


def _shown(element: Element) -> dict[str, int]:
    names = {"issues": "data-issues", "comments": "data-comments", "worklogs": "data-worklogs",
             "attachments": "data-attachments", "attachmentBytes": "data-attachment-bytes",
             "restrictedComments": "data-restricted-comments"}
    return {k: int(element.attrs[v]) for k, v in names.items()}


def test_backups_list_and_detail_show_the_issue_data_counts(world: CaptureWorld) -> None:
    """After a backup with issue data, do the list row, the detail page and the Forge door's snapshot JSON all
    show the snapshot's issue, comment, worklog and attachment counts (and bytes)?"""
    seed = generator.generate_preset("issues-small", site_name="counts")
    site = world.add_site("counts", seed=seed)
    with world.app.app_context():
        tenant = tenant_of(site.client_key)
        job = backup(tenant)
        assert job.state == "succeeded", job.message
        sid = job.result["snapshot_id"]
        counts = issue_counts(sid)
        forge: dict[str, Any] = _snapshot(service.snapshot_detail(tenant, sid))
    assert counts is not None and counts.issues > 0 and counts.comments > 0 and counts.attachments > 0
    shown = ("issues", "comments", "worklogs", "attachments", "attachmentBytes", "restrictedComments")
    expected = {k: v for k, v in counts.to_json().items() if k in shown}
    base = world.app.config["BASE_URL"]
    token = installer.context_token(site, world.app.config["APP_KEY"], admin_account_id(site))
    listing = Page(requests.get(f"{base}/admin/backups/view", params={"jwt": token}, timeout=20))
    assert listing.resp.status_code == 200
    assert _shown(listing.one("snapshot-issue-data")) == expected
    assert f"{counts.issues} issues" in listing.text("snapshot-issue-data")
    detail = Page(requests.get(f"{base}/admin/backups/{sid}", params={"jwt": token}, timeout=20))
    assert detail.resp.status_code == 200
    assert _shown(detail.one("snapshot-issue-data")) == expected
    assert {k: v for k, v in forge["issueData"].items() if k != "restrictedWords"} == counts.to_json()
    assert not listing.has("snapshot-restricted-comments")  # every comment of this site was readable


def test_restricted_comments_are_said_in_words() -> None:
    """Does a snapshot whose issues said they had more comments than were read tell the admin how many and what to
    do, and say nothing when all were read?"""
    assert IssueCounts(comments=3).restricted_words is None
    words = IssueCounts(comments=3, restricted_comments=2).restricted_words
    assert words is not None and words.startswith("2 restricted comments couldn't be read: give the app's user")
    assert IssueCounts.from_json(IssueCounts(restricted_comments=1).to_json()).restricted_comments == 1


def test_restricted_comments_the_backup_stopped_looking_for_are_said_with_the_reason() -> None:
    """When the backup couldn't act as anyone allowed to see restricted comments (no grant, a limit), does the
    snapshot say so with the reason — and stay quiet about ids nobody could read when it looked everywhere (most
    are deleted comments)?"""
    looked = IssueCounts(comments=3, restricted_read=2, restricted_unread=40)
    assert looked.restricted_words is None
    stopped = IssueCounts(comments=3, restricted_unread=40, restricted_reason="the app may not act as users")
    words = stopped.restricted_words
    assert words is not None and "40 comment ids couldn't be read" in words and "the app may not act as users" in words
    assert IssueCounts.from_json(stopped.to_json()) == stopped
