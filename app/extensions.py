"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


T = TypeVar("T")


def lazy_extension(name: str, factory: Callable[[Flask], T]) -> T:
    """The app's ``extensions[name]``, built on first use from the current config (tests may change config first)."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    value = app.extensions.get(name)
    if value is None:
        value = factory(app)
        app.extensions[name] = value
    return value


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection: object, _record: object) -> None:
    """SQLite ignores foreign keys (and their ON DELETE CASCADE) unless told otherwise, per connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
