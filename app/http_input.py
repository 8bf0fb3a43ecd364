"""Bounds what hostile input can reach the code behind every route: ids in paths, forms and JSON, and JSON nesting.

Installed once for the whole app (``init_app``), for both doors:

- the ``int`` URL converter only matches ids our id columns can hold (1..2**31-1): ``/x/99999999999999999999999``
  is a missing object (404) instead of an ``OverflowError`` (SQLite) or a ``DataError`` (PostgreSQL) from the query;
- ``parse_id`` reads an id sent in a form, a query string or a JSON body with the same bounds, or raises
  ``InvalidId`` (a 400 with the field named, expected vs received);
- the JSON provider refuses bodies nested deeper than ``MAX_JSON_DEPTH`` (``JsonTooDeep``, a ``ValueError``), so
  ``request.get_json`` treats them as it treats any malformed JSON instead of raising ``RecursionError``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import Map, ValidationError
from werkzeug.routing.converters import IntegerConverter

MIN_ID = 1
# Every id a route or a body names is an INTEGER column: 32 bits on PostgreSQL, whose queries cast the parameter to
# the column's type (a larger value is a DataError there, and beyond 2**63 an OverflowError on SQLite).
MAX_ID = 2**31 - 1
MAX_ID_DIGITS = len(str(MAX_ID))
MAX_JSON_DEPTH = 64  # Jira's, Forge's and our page's bodies nest a handful of levels; parsers recurse per level


class InvalidInput(ValueError):
    """A value from the request that can't be what the field holds; the message is safe to show."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidId(InvalidInput):
    """An id that is not a whole number in MIN_ID..MAX_ID."""

    def __init__(self, field: str, received: str) -> None:
        super().__init__(f"'{field}' must be a whole number from {MIN_ID} to {MAX_ID}; received {received}.")
        self.field = field


class JsonTooDeep(InvalidInput):
    """A JSON document nested deeper than we parse."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The JSON body is nested more than {limit} levels deep.")


def _describe(value: object) -> str:
    """What was received, without echoing it: its type, or for digits how many there were."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return "a number out of range" if value > 0 else "a number below 1"
    if isinstance(value, str):
        if not value.strip():
            return "an empty value"
        return f"{len(value)} characters that are not such a number"
    return f"a {type(value).__name__}"


def parse_id(value: object, field: str) -> int:
    """Read an untrusted id (form or query text of ASCII digits, or a JSON integer) bounded to MIN_ID..MAX_ID.

    :raises InvalidId: anything else (signs, spaces inside, non-ASCII digits, booleans, floats, too large).
    """
    if isinstance(value, str):
        text = value.strip()
        # ASCII digits only, and no more of them than the largest id has (int() of a huge string is itself slow).
        if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
            value = int(text)
    if isinstance(value, int) and not isinstance(value, bool) and MIN_ID <= value <= MAX_ID:
        return value
    raise InvalidId(field, _describe(value))


def parse_optional_id(value: object, field: str) -> int | None:
    """``parse_id``, with an absent or blank value as None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_id(value, field)


class IdConverter(IntegerConverter):
    """``<int:...>`` bounded to the ids a database holds: anything else doesn't match, so the route answers 404."""

    regex = r"[0-9]+"  # ASCII only (werkzeug's \d+ also matches other scripts' digits)

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = MIN_ID, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-").lstrip("0")) > MAX_ID_DIGITS:
            raise ValidationError()  # never int() a thousand digits just to find it too large
        return super().to_python(value)


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed JSON) nests lists/objects more than ``limit`` levels deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested beyond ``MAX_JSON_DEPTH`` with ``JsonTooDeep`` (a ValueError)."""

    max_depth = MAX_JSON_DEPTH

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:  # deeper than the interpreter's own stack allows
            raise JsonTooDeep(self.max_depth) from None
        # Cheap first: a document with no more brackets than the limit can't nest deeper than it.
        brackets = s.count(b"[") + s.count(b"{") if isinstance(s, bytes) else s.count("[") + s.count("{")
        if brackets > self.max_depth and json_depth_exceeds(value, self.max_depth):
            raise JsonTooDeep(self.max_depth)
        return value


def init_app(app: Flask) -> None:
    """Install the bounded ``int`` converter and JSON provider; call before any blueprint is registered."""
    # Rules bind their converters when added: an "int" route registered earlier would keep werkzeug's unbounded one.
    if any("<int" in rule.rule for rule in app.url_map.iter_rules()):
        raise RuntimeError("http_input.init_app must run before any route with an <int:...> argument is registered")
    app.url_map.converters["int"] = IdConverter
    app.json = BoundedJSONProvider(app)
