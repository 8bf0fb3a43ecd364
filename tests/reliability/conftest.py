"""Fixtures for the reliability suite: an installed tenant with a key server and a scripted Jira (hostile input), and
a whole emulated recovery world shared by the session (crashes, faults, database outages)."""

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


# -- a whole recovery world (crash, fault and outage tests) ----------------------------------------------------

def tiny_seed() -> dict:
    """A small generated configuration (every object type, a few of each, hostile names included): seconds to back
    up and restore, so CI can afford whole runs."""
    from fakejira.generator import generate_seed

    return generate_seed(projects=2, custom_fields=4, options=8, workflows=2, filters=3, users=3, groups=2,
                         site_name="src")


@pytest.fixture(scope="session")
def world_db_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    """A database of its own for whole-world tests (the ``app`` fixture wipes the suite's database per test): an
    SQLite file, or with TEST_DATABASE_URL a sibling PostgreSQL database ``<name>_world[_<xdist worker>]``."""
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp_path_factory.mktemp('world') / 'world.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(pg)
    name = f"{url.database}_world" + (f"_{worker_id}" if worker_id and worker_id != "master" else "")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def world(fakejira_spec, world_db_url: str):
    """An emulated source (``tiny_seed``) and empty destination with the app installed, connected and authorised
    (see ``bench/crash_bench.py``), with a real backup of the source taken. Shared by the session: a test that
    restores resets the destination first."""
    from bench.crash_bench import recovery_world, take_backup

    with recovery_world(world_db_url, tiny_seed()) as built:
        take_backup(built)
        yield built


@pytest.fixture(scope="session")
def clean_restore(world, tmp_path_factory: pytest.TempPathFactory):
    """The uninterrupted restore every disturbed one is compared with: ``(outcome, destination state)``, run once by
    a real worker process."""
    from bench.crash_bench import destination_state, reset_destination, worker_restore

    reset_destination(world)
    outcome = worker_restore(world, "thread", log=tmp_path_factory.mktemp("clean") / "worker.log")
    assert outcome["job_state"] == "succeeded", outcome["message"]
    state = destination_state(world)
    assert not state.duplicates, state.duplicates
    return outcome, state
