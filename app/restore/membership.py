"""Which projects an object belongs to, for restoring some projects: what ``Restorer.projects`` may answer.

Besides project keys: ``ALL_PROJECTS``, the object belongs to every project (a global custom field context: any
project's issues need it), and ``PROJECT_ID + id``, a project named by its id (a field context holds ids), which
``memberships`` resolves to the project's key from the projects' own entries.
"""

from __future__ import annotations

ALL_PROJECTS = "*"
PROJECT_ID = "ID:"

Key = tuple[str, str]


def memberships(found: dict[Key, set[str]]) -> dict[Key, set[str]]:
    """``found`` (object -> project keys, upper-cased) with projects named by id replaced by their keys."""
    key_of = {source_id: keys for (type_key, source_id), keys in found.items() if type_key == "projects"}
    out = {}
    for key, projects in found.items():
        out[key] = {k for p in projects for k in (key_of.get(p.removeprefix(PROJECT_ID), set())
                                                  if p.startswith(PROJECT_ID) else {p})}
    return out
