"""Does a backup capture every configuration type faithfully, survive Jira's bad days, and resume after a crash?"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.backups import capture
from app.backups.catalogue import CATALOGUE, normalise
from app.backups.models import Snapshot, SnapshotEntry
from app.backups.snapshots import SnapshotReader
from app.clock import utcnow
from app.extensions import db
from app.jobs import runtime
from app.jobs.models import Job
from app.jobs.runtime import run_job
from fakejira import seeding
from fakejira.site import Site
from tests.backups.capture_support import (
    CaptureWorld,
    backup,
    capture_world,
    small_seed,
    snapshot_objects,
    tenant_of,
)

CONNECT_UNREADABLE = {"workflows", "prioritySchemes"}
PAGED_FILTERS = 120  # the shared seed holds this many filters: three pages of 50


@dataclass
class Taken:
    """One backup of the shared seeded site, taken once for the module's read-only assertions."""

    site: Site
    snapshot_id: int
    export: dict[str, Any]
    filter_search_calls: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str, fakejira_spec: None) -> Iterator[CaptureWorld]:
    with capture_world(tmp_path_factory.mktemp("capture"), worker_id) as built:
        yield built


def paged_seed(name: str) -> dict[str, Any]:
    """The small preset with enough filters that ``/filter/search`` takes three pages."""
    seed = small_seed(name)
    owner = seed["filters"][0]["owner"]
    seed["filters"] += [dict(seed["filters"][0], id=str(20000 + i), name=f"Paged filter {i}", owner=owner)
                        for i in range(PAGED_FILTERS - len(seed["filters"]))]
    return seed


@pytest.fixture(scope="module")
def taken(world: CaptureWorld) -> Taken:
    """The backup every read-only test inspects (one backup instead of one per test: ~4 s each)."""
    site = world.add_site("seeded", seed=paged_seed("seeded"))
    with world.app.app_context():
        job = backup(tenant_of(site.client_key))
        assert job.state == "succeeded", job.message
        calls = len(site.calls.find(method="GET", template="/rest/api/3/filter/search"))
        return Taken(site, job.result["snapshot_id"], seeding.export_site(site), calls)


@pytest.fixture
def live_app(world: CaptureWorld) -> Flask:
    """The module's app (this module's tests never use the per-test ``app``, which would build another)."""
    return world.app


@pytest.fixture
def own_site(world: CaptureWorld, request: pytest.FixtureRequest) -> Site:
    """A freshly seeded site of this test's own (with its own tenant), for tests that change or break things."""
    name = request.node.name.removeprefix("test_")[:40]
    return world.add_site(name, seed=small_seed(name))


def by_id(objs: list[dict], key: str = "id") -> dict[str, dict]:
    return {str(o[key]): o for o in objs}


def assert_contains(stored: dict, expected: dict, where: str) -> None:
    """Every field the site holds for the object came back unchanged."""
    expected = normalise(expected)
    for k, v in expected.items():
        assert stored.get(k) == v, f"{where}: {k} differs: {stored.get(k)!r} != {v!r}"


def assert_same_objects(stored: list[dict], expected: list[dict], type_key: str, key: str = "id") -> None:
    got, want = by_id(stored, key), by_id(expected, key)
    assert set(got) == set(want), f"{type_key}: ids differ"
    for oid, obj in want.items():
        assert_contains(got[oid], obj, f"{type_key} {oid}")


PLAIN = [("projectCategories", "projectCategories"), ("issueLinkTypes", "issueLinkTypes"),
         ("priorities", "priorities"), ("resolutions", "resolutions"), ("statuses", "statuses"),
         ("issueTypes", "issueTypes"), ("projectRoles", "projectRoles"), ("permissionSchemes", "permissionSchemes"),
         ("notificationSchemes", "notificationSchemes"), ("screenSchemes", "screenSchemes"),
         ("workflowSchemes", "workflowSchemes"),
         ("issueTypeSchemes", "issueTypeSchemes"), ("issueTypeScreenSchemes", "issueTypeScreenSchemes"),
         ("fieldConfigurationSchemes", "fieldConfigurationSchemes")]


@pytest.mark.parametrize(("type_key", "export_key"), PLAIN)
def test_plain_type_round_trips_unchanged(live_app, taken, type_key, export_key) -> None:
    """Does each simple type come back out of the snapshot exactly as the site holds it?"""
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        assert_same_objects(snapshot_objects(snapshot_id, type_key), export[export_key], type_key)


def test_groups_keep_names_and_ids(live_app, taken) -> None:
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        assert_same_objects(snapshot_objects(snapshot_id, "groups"), export["groups"], "groups", key="groupId")


def test_custom_fields_are_the_custom_ones_only(live_app, taken) -> None:
    snapshot_id, export = taken.snapshot_id, taken.export
    custom = [f for f in export["fields"] if str(f["id"]).startswith("customfield_")]
    with live_app.app_context():
        assert_same_objects(snapshot_objects(snapshot_id, "customFields"), custom, "customFields")


def test_field_contexts_with_mappings_options_and_defaults(live_app, taken) -> None:
    """Contexts keep their issue types, projects, options (cascading children too) and defaults."""
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        stored = {(o["fieldId"], o["id"]): o for o in snapshot_objects(snapshot_id, "fieldContexts")}
    expected = {(fid, c["id"]): c for fid, ctxs in export["fieldContexts"].items() for c in ctxs}
    assert set(stored) == set(expected)
    for (fid, cid), ctx in expected.items():
        assert_contains(stored[(fid, cid)], ctx, f"context {cid}")
        types = [m["issueTypeId"] for m in export["fieldContextIssueTypeMappings"].get(fid, [])
                 if m["contextId"] == cid and m.get("issueTypeId")]
        projects = [m["projectId"] for m in export["fieldContextProjectMappings"].get(fid, [])
                    if m["contextId"] == cid and m.get("projectId")]
        assert stored[(fid, cid)]["issueTypeIds"] == types
        assert stored[(fid, cid)]["projectIds"] == projects
        if cid in export["fieldOptions"]:
            assert stored[(fid, cid)]["options"] == normalise(export["fieldOptions"][cid])
        defaults = [d for d in export["fieldContextDefaults"].get(fid, []) if d["contextId"] == cid]
        if defaults:
            assert stored[(fid, cid)]["defaultValue"] == defaults[0]
    assert any(o.get("optionId") for c in stored.values() for o in c.get("options", [])), "no cascading child seen"


def test_screens_keep_tabs_and_fields_in_order(live_app, taken) -> None:
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        stored = by_id(snapshot_objects(snapshot_id, "screens"))
    assert set(stored) == {str(s["id"]) for s in export["screens"]}
    for sid, screen in stored.items():
        tabs = export["screenTabs"].get(sid, [])
        assert [t["name"] for t in screen["tabs"]] == [t["name"] for t in tabs]
        for tab, want in zip(screen["tabs"], tabs, strict=True):
            assert tab["fields"] == normalise(export["screenTabFields"].get(str(want["id"]), []))


def test_field_configurations_keep_their_items(live_app, taken) -> None:
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        stored = by_id(snapshot_objects(snapshot_id, "fieldConfigurations"))
    for fc in export["fieldConfigurations"]:
        assert stored[str(fc["id"])]["items"] == export["fieldConfigurationItems"][str(fc["id"])]


def test_scheme_mappings_are_captured(live_app, taken) -> None:
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        its = by_id(snapshot_objects(snapshot_id, "issueTypeSchemes"))
        itss = by_id(snapshot_objects(snapshot_id, "issueTypeScreenSchemes"))
        fcs = by_id(snapshot_objects(snapshot_id, "fieldConfigurationSchemes"))
    for m in export["issueTypeSchemeMappings"]:
        assert {"issueTypeId": m["issueTypeId"]} in its[m["issueTypeSchemeId"]]["mappings"]
    for m in export["issueTypeScreenSchemeMappings"]:
        assert {"issueTypeId": m["issueTypeId"], "screenSchemeId": m["screenSchemeId"]} in \
            itss[m["issueTypeScreenSchemeId"]]["mappings"]
    for m in export["fieldConfigurationSchemeMappings"]:
        assert {"issueTypeId": m["issueTypeId"], "fieldConfigurationId": m["fieldConfigurationId"]} in \
            fcs[m["fieldConfigurationSchemeId"]]["mappings"]


def test_security_levels_and_members(live_app, taken) -> None:
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        schemes = by_id(snapshot_objects(snapshot_id, "issueSecuritySchemes"))
    for scheme in export["issueSecuritySchemes"]:
        assert schemes[str(scheme["id"])]["name"] == scheme["name"]
        assert schemes[str(scheme["id"])]["defaultLevel"] == scheme.get("defaultSecurityLevelId")
    for level in export["issueSecurityLevels"]:
        stored = by_id(schemes[level["issueSecuritySchemeId"]]["levels"])[level["id"]]
        members = [m for m in export["issueSecurityLevelMembers"] if m["issueSecurityLevelId"] == level["id"]]
        assert {m["id"] for m in stored["members"]} == {m["id"] for m in members}
        for member in stored["members"]:
            assert member["holder"]["type"] == next(m for m in members if m["id"] == member["id"])["holder"]["type"]


def test_projects_with_components_versions_roles_and_schemes(live_app, taken) -> None:
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        stored = by_id(snapshot_objects(snapshot_id, "projects"))
    assert set(stored) == {p["id"] for p in export["projects"]}
    for pid, project in stored.items():
        want = next(p for p in export["projects"] if p["id"] == pid)
        assert project["key"] == want["key"] and project["name"] == want["name"]
        assert project.get("projectCategory", {}).get("name") == want.get("projectCategory", {}).get("name")
        assert project["lead"]["accountId"] == want["lead"]["accountId"] and "displayName" in project["lead"]
        assert [c["name"] for c in project["components"]] == [c["name"] for c in export["projectComponents"][pid]]
        assert [v["name"] for v in project["versions"]] == [v["name"] for v in export["projectVersions"][pid]]
        actors = {rid: sorted(a["displayName"] for a in acts) for rid, acts in export["projectRoleActors"][pid].items()}
        got = {r["id"]: sorted(a["displayName"] for a in r["actors"]) for r in project["roleActors"] if r["actors"]}
        assert got == {k: v for k, v in actors.items() if v}
        schemes = project["schemes"]
        assoc = export["projectSchemeAssociations"].get(pid, {})
        if "workflowScheme" in assoc:
            assert schemes["workflowScheme"]["id"] == assoc["workflowScheme"]
        if "issueTypeScheme" in assoc:
            assert schemes["issueTypeScheme"]["id"] == assoc["issueTypeScheme"]
        assert schemes["permissionScheme"]["id"] == str(export["projectPermissionSchemes"][pid])


def test_filters_dashboards_boards(live_app, taken) -> None:
    snapshot_id, export = taken.snapshot_id, taken.export
    with live_app.app_context():
        filters = by_id(snapshot_objects(snapshot_id, "filters"))
        dashboards = by_id(snapshot_objects(snapshot_id, "dashboards"))
        boards = by_id(snapshot_objects(snapshot_id, "boards"))
    for f in export["filters"]:
        got = filters[f["id"]]
        assert (got["name"], got["jql"], got["sharePermissions"]) == (f["name"], f["jql"],
                                                                       normalise(f["sharePermissions"]))
        assert got["owner"] == {"accountId": f["owner"]["accountId"], "displayName": f["owner"]["displayName"]}
    assert set(dashboards) == {d["id"] for d in export["dashboards"]}
    for did, gadgets in export["dashboardGadgets"].items():
        assert dashboards[did]["gadgets"] == gadgets
    for b in export["boards"]:
        assert boards[str(b["id"])]["configuration"] == normalise(export["boardConfigurations"][str(b["id"])])


def test_snapshot_records_counts_calls_and_unreadable_types(live_app, taken) -> None:
    """Without an OAuth grant, workflows and priority schemes are recorded unreadable with the fix, never missing."""
    snapshot_id = taken.snapshot_id
    with live_app.app_context():
        reader = SnapshotReader(snapshot_id)
        summaries = {s.type_key: s for s in reader.type_summaries()}
        snap = reader.snapshot
        assert set(summaries) == set(CATALOGUE)
        for key in CONNECT_UNREADABLE:
            assert summaries[key].status == "unreadable" and summaries[key].count == 0
            assert "Authorise full backup and restore" in summaries[key].reason
        assert all(s.status == "complete" for k, s in summaries.items() if k not in CONNECT_UNREADABLE)
        assert snap.status == "partial" and "workflows" in snap.message
        # the configuration types' requests, and the issue pass's one id search (the site has no issues)
        assert snap.api_calls == sum(s.api_calls for s in summaries.values()) + 1 > 1
        assert snap.object_count == sum(s.count for s in summaries.values())
        assert snap.format_version == capture.FORMAT_VERSION and snap.duration_seconds > 0
        reader.verify()


def test_unchanged_second_backup_stores_almost_nothing(live_app, taken) -> None:
    with live_app.app_context():
        first = db.session.get(Snapshot, taken.snapshot_id)
        second = db.session.get(Snapshot, backup(tenant_of(taken.site.client_key)).result["snapshot_id"])
        assert second.id != first.id and second.object_count == first.object_count
        assert second.bytes_new <= 0.05 * first.bytes_new


def test_pagination_across_many_pages(live_app, taken) -> None:
    """120 filters at 50 a page: three pages, every filter once."""
    with live_app.app_context():
        ids = [f["id"] for f in snapshot_objects(taken.snapshot_id, "filters")]
    assert sorted(ids) == sorted(f["id"] for f in taken.export["filters"]) and len(ids) == PAGED_FILTERS
    assert taken.filter_search_calls == 3


def entry_count(snapshot_id: int, type_key: str) -> int:
    return db.session.scalar(select(func.count(SnapshotEntry.id)).where(
        SnapshotEntry.snapshot_id == snapshot_id, SnapshotEntry.type_key == type_key))


@contextmanager
def rate_limit_storm(site: Site, refusals: int = 8, limit_seconds: float = 20.0) -> Iterator[None]:
    """A burst limit of 3 calls per endpoint (429 + Retry-After: 1, Jira's shortest) until ``refusals`` 429s have
    been answered; then the storm passes, so the backup's rest runs at full speed instead of 4 calls a second."""
    site.limits.configure(burst_rate=4, burst_capacity=3)
    done = threading.Event()

    def calm_when_enough() -> None:
        deadline = time.monotonic() + limit_seconds
        while not done.wait(0.02) and time.monotonic() < deadline:
            if len(site.calls.find(status=429)) >= refusals:
                break
        site.limits.reset()

    watcher = threading.Thread(target=calm_when_enough, name="storm-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(timeout=5)


def test_429_storm_and_5xx_mid_backup_finish_without_duplicates(live_app, own_site, monkeypatch) -> None:
    monkeypatch.setitem(live_app.config, "JIRA_MAX_RETRIES", 6)  # the module's app: restored after the test
    own_site.faults.add(503, nth=3, template="/rest/api/3/screens/{screenId}/tabs", times=1)
    own_site.faults.add(500, nth=2, template="/rest/api/3/project/{projectIdOrKey}", times=1)
    with live_app.app_context(), rate_limit_storm(own_site):
        job = backup(tenant_of(own_site.client_key))
    with live_app.app_context():
        assert job.state == "succeeded", job.message
        sid = job.result["snapshot_id"]
        export = seeding.export_site(own_site)
        assert entry_count(sid, "screens") == len(export["screens"])
        assert entry_count(sid, "projects") == len(export["projects"])
        keys = [e.natural_key for e in SnapshotReader(sid).entries("filters")]
        assert len(keys) == len(set(keys)) == len(export["filters"])
    refused = own_site.calls.find(status=429)
    assert len(refused) >= 8 and all(c.note == "rate-limited: jira-burst-based" for c in refused)
    assert own_site.calls.find(status=503) and own_site.calls.find(status=500)


def test_long_rate_limit_requeues_the_job_then_it_finishes(live_app, own_site) -> None:
    own_site.limits.configure(quota=150)  # spent mid-backup: Jira says wait until the top of the hour
    with live_app.app_context():
        tenant = tenant_of(own_site.client_key)
        job = backup(tenant)
        assert job.state == "queued" and "slow down" in job.message and job.not_before > utcnow()
        own_site.limits.reset()
        db.session.execute(Job.__table__.update().where(Job.id == job.id).values(not_before=utcnow()))
        db.session.commit()
        assert run_job(job.id) == "succeeded"
        sid = db.session.get(Job, job.id).result["snapshot_id"]
        assert len(db.session.scalars(select(Snapshot).where(Snapshot.tenant_id == tenant.id)).all()) == 1
        assert entry_count(sid, "screens") == len(seeding.export_site(own_site)["screens"])


def test_crash_mid_backup_resumes_the_same_snapshot(live_app, own_site, monkeypatch) -> None:
    """Killed while reading projects, the job resumes after lease expiry: earlier types kept, projects redone."""
    original = CATALOGUE["projects"].read
    calls: dict[str, Any] = {"n": 0}

    def dying(r):
        for item in original(r):
            yield item
            calls["n"] += 1
            if calls["n"] == 2 and calls.get("die", True):
                calls["die"] = False
                raise SystemExit("worker killed")

    monkeypatch.setitem(CATALOGUE, "projects", CATALOGUE["projects"].__class__(
        **{**CATALOGUE["projects"].__dict__, "read": dying}))
    with live_app.app_context():
        tenant = tenant_of(own_site.client_key)
        from app.backups import service

        job, _ = service.start_backup(tenant, "admin")
        with pytest.raises(SystemExit):
            run_job(job.id, worker="dead")
        db.session.rollback()
        stuck = db.session.get(Job, job.id, populate_existing=True)
        assert stuck.state == "running" and "projects" in stuck.checkpoint["current"]
        done_before = list(stuck.checkpoint["done"])
        sid = stuck.checkpoint["snapshot_id"]
        # Types finished before the crash must not be read again: count the calls of the endpoints only they use.
        own = {op.template for key in done_before for op in CATALOGUE[key].ops
               if not any(op in t.ops for k, t in CATALOGUE.items() if k != key)}
        before = {template: len(own_site.calls.find(template=template)) for template in own}
        db.session.execute(Job.__table__.update().where(Job.id == job.id)
                           .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert run_job(job.id, worker="new") == "succeeded"
        final = db.session.get(Job, job.id, populate_existing=True)
        assert final.result["snapshot_id"] == sid and final.attempts == 2
        assert own and {template: len(own_site.calls.find(template=template)) for template in own} == before
        assert entry_count(sid, "projects") == len(seeding.export_site(own_site)["projects"])
        SnapshotReader(sid).verify()


def test_uninstalled_tenant_fails_with_a_message(live_app, own_site) -> None:
    with live_app.app_context():
        tenant = tenant_of(own_site.client_key)
        tenant.uninstalled_at = utcnow()
        db.session.commit()
        job, _ = runtime.enqueue(tenant.id, "backup", {}, singleton=f"backup:{tenant.id}")
        assert run_job(job.id) == "failed"
        assert "no longer installed" in db.session.get(Job, job.id).message


def max_in_flight(calls: list[Any]) -> int:
    """The most requests the site was serving at one moment (from each call's start and duration)."""
    events = sorted([(c.timestamp, 1) for c in calls] + [(c.timestamp + c.duration_ms / 1000, -1) for c in calls],
                    key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


@pytest.mark.parametrize("concurrency", [1, 3])
def test_reads_stay_within_concurrency(live_app, own_site, monkeypatch, concurrency) -> None:
    """Several types are read at once, yet at most ``concurrency`` requests are in flight, and all of them in use."""
    monkeypatch.setitem(live_app.config, "BACKUP_CONCURRENCY", concurrency)
    own_site.limits.configure(latency=0.02)
    with live_app.app_context():
        job = backup(tenant_of(own_site.client_key))
        assert job.state == "succeeded", job.message
        summaries = {s.type_key: s for s in SnapshotReader(job.result["snapshot_id"]).type_summaries()}
    calls = own_site.calls.find()
    assert max_in_flight(calls) == concurrency
    # every request is a configuration type's, or the issue pass's (a site without issues: its one id search)
    issue_pass = [c for c in calls if c.path.startswith("/rest/api/3/search")]
    assert len(issue_pass) == 1
    assert sum(s.api_calls for s in summaries.values()) + len(issue_pass) == len(calls) == job.result["api_calls"]


def test_a_backup_that_could_read_nothing_fails_instead_of_passing_as_partial(live_app, own_site) -> None:
    """Jira answering 503 to everything: the job fails with the reason, and no 'partial' snapshot claims success."""
    own_site.faults.add(503, rate=1.0)
    try:
        with live_app.app_context():
            job = backup(tenant_of(own_site.client_key))
            assert job.state == "failed" and "No part of the configuration could be read" in job.message
            snapshot = db.session.scalars(select(Snapshot).where(Snapshot.job_id == job.id)).one()
            assert snapshot.status == "failed" and snapshot.message == job.message
    finally:
        own_site.faults.clear()
