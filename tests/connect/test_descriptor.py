"""Would Jira accept our descriptor, does every URL in it lead somewhere, and do we ask for no more than we use?"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest

from app.jira.operations import Operation, UnknownOperation, operation
from tests.conftest import REFERENCE_DIR

SCOPE_ORDER = ("READ", "WRITE", "DELETE", "PROJECT_ADMIN", "ADMIN")  # Connect scopes: each implies those before it


def connect_scopes_needed(ops: list[Operation]) -> set[str]:
    """The smallest descriptor scope set covering every Connect-callable operation in ``ops``."""
    needed = {op.connect_scope for op in ops if op.connect_allowed and op.connect_scope != "NONE"}
    hierarchical = [s for s in needed if s in SCOPE_ORDER]
    scopes = {s for s in needed if s not in SCOPE_ORDER}
    if hierarchical:
        scopes.add(max(hierarchical, key=SCOPE_ORDER.index))
    return scopes


@pytest.fixture(scope="module")
def schema() -> dict:
    """Atlassian's 2019 descriptor schema with the two apiMigrations booleans it predates overlaid."""
    raw = json.loads((REFERENCE_DIR / "jira-global-schema.json").read_text())
    overlay = copy.deepcopy(raw)
    props = overlay["properties"]["apiMigrations"]["properties"]
    props["signed-install"] = {"type": "boolean"}
    props["context-qsh"] = {"type": "boolean"}
    return overlay


def test_descriptor_validates_against_atlassian_schema(client, schema) -> None:
    descriptor = client.get("/atlassian-connect.json").get_json()
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(descriptor), key=str)
    assert errors == []


def test_descriptor_fills_in_deployment_values(client, app) -> None:
    descriptor = client.get("/atlassian-connect.json").get_json()
    assert descriptor["baseUrl"] == app.config["BASE_URL"]
    assert descriptor["key"] == app.config["APP_KEY"] and len(descriptor["key"]) <= 64
    assert descriptor["authentication"] == {"type": "jwt"}
    assert descriptor["apiMigrations"]["signed-install"] is True
    assert descriptor["apiMigrations"]["context-qsh"] is True
    assert set(descriptor["lifecycle"]) == {"installed", "uninstalled", "enabled", "disabled"}


def test_admin_page_is_in_the_apps_menu_for_admins_only(client) -> None:
    modules = client.get("/atlassian-connect.json").get_json()["modules"]
    section = modules["webSections"][0]
    assert section["location"] == "admin_plugins_menu"
    page = modules["adminPages"][0]
    assert page["name"]["value"] == "Disaster recovery connections"
    assert page["location"] == f"admin_plugins_menu/{section['key']}"
    assert {"condition": "user_is_admin"} in page["conditions"]
    assert modules["configurePage"]["url"] == page["url"]


def _urls(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"url", "installed", "uninstalled", "enabled", "disabled", "self"} and isinstance(value, str):
                found.append(value)
            else:
                _urls(value, found)
    elif isinstance(node, list):
        for item in node:
            _urls(item, found)
    return found


def test_every_url_in_the_descriptor_is_a_route(client, app) -> None:
    descriptor = client.get("/atlassian-connect.json").get_json()
    urls = _urls({"lifecycle": descriptor["lifecycle"], "modules": descriptor["modules"],
                  "links": {"self": descriptor["links"]["self"]}}, [])
    assert urls
    adapter = app.url_map.bind("localhost")
    for url in urls:
        path = re.sub(r"\{[^}]+\}", "x", url.split("?")[0])
        posted = set(descriptor["lifecycle"].values()) | {w["url"] for w in descriptor["modules"].get("webhooks", [])}
        methods = {"POST"} if url in posted else {"GET"}  # Jira posts lifecycle events and webhooks
        for method in methods:
            adapter.match(path, method=method)  # raises NotFound / MethodNotAllowed


def test_scopes_are_the_minimal_cover_of_operations_we_call(client) -> None:
    ops = list(client.application.extensions["wiring"].operations)  # every module that calls Jira declares its own
    assert ops
    descriptor = client.get("/atlassian-connect.json").get_json()
    assert set(descriptor["scopes"]) == connect_scopes_needed(ops)


def test_operation_scope_table_is_in_sync_with_the_spec() -> None:
    """The compact table shipped with the app says what Atlassian's spec says, for every operation."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "gen_operation_scopes.py"
    spec = importlib.util.spec_from_file_location("gen", script)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.build(REFERENCE_DIR) == json.loads(gen.OUT.read_text())


@pytest.mark.parametrize(("method", "template", "scope"), [
    ("GET", "/rest/api/3/statuses/search", "INACCESSIBLE"),
    ("POST", "/rest/api/3/workflows/create", "INACCESSIBLE"),
    ("POST", "/rest/api/3/field", "ADMIN"),
    ("GET", "/rest/api/3/priority/search", "READ"),
])
def test_operation_lookup(method, template, scope) -> None:
    assert operation(method, template).connect_scope == scope


def test_unknown_operation_is_refused() -> None:
    with pytest.raises(UnknownOperation):
        operation("POST", "/rest/api/3/workflow")  # removed from Jira in 2026
