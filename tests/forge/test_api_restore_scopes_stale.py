"""Does a Forge preview go out of date when the app's granted scopes change after it was made (a redeploy with another
manifest, an upgrade approved), so that it can't be started (409, "Preview again") until it is previewed again?"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.forge.scopes import forge_scopes
from app.jobs.models import Job
from app.restore.models import RestoreRun
from tests.forge.api_fixtures import *  # noqa: F403
from tests.forge.api_fixtures import run_job_to_end, tenant_url
from tests.restore.conftest import seed_with_types

START = {"scope": "all", "userFallback": "admin", "confirmed": True}
NARROW = "manage:jira-configuration"  # the scope an unapproved upgrade's manifest lacks in these tests


@pytest.fixture
def connected(forge_app, forge_site_factory):
    """A seeded Forge source with one finished backup, and a Forge destination connected to it (Active)."""
    src = forge_site_factory("source", seed=seed_with_types)
    dst = forge_site_factory("dest")
    run_job_to_end(forge_app, src.api.ok("POST", "/backups", {}, expect=202)["jobId"])
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    dst.api.ok("POST", "/connections/destination/activate",
               {"token": token, "sourceUrl": tenant_url(forge_app, src.tenant_id)})
    return dst


def _granting(monkeypatch: pytest.MonkeyPatch, scopes: frozenset[str]) -> None:
    """The deployed app's manifest grants ``scopes`` (what ``forge_allows`` checks every call against)."""
    monkeypatch.setattr("app.forge.scopes._granted", lambda: scopes)


def _planned(forge_app, dst) -> int:
    """Preview the newest snapshot and plan it to the end: the planned run's id."""
    snapshot_id = dst.api.ok("GET", "/restore")["snapshots"][0]["id"]
    run = dst.api.ok("POST", "/restore/previews", {"snapshotId": snapshot_id}, expect=202)["run"]
    with forge_app.app_context():
        job_id = db.session.get(RestoreRun, run["id"]).job_id
    run_job_to_end(forge_app, job_id)
    assert dst.api.ok("GET", f"/restore/runs/{run['id']}")["run"]["status"] == "planned"
    return int(run["id"])


def _jobs_of(forge_app, tenant_id: int) -> int:
    with forge_app.app_context():
        return db.session.query(Job).filter(Job.tenant_id == tenant_id).count()


@pytest.mark.parametrize("change", ["gained", "lost"])
def test_a_preview_made_with_other_scopes_is_out_of_date_and_cant_start(forge_app, connected, monkeypatch,
                                                                         change) -> None:
    """Planned with the configuration scope missing (then approved), or with it (then lost): the run's words say
    it's out of date and which scope changed, the start is refused with 409 and changes nothing."""
    dst = connected
    with forge_app.app_context():
        everything = frozenset(forge_scopes())
    before, after = ((everything - {NARROW}, everything) if change == "gained" else (everything, everything - {NARROW}))
    _granting(monkeypatch, before)
    run_id = _planned(forge_app, dst)
    assert dst.api.ok("GET", f"/restore/runs/{run_id}")["words"]["stale"] is None  # unchanged scopes: still fresh

    _granting(monkeypatch, after)
    detail = dst.api.ok("GET", f"/restore/runs/{run_id}")
    stale = detail["words"]["stale"]
    assert stale is not None and "out of date" in stale and f"{change} {NARROW}" in stale, stale
    assert stale.endswith("Preview again.")
    assert detail["words"]["lozenge"]["state"] == "stale" and detail["confirmation"] is None
    jobs = _jobs_of(forge_app, dst.tenant_id)
    status, body = dst.api.post(f"/restore/runs/{run_id}/start", START)
    assert (status, body["error"]["code"]) == (409, "conflict"), body
    assert body["error"]["message"] == stale
    assert dst.api.ok("GET", f"/restore/runs/{run_id}")["run"]["status"] == "planned"
    assert _jobs_of(forge_app, dst.tenant_id) == jobs  # nothing was queued

    again = _planned(forge_app, dst)  # previewed with the scopes as they are now: judged by what they allow
    assert dst.api.ok("GET", f"/restore/runs/{again}")["words"]["stale"] is None
    if change == "gained":
        assert dst.api.ok("POST", f"/restore/runs/{again}/start", START, expect=202)["run"]["status"] == "restoring"
    else:  # the fresh preview is blocked by the missing scope itself, with its fix (not by being out of date)
        status, body = dst.api.post(f"/restore/runs/{again}/start", START)
        assert status == 409 and "can't be restored with the app's current scopes" in body["error"]["message"]
