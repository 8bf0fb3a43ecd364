"""The OAuth scopes the Forge app asks for: the classic scopes of every operation the app declares it calls.

``FORGE_SCOPES`` is the sorted tuple the manifest's ``permissions.scopes`` must list exactly. It is computed on
first access, after every declaring module is imported (``app.domain_modules``), so it is never a partial list.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..jira.operations import Operation, declared


def forge_scopes() -> tuple[str, ...]:
    """The union of the classic OAuth scopes of every declared operation, sorted."""
    from .. import domain_modules  # noqa: F401  (the declarations must be complete)

    scopes: set[str] = set()
    for op in declared():
        scopes |= op.oauth_scopes
    return tuple(sorted(scopes))


@cache
def _granted() -> frozenset[str]:
    return frozenset(forge_scopes())


def forge_allows(op: Operation) -> bool:
    """May the Forge system token call ``op``? Yes when its classic scopes are among ``FORGE_SCOPES``."""
    return op.oauth_scopes <= _granted()


def __getattr__(name: str) -> Any:
    # ``from app.forge.scopes import FORGE_SCOPES`` works, and always sees the complete declarations.
    if name == "FORGE_SCOPES":
        return forge_scopes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
