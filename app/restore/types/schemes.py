"""Restorers of permission schemes (grants), notification schemes and issue security schemes (levels, members).

Holders are rewritten to the destination: groups by id (matched by name), project roles and custom fields through
the id map, users through the missing-user fallback; a holder that maps to nothing is dropped (verification lists it).
Notification and issue security scheme writes are closed to Connect: they go through the OAuth grant, and are
reported with the fix when there is none. Default schemes map onto the destination's defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ...backups.catalogue import read_issue_security_schemes, read_notification_schemes, read_permission_schemes
from ...jira.access import SiteAccess
from ...jira.operations import declare
from ..mapping import to_destination
from .base import Existing, IdMap, Restorer, fold, reader

CREATE_PERMISSION_SCHEME = declare("POST", "/rest/api/3/permissionscheme")
CREATE_NOTIFICATION_SCHEME = declare("POST", "/rest/api/3/notificationscheme")
CREATE_SECURITY_SCHEME = declare("POST", "/rest/api/3/issuesecurityschemes")

def holder_value(holder: dict[str, Any]) -> str | None:
    """A holder's identifier as a request gives it (``value``, else ``parameter``); None for kinds without one."""
    raw = holder.get("value") if holder.get("value") not in (None, "") else holder.get("parameter")
    return None if raw in (None, "") else str(raw)


class _Scheme(Restorer):
    default_name: str = ""

    def natural_key(self, obj: dict[str, Any]) -> str:
        return fold(obj["name"])

    def is_default(self, obj: dict[str, Any]) -> bool:
        return fold(obj.get("name", "")) == fold(self.default_name)

    def _existing(self, items: Iterable[Any]) -> Iterator[Existing]:
        for item in items:
            yield Existing(self.natural_key(item.obj), str(item.obj["id"]), item.obj, self.is_default(item.obj))


# --------------------------------------------------------------------------- permission schemes


def _grant(grant: dict[str, Any]) -> tuple[str, str, str | None]:
    holder = grant.get("holder") or {}
    return (str(grant["permission"]), str(holder.get("type")), holder_value(holder))


class PermissionSchemes(_Scheme):
    type_key = "permissionSchemes"
    title = "Permission schemes"
    writes = (CREATE_PERMISSION_SCHEME,)
    default_name = "Default Permission Scheme"

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        return sorted({str((g.get("holder") or {}).get("value") or (g.get("holder") or {}).get("parameter"))
                       for g in obj.get("permissions") or [] if (g.get("holder") or {}).get("type") == "user"})

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        return self._existing(read_permission_schemes(reader(access)))

    def _grants(self, obj: dict[str, Any], ids: IdMap | None) -> list[tuple[str, str, str | None]]:
        return sorted({_grant(x) for x in to_destination(self.type_key, obj, ids).get("permissions") or []},
                      key=lambda g: (g[0], g[1], g[2] or ""))

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        permissions = []
        for permission, kind, value in self._grants(obj, ids):
            holder = {"type": kind} if value is None else {"type": kind, "value": value}
            permissions.append({"permission": permission, "holder": holder})
        body = {"name": obj["name"], "description": obj.get("description") or "", "permissions": permissions}
        return str(access.call(CREATE_PERMISSION_SCHEME, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "grants": [list(g) for g in self._grants(obj, ids)]}


# --------------------------------------------------------------------------- notification schemes


def _notification_value(note: dict[str, Any]) -> Any:
    return note.get("parameter") if note.get("parameter") not in (None, "") else note.get("recipient")


class NotificationSchemes(_Scheme):
    type_key = "notificationSchemes"
    title = "Notification schemes"
    writes = (CREATE_NOTIFICATION_SCHEME,)
    default_name = "Default Notification Scheme"

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        return sorted({str(_notification_value(n)) for e in obj.get("notificationSchemeEvents") or []
                       for n in e.get("notifications") or [] if n.get("notificationType") == "User"
                       and _notification_value(n)})

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        return self._existing(read_notification_schemes(reader(access)))

    def _events(self, obj: dict[str, Any], ids: IdMap | None) -> list[dict[str, Any]]:
        out = []
        for event in to_destination(self.type_key, obj, ids).get("notificationSchemeEvents") or []:
            notes = set()
            for note in event.get("notifications") or []:
                value = _notification_value(note)
                notes.add((str(note.get("notificationType")), None if value in (None, "") else str(value)))
            out.append({"event": {"id": str(event["event"]["id"])},
                        "notifications": [{"notificationType": k, **({"parameter": v} if v is not None else {})}
                                          for k, v in sorted(notes, key=lambda n: (n[0], n[1] or ""))]})
        return sorted(out, key=lambda e: int(e["event"]["id"]))

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or "",
                "notificationSchemeEvents": [e for e in self._events(obj, ids) if e["notifications"]]}
        return str(access.call(CREATE_NOTIFICATION_SCHEME, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        return {"name": obj["name"], "description": obj.get("description") or "",
                "events": [e for e in self._events(obj, ids) if e["notifications"]]}


# --------------------------------------------------------------------------- issue security schemes


class IssueSecuritySchemes(_Scheme):
    type_key = "issueSecuritySchemes"
    title = "Issue security schemes"
    writes = (CREATE_SECURITY_SCHEME,)

    def is_default(self, obj: dict[str, Any]) -> bool:
        return False  # Jira has no default issue security scheme

    def _members(self, level: dict[str, Any]) -> Iterator[tuple[str, Any, str]]:
        for member in level.get("members") or []:
            holder = member.get("holder") or {}
            kind = str(holder.get("type"))
            raw = holder.get("value") if holder.get("value") not in (None, "") else holder.get("parameter")
            yield kind, raw, str(holder.get("parameter") or "")

    def account_ids(self, obj: dict[str, Any]) -> Iterable[str]:
        return sorted({str(raw) for lv in obj.get("levels") or [] for kind, raw, _ in self._members(lv)
                       if kind == "user" and raw})

    def existing(self, access: SiteAccess) -> Iterator[Existing]:
        return self._existing(read_issue_security_schemes(reader(access)))

    def _levels(self, obj: dict[str, Any], ids: IdMap | None) -> list[dict[str, Any]]:
        out = []
        # The default level is the scheme's own part, created with it: its levels say which (``isDefault``).
        for level in to_destination(self.type_key, obj, ids, skip=("defaultLevel",)).get("levels") or []:
            members = set()
            for kind, raw, name in self._members(level):
                value = None if raw in (None, "") else str(raw)
                # Members take one parameter: a group is named (the destination's group has the same name).
                members.add((kind, name if kind == "group" else value))
            out.append({"name": level["name"], "description": level.get("description") or "",
                        "isDefault": bool(level.get("isDefault")),
                        "members": [{"type": k, **({"parameter": v} if v else {})}
                                    for k, v in sorted(members, key=lambda m: (m[0], m[1] or ""))]})
        return sorted(out, key=lambda lv: fold(lv["name"]))

    def create(self, access: SiteAccess, obj: dict[str, Any], ids: IdMap) -> str:
        body = {"name": obj["name"], "description": obj.get("description") or "",
                "levels": self._levels(obj, ids)}
        return str(access.call(CREATE_SECURITY_SCHEME, json=body)["id"])

    def comparable(self, obj: dict[str, Any], ids: IdMap | None) -> Any:
        levels = self._levels(obj, ids)
        for level in levels:  # group names compare case-insensitively, as Jira matches them
            level["members"] = [dict(m, parameter=fold(m["parameter"])) if m["type"] == "group" else m
                                for m in level["members"]]
        return {"name": obj["name"], "description": obj.get("description") or "", "levels": levels}
