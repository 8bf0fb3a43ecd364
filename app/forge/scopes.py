"""The OAuth scopes the Forge app asks for: the classic scopes of every operation the app declares it calls.

``forge_scopes()`` is the sorted tuple the manifest's ``permissions.scopes`` must list exactly, computed from every
declaring module ``app/wiring.py`` lists, so it is never a partial list.
"""

from __future__ import annotations

from functools import cache

from ..jira.operations import Operation


def forge_scopes() -> tuple[str, ...]:
    """The union of the classic OAuth scopes of every declared operation, sorted."""
    from ..wiring import declared_operations  # the wiring imports every module that calls Jira, this one's users too

    scopes: set[str] = set()
    for op in declared_operations():
        scopes |= op.oauth_scopes
    return tuple(sorted(scopes))


@cache
def _granted() -> frozenset[str]:
    return frozenset(forge_scopes())


def forge_allows(op: Operation) -> bool:
    """May the Forge system token call ``op``? Yes when its classic scopes are among ``forge_scopes()``."""
    return op.oauth_scopes <= _granted()
