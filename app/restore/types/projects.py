"""Restorer of company-managed projects: created without a template with every restored scheme, then (idempotently)
priority scheme, role actors, components and versions in their order. Team-managed projects are reported."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from ...backups.catalogue import OP_COMPONENTS, OP_PROJECTS, OP_VERSIONS, read_projects
from ...jira.access import SiteAccess
from ...jira.operations import declare
from ..mapping import to_destination
from .base import CannotRestore, Existing, IdMap, Restorer, fold, just_created, reader, run_memo
from .simple import LIST_ROLES

_READING = "(lock)"  # a run memo's entry holding the lock its readers take (role ids are numbers)

CREATE_PROJECT = declare("POST", "/rest/api/3/project")
SET_ROLE_ACTORS = declare("PUT", "/rest/api/3/project/{projectIdOrKey}/role/{id}")
CREATE_COMPONENT = declare("POST", "/rest/api/3/component")
CREATE_VERSION = declare("POST", "/rest/api/3/version")
MOVE_VERSION = declare("POST", "/rest/api/3/version/{id}/move")
ASSIGN_PRIORITY_SCHEME = declare("PUT", "/rest/api/3/priorityscheme/{schemeId}")

READ_ONLY_ROLE = "atlassian-addons-project-access"
# project scheme slot -> (type key, whether the project can't be faithful without it)
SCHEMES: dict[str, tuple[str, bool]] = {
    "issueTypeScheme": ("issueTypeSchemes", True),
    "issueTypeScreenScheme": ("issueTypeScreenSchemes", True),
    "fieldConfigurationScheme": ("fieldConfigurationSchemes", True),
    "workflowScheme": ("workflowSchemes", True),
    "permissionScheme": ("permissionSchemes", True),
    # Walls of their own (OAuth-only writes): a project is still worth restoring on the default ones.
    "notificationScheme": ("notificationSchemes", False),
    "issueSecurityScheme": ("issueSecuritySchemes", False),
    "priorityScheme": ("prioritySchemes", False),
}
# Scheme ids that stand for "the destination's default, nothing to assign".
DEFAULT_IDS = frozenset({"default"})
VERSION_FIELDS = ("name", "description", "released", "archived", "startDate", "releaseDate")


def _scheme_id(obj: dict[str, Any], slot: str) -> str | None:
    scheme = (obj.get("schemes") or {}).get(slot) or {}
    return None if scheme.get("id") in (None, "") else str(scheme["id"])


def _account(user: dict[str, Any] | None) -> str | None:
    return str(user["accountId"]) if user and user.get("accountId") else None


class Projects(Restorer):
    type_key = "projects"
    title = "Projects"
    writes = (CREATE_PROJECT, SET_ROLE_ACTORS, CREATE_COMPONENT, CREATE_VERSION, MOVE_VERSION)

    def cost(self, obj: dict[str, Any]) -> int:
        return 1 + len(obj.get("components") or []) + len(obj.get("versions") or []) + len(obj.get("roleActors") or [])

    def natural_key(self, obj: dict[str, Any]) -> str:
        return str(obj["key"]).upper()

    def display_name(self, obj: dict[str, Any]) -> str:
        return f"{obj['key']} ({obj.get('name', '')})"

    def projects(self, obj: dict[str, Any]) -> Iterable[str]:
        return [str(obj["key"])]

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        found = [_account(obj.get("lead"))]
        found += [_account(c.get("lead")) for c in obj.get("components") or []]
        found += [_account(a.get("actorUser")) for r in obj.get("roleActors") or [] for a in r.get("actors") or []]
        return sorted({a for a in found if a})

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for item in read_projects(reader(access)):
            yield Existing(self.natural_key(item.obj), str(item.obj["id"]), item.obj)

    def lookup(self, access: SiteAccess, natural_key: str) -> Existing | None:
        # Reconciling one lost create: a key search, not a read of every project with its roles.
        for found in access.paginate(OP_PROJECTS, params={"keys": [natural_key]}, page_size=50):
            if str(found.get("key", "")).upper() == natural_key:
                return Existing(natural_key, str(found["id"]), found)
        return None

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if obj.get("simplified") or obj.get("style") == "next-gen":
            return CannotRestore("A team-managed project: Jira's API can't recreate team-managed projects.",
                                 f"Create the team-managed project {obj['key']} by hand (Projects > Create project).")
        return None

    # -- create ------------------------------------------------------------------------------------------

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        obj = to_destination(self.type_key, obj, ids)
        lead = _account(obj.get("lead"))
        if not lead:
            raise CannotRestore(f"The project lead of {obj['key']} has no account on this site and references "
                                "to missing users are dropped; Jira requires a lead.",
                                "Choose the restoring admin as the fallback for missing users and restore again.")
        body: dict[str, Any] = {"key": obj["key"], "name": obj["name"], "projectTypeKey": obj["projectTypeKey"],
                                "description": obj.get("description") or "", "leadAccountId": lead,
                                "assigneeType": obj.get("assigneeType") or "UNASSIGNED"}
        if obj.get("url"):
            body["url"] = obj["url"]
        category = (obj.get("projectCategory") or {}).get("id")
        if category:
            body["categoryId"] = int(category)
        for slot in SCHEMES:
            if slot == "priorityScheme":
                continue  # not a create field: assigned afterwards
            mapped = self._scheme(obj, slot)
            if mapped is not None:
                body[slot] = int(mapped)
        return str(access.call(CREATE_PROJECT, json=body)["id"])

    def _scheme(self, obj: dict[str, Any], slot: str) -> str | None:
        """A scheme slot of a project in destination terms; None: the destination's default (nothing to set)."""
        sid = _scheme_id(obj, slot)
        return None if sid is None or sid in DEFAULT_IDS or not sid.lstrip("-").isdigit() else sid

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        mapped = to_destination(self.type_key, obj, ids)
        priority = self._scheme(mapped, "priorityScheme")
        if priority is not None and access.can_call(ASSIGN_PRIORITY_SCHEME):
            access.call(ASSIGN_PRIORITY_SCHEME, path={"schemeId": priority},
                        json={"projects": {"add": {"ids": [int(dest_id)]}}})
        self._role_actors(access, dest_id, mapped, ids)
        self._components(access, dest_id, mapped)
        self._versions(access, dest_id, obj)

    def _role_actors(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        """Each role's actors (of the project in destination terms: a role or group not here is left out)."""
        fresh = just_created()
        for role in obj.get("roleActors") or []:
            role_id = str(role["id"])
            if role.get("name") == READ_ONLY_ROLE:
                continue
            groups, users = _actors(role)
            if fresh and self._role_defaults(access, ids, role_id) == (sorted(set(groups)), sorted(set(users))):
                continue  # a new project starts with each role's default actors: these are those already
            # Setting (not adding) replaces the role's default actors, and repeating it is harmless.
            access.call(SET_ROLE_ACTORS, path={"projectIdOrKey": dest_id, "id": role_id},
                        json={"categorisedActors": {"atlassian-group-role-actor-id": groups,
                                                    "atlassian-user-role-actor": users}})

    def _role_defaults(self, access: SiteAccess, ids: IdMap, role_id: str) -> tuple[list[str], list[str]] | None:
        """The destination role's default actors (group ids, account ids), from one read of every role per run.

        Roles are restored before the projects naming them, so a role missing from the read is newer than it and
        the list is read again."""
        memo = run_memo(ids, "roleDefaults")
        # One reader at a time: four workers reaching their first project together would each read every role.
        with memo.setdefault(_READING, threading.Lock()):
            if role_id not in memo:
                for found in access.call(LIST_ROLES) or []:
                    groups = [str((a.get("actorGroup") or {}).get("groupId")) for a in found.get("actors") or []
                              if (a.get("actorGroup") or {}).get("groupId")]
                    users = [str((a.get("actorUser") or {}).get("accountId")) for a in found.get("actors") or []
                             if (a.get("actorUser") or {}).get("accountId")]
                    memo[str(found["id"])] = (sorted(set(groups)), sorted(set(users)))
        return memo.get(role_id)

    def _components(self, access: SiteAccess, dest_id: str, obj: dict[str, Any]) -> None:
        if just_created():  # a project we just created has no components
            have: set[str] = set()
        else:
            have = {fold(c["name"]) for c in access.call(OP_COMPONENTS, path={"projectIdOrKey": dest_id}) or []}
        for component in obj.get("components") or []:
            if fold(component["name"]) in have:
                continue
            body: dict[str, Any] = {"project": obj["key"], "name": component["name"],
                                    "description": component.get("description") or ""}
            lead = _account(component.get("lead"))  # in destination terms: None when no one stands in
            if lead:
                body["leadAccountId"] = lead
            kind = component.get("assigneeType") or "PROJECT_DEFAULT"
            body["assigneeType"] = kind if lead or kind != "COMPONENT_LEAD" else "PROJECT_DEFAULT"
            access.call(CREATE_COMPONENT, json=body)

    def _versions(self, access: SiteAccess, dest_id: str, obj: dict[str, Any]) -> None:
        wanted = obj.get("versions") or []
        fresh = just_created()  # a project we just created has no versions: ours go in, in order, and stay so
        have = {} if fresh else {fold(v["name"]): str(v["id"]) for v in access.call(
            OP_VERSIONS, path={"projectIdOrKey": dest_id}) or []}
        for version in wanted:
            if fold(version["name"]) not in have:
                body = {k: version[k] for k in VERSION_FIELDS if version.get(k) is not None}
                have[fold(version["name"])] = str(access.call(CREATE_VERSION, json=dict(body,
                                                                                        projectId=int(dest_id)))["id"])
        if fresh:
            return
        order = [fold(v["name"]) for v in wanted]
        current = [fold(v["name"]) for v in access.call(OP_VERSIONS, path={"projectIdOrKey": dest_id}) or []]
        if [n for n in current if n in order] == order:
            return  # already in the snapshot's order: no moves
        previous: str | None = None
        for name in order:
            body = {"position": "First"} if previous is None else {"after": previous}
            access.call(MOVE_VERSION, path={"id": have[name]}, json=body)
            previous = have[name]

    # -- compare -----------------------------------------------------------------------------------------

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        obj = to_destination(self.type_key, obj, ids)
        schemes = {}
        for slot in SCHEMES:
            sid = _scheme_id(obj, slot)
            schemes[slot] = None if sid in DEFAULT_IDS else sid
        roles = {str(role["id"]): _actors(role) for role in obj.get("roleActors") or []
                 if role.get("name") != READ_ONLY_ROLE}
        category = (obj.get("projectCategory") or {}).get("id")
        return {
            "key": obj["key"], "name": obj["name"], "description": obj.get("description") or "",
            "projectTypeKey": obj.get("projectTypeKey"), "assigneeType": obj.get("assigneeType") or "UNASSIGNED",
            "url": obj.get("url") or "", "lead": _account(obj.get("lead")),
            "category": None if category is None else str(category),
            "schemes": schemes, "roles": roles,
            "components": sorted(({"name": c["name"], "description": c.get("description") or "",
                                   "lead": _account(c.get("lead"))}
                                  for c in obj.get("components") or []), key=lambda c: fold(c["name"])),
            "versions": [{k: v.get(k) for k in VERSION_FIELDS} for v in obj.get("versions") or []],
        }


def _actors(role: dict[str, Any]) -> tuple[list[str], list[str]]:
    """A role's group ids and accountIds (of a project in destination terms)."""
    groups, users = set(), set()
    for actor in role.get("actors") or []:
        group = actor.get("actorGroup") or {}
        account = _account(actor.get("actorUser"))
        if group.get("groupId"):
            groups.add(str(group["groupId"]))
        elif account:
            users.add(account)
    return sorted(groups), sorted(users)
