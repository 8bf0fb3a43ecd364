"""Fixtures of the emulator's own tests (the plugin with fake_cloud, fake_site... is loaded by tests/conftest.py)."""

from collections.abc import Iterator
from typing import Any

import pytest

from fakejira import installer, seeding
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.registry import Reply
from fakejira.site import Site
from tests.emulator.helpers import APP_KEY

CATEGORY = {"id": "10000", "name": "Ops", "description": "", "self": "http://x/rest/api/3/projectCategory/10000"}


@pytest.fixture
def site() -> Site:
    """A fresh site with Jira's defaults, not served: resource tests call its handlers through ``dispatch``.

    The part-B resource tests (fields, screens, schemes, sharing) override it with ``helpers.make_site()``.
    """
    return seeding.new_site("acme", "http://127.0.0.1:9")


@pytest.fixture
def bare_site(fake_cloud: Cloud) -> Site:
    """A served site without Jira's defaults: pipeline tests don't depend on the resource modules."""
    return fake_cloud.add_site("bare", defaults=False)


@pytest.fixture
def category_handlers(fakejira_handler: Any) -> Iterator[list[dict[str, Any]]]:
    """Test-only handlers on real operations: list (READ) and create (ADMIN) project categories."""
    created: list[dict[str, Any]] = []

    def list_categories(ctx: Any) -> list[dict[str, Any]]:
        return [CATEGORY, *created]

    def create_category(ctx: Any) -> Reply:
        record = {"id": str(10001 + len(created)), "self": "http://x/c", **ctx.body}
        created.append(record)
        return Reply(201, record)

    fakejira_handler("GET", "/rest/api/3/projectCategory", list_categories)
    fakejira_handler("POST", "/rest/api/3/projectCategory", create_category)
    yield created


@pytest.fixture
def admin_app(bare_site: Site, category_handlers: Any) -> ConnectClient:
    """An app installed with READ+WRITE+ADMIN, and a client that signs its calls."""
    installer.install_direct(bare_site, APP_KEY, ["READ", "WRITE", "ADMIN"])
    return ConnectClient(bare_site, APP_KEY)
