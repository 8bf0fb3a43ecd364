"""Fixtures for the Forge door: the app served live as the emulated Forge app's remote, installs, the invoker.

- ``forge_app``: the live app with ``FORGE_APP_ID``/``FORGE_JWKS_URL`` pointing at the emulator's Forge platform and
  ``ATLASSIAN_API_URL`` at its gateway; the platform's manifest scopes are ``forge_scopes()``.
- ``forge_install(site, environment="production") -> ForgeInstall``: installs the app on the site and delivers the
  installed event (then runs the queued site-URL job, so the tenant knows its site URL).
- ``invoker``: the emulated Forge invoker aimed at the live app.
- ``run_jobs(app)``: runs every queued job (tests use the manual dispatcher), until none is left.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app.forge.installations import tenant_key
from app.forge.scopes import forge_scopes
from app.tenants import Tenant, get_by_client_key
from fakejira.cloud import Cloud
from fakejira.forge import ForgeInstall, Invoker
from fakejira.site import Site


@pytest.fixture
def forge_app(live_app: Flask, fake_cloud: Cloud) -> Flask:
    """The app served on loopback as the Forge Remote of ``fake_cloud.forge``'s app."""
    with live_app.app_context():
        fake_cloud.forge.scopes = forge_scopes()
    live_app.config.update(FORGE_APP_ID=fake_cloud.forge.app_id, FORGE_JWKS_URL=fake_cloud.forge.jwks_url,
                           ATLASSIAN_API_URL=fake_cloud.platform_url)
    return live_app


@pytest.fixture
def invoker(forge_app: Flask, fake_cloud: Cloud) -> Invoker:
    return fake_cloud.forge.invoker(forge_app.config["BASE_URL"])


def run_jobs(app: Flask, limit: int = 50) -> list[str]:
    """Run the jobs the manual dispatcher holds (and those they queue), in order; returns their end states."""
    from app.jobs.runtime import run_job

    dispatcher = app.extensions["job_dispatcher"]
    states: list[str] = []
    with app.app_context():
        for _ in range(limit):
            if not dispatcher.sent:
                break
            states.append(run_job(dispatcher.sent.pop(0)) or "")
    return states


@pytest.fixture
def forge_install(forge_app: Flask, fake_cloud: Cloud, invoker: Invoker) -> Callable[..., ForgeInstall]:
    def install(site: Site, environment: str = "production") -> ForgeInstall:
        inst = fake_cloud.forge.install(site, environment)
        attempts = invoker.lifecycle(inst)
        assert attempts[-1].ok, attempts
        run_jobs(forge_app)
        return inst

    return install


def forge_tenant(app: Flask, inst: ForgeInstall) -> Tenant:
    """The tenant of an installation (call inside an app context)."""
    tenant = get_by_client_key(tenant_key(inst.cloud_id, inst.environment_id))
    assert tenant is not None
    return tenant
