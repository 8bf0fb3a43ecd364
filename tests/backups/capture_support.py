"""Shared set-up for the capture tests: an app and emulated cloud built once per module, seeded sites with the app
installed, and running backups."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.backups import service
from app.backups.snapshots import SnapshotReader
from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.tenants import Tenant
from fakejira import generator, installer
from fakejira.cloud import Cloud
from fakejira.loopback import serve
from fakejira.site import Site


def small_seed(name: str) -> dict[str, Any]:
    return generator.generate_preset("small", site_name=name)


def tenant_of(client_key: str) -> Tenant:
    return db.session.scalars(select(Tenant).where(Tenant.client_key == client_key)).one()


def backup(tenant: Tenant, account_id: str | None = "admin") -> Job:
    job, _ = service.start_backup(tenant, account_id)
    run_job(job.id)
    return db.session.get(Job, job.id, populate_existing=True)


def snapshot_objects(snapshot_id: int, type_key: str) -> list[dict]:
    return list(SnapshotReader(snapshot_id).objects(type_key))


# -- one app + cloud per test module --------------------------------------------------------------------------------
@dataclass
class CaptureWorld:
    """The app served on loopback and an emulated cloud, shared by one module's tests (each test adds its own site
    unless it only reads)."""

    app: Flask
    cloud: Cloud

    def add_site(self, name: str, seed: dict[str, Any] | None = None) -> Site:
        """A served site (seeded) with the app installed by a signed install; ``.client_key`` names the tenant."""
        site = self.cloud.add_site(name, seed=seed)
        url = self.app.config["BASE_URL"] + "/atlassian-connect.json"
        site.client_key = installer.install_app(site, url).client_key
        return site


def _module_database_url(tmp_dir: Path, worker: str) -> str:
    """SQLite in ``tmp_dir``, or with TEST_DATABASE_URL a PostgreSQL database of the module's own.

    Not the database of the function-scoped ``app`` fixture: that one drops every table when a test starts.
    """
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp_dir / 'capture.sqlite3'}"
    url = make_url(pg)
    name = f"{url.database}_capture_{worker}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@contextmanager
def capture_world(tmp_dir: Path, worker: str) -> Iterator[CaptureWorld]:
    """Build the app (fresh tables) and a served cloud; tear both down after."""
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": _module_database_url(tmp_dir, worker), "SCHEMA_CHECK": False,
        "AUTO_MIGRATE": False, "ENCRYPTION_KEYS": Fernet.generate_key().decode(), "JIRA_MAX_RETRIES": 2,
        "JIRA_MAX_RETRY_WAIT": 5, "JIRA_RETRY_BASE_DELAY": 0.01, "JOBS_MODE": "manual"})
    app.instance_path = str(tmp_dir / "instance")
    with app.app_context():
        db.drop_all()
        db.create_all()
    cloud = Cloud()
    try:
        with cloud.serve(), serve(app) as url:
            app.config["BASE_URL"] = url
            app.config["CONNECT_INSTALL_KEYS_URL"] = cloud.install_keys_url
            app.config["CONNECT_IMPERSONATION_URL"] = cloud.impersonation.url  # the backup reads restricted comments
            yield CaptureWorld(app, cloud)
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
