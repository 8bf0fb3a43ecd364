"""Which of a backup's issues a JQL query chooses, evaluated on the snapshot's records (the source may be down).

An admin restores "some of it" by JQL: ``project = ABC AND status != Done``, ``labels in (customer, urgent)``,
``key >= ABC-100``, ``created >= "2024-01-01"``, ``text ~ invoice``. The query is read with the restore's JQL grammar
(``app/restore/jql.py``) and evaluated on each issue record as the backup holds it; values are matched as Jira
matches them — by name or id, case-insensitively, keys by project and number, dates by day or minute. What a backup
can't answer (history with WAS/CHANGED, functions such as ``currentUser()``, fields it doesn't know) is refused with
words before anything starts; ``ORDER BY`` is accepted and ignored (issues are restored in key order).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import g

from ...backups.snapshots import Entry
from ...extensions import db
from ...issuedata.records import IssueRecord, issue_entries, key_order, read_records
from ..jql import Clause, JqlSyntaxError, Node, Operand, Query, parse
from ..plan import Selection

MAX_JQL = 2000  # characters: longer than any query a person types, short enough to evaluate on every record


class SubsetError(ValueError):
    """JQL that can't choose issues from a backup: why, in words a person can act on."""


# field (lower case) -> what a record holds for it, as the values a clause may name
NAMED = {"issuetype": "issuetype", "type": "issuetype", "status": "status", "priority": "priority",
         "resolution": "resolution"}
PEOPLE = {"assignee": "assignee", "reporter": "reporter", "creator": "creator"}
LISTS = {"component": "components", "fixversion": "fixVersions", "affectedversion": "versions"}
DATES = {"created": "created", "createddate": "created", "updated": "updated", "updateddate": "updated",
         "resolved": "resolutiondate", "resolutiondate": "resolutiondate", "due": "duedate", "duedate": "duedate"}
TEXTS = {"summary": ("summary",), "description": ("description",), "environment": ("environment",),
         "comment": (), "text": ("summary", "description", "environment")}
KEYS = ("key", "issuekey", "id", "issue")
KNOWN = sorted({"project", "labels", "parent", "sprint", *NAMED, *PEOPLE, *LISTS, *DATES, *TEXTS, *KEYS})
_RELATIVE = re.compile(r"^([+-]?)(\d+)([wdhm])$", re.IGNORECASE)
_CUSTOM = re.compile(r"(?i)^(?:cf\[\s*(\d+)\s*\]|customfield_(\d+))$")


def check(jql: str) -> Query:
    """The parsed query, or ``SubsetError`` saying what a backup can't evaluate in it (nothing is read)."""
    text = (jql or "").strip()
    if not text:
        raise SubsetError("Type a JQL query to choose issues, or leave it empty to restore every issue of the "
                          "chosen projects.")
    if len(text) > MAX_JQL:
        raise SubsetError(f"That JQL is {len(text):,} characters long; the most is {MAX_JQL:,}.")
    try:
        query = parse(text)
    except JqlSyntaxError as exc:
        raise SubsetError(f"That JQL can't be read: {exc}.") from None
    if query.where is None:
        raise SubsetError("That JQL has no condition (only ORDER BY): say which issues to restore.")
    for clause in query.clauses():
        _clause_test(query, clause)  # refuses what it can't evaluate
    return query


def matcher(jql: str) -> Callable[[IssueRecord], bool]:
    """A test of one issue record against ``jql`` (checked first: ``SubsetError``)."""
    query = check(jql)
    assert query.where is not None
    return _node_test(query, query.where)


def chosen_keys(snapshot_id: int, jql: str, projects: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Per project (of ``projects``, or all), the keys of the snapshot's issues ``jql`` chooses, in key order; projects
    with none are left out. Reads every record of those projects once (seconds on 10,000 issues)."""
    test = matcher(jql)
    entries = issue_entries(snapshot_id)
    wanted = list(entries) if projects is None else [p for p in projects if p in entries]
    out: dict[str, list[str]] = {}
    for project in wanted:
        keys = [r.key for r in read_records(snapshot_id, entries[project]) if test(r)]
        if keys:
            out[project] = sorted(keys, key=key_order)
    db.session.commit()  # the snapshot's reads hold no transaction open
    return out


# ---------------------------------------------------------------------------------------------- the tree


def _node_test(query: Query, node: Node) -> Callable[[IssueRecord], bool]:
    if node.kind == "clause":
        assert node.clause is not None
        return _clause_test(query, node.clause)
    children = [_node_test(query, child) for child in node.children]
    if node.kind == "and":
        return lambda r: all(test(r) for test in children)
    if node.kind == "or":
        return lambda r: any(test(r) for test in children)
    if node.kind == "not":
        return lambda r: not children[0](r)
    return children[0]  # a group


def _clause_test(query: Query, clause: Clause) -> Callable[[IssueRecord], bool]:
    name = query.tokens[clause.field].value
    field = name.lower()
    op = clause.operator
    if op.startswith("was") or op == "changed" or clause.predicates:
        raise SubsetError(f"“{query.text(clause.first, clause.last)}” asks about the issues' history, which a "
                          f"backup can't search: use the issues' fields as they are (=, IN, ~, <, >, IS EMPTY).")
    values = _operand_values(query, clause.operand, name)
    if op in ("is", "is not"):
        if not (len(values) == 1 and values[0].lower() in ("empty", "null")):
            raise SubsetError(f"“{query.text(clause.first, clause.last)}”: IS takes EMPTY or NULL.")
        get = _getter(field, name, query, clause)
        return (lambda r: _empty(get(r))) if op == "is" else (lambda r: not _empty(get(r)))
    if op in ("~", "!~"):
        texts = _text_getter(field, name)
        words = [v.lower().strip("*") for v in values]
        found: Callable[[IssueRecord], bool] = lambda r: all(w in texts(r) for w in words)  # noqa: E731
        return found if op == "~" else (lambda r: not found(r))
    if op in ("<", "<=", ">", ">="):
        return _ordered(field, name, op, values, query, clause)
    get = _getter(field, name, query, clause)
    wanted = {v.lower() for v in values}
    hit: Callable[[IssueRecord], bool] = lambda r: bool(get(r) & wanted)  # noqa: E731
    if op in ("=", "in"):
        return hit
    if op in ("!=", "not in"):
        return lambda r: not hit(r) and not _empty(get(r))  # Jira: != never matches an empty field
    raise SubsetError(f"“{query.text(clause.first, clause.last)}”: the operator {op.upper()} can't be used here.")


def _operand_values(query: Query, operand: Operand | None, field: str) -> list[str]:
    if operand is None:
        return []
    if operand.kind == "function":
        fn = query.tokens[operand.token or operand.first].text
        raise SubsetError(f"{fn}() can't be evaluated on a backup (it asks the live site); name the values "
                          f"of {field} instead.")
    if operand.kind == "list":
        return [v for item in operand.items for v in _operand_values(query, item, field)]
    return [query.tokens[operand.token].value] if operand.token is not None else []


# ---------------------------------------------------------------------------------------------- fields


def _names(value: Any) -> set[str]:
    """What a field value may be called in JQL, lower case: its name, key, value, id, account id, display name."""
    if isinstance(value, list):
        return {n for item in value for n in _names(item)}
    if isinstance(value, dict):
        return {str(value[k]).lower() for k in ("name", "key", "value", "id", "accountId", "displayName")
                if value.get(k) not in (None, "")}
    if value in (None, ""):
        return set()
    return {str(value).lower()}


def _empty(values: set[str]) -> bool:
    return not values


def _getter(field: str, name: str, query: Query, clause: Clause) -> Callable[[IssueRecord], set[str]]:
    if field == "project":
        return lambda r: _names(r.fields.get("project")) | {r.project_key.lower()}
    if field in KEYS:
        return lambda r: {r.key.lower(), str(r.id).lower()}
    if field in NAMED:
        return lambda r: _names(r.fields.get(NAMED[field]))
    if field in PEOPLE:
        return lambda r: _names(r.fields.get(PEOPLE[field]))
    if field in LISTS:
        return lambda r: _names(r.fields.get(LISTS[field]))
    if field == "labels":
        return lambda r: {str(v).lower() for v in r.fields.get("labels") or []}
    if field == "parent":
        return lambda r: _names({k: v for k, v in (r.fields.get("parent") or {}).items() if k in ("id", "key")})
    if field == "sprint":
        return lambda r: _names(r.sprints)
    if field in DATES:
        return lambda r: {str(r.fields.get(DATES[field]))} if r.fields.get(DATES[field]) else set()
    custom = _CUSTOM.match(name)
    if custom:
        fid = f"customfield_{custom.group(1) or custom.group(2)}"
        return lambda r: _names(r.fields.get(fid))
    if field in TEXTS:
        raise SubsetError(f"“{query.text(clause.first, clause.last)}”: {name} is searched with ~ (contains).")
    raise SubsetError(f"“{query.text(clause.first, clause.last)}”: the backup can't search by {name!r}. It can by "
                      f"{', '.join(KNOWN)} and custom fields (cf[12345]).")


def _text_getter(field: str, name: str) -> Callable[[IssueRecord], str]:
    if field not in TEXTS:
        custom = _CUSTOM.match(name)
        if custom is None:
            raise SubsetError(f"{name} can't be searched with ~: it works on summary, description, environment, "
                              f"comment, text and text custom fields.")
        fid = f"customfield_{custom.group(1) or custom.group(2)}"
        return lambda r: _words(r.fields.get(fid)).lower()
    parts = TEXTS[field]

    def texts(record: IssueRecord) -> str:
        found = [_words(record.fields.get(p)) for p in parts]
        if field in ("comment", "text"):
            found += [_words(c.get("body")) for c in record.comments]
        return " ".join(found).lower()

    return texts


def _words(value: Any) -> str:
    """The words of a string or an ADF document."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        text = value.get("text")
        own = text if isinstance(text, str) else ""
        return " ".join([own, *(_words(c) for c in value.get("content") or [])]).strip()
    if isinstance(value, list):
        return " ".join(_words(v) for v in value)
    return ""


def _ordered(field: str, name: str, op: str, values: list[str], query: Query,
             clause: Clause) -> Callable[[IssueRecord], bool]:
    said = query.text(clause.first, clause.last)
    if len(values) != 1:
        raise SubsetError(f"“{said}”: {op} takes one value.")
    compare = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
               ">=": lambda a, b: a >= b}[op]
    if field in KEYS:
        bound = key_order(values[0].upper())
        if bound[1] == 0:
            raise SubsetError(f"“{said}”: {values[0]!r} isn't an issue key (like ABC-123).")
        return lambda r: key_order(r.key)[0] == bound[0] and compare(key_order(r.key)[1:2], bound[1:2])
    if field in DATES:
        limit = _instant(values[0], said)
        source = DATES[field]

        def dated(record: IssueRecord) -> bool:
            raw = record.fields.get(source)
            when = _parse_date(str(raw)) if raw else None
            return when is not None and compare(when, limit)

        return dated
    raise SubsetError(f"“{said}”: {name} can't be compared with {op}; dates (created, updated, resolved, due) and "
                      f"issue keys can.")


def _instant(value: str, said: str) -> datetime:
    """A JQL date operand: "2024-01-31", "2024/01/31 14:00" (UTC: a backup doesn't know the admin's time zone), or
    relative to now ("-7d", "-2w", "4h")."""
    relative = _RELATIVE.match(value.strip())
    if relative:
        sign = -1 if relative.group(1) == "-" else 1
        unit = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[relative.group(3).lower()]
        return datetime.now(UTC) + sign * timedelta(**{unit: int(relative.group(2))})
    when = _parse_date(value)
    if when is None:
        raise SubsetError(f"“{said}”: {value!r} isn't a date JQL takes (\"2024-01-31\", \"2024-01-31 14:00\", "
                          f"or relative such as \"-7d\").")
    return when


def _parse_date(value: str) -> datetime | None:
    text = value.strip().replace("/", "-")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None


# ---------------------------------------------------------------------------------------------- a run's subset


def subset_of(snapshot_id: int, selection: Selection) -> dict[str, list[str]] | None:
    """Per project, the keys of the issues a selection's JQL chooses in the snapshot (None: it has no JQL: every
    issue of the chosen projects). Worked out once per request or job (``flask.g``): the page, its confirmation and
    the run's planning, restore and verification each need it. :raises SubsetError: JQL a backup can't evaluate."""
    if not selection.jql:
        return None
    memo: dict[tuple[Any, ...], dict[str, list[str]]] = g.setdefault("issue_subsets", {})
    key = (snapshot_id, selection.jql, tuple(selection.projects))
    if key not in memo:
        memo[key] = chosen_keys(snapshot_id, selection.jql, selection.projects or None)
    return memo[key]


def narrowed(selection: Selection, subset: dict[str, list[str]] | None) -> Selection:
    """The selection whose projects are those of the issues its JQL chose (the configuration they need), or the
    selection itself when it has no JQL. :raises SubsetError: the JQL chose no issue."""
    if subset is None:
        return selection
    if not subset:  # never "no projects", which would mean every project
        raise SubsetError("No issue of this backup matches that JQL, so nothing would be restored.")
    return Selection(types=list(selection.types), projects=sorted(subset), jql=selection.jql)


def only(entries: dict[str, list[Entry]], subset: dict[str, list[str]]) -> dict[str, list[Entry]]:
    """The entries (``issue_entries``) of the issues a JQL subset chose, per project in key order, and only those."""
    keys = {key for chosen in subset.values() for key in chosen}
    kept = {project: [e for e in found if e.natural_key in keys] for project, found in entries.items()}
    return {project: found for project, found in kept.items() if found}
