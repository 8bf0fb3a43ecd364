"""Fixtures shared by the whole suite: the app on SQLite or PostgreSQL, keys, loopback servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from app import create_app
from app.extensions import db

REFERENCE_DIR = Path(os.environ.get("JIRA_REFERENCE_DIR") or Path(__file__).resolve().parents[2] / "shared" /
                     "reference")


def _database_url(tmp_path: Path, worker: str) -> str:
    """PostgreSQL when TEST_DATABASE_URL is set (one database per xdist worker), else an SQLite file."""
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if worker and worker != "master":
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        url = make_url(pg)
        name = f"{url.database}_{worker}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return url.set(database=name).render_as_string(hide_password=False)
    return pg


@pytest.fixture
def app_config(tmp_path: Path, worker_id: str) -> dict:
    """Settings for a test app; tests may tweak the dict before asking for ``app``."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path, worker_id),
        "SCHEMA_CHECK": False,
        "AUTO_MIGRATE": False,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BASE_URL": "https://dr-app.example.test",
        "CONNECT_INSTALL_KEYS_URL": "http://127.0.0.1:9/unused",
        "JIRA_MAX_RETRIES": 2,
        "JIRA_MAX_RETRY_WAIT": 5,
        "JIRA_RETRY_BASE_DELAY": 0.01,
        "JOBS_MODE": "manual",  # tests run jobs explicitly (run_job) unless they choose "thread" or "rq"
    }


@pytest.fixture
def app(app_config: dict, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(app_config)
    application.instance_path = str(tmp_path / "instance")
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def reference_dir() -> Path:
    return REFERENCE_DIR


pytest_plugins = ["fakejira.pytest_plugin"]


# -- the app, served on loopback and installed into emulated Jira sites ----------------------------------------

ADMIN_ACCOUNT = "admin-account-id"


@pytest.fixture
def live_app(app: Flask) -> Iterator[Flask]:
    """The app served over real HTTP on loopback; ``BASE_URL`` is its URL (Jira must reach it)."""
    from fakejira.loopback import serve

    with serve(app) as url:
        app.config["BASE_URL"] = url
        yield app


@pytest.fixture
def install_into(live_app: Flask, fake_cloud):
    """Install the live app into an emulated site (signed install, as Jira does); returns the tenant's client key."""
    from fakejira import installer

    live_app.config["CONNECT_INSTALL_KEYS_URL"] = fake_cloud.install_keys_url

    def do(site) -> str:
        installation = installer.install_app(site, live_app.config["BASE_URL"] + "/atlassian-connect.json")
        return installation.client_key

    return do


@pytest.fixture
def source_site(fake_cloud, install_into):
    """A served emulated site with Jira's defaults and the app installed; ``.client_key`` names the tenant."""
    site = fake_cloud.add_site("source")
    site.client_key = install_into(site)
    return site
