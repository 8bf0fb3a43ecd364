"""Sections of the Disaster recovery page contributed by other features (backups, OAuth access, restore).

Each feature declares a ``PageSection`` (a template partial and a function giving its context for a tenant) and
``app/wiring.py`` lists them, so the page view stays thin and the features stay out of each other's code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from ..tenants import Tenant


@dataclass(frozen=True)
class PageSection:
    key: str  # stable id, also the HTML anchor
    template: str  # e.g. "admin/_backups.html"
    context: Callable[[Tenant], dict[str, Any]]
    order: int = 100


def page_sections() -> list[PageSection]:
    """The app's page sections (``app/wiring.py``)."""
    found: list[PageSection] = current_app.extensions["wiring"].sections
    return found


def sections_for(tenant: Tenant) -> list[tuple[PageSection, dict[str, Any]]]:
    """The app's sections in page order, each with its context for ``tenant``."""
    return [(s, s.context(tenant)) for s in sorted(page_sections(), key=lambda s: (s.order, s.key))]
