"""Restorers of the site-wide basics: project categories, link types, priorities, resolutions, statuses, issue types,
project roles and groups with their members (created through the admin's OAuth grant: Connect can't)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ...backups.catalogue import CATALOGUE, group_members
from ...jira.access import SiteAccess
from ...jira.operations import declare
from ...objects.declarations import DECLARATIONS
from ..mapping import to_destination, words_for
from ..notes import note
from .base import CannotRestore, Existing, IdMap, Ref, Restorer, fold, just_created, pick, reader, run_memo

LIST_CATEGORIES = declare("GET", "/rest/api/3/projectCategory")
CREATE_CATEGORY = declare("POST", "/rest/api/3/projectCategory")
LIST_LINK_TYPES = declare("GET", "/rest/api/3/issueLinkType")
CREATE_LINK_TYPE = declare("POST", "/rest/api/3/issueLinkType")
SEARCH_PRIORITIES = declare("GET", "/rest/api/3/priority/search")
CREATE_PRIORITY = declare("POST", "/rest/api/3/priority")
SEARCH_RESOLUTIONS = declare("GET", "/rest/api/3/resolution/search")
CREATE_RESOLUTION = declare("POST", "/rest/api/3/resolution")
SEARCH_STATUSES = declare("GET", "/rest/api/3/statuses/search")
LIST_STATUSES = declare("GET", "/rest/api/3/status")
CREATE_STATUSES = declare("POST", "/rest/api/3/statuses")
LIST_ISSUE_TYPES = declare("GET", "/rest/api/3/issuetype")
CREATE_ISSUE_TYPE = declare("POST", "/rest/api/3/issuetype")
UPDATE_ISSUE_TYPE = declare("PUT", "/rest/api/3/issuetype/{id}")
LIST_ROLES = declare("GET", "/rest/api/3/role")
CREATE_ROLE = declare("POST", "/rest/api/3/role")
ADD_ROLE_ACTORS = declare("POST", "/rest/api/3/role/{id}/actors")
LIST_ROLE_ACTORS = declare("GET", "/rest/api/3/role/{id}/actors")
BULK_GROUPS = declare("GET", "/rest/api/3/group/bulk")
CREATE_GROUP = declare("POST", "/rest/api/3/group")
ADD_GROUP_MEMBER = declare("POST", "/rest/api/3/group/user")


class _ByName(Restorer):
    """A type matched on its name, case-insensitively (as Jira refuses duplicates regardless of case)."""

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])


class ProjectCategories(_ByName):
    type_key = "projectCategories"
    writes = (CREATE_CATEGORY,)
    title = "Project categories"

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for obj in access.call(LIST_CATEGORIES) or []:
            yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or ""}
        return str(access.call(CREATE_CATEGORY, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or ""}


class IssueLinkTypes(_ByName):
    type_key = "issueLinkTypes"
    writes = (CREATE_LINK_TYPE,)
    title = "Issue link types"

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for obj in (access.call(LIST_LINK_TYPES) or {}).get("issueLinkTypes") or []:
            yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        return str(access.call(CREATE_LINK_TYPE, json=pick(obj, "name", "inward", "outward"))["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return pick(obj, "name", "inward", "outward")


class Priorities(_ByName):
    type_key = "priorities"
    writes = (CREATE_PRIORITY,)
    title = "Priorities"

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for obj in reader(access).items(SEARCH_PRIORITIES):  # the backup's request: verification replays it
            yield Existing(self.natural_key(obj), str(obj["id"]), obj, bool(obj.get("isDefault")))

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "statusColor": obj.get("statusColor") or "#707070",
                "description": obj.get("description") or ""}
        return str(access.call(CREATE_PRIORITY, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        # Icons are the destination's to choose (Jira offers a fixed set of icon URLs per site).
        return {"name": obj["name"], "statusColor": (obj.get("statusColor") or "").lower(),
                "description": obj.get("description") or ""}


class Resolutions(_ByName):
    type_key = "resolutions"
    writes = (CREATE_RESOLUTION,)
    title = "Resolutions"

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for obj in reader(access).items(SEARCH_RESOLUTIONS):  # the backup's request: verification replays it
            yield Existing(self.natural_key(obj), str(obj["id"]), obj, bool(obj.get("default")))

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or ""}
        return str(access.call(CREATE_RESOLUTION, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or ""}


# The classic status API names categories by key; the new one by enum.
_CATEGORY_KEYS = {"new": "TODO", "indeterminate": "IN_PROGRESS", "done": "DONE"}


def status_category(obj: dict[str, Any]) -> str:
    """A status's category as ``TODO``/``IN_PROGRESS``/``DONE`` from either API's shape."""
    category = obj.get("statusCategory")
    if isinstance(category, dict):
        return _CATEGORY_KEYS.get(str(category.get("key")), "TODO")
    return str(category or "TODO")


def status_scope_project(obj: dict[str, Any]) -> str | None:
    """The source id of the project a project-scoped status belongs to; None for a global status."""
    scope = obj.get("scope") or {}
    project = (scope.get("project") or {}).get("id")
    return str(project) if scope.get("type") == "PROJECT" and project is not None else None


class Statuses(Restorer):
    """Statuses, global and project-scoped. A global one is matched on its name (Jira refuses a second status of
    that name in one scope whatever its category, so a differing category is a conflict to report rather than a
    second object to create); a project's own on its name within the project, named by key (the backup notes it),
    and created in the restored project (the project comes first)."""

    type_key = "statuses"
    writes = (CREATE_STATUSES,)
    title = "Statuses"

    def natural_key(self, obj: dict[str, Any]) -> str:
        if status_scope_project(obj) is None:
            return fold(obj["name"])
        return f"{fold(obj['name'])} in {obj.get('projectKey') or 'project ' + str(status_scope_project(obj))}"

    def display_name(self, obj: dict[str, Any]) -> str:
        project = status_scope_project(obj)
        return obj["name"] if project is None else f"{obj['name']} ({obj.get('projectKey') or project})"

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        project = status_scope_project(obj)
        return [] if project is None else [Ref("projects", project)]

    def projects(self, obj: dict[str, Any]) -> Iterable[str]:
        return [str(obj["projectKey"])] if obj.get("projectKey") else []

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        # Read as the backup reads them (either API, project keys added), so both sides have the same shape.
        for item in CATALOGUE[self.type_key].read(reader(access)):
            if item.source_id is not None:
                yield Existing(self.natural_key(item.obj), item.source_id, item.obj)

    def _in_terms(self, obj: dict[str, Any], ids: IdMap | None) -> dict[str, Any]:
        # Its project is a back link the status writes itself (see ``references``): mapped with the rest.
        return to_destination(self.type_key, obj, ids, refs=DECLARATIONS[self.type_key].refs)

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        project = status_scope_project(self._in_terms(obj, ids))
        scope: dict[str, Any] = {"type": "GLOBAL"} if project is None else {
            "type": "PROJECT", "project": {"id": project}}
        body = {"scope": scope, "statuses": [{"name": obj["name"], "statusCategory": status_category(obj),
                                              "description": obj.get("description") or ""}]}
        created = access.call(CREATE_STATUSES, json=body)[0]
        # The workflows' one read of the status list per run (``Workflows._status_list``) learns it from here, not by
        # reading the list again for every workflow that uses a status newer than its read.
        run_memo(ids, "destinationStatuses").setdefault("byId", {})[str(created["id"])] = created
        return str(created["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        project = status_scope_project(self._in_terms(obj, ids))
        return {"name": obj["name"], "statusCategory": status_category(obj),
                "description": obj.get("description") or "", "project": project}


class IssueTypes(Restorer):
    """Matched on name (unique, case-insensitive); the hierarchy level is compared, so a differing level is a
    conflict. Only levels -1 and 0 can be created through the API."""

    type_key = "issueTypes"
    writes = (CREATE_ISSUE_TYPE,)
    title = "Issue types"
    can_update = True  # the description of a type the destination already has (a new site's Sub-task...)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for obj in access.call(LIST_ISSUE_TYPES) or []:
            if not obj.get("scope"):  # project-scoped types belong to team-managed projects
                yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if obj.get("scope"):
            return CannotRestore("A team-managed project's issue type: team-managed projects can't be recreated "
                                 "through Jira's API.", "Recreate it in the team-managed project by hand.")
        level = int(obj.get("hierarchyLevel", -1 if obj.get("subtask") else 0))
        if level not in (-1, 0):
            return CannotRestore(f"Hierarchy level {level}: Jira's API creates only sub-task (-1) and standard (0) "
                                 "issue types.", "Create it under Settings > Issues > Issue type hierarchy, then run "
                                                 "the restore again to map it.")
        return None

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        level = int(obj.get("hierarchyLevel", -1 if obj.get("subtask") else 0))
        body = {"name": obj["name"], "description": obj.get("description") or "", "hierarchyLevel": level}
        return str(access.call(CREATE_ISSUE_TYPE, json=body)["id"])

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        # The name matched and a level can't change: only the description can differ in a way Jira lets us fix.
        access.call(UPDATE_ISSUE_TYPE, path={"id": dest_id}, json={"description": obj.get("description") or ""})

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "hierarchyLevel": int(obj.get("hierarchyLevel", -1 if obj.get("subtask") else 0))}


READ_ONLY_ROLE = "atlassian-addons-project-access"


def role_actor_refs(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    """A role's default actors as ``(kind, source id, name)``: groups by groupId (restored and matched by name),
    users by accountId."""
    out = []
    for actor in obj.get("actors") or []:
        group, user = actor.get("actorGroup") or {}, actor.get("actorUser") or {}
        if group.get("groupId"):
            out.append(("group", str(group["groupId"]), str(group.get("name") or group["groupId"])))
        elif user.get("accountId"):
            out.append(("user", str(user["accountId"]), str(actor.get("displayName") or user["accountId"])))
    return out


class ProjectRoles(_ByName):
    """Roles with their default actors. Group actors follow the groups by name (the id map of groups, matched on
    name); users by accountId under the run's missing-user policy. An actor that can't come along is left out and
    noted on the role's outcome. A role already on the destination gets its missing actors added (never removed)."""

    type_key = "projectRoles"
    writes = (CREATE_ROLE, ADD_ROLE_ACTORS)
    title = "Project roles"
    can_update = True  # additive: default actors the destination's role lacks are added

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for obj in access.call(LIST_ROLES) or []:
            yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        return [source_id for kind, source_id, _ in role_actor_refs(obj) if kind == "user"]

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if obj.get("name") == READ_ONLY_ROLE:
            return CannotRestore("Jira manages this role for apps; it is read-only.", "Nothing to do.")
        return None

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or ""}
        return str(access.call(CREATE_ROLE, json=body)["id"])

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self._add_actors(access, dest_id, obj, ids, have=({"group": set(), "user": set()} if just_created()
                                                          else None))

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self._add_actors(access, dest_id, obj, ids, have=None)

    def _add_actors(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap,
                    have: dict[str, set[str]] | None) -> None:
        groups, users = self._actors(obj, ids, report=True)
        if have is None:  # what the destination's role already has: adding an actor twice is refused
            current = (access.call(LIST_ROLE_ACTORS, path={"id": dest_id}) or {}).get("actors") or []
            have = {"group": {str((a.get("actorGroup") or {}).get("groupId")) for a in current},
                    "user": {str((a.get("actorUser") or {}).get("accountId")) for a in current}}
        groups = [g for g in groups if g not in have["group"]]
        users = [u for u in users if u not in have["user"]]
        # Jira takes groups or users in one request, not both.
        if groups:
            access.call(ADD_ROLE_ACTORS, path={"id": dest_id}, json={"groupId": groups})
        if users:
            access.call(ADD_ROLE_ACTORS, path={"id": dest_id}, json={"user": users})

    def _actors(self, obj: dict[str, Any], ids: IdMap | None, *, report: bool = False, strict: bool = False
                ) -> tuple[list[str], list[str]]:
        """The default actors' groupIds and accountIds on the destination (as they are when reading it): mapped
        through the declaration (a group not on this site is left out, noted when ``report``; a person without an
        account gives way to the run's stand-in).

        ``strict``: a group not (yet) on the destination raises ``UnmappedReference`` instead of being left out.
        """
        mapped = to_destination(
            self.type_key, obj, ids, strict=strict,
            say=(lambda _ref, kind, source_id: f"default actor {words_for(kind, source_id)}: left out of the role.")
            if report else (lambda *_: None))
        groups: list[str] = []
        users: list[str] = []
        for kind, source_id, _name in role_actor_refs(mapped):
            (groups if kind == "group" else users).append(source_id)
        if report and ids is not None:
            for account in {a for k, a, _ in role_actor_refs(obj) if k == "user"} - set(users):
                stand_in = ids.user(account)
                if stand_in:
                    note(f"Default actor {account} has no account on this site: {stand_in} stands in.")
        return sorted(set(groups)), sorted(set(users))

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        # Groups by their ids on the destination (the source's mapped by name: one still to be created makes the
        # role differ, so its actors are added), users by accountId under the missing-user policy.
        groups, users = self._actors(obj, ids, strict=True)
        return {"name": obj["name"], "description": obj.get("description") or "", "groups": groups,
                "users": users}


class Groups(_ByName):
    """Groups matched by name; a missing one is created, and members are added (never removed) by accountId.

    Both writes are closed to Connect apps: without the admin's OAuth grant the preview says so, with the fix.
    A member without an account on the destination can't be added: the outcome notes who (no fallback user stands
    in for a group member, which would hand that user the group's permissions)."""

    type_key = "groups"
    title = "Groups"
    can_update = True  # additive: members missing on the destination are added
    writes = (CREATE_GROUP, ADD_GROUP_MEMBER)

    def source_id(self, obj: dict[str, Any]) -> str:
        return str(obj["groupId"])

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        return sorted({str(m["accountId"]) for m in obj.get("members") or [] if m.get("accountId")})

    def cost(self, obj: dict[str, Any]) -> int:
        return 1 + len(obj.get("members") or [])

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        read = reader(access)
        for obj in read.items(BULK_GROUPS):  # the backup's requests: verification replays them
            gid = str(obj["groupId"])
            yield Existing(self.natural_key(obj), gid, dict(obj, members=group_members(read, gid)))

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        return str(access.call(CREATE_GROUP, json={"name": obj["name"]})["groupId"])

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        have = set() if just_created() else {m["accountId"] for m in group_members(reader(access), dest_id)}
        self._add_members(access, dest_id, obj, ids, have)

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self._add_members(access, dest_id, obj, ids,
                          {m["accountId"] for m in group_members(reader(access), dest_id)})

    def _add_members(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap,
                     have: set[str]) -> None:
        for account_id in self._members(obj, ids, report=True):
            if account_id not in have:
                access.call(ADD_GROUP_MEMBER, params={"groupId": dest_id}, json={"accountId": account_id})

    def _members(self, obj: dict[str, Any], ids: IdMap | None, *, report: bool = False) -> list[str]:
        """The members' accountIds that exist on the destination (all of them when reading the destination): the
        declaration allows no stand-in for a member, who would be handed the group's permissions."""
        if ids is None:
            return list(self.account_ids(obj))
        mapped = to_destination(self.type_key, obj, ids, say=(
            lambda _ref, _kind, account_id: f"member {account_id} has no account on this site: not added to the "
                                            f"group {obj['name']!r}.") if report else (lambda *_: None))
        return list(self.account_ids(mapped))

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "members": self._members(obj, ids)}

    def in_place(self, obj: dict[str, Any], dest: dict[str, Any], ids: IdMap) -> bool:
        """Nothing to do when every member the run can add is already there: members are never removed, so the
        destination's own extra members (its admins in its default groups) and people without an account here (who
        can't be added) don't make an update that would re-read the members and write nothing."""
        have = set(self.account_ids(dest))
        return fold(obj["name"]) == fold(dest["name"]) and set(self._members(obj, ids)) <= have
