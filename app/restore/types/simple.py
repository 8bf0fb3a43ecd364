"""Restorers of the site-wide basics: project categories, link types, priorities, resolutions, statuses, issue types,
project roles and groups with their members (created through the admin's OAuth grant: Connect can't)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ...backups.catalogue import group_members
from ...jira.access import JiraAccess
from ...jira.operations import declare
from ..notes import note
from . import register
from .base import CannotRestore, Existing, IdMap, Ref, Restorer, fold, just_created, pick, reader

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
LIST_ROLES = declare("GET", "/rest/api/3/role")
CREATE_ROLE = declare("POST", "/rest/api/3/role")
ADD_ROLE_ACTORS = declare("POST", "/rest/api/3/role/{id}/actors")
BULK_GROUPS = declare("GET", "/rest/api/3/group/bulk")
CREATE_GROUP = declare("POST", "/rest/api/3/group")
ADD_GROUP_MEMBER = declare("POST", "/rest/api/3/group/user")


class _ByName(Restorer):
    """A type matched on its name, case-insensitively (as Jira refuses duplicates regardless of case)."""

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])


@register
class ProjectCategories(_ByName):
    type_key = "projectCategories"
    writes = (CREATE_CATEGORY,)
    title = "Project categories"

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        for obj in access.call(LIST_CATEGORIES) or []:
            yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or ""}
        return str(access.call(CREATE_CATEGORY, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or ""}


@register
class IssueLinkTypes(_ByName):
    type_key = "issueLinkTypes"
    writes = (CREATE_LINK_TYPE,)
    title = "Issue link types"

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        for obj in (access.call(LIST_LINK_TYPES) or {}).get("issueLinkTypes") or []:
            yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        return str(access.call(CREATE_LINK_TYPE, json=pick(obj, "name", "inward", "outward"))["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return pick(obj, "name", "inward", "outward")


@register
class Priorities(_ByName):
    type_key = "priorities"
    writes = (CREATE_PRIORITY,)
    title = "Priorities"

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        for obj in access.paginate(SEARCH_PRIORITIES, page_size=100):
            yield Existing(self.natural_key(obj), str(obj["id"]), obj, bool(obj.get("isDefault")))

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "statusColor": obj.get("statusColor") or "#707070",
                "description": obj.get("description") or ""}
        return str(access.call(CREATE_PRIORITY, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        # Icons are the destination's to choose (Jira offers a fixed set of icon URLs per site).
        return {"name": obj["name"], "statusColor": (obj.get("statusColor") or "").lower(),
                "description": obj.get("description") or ""}


@register
class Resolutions(_ByName):
    type_key = "resolutions"
    writes = (CREATE_RESOLUTION,)
    title = "Resolutions"

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        for obj in access.paginate(SEARCH_RESOLUTIONS, page_size=100):
            yield Existing(self.natural_key(obj), str(obj["id"]), obj, bool(obj.get("default")))

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
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


@register
class Statuses(Restorer):
    """Global statuses. Matched on name (Jira refuses a second status of that name whatever its category, so a
    differing category is a conflict to report rather than a second object to create)."""

    type_key = "statuses"
    writes = (CREATE_STATUSES,)
    title = "Statuses"

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        if access.can_call(SEARCH_STATUSES):
            found: Iterable[dict[str, Any]] = access.paginate(SEARCH_STATUSES, page_size=200)
        else:  # Connect alone can only read the classic list (no scope details beyond project id)
            found = access.call(LIST_STATUSES) or []
        for obj in found:
            if (obj.get("scope") or {}).get("type", "GLOBAL") == "GLOBAL":
                yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if (obj.get("scope") or {}).get("type") == "PROJECT":
            return CannotRestore("A team-managed project's status: team-managed projects can't be recreated "
                                 "through Jira's API.", "Recreate the team-managed project and its workflow by hand.")
        return None

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"scope": {"type": "GLOBAL"},
                "statuses": [{"name": obj["name"], "statusCategory": status_category(obj),
                              "description": obj.get("description") or ""}]}
        return str(access.call(CREATE_STATUSES, json=body)[0]["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "statusCategory": status_category(obj),
                "description": obj.get("description") or ""}


@register
class IssueTypes(Restorer):
    """Matched on name (unique, case-insensitive); the hierarchy level is compared, so a differing level is a
    conflict. Only levels -1 and 0 can be created through the API."""

    type_key = "issueTypes"
    writes = (CREATE_ISSUE_TYPE,)
    title = "Issue types"

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
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

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        level = int(obj.get("hierarchyLevel", -1 if obj.get("subtask") else 0))
        body = {"name": obj["name"], "description": obj.get("description") or "", "hierarchyLevel": level}
        return str(access.call(CREATE_ISSUE_TYPE, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "hierarchyLevel": int(obj.get("hierarchyLevel", -1 if obj.get("subtask") else 0))}


READ_ONLY_ROLE = "atlassian-addons-project-access"


@register
class ProjectRoles(_ByName):
    """Roles with their default actors. Group actors follow the groups by name; a group missing on the destination
    is dropped from the actors (and the difference reported by verification)."""

    type_key = "projectRoles"
    writes = (CREATE_ROLE, ADD_ROLE_ACTORS)
    title = "Project roles"
    depends_on = ("groups",)

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        for obj in access.call(LIST_ROLES) or []:
            yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        for actor in obj.get("actors") or []:
            group = actor.get("actorGroup") or {}
            if group.get("groupId"):
                yield Ref("groups", str(group["groupId"]), optional=True)

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        for actor in obj.get("actors") or []:
            user = actor.get("actorUser") or {}
            if user.get("accountId"):
                yield str(user["accountId"])

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if obj.get("name") == READ_ONLY_ROLE:
            return CannotRestore("Jira manages this role for apps; it is read-only.", "Nothing to do.")
        return None

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or ""}
        return str(access.call(CREATE_ROLE, json=body)["id"])

    def after_create(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        groups, users = self._actors(obj, ids)
        # Adding actors merges, so repeating this after a crash is harmless.
        if groups or users:
            body: dict[str, Any] = {}
            if groups:
                body["groupId"] = groups
            if users:
                body["user"] = users
            access.call(ADD_ROLE_ACTORS, path={"id": dest_id}, json=body)

    def _actors(self, obj: dict[str, Any], ids: IdMap | None) -> tuple[list[str], list[str]]:
        groups, users = [], []
        for actor in obj.get("actors") or []:
            group = actor.get("actorGroup") or {}
            user = actor.get("actorUser") or {}
            if group.get("groupId"):
                mapped = ids.get("groups", str(group["groupId"])) if ids is not None else str(group["groupId"])
                if mapped:
                    groups.append(mapped)
            elif user.get("accountId"):
                account = ids.user(str(user["accountId"])) if ids is not None else str(user["accountId"])
                if account:
                    users.append(account)
        return sorted(set(groups)), sorted(set(users))

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        # Group ids differ per site; names are what both sides share.
        names = sorted({fold((a.get("actorGroup") or {}).get("name", "")) for a in obj.get("actors") or []
                        if a.get("actorGroup") and (ids is None or ids.get("groups", str(a["actorGroup"].get(
                            "groupId"))))})
        _, users = self._actors(obj, ids)
        return {"name": obj["name"], "description": obj.get("description") or "", "groups": names,
                "users": users}


@register
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

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        read = reader(access)
        for obj in access.paginate(BULK_GROUPS, page_size=50):
            gid = str(obj["groupId"])
            yield Existing(self.natural_key(obj), gid, dict(obj, members=group_members(read, gid)))

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        return str(access.call(CREATE_GROUP, json={"name": obj["name"]})["groupId"])

    def after_create(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        have = set() if just_created() else {m["accountId"] for m in group_members(reader(access), dest_id)}
        self._add_members(access, dest_id, obj, ids, have)

    def update(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self._add_members(access, dest_id, obj, ids,
                          {m["accountId"] for m in group_members(reader(access), dest_id)})

    def _add_members(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap,
                     have: set[str]) -> None:
        for account_id in self._members(obj, ids, report=True):
            if account_id not in have:
                access.call(ADD_GROUP_MEMBER, params={"groupId": dest_id}, json={"accountId": account_id})

    def _members(self, obj: dict[str, Any], ids: IdMap | None, *, report: bool = False) -> list[str]:
        """The members' accountIds that exist on the destination (all of them when reading the destination)."""
        out = []
        for account_id in self.account_ids(obj):
            if ids is None or ids.user(account_id) == account_id:
                out.append(account_id)
            elif report:
                note(f"Member {account_id} has no account on this site: not added to the group {obj['name']!r}.")
        return out

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "members": self._members(obj, ids)}
