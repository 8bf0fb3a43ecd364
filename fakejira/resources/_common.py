"""Helpers every resource module shares: request bodies, record views, look-ups across modules, lists, seeding."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from ..registry import Ctx, Reply, bad_request, not_found
from ..site import Site

API = "/rest/api/3"

# Two wordings for a body that isn't a JSON object; both are kept so no handler's answer changes.
BODY_NOT_AN_OBJECT = "Can not deserialize the request body: a JSON object is expected."
BODY_MISSING = "Request body is missing or is not a JSON object."  # plausible wording


class SeedRefError(ValueError):
    """A seed entry naming something the site doesn't have."""


# --------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------


def body_of(ctx: Ctx, message: str = BODY_NOT_AN_OBJECT) -> dict[str, Any]:
    """The JSON object body, or Jira's 400 (worded ``message``) for a missing or garbled one."""
    if not isinstance(ctx.body, dict):
        raise bad_request(message)
    return ctx.body


def required_text(body: dict[str, Any], key: str, message: str | None = None, *, max_len: int | None = None,
                  label: str | None = None, strip: bool = False) -> str:
    """A non-blank string member ``key`` of ``body``; otherwise a 400 field error naming ``key``.

    ``message`` words the blank case (default: "The <label or key> must be provided."); ``strip`` returns the
    value without surrounding whitespace instead of as given.
    """
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(errors={key: message or f"The {label or key} must be provided."})  # plausible wording
    value = value.strip() if strip else value  # Jira trims names before it measures them
    if max_len is not None and len(value) > max_len:
        raise bad_request(errors={key: f"The {label or key} must not exceed {max_len} characters."})
    return value


def as_int(value: Any, what: str) -> int:
    """``value`` as an int; Jira's 400 otherwise."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"The {what} '{value}' is not a valid number.") from None  # plausible wording


# --------------------------------------------------------------------------------------------------
# Records and their views
# --------------------------------------------------------------------------------------------------


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``record`` without internal (``_``-prefixed) keys: what Jira would show."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


def api_url(site: Site, path: str) -> str:
    """The absolute URL of ``path`` under the site's REST API."""
    return f"{site.base_url}{API}{path}"


def avatar_urls(site: Site, kind: str, avatar_id: int | str) -> dict[str, str]:
    """The four sizes of a universal avatar, as Jira's ``avatarUrls``."""
    base = f"{site.base_url}/rest/api/2/universal_avatar/view/type/{kind}/avatar/{avatar_id}"
    return {"48x48": base, "24x24": f"{base}?size=small", "16x16": f"{base}?size=xsmall",
            "32x32": f"{base}?size=medium"}


def user_ref(site: Site, account_id: str) -> dict[str, Any]:
    """The compact User object Jira embeds (project lead, component lead...)."""
    user = site.store.get("users", account_id)
    if user is None:
        return {"accountId": account_id, "active": False}
    keys = ("self", "accountId", "avatarUrls", "displayName", "active")
    return {k: copy.deepcopy(user[k]) for k in keys if k in user}


def stored_or_404(site: Site, collection: str, record_id: Any, message: str) -> dict[str, Any]:
    """The record ``record_id`` of ``collection``; a 404 worded ``message`` otherwise."""
    found = site.store.get(collection, str(record_id))
    if found is None:
        raise not_found(message)
    return found


def apply_name_and_description(site: Site, record: dict[str, Any], body: dict[str, Any],
                               check_name: Callable[[Site, str, Any], None], *, max_len: int = 255) -> None:
    """Apply a partial update's ``name`` and ``description`` to ``record``.

    ``check_name(site, name, record id)`` refuses a name that is taken; a null description is stored empty.
    """
    if "name" in body:
        name = required_text(body, "name", max_len=max_len, strip=True)
        check_name(site, name, record["id"])
        record["name"] = name
    if "description" in body:
        record["description"] = body["description"] or ""


# --------------------------------------------------------------------------------------------------
# Look-ups across modules (read only: each collection is written by the module that owns it)
# --------------------------------------------------------------------------------------------------


def find_project(site: Site, key_or_id: Any) -> dict[str, Any] | None:
    """The project with id or key ``key_or_id`` (keys compared ignoring case, as Jira does); None otherwise."""
    raw = str(key_or_id)
    found = site.store.get("projects", raw)
    if found is not None:
        return found
    folded = raw.casefold()
    for project in site.store.values("projects"):
        key = project.get("key")
        if str(project.get("id")) == raw or (key is not None and str(key).casefold() == folded):
            return project
    return None


def project_or_404(site: Site, key_or_id: Any) -> dict[str, Any]:
    """The project ``key_or_id``; 404 in Jira's words otherwise."""
    project = find_project(site, key_or_id)
    if project is None:
        raise not_found(f"No project could be found with key '{key_or_id}'.")  # Jira's wording
    return project


def find_issue_type(site: Site, type_id: Any) -> dict[str, Any] | None:
    """The issue type record for an id, or None."""
    found = site.store.get("issueTypes", str(type_id))
    if found is not None:
        return found
    return next((t for t in site.store.values("issueTypes") if str(t.get("id")) == str(type_id)), None)


def scheme_of(project: dict[str, Any], kind: str) -> str | None:
    """The id of the ``kind`` scheme a project uses; None means the default scheme (no explicit one)."""
    value = (project.get("_schemes") or {}).get(kind)
    return None if value is None else str(value)


def set_scheme(project: dict[str, Any], kind: str, scheme_id: str | None) -> None:
    """Assign a project its ``kind`` scheme (None: the default one)."""
    project.setdefault("_schemes", {})[kind] = scheme_id


def projects_using(site: Site, kind: str, scheme_id: str | None) -> list[dict[str, Any]]:
    """Projects whose ``kind`` scheme is ``scheme_id`` (None: those on the default scheme)."""
    return [p for p in site.store.values("projects") if scheme_of(p, kind) == scheme_id]


# --------------------------------------------------------------------------------------------------
# Lists: sorting and moving
# --------------------------------------------------------------------------------------------------


def order_by(items: list[dict[str, Any]], raw: str | None, keys: dict[str, Any]) -> list[dict[str, Any]]:
    """Sort by one of ``keys`` (``name``, ``-name``, ``+name``); unknown keys are Jira's 400."""
    if not raw:
        return items
    desc = raw.startswith("-")
    name = raw.lstrip("+-")
    if name not in keys:
        raise bad_request(f"The orderBy parameter '{raw}' is not valid.")  # plausible wording
    return sorted(items, key=keys[name], reverse=desc)


def move_in_order(order: list[str], ids: list[str], *, after: str | None, position: str | None,
                  first: str = "First", last: str = "Last") -> list[str]:
    """Jira's move semantics: take ``ids`` out and put them after ``after`` or at ``position``."""
    rest = [i for i in order if i not in ids]
    if after is not None:
        if after not in rest:
            raise bad_request(f"The item '{after}' to move after was not found.")  # plausible wording
        at = rest.index(after) + 1
    elif position == first:
        at = 0
    elif position == last:
        at = len(rest)
    else:
        raise bad_request("Either 'after' or 'position' must be provided.")  # plausible wording
    return rest[:at] + ids + rest[at:]


def reorder(site: Site, collection: str, old: list[dict[str, Any]], new: list[dict[str, Any]],
            *, key: str) -> None:
    """Rewrite a group of records of ``collection`` in a new order (collections keep insertion order)."""
    for record in old:
        site.store.delete(collection, record[key])
    for record in new:
        site.store.put(collection, record[key], record)


# --------------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------------


def task_reply(ctx: Ctx, description: str) -> Reply:
    """Jira's 303 for work it runs as a long-running task; the emulator finishes the work at once."""
    task = str(ctx.site.store.next_id("task"))
    url = f"{ctx.site.base_url}/rest/api/3/task/{task}"
    now = int(time.time() * 1000)
    body = {"self": url, "id": task, "description": description, "status": "COMPLETE", "progress": 100,
            "submitted": now, "started": now, "finished": now, "lastUpdate": now, "elapsedRuntime": 0,
            "submittedBy": 0, "result": None}
    return Reply(303, body, {"Location": url})


# --------------------------------------------------------------------------------------------------
# Seeding and export of id-keyed lists
# --------------------------------------------------------------------------------------------------


def bump(site: Site, kind: str, value: Any) -> None:
    """Keep a seeded numeric id out of the way of server-assigned ones (non-numeric ids are left alone)."""
    if str(value).isdigit():
        site.store.bump(kind, int(value))


def seed_records(site: Site, coll: str, items: Any, *, kind: str, key: str = "id",
                 check: Callable[[Site, dict[str, Any]], None] | None = None) -> None:
    """Load a list of records keyed by ``key``, keeping their ids and bumping the id counter."""
    if not isinstance(items, list):
        raise ValueError(f"seed {coll}: a list is expected, got {type(items).__name__}")
    for item in items:
        if not isinstance(item, dict) or key not in item:
            raise ValueError(f"seed {coll}: every entry needs '{key}': {item!r}")
        if check is not None:
            check(site, item)
        site.store.put(coll, item[key], copy.deepcopy(item))
        bump(site, kind, item[key])


def export_records(site: Site, coll: str) -> list[dict[str, Any]]:
    """A collection as its seed: every record's public view, in order."""
    return [public(r) for r in site.store.values(coll)]
