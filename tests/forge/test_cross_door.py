"""Does disaster recovery work whichever door each site came through — Forge to Forge, Connect to Forge and Forge to
Connect — with the source lost before the restore and the restored configuration verified?"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.recovery.connections import activate, generate_token
from app.restore import service
from app.restore.models import RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant
from fakejira import installer
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site, load_seed
from tests.forge.api_fixtures import *  # noqa: F403
from tests.forge.api_fixtures import ForgeSite, run_job_to_end, tenant_url
from tests.restore.conftest import oauth_grant, take_backup  # noqa: F401  (oauth_grant is a fixture)

# A small seed of site-wide configuration every door can restore in full (fidelity 100 %). Statuses are added to the
# site's defaults, which its default workflow refers to.
SMALL_SEED: dict[str, Any] = {
    "projectCategories": [{"id": "10000", "name": "Internal", "description": "Our own tools"},
                          {"id": "10001", "name": "<img src=x onerror=alert(1)> Clients", "description": ""}],
    "issueLinkTypes": [{"id": "10004", "name": "Causes", "inward": "is caused by", "outward": "causes"}],
    "resolutions": [{"id": "10005", "name": "Obsolete", "description": "No longer relevant", "default": False}],
}
IN_REVIEW = {"id": "10007", "name": "In Review", "statusCategory": "IN_PROGRESS", "scope": {"type": "GLOBAL"},
             "description": "Waiting for a reviewer"}


def small_seed(site: Any) -> dict[str, Any]:
    return {**SMALL_SEED, "statuses": [*export_site(site)["statuses"], IN_REVIEW]}


COMPARED = {"projectCategories": ("description",), "issueLinkTypes": ("inward", "outward"),
            "resolutions": ("description",), "statuses": ("statusCategory", "description")}


def _by_name(export: dict[str, Any], type_key: str, fields: tuple[str, ...]) -> dict[str, tuple]:
    return {o["name"].casefold(): tuple(o.get(f) for f in fields) for o in export[type_key]}


def assert_restored(source_site: Any, dest_site: Any) -> None:
    """Every seeded object of the source is on the destination with the same fields."""
    src, dst = export_site(source_site), export_site(dest_site)
    for type_key, fields in COMPARED.items():
        assert _by_name(src, type_key, fields).items() <= _by_name(dst, type_key, fields).items(), type_key


def lose_forge_source(invoker: Any, fake_cloud: Any, src: ForgeSite) -> int:
    """The source site goes away: the app is uninstalled there, its tokens die; returns its call count by then."""
    assert invoker.pre_uninstall(src.inst)[-1].ok
    fake_cloud.forge.uninstall(src.inst)
    return len(src.site.calls)


def restore_through_api(app: Any, dst: ForgeSite, source_url: str, token: str) -> dict[str, Any]:
    """Activate, preview the newest snapshot, restore everything; returns the finished run's report (page 1)."""
    body = dst.api.ok("POST", "/connections/destination/activate", {"token": token, "sourceUrl": source_url})
    assert body["connections"]["activeSource"]["url"] == source_url
    overview = dst.api.ok("GET", "/restore")
    snapshot_id = overview["snapshots"][0]["id"]
    run = dst.api.ok("POST", "/restore/previews", {"snapshotId": snapshot_id}, expect=202)["run"]
    run_job_to_end(app, _job_of(app, run["id"]))
    assert dst.api.ok("GET", f"/restore/runs/{run['id']}")["run"]["status"] == "planned"
    dst.api.ok("POST", f"/restore/runs/{run['id']}/start", {"scope": "all", "userFallback": "drop", "confirmed": True},
               expect=202)
    run_job_to_end(app, _job_of(app, run["id"]))
    return dst.api.ok("GET", f"/restore/runs/{run['id']}/report")


def _job_of(app: Any, run_id: int) -> str:
    with app.app_context():
        return db.session.get(RestoreRun, run_id).job_id


def _assert_faithful(report: dict[str, Any]) -> None:
    assert report["status"] == "done", report
    # The new site lacks the source's admin: the only differences are that person's group memberships, each named
    verification = report["verification"]
    assert verification["unexplained"] == 0, [d["words"] for d in verification["differences"] if not d["reason"]]
    assert {d["type"] for d in verification["differences"]} <= {"groups"}, verification["differences"]
    names = {o["name"]: o["outcome"] for o in report["objects"]}
    assert names["<img src=x onerror=alert(1)> Clients"] == "created"  # hostile names travel as data
    assert names["In Review"] == "created"


def test_forge_source_to_forge_destination(forge_app, fake_cloud, invoker, forge_site_factory) -> None:
    src = forge_site_factory("forge-old", seed=small_seed)
    dst = forge_site_factory("forge-new")
    job = src.api.ok("POST", "/backups", {}, expect=202)
    run_job_to_end(forge_app, job["jobId"])
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    source_url = tenant_url(forge_app, src.tenant_id)
    calls_before = lose_forge_source(invoker, fake_cloud, src)

    report = restore_through_api(forge_app, dst, source_url, token)
    _assert_faithful(report)
    assert_restored(src.site, dst.site)
    assert len(src.site.calls) == calls_before  # the lost source was never asked for anything


def test_connect_source_to_forge_destination(forge_app, fake_cloud, install_into, forge_site_factory) -> None:
    site = fake_cloud.add_site("connect-old")
    load_seed(site, small_seed(site))
    site.client_key = install_into(site)
    with forge_app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == site.client_key)).one()
        src_id, source_url = src.id, src.base_url
        assert src.door == "connect"
    take_backup(forge_app, src_id, fake_cloud)
    with forge_app.app_context():
        token = generate_token(db.session.get(Tenant, src_id), admin_account_id(site)).token
    installer.uninstall_app(site, forge_app.config["APP_KEY"])  # the source is lost
    calls_before = len(site.calls)

    dst = forge_site_factory("forge-new")
    report = restore_through_api(forge_app, dst, source_url, token)
    _assert_faithful(report)
    assert_restored(site, dst.site)
    assert len(site.calls) == calls_before


def test_forge_source_to_connect_destination(forge_app, fake_cloud, invoker, install_into, forge_site_factory,
                                             oauth_grant) -> None:  # noqa: F811
    src = forge_site_factory("forge-old", seed=small_seed)
    job = src.api.ok("POST", "/backups", {}, expect=202)
    run_job_to_end(forge_app, job["jobId"])
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    source_url = tenant_url(forge_app, src.tenant_id)
    calls_before = lose_forge_source(invoker, fake_cloud, src)

    dest_site = fake_cloud.add_site("connect-new")
    dest_site.client_key = install_into(dest_site)
    admin = admin_account_id(dest_site)
    with forge_app.app_context():
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest_site.client_key)).one()
        dst_id = dst.id
        activate(dst, admin, token, source_url)
        snapshot_id = service.restorable_snapshots(dst)[0].id
        run = service.start_preview(dst, snapshot_id, admin)
        run_id, job_id = run.id, run.job_id
    oauth_grant(dest_site, dst_id)  # Connect's JWT can't write statuses: the admin's OAuth grant can
    run_job_to_end(forge_app, job_id)
    with forge_app.app_context():
        run = service.start_restore(db.session.get(Tenant, dst_id), run_id, Selection(), "drop", admin)
        job_id = run.job_id
    run_job_to_end(forge_app, job_id)
    with forge_app.app_context():
        report = service.report_json(db.session.get(RestoreRun, run_id))
    _assert_faithful(report)
    assert_restored(src.site, dest_site)
    assert len(src.site.calls) == calls_before
