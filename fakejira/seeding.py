"""Builds sites: a brand-new site's defaults, a seed document loaded on top, and export back out.

A seed is a JSON object keyed by object type; each entry is what the matching Jira GET endpoint
returns (nested resources keyed by their parent's id). Export produces the same format, so a
seed -> export round trip is lossless and before/after comparisons are one call.
"""

from __future__ import annotations

import copy
from graphlib import TopologicalSorter
from typing import Any

from . import resources  # noqa: F401  (imports register the seeders)
from .registry import DEFAULTS, EXPORTERS, OMIT_EMPTY, SEED_AFTER, SEEDERS
from .site import Site


class SeedError(ValueError):
    """A seed document that can't be loaded: unknown key, or a reference to nothing."""


def seed_order() -> list[str]:
    """Seed keys in an order where every key comes after the keys it references."""
    graph = {name: {dep for dep in SEED_AFTER.get(name, ()) if dep in SEEDERS} for name in SEEDERS}
    return list(TopologicalSorter(graph).static_order())


def apply_defaults(site: Site) -> None:
    """Give ``site`` what a brand-new Jira Cloud site has."""
    for install in DEFAULTS:
        install(site)


def load_seed(site: Site, seed: dict[str, Any]) -> None:
    """Load a seed document into ``site`` (on top of its defaults); the caller's document is never shared.

    Each loader gets a deep copy of its entry, so no stored record can alias the caller's seed (a later PUT
    would otherwise edit it, and a seed reused for a second site would come back changed).
    """
    unknown = sorted(set(seed) - set(SEEDERS) - {"$schema", "_meta"})
    if unknown:
        raise SeedError(f"unknown seed keys: {', '.join(unknown)}; known: {', '.join(sorted(SEEDERS))}")
    with site.store.lock:
        for name in seed_order():
            if name in seed:
                SEEDERS[name](site, copy.deepcopy(seed[name]))


def export_site(site: Site) -> dict[str, Any]:
    """The site's configuration (and issue data, when it has any) in seed format."""
    with site.store.lock:
        exported = {name: EXPORTERS[name](site) for name in seed_order()}
    return {name: value for name, value in exported.items() if value or name not in OMIT_EMPTY}


def new_site(name: str, base_url: str = "http://127.0.0.1", seed: dict[str, Any] | None = None,
             *, defaults: bool = True) -> Site:
    """A site with Jira's defaults (unless told otherwise) and ``seed`` loaded."""
    site = Site(name, base_url)
    if defaults:
        apply_defaults(site)
    if seed:
        load_seed(site, seed)
    return site
