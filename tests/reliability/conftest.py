"""Fixtures for the hostile-input suite: an installed tenant with a key server and a scripted Jira on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings

from tests.support.connect_jira import InstallKey, KeyServer, install_body, key_server, signed_install_token
from tests.support.jira_stub import JiraStub, jira_stub

ADMIN = "5b10a2844c20165700ede21g"
PERM = "/rest/api/3/permissions/check"

# CI runs the short version; FUZZ_EXAMPLES=5000 (say) gives the long, on-demand run.
settings.register_profile(
    "reliability", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")), deadline=None, derandomize=False,
    # The app fixture is function-scoped on purpose: every example must leave the same database behind.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Installed:
    client_key: str
    shared_secret: str
    base_url: str


@pytest.fixture(scope="session")
def install_key() -> InstallKey:
    return InstallKey()


@pytest.fixture
def keys(install_key: InstallKey, app: Flask) -> Iterator[KeyServer]:
    """A Connect install-key server on loopback that knows ``install_key``; it records every kid asked for."""
    with key_server() as (server, url):
        server.keys[install_key.kid] = install_key.public_pem()
        app.config["CONNECT_INSTALL_KEYS_URL"] = url
        yield server


@pytest.fixture
def jira() -> Iterator[JiraStub]:
    """A scripted Jira answering the admin check: only ``ADMIN`` holds ADMINISTER."""
    with jira_stub() as stub:
        stub.on("POST", PERM, (200, lambda req: {
            "globalPermissions": ["ADMINISTER"] if req.get_json()["accountId"] == ADMIN else [],
            "projectPermissions": []}))
        yield stub


@pytest.fixture
def installed(app: Flask, keys: KeyServer, install_key: InstallKey, jira: JiraStub) -> Installed:
    """A tenant installed through a correctly signed ``installed`` event, its Jira being the scripted stub."""
    body = install_body(app.config["APP_KEY"], base_url=jira.base_url)
    token = signed_install_token(install_key, client_key=body["clientKey"], app_base_url=app.config["BASE_URL"])
    resp = app.test_client().post("/installed", json=body, headers={"Authorization": f"JWT {token}"})
    assert resp.status_code == 204, resp.data
    jira.secrets[app.config["APP_KEY"]] = body["sharedSecret"]
    return Installed(body["clientKey"], body["sharedSecret"], jira.base_url)
