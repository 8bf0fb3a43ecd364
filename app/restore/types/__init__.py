"""Per-object-type restorers: how each configuration type is matched, created and compared on a destination site."""

from __future__ import annotations

from importlib import import_module

from .base import Restorer

# type key -> restorer; filled by ``@register`` as the type modules are imported (``load``).
REGISTRY: dict[str, Restorer] = {}

TYPE_MODULES = (
    "app.restore.types.simple",
    "app.restore.types.fields",
    "app.restore.types.screens",
    "app.restore.types.workflows",
    "app.restore.types.schemes",
    "app.restore.types.projects",
    "app.restore.types.sharing",
)


def register(cls: type[Restorer]) -> type[Restorer]:
    """Make ``cls`` the restorer of its ``type_key``."""
    REGISTRY[cls.type_key] = cls()
    return cls


def load() -> dict[str, Restorer]:
    """Every registered restorer (importing the type modules once)."""
    for name in TYPE_MODULES:
        import_module(name)
    return REGISTRY
