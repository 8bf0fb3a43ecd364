"""Does the issue restore hold a bounded window of records, never a whole project, and still restore it whole?

A project of any size must restore within the worker's memory target (issue #18: peak RSS ≤ 300 MB on issues-medium;
the restoring worker reached 374 MB holding whole projects). The real backup and restore jobs run on the
``issues-small`` preset (its largest project has 42 issues) with the window narrowed to 10 records; a probe at each
bulk create and each issue's follow-up counts the issue records alive in the process.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

from app.backups.snapshots import SnapshotReader
from app.extensions import db
from app.issuedata.records import IssueRecord, StoredIssues, issue_entries, iter_issues
from app.restore import attempt
from app.restore.issues import run as issue_run
from app.restore.issues import verify as issue_verify
from app.restore.issues.restore import ProjectIssues
from tests.restore.conftest import Sites, take_backup
from tests.restore.test_restore_basics import preview, restore
from tests.restore.test_restore_issue_job import _SEED, _keys, _source_keys
from tests.restore.test_restore_issue_job import issue_sites as issue_sites  # the fixture

WINDOW = 10


# A probe walks every object of the process (a second or more each): every fifth call still catches a whole project
# held (it would be alive at every call), at a fifth of the cost.
PROBE_EVERY = 5


def _probe(calls: list[int], seen: list[int]) -> None:
    """Count the call; on the first and every ``PROBE_EVERY``-th, record the issue records alive."""
    calls.append(1)
    if len(calls) % PROBE_EVERY == 1:
        seen.append(_records_alive())


def _records_alive() -> int:
    """Issue records read in full and still referenced (a StoredIssue handle holds none of its own), beyond those
    alive before the restore (another test module's, in the same process)."""
    return _all_records() - _BEFORE["records"]


def _all_records() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is IssueRecord)


_BEFORE = {"records": 0}


def test_a_project_larger_than_the_window_restores_and_verifies_holding_only_the_window(
        app, issue_sites: Sites, fake_cloud, oauth_grant, monkeypatch: pytest.MonkeyPatch) -> None:
    """During the restore and the verification of its issues no more than the window's records are alive, and every
    issue still comes back and is compared; the configuration's verification gets no issue data at all (on
    issues-medium, holding it took the worker from 140 MB to 750 MB). One run, probed at three places."""
    oauth_grant(issue_sites.dest, issue_sites.dest_tenant_id)
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    run_id = preview(app, issue_sites, snapshot_id)
    monkeypatch.setitem(_BEFORE, "records", _all_records())
    monkeypatch.setattr(issue_run, "WINDOW", WINDOW)
    seen: list[int] = []
    calls: list[int] = []
    create_batch, follow_up = ProjectIssues._create_batch, ProjectIssues._follow_up

    def probed_create(self: Any, batch: Any, next_number: int) -> int:
        _probe(calls, seen)
        return create_batch(self, batch, next_number)

    def probed_follow_up(self: Any, record: Any, outcome: Any) -> None:
        _probe(calls, seen)
        follow_up(self, record, outcome)

    monkeypatch.setattr(ProjectIssues, "_create_batch", probed_create)
    monkeypatch.setattr(ProjectIssues, "_follow_up", probed_follow_up)
    # the issues' verification: the records alive at each comparison
    monkeypatch.setattr(issue_verify, "WINDOW", WINDOW)
    compared: list[int] = []
    compared_seen: list[int] = []
    compare = issue_verify.compare_issue

    def probed_compare(key: str, expected: Any, actual: Any, site: Any = None) -> Any:
        _probe(compared, compared_seen)
        return compare(key, expected, actual, site)

    monkeypatch.setattr(issue_verify, "compare_issue", probed_compare)
    # the configuration's verification: the snapshot types it is given
    given: list[set[str]] = []
    verify_configuration = attempt.verify

    def probed_verify(access: Any, plan: Any, results: Any, site: Any) -> Any:
        given.append(set(site))
        return verify_configuration(access, plan, results, site)

    monkeypatch.setattr(attempt, "verify", probed_verify)
    run = restore(app, issue_sites, run_id)

    assert run.status == "done", run.message
    wanted = _source_keys(_SEED)
    assert max(len(keys) for keys in wanted.values()) > 3 * WINDOW  # the test means something
    assert len(calls) > sum(len(keys) for keys in wanted.values())  # every follow-up went through the probe
    assert max(seen) <= WINDOW, f"up to {max(seen)} issue records alive at once (window {WINDOW})"
    for project, keys in wanted.items():
        assert _keys(issue_sites.dest, project) == keys, project
        assert run.summary["issues"]["projects"][project]["outcomes"] == {"created": len(keys)}
    assert len(compared) == sum(len(keys) for keys in wanted.values())
    assert max(compared_seen) <= WINDOW, f"verifying: up to {max(compared_seen)} records alive (window {WINDOW})"
    with app.app_context():
        held = {s.type_key for s in SnapshotReader(snapshot_id).type_summaries() if s.status in attempt.READABLE}
        db.session.commit()
    assert attempt.ISSUE_DATA_TYPES & held, "the snapshot holds issue data (the test means something)"
    assert given == [held - attempt.ISSUE_DATA_TYPES]


def test_stored_issues_read_each_record_once_walking_in_key_order(app, issue_sites: Sites, fake_cloud) -> None:
    """A walk in key order reads each record once, holds at most the window, and sees what iter_issues sees."""
    snapshot_id = take_backup(app, issue_sites.source_tenant_id, fake_cloud)
    with app.app_context():
        entries = issue_entries(snapshot_id)
        project = max(entries, key=lambda p: len(entries[p]))
        stored = StoredIssues(snapshot_id, entries[project], window=WINDOW)
        assert [r.key for r in stored] == [r.key for r in iter_issues(snapshot_id, project)]
        assert stored.reads == 0  # keys and ids come from the entries: nothing read yet

        held = []
        for record in stored:
            assert record.comments is not None and record.fields.get("summary")
            held.append(stored.held)
        assert stored.reads == len(stored)
        assert max(held) <= WINDOW
        assert [r.to_json() for r in stored] == [r.to_json() for r in iter_issues(snapshot_id, project)]
