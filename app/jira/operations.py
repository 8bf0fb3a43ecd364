"""What each Jira operation needs: its Connect scope and OAuth scopes, and the operations this app declares it calls.

The table ``operation_scopes.json`` is generated from Atlassian's OpenAPI specs by
``scripts/gen_operation_scopes.py`` (a test keeps it in sync). Modules that call Jira declare their operations with
``OP = declare(...)`` at module level; ``app/wiring.py`` collects them, and the descriptor's scopes derive from them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_TABLE = Path(__file__).with_name("operation_scopes.json")
_PARAM = re.compile(r"\{[^}/]+\}")


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    connect_scope: str  # READ ... ADMIN, NONE, ACT_AS_USER, ACCESS_EMAIL_ADDRESSES or INACCESSIBLE
    oauth_scopes: frozenset[str]

    @property
    def connect_allowed(self) -> bool:
        return self.connect_scope != "INACCESSIBLE"

    def path(self, **params: object) -> str:
        """The template with its ``{params}`` filled in (values are percent-encoded)."""
        from urllib.parse import quote

        def fill(match: re.Match[str]) -> str:
            name = match.group(0)[1:-1]
            if name not in params:
                raise KeyError(f"{self.template} needs path parameter {name!r}")
            return quote(str(params[name]), safe="")

        return _PARAM.sub(fill, self.template)


class UnknownOperation(KeyError):
    """An operation that isn't in Atlassian's spec: a typo, or an endpoint Jira doesn't have."""


@cache
def _table() -> dict[str, dict]:
    return json.loads(_TABLE.read_text())


def operation(method: str, template: str) -> Operation:
    """The operation ``METHOD template`` as the spec describes it."""
    key = f"{method.upper()} {template}"
    entry = _table().get(key)
    if entry is None:
        raise UnknownOperation(f"{key} is not an operation of Jira's REST API")
    return Operation(method.upper(), template, entry["connect"], frozenset(entry["oauth"]))


def declare(method: str, template: str) -> Operation:
    """The operation ``METHOD template``, named at module level by a module that calls it.

    Nothing is recorded: ``app/wiring.py`` lists the declaring modules and collects their operations, so the
    descriptor asks for every scope the app needs and no other.
    """
    return operation(method, template)


PERMISSIONS_CHECK = declare("POST", "/rest/api/3/permissions/check")
