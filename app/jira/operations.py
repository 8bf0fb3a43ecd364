"""The Jira operations this app calls with its Connect credentials: the descriptor's scopes are derived from these.

Each entry is ``(METHOD, spec path template)`` as in Atlassian's OpenAPI spec; a test checks the descriptor asks
for exactly the smallest scope set that covers the ``x-atlassian-connect-scope`` of every entry.
"""

from __future__ import annotations

CONNECT_OPERATIONS: list[tuple[str, str]] = [
    ("POST", "/rest/api/3/permissions/check"),
]

# Connect scopes are hierarchical: each implies those before it.
SCOPE_ORDER = ("READ", "WRITE", "DELETE", "PROJECT_ADMIN", "ADMIN")
