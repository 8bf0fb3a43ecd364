"""Sections of the Disaster recovery page contributed by other features (backups, OAuth access, restore).

Each feature registers a template partial and a function giving its context for a tenant, so the page view
stays thin and the features stay out of each other's code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..tenants import Tenant


@dataclass(frozen=True)
class PageSection:
    key: str  # stable id, also the HTML anchor
    template: str  # e.g. "admin/_backups.html"
    context: Callable[[Tenant], dict[str, Any]]
    order: int = 100


SECTIONS: dict[str, PageSection] = {}


def register_section(section: PageSection) -> None:
    SECTIONS[section.key] = section


def sections_for(tenant: Tenant) -> list[tuple[PageSection, dict[str, Any]]]:
    """The registered sections in page order, each with its context for ``tenant``."""
    return [(s, s.context(tenant)) for s in sorted(SECTIONS.values(), key=lambda s: (s.order, s.key))]
