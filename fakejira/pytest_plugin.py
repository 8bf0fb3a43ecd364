"""pytest fixtures for the emulated Jira Cloud: a served cloud, a served site, temporary handlers and the guard
that fails a test when any site recorded a spec violation the test did not declare expected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from . import dispatch, spec
from .cloud import ALL_CLOUDS, Cloud
from .registry import HANDLERS, Handler
from .site import Site

EXPECTED_MARK = "fakejira_violations_expected"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{EXPECTED_MARK}: the test provokes Jira spec violations on purpose")


@pytest.fixture(scope="session")
def fakejira_spec() -> None:
    """Load and index the Jira specs once per test session."""
    spec.warm_up()


@pytest.fixture
def fake_cloud(fakejira_spec: None) -> Iterator[Cloud]:
    """A cloud whose platform (and every site added to it) is served on 127.0.0.1; stopped after the test."""
    cloud = Cloud()
    with cloud.serve():
        yield cloud


@pytest.fixture
def fake_site(fake_cloud: Cloud) -> Site:
    """A served site named ``acme`` with a brand-new Jira site's defaults."""
    return fake_cloud.add_site("acme")


@pytest.fixture
def fakejira_handler() -> Iterator[Callable[[str, str, Handler], None]]:
    """Register a handler for a real spec operation for this test only (an existing one is restored after)."""
    saved: dict[tuple[str, str], Handler | None] = {}

    def register(method: str, template: str, fn: Handler) -> None:
        key = (method.upper(), template)
        saved.setdefault(key, HANDLERS.get(key))
        HANDLERS[key] = fn
        dispatch.reset_cache()

    yield register
    for key, previous in saved.items():
        if previous is None:
            HANDLERS.pop(key, None)
        else:
            HANDLERS[key] = previous
    dispatch.reset_cache()


@pytest.fixture(autouse=True)
def fakejira_violation_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if any cloud recorded a spec violation that wasn't expected.

    Declare expected ones with ``with cloud.expect_violations():`` or the ``fakejira_violations_expected`` mark.
    """
    yield
    found: list[Any] = []
    for cloud in list(ALL_CLOUDS):
        checked = getattr(cloud, "_guard_checked", 0)
        found.extend(v for v in cloud.violations[checked:] if not v.expected)
        cloud._guard_checked = len(cloud.violations)  # each violation is reported once
    if found and request.node.get_closest_marker(EXPECTED_MARK) is None:
        listing = "\n".join(f"  - {v}" for v in found[:20])
        pytest.fail(f"the emulated Jira recorded {len(found)} spec violation(s):\n{listing}", pytrace=False)
