"""Does the app tell operators the truth about its database and schema?"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db


def test_healthz_ok(client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json()["database"] == "up"


def test_healthz_503_when_database_is_unreachable(app_config) -> None:
    app_config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://nobody:x@127.0.0.1:9/none?connect_timeout=1"
    resp = create_app(app_config).test_client().get("/healthz")
    assert resp.status_code == 503 and resp.get_json()["database"] == "down"


def test_migrations_build_exactly_the_models(app) -> None:
    """Upgrading an empty database to head yields the schema the models describe (no autogenerate diff)."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == []
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_stale_schema_is_refused_with_the_fix(app_config) -> None:
    app_config.update(SCHEMA_CHECK=True, AUTO_MIGRATE=False)
    application = create_app(app_config)
    with application.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    client = application.test_client()
    resp = client.get("/atlassian-connect.json")
    assert resp.status_code == 503 and b"flask --app app db upgrade" in resp.data
    assert client.get("/healthz").status_code == 200  # the database itself answers
    with application.app_context():
        upgrade(directory=application.extensions["migrate"].directory)


def test_auto_migrate_brings_an_empty_database_to_head(app_config) -> None:
    app_config.update(SCHEMA_CHECK=True, AUTO_MIGRATE=True)
    application = create_app(app_config)
    with application.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    assert application.test_client().get("/atlassian-connect.json").status_code == 200
    with application.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_upgrading_a_database_with_data_keeps_every_child_row(app) -> None:
    """A migration that rebuilds ``tenants`` (SQLite batch mode) must not cascade-delete the rows pointing at it."""
    directory = app.extensions["migrate"].directory
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=directory, revision="41d88002a177")  # the schema before Forge tenants existed
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO tenants (id, client_key, base_url, product_type, shared_secret_enc, payload_json, "
                "enabled, installed_at, updated_at) VALUES (1, 'k', 'https://a.example', 'jira', 'x', '{}', "
                ":t, '2026-01-01', '2026-01-01')"), {"t": True})
            conn.execute(text("INSERT INTO tenant_base_urls (id, tenant_id, base_url, first_seen) "
                              "VALUES (1, 1, 'https://a.example', '2026-01-01')"))
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tenant_base_urls")).scalar_one() == 1
            assert conn.execute(text("SELECT door FROM tenants")).scalar_one() == "connect"
            if conn.dialect.name == "sqlite":  # and foreign keys are enforced again afterwards
                assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
