"""Restorers of shared user objects and site settings: filters (owner, share permissions, JQL rewritten), boards (on
the restored filter; columns and estimation have no public API), dashboards with gadgets and their configuration,
time tracking and the advanced settings Jira lets apps write.

Owners: an accountId is the same on every site, so filters and dashboards are matched on their *mapped* owner + name
(``match_key``, an optional extension the planner uses when a restorer has it). Apps create them as themselves and
then give them to their owner (``PUT /filter/{id}/owner``, ``PUT /dashboard/bulk/edit`` changeOwner), one name at a
time per run so that two owners' "My open work" both come back (see "owners" below).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
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
    with_item_properties,
)
from ...jira.access import SiteAccess
from ...jira.errors import JiraError, JiraUnavailable
from ...jira.operations import declare
from ...objects.references import Ref as Declared
from ..jql import references as jql_references
from ..mapping import map_jql, to_destination, words_for
from ..notes import note
from ..subobjects import SourceIndex, ordering_refs
from .base import CannotRestore, Existing, IdMap, Ref, Restorer, fold, just_created, pick, reader, run_memo

CREATE_FILTER = declare("POST", "/rest/api/3/filter")
CHANGE_FILTER_OWNER = declare("PUT", "/rest/api/3/filter/{id}/owner")
UPDATE_FILTER = declare("PUT", "/rest/api/3/filter/{id}")
FILTERS_MINE = declare("GET", "/rest/api/3/filter/my")
CREATE_BOARD = declare("POST", "/rest/agile/1.0/board")
CREATE_DASHBOARD = declare("POST", "/rest/api/3/dashboard")
ADD_GADGET = declare("POST", "/rest/api/3/dashboard/{dashboardId}/gadget")
SET_ITEM_PROPERTY = declare("PUT", "/rest/api/3/dashboard/{dashboardId}/items/{itemId}/properties/{propertyKey}")
UPDATE_DASHBOARD = declare("PUT", "/rest/api/3/dashboard/{id}")
BULK_EDIT_DASHBOARDS = declare("PUT", "/rest/api/3/dashboard/bulk/edit")
GET_DASHBOARD = declare("GET", "/rest/api/3/dashboard/{id}")
DASHBOARDS_LIST = declare("GET", "/rest/api/3/dashboard")
SET_TIMETRACKING = declare("PUT", "/rest/api/3/configuration/timetracking")
SET_TIMETRACKING_OPTIONS = declare("PUT", "/rest/api/3/configuration/timetracking/options")
SET_APPLICATION_PROPERTY = declare("PUT", "/rest/api/3/application-properties/{id}")

ANY_OWNER = "-"  # the owner part of a key when the owner is dropped: matched on the name alone
BOARD_CONFIG_NOTE = ("Board columns, estimation, ranking and sub-filter have no public API: set them by hand in the "
                     "board's settings.")


def _owner(obj: dict[str, Any]) -> str | None:
    owner = obj.get("owner") or {}
    return str(owner["accountId"]) if owner.get("accountId") else None


def _owner_key(account: str | None, name: str) -> str:
    return f"{account or ANY_OWNER} / {fold(name)}"


def jql_refs(jql: str) -> list[Ref]:
    """Objects the JQL names by id (optional: one that isn't restored has its clause left out, and noted). Parts of
    objects (a project's versions, a context's options) are ordered after their parent when the run starts."""
    return ordering_refs(jql_references(jql or ""), SourceIndex())


# -- share permissions ---------------------------------------------------------------------------------------




def share_accounts(shares: Iterable[dict[str, Any]]) -> list[str]:
    return [str(s["user"]["accountId"]) for s in shares if (s.get("user") or {}).get("accountId")]


def _share_label(share: dict[str, Any]) -> str:
    target = (share.get("group") or {}).get("name") or (share.get("project") or {}).get("key") or \
        (share.get("user") or {}).get("accountId") or ""
    return f"{share.get('type')} {target}".strip()


def _share_words(ref: Declared, kind: str, source_id: str) -> str:
    what = "edit" if ref.path.startswith("editPermissions") else "share"
    return f"Dropped the {what} permission for {words_for(kind, source_id)}: it has no counterpart here."


def share_requests(shares: Iterable[dict[str, Any]], *, report: bool = False) -> list[dict[str, Any]]:
    """Share permissions (of an object in destination terms) as a request names them, in a stable order.
    ``report``: say which the restore leaves out (a share of an unknown project can't be written)."""
    out = []
    for share in shares:
        kind = str(share.get("type"))
        mapped: dict[str, Any] | None = {"type": kind}
        if kind == "group":
            gid = (share.get("group") or {}).get("groupId")
            mapped = {"type": kind, "group": {"groupId": str(gid)}} if gid else None
        elif kind in ("project", "projectRole"):
            pid = (share.get("project") or {}).get("id")
            mapped = {"type": kind, "project": {"id": str(pid)}} if pid else None
            role = (share.get("role") or {}).get("id")
            if mapped is not None and role is not None:
                # The spec types a role id as an integer; Jira refuses the string form in a request.
                role_id: Any = int(role) if str(role).isdigit() else str(role)
                mapped = dict(mapped, type="projectRole", role={"id": role_id})
        elif kind == "user":
            account = (share.get("user") or {}).get("accountId")
            mapped = {"type": kind, "user": {"accountId": str(account)}} if account else None
        elif kind in ("loggedin", "authenticated"):
            mapped = {"type": "authenticated"}  # Jira answers "loggedin" for what a request calls "authenticated"
        elif kind == "project-unknown":
            mapped = None
        if mapped is None:
            if report:
                note(f"Dropped the permission for {_share_label(share)}: it has no counterpart here.")
            continue
        out.append(mapped)
    return sorted(out, key=lambda s: repr(sorted(s.items())))


# -- owners: handing a filter or dashboard to its owner without name collisions -------------------------------
#
# Jira keeps names unique per owner and lets only the owner rename a filter (an administrator may rename another's
# dashboard, but the account the app acts as needn't be one). The app creates as itself and then hands the object
# over, so the account it acts as would hold two objects of one name when two owners each have "My open work".
# Hence, per run, one lock per name: the app holds at most one object of a name in transit. An object of that name the
# app's account still holds for good (its own, or one left by a run killed mid-hand-over) is *parked* under a marked
# name while the new one takes the name and is handed over, then given its name back. A run killed in between finds
# the parked one again on resume (the killed object's follow-up parks and unparks under the same lock).

_NAME_LOCKS_GUARD = threading.Lock()
NAME_MAX = 255  # filter and dashboard names


def name_lock(ids: IdMap, kind: str, name: str) -> threading.Lock:
    """The run's lock for one name (case-insensitive) of one kind of shared object."""
    with _NAME_LOCKS_GUARD:
        return run_memo(ids, f"{kind}NameLocks").setdefault(fold(name), threading.Lock())


def _suffixed(name: str, suffix: str) -> str:
    return name[:NAME_MAX - len(suffix)].rstrip() + suffix


def parked_name(name: str, dest_id: str) -> str:
    """The name an object of the app's account carries while another of its name is handed over."""
    return _suffixed(name, f" [restore: parked {dest_id}]")


def temp_name(name: str, source_id: str) -> str:
    """The name a dashboard is created under until it is handed over: unique to its source object."""
    return _suffixed(name, f" [restore: creating {source_id}]")


def is_parked(candidate: dict[str, Any], name: str) -> bool:
    return fold(candidate.get("name") or "") == fold(parked_name(name, str(candidate.get("id"))))


def name_taken(exc: JiraError) -> bool:
    """Whether Jira refused a create or rename because the account already has an object of that name (a filter's
    refusal names ``filterName``; a dashboard's, ``name``)."""
    if exc.status != 400:
        return False
    text = " ".join([*exc.messages, *exc.field_errors.values()]).lower()
    return "filterName" in exc.field_errors or "same name" in text or (
        "already" in exc.field_errors.get("name", "").lower())


def unpark(parked: list[dict[str, Any]], name: str, mine: Callable[[], list[dict[str, Any]]], what: str,
           rename: Callable[[dict[str, Any], str], Any]) -> None:
    """Give parked objects (filters, dashboards) their name back, the original spelling, once the app's account
    holds none of that name; else say they stay parked."""
    if not parked:
        return
    if any(fold(o["name"]) == fold(name) for o in mine()):
        note(f"{what} of the app's account named {name!r} stay parked while it holds one of that name: "
             f"{', '.join(parked_name(o['name'], str(o['id'])) for o in parked)}.")
        return
    first = parked[0]
    rename(first, name if is_parked(first, name) else first["name"])  # one left parked by a killed run: our spelling


def _wanted_owner(obj: dict[str, Any], ids: IdMap) -> str | None:
    """The owner the object must end with here (None: the account the app acts as keeps it)."""
    owner = _owner(obj)
    return ids.user(owner) if owner else None


def _newest(found: list[dict[str, Any]]) -> dict[str, Any]:
    return max(found, key=lambda f: (len(str(f["id"])), str(f["id"])))  # ids grow


class NameHeld(CannotRestore):
    """The account the app acts as keeps an object of this name for good, and Jira allows one per owner."""

    def __init__(self, what: str, name: str) -> None:
        super().__init__(f"The account the app acts as here already owns a {what} named {name!r}, and it is to own "
                         f"this one too: Jira allows one {what} of a name per owner.",
                         "Rename one of them (in the source or here), then run the restore again.")


# -- filters -------------------------------------------------------------------------------------------------


def filter_request(obj: dict[str, Any], ids: IdMap | None, name: str | None = None) -> dict[str, Any]:
    """The body that creates ``obj`` (source mapped through ``ids``; a destination filter with ``ids`` None)."""
    report = ids is not None
    obj = to_destination("filters", obj, ids, say=_share_words)
    body: dict[str, Any] = {"name": name or obj["name"], "jql": obj.get("jql") or "",
                            "sharePermissions": share_requests(obj.get("sharePermissions") or [], report=report),
                            "editPermissions": share_requests(obj.get("editPermissions") or [], report=report)}
    if obj.get("description"):
        body["description"] = obj["description"]
    return body


class Filters(Restorer):
    """Filters, with share/edit permissions and JQL in destination terms, given to their owner (or the fallback).

    The app creates a filter as itself and gives it to its owner at once, under the run's lock for its name (see
    "owners" above), so same-name filters of different owners all come back. A create killed before its hand-over
    is found again by ``find_created`` among the app's own filters, and ``after_create`` finishes the hand-over.
    """

    type_key = "filters"
    title = "Filters"
    writes = (CREATE_FILTER, CHANGE_FILTER_OWNER, UPDATE_FILTER)

    def cost(self, obj: dict[str, Any]) -> int:
        return 2  # the create and, unless we own it already, the owner

    def ids_in_strings(self, obj: dict[str, Any], field_kind: Callable[[str], str | None]) -> Iterable[Any]:
        return jql_references(obj.get("jql") or "", field_kind)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return _owner_key(_owner(obj), obj["name"])

    def match_key(self, obj: dict[str, Any], ids: IdMap) -> str:
        """The key on the destination: the owner the filter will have there (missing users map to the fallback)."""
        return _owner_key(_wanted_owner(obj, ids), obj["name"])

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        found = [_owner(obj), *share_accounts(obj.get("sharePermissions") or []),
                 *share_accounts(obj.get("editPermissions") or [])]
        return sorted({a for a in found if a})

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        params = {"expand": f"{SHARED_EXPAND},jql", "overrideSharePermissions": "true"}
        for obj in reader(access).items(OP_FILTERS, params=params):  # the backup's request (verification replays it)
            yield Existing(_owner_key(_owner(obj), obj["name"]), str(obj["id"]), obj)
            # A filter whose owner was dropped is matched on its name alone.
            yield Existing(_owner_key(None, obj["name"]), str(obj["id"]), obj)

    def _mine(self, access: SiteAccess) -> list[dict[str, Any]]:
        """The filters the account the app acts as owns."""
        return list(access.call(FILTERS_MINE) or [])

    def find_created(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> Existing | None:
        """The filter an interrupted create may have made (the engine's look-up before creating again).

        The filter with the wanted owner and name if there is one (the hand-over happened); else one of the app's own
        filters (``GET /filter/my``) of that name, or parked under it, with exactly the content the create sends
        (JQL, permissions, description in destination terms), the newest if several: the hand-over then runs again
        in ``after_create``. Only the app's own are candidates: another owner's filter of the same name and content
        (two people's "My open work" often have the same JQL) is theirs, never ours.
        """
        key = self.match_key(obj, ids)
        params = {"expand": f"{SHARED_EXPAND},jql", "overrideSharePermissions": "true", "filterName": obj["name"]}
        exact = [f for f in access.paginate(OP_FILTERS, params=params, page_size=100)
                 if _owner_key(_owner(f), f["name"]) == key]
        if exact:
            return Existing(key, str(_newest(exact)["id"]), _newest(exact))
        content, mine = self._content(obj, ids), self._mine(access)
        ours = [f for f in mine if (fold(f["name"]) == fold(obj["name"]) or is_parked(f, obj["name"]))
                and self._content(f, None) == content]
        if ours:
            return Existing(key, str(_newest(ours)["id"]), _newest(ours))
        # Killed after parking the app's own filter of the name but before creating this one: the create that now
        # follows gives the parked one its name back.
        run_memo(ids, "filtersLeftParked")[fold(obj["name"])] = [f for f in mine if is_parked(f, obj["name"])]
        return None

    def _content(self, obj: dict[str, Any], ids: IdMap | None) -> dict[str, Any]:
        return {k: v for k, v in self.comparable(obj, ids).items() if k not in ("owner", "name")}

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        wanted = _wanted_owner(obj, ids)
        body = filter_request(obj, ids)
        with name_lock(ids, "filter", obj["name"]):
            parked: list[dict[str, Any]] = run_memo(ids, "filtersLeftParked").pop(fold(obj["name"]), [])
            try:
                try:
                    created = access.call(CREATE_FILTER, json=body)
                except JiraError as exc:
                    if not name_taken(exc):
                        raise
                    # The app's account holds a filter of this name: park it unless this one is to stay with it.
                    held = [f for f in self._mine(access) if fold(f["name"]) == fold(obj["name"])]
                    if not held or wanted in (None, _owner(held[0])):
                        raise NameHeld("filter", obj["name"]) from None
                    parked += self._park(access, held)
                    created = access.call(CREATE_FILTER, json=body)
                dest_id = str(created["id"])
                self._hand_over(access, dest_id, _owner(created), wanted, ids)
            finally:
                self._unpark(access, parked, obj["name"])
        return dest_id

    def _hand_over(self, access: SiteAccess, dest_id: str, acting: str | None, wanted: str | None,
                   ids: IdMap) -> None:
        """Give the app's filter to ``wanted``; a refusal is kept for ``after_create`` to report (the filter exists)."""
        if wanted is None or wanted == acting:
            return
        try:
            access.call(CHANGE_FILTER_OWNER, path={"id": dest_id}, json={"accountId": wanted})
        except JiraError as exc:
            if isinstance(exc, JiraUnavailable) or exc.status not in (400, 403, 404):
                raise  # may have happened: the look-up after a lost answer finds out
            run_memo(ids, "filterHandOverRefused")[dest_id] = exc.describe()

    def _park(self, access: SiteAccess, held: list[dict[str, Any]]) -> list[dict[str, Any]]:
        parked = []
        for found in held:
            access.call(UPDATE_FILTER, path={"id": found["id"]},
                        json=filter_request(found, None, parked_name(found["name"], str(found["id"]))))
            parked.append(found)
        return parked

    def _unpark(self, access: SiteAccess, parked: list[dict[str, Any]], name: str) -> None:
        unpark(parked, name, lambda: self._mine(access), "Filters",
               lambda found, to: access.call(UPDATE_FILTER, path={"id": found["id"]},
                                             json=filter_request(found, None, to)))

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        source_owner = _owner(obj)
        wanted = _wanted_owner(obj, ids)
        if just_created():
            refused = run_memo(ids, "filterHandOverRefused").get(dest_id)
        else:
            refused = self._finish_hand_over(access, dest_id, obj, wanted, ids)
        if source_owner and wanted is None:
            note(f"Owner {source_owner} has no account here: the filter is owned by the account the app acts as.")
        elif source_owner and wanted != source_owner:
            note(f"Owner {source_owner} has no account here: owned by the fallback {wanted}.")
        if refused:
            raise CannotRestore(f"Jira refused to give it to its owner {wanted}: {refused}",
                                "Give the filter to its owner by hand (Filters > ... > Change owner), renaming one "
                                "of theirs if they already own a filter of this name.")

    def _finish_hand_over(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], wanted: str | None,
                          ids: IdMap) -> str | None:
        """On resume: the hand-over (and the name) of a filter whose create may have stopped short; the refusal."""
        with name_lock(ids, "filter", obj["name"]):
            mine = self._mine(access)
            ours = next((f for f in mine if str(f["id"]) == dest_id), None)
            leftovers = [f for f in mine if is_parked(f, obj["name"]) and str(f["id"]) != dest_id]
            parked: list[dict[str, Any]] = []
            try:
                if ours is None:
                    return None  # already given to its owner
                acting = _owner(ours)
                if fold(ours["name"]) != fold(obj["name"]):  # parked by a run killed mid-way: take the name back
                    held = [f for f in mine if fold(f["name"]) == fold(obj["name"])]
                    if held and wanted in (None, acting):
                        raise NameHeld("filter", obj["name"])
                    parked = self._park(access, held)
                    access.call(UPDATE_FILTER, path={"id": dest_id}, json=filter_request(ours, None, obj["name"]))
                self._hand_over(access, dest_id, acting, wanted, ids)
                return run_memo(ids, "filterHandOverRefused").get(dest_id)
            finally:
                self._unpark(access, [*parked, *leftovers], obj["name"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        obj = to_destination(self.type_key, obj, ids, say=_share_words)
        return {"name": obj["name"], "description": obj.get("description") or "", "owner": _owner(obj),
                "jql": obj.get("jql") or "",
                "sharePermissions": share_requests(obj.get("sharePermissions") or []),
                "editPermissions": share_requests(obj.get("editPermissions") or [])}


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


class Boards(Restorer):
    """Agile boards on their restored filter and project. Columns and estimation can't be written (noted)."""

    type_key = "boards"
    title = "Boards"
    writes = (CREATE_BOARD,)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return _board_key(obj["name"], obj.get("type"), _board_filter(obj))

    def match_key(self, obj: dict[str, Any], ids: IdMap) -> str:
        fid = _board_filter(obj)
        return _board_key(obj["name"], obj.get("type"), ids.get("filters", fid) if fid else None)

    def projects(self, obj: dict[str, Any]) -> Iterable[str]:
        key = (obj.get("location") or {}).get("projectKey")
        return [str(key)] if key else []

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if _board_filter(obj) is None:
            return CannotRestore("The backup couldn't read the board's filter.", "Recreate the board by hand.")
        if obj.get("type") not in ("scrum", "kanban"):
            return CannotRestore(f"Boards of type {obj.get('type')!r} can't be created through Jira's API.",
                                 "Recreate the board by hand.")
        return None

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        r = reader(access)  # each board's configuration is a request of its own: fanned out when reads are pooled

        def with_config(board: dict[str, Any]) -> dict[str, Any]:
            return dict(board, configuration=r.get(OP_BOARD_CONFIG, path={"boardId": board["id"]}) or {})

        for obj in r.fan_out(with_config, r.items(OP_BOARDS, page_size=50)):
            yield Existing(self.natural_key(obj), str(obj["id"]), obj)

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        mapped = to_destination(self.type_key, obj, ids, say=lambda *_: "Its project wasn't restored: the board was "
                                                                        "created without a location.")
        body: dict[str, Any] = {"name": obj["name"], "type": obj["type"], "filterId": int(str(_board_filter(mapped)))}
        pid = _board_project(mapped)
        if pid is not None:
            body["location"] = {"type": "project", "projectKeyOrId": pid}
        created = access.call(CREATE_BOARD, json=body)
        return str(created["id"])

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        note(BOARD_CONFIG_NOTE)

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        mapped = to_destination(self.type_key, obj, ids, quiet=True)
        return {"name": obj["name"], "type": obj.get("type"), "filter": _board_filter(mapped),
                "project": _board_project(mapped)}


# -- gadget configuration (dashboard item properties) ---------------------------------------------------------
#
# What Jira's built-in gadgets keep in their item properties, and where ids hide in it: a whole value
# "filter-10001"/"project-10000" (filterId, projectOrFilterId), "filterId=10001" inside a value, custom field ids
# (statType, xstattype/ystattype, columnNames "summary|customfield_10050"), JQL under a key naming jql, and bare ids
# under keys naming what they hold (filterId, projectId, issueTypeId, statusId...). Each is rewritten in destination
# terms; a member naming something with no counterpart here is left out and reported, never kept with a source id.

GADGET_KEY_TYPES = {  # member name (lower case) -> what its bare numeric ids name
    **dict.fromkeys(("filterid", "filter_id", "savedfilterid", "filter"), "filters"),
    **dict.fromkeys(("projectid", "project_id", "projectids", "project", "projects"), "projects"),
    **dict.fromkeys(("issuetypeid", "issuetypeids", "issuetype", "issuetypes", "typeid"), "issueTypes"),
    **dict.fromkeys(("statusid", "statusids", "status", "statuses"), "statuses"),
    **dict.fromkeys(("priorityid", "priorityids", "priority"), "priorities"),
    **dict.fromkeys(("resolutionid", "resolutionids", "resolution"), "resolutions"),
}
GADGET_REF_LABELS = {"filters": "filter", "projects": "project", "customFields": "custom field",
                     "issueTypes": "issue type", "statuses": "status", "priorities": "priority",
                     "resolutions": "resolution"}
_PREFIXED_ID = re.compile(r"(filter|project)-(\d+)", re.IGNORECASE)  # the whole value: "filter-10001"
_ASSIGNED_ID = re.compile(r"\b(filterId|projectId)=(\d+)", re.IGNORECASE)  # "filterId=10001" inside a value
_CUSTOM_FIELD_ID = re.compile(r"\bcustomfield_\d+\b")
_ID_LIST = re.compile(r"\s*\d+(?:\s*[,|]\s*\d+)*\s*")
_PREFIX_TYPES = {"filter": "filters", "project": "projects", "filterid": "filters", "projectid": "projects"}

Lookup = Callable[[str, str], str | None]  # (type, source id) -> destination id, or None


def _mentions(key: str, text: str) -> list[tuple[int, int, str, str]]:
    """Each id a (non-JQL) string names: (start, end, type, source id), the span being what a mapping replaces."""
    whole = _PREFIXED_ID.fullmatch(text)
    if whole:
        return [(whole.start(2), whole.end(2), _PREFIX_TYPES[whole.group(1).lower()], whole.group(2))]
    found = [(m.start(2), m.end(2), _PREFIX_TYPES[m.group(1).lower()], m.group(2)) for m in _ASSIGNED_ID.finditer(text)]
    found += [(m.start(), m.end(), "customFields", m.group(0)) for m in _CUSTOM_FIELD_ID.finditer(text)]
    kind = GADGET_KEY_TYPES.get(key.lower())
    if kind and not found and _ID_LIST.fullmatch(text):
        found = [(m.start(), m.end(), kind, m.group(0)) for m in re.finditer(r"\d+", text)]
    return found


def _map_text(key: str, text: str, lookup: Lookup, ids: IdMap | None) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with every id it names in destination terms, and the (type, id) pairs that have none."""
    if "jql" in key.lower():
        if ids is None:  # collecting what it names
            return text, [(r.type_key, r.source_id) for r in jql_refs(text)]
        return map_jql(text, ids), []  # the JQL rewrite leaves out (and notes) a clause naming what isn't here
    out, missing = text, []
    for start, end, kind, source_id in sorted(_mentions(key, text), reverse=True):
        dest = lookup(kind, source_id)
        if dest is None:
            missing.append((kind, source_id))
        else:
            out = out[:start] + dest + out[end:]
    return out, missing


def _map_member(key: str, value: Any, lookup: Lookup, ids: IdMap | None,
                problems: list[tuple[str, str, str]]) -> tuple[Any, bool]:
    """A member of a gadget's configuration in destination terms, and whether it is kept (all its ids mapped)."""
    if isinstance(value, dict):
        kept = {}
        for k, v in value.items():
            mapped, keep = _map_member(str(k), v, lookup, ids, problems)
            if keep:
                kept[k] = mapped
        return kept, True
    if isinstance(value, list):
        items = [_map_member(key, v, lookup, ids, problems) for v in value]
        return [mapped for mapped, keep in items if keep], True
    if isinstance(value, bool) or not isinstance(value, str | int):
        return value, True
    text, missing = _map_text(key, str(value), lookup, ids)
    problems += [(key, kind, source_id) for kind, source_id in missing]
    if missing:
        return None, False
    return (int(text) if isinstance(value, int) and text.isdigit() else text if isinstance(value, str) else value), True


def map_gadget_properties(properties: dict[str, Any], ids: IdMap) -> tuple[dict[str, Any], list[str]]:
    """A gadget's item properties in destination terms, and in words each setting left out (it named something
    with no counterpart here)."""
    problems: list[tuple[str, str, str]] = []
    mapped = {}
    for key, value in properties.items():
        out, keep = _map_member(key, value, ids.get, ids, problems)
        if keep:
            mapped[key] = out
    words = [f"its setting {key!r} names {GADGET_REF_LABELS.get(kind, kind)} {source_id}, which has no counterpart "
             "here: that setting was left out; set it by hand in the gadget's configuration."
             for key, kind, source_id in dict.fromkeys(problems)]
    return mapped, words




# -- dashboards ----------------------------------------------------------------------------------------------


def _position(gadget: dict[str, Any]) -> tuple[int, int]:
    position = gadget.get("position") or {}
    return int(position.get("row", 0)), int(position.get("column", 0))


def _gadget(gadget: dict[str, Any]) -> dict[str, Any]:
    row, column = _position(gadget)
    return {**pick(gadget, "moduleKey", "uri"), "title": gadget.get("title") or "",
            "color": gadget.get("color") or "blue", "position": {"row": row, "column": column}}


def dashboard_request(obj: dict[str, Any], ids: IdMap | None, name: str | None = None) -> dict[str, Any]:
    """The body that creates (or, with ``ids`` None, rewrites as it is) a dashboard. Its gadgets' configuration is
    written by requests of their own, mapped gadget by gadget (``map_gadget_properties``, the declaration's
    ``gadget`` form)."""
    report = ids is not None
    obj = to_destination("dashboards", obj, ids, skip=("gadgets[].properties",), say=_share_words)
    return {"name": name or obj["name"], "description": obj.get("description") or "",
            "sharePermissions": share_requests(obj.get("sharePermissions") or [], report=report),
            "editPermissions": share_requests(obj.get("editPermissions") or [], report=report)}


class Dashboards(Restorer):
    """Dashboards with share/edit permissions, gadgets in their positions and the gadgets' configuration (item
    properties, ids inside rewritten), given to their owner; the System dashboard maps onto the destination's.

    A dashboard is created under a name unique to its source (``temp_name``), so creating never collides and a killed
    run finds it again; ``after_create`` adds the gadgets and their configuration while the app still owns it, then,
    under the run's lock for the name, renames it and gives it to its owner with ``PUT /dashboard/bulk/edit``
    (changeOwner). One dashboard per call: the engine records each object's outcome on its own (a batch sent once
    the type is done would leave created dashboards recorded before their hand-over, and lost on a crash), and the
    app's account can hold only one dashboard of a name at a time, so same-name dashboards can't wait in one batch.
    """

    type_key = "dashboards"
    title = "Dashboards"
    writes = (CREATE_DASHBOARD, ADD_GADGET, SET_ITEM_PROPERTY, UPDATE_DASHBOARD, BULK_EDIT_DASHBOARDS)

    def cost(self, obj: dict[str, Any]) -> int:
        gadgets = obj.get("gadgets") or []
        return 3 + len(gadgets) + sum(len(g.get("properties") or {}) for g in gadgets)

    def natural_key(self, obj: dict[str, Any]) -> str:
        return _owner_key(_owner(obj), obj["name"])

    def match_key(self, obj: dict[str, Any], ids: IdMap) -> str:
        """The key on the destination: the owner the dashboard will have there, as for filters."""
        return _owner_key(_wanted_owner(obj, ids), obj["name"])

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        found = [_owner(obj), *share_accounts(obj.get("sharePermissions") or []),
                 *share_accounts(obj.get("editPermissions") or [])]
        return sorted({a for a in found if a})

    def is_default(self, obj: dict[str, Any]) -> bool:
        return bool(obj.get("systemDashboard"))

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        if self.is_default(obj):
            return CannotRestore("The System dashboard can't be created or edited through Jira's API.",
                                 "Arrange it by hand (Dashboards > Default dashboard).")
        return None

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        r = reader(access)

        def gadgets_of(board: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
            gadgets = (r.get(OP_GADGETS, path={"dashboardId": board["id"]}) or {}).get("gadgets") or []
            return board, [with_item_properties(r, board["id"], g) for g in gadgets]

        for board, gadgets in r.fan_out(gadgets_of, r.items(OP_DASHBOARDS, params={"expand": SHARED_EXPAND})):
            obj = dict(board, gadgets=gadgets)
            system = bool(board.get("systemDashboard"))
            yield Existing(self.natural_key(obj), str(board["id"]), obj, system)
            if _owner(obj) is not None:  # owner dropped: by name (the owner-less System dashboard has that key)
                yield Existing(_owner_key(None, obj["name"]), str(board["id"]), obj, system)

    def _mine(self, access: SiteAccess) -> list[dict[str, Any]]:
        """The dashboards the account the app acts as owns."""
        return list(access.paginate(DASHBOARDS_LIST, params={"filter": "my"}, page_size=100, values_key="dashboards"))

    def _content(self, obj: dict[str, Any], ids: IdMap | None) -> dict[str, Any]:
        return {k: v for k, v in dashboard_request(obj, ids).items() if k != "name"}

    def find_created(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> Existing | None:
        """The dashboard an interrupted create may have made: under its temporary name (unique to its source), with
        its wanted owner and name (handed over), or the app's own of that name (or parked under it) with the same
        description and permissions (renamed, not yet handed over)."""
        key, name = self.match_key(obj, ids), obj["name"]
        temp = fold(temp_name(name, self.source_id(obj)))
        params = {"expand": SHARED_EXPAND, "dashboardName": name[:200].rstrip()}
        same_name = list(access.paginate(OP_DASHBOARDS, params=params, page_size=100))
        found = [d for d in same_name if fold(d["name"]) == temp] or \
                [d for d in same_name if _owner_key(_owner(d), d["name"]) == key]
        if not found:
            content = self._content(obj, ids)
            found = [d for d in self._mine(access) if (fold(d["name"]) == fold(name) or is_parked(d, name))
                     and self._content(d, None) == content]
        return Existing(key, str(_newest(found)["id"]), _newest(found)) if found else None

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = dashboard_request(obj, ids, temp_name(obj["name"], self.source_id(obj)))
        created = access.call(CREATE_DASHBOARD, json=body)
        run_memo(ids, "dashboardsMade")[str(created["id"])] = created  # as Jira made it: its owner, its name
        return str(created["id"])

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        fresh = just_created()
        current = run_memo(ids, "dashboardsMade").get(dest_id) if fresh else None
        current = current or access.call(GET_DASHBOARD, path={"id": dest_id})
        wanted = _wanted_owner(obj, ids)
        handed = wanted is not None and _owner(current) == wanted and fold(current["name"]) == fold(obj["name"])
        if not handed:  # once given to its owner the app may no longer edit it; it was complete before that
            self._gadgets(access, dest_id, obj, ids, fresh)
        source_owner = _owner(obj)
        if source_owner and wanted is None:
            note(f"Owner {source_owner} has no account here: the dashboard is owned by the account the app acts as.")
        elif source_owner and wanted != source_owner:
            note(f"Owner {source_owner} has no account here: owned by the fallback {wanted}.")
        refused = self._place(access, dest_id, current, obj, ids, fresh)
        if refused:
            raise CannotRestore(f"Jira refused to give it to its owner {wanted}: {refused}",
                                "Give the dashboard to its owner by hand (Dashboards > ... > Change owner), renaming "
                                "one of theirs if they already own a dashboard of this name.")

    def _gadgets(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap, fresh: bool) -> None:
        """Gadgets in their positions with their configuration; repeated after a crash, nothing is added twice."""
        here = [] if fresh else (access.call(OP_GADGETS, path={"dashboardId": dest_id}) or {}).get("gadgets") or []
        at = {_position(g): g for g in here}
        for gadget in sorted(obj.get("gadgets") or [], key=_position):
            made = at.get(_position(gadget)) or access.call(ADD_GADGET, path={"dashboardId": dest_id},
                                                            json=_gadget(gadget))
            properties, problems = map_gadget_properties(gadget.get("properties") or {}, ids)
            for problem in problems:
                note(f"Gadget {gadget.get('title') or _gadget(gadget).get('moduleKey')!r}: {problem}")
            for key, value in properties.items():
                access.call(SET_ITEM_PROPERTY, path={"dashboardId": dest_id, "itemId": made["id"], "propertyKey": key},
                            json=value)

    def _place(self, access: SiteAccess, dest_id: str, current: dict[str, Any], obj: dict[str, Any], ids: IdMap,
               fresh: bool) -> str | None:
        """Under the run's lock for the name: take the name (parking the app's other one of it), hand the dashboard
        over. The refusal of the hand-over, if any."""
        name, wanted, acting = obj["name"], _wanted_owner(obj, ids), _owner(current)
        with name_lock(ids, "dashboard", name):
            mine = None if fresh else self._mine(access)
            parked = [d for d in mine or [] if is_parked(d, name) and str(d["id"]) != dest_id]
            try:
                if current["name"] != name:
                    try:
                        self._rename(access, current, name)
                    except JiraError as exc:
                        if not name_taken(exc):
                            raise
                        held = [d for d in self._mine(access) if fold(d["name"]) == fold(name)
                                and str(d["id"]) != dest_id]
                        if not held or wanted in (None, acting):
                            raise NameHeld("dashboard", name) from None
                        for found in held:
                            self._rename(access, found, parked_name(found["name"], str(found["id"])))
                            parked.append(found)
                        self._rename(access, current, name)
                if wanted is None or wanted == acting:
                    return None
                answer = access.call(BULK_EDIT_DASHBOARDS, json={
                    "action": "changeOwner", "entityIds": [int(dest_id)],
                    "changeOwnerDetails": {"newOwner": wanted, "autofixName": False}}) or {}
                refused = (answer.get("entityErrors") or {}).get(str(dest_id))
                return ("; ".join(refused.get("errorMessages") or []) or "refused") if refused else None
            finally:
                self._unpark(access, parked, name)

    def _rename(self, access: SiteAccess, dashboard: dict[str, Any], name: str) -> None:
        """Rename a dashboard the app's account owns, its description and permissions as they are."""
        access.call(UPDATE_DASHBOARD, path={"id": dashboard["id"]}, json=dashboard_request(dashboard, None, name))

    def _unpark(self, access: SiteAccess, parked: list[dict[str, Any]], name: str) -> None:
        unpark(parked, name, lambda: self._mine(access), "Dashboards",
               lambda found, to: self._rename(access, found, to))

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        mapped = to_destination(self.type_key, obj, ids, skip=("gadgets[].properties",), say=_share_words)
        gadgets = [dict(_gadget(g), configuration=(g.get("properties") or {}) if ids is None
                        else map_gadget_properties(g.get("properties") or {}, ids)[0])
                   for g in sorted(mapped.get("gadgets") or [], key=_position)]
        return {"name": mapped["name"], "description": mapped.get("description") or "",
                "sharePermissions": share_requests(mapped.get("sharePermissions") or []),
                "editPermissions": share_requests(mapped.get("editPermissions") or []),
                "owner": _owner(mapped), "gadgets": gadgets}


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

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        objs = [{"provider": access.call(OP_TIMETRACKING)}, access.call(OP_TIMETRACKING_OPTIONS) or {},
                access.call(OP_CONFIGURATION) or {}, *(access.call(OP_ADVANCED_SETTINGS) or [])]
        for obj in objs:
            yield Existing(setting_id(obj), setting_id(obj), obj)

    def why_not(self, obj: dict[str, Any]) -> CannotRestore | None:
        # Every setting exists on every site; one the destination lacks is an advanced setting it doesn't offer.
        return CannotRestore(f"The destination has no setting {self.display_name(obj)!r}.", "Nothing to do.")

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        raise self.why_not(obj)  # type: ignore[misc]

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
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
