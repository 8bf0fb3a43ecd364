"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Table, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every model here maps a plain table (none maps a join or a select), so its ``__table__`` is a ``Table``.
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# The base of our tables. At run time it is ``db.Model`` (Flask-SQLAlchemy builds it as a subclass of ``Base`` with
# its session binding); a type checker cannot see an attribute as a class, so it is shown ``Base`` itself.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()


T = TypeVar("T")


def affected_rows(result: Result[Any]) -> int:
    """The number of rows an UPDATE or DELETE matched (``Session.execute`` is typed as any ``Result``)."""
    return cast(CursorResult[Any], result).rowcount


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
