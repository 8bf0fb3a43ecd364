"""Restorers of screens (tabs and fields in order), field configurations with their items, field configuration
schemes, screen schemes, issue type screen schemes, issue type schemes and priority schemes (OAuth-only writes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from ...jira.access import SiteAccess
from ...jira.operations import declare
from ...objects.declarations import DECLARATIONS
from ..mapping import to_destination
from .base import CannotRestore, Existing, IdMap, Ref, Restorer, fold, just_created, pick
from .fields import custom_field_ref, read_existing

CREATE_SCREEN = declare("POST", "/rest/api/3/screens")
LIST_TABS = declare("GET", "/rest/api/3/screens/{screenId}/tabs")
CREATE_TAB = declare("POST", "/rest/api/3/screens/{screenId}/tabs")
RENAME_TAB = declare("PUT", "/rest/api/3/screens/{screenId}/tabs/{tabId}")
MOVE_TAB = declare("POST", "/rest/api/3/screens/{screenId}/tabs/{tabId}/move/{pos}")
LIST_TAB_FIELDS = declare("GET", "/rest/api/3/screens/{screenId}/tabs/{tabId}/fields")
ADD_TAB_FIELD = declare("POST", "/rest/api/3/screens/{screenId}/tabs/{tabId}/fields")
MOVE_TAB_FIELD = declare("POST", "/rest/api/3/screens/{screenId}/tabs/{tabId}/fields/{id}/move")
CREATE_FIELD_CONFIG = declare("POST", "/rest/api/3/fieldconfiguration")
LIST_FIELD_CONFIG_ITEMS = declare("GET", "/rest/api/3/fieldconfiguration/{id}/fields")
SET_FIELD_CONFIG_ITEMS = declare("PUT", "/rest/api/3/fieldconfiguration/{id}/fields")
CREATE_FCS = declare("POST", "/rest/api/3/fieldconfigurationscheme")
FCS_MAPPINGS = declare("GET", "/rest/api/3/fieldconfigurationscheme/mapping")
SET_FCS_MAPPINGS = declare("PUT", "/rest/api/3/fieldconfigurationscheme/{id}/mapping")
CREATE_SCREEN_SCHEME = declare("POST", "/rest/api/3/screenscheme")
CREATE_ITSS = declare("POST", "/rest/api/3/issuetypescreenscheme")
CREATE_ITS = declare("POST", "/rest/api/3/issuetypescheme")
LIST_ITS = declare("GET", "/rest/api/3/issuetypescheme")
ITS_MAPPING = declare("GET", "/rest/api/3/issuetypescheme/mapping")
UPDATE_ITS = declare("PUT", "/rest/api/3/issuetypescheme/{issueTypeSchemeId}")
ADD_ITS_TYPES = declare("PUT", "/rest/api/3/issuetypescheme/{issueTypeSchemeId}/issuetype")
MOVE_ITS_TYPES = declare("PUT", "/rest/api/3/issuetypescheme/{issueTypeSchemeId}/issuetype/move")
CREATE_PRIORITY_SCHEME = declare("POST", "/rest/api/3/priorityscheme")

DEFAULT_SCREEN_SCHEME_ID = "1"  # Jira's Default Screen Scheme and Default Issue Type Screen Scheme have id 1
DEFAULT_ITSS_ID = "1"


class _ByName(Restorer):
    """A type matched on its name, case-insensitively (Jira refuses a second one whatever the case)."""

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        for dest_id, obj in read_existing(self.type_key, access):
            yield Existing(self.natural_key(obj), dest_id, obj, self.is_default(obj))


# --------------------------------------------------------------------------- screens


class Screens(_ByName):
    """Screens with their tabs and tab fields, in order. Matched by name; a matching screen (Jira's Default Screen,
    say) is brought up to the source's content by adding missing tabs and fields and ordering them — nothing on the
    destination is removed. Custom fields that weren't restored are left out (verification lists them)."""

    type_key = "screens"
    title = "Screens"
    can_update = True
    writes = (CREATE_SCREEN, CREATE_TAB, RENAME_TAB, MOVE_TAB, ADD_TAB_FIELD, MOVE_TAB_FIELD)

    def cost(self, obj: dict[str, Any]) -> int:
        tabs = obj.get("tabs") or []
        return 2 + len(tabs) + sum(len(t.get("fields") or []) for t in tabs)  # create, tab list, tabs, fields

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], **({"description": obj["description"]} if obj.get("description") else {})}
        return str(access.call(CREATE_SCREEN, json=body)["id"])

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self._tabs(access, dest_id, obj, ids)

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self._tabs(access, dest_id, obj, ids)

    def _tabs(self, access: SiteAccess, screen_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        """Make the screen's tabs and fields those of ``obj`` (adding and ordering; idempotent)."""
        source = to_destination(self.type_key, obj, ids, quiet=True).get("tabs") or []
        tabs = access.call(LIST_TABS, path={"screenId": screen_id}) or []
        wanted = {fold(t["name"]) for t in source}
        by_name = {fold(t["name"]): t for t in tabs}
        # A new screen comes with Jira's "Field Tab": reuse it for the first tab rather than keep a stray one.
        if source and fold(source[0]["name"]) not in by_name and len(tabs) == 1 \
                and fold(tabs[0]["name"]) not in wanted:
            access.call(RENAME_TAB, path={"screenId": screen_id, "tabId": tabs[0]["id"]},
                        json={"name": source[0]["name"]})
            tabs[0] = dict(tabs[0], name=source[0]["name"])
            by_name = {fold(t["name"]): t for t in tabs}
        for tab in source:
            if fold(tab["name"]) not in by_name:
                made = access.call(CREATE_TAB, path={"screenId": screen_id}, json={"name": tab["name"]})
                tabs.append(made)
                by_name[fold(tab["name"])] = made
        order = [str(by_name[fold(t["name"])]["id"]) for t in source]
        current = [str(t["id"]) for t in tabs]
        for pos, tab_id in enumerate(order):
            if current.index(tab_id) != pos:
                access.call(MOVE_TAB, path={"screenId": screen_id, "tabId": tab_id, "pos": pos})
                current.remove(tab_id)
                current.insert(pos, tab_id)
        # A screen we just created has empty tabs only (Jira's one, renamed, and ours): nothing to read back.
        empty = just_created()
        on_screen = set() if empty else {
            str(f["id"]) for t in tabs
            for f in access.call(LIST_TAB_FIELDS, path={"screenId": screen_id, "tabId": t["id"]}) or []}
        for tab in source:
            self._fields(access, screen_id, str(by_name[fold(tab["name"])]["id"]), tab, ids, on_screen, empty)

    def _fields(self, access: SiteAccess, screen_id: str, tab_id: str, tab: dict[str, Any], ids: IdMap,
                on_screen: set[str], empty: bool = False) -> None:
        path = {"screenId": screen_id, "tabId": tab_id}
        wanted = [str(f["id"]) for f in tab.get("fields") or []]  # in destination terms already (``_tabs``)
        have = [] if empty else [str(f["id"]) for f in access.call(LIST_TAB_FIELDS, path=path) or []]
        for field_id in wanted:
            if field_id not in on_screen:  # a field sits on one tab of a screen only
                access.call(ADD_TAB_FIELD, path=path, json={"fieldId": field_id})
                have.append(field_id)
                on_screen.add(field_id)
        placed = [f for f in have if f in wanted]
        target = [f for f in wanted if f in have]
        if placed != target or have[:len(target)] != target:
            # Moving each field to the end in the source's order leaves them in that order (and first, once any
            # destination-only fields drift to the front).
            for field_id in target:
                access.call(MOVE_TAB_FIELD, path={**path, "id": field_id}, json={"position": "Last"})

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "tabs": [{"name": t["name"], "fields": [str(f["id"]) for f in t.get("fields") or []]}
                         for t in to_destination(self.type_key, obj, ids, strict=True).get("tabs") or []]}


# --------------------------------------------------------------------------- field configurations


def _item_look(item: dict[str, Any]) -> dict[str, Any]:
    return {"isHidden": bool(item.get("isHidden")), "isRequired": bool(item.get("isRequired")),
            "description": item.get("description") or "", **pick(item, "renderer")}


# Jira requires these in every field configuration from its creation: a new one shows them required.
REQUIRED_FROM_THE_START = frozenset({"summary", "issuetype", "project"})


def _as_new(field_id: str, look: dict[str, Any]) -> bool:
    """The item as a just-created configuration already shows it: writing it would change nothing."""
    return look == {"isHidden": False, "isRequired": field_id in REQUIRED_FROM_THE_START, "description": ""}


def _plain(look: dict[str, Any]) -> bool:
    """An item as Jira shows any field nobody configured (left out of comparisons: both sites have many)."""
    return not look["isHidden"] and not look["isRequired"] and not look["description"] and "renderer" not in look


class FieldConfigurations(_ByName):
    """Field configurations with their items (hidden, required, description, renderer per field). The source's
    Default Field Configuration maps onto the destination's, which Jira doesn't let anyone edit through the API."""

    type_key = "fieldConfigurations"
    title = "Field configurations"
    can_update = True
    writes = (CREATE_FIELD_CONFIG, SET_FIELD_CONFIG_ITEMS)

    def is_default(self, obj: dict[str, Any]) -> bool:
        return bool(obj.get("isDefault"))

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        for item in obj.get("items") or []:
            ref = custom_field_ref(str(item["id"]))
            if ref is not None and not _plain(_item_look(item)):
                yield ref

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or ""}
        return str(access.call(CREATE_FIELD_CONFIG, json=body)["id"])

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        self._items(access, dest_id, obj, ids)

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        if obj.get("isDefault"):
            raise CannotRestore("The destination's Default Field Configuration differs, and Jira doesn't let apps "
                                "edit it.", "Compare it with the report's differences and edit it by hand "
                                            "(Settings > Issues > Field configurations).")
        self._items(access, dest_id, obj, ids)

    def _items(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        # A field that didn't come back has nothing to configure (the verification lists it).
        items = to_destination(self.type_key, obj, ids, quiet=True).get("items") or []
        changes = []
        if just_created():
            # A configuration we just created shows every field plain: set the configured ones, without reading
            # its items back (one item per field of the site, each a quota point: on a site with thousands of
            # fields these reads alone spent the hourly quota).
            for item in items:
                field_id, look = str(item["id"]), _item_look(item)
                # what differs from a new configuration's look, as a resumed run (which reads it) writes it too
                if not _as_new(field_id, look):
                    changes.append({"id": field_id, **look})
        else:
            current = {str(i["id"]): _item_look(i) for i in access.paginate(LIST_FIELD_CONFIG_ITEMS,
                                                                            path={"id": dest_id})}
            for item in items:
                field_id, look = str(item["id"]), _item_look(item)
                if field_id not in current or current[field_id] == look:
                    continue
                changes.append({"id": field_id, **look})
        if changes:
            access.call(SET_FIELD_CONFIG_ITEMS, path={"id": dest_id}, json={"fieldConfigurationItems": changes})

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        items = {}
        # a field that didn't come back has nothing to configure
        for item in to_destination(self.type_key, obj, ids, quiet=True).get("items") or []:
            look = _item_look(item)
            if not _plain(look):
                items[str(item["id"])] = look
        return {"name": obj["name"], "description": obj.get("description") or "", "items": items}


class FieldConfigurationSchemes(_ByName):
    """Field configuration schemes with their issue type -> field configuration mappings. Jira's default scheme
    has no id and isn't listed, so it is neither in a snapshot nor restored."""

    type_key = "fieldConfigurationSchemes"
    title = "Field configuration schemes"
    writes = (CREATE_FCS, SET_FCS_MAPPINGS)

    def _mappings(self, obj: dict[str, Any], ids: IdMap | None, *, strict: bool) -> list[dict[str, str]]:
        return issue_type_mappings(to_destination(self.type_key, obj, ids, strict=strict), "fieldConfigurationId")

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        self._mappings(obj, ids, strict=False)  # resolve first: nothing is created if a configuration is missing
        body = {"name": obj["name"], **({"description": obj["description"]} if obj.get("description") else {})}
        return str(access.call(CREATE_FCS, json=body)["id"])

    def after_create(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        current = [] if just_created() else [  # a scheme we just created maps nothing yet
            {"issueTypeId": str(m["issueTypeId"]), "fieldConfigurationId": str(m["fieldConfigurationId"])}
            for m in access.paginate(FCS_MAPPINGS, params={"fieldConfigurationSchemeId": [dest_id]})]
        wanted = self._mappings(obj, ids, strict=False)
        missing = [m for m in wanted if m not in current]
        if missing:  # setting mappings replaces those of the same issue types, so repeating it is harmless
            access.call(SET_FCS_MAPPINGS, path={"id": dest_id}, json={"mappings": missing})

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "mappings": self._mappings(obj, ids, strict=True)}


# --------------------------------------------------------------------------- screen schemes


class ScreenSchemes(_ByName):
    """Screen schemes (default, create, edit, view screens). The Default Screen Scheme maps onto the destination's."""

    type_key = "screenSchemes"
    title = "Screen schemes"
    writes = (CREATE_SCREEN_SCHEME,)

    def is_default(self, obj: dict[str, Any]) -> bool:
        return str(obj.get("id")) == DEFAULT_SCREEN_SCHEME_ID

    def _screens(self, obj: dict[str, Any], ids: IdMap | None) -> dict[str, int]:
        screens = to_destination(self.type_key, obj, ids).get("screens") or {}
        return {kind: int(sid) for kind, sid in sorted(screens.items()) if sid is not None}

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or "", "screens": self._screens(obj, ids)}
        return str(access.call(CREATE_SCREEN_SCHEME, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "screens": self._screens(obj, ids)}


class IssueTypeScreenSchemes(_ByName):
    """Issue type screen schemes with their issue type -> screen scheme mappings (``default`` included)."""

    type_key = "issueTypeScreenSchemes"
    title = "Issue type screen schemes"
    writes = (CREATE_ITSS,)

    def is_default(self, obj: dict[str, Any]) -> bool:
        return str(obj.get("id")) == DEFAULT_ITSS_ID

    def _mappings(self, obj: dict[str, Any], ids: IdMap | None, *, strict: bool) -> list[dict[str, str]]:
        return issue_type_mappings(to_destination(self.type_key, obj, ids, strict=strict), "screenSchemeId")

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], **({"description": obj["description"]} if obj.get("description") else {}),
                "issueTypeMappings": self._mappings(obj, ids, strict=False)}
        return str(access.call(CREATE_ITSS, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "mappings": self._mappings(obj, ids, strict=True)}


# --------------------------------------------------------------------------- issue type and priority schemes




def issue_type_mappings(obj: dict[str, Any], target_field: str) -> list[dict[str, str]]:
    """A scheme's issue type -> target mappings (of an object in destination terms: ``in_terms``), ``default``
    first. The declaration leaves out a row whose issue type didn't come back; a missing target can't be."""
    out = [{"issueTypeId": str(m["issueTypeId"]), target_field: str(m[target_field])}
           for m in obj.get("mappings") or []]
    return sorted(out, key=lambda m: (m["issueTypeId"] != "default", m["issueTypeId"]))


class IssueTypeSchemes(_ByName):
    """Issue type schemes with their issue types in order and default type. The source's Default Issue Type
    Scheme maps onto the destination's: it always holds every issue type (none can be added or removed), so its
    order and default type are brought in line. A scheme already on the destination gets its missing issue types
    added, then the same order, description and default. An issue type that can't be restored (hierarchy above 0)
    is left out of a scheme, and noted."""

    type_key = "issueTypeSchemes"
    title = "Issue type schemes"
    can_update = True  # additive: missing issue types added, order, description and default type set
    writes = (CREATE_ITS, UPDATE_ITS, ADD_ITS_TYPES, MOVE_ITS_TYPES)

    def is_default(self, obj: dict[str, Any]) -> bool:
        return bool(obj.get("isDefault"))

    def _types(self, obj: dict[str, Any], ids: IdMap | None, *, strict: bool, report: bool = False) -> list[str]:
        mapped = to_destination(
            self.type_key, obj, ids, strict=strict, skip=("defaultIssueTypeId",),
            say=(lambda _r, _k, type_id: f"Issue type {type_id} isn't on this site: left out of the scheme.")
            if report else (lambda *_: None))
        return [str(m["issueTypeId"]) for m in mapped.get("mappings") or []]

    def _default_type(self, obj: dict[str, Any], ids: IdMap | None) -> str | None:
        mapped = to_destination(self.type_key, obj, ids, skip=("mappings[].issueTypeId",), quiet=True)
        default = mapped.get("defaultIssueTypeId")
        return None if default is None else str(default)

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        types = self._types(obj, ids, strict=False, report=True)
        if not types:
            raise CannotRestore("None of the scheme's issue types was restored.",
                                "Restore its issue types, then run the restore again.")
        body: dict[str, Any] = {"name": obj["name"], "description": obj.get("description") or "",
                                "issueTypeIds": types}
        default = self._default_type(obj, ids)
        if default in types:
            body["defaultIssueTypeId"] = default
        return str(access.call(CREATE_ITS, json=body)["issueTypeSchemeId"])

    def update(self, access: SiteAccess, dest_id: str, obj: dict[str, Any], ids: IdMap) -> None:
        current = next(iter(access.paginate(LIST_ITS, params={"id": dest_id})), None) or {}
        have = [str(m["issueTypeId"]) for m in access.paginate(ITS_MAPPING, params={"issueTypeSchemeId": dest_id})]
        wanted = self._types(obj, ids, strict=False, report=True)
        missing = [t for t in wanted if t not in have]
        if missing and not self.is_default(obj):  # the default scheme holds every type already
            access.call(ADD_ITS_TYPES, path={"issueTypeSchemeId": dest_id}, json={"issueTypeIds": missing})
            have += missing
        wanted = [t for t in wanted if t in have]
        if wanted and [t for t in have if t in wanted] != wanted:  # the source's order, ahead of any others
            access.call(MOVE_ITS_TYPES, path={"issueTypeSchemeId": dest_id},
                        json={"issueTypeIds": wanted, "position": "First"})
        body: dict[str, Any] = {}
        if not self.is_default(obj) and (current.get("description") or "") != (obj.get("description") or ""):
            body["description"] = obj.get("description") or ""
        default = self._default_type(obj, ids)
        if default in have and str(current.get("defaultIssueTypeId") or "") != default:
            body["defaultIssueTypeId"] = default
        if body:
            access.call(UPDATE_ITS, path={"issueTypeSchemeId": dest_id}, json=body)

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        # The issue types in order (mapped strictly: one still to be created makes the scheme differ, so it is
        # brought in line once it exists) and the default type; a default scheme's name is the destination's.
        out = {"issueTypeIds": self._types(obj, ids, strict=True), "defaultIssueTypeId": self._default_type(obj, ids)}
        if obj.get("isDefault"):
            return {"default": True, **out}
        return {"name": obj["name"], "description": obj.get("description") or "", **out}


class PrioritySchemes(_ByName):
    """Priority schemes with their priorities in order, default priority and projects (Jira offers these writes
    to OAuth apps only). Projects are referenced optionally, so a scheme is created once its projects exist and
    takes them over in the same request; the source's default scheme maps onto the destination's."""

    type_key = "prioritySchemes"
    title = "Priority schemes"
    writes = (CREATE_PRIORITY_SCHEME,)

    def is_default(self, obj: dict[str, Any]) -> bool:
        return bool(obj.get("default"))

    def references(self, obj: dict[str, Any]) -> Iterable[Ref]:
        if obj.get("default"):
            return
        for priority in obj.get("priorities") or []:
            yield Ref("priorities", str(priority["id"]), optional=True)
        for project in obj.get("projects") or []:
            yield Ref("projects", str(project["id"]), optional=True)

    def _in_terms(self, obj: dict[str, Any], ids: IdMap | None, *, strict: bool = False) -> dict[str, Any]:
        # Its projects are a back link the scheme writes itself (see ``references``): mapped with the rest, left
        # out while they aren't on this site (a project takes its scheme then).
        refs = tuple(replace(ref, optional=True) if ref.back else ref for ref in DECLARATIONS[self.type_key].refs)
        return to_destination(self.type_key, obj, ids, refs=refs, strict=strict, quiet=True)

    def _priorities(self, obj: dict[str, Any], ids: IdMap | None, *, strict: bool) -> list[str]:
        return [str(p["id"]) for p in self._in_terms(obj, ids, strict=strict).get("priorities") or []]

    def _projects(self, obj: dict[str, Any], ids: IdMap | None) -> list[str]:
        return sorted(str(p["id"]) for p in self._in_terms(obj, ids).get("projects") or [])

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        priorities = self._priorities(obj, ids, strict=False)
        default = self._in_terms(obj, ids).get("defaultPriorityId")
        default = None if default is None else str(default)
        if default not in priorities:
            raise CannotRestore("The scheme's default priority wasn't restored.",
                                "Restore the priority, then run the restore again.")
        body: dict[str, Any] = {"name": obj["name"], "description": obj.get("description") or "",
                                "priorityIds": [int(p) for p in priorities], "defaultPriorityId": int(default)}
        projects = self._projects(obj, ids)
        if projects:
            body["projectIds"] = [int(p) for p in projects]
        return str(access.call(CREATE_PRIORITY_SCHEME, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        if obj.get("default"):
            return {"default": True}
        default = str(self._in_terms(obj, ids, strict=True).get("defaultPriorityId"))
        return {"name": obj["name"], "description": obj.get("description") or "",
                "priorityIds": self._priorities(obj, ids, strict=True), "defaultPriorityId": default,
                "projects": self._projects(obj, ids)}
