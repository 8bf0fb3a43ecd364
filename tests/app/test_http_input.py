"""Bounds on hostile input, installed app-wide: the ``int`` converter, ``parse_id`` and the JSON nesting limit."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from werkzeug.routing.converters import IntegerConverter

from app.http_input import MAX_ID, MAX_JSON_DEPTH, IdConverter, InvalidId, JsonTooDeep, parse_id, parse_optional_id


@pytest.mark.parametrize("value", ["1", " 42 ", str(MAX_ID), 7, MAX_ID])
def test_does_parse_id_read_every_valid_id(value) -> None:
    assert parse_id(value, "connection") == int(str(value).strip())


@pytest.mark.parametrize("value", ["", "0", "-1", "+1", "1e3", "1_000", "0x10", "١٢", "²", "1.0", str(MAX_ID + 1),
                                   "9" * 5000, 0, -1, MAX_ID + 1, 2**63, 10**30, True, 1.5, None, [1], {"a": 1}])
def test_does_parse_id_refuse_everything_else_without_echoing_it(value) -> None:
    with pytest.raises(InvalidId) as caught:
        parse_id(value, "connection")
    assert caught.value.message.startswith(f"'connection' must be a whole number from 1 to {MAX_ID}; received ")
    assert not (isinstance(value, str) and len(value) > 2 and value in caught.value.message)


def test_is_a_blank_optional_id_absent() -> None:
    assert parse_optional_id(None, "c") is None and parse_optional_id("  ", "c") is None
    assert parse_optional_id("3", "c") == 3


def test_does_every_int_route_use_the_bounded_converter(app: Flask) -> None:
    """create_app installs it before any blueprint: a route bound to werkzeug's own ``int`` would be unbounded."""
    int_rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert int_rules
    for rule in int_rules:
        ints = [c for c in rule._converters.values() if isinstance(c, IntegerConverter)]
        assert ints and all(isinstance(c, IdConverter) for c in ints), rule.rule


@pytest.mark.parametrize(("ident", "status"), [("1", 200), (str(MAX_ID), 200), ("0", 404), (str(MAX_ID + 1), 404),
                                               ("-1", 404), ("٣", 404), ("9" * 5000, 404)])
def test_does_the_converter_match_only_ids_in_range(ident, status) -> None:
    probe = Flask(__name__)
    from app import http_input

    http_input.init_app(probe)
    probe.add_url_rule("/x/<int:item_id>", "x", lambda item_id: str(item_id))
    assert probe.test_client().get(f"/x/{ident}").status_code == status


@pytest.mark.parametrize("depth", [1, MAX_JSON_DEPTH])
def test_does_json_up_to_the_limit_parse(app: Flask, depth: int) -> None:
    text = "[" * depth + "]" * depth
    with app.app_context():
        assert app.json.loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ["[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
                                  '{"a":' * 5000 + "1" + "}" * 5000, "[" * 5000, "[" * 100_000])
def test_is_json_nested_past_the_limit_a_value_error(app: Flask, text: str) -> None:
    with app.app_context(), pytest.raises(JsonTooDeep) as caught:
        app.json.loads(text.encode())
    assert isinstance(caught.value, ValueError) and f"more than {MAX_JSON_DEPTH} levels" in caught.value.message


def test_is_invalid_input_escaping_a_view_a_400_in_each_doors_shape(app: Flask) -> None:
    """Errors are turned into responses in one place: a view that lets InvalidId escape still answers 400."""
    def strict() -> str:
        return str(parse_id("-1", "run"))

    app.add_url_rule("/probe/strict", "probe_strict", strict)
    app.add_url_rule("/forge/probe/strict", "forge_probe_strict", strict)
    app.config["FORGE_APP_ID"] = "ari:cloud:ecosystem::app/probe"
    client = app.test_client()
    plain = client.get("/probe/strict", headers={"Accept": "application/json"})
    assert plain.status_code == 400 and plain.get_json()["error"].startswith("'run' must be a whole number")
    forge = client.get("/forge/probe/strict")
    assert forge.status_code == 400 and forge.get_json()["error"]["code"] == "bad-request"
