"""Restorers of shared user objects and site settings: filters (owner, share permissions, JQL rewritten), boards (on
the restored filter; columns and estimation have no public API), dashboards with gadgets, time tracking and the
advanced settings Jira lets apps write.

Owners: an accountId is the same on every site, so a filter is matched on its *mapped* owner + name (``match_key``,
an optional extension the planner uses when a restorer has it). Apps create filters and dashboards as themselves;
a filter's owner is then changed (``PUT /filter/{id}/owner``), a dashboard's can't be through a per-object API, so
dashboards are matched on name alone and the owner difference is noted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ...backups.catalogue import (
    OP_ADVANCED_SETTINGS,
    OP_BOARD_CONFIG,
    OP_BOARDS,
    OP_CONFIGURATION,
    OP_DASHBOARDS,
    OP_FILTERS,
    OP_GADGETS,
    OP_TIMETRACKING,
    OP_TIMETRACKING_OPTIONS,
    SHARED_EXPAND,
)
from ...jira.access import JiraAccess
from ...jira.operations import declare
from ..jql import references as jql_references
from ..jql import rewrite as rewrite_jql
from ..notes import note
from ..subobjects import Resolver, SourceIndex, ordering_refs
from . import register
from .base import CannotRestore, Existing, IdMap, Ref, Restorer, fold, just_created, pick, reader, run_memo

CREATE_FILTER = declare("POST", "/rest/api/3/filter")
CHANGE_FILTER_OWNER = declare("PUT", "/rest/api/3/filter/{id}/owner")
CREATE_BOARD = declare("POST", "/rest/agile/1.0/board")
CREATE_DASHBOARD = declare("POST", "/rest/api/3/dashboard")
ADD_GADGET = declare("POST", "/rest/api/3/dashboard/{dashboardId}/gadget")
SET_TIMETRACKING = declare("PUT", "/rest/api/3/configuration/timetracking")
SET_TIMETRACKING_OPTIONS = declare("PUT", "/rest/api/3/configuration/timetracking/options")
SET_APPLICATION_PROPERTY = declare("PUT", "/rest/api/3/application-properties/{id}")

ANY_OWNER = "-"  # the owner part of a key when the owner is dropped: matched on the name alone
BOARD_CONFIG_NOTE = ("Board columns, estimation, ranking and sub-filter have no public API: set them by hand in the "
                     "board's settings.")
GADGET_CONFIG_NOTE = ("Gadget configuration (the filter or project a gadget shows) isn't in the snapshot: "
                      "configure the gadgets by hand.")


def _owner(obj: dict[str, Any]) -> str | None:
    owner = obj.get("owner") or {}
    return str(owner["accountId"]) if owner.get("accountId") else None


def _owner_key(account: str | None, name: str) -> str:
    return f"{account or ANY_OWNER} / {fold(name)}"


def map_jql(jql: str, ids: IdMap | None) -> str:
    """JQL in destination terms, read with a real grammar (``restore/jql.py``): every id operand mapped (custom
    fields, projects, types, statuses, versions, options, users...), names, functions, quoting and order kept; a
    clause naming something with no counterpart here is left out and noted on the object's outcome."""
    if ids is None or not jql:
        return jql
    result = rewrite_jql(jql, Resolver(ids))
    if result.unreadable:
        note(f"The JQL couldn't be read ({result.unreadable}): it was kept as it was.")
    for dropped in result.dropped:
        note(f"Left out of the JQL: {dropped.words()}. Add it back by hand once that exists here.")
    return result.text


def jql_refs(jql: str) -> list[Ref]:
    """Objects the JQL names by id (optional: one that isn't restored has its clause left out, and noted). Parts of
    objects (a project's versions, a context's options) are ordered after their parent when the run starts."""
    return ordering_refs(jql_references(jql or ""), SourceIndex())


# -- share permissions ---------------------------------------------------------------------------------------


def share_refs(shares: Iterable[dict[str, Any]]) -> list[Ref]:
    refs = []
    for share in shares:
        group = share.get("group") or {}
        if group.get("groupId"):
            refs.append(Ref("groups", str(group["groupId"]), optional=True))
        project = (share.get("project") or {}).get("id")
        if project is not None:
            refs.append(Ref("projects", str(project), optional=True))
        role = (share.get("role") or {}).get("id")
        if role is not None:
            refs.append(Ref("projectRoles", str(role), optional=True))
    return refs


def share_accounts(shares: Iterable[dict[str, Any]]) -> list[str]:
    return [str(s["user"]["accountId"]) for s in shares if (s.get("user") or {}).get("accountId")]


def _share_label(share: dict[str, Any]) -> str:
    target = (share.get("group") or {}).get("name") or (share.get("project") or {}).get("key") or \
        (share.get("user") or {}).get("accountId") or ""
    return f"{share.get('type')} {target}".strip()


def map_shares(shares: Iterable[dict[str, Any]], ids: IdMap | None, *, what: str) -> list[dict[str, Any]]:
    """Share permissions as a request names them, in destination terms; one that can't be mapped is dropped (noted).

    With ``ids`` None: the destination's own permissions in the same form (for comparing).
    """
    out = []
    for share in shares:
        kind = str(share.get("type"))
        mapped: dict[str, Any] | None = {"type": kind}
        if kind == "group":
            gid = str((share.get("group") or {}).get("groupId") or "")
            dest = gid if ids is None else ids.get("groups", gid)
            mapped = {"type": kind, "group": {"groupId": dest}} if dest else None
        elif kind in ("project", "projectRole"):
            pid = str((share.get("project") or {}).get("id") or "")
            dest = pid if ids is None else ids.get("projects", pid)
            mapped = {"type": kind, "project": {"id": dest}} if dest else None
            role = (share.get("role") or {}).get("id")
            if mapped is not None and role is not None:
                dest_role = str(role) if ids is None else ids.get("projectRoles", str(role))
                # The spec types a role id as an integer; Jira refuses the string form in a request.
                role_id: Any = int(dest_role) if dest_role and str(dest_role).isdigit() else dest_role
                mapped = dict(mapped, type="projectRole", role={"id": role_id}) if dest_role else None
        elif kind == "user":
            account = str((share.get("user") or {}).get("accountId") or "")
            dest = account if ids is None else ids.user(account)
            mapped = {"type": kind, "user": {"accountId": dest}} if dest else None
        elif kind in ("loggedin", "authenticated"):
            mapped = {"type": "authenticated"}  # Jira answers "loggedin" for what a request calls "authenticated"
        elif kind == "project-unknown":
            mapped = None
        if mapped is None:
            if ids is not None:
                note(f"Dropped the {what} permission for {_share_label(share)}: it has no counterpart here.")
            continue
        out.append(mapped)
    return sorted(out, key=lambda s: repr(sorted(s.items())))


# -- filters -------------------------------------------------------------------------------------------------


@register
class Filters(Restorer):
    """Filters, owned by their owner (or the fallback), with share/edit permissions and JQL in destination terms."""

    type_key = "filters"
    title = "Filters"
    depends_on = ("projects", "groups", "projectRoles", "customFields")
    writes = (CREATE_FILTER, CHANGE_FILTER_OWNER)

    def cost(self, obj: dict[str, Any]) -> int:
        return 2  # the create and, unless we own it already, the owner

    def natural_key(self, obj: dict[str, Any]) -> str:
        return _owner_key(_owner(obj), obj["name"])

    def match_key(self, obj: dict[str, Any], ids: IdMap) -> str:
        """The key on the destination: the owner the filter will have there (missing users map to the fallback)."""
        owner = _owner(obj)
        return _owner_key(ids.user(owner) if owner else None, obj["name"])

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        refs = share_refs([*(obj.get("sharePermissions") or []), *(obj.get("editPermissions") or [])])
        refs += [r for r in jql_refs(obj.get("jql") or "") if r != Ref("filters", str(obj["id"]), True)]
        return list(dict.fromkeys(refs))

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        found = [_owner(obj), *share_accounts(obj.get("sharePermissions") or []),
                 *share_accounts(obj.get("editPermissions") or [])]
        return sorted({a for a in found if a})

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        params = {"expand": f"{SHARED_EXPAND},jql", "overrideSharePermissions": "true"}
        for obj in access.paginate(OP_FILTERS, params=params, page_size=100):
            yield Existing(_owner_key(_owner(obj), obj["name"]), str(obj["id"]), obj)
            # A filter whose owner was dropped is matched on its name alone.
            yield Existing(_owner_key(None, obj["name"]), str(obj["id"]), obj)

    def find_created(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> Existing | None:
        """The filter an interrupted create may have made (the engine's look-up before creating again).

        Its ``match_key`` holds only once ``after_create`` gave the filter to its owner: killed in between, the filter
        is owned by the account the app acts as, an account the app isn't told. So: the filter with the wanted owner and
        name if there is one (the owner change happened); else one of the same name and exactly the content the create
        sends (JQL, permissions, description in destination terms), the newest if several. Its follow-up (the owner
        change) then runs again. Only asked when a create of this very filter was sent and its answer lost, which is
        what makes a same-content filter under another owner ours rather than someone else's.
        """
        want = self.comparable(obj, ids)
        key = _owner_key(want["owner"], obj["name"])
        params = {"expand": f"{SHARED_EXPAND},jql", "overrideSharePermissions": "true", "filterName": obj["name"]}
        same_name = [f for f in access.paginate(OP_FILTERS, params=params, page_size=100)
                     if fold(f["name"]) == fold(obj["name"])]
        exact = [f for f in same_name if _owner_key(_owner(f), f["name"]) == key]
        content = {k: v for k, v in want.items() if k != "owner"}
        ours = exact or [f for f in same_name
                         if {k: v for k, v in self.comparable(f, None).items() if k != "owner"} == content]
        if not ours:
            return None
        found = max(ours, key=lambda f: (len(str(f["id"])), str(f["id"])))  # the newest: ids grow
        return Existing(key, str(found["id"]), found)

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body: dict[str, Any] = {"name": obj["name"], "jql": map_jql(obj.get("jql") or "", ids),
                                "sharePermissions": map_shares(obj.get("sharePermissions") or [], ids, what="share"),
                                "editPermissions": map_shares(obj.get("editPermissions") or [], ids, what="edit")}
        if obj.get("description"):
            body["description"] = obj["description"]
        created = access.call(CREATE_FILTER, json=body)
        source_owner = _owner(obj)
        if source_owner and _owner(created or {}) == ids.user(source_owner):
            # The account the app acts as is the owner wanted: no owner change to send afterwards.
            run_memo(ids, "filtersOwnedAlready")[str(created["id"])] = True
        return str(created["id"])

    def after_create(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        source_owner = _owner(obj)
        owner = ids.user(source_owner) if source_owner else None
        if owner is None:
            note(f"Owner {source_owner or '(none)'} has no account here: the filter is owned by the account the app "
                 "acts as.")
            return
        # Setting the owner it already has is accepted, so repeating this on resume is harmless.
        if not run_memo(ids, "filtersOwnedAlready").get(dest_id):
            access.call(CHANGE_FILTER_OWNER, path={"id": dest_id}, json={"accountId": owner})
        if owner != source_owner:
            note(f"Owner {source_owner} has no account here: owned by the fallback {owner}.")

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        owner = _owner(obj)
        return {"name": obj["name"], "description": obj.get("description") or "",
                "owner": (ids.user(owner) if ids is not None and owner else owner),
                "jql": map_jql(obj.get("jql") or "", ids),
                "sharePermissions": map_shares(obj.get("sharePermissions") or [], ids, what="share"),
                "editPermissions": map_shares(obj.get("editPermissions") or [], ids, what="edit")}


# -- boards --------------------------------------------------------------------------------------------------


def _board_filter(obj: dict[str, Any]) -> str | None:
    fid = ((obj.get("configuration") or {}).get("filter") or {}).get("id")
    return None if fid is None else str(fid)


def _board_project(obj: dict[str, Any]) -> str | None:
    pid = (obj.get("location") or {}).get("projectId")
    if pid is None:
        pid = ((obj.get("configuration") or {}).get("location") or {}).get("projectKeyOrId")
    return None if pid in (None, "") else str(pid)


def _board_key(name: str, kind: Any, filter_id: str | None) -> str:
    return f"{fold(name)} ({kind}, filter {filter_id or '-'})"


@register
class Boards(Restorer):
    """Agile boards on their restored filter and project. Columns and estimation can't be written (noted)."""

    type_key = "boards"
    title = "Boards"
    depends_on = ("filters", "projects")
    writes = (CREATE_BOARD,)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return _board_key(obj["name"], obj.get("type"), _board_filter(obj))

    def match_key(self, obj: dict[str, Any], ids: IdMap) -> str:
        fid = _board_filter(obj)
        return _board_key(obj["name"], obj.get("type"), ids.get("filters", fid) if fid else None)

    def projects(self, obj: dict[str, Any]) -> Iterable[str]:
        key = (obj.get("location") or {}).get("projectKey")
        return [str(key)] if key else []

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        refs = []
        fid = _board_filter(obj)
        if fid is not None:
            refs.append(Ref("filters", fid))
        pid = _board_project(obj)
        if pid is not None:
            refs.append(Ref("projects", pid, optional=True))
        return refs

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if _board_filter(obj) is None:
            return CannotRestore("The backup couldn't read the board's filter.", "Recreate the board by hand.")
        if obj.get("type") not in ("scrum", "kanban"):
            return CannotRestore(f"Boards of type {obj.get('type')!r} can't be created through Jira's API.",
                                 "Recreate the board by hand.")
        return None

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        r = reader(access)  # each board's configuration is a request of its own: fanned out when reads are pooled

        def with_config(board: dict[str, Any]) -> dict[str, Any]:
            return dict(board, configuration=r.get(OP_BOARD_CONFIG, path={"boardId": board["id"]}) or {})

        for obj in r.fan_out(with_config, r.items(OP_BOARDS, page_size=50)):
            yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body: dict[str, Any] = {"name": obj["name"], "type": obj["type"],
                                "filterId": int(ids.require("filters", str(_board_filter(obj))))}
        pid = _board_project(obj)
        if pid is not None:
            dest = ids.get("projects", pid)
            if dest is not None:
                body["location"] = {"type": "project", "projectKeyOrId": dest}
            else:
                note("Its project wasn't restored: the board was created without a location.")
        created = access.call(CREATE_BOARD, json=body)
        return str(created["id"])

    def after_create(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        note(BOARD_CONFIG_NOTE)

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        fid, pid = _board_filter(obj), _board_project(obj)
        if ids is not None:
            fid = ids.get("filters", fid) if fid else None
            pid = ids.get("projects", pid) if pid else None
        return {"name": obj["name"], "type": obj.get("type"), "filter": fid, "project": pid}


# -- dashboards ----------------------------------------------------------------------------------------------


def _position(gadget: dict[str, Any]) -> tuple[int, int]:
    position = gadget.get("position") or {}
    return int(position.get("row", 0)), int(position.get("column", 0))


def _gadget(gadget: dict[str, Any]) -> dict[str, Any]:
    row, column = _position(gadget)
    return {**pick(gadget, "moduleKey", "uri"), "title": gadget.get("title") or "",
            "color": gadget.get("color") or "blue", "position": {"row": row, "column": column}}


@register
class Dashboards(Restorer):
    """Dashboards with share/edit permissions and gadgets in their positions. Matched on name (case-insensitive)
    because the app, not the source owner, owns what it creates; the System dashboard maps onto the destination's."""

    type_key = "dashboards"
    title = "Dashboards"
    depends_on = ("filters", "projects", "groups", "projectRoles")
    writes = (CREATE_DASHBOARD, ADD_GADGET)

    def cost(self, obj: dict[str, Any]) -> int:
        return 1 + len(obj.get("gadgets") or [])

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        return list(dict.fromkeys(share_refs([*(obj.get("sharePermissions") or []),
                                              *(obj.get("editPermissions") or [])])))

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        found = [*share_accounts(obj.get("sharePermissions") or []), *share_accounts(obj.get("editPermissions") or [])]
        return sorted(set(found))

    def is_default(self, obj: dict[str, Any]) -> bool:
        return bool(obj.get("systemDashboard"))

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if self.is_default(obj):
            return CannotRestore("The System dashboard can't be created or edited through Jira's API.",
                                 "Arrange it by hand (Dashboards > Default dashboard).")
        return None

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        r = reader(access)

        def gadgets_of(board: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
            return board, (r.get(OP_GADGETS, path={"dashboardId": board["id"]}) or {}).get("gadgets") or []

        for board, gadgets in r.fan_out(gadgets_of, r.items(OP_DASHBOARDS, params={"expand": SHARED_EXPAND},
                                                            page_size=100)):
            obj = dict(board, gadgets=gadgets)
            yield Existing(self.natural_key(obj), str(board["id"]), obj, bool(board.get("systemDashboard")))

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or "",
                "sharePermissions": map_shares(obj.get("sharePermissions") or [], ids, what="share"),
                "editPermissions": map_shares(obj.get("editPermissions") or [], ids, what="edit")}
        return str(access.call(CREATE_DASHBOARD, json=body)["id"])

    def after_create(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        # Only positions not yet taken get a gadget: repeating this after a crash adds nothing twice.
        taken = set() if just_created() else {  # a dashboard we just created has no gadgets yet
            _position(g) for g in (access.call(OP_GADGETS, path={"dashboardId": dest_id}) or {}).get("gadgets") or []}
        for gadget in sorted(obj.get("gadgets") or [], key=_position):
            if _position(gadget) in taken:
                continue
            access.call(ADD_GADGET, path={"dashboardId": dest_id}, json=_gadget(gadget))
        owner = _owner(obj)
        if owner:
            note(f"Owned by the account the app acts as: Jira has no API to give a dashboard to its owner {owner}.")
        if obj.get("gadgets"):
            note(GADGET_CONFIG_NOTE)

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "sharePermissions": map_shares(obj.get("sharePermissions") or [], ids, what="share"),
                "editPermissions": map_shares(obj.get("editPermissions") or [], ids, what="edit"),
                "gadgets": [_gadget(g) for g in sorted(obj.get("gadgets") or [], key=_position)]}


# -- settings ------------------------------------------------------------------------------------------------

OPTION_KEYS = ("workingHoursPerDay", "workingDaysPerWeek", "timeFormat", "defaultUnit")
# GET /configuration: flags with no write API (time tracking is written through its own endpoints).
CONFIGURATION_FLAGS = ("votingEnabled", "watchingEnabled", "unassignedIssuesAllowed", "subTasksEnabled",
                       "issueLinkingEnabled", "attachmentsEnabled")


def setting_id(obj: dict[str, Any]) -> str:
    """Which setting a stored object is (the snapshot keeps the catalogue's names only as natural keys)."""
    if "provider" in obj:
        return "timetracking"
    if "workingHoursPerDay" in obj:
        return "timetrackingOptions"
    if "votingEnabled" in obj or "timeTrackingEnabled" in obj:
        return "configuration"
    return f"advanced:{obj.get('key') or obj.get('id')}"


@register
class Settings(Restorer):
    """Time tracking (provider, options) and advanced settings are brought in line; the other global flags have no
    write API and are reported when they differ."""

    type_key = "settings"
    title = "Time tracking and global settings"
    can_update = True
    writes = (SET_TIMETRACKING, SET_TIMETRACKING_OPTIONS, SET_APPLICATION_PROPERTY)

    def source_id(self, obj: dict[str, Any]) -> str:
        return setting_id(obj)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return setting_id(obj)

    def display_name(self, obj: dict[str, Any]) -> str:
        return setting_id(obj).removeprefix("advanced:")

    def existing(self, access: JiraAccess) -> Iterator[Existing]:
        objs = [{"provider": access.call(OP_TIMETRACKING)}, access.call(OP_TIMETRACKING_OPTIONS) or {},
                access.call(OP_CONFIGURATION) or {}, *(access.call(OP_ADVANCED_SETTINGS) or [])]
        for obj in objs:
            yield Existing(setting_id(obj), setting_id(obj), obj)

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        # Every setting exists on every site; one the destination lacks is an advanced setting it doesn't offer.
        return CannotRestore(f"The destination has no setting {self.display_name(obj)!r}.", "Nothing to do.")

    def create(self, access: JiraAccess, obj: dict[str, Any], ids: IdMap) -> str:
        raise self.why_not(obj)  # type: ignore[misc]

    def update(self, access: JiraAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        if dest_id == "timetracking":
            provider = (obj.get("provider") or {}).get("key")
            if not provider:
                # The spec has no call that turns time tracking off (the emulator's POST isn't Jira's API).
                raise CannotRestore("Time tracking is off on the source; Jira's API can't turn it off.",
                                    "Turn it off by hand under Settings > Issues > Time tracking.")
            access.call(SET_TIMETRACKING, json={"key": provider})
        elif dest_id == "timetrackingOptions":
            access.call(SET_TIMETRACKING_OPTIONS, json=pick(obj, *OPTION_KEYS))
        elif dest_id == "configuration":
            raise CannotRestore("Voting, watching, sub-tasks, issue linking, attachments and unassigned issues have "
                                "no write API.", "Set them by hand under Settings > System > General configuration "
                                                 "and Settings > Issues > Issue features.")
        else:
            access.call(SET_APPLICATION_PROPERTY, path={"id": dest_id.removeprefix("advanced:")},
                        json={"id": dest_id.removeprefix("advanced:"), "value": obj.get("value")})

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        which = setting_id(obj)
        if which == "timetracking":
            return {"provider": (obj.get("provider") or {}).get("key")}
        if which == "timetrackingOptions":
            return {k: (float(obj[k]) if k.startswith("working") and obj.get(k) is not None else obj.get(k))
                    for k in OPTION_KEYS}
        if which == "configuration":
            return pick(obj, *CONFIGURATION_FLAGS)
        return {"key": obj.get("key"), "value": obj.get("value")}
