"""Does the site's pipeline answer malformed or unroutable requests as Jira does, and log every call?"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.test import Client

from fakejira import installer
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.site import Site
from tests.emulator.helpers import APP_KEY

PATH = "/rest/api/3/projectCategory"
REPO = Path(__file__).resolve().parents[2]


def test_unknown_path_is_404_jira_style(admin_app: ConnectClient) -> None:
    response = admin_app.get("/rest/api/3/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"errorMessages": ["null for uri: /rest/api/3/nothing-here"], "errors": {}}


def test_known_path_with_another_method_is_405(admin_app: ConnectClient) -> None:
    response = admin_app.delete(PATH)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}


def test_malformed_json_is_400(admin_app: ConnectClient, category_handlers: list[Any]) -> None:
    response = admin_app.post(PATH, data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errorMessages"][0].startswith("Unexpected character")
    assert category_handlers == []


def test_a_body_above_the_cap_is_413(admin_app: ConnectClient, bare_site: Site) -> None:
    bare_site.limits.configure(max_body_bytes=100)
    response = admin_app.post(PATH, json={"name": "x" * 200})
    assert response.status_code == 413


def test_a_non_json_body_is_415(admin_app: ConnectClient) -> None:
    response = admin_app.post(PATH, data="name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


def test_a_good_write_reaches_the_handler(admin_app: ConnectClient, category_handlers: list[Any]) -> None:
    response = admin_app.post(PATH, json={"name": "Infra"})
    assert response.status_code == 201
    assert category_handlers[0]["name"] == "Infra"


def test_the_call_log_records_each_call(admin_app: ConnectClient, bare_site: Site) -> None:
    """Does the log keep method, path, template, status, auth kind, duration and time for assertions?"""
    admin_app.get(PATH, query={"a": "1"})
    admin_app.get("/rest/api/3/nothing-here")
    first, second = bare_site.calls.records
    assert (first.method, first.path, first.template, first.status) == ("GET", PATH, PATH, 200)
    assert first.query == "a=1" and first.auth_kind == "connect" and first.duration_ms > 0
    assert (second.template, second.status) == (None, 404)
    assert first.timestamp <= second.timestamp


def test_handlers_see_the_caller(admin_app: ConnectClient, fakejira_handler: Any) -> None:
    seen: list[Any] = []
    fakejira_handler("GET", "/rest/api/3/projectCategory/{id}", lambda ctx: seen.append(ctx) or {
        "id": ctx.path_params["id"], "name": "A", "self": "http://x"})
    assert admin_app.get("/rest/api/3/projectCategory/10000").status_code == 200
    assert (seen[0].auth_kind, seen[0].account_id, seen[0].path_params) == ("connect", None, {"id": "10000"})


# -- control API ------------------------------------------------------------------------------------------------
def test_control_api_configures_and_reports(bare_site: Site, admin_app: ConnectClient) -> None:
    base = bare_site.base_url + "/_emulator"
    info = requests.get(f"{base}/site", timeout=5).json()
    assert info["cloudId"] == bare_site.cloud_id and info["installations"][0]["key"] == APP_KEY
    assert requests.post(f"{base}/faults", json={"status": 502, "nth": 1}, timeout=5).status_code == 201
    assert admin_app.get(PATH).status_code == 502
    assert requests.delete(f"{base}/faults", timeout=5).status_code == 204
    assert requests.post(f"{base}/limits", json={"burstRate": 0.001, "burstCapacity": 1}, timeout=5).ok
    assert admin_app.get(PATH).status_code == 200
    assert admin_app.get(PATH).status_code == 429
    calls = requests.get(f"{base}/calls", timeout=5).json()
    assert [c["status"] for c in calls] == [502, 200, 429]
    assert requests.delete(f"{base}/limits", timeout=5).status_code == 204
    assert admin_app.get(PATH).status_code == 200


def test_control_api_refuses_non_loopback_clients(fake_cloud: Cloud, bare_site: Site) -> None:
    client = Client(fake_cloud.site_app("bare"))
    response = client.get("/_emulator/calls", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 403
    assert client.get("/_emulator/calls", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


def test_control_api_unknown_endpoint_is_404(bare_site: Site) -> None:
    assert requests.get(bare_site.base_url + "/_emulator/nope", timeout=5).status_code == 404


# -- the violation guard ----------------------------------------------------------------------------------------
GUARDED_TEST = textwrap.dedent('''
    import pytest
    from fakejira.cloud import Cloud

    def _violate(cloud):
        site = cloud.add_site("s", defaults=False)
        cloud.record_violation(site, "response", "GET", "/x", "/x", ["bad"])

    def test_unexpected():
        _violate(Cloud())

    def test_expected_by_context():
        cloud = Cloud()
        with cloud.expect_violations() as seen:
            _violate(cloud)
        assert len(seen) == 1

    @pytest.mark.fakejira_violations_expected
    def test_expected_by_mark():
        _violate(Cloud())

    def test_clean():
        Cloud()
''')


def test_the_guard_fails_tests_with_unexpected_violations(tmp_path: Path) -> None:
    """Does the autouse guard fail exactly the test that left an undeclared violation?"""
    test_file = tmp_path / "test_guarded.py"
    test_file.write_text(GUARDED_TEST)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-p", "fakejira.pytest_plugin", "-q",
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-o", "addopts=", "--noconftest"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 1
    # The guard fails at teardown: the three clean tests pass, test_unexpected errors.
    assert "1 error" in result.stdout, result.stdout
    assert "ERROR test_guarded.py::test_unexpected" in result.stdout
    assert "spec violation(s)" in result.stdout


# -- CLI ---------------------------------------------------------------------------------------------------------
def test_cli_serve_starts_and_answers(tmp_path: Path) -> None:
    """Does ``python -m fakejira serve`` print its URLs and answer on them?"""
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakejira", "serve", "--port", "0", "--seed", str(seed), "--no-defaults",
         "--site", "other="],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while True:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line or line.strip() == "READY":
                break
            lines.append(line.split())
        urls = {parts[1]: parts[2] for parts in lines if parts[0] == "site"}
        platform = next(parts[1] for parts in lines if parts[0] == "platform")
        assert set(urls) == {"jira", "other"}
        info = requests.get(urls["jira"] + "/_emulator/site", timeout=5).json()
        assert info["name"] == "jira" and info["platformUrl"] == platform
        assert requests.get(urls["other"] + "/rest/api/3/projectCategory", timeout=5).status_code == 401
        assert requests.get(f"{platform}/install-keys/unknown", timeout=5).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_cli_seed_keys_lists_registered_keys() -> None:
    from fakejira.registry import SEEDERS

    result = subprocess.run([sys.executable, "-m", "fakejira", "seed-keys"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    printed = {line.split("\t")[0] for line in result.stdout.splitlines() if line}
    assert printed == set(SEEDERS)


@pytest.fixture(autouse=True)
def _installed(bare_site: Site) -> None:
    """Every test here talks to a site with the app installed (control and CLI tests ignore it)."""
    if APP_KEY not in bare_site.installations:
        installer.install_direct(bare_site, APP_KEY, ["ADMIN"])
