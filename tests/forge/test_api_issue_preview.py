"""Does the Forge restore's confirmation carry, per project, the issue data that comes back and the least points it
takes, in the figures the Connect page shows (tests/restore/test_restore_issue_preview.py)?"""

from __future__ import annotations

from tests.forge.api_fixtures import *  # noqa: F403
from tests.forge.api_fixtures import run_job_to_end, tenant_url
from tests.restore.test_restore_issue_job import _seed
from tests.restore.test_restore_issue_preview import _check, _expected


def test_the_forge_confirmation_carries_issue_data_per_project(forge_app, forge_site_factory) -> None:
    src = forge_site_factory("source", seed=_seed())
    dst = forge_site_factory("dest")
    job = src.api.ok("POST", "/backups", {}, expect=202)
    run_job_to_end(forge_app, job["jobId"])
    connect_token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    dst.api.ok("POST", "/connections/destination/activate",
               {"token": connect_token, "sourceUrl": tenant_url(forge_app, src.tenant_id)})
    snapshot_id = dst.api.ok("GET", "/restore")["snapshots"][0]["id"]
    run = dst.api.ok("POST", "/restore/previews", {"snapshotId": snapshot_id}, expect=202)["run"]
    run_job_to_end(forge_app, dst.api.ok("GET", f"/restore/runs/{run['id']}")["job"]["id"])
    answer = dst.api.ok("POST", f"/restore/runs/{run['id']}/selection", {"scope": "all", "userFallback": "drop"})
    issues = answer["confirmation"]["issues"]
    rows = {p["project"]: p for p in issues["projects"]}
    _check(rows, _expected(forge_app, snapshot_id))
    assert issues["pointsWords"].startswith("At least ") and issues["points"] > 0
    assert all(p["attachmentSize"] for p in issues["projects"])
