"""Can a Forge-installed site back up, browse its snapshots, and can a connected destination preview, select,
start, cancel, follow and download a restore through the JSON API — with hostile names coming back as plain data?"""

from __future__ import annotations

import csv
import io

import pytest

from tests.forge.api_fixtures import *  # noqa: F403
from tests.forge.api_fixtures import run_job_to_end, tenant_url
from tests.restore.conftest import seed_with_types

HOSTILE = '=HYPERLINK("x") <b>Clients</b>'  # a project category name in the seed


@pytest.fixture
def backed_up(forge_app, forge_site_factory):
    """A seeded Forge source with one finished backup, and a Forge destination connected to it (Active)."""
    src = forge_site_factory("source", seed=seed_with_types)
    dst = forge_site_factory("dest")
    job = src.api.ok("POST", "/backups", {}, expect=202)
    assert job["created"] is True and job["state"] == "queued"
    again = src.api.ok("POST", "/backups", {}, expect=200)
    assert again["created"] is False and again["jobId"] == job["jobId"]  # one backup at a time per site
    run_job_to_end(forge_app, job["jobId"])
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    dst.api.ok("POST", "/connections/destination/activate",
               {"token": token, "sourceUrl": tenant_url(forge_app, src.tenant_id)})
    return src, dst


def test_backups_list_progress_detail_and_paged_contents(backed_up) -> None:
    src, _ = backed_up
    listing = src.api.ok("GET", "/backups")
    assert listing["total"] == 1 and listing["next"] is None
    snap = listing["snapshots"][0]
    assert snap["status"] == "complete" and snap["objectCount"] > 0 and snap["bytesStored"] > 0
    assert snap["durationSeconds"] is not None and snap["takenAt"].endswith("Z")
    counts = {t["key"]: t["count"] for t in snap["types"]}
    assert counts["projectCategories"] == 2 and counts["statuses"] >= 3
    progress = src.api.ok("GET", "/backups/progress")
    assert progress["state"] == "succeeded" and progress["finished"] is True and progress["snapshotId"] == snap["id"]
    assert src.api.ok("GET", f"/backups/{snap['id']}")["snapshot"] == snap
    first = src.api.ok("GET", f"/backups/{snap['id']}/types/statuses", limit=2)
    assert first["type"] == "statuses" and first["label"] and len(first["entries"]) == 2 and first["next"] == 2
    rest = src.api.ok("GET", f"/backups/{snap['id']}/types/statuses", offset=2, limit=1000)
    keys = [e["naturalKey"] for e in first["entries"] + rest["entries"]]
    assert len(keys) == counts["statuses"] == first["total"] and len(set(keys)) == len(keys)
    cats = src.api.ok("GET", f"/backups/{snap['id']}/types/projectCategories")["entries"]
    assert any(HOSTILE.casefold() in e["naturalKey"].casefold() for e in cats)  # data, as stored
    status, body = src.api.get(f"/backups/{snap['id']}/types/noSuchType")
    assert (status, body["error"]["code"]) == (404, "not-found")
    status, body = src.api.get("/backups", offset=-1)
    assert (status, body["error"]["code"]) == (400, "bad-request")


def test_preview_select_start_cancel_restart_follow_and_report(forge_app, backed_up) -> None:
    src, dst = backed_up
    overview = dst.api.ok("GET", "/restore")
    assert overview["source"]["url"] == tenant_url(forge_app, src.tenant_id) and overview["runs"] == []
    snapshot_id = overview["snapshots"][0]["id"]
    status, body = dst.api.post("/restore/previews", {})
    assert (status, body["error"]["message"]) == (400, "Choose a snapshot to restore.")
    run = dst.api.ok("POST", "/restore/previews", {"snapshotId": snapshot_id}, expect=202)["run"]
    assert run["status"] == "planning"
    status, body = dst.api.post("/restore/previews", {"snapshotId": snapshot_id})
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert dst.api.ok("GET", f"/restore/runs/{run['id']}/progress")["status"] == "planning"
    with forge_app.app_context():
        from app.extensions import db
        from app.restore.models import RestoreRun

        job_id = db.session.get(RestoreRun, run["id"]).job_id
    run_job_to_end(forge_app, job_id)

    detail = dst.api.ok("GET", f"/restore/runs/{run['id']}")
    assert detail["run"]["status"] == "planned"
    plan = {t["type"]: t["counts"] for t in detail["planCounts"]}
    assert plan["projectCategories"].get("create") == 2 and detail["itemCount"] > 0
    items = dst.api.ok("GET", f"/restore/runs/{run['id']}/items", type="projectCategories")
    assert HOSTILE in [i["name"] for i in items["items"]]  # returned verbatim, as data
    page = dst.api.ok("GET", f"/restore/runs/{run['id']}/items", limit=3)
    assert len(page["items"]) == 3 and page["total"] == detail["itemCount"] and page["next"] == 3
    pulled = dst.api.ok("POST", f"/restore/runs/{run['id']}/selection", {"scope": "some", "types": ["projectRoles"]})
    assert pulled["selection"] == {"types": ["projectRoles"], "projects": []}
    assert {p["type"] for p in pulled["pulledIn"]} <= {"groups"}
    status, body = dst.api.post(f"/restore/runs/{run['id']}/start", {"scope": "all", "userFallback": "maybe"})
    assert (status, body["error"]["message"]) == (400, "Choose what to do with users missing on this site.")
    status, body = dst.api.post(f"/restore/runs/{run['id']}/start", {"scope": "some", "types": ["nope"],
                                                                    "userFallback": "drop"})
    assert (status, body["error"]["message"]) == (400, "Unknown object type: nope.")

    # Nothing starts before the confirmation step (its size stated) was answered: "confirmed": true, nothing else.
    for unconfirmed in ({}, {"confirmed": "yes"}, {"confirmed": 1}, {"confirmed": False}):
        status, body = dst.api.post(f"/restore/runs/{run['id']}/start",
                                    {"scope": "all", "userFallback": "drop", **unconfirmed})
        assert (status, body["error"]["code"]) == (400, "bad-request"), body
        assert body["error"]["message"].startswith("Confirm the restore first")
        assert 'expected "confirmed": true' in body["error"]["message"]
        assert dst.api.ok("GET", f"/restore/runs/{run['id']}")["run"]["status"] == "planned"
    started = dst.api.ok("POST", f"/restore/runs/{run['id']}/start",
                         {"scope": "all", "userFallback": "drop", "confirmed": True}, expect=202)
    assert started["run"]["status"] == "restoring"
    status, body = dst.api.post(f"/restore/runs/{run['id']}/start",
                                {"scope": "all", "userFallback": "drop", "confirmed": True})
    assert (status, body["error"]["message"]) == (409, "This restore is already running.")
    cancelled = dst.api.ok("POST", f"/restore/runs/{run['id']}/cancel", {}, expect=202)["run"]
    assert cancelled["status"] == "cancelled"
    status, body = dst.api.post(f"/restore/runs/{run['id']}/cancel", {})
    assert (status, body["error"]["message"]) == (409, "This restore isn't running.")

    dst.api.ok("POST", f"/restore/runs/{run['id']}/start", {"scope": "all", "userFallback": "drop", "confirmed": True},
               expect=202)
    progress = dst.api.ok("GET", f"/restore/runs/{run['id']}/progress")
    assert progress["status"] == "restoring" and {t["type"] for t in progress["types"]} >= {"statuses"}
    with forge_app.app_context():
        job_id = db.session.get(RestoreRun, run["id"]).job_id
    run_job_to_end(forge_app, job_id)

    done = dst.api.ok("GET", f"/restore/runs/{run['id']}")
    assert done["run"]["status"] == "done" and done["run"]["fidelity"] is not None
    outcomes = {t["type"]: t["counts"] for t in done["outcomeCounts"]}
    assert outcomes["projectCategories"].get("created") == 2
    verification = dst.api.ok("GET", f"/restore/runs/{run['id']}/verification")
    assert verification["status"] == "done" and verification["fidelity"] == done["run"]["fidelity"]
    assert verification["verification"]["restorable"] >= 1
    report = dst.api.ok("GET", f"/restore/runs/{run['id']}/report", limit=5)
    assert report["run"] == run["id"] and len(report["objects"]) == 5 and report["next"] == 5
    assert report["summary"]["outcomes"]["created"] >= 5
    whole = dst.api.ok("GET", f"/restore/runs/{run['id']}/report", limit=2000)["objects"]
    first = dst.api.ok("GET", f"/restore/runs/{run['id']}/report.csv", limit=4)
    rest = dst.api.ok("GET", f"/restore/runs/{run['id']}/report.csv", offset=4)
    assert first["filename"] == f"restore-{run['id']}-report.csv" and first["contentType"] == "text/csv"
    rows = list(csv.reader(io.StringIO(first["csv"] + rest["csv"])))
    assert rows[0][:3] == ["type", "name", "naturalKey"] and len(rows) == 1 + len(whole) == 1 + first["total"]
    assert "'" + HOSTILE in [r[1] for r in rows]  # a formula-looking cell is neutralised in the CSV
    runs = dst.api.ok("GET", "/restore")["runs"]
    assert [r["id"] for r in runs] == [run["id"]] and runs[0]["status"] == "done"


def test_the_source_itself_has_nothing_to_restore(backed_up) -> None:
    src, _ = backed_up
    assert src.api.ok("GET", "/restore") == {"source": None, "snapshots": [], "runs": []}
    snapshot_id = src.api.ok("GET", "/backups")["snapshots"][0]["id"]
    status, body = src.api.post("/restore/previews", {"snapshotId": snapshot_id})
    assert (status, body["error"]) == (403, {"code": "no-active-connection",
                                             "message": "This site has no Active disaster-recovery connection."})
