"""JQL evaluated over a site's issues: what backups and restores search with, Jira's 400 texts for the rest.

The query is read by ``jql.parse`` (the same tokenizer the yardstick and filter validation use) and checked by
``jql_validation.check_jql`` (unknown fields, values, functions: Jira's texts). Evaluated: project, key/issuekey,
id, issuetype/type, status, statusCategory, priority, resolution, assignee/reporter/creator (``currentUser()``),
labels, parent, summary/description/text ``~``, created/updated/resolved/duedate with relative (``-1d``, ``-15m``,
``-2w 3d``) and absolute dates and ``now()``/``startOfDay()``/``endOfDay()``, ``issue.property[key].path`` for
properties an installed app indexes, AND/OR/NOT, IN, comparisons, IS [NOT] EMPTY and ORDER BY. Anything else Jira
knows but the emulator doesn't evaluate (WAS, CHANGED, custom fields, other functions) is a 400 that says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from . import jql
from .issues import COLLECTION, find_issue, parse_time
from .jql_validation import UNKNOWN_FIELD, check_jql, indexed_issue_properties
from .site import Site

# Jira's texts
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
BAD_DATE = ("Date value '{}' for field '{}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd "
            "HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")
NO_SUCH_KEY = "An issue with key '{}' does not exist for field '{}'."
BAD_OPERATOR = "The operator '{}' is not supported by the '{}' field."
NO_SORT = "Field '{}' does not support sorting."
# plausible wording
TOO_MANY_SORTS = "The ORDER BY clause can contain at most 7 fields."
NOT_EVALUATED = "The emulated Jira does not evaluate '{}' in a search (it is valid JQL in Jira)."

Issue = dict[str, Any]
Predicate = Callable[[Issue], bool]


class JqlError(ValueError):
    """A query Jira would answer with 400: the messages, in Jira's words."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


_PERIOD = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_UNIT_MS = {"w": 7 * 86400000, "d": 86400000, "h": 3600000, "m": 60000}
_ABSOLUTE = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
DATE_FIELDS = {"created": "created", "createddate": "created", "updated": "updated", "updateddate": "updated",
               "resolved": "resolutiondate", "resolutiondate": "resolutiondate", "due": "duedate",
               "duedate": "duedate", "statuscategorychangeddate": "statuscategorychangedate"}
REF_FIELDS = {"issuetype": ("issuetype", "issueTypes"), "type": ("issuetype", "issueTypes"),
              "status": ("status", "statuses"), "priority": ("priority", "priorities"),
              "resolution": ("resolution", "resolutions")}
USER_FIELDS = ("assignee", "reporter", "creator")
TEXT_FIELDS = {"summary": ("summary",), "description": ("description",), "environment": ("environment",),
               "text": ("summary", "description", "environment")}
EQUALITY = ("=", "!=", "in", "not in", "is", "is not")


def period_ms(text: str) -> int | None:
    """A period (``-1d``, ``-15m``, ``4w 2d``) in ms, signed; None when ``text`` isn't one."""
    found = _PERIOD.match(text.strip())
    if not found:
        return None
    total = sum(int(n) * _UNIT_MS[u.lower()] for n, u in _PERIOD_PART.findall(found.group(2)))
    return -total if found.group(1) == "-" else total


class Search:
    """One query compiled against one site: a predicate and a sort key."""

    def __init__(self, site: Site, text: str, actor: str | None, now_ms: int) -> None:
        self.site, self.text, self.actor, self.now = site, text, actor, now_ms
        self.properties = indexed_issue_properties(site)
        messages = check_jql(site, text)
        try:
            self.query = jql.parse(text)
        except jql.JqlSyntaxError as exc:
            raise JqlError(str(exc)) from None
        if messages:
            raise JqlError(*messages)
        self.errors: list[str] = []
        self.predicate = self._compile(self.query.where) if self.query.where is not None else None
        self.order = self._order()
        if self.errors:
            raise JqlError(*dict.fromkeys(self.errors))

    @property
    def bounded(self) -> bool:
        return self.query.where is not None

    def run(self) -> list[Issue]:
        """Every matching issue, in the query's order."""
        issues = [i for i in self.site.store.values(COLLECTION) if self.predicate is None or self.predicate(i)]
        for key, desc in reversed(self.order):
            issues.sort(key=lambda i, k=key: _none_last(k(i), desc), reverse=desc)
        return issues

    # -- compile -------------------------------------------------------------------------------------------

    def _compile(self, node: jql.Clause | jql.Bool) -> Predicate:
        if isinstance(node, jql.Bool):
            parts = [self._compile(item) for item in node.items]
            if node.op == "not":
                return lambda i, p=parts[0]: not p(i)
            if node.op == "and":
                return lambda i: all(p(i) for p in parts)
            return lambda i: any(p(i) for p in parts)
        return self._clause(node)

    def _clause(self, c: jql.Clause) -> Predicate:
        name = c.field.strip().casefold()
        if c.op in ("was", "changed"):
            return self._refuse(c.op.upper())
        if name in self.properties:
            return self._property(c, *self.properties[name])
        if name == "project":
            return self._ids(c, lambda i: i["fields"]["project"], self._project_ids)
        if name in ("key", "issuekey", "issue"):
            return self._key(c)
        if name == "id":
            return self._id(c)
        if name in REF_FIELDS:
            fid, coll = REF_FIELDS[name]
            return self._ids(c, lambda i, f=fid: i["fields"].get(f), lambda v, cl=coll, f=name: self._refs(cl, v, f))
        if name == "statuscategory":
            return self._ids(c, self._status_category, self._category_ids)
        if name in USER_FIELDS:
            return self._ids(c, lambda i, f=name: i["fields"].get(f), self._users)
        if name == "labels":
            return self._labels(c)
        if name == "parent":
            return self._ids(c, lambda i: i["fields"].get("parent"), self._parent_ids)
        if name in TEXT_FIELDS:
            return self._text(c, TEXT_FIELDS[name])
        if name in DATE_FIELDS:
            return self._date(c, DATE_FIELDS[name])
        return self._refuse(c.field)

    def _refuse(self, what: str) -> Predicate:
        self.errors.append(NOT_EVALUATED.format(what))
        return lambda _i: False

    def _values(self, c: jql.Clause) -> list[jql.Value | jql.Function]:
        if c.operand is None:
            return []
        return c.operand if isinstance(c.operand, list) else [c.operand]

    def _ids(self, c: jql.Clause, get: Callable[[Issue], Any], resolve: Callable[[str], set[str]]) -> Predicate:
        """=, !=, IN, NOT IN, IS [NOT] EMPTY over a field holding one id (or None)."""
        if c.op not in EQUALITY:
            self.errors.append(BAD_OPERATOR.format(c.op, c.field))
            return lambda _i: False
        if c.op in ("is", "is not"):
            empty = c.op == "is"
            return lambda i: (get(i) in (None, "")) == empty
        wanted: set[str] = set()
        for operand in self._values(c):
            if isinstance(operand, jql.Function):
                wanted |= self._function_ids(operand, c.field)
            else:
                wanted |= resolve(operand.text)
        if c.op in ("=", "in"):  # "" in ``wanted`` stands for no value (resolution = Unresolved)
            return lambda i: (get(i) if get(i) is not None else "") in wanted
        return lambda i: get(i) is not None and get(i) not in wanted

    def _function_ids(self, fn: jql.Function, field: str) -> set[str]:
        if fn.name.casefold() == "currentuser" and self.actor:
            return {self.actor}
        self.errors.append(NOT_EVALUATED.format(f"{fn.name}()"))
        return set()

    # -- resolvers -----------------------------------------------------------------------------------------

    def _project_ids(self, value: str) -> set[str]:
        from .resources._common import find_project

        project = find_project(self.site, value)
        if project is None:
            folded = value.casefold()
            project = next((p for p in self.site.store.values("projects") if p["name"].casefold() == folded), None)
        return {project["id"]} if project else set()

    def _refs(self, coll: str, value: str, field: str) -> set[str]:
        if field == "resolution" and value.casefold() == "unresolved":
            return {""}
        if self.site.store.get(coll, value) is not None:
            return {value}
        folded = value.casefold()
        return {str(r["id"]) for r in self.site.store.values(coll) if str(r.get("name", "")).casefold() == folded}

    def _status_category(self, issue: Issue) -> str:
        from .resources.basics import _CATEGORY_BY_ENUM

        status = self.site.store.get("statuses", issue["fields"]["status"]) or {}
        return _CATEGORY_BY_ENUM.get(str(status.get("statusCategory")), "")

    def _category_ids(self, value: str) -> set[str]:
        from .resources.basics import STATUS_CATEGORIES

        folded = value.casefold()
        return {cid for cid, (key, _colour, name) in STATUS_CATEGORIES.items()
                if folded in (cid, key.casefold(), name.casefold())}

    def _users(self, value: str) -> set[str]:
        folded = value.casefold()
        return {u["accountId"] for u in self.site.store.values("users")
                if folded in (u["accountId"].casefold(), str(u.get("emailAddress", "")).casefold(),
                              str(u.get("displayName", "")).casefold())} or {value}

    def _parent_ids(self, value: str) -> set[str]:
        parent = find_issue(self.site, value)
        return {parent["id"]} if parent else set()

    # -- keys and ids --------------------------------------------------------------------------------------

    def _key(self, c: jql.Clause) -> Predicate:
        if c.op in ("is", "is not"):
            return lambda _i: c.op == "is not"
        if c.op in ("~", "!~"):
            self.errors.append(BAD_OPERATOR.format(c.op, c.field))
            return lambda _i: False
        targets = []
        for operand in self._values(c):
            if isinstance(operand, jql.Function):
                self.errors.append(NOT_EVALUATED.format(f"{operand.name}()"))
                continue
            found = find_issue(self.site, operand.text)
            if found is None and c.op in ("=", "!=", "in", "not in"):
                self.errors.append(NO_SUCH_KEY.format(operand.text, c.field))
            targets.append((operand.text, found))
        if c.op in ("=", "in", "!=", "not in"):
            ids = {f["id"] for _t, f in targets if f is not None}
            hit = c.op in ("=", "in")
            return lambda i: (i["id"] in ids) == hit
        text = targets[0][0] if targets else ""
        project_key, _, number = text.upper().rpartition("-")
        if not number.isdigit():
            self.errors.append(NO_SUCH_KEY.format(text, c.field))
            return lambda _i: False
        return self._compare(c.op, lambda i: (i["key"].upper().rpartition("-")[0] == project_key,
                                              int(i["key"].rpartition("-")[2])), int(number), same_group=True)

    def _id(self, c: jql.Clause) -> Predicate:
        if c.op in ("is", "is not"):
            return lambda _i: c.op == "is not"
        numbers = []
        for operand in self._values(c):
            if isinstance(operand, jql.Function) or not operand.text.isdigit():
                found = None if isinstance(operand, jql.Function) else find_issue(self.site, operand.text)
                if found is None:
                    self.errors.append(NO_SUCH_KEY.format(getattr(operand, "text", "?"), c.field))
                    continue
                numbers.append(int(found["id"]))
            else:
                numbers.append(int(operand.text))
        if c.op in ("=", "in"):
            return lambda i: int(i["id"]) in numbers
        if c.op in ("!=", "not in"):
            return lambda i: int(i["id"]) not in numbers
        if c.op in ("<", ">", "<=", ">=") and numbers:
            return self._compare(c.op, lambda i: (True, int(i["id"])), numbers[0], same_group=True)
        self.errors.append(BAD_OPERATOR.format(c.op, c.field))
        return lambda _i: False

    @staticmethod
    def _compare(op: str, get: Callable[[Issue], tuple[bool, Any]], target: Any, *, same_group: bool) -> Predicate:
        tests = {"<": lambda a: a < target, ">": lambda a: a > target, "<=": lambda a: a <= target,
                 ">=": lambda a: a >= target, "=": lambda a: a == target, "!=": lambda a: a != target}
        check = tests[op]

        def predicate(issue: Issue) -> bool:
            group, value = get(issue)
            return bool(group) and value is not None and check(value)

        return predicate

    # -- labels, text, dates -------------------------------------------------------------------------------

    def _labels(self, c: jql.Clause) -> Predicate:
        if c.op in ("is", "is not"):
            empty = c.op == "is"
            return lambda i: (not i["fields"].get("labels")) == empty
        if c.op not in EQUALITY:
            self.errors.append(BAD_OPERATOR.format(c.op, c.field))
            return lambda _i: False
        wanted = {v.text for v in self._values(c) if isinstance(v, jql.Value)}
        hit = c.op in ("=", "in")
        return lambda i: bool(wanted & set(i["fields"].get("labels") or [])) == hit

    def _text(self, c: jql.Clause, fids: tuple[str, ...]) -> Predicate:
        from .issues import adf_text

        if c.op not in ("~", "!~", "is", "is not"):
            self.errors.append(BAD_OPERATOR.format(c.op, c.field))
            return lambda _i: False

        def text_of(issue: Issue) -> str:
            values = [issue["fields"].get(f) for f in fids]
            return " ".join(adf_text(v) if isinstance(v, dict) else str(v or "") for v in values).casefold()

        if c.op in ("is", "is not"):
            empty = c.op == "is"
            return lambda i: (text_of(i).strip() == "") == empty
        needle = str(getattr(c.operand, "text", "")).casefold().strip("*")
        hit = c.op == "~"
        return lambda i: (needle in text_of(i)) == hit

    def _date(self, c: jql.Clause, fid: str) -> Predicate:
        def stamp(issue: Issue) -> int | None:
            if fid == "updated" and issue.get("_updatedMs"):
                return int(issue["_updatedMs"])
            raw = issue["fields"].get(fid)
            if not raw:
                return None
            return parse_time(raw + "T00:00:00+00:00") if len(raw) == 10 else parse_time(raw)

        if c.op in ("is", "is not"):
            empty = c.op == "is"
            return lambda i: (stamp(i) is None) == empty
        if c.op in ("~", "!~"):
            self.errors.append(BAD_OPERATOR.format(c.op, c.field))
            return lambda _i: False
        points = [self._instant(v, c.field) for v in self._values(c)]
        points = [p for p in points if p is not None]
        if not points:
            return lambda _i: False
        if c.op in ("in", "not in"):
            hit = c.op == "in"
            return lambda i: (stamp(i) in points) == hit
        return self._compare(c.op, lambda i: (True, stamp(i)), points[0], same_group=True)

    def _instant(self, operand: jql.Value | jql.Function, field: str) -> int | None:
        if isinstance(operand, jql.Function):
            return self._date_function(operand)
        period = period_ms(operand.text)
        if period is not None:
            return self.now + period
        for fmt in _ABSOLUTE:
            try:
                parsed = dt.datetime.strptime(operand.text.strip(), fmt).replace(tzinfo=dt.UTC)
            except ValueError:
                continue
            return int(parsed.timestamp() * 1000)
        self.errors.append(BAD_DATE.format(operand.text, field))
        return None

    def _date_function(self, fn: jql.Function) -> int | None:
        name = fn.name.casefold()
        offset = period_ms(fn.args[0]) if fn.args else 0
        if fn.args and offset is None:
            self.errors.append(f"Function '{fn.name}' was given an invalid argument '{fn.args[0]}'.")  # plausible
            return None
        day = 86400000
        if name == "now":
            return self.now
        if name == "startofday":
            return self.now - self.now % day + (offset or 0)
        if name == "endofday":
            return self.now - self.now % day + day - 1 + (offset or 0)
        self.errors.append(NOT_EVALUATED.format(f"{fn.name}()"))
        return None

    # -- issue properties ----------------------------------------------------------------------------------

    def _property(self, c: jql.Clause, key: str, path: str, kind: str) -> Predicate:
        def value(issue: Issue) -> Any:
            return property_value(issue, key, path)

        def cast(raw: Any) -> Any:
            if raw is None:
                return None
            if kind == "number":
                try:
                    return float(raw)
                except (TypeError, ValueError):
                    return None
            if kind == "date":
                try:
                    return parse_time(str(raw) + ("T00:00:00+00:00" if len(str(raw)) == 10 else ""))
                except ValueError:
                    return None
            return str(raw)

        def values(issue: Issue) -> list[Any]:
            raw = value(issue)
            items = raw if isinstance(raw, list) else [raw]
            return [cast(v) for v in items if v is not None]

        if c.op in ("is", "is not"):
            empty = c.op == "is"
            return lambda i: (not values(i)) == empty
        targets = [cast(v.text) for v in self._values(c) if isinstance(v, jql.Value)]
        if kind == "text" and c.op in ("~", "!~"):
            needle = str(targets[0] if targets else "").casefold()
            hit = c.op == "~"
            return lambda i: any(needle in str(v).casefold() for v in values(i)) == hit
        if c.op in ("=", "in"):
            return lambda i: any(v in targets for v in values(i))
        if c.op in ("!=", "not in"):
            return lambda i: bool(values(i)) and not any(v in targets for v in values(i))
        if c.op in ("<", ">", "<=", ">=") and kind in ("number", "date") and targets and targets[0] is not None:
            check = self._compare(c.op, lambda v: (True, v), targets[0], same_group=True)
            return lambda i: any(check(v) for v in values(i))
        self.errors.append(BAD_OPERATOR.format(c.op, c.field))
        return lambda _i: False

    # -- order ---------------------------------------------------------------------------------------------

    def _order(self) -> list[tuple[Callable[[Issue], Any], bool]]:
        order = self.query.order or [("created", True)]
        if len(order) > 7:
            self.errors.append(TOO_MANY_SORTS)
        keys = [(self._sort_key(name), desc) for name, desc in order]
        return [*keys, ((lambda i: int(i["id"])), order[0][1])]  # a stable tie-breaker

    def _sort_key(self, name: str) -> Callable[[Issue], Any]:
        low = name.casefold()
        if low in ("key", "issuekey"):
            return lambda i: (i["key"].rpartition("-")[0], int(i["key"].rpartition("-")[2]))
        if low == "id":
            return lambda i: int(i["id"])
        if low in DATE_FIELDS:
            fid = DATE_FIELDS[low]
            return lambda i: i["fields"].get(fid) and (parse_time(i["fields"][fid]) if len(i["fields"][fid]) > 10
                                                       else i["fields"][fid])
        if low == "project":
            return lambda i: (self.site.store.get("projects", i["fields"]["project"]) or {}).get("name", "")
        if low in REF_FIELDS:
            fid, coll = REF_FIELDS[low]
            return lambda i: (self.site.store.get(coll, str(i["fields"].get(fid))) or {}).get("name")
        if low == "summary":
            return lambda i: (i["fields"].get("summary") or "").casefold()
        if low in self.properties:
            key, path, _kind = self.properties[low]
            return lambda i: _sortable(property_value(i, key, path))
        if low in ("description", "text", "environment", "labels", "comment", "attachments"):
            self.errors.append(NO_SORT.format(name))
        elif low in ("assignee", "reporter", "creator"):
            return lambda i: (self.site.store.get("users", i["fields"].get(low) or "") or {}).get("displayName")
        else:
            self.errors.append(UNKNOWN_FIELD.format(name) if not low.startswith("cf[") else
                               NOT_EVALUATED.format(f"ORDER BY {name}"))
        return lambda _i: 0


def property_value(issue: Issue, key: str, path: str) -> Any:
    """The value at ``path`` (dot-separated) inside issue property ``key``; None when absent."""
    node: Any = (issue.get("_properties") or {}).get(key)
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _sortable(value: Any) -> Any:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _none_last(value: Any, desc: bool) -> tuple[int, Any]:
    """Sort values with missing ones last, whatever the direction (Jira lists empties last)."""
    if value is None:
        return (0, 0) if desc else (1, 0)
    return (1, value) if desc else (0, value)
