"""Hand-written attacks, each with its expected refusal: hostile text in every form field, oversized bodies, path
traversal in ``kid``, replayed and cross-tenant tokens, and another tenant's ids posted to every endpoint taking one.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
import pytest
from sqlalchemy import select

from app import tenants
from app.backups.models import Snapshot
from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import enqueue
from app.recovery import connections as rc
from app.restore.models import RestoreRun
from app.tenants import Tenant
from fakejira.generator import HOSTILE_DESCRIPTIONS, HOSTILE_NAMES
from tests.support.connect_jira import install_body, signed_install_token
from tests.support.jira_stub import jira_stub

from .conftest import ADMIN, PERM, Installed
from .doors import *  # noqa: F403  (the doors fixture and the Forge fixtures it needs)

pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key")

HOSTILE = (*HOSTILE_NAMES, *HOSTILE_DESCRIPTIONS, "' OR 1=1 --", "1; DELETE FROM tenants", "\"><svg onload=alert(1)>",
           "javascript:alert(1)", "{{7*7}}", "%00", "9" * 40, "-1", "0x10")

FORM_ACTIONS = [  # (path, the form fields that action reads)
    ("/admin/recovery/source/generate", ("connection",)),
    ("/admin/recovery/source/refresh", ("connection",)),
    ("/admin/recovery/source/reset", ("connection",)),
    ("/admin/recovery/source/release", ("connection", "confirmed", "reusable")),
    ("/admin/recovery/source/deactivate", ("connection", "confirmed")),
    ("/admin/recovery/destination/activate", ("token", "base_url", "connection")),
    ("/admin/recovery/destination/release", ("connection", "confirmed", "reusable")),
    ("/admin/recovery/destination/deactivate", ("connection", "confirmed")),
    ("/admin/restore/preview", ("snapshot_id",)),
    ("/admin/backups/start", ()),
]


def context_token(t: Installed, sub: str = ADMIN, **claims) -> str:
    now = int(time.time())
    body = {"iss": t.client_key, "sub": sub, "iat": now, "exp": now + 600, "qsh": "context-qsh", **claims}
    return jwt.encode(body, t.shared_secret, algorithm="HS256")


def assert_stays_text(html: str) -> None:
    lowered = html.lower()
    assert "<script>alert" not in lowered and "<svg onload" not in lowered and "<img src=x" not in lowered
    assert "<b>bold</b>" not in lowered


# -- hostile text in every form field ---------------------------------------------------------------------------

@pytest.mark.parametrize("path,fields", FORM_ACTIONS, ids=[p for p, _ in FORM_ACTIONS])
def test_is_hostile_text_in_a_form_field_refused_or_kept_as_text(app, client, installed, path, fields) -> None:
    before = _tenant_rows(app)
    for hostile in HOSTILE:
        form = {"jwt": context_token(installed), **{f: hostile for f in fields}}
        resp = client.post(path, data=form, headers={"Accept": "text/html"})
        # 403: the restore preview refuses a site without an Active connection, before reading the id.
        assert resp.status_code in (200, 303, 400, 403, 404), (hostile, resp.data[:300])
        assert_stays_text(resp.get_data(as_text=True))
        if resp.status_code == 303:  # the message after a redirect comes from fixed codes, never from the input
            assert hostile not in _without_token(resp.headers["Location"])
    assert _tenant_rows(app) == before


def _without_token(location: str) -> str:
    """The redirect without its context token: a random token may hold a short hostile value ("-1") by chance."""
    parts = urlsplit(location)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "jwt"])
    return urlunsplit(parts._replace(query=query))


def _tenant_rows(app) -> list[tuple]:
    with app.app_context():
        return [(t.client_key, t.shared_secret_enc, t.enabled) for t in db.session.scalars(select(Tenant))]


@pytest.mark.parametrize("field", ["notice", "action", "state", "minutes"])
def test_is_hostile_text_in_the_redirect_query_never_echoed(client, installed, field) -> None:
    for hostile in HOSTILE:
        resp = client.get("/admin/recovery/view", query_string={"jwt": context_token(installed), field: hostile,
                                                               "notice": "refused" if field != "notice" else hostile})
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert_stays_text(html)
        if len(hostile) > 6:
            assert hostile not in html


# -- oversized bodies, kid traversal, replays -------------------------------------------------------------------

@pytest.mark.parametrize("path,status", [
    ("/admin/recovery/destination/activate", 413), ("/admin/restore/preview", 413),
    # Lifecycle: /installed checks the signature before reading the body (401); /enabled reads it with
    # get_json(silent=True), which turns the 413 into "not a JSON object" (400) — refused either way, but untyped.
    ("/installed", 401), ("/enabled", 400)])
def test_is_an_oversized_body_refused(app, client, installed, path, status) -> None:
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    resp = client.post(path, data=big, content_type="application/x-www-form-urlencoded",
                       headers={"Authorization": f"JWT {context_token(installed)}"})
    assert resp.status_code == status
    assert resp.get_json()["status"] == status


@pytest.mark.parametrize("kid", ["../../etc/passwd", "..%2f..%2fadmin", "a/../../b", "a?b=c", "a#b", "//evil.example",
                                 "a\\b", "", " ", "k" * 200, ".hidden", "%2e%2e"])
def test_does_a_traversal_kid_never_reach_the_key_server(app, client, installed, keys, install_key, kid) -> None:
    body = install_body(app.config["APP_KEY"], client_key=installed.client_key, base_url="https://evil.example")
    token = signed_install_token(install_key, client_key=installed.client_key, app_base_url=app.config["BASE_URL"],
                                 kid=kid)
    seen = len(keys.requests)
    resp = client.post("/installed", json=body, headers={"Authorization": f"JWT {token}"})
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "The install JWT's kid is missing or malformed."
    assert len(keys.requests) == seen
    with app.app_context():
        assert tenants.get_by_client_key(installed.client_key).base_url == installed.base_url


def test_is_an_expired_page_jwt_refused_when_replayed(client, installed) -> None:
    from tests.support.connect_jira import hs256_token

    base = "https://dr-app.example.test"
    old = hs256_token(installed.shared_secret, iss=installed.client_key, method="GET", url=base + "/admin/recovery",
                      base_url=base, sub=ADMIN, now=int(time.time()) - 3600)
    resp = client.get("/admin/recovery", query_string={"jwt": old}, headers={"Accept": "application/json"})
    assert resp.status_code == 401
    assert resp.get_json()["error"].startswith("The JWT expired at")


def test_is_an_expired_context_token_refused_on_every_action(client, installed) -> None:
    stale = context_token(installed, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    for path, _ in FORM_ACTIONS:
        assert client.post(path, data={"jwt": stale}).status_code == 401, path


# -- two tenants: A attacks B ----------------------------------------------------------------------------------

@pytest.fixture
def tenant_b(app, keys, install_key) -> Installed:
    """A second tenant (its own scripted Jira, its own secret) holding one of every kind of object."""
    with jira_stub() as stub:
        stub.on("POST", PERM, (200, {"globalPermissions": ["ADMINISTER"], "projectPermissions": []}))
        body = install_body(app.config["APP_KEY"], base_url=stub.base_url)
        token = signed_install_token(install_key, client_key=body["clientKey"], app_base_url=app.config["BASE_URL"])
        assert app.test_client().post("/installed", json=body,
                                      headers={"Authorization": f"JWT {token}"}).status_code == 204
        stub.secrets[app.config["APP_KEY"]] = body["sharedSecret"]
        yield Installed(body["clientKey"], body["sharedSecret"], stub.base_url)


@pytest.fixture
def b_ids(app, tenant_b) -> dict[str, object]:
    with app.app_context():
        tb = tenants.get_by_client_key(tenant_b.client_key)
        issued = rc.generate_token(tb, ADMIN)
        conn = rc.latest_source_connection(tb)
        job, _ = enqueue(tb.id, "backup", {}, dispatch=False)
        snap = Snapshot(tenant_id=tb.id, status="complete", app_version="test", format_version=1)
        db.session.add(snap)
        db.session.flush()
        run = RestoreRun(tenant_id=tb.id, source_tenant_id=tb.id, snapshot_id=snap.id, status="planned")
        db.session.add(run)
        db.session.commit()
        return {"connection": conn.id, "snapshot": snap.id, "run": run.id, "job": job.id, "token": issued.token}


def b_state(app, tenant_b) -> tuple:
    with app.app_context():
        tb = tenants.get_by_client_key(tenant_b.client_key)
        conns = [(c.id, c.state, c.version, c.destination_tenant_id)
                 for c in db.session.scalars(select(rc.RecoveryConnection))]
        runs = [(r.id, r.tenant_id, r.status, r.selection_json) for r in db.session.scalars(select(RestoreRun))]
        jobs = [(j.id, j.tenant_id, j.state) for j in db.session.scalars(select(Job))]
        snaps = [(s.id, s.tenant_id, s.status) for s in db.session.scalars(select(Snapshot))]
        return tb.shared_secret_enc, tb.enabled, conns, runs, jobs, snaps


def id_requests(b: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    """Every route taking an id (path or form), aimed at tenant B's objects."""
    run, snap, conn = b["run"], b["snapshot"], b["connection"]
    return [
        ("GET", f"/admin/backups/{snap}", {}),
        ("GET", f"/admin/restore/{run}", {}),
        ("GET", f"/admin/restore/{run}/progress", {}),
        ("GET", f"/admin/restore/{run}/report.json", {}),
        ("GET", f"/admin/restore/{run}/report.csv", {}),
        ("POST", f"/admin/restore/{run}/start", {"scope": "all", "user_fallback": "drop"}),
        ("POST", f"/admin/restore/{run}/cancel", {}),
        ("POST", "/admin/restore/preview", {"snapshot_id": snap}),
        *[("POST", f"/admin/recovery/source/{a}", {"connection": conn, "confirmed": "yes", "reusable": "no"})
          for a in ("refresh", "reset", "release", "deactivate")],
        *[("POST", f"/admin/recovery/destination/{a}", {"connection": conn, "confirmed": "yes", "reusable": "no"})
          for a in ("release", "deactivate")],
        ("GET", "/admin/backups/progress", {"job": b["job"]}),
    ]


def test_are_all_id_routes_covered(app) -> None:
    """Each route with an id in its path is in the cross-tenant table (a new one must be added there)."""
    covered = {"/admin/backups/<int:snapshot_id>", "/admin/restore/<int:run_id>", "/admin/restore/<int:run_id>/start",
               "/admin/restore/<int:run_id>/cancel", "/admin/restore/<int:run_id>/progress",
               "/admin/restore/<int:run_id>/report.<fmt>"}
    # The Forge API's id routes have their own table: tests/forge/test_api_guards.py, which checks it is complete.
    with_ids = {r.rule for r in app.url_map.iter_rules()
                if any(a.endswith("_id") for a in r.arguments) and not r.rule.startswith("/forge/api/")}
    assert with_ids == covered


@pytest.mark.parametrize("index", range(15))
def test_can_tenant_a_reach_tenant_bs_objects_by_id(app, client, installed, tenant_b, b_ids, index) -> None:
    method, path, fields = id_requests(b_ids)[index]
    before = b_state(app, tenant_b)
    token = context_token(installed)
    if method == "GET":
        resp = client.get(path, query_string={"jwt": token, **fields}, headers={"Accept": "text/html"})
    else:
        resp = client.post(path, data={"jwt": token, **fields}, headers={"Accept": "text/html"})
    assert b_state(app, tenant_b) == before
    if resp.status_code == 303:  # the connection forms answer with a fixed "not found" notice
        assert "notice=not-found" in resp.headers["Location"] or "notice=refused" in resp.headers["Location"]
    elif path == "/admin/backups/progress":
        assert resp.status_code == 200 and str(b_ids["job"]) not in resp.get_data(as_text=True)
    else:
        assert resp.status_code in (403, 404), (resp.status_code, resp.data[:300])


@pytest.mark.parametrize("where", ["query", "header", "form"])
def test_is_tenant_as_token_refused_when_re_signed_as_tenant_b(client, installed, tenant_b, where) -> None:
    """A's token with B's client key (A signs with A's secret): B's secret doesn't verify it."""
    forged = jwt.encode({"iss": tenant_b.client_key, "sub": ADMIN, "iat": int(time.time()),
                         "exp": int(time.time()) + 600, "qsh": "context-qsh"}, installed.shared_secret,
                        algorithm="HS256")
    if where == "query":
        resp = client.get("/admin/recovery/view", query_string={"jwt": forged})
    elif where == "header":
        resp = client.get("/admin/api/session", headers={"Authorization": f"JWT {forged}"})
    else:
        resp = client.post("/admin/recovery/source/generate", data={"jwt": forged})
    assert resp.status_code == 401


def test_does_tenant_bs_token_activate_nothing_for_a_stranger_url(app, client, installed, tenant_b, b_ids) -> None:
    """A holds B's recovery token but names another site: refused (422, told the address isn't the token's site,
    which a holder of the real token may know), B's connection unchanged."""
    before = b_state(app, tenant_b)
    resp = client.post("/admin/recovery/destination/activate",
                       data={"jwt": context_token(installed), "token": b_ids["token"],
                             "base_url": "https://not-b.atlassian.net"})
    assert resp.status_code == 422 and b"isn&#39;t the site it was generated on" in resp.data
    assert b_state(app, tenant_b) == before


@pytest.mark.parametrize("path", ["/admin/api/session", "/enabled"])
def test_is_a_nul_byte_in_an_unverified_client_key_refused_not_crashed(app, client, installed, path) -> None:
    """A NUL byte in the unverified issuer once reached PostgreSQL and answered 500."""
    now = int(time.time())
    token = jwt.encode({"iss": "a\x00b", "iat": now, "exp": now + 60, "qsh": "context-qsh"}, "k" * 32,
                       algorithm="HS256")
    headers = {"Authorization": f"JWT {token}"}
    if path == "/enabled":
        resp = client.post(path, json={"key": app.config["APP_KEY"], "clientKey": "a\x00b",
                                       "baseUrl": "https://x"}, headers=headers)
    else:
        resp = client.get(path, headers=headers)
    assert resp.status_code in (400, 401)


@pytest.mark.parametrize(("field", "value"), [("cloudId", []), ("displayUrl", 5), ("productType", {"a": 1}),
                                              ("baseUrl", "https://" + "a" * 600)])
def test_is_a_signed_install_with_odd_optional_fields_refused_with_400(app, client, installed, install_key,
                                                                       field, value) -> None:
    body = install_body(app.config["APP_KEY"], client_key="odd-client", **{field: value})
    token = signed_install_token(install_key, client_key="odd-client", app_base_url=app.config["BASE_URL"])
    resp = client.post("/installed", json=body, headers={"Authorization": f"JWT {token}"})
    assert resp.status_code == 400


# -- formulas in the restore report CSV ---------------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"https://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("formula", FORMULAS, ids=["equals", "plus", "minus", "at", "tab", "carriage-return"])
def test_is_a_formula_in_any_report_cell_neutralised_in_the_csv(app, client, installed, formula) -> None:
    """Names, keys, reasons, fixes and notes come from the source site (anyone who could name a field): a cell
    starting with = + - @ TAB or CR must reach the spreadsheet as text, quoted."""
    import csv
    import io
    import json

    from app.restore.models import RestoreItem

    with app.app_context():
        tenant = tenants.get_by_client_key(installed.client_key)
        run = RestoreRun(tenant_id=tenant.id, source_tenant_id=tenant.id, snapshot_id=1, status="done")
        db.session.add(run)
        db.session.flush()
        db.session.add(RestoreItem(run_id=run.id, type_key="projectCategories", source_id=formula,
                                   natural_key=formula, name=formula, action="create", outcome="failed",
                                   dest_id=formula, reason=formula, fix=formula, notes_json=json.dumps([formula])))
        db.session.commit()
        run_id = run.id
    resp = client.get(f"/admin/restore/{run_id}/report.csv", query_string={"jwt": context_token(installed)})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert len(rows) == 1
    for column in ("name", "naturalKey", "sourceId", "destinationId", "reason", "fix", "notes"):
        assert rows[0][column] == "'" + formula, column


# -- 500s on hostile input (#21, finding 4): ids beyond 64 bits, JSON nested 5,000 deep ---------------------------

BEYOND_64_BITS = "99999999999999999999999"
NESTED_5000 = b"[" * 5000 + b"]" * 5000


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/admin/backups/{}"), ("GET", "/admin/restore/{}"), ("GET", "/admin/restore/{}/progress"),
    ("GET", "/admin/restore/{}/report.json"), ("POST", "/admin/restore/{}/start"),
    ("POST", "/admin/restore/{}/cancel")])
def test_is_a_connect_path_id_beyond_64_bits_a_missing_object(client, installed, method, path) -> None:
    resp = client.open(path.format(BEYOND_64_BITS), method=method, query_string={"jwt": context_token(installed)},
                       headers={"Accept": "application/json"})
    assert resp.status_code == 404


def test_is_a_snapshot_id_beyond_64_bits_in_the_preview_form_refused(app, client, installed, tenant_b) -> None:
    """With an Active connection the preview looks the snapshot up: a huge id must be a 400, not an overflow."""
    with app.app_context():
        ta, tb = tenants.get_by_client_key(installed.client_key), tenants.get_by_client_key(tenant_b.client_key)
        issued = rc.generate_token(tb, ADMIN)
        rc.activate(ta, ADMIN, issued.token, tb.base_url)
        runs_before = db.session.scalars(select(RestoreRun)).all()
    for value in (BEYOND_64_BITS, str(2**63), str(2**31), "0", "-1", "1e3", "١٢"):
        resp = client.post("/admin/restore/preview", data={"jwt": context_token(installed), "snapshot_id": value},
                           headers={"Accept": "text/html"})
        assert resp.status_code == 400, (value, resp.status_code)
    with app.app_context():
        assert db.session.scalars(select(RestoreRun)).all() == runs_before


@pytest.mark.parametrize("path", ["/enabled", "/disabled"])
def test_is_json_nested_5000_deep_refused_by_enabled_and_disabled_like_any_bad_json(client, path) -> None:
    """Before any authentication the event's body is read for its clientKey: deep nesting is malformed JSON (400,
    the lifecycle's own answer), not a RecursionError."""
    headers = {"Authorization": "JWT a.b.c"}
    malformed = client.post(path, data=b"{oops", content_type="application/json", headers=headers)
    for body in (NESTED_5000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"[" * 5000):
        resp = client.post(path, data=body, content_type="application/json", headers=headers)
        assert (resp.status_code, resp.get_json()) == (malformed.status_code, malformed.get_json()) == (
            400, {"error": "The lifecycle body must be a JSON object.", "status": 400, "code": "bad-request"})


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/forge/api/v1/backups/{}"), ("GET", "/forge/api/v1/backups/{}/types/statuses"),
    ("GET", "/forge/api/v1/restore/runs/{}"), ("GET", "/forge/api/v1/restore/runs/{}/report.csv"),
    ("POST", "/forge/api/v1/restore/runs/{}/start"), ("POST", "/forge/api/v1/restore/runs/{}/cancel")])
def test_is_a_forge_path_id_beyond_64_bits_a_missing_object(doors, method, path) -> None:
    resp = doors.send(method, path.format(BEYOND_64_BITS), data=b"{}", content_type="application/json")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not-found"


@pytest.mark.parametrize("query", [{"offset": 10**30}, {"offset": 2**63}, {"offset": -1}, {"limit": 10**30}])
def test_is_an_out_of_range_page_refused_by_the_forge_api(doors, query) -> None:
    resp = doors.send("GET", "/forge/api/v1/backups", query=query)
    if "limit" in query:  # a huge limit is capped at the page's maximum
        assert resp.status_code == 200
    else:
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad-request"


@pytest.mark.parametrize("value", [2**31, 2**63, 2**64 + 1, 10**30, 0, -1, True, "7", 1.5])
def test_is_an_out_of_range_json_id_refused_by_the_forge_api(app, doors, value) -> None:
    before = _connections(app)
    for path, body in [("/forge/api/v1/restore/previews", {"snapshotId": value}),
                       ("/forge/api/v1/connections/source/refresh", {"connection": value}),
                       ("/forge/api/v1/connections/destination/deactivate", {"connection": value, "confirmed": True})]:
        resp = doors.send("POST", path, data=json.dumps(body), content_type="application/json")
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad-request", (path, resp.data)
    assert _connections(app) == before


@pytest.mark.parametrize("path", ["/forge/api/v1/connections/source/generate", "/forge/api/v1/restore/previews",
                                  "/forge/api/v1/connections/destination/activate", "/forge/events/lifecycle"])
def test_is_json_nested_5000_deep_refused_by_the_forge_door(app, doors, path) -> None:
    """The API and the lifecycle trigger answer it as any body that isn't a JSON object: 400, nothing changed."""
    before = _connections(app)
    for body in (NESTED_5000, b'{"a":' * 5000 + b"1" + b"}" * 5000):
        resp = doors.send("POST", path, data=body, content_type="application/json")
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] in ("bad-request", "bad-event")
    assert _connections(app) == before


def _connections(app) -> list[tuple]:
    with app.app_context():
        return [(c.id, c.state, c.version) for c in db.session.scalars(select(rc.RecoveryConnection))]
