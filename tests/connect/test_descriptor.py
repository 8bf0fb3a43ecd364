"""Would Jira accept our descriptor, does every URL in it lead somewhere, and do we ask for no more than we use?"""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest

from app.jira.operations import CONNECT_OPERATIONS, SCOPE_ORDER
from tests.conftest import REFERENCE_DIR


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
        methods = {"POST"} if url in descriptor["lifecycle"].values() else {"GET"}
        for method in methods:
            adapter.match(path, method=method)  # raises NotFound / MethodNotAllowed


def test_scopes_are_the_minimal_cover_of_operations_we_call(client) -> None:
    spec = json.loads((REFERENCE_DIR / "jira-platform-openapi.json").read_text())
    needed = set()
    for method, template in CONNECT_OPERATIONS:
        scope = spec["paths"][template][method.lower()]["x-atlassian-connect-scope"]
        assert scope != "INACCESSIBLE", f"{method} {template} can't be called with Connect credentials"
        needed.add(scope)
    hierarchical = [s for s in needed if s in SCOPE_ORDER]
    expected = {s for s in needed if s not in SCOPE_ORDER}
    if hierarchical:
        expected.add(max(hierarchical, key=SCOPE_ORDER.index))
    descriptor = client.get("/atlassian-connect.json").get_json()
    assert set(descriptor["scopes"]) == expected
