"""Helpers and fixtures for the Forge JSON API tests: a Forge-installed emulated site with an ``Api`` that calls
``/forge/api/v1`` through the emulator's invoker (real FITs, real HTTP on loopback), and job runners.

Import the fixtures into a test module with ``from tests.forge.api_fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.tenants import Tenant
from fakejira.resources.basics import admin_account_id

PREFIX = "/forge/api/v1"
STRANGER = "557058:not-an-admin"


@dataclass
class Api:
    """Calls the API as Forge does for one installation and one principal; answers ``(status, json body)``."""

    invoker: Any
    inst: Any
    principal: str | None

    def call(self, method: str, path: str, body: Any = None, principal: Any = ..., **params: Any) -> tuple[int, Any]:
        query = ("?" + urlencode(params)) if params else ""
        who = self.principal if principal is ... else principal
        return self.invoker.invoke_remote(self.inst, PREFIX + path + query, method=method, body=body, principal=who)

    def get(self, path: str, **params: Any) -> tuple[int, Any]:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        return self.call("POST", path, {} if body is None else body, **params)

    def ok(self, method: str, path: str, body: Any = None, expect: int = 200, **params: Any) -> Any:
        """The body of a call that must answer ``expect``."""
        status, data = self.call(method, path, body, **params)
        assert status == expect, (method, path, status, data)
        return data


@dataclass
class ForgeSite:
    """An emulated site with the Forge app installed: its installation, tenant id, admin and API."""

    site: Any
    inst: Any
    tenant_id: int
    admin: str
    api: Api


def tenant_id_for(app: Any, inst: Any) -> int:
    """The tenant a Forge installation belongs to (looked up by its stable key)."""
    from app.forge.installations import installation_by_id

    with app.app_context():
        row = installation_by_id(inst.installation_id)
        assert row is not None, "the installed event didn't create the installation"
        return row.tenant_id


@pytest.fixture
def forge_site_factory(forge_app, fake_cloud, forge_install, invoker):
    """``make(name, seed=None)``: a new emulated site (optionally seeded) with the Forge app installed."""

    def make(name: str, seed: dict[str, Any] | None = None) -> ForgeSite:
        site = fake_cloud.add_site(name)
        if seed is not None:
            from fakejira.seeding import load_seed

            load_seed(site, seed(site) if callable(seed) else seed)
        inst = forge_install(site)
        admin = admin_account_id(site)
        # The API resolves the tenant on the first call; make sure it exists for tests that read the DB first.
        api = Api(invoker, inst, admin)
        status, body = api.get("/context")
        assert status == 200, body
        return ForgeSite(site, inst, tenant_id_for(forge_app, inst), admin, api)

    return make


def run_jobs(app: Any, tenant_id: int | None = None, kind: str | None = None, rounds: int = 20) -> list[str]:
    """Run every queued job (of the tenant/kind) to its end, re-running ones that asked to retry later."""
    states: list[str] = []
    with app.app_context():
        for _ in range(rounds):
            query = select(Job).where(Job.state == "queued")
            if tenant_id is not None:
                query = query.where(Job.tenant_id == tenant_id)
            if kind is not None:
                query = query.where(Job.kind == kind)
            jobs = db.session.scalars(query.order_by(Job.created_at)).all()
            if not jobs:
                break
            for job in jobs:
                db.session.execute(db.update(Job).where(Job.id == job.id).values(not_before=None))
                db.session.commit()
                states.append(run_job(job.id))
        db.session.remove()
    return states


def run_job_to_end(app: Any, job_id: str, rounds: int = 20) -> str:
    """Run one job until it leaves the queue (a rate-limit or token pause requeues it: run it again at once)."""
    with app.app_context():
        state = run_job(job_id)
        for _ in range(rounds):
            if state != "queued":
                break
            db.session.execute(db.update(Job).where(Job.id == job_id).values(not_before=None))
            db.session.commit()
            state = run_job(job_id)
        message = db.session.get(Job, job_id).message
        db.session.remove()
    assert state == "succeeded", message
    return state


def tenant_url(app: Any, tenant_id: int) -> str:
    with app.app_context():
        return db.session.get(Tenant, tenant_id).base_url
