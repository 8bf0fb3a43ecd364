"""An issue's fields as the destination's create call takes them: every id rewritten through the run's id map.

Values Jira accepts by name travel by name (select options by value, versions and components by name), so an option
whose id differs across sites still lands on the same value. What Jira never lets anyone set (created, status,
creator...) is left out here: status is reached through transitions, the rest kept as an issue property.

A source issue may hold values for fields its destination's create screen doesn't take (set by an edit, by
automation, or before the screen changed): ``split_for_screen`` keeps those out of the create call, for one edit
afterwards that overrides the screen.
"""

from __future__ import annotations

from typing import Any

from ..types.base import IdMap

# Fields the create call takes, besides custom fields; everything else is Jira's own (or set by other calls).
SETTABLE = ("summary", "description", "environment", "labels", "duedate", "priority", "reporter", "assignee",
            "components", "fixVersions", "versions", "timetracking", "parent", "security")
SKIPPED_CUSTOM_SCHEMAS = ("com.pyxis.greenhopper.jira:gh-sprint", "com.pyxis.greenhopper.jira:gh-lexo-rank",
                          "com.pyxis.greenhopper.jira:gh-epic-link")  # sprints and rank are restored by their calls


def _user(value: Any, ids: IdMap) -> dict[str, str] | None:
    account = value.get("accountId") if isinstance(value, dict) else None
    mapped = ids.user(str(account)) if account else None
    return {"accountId": mapped} if mapped else None


def _option(value: Any) -> Any:
    """A select option (cascading too) by value: option ids differ between sites, values don't."""
    if not isinstance(value, dict):
        return value
    if "value" not in value:
        return _named(value)
    out: dict[str, Any] = {"value": value["value"]}
    if isinstance(value.get("child"), dict):
        out["child"] = {"value": value["child"].get("value")}
    return out


def _named(value: Any) -> Any:
    if isinstance(value, dict):
        if "accountId" in value:
            return {"accountId": value["accountId"]}
        if "name" in value:
            return {"name": value["name"]}
        if "value" in value:
            return {"value": value["value"]}
    return value


def custom_value(value: Any, ids: IdMap) -> Any:
    """A custom field's value with users mapped and options, versions and groups by name or value."""
    if isinstance(value, list):
        return [v for v in (custom_value(item, ids) for item in value) if v is not None]
    if isinstance(value, dict) and "accountId" in value:
        return _user(value, ids)
    if isinstance(value, dict):
        return _option(value)
    return value


def mapped_fields(fields: dict[str, Any], ids: IdMap, custom_schemas: dict[str, str]) -> tuple[dict[str, Any],
                                                                                              list[str]]:
    """The create body's ``fields`` for a source issue's ``fields``, and notes on what was left out and why."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    for name in SETTABLE:
        value = fields.get(name)
        if value in (None, [], ""):
            continue
        if name in ("reporter", "assignee"):
            user = _user(value, ids)
            if user is None:
                notes.append(f"{name} {value.get('displayName') or value.get('accountId')} isn't on this site")
                continue
            out[name] = user
        elif name == "priority":
            mapped = ids.get("priorities", str(value.get("id")))
            out[name] = {"id": mapped} if mapped else {"name": value.get("name")}
        elif name in ("components", "fixVersions", "versions"):
            out[name] = [{"name": v.get("name")} for v in value if isinstance(v, dict)]
        elif name == "parent":
            continue  # set by the caller from the destination's id of the parent
        elif name == "security":
            out[name] = {"name": value.get("name")}
        elif name == "timetracking":
            kept = {k: value[k] for k in ("originalEstimate", "remainingEstimate") if value.get(k)}
            if kept:
                out[name] = kept
        else:
            out[name] = value
    for field_id, value in fields.items():
        if not field_id.startswith("customfield_") or value in (None, [], ""):
            continue
        if custom_schemas.get(field_id) in SKIPPED_CUSTOM_SCHEMAS:
            continue
        dest_field = ids.get("customFields", field_id)
        if dest_field is None:
            notes.append(f"{field_id} has no counterpart on this site")
            continue
        converted = custom_value(value, ids)
        if converted not in (None, []):
            out[dest_field] = converted
    return out, notes


def split_for_screen(fields: dict[str, Any], accepted: set[str] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``fields`` (``mapped_fields``' answer) as (what the create screen takes, what only an edit can set).

    ``accepted`` is the field ids the destination's create metadata lists for the issue type; None when it
    couldn't be read, and then everything goes to the create call (Jira names any field it refuses)."""
    if accepted is None:
        return dict(fields), {}
    on_screen = {k: v for k, v in fields.items() if k in accepted}
    return on_screen, {k: v for k, v in fields.items() if k not in accepted}
