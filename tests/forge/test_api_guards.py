"""Who may call the Forge JSON API, and what it answers to everything outside the contract: non-admins, calls with
no user, bad invocation tokens, another installation's ids, oversized bodies, wrong methods and unknown paths."""

from __future__ import annotations

import json

import pytest
import requests

from app.extensions import db
from app.recovery.connections import RecoveryConnection
from tests.forge.api_fixtures import *  # noqa: F403
from tests.forge.api_fixtures import PREFIX, STRANGER, run_job_to_end, tenant_url

READS = ["/context", "/connections", "/notices", "/backups", "/backups/progress", "/backups/1",
         "/backups/1/types/statuses", "/restore", "/restore/runs/1", "/restore/runs/1/items",
         "/restore/runs/1/progress", "/restore/runs/1/report", "/restore/runs/1/report.csv",
         "/restore/runs/1/verification"]
WRITES = ["/connections/source/generate", "/connections/destination/activate", "/backups", "/restore/previews",
          "/restore/runs/1/selection", "/restore/runs/1/start", "/restore/runs/1/cancel"]
CALLS = [("GET", p) for p in READS] + [("POST", p) for p in WRITES]


def test_a_non_admin_principal_is_refused_everywhere(forge_app, forge_site_factory) -> None:
    s = forge_site_factory("guarded")
    for method, path in CALLS:  # one site for all calls: the check is per call, never cached as "allowed"
        status, body = s.api.call(method, path, {} if method == "POST" else None, principal=STRANGER)
        assert (status, body["error"]["code"]) == (403, "forbidden"), (method, path, body)
    with forge_app.app_context():
        assert db.session.scalars(db.select(RecoveryConnection)).all() == []


@pytest.mark.parametrize(("method", "path"), [("GET", "/connections"), ("POST", "/connections/source/generate"),
                                              ("POST", "/backups")])
def test_a_call_without_a_principal_is_refused(forge_app, forge_site_factory, method, path) -> None:
    s = forge_site_factory("noprincipal")
    status, body = s.api.call(method, path, {} if method == "POST" else None, principal=None)
    assert (status, body["error"]["code"]) == (403, "forbidden")


@pytest.mark.parametrize("kind", ["wrong-aud", "wrong-iss", "expired", "unknown-kid", "other-key", "alg-none"])
def test_a_bad_invocation_token_is_401_and_changes_nothing(forge_app, fake_cloud, forge_site_factory, invoker,
                                                            kind) -> None:
    s = forge_site_factory("badfit")
    fit = fake_cloud.forge.bad_fit(s.inst, kind, principal=s.admin)
    status, body = invoker.invoke_remote(s.inst, PREFIX + "/connections/source/generate", method="POST", body={},
                                         principal=s.admin, fit=fit)
    assert (status, body["error"]["code"]) == (401, "invalid-invocation-token")
    with forge_app.app_context():
        assert db.session.scalars(db.select(RecoveryConnection)).all() == []


def test_no_authorization_at_all_is_401(forge_app) -> None:
    resp = requests.get(forge_app.config["BASE_URL"] + PREFIX + "/connections", timeout=10)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "invalid-invocation-token"


def test_installation_a_cannot_see_or_move_installation_bs_objects(forge_app, forge_site_factory) -> None:
    """Ids of another tenant's connections, snapshots and runs answer exactly like missing ones."""
    a, b = forge_site_factory("tenant-a"), forge_site_factory("tenant-b")
    c = forge_site_factory("tenant-c")
    b_conn = b.api.ok("POST", "/connections/source/generate", {})
    token, b_conn_id = b_conn["token"], b_conn["connections"]["source"]["connection"]["id"]
    job = b.api.ok("POST", "/backups", {}, expect=202)
    run_job_to_end(forge_app, job["jobId"])
    snapshot_id = b.api.ok("GET", "/backups")["snapshots"][0]["id"]
    c.api.ok("POST", "/connections/destination/activate", {"token": token,
                                                           "sourceUrl": tenant_url(forge_app, b.tenant_id)})
    run_id = c.api.ok("POST", "/restore/previews", {"snapshotId": snapshot_id}, expect=202)["run"]["id"]

    assert a.api.ok("GET", "/connections")["source"]["state"] == "not_connected"
    assert a.api.ok("GET", "/backups")["snapshots"] == []
    assert a.api.ok("GET", "/restore") == {"source": None, "snapshots": [], "runs": []}
    adapter, exercised = forge_app.url_map.bind("localhost"), set()
    for method, path, body in [
        ("POST", "/connections/source/refresh", {"connection": b_conn_id}),
        ("POST", "/connections/source/deactivate", {"connection": b_conn_id, "confirmed": True}),
        ("POST", "/connections/destination/deactivate", {"connection": b_conn_id, "confirmed": True}),
        ("GET", f"/backups/{snapshot_id}", None),
        ("GET", f"/backups/{snapshot_id}/types/statuses", None),
        ("GET", f"/restore/runs/{run_id}", None),
        ("GET", f"/restore/runs/{run_id}/items", None),
        ("GET", f"/restore/runs/{run_id}/progress", None),
        ("GET", f"/restore/runs/{run_id}/report", None),
        ("GET", f"/restore/runs/{run_id}/report.csv", None),
        ("GET", f"/restore/runs/{run_id}/verification", None),
        ("POST", f"/restore/runs/{run_id}/selection", {"scope": "all"}),
        ("POST", f"/restore/runs/{run_id}/start", {"scope": "all", "userFallback": "drop", "confirmed": True}),
        ("POST", f"/restore/runs/{run_id}/cancel", {}),
    ]:
        status, answer = a.api.call(method, path, body)
        assert (status, answer["error"]["code"]) == (404, "not-found"), (method, path, answer)
        exercised.add(adapter.match(PREFIX + path, method=method, return_rule=True)[0].rule)
    # The issue panel's route takes a Jira issue id of the caller's own site: nothing restored there, same 404.
    status, answer = a.api.call("GET", "/issues/10000/before")
    assert (status, answer["error"]["code"]) == (404, "not-restored"), answer
    exercised.add(adapter.match(PREFIX + "/issues/10000/before", method="GET", return_rule=True)[0].rule)
    # Every API route taking an object's id in its path is in the table above (a new one must be added there); the
    # connection actions, whose id travels in the body, are in it too.
    assert exercised >= {r.rule for r in forge_app.url_map.iter_rules()
                         if r.rule.startswith(PREFIX) and any(a.endswith("_id") for a in r.arguments)}
    # Not Active anywhere, A can't preview B's snapshot either (403: no connection), nor C's run through B.
    status, answer = a.api.post("/restore/previews", {"snapshotId": snapshot_id})
    assert (status, answer["error"]["code"]) == (403, "no-active-connection")
    assert b.api.call("GET", f"/restore/runs/{run_id}")[0] == 404
    assert b.api.ok("GET", "/connections")["source"]["state"] == "active"  # untouched by A's attempts


def test_a_body_over_500_kb_is_413_json(forge_app, fake_cloud, forge_site_factory) -> None:
    s = forge_site_factory("big")
    fit = fake_cloud.forge.mint_fit(s.inst, principal=s.admin)
    headers = {"Authorization": f"Bearer {fit}", "x-forge-oauth-system": fake_cloud.forge.system_token(s.inst),
               "Content-Type": "application/json"}
    big = json.dumps({"token": "x" * (600 * 1024), "sourceUrl": "https://x.atlassian.net"})
    resp = requests.post(forge_app.config["BASE_URL"] + PREFIX + "/connections/destination/activate", data=big,
                         headers=headers, timeout=10)
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "payload-too-large"
    # A body without Content-Length is bounded by the same limit (``request.max_content_length``); the loopback
    # test server doesn't de-chunk bodies, so that path is left to gunicorn, which does.


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/connections"), ("GET", "/connections/source/generate"),
                                              ("PUT", "/backups"), ("PATCH", "/restore/runs/1/start")])
def test_a_wrong_method_is_405_json(forge_site_factory, method, path) -> None:
    status, body = forge_site_factory("methods").api.call(method, path, None)
    assert (status, body["error"]["code"]) == (405, "method-not-allowed")


@pytest.mark.parametrize("path", ["/nothing-here", "/backups/abc", "/restore/runs/1/explode", "/../v2/context"])
def test_an_unknown_path_is_404_json(forge_site_factory, path) -> None:
    status, body = forge_site_factory("paths").api.get(path)
    assert (status, body["error"]["code"]) == (404, "not-found")


@pytest.mark.parametrize("body", [[1, 2], "text", 42])
def test_a_body_that_is_not_an_object_is_400(forge_site_factory, body) -> None:
    status, answer = forge_site_factory("shape").api.post("/connections/destination/activate", body)
    assert (status, answer["error"]["code"]) == (400, "bad-request")


def test_answers_are_never_cached(forge_site_factory, fake_cloud, forge_app) -> None:
    s = forge_site_factory("cache")
    fit = fake_cloud.forge.mint_fit(s.inst, principal=s.admin)
    resp = requests.post(forge_app.config["BASE_URL"] + PREFIX + "/connections/source/generate", json={},
                         headers={"Authorization": f"Bearer {fit}",
                                  "x-forge-oauth-system": fake_cloud.forge.system_token(s.inst)}, timeout=10)
    assert resp.status_code == 200 and resp.json()["token"].startswith("JDR1-")
    assert resp.headers["Cache-Control"] == "no-store"
