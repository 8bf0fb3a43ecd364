"""Fixtures for the Connect layer: an install key served on loopback and helpers to install a tenant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.support.connect_jira import InstallKey, KeyServer, install_body, key_server, signed_install_token


@pytest.fixture(scope="session")
def install_key() -> InstallKey:
    return InstallKey()


@pytest.fixture
def keys(install_key: InstallKey, app: Flask) -> Iterator[KeyServer]:
    with key_server() as (server, url):
        server.keys[install_key.kid] = install_key.public_pem()
        app.config["CONNECT_INSTALL_KEYS_URL"] = url  # the key store is built lazily, on first use
        yield server


@pytest.fixture
def install(app: Flask, keys: KeyServer, install_key: InstallKey):
    """Post a correctly signed ``installed`` event; returns (response, body)."""

    def do(**body_overrides):
        body = install_body(app.config["APP_KEY"], **body_overrides)
        token = signed_install_token(install_key, client_key=body["clientKey"], app_base_url=app.config["BASE_URL"])
        resp = app.test_client().post("/installed", json=body, headers={"Authorization": f"JWT {token}"})
        return resp, body

    return do
