"""Does the Forge JSON API carry Jira's points as the jobs recorded them: each backup's spend in the list and the
detail, a restore's least before it (with the hours at the site's quota) and its spend per phase after it?"""

from __future__ import annotations

from app.extensions import db
from app.jobs.models import Job
from app.quota.budget import EXTENSION
from tests.forge.api_fixtures import *  # noqa: F403
from tests.forge.api_fixtures import run_job_to_end
from tests.forge.test_api_backups_restore import backed_up  # noqa: F401  (fixture)


def _points(app, job_id: str) -> dict:
    with app.app_context():
        return db.session.get(Job, job_id).points


def _backup_job(app, snapshot_id: int) -> str:
    from app.backups.models import Snapshot

    with app.app_context():
        return db.session.get(Snapshot, snapshot_id).job_id


def test_backups_carry_their_spend(forge_app, backed_up) -> None:  # noqa: F811
    src, _ = backed_up
    snap = src.api.ok("GET", "/backups")["snapshots"][0]
    spent = _points(forge_app, _backup_job(forge_app, snap["id"]))
    assert spent["points"] > 0
    assert snap["points"]["points"] == spent["points"] and snap["points"]["byPhase"] == spent["byPhase"]
    assert snap["points"]["text"] == f"{spent['points']:,} points of Jira's hourly quota"
    assert src.api.ok("GET", f"/backups/{snap['id']}")["snapshot"]["points"] == snap["points"]


def test_a_restore_carries_its_estimate_and_its_spend(forge_app, backed_up) -> None:  # noqa: F811
    _, dst = backed_up
    forge_app.config["QUOTA_TENANT_POINTS"] = 100_100
    forge_app.extensions.pop(EXTENSION, None)  # built on first use (the backup): again with this quota
    snapshot_id = dst.api.ok("GET", "/restore")["snapshots"][0]["id"]
    run = dst.api.ok("POST", "/restore/previews", {"snapshotId": snapshot_id}, expect=202)["run"]
    detail = dst.api.ok("GET", f"/restore/runs/{run['id']}")
    run_job_to_end(forge_app, detail["job"]["id"])
    preview = _points(forge_app, detail["job"]["id"])
    answer = dst.api.ok("POST", f"/restore/runs/{run['id']}/selection", {"scope": "all", "userFallback": "drop"})
    estimate = answer["confirmation"]["points"]
    assert estimate["readDestination"] == preview["points"] > 0
    assert estimate["siteQuota"] == 100_100 and 0 < estimate["hours"] < 1
    assert estimate["text"].startswith(f"At least ~{estimate['points']:,} points of Jira's hourly quota of 100,100: ")
    dst.api.ok("POST", f"/restore/runs/{run['id']}/start", {"scope": "all", "userFallback": "drop",
                                                            "confirmed": True}, expect=202)
    job_id = dst.api.ok("GET", f"/restore/runs/{run['id']}")["job"]["id"]
    run_job_to_end(forge_app, job_id)
    spent = _points(forge_app, job_id)
    words = dst.api.ok("GET", f"/restore/runs/{run['id']}")["words"]["points"]
    assert words["points"] == spent["points"] > 0
    assert {p["phase"]: p["points"] for p in words["phases"]} == {
        phase: int(spent["byPhase"].get(phase, 0)) for phase in ("plan", "write", "verify")}
    row = next(r for r in dst.api.ok("GET", "/restore")["runs"] if r["id"] == run["id"])
    assert row["words"]["points"]["points"] == spent["points"]
