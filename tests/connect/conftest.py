"""Fixtures for the Connect layer: an install key served on loopback and helpers to install a tenant."""

from __future__ import annotations

import time
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
def lifecycle_clock():
    """Jira's clock for lifecycle tokens: now in whole seconds, each call after the previous one.

    A site's real lifecycle events are an admin's clicks apart; tests send several a second, and the app refuses
    an event whose ``iat`` is not newer than the last one it accepted for the clientKey.
    """
    last = [0]

    def tick() -> int:
        last[0] = max(int(time.time()), last[0] + 1)
        return last[0]

    return tick


@pytest.fixture
def install(app: Flask, keys: KeyServer, install_key: InstallKey, lifecycle_clock):
    """Post a correctly signed ``installed`` event; returns (response, body)."""

    def do(**body_overrides):
        body = install_body(app.config["APP_KEY"], **body_overrides)
        token = signed_install_token(install_key, client_key=body["clientKey"], app_base_url=app.config["BASE_URL"],
                                     now=lifecycle_clock())
        resp = app.test_client().post("/installed", json=body, headers={"Authorization": f"JWT {token}"})
        return resp, body

    return do
