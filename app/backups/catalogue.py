"""The catalogue of Jira configuration object types: how each is read, its natural key, dependencies, normal form.

Each type reads through a ``Reader`` (a ``JiraAccess`` plus bounded fan-out) and yields ``Item``s, one per object,
so the runner can stream them into storage without holding a type in memory. Reads prefer ``expand`` and bulk
endpoints (scheme mappings for 50 schemes or projects at a time) over a call per object.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Executor, Future
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from ..jira.access import SiteAccess
from ..jira.errors import JiraError, JiraUnavailable
from ..jira.operations import Operation, declare
from ..objects.declarations import DECLARATIONS
from .lanes import Lane, PriorityGate, PriorityPool

API = "/rest/api/3"
AGILE = "/rest/agile/1.0"
OPTION_FIELD_TYPES = frozenset({"select", "multiselect", "radiobuttons", "multicheckboxes", "cascadingselect"})
VERSION_FIELD_TYPES = frozenset({"version", "multiversion"})
# Fields that change without anyone changing configuration (usage counters, favourites, derived dates).
VOLATILE = frozenset({"self", "expand", "lastUsed", "screensCount", "contextsCount", "isFavourite", "favourite",
                      "favouritedCount", "popularity", "insight", "overdue", "userStartDate", "userReleaseDate",
                      "searchUrl", "viewUrl", "isActive", "isLast", "nextPage"})


@dataclass(frozen=True)
class Item:
    """One object of a type as it goes into a snapshot."""

    natural_key: str
    source_id: str | None
    obj: dict[str, Any]


def normalise(value: Any) -> Any:
    """Drop links and volatile fields at every depth, so an unchanged object serialises to the same bytes."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


class Reader:
    """What a type's read function works through: calls, pagination, and bounded concurrent fan-out.

    Only the thread running a type's read function may call ``pages``/``fan_out`` (they wait on the pool); functions
    running on the pool use ``get``/``all``, which page sequentially — nesting waits inside the pool could deadlock
    it. Every request holds the ``gate`` (shared by all the types read at once), so however many types and
    fanned-out functions run, at most ``concurrency`` requests are in flight for the tenant.
    """

    def __init__(self, access: SiteAccess, pool: Executor | PriorityPool | Lane | None = None, concurrency: int = 1,
                 gate: PriorityGate | None = None, priority: int = 0) -> None:
        self.access = access
        # What fanned-out work is submitted to: a priority pool is entered through its lane at this reader's priority.
        self.pool = pool.lane(priority) if isinstance(pool, PriorityPool) else pool
        self.gate = gate
        self.priority = priority  # this reader's place in the queues of the gate and the pool (lower goes first)
        self.window = max(1, concurrency) * 2  # in-flight futures: enough to keep every worker busy, no more
        self.memo: dict[str, Any] = {}  # small facts shared between types of one run (role ids, field ids)
        self.calls = 0  # requests this reader sent (retries inside the client not included)
        self._count = threading.Lock()

    def for_type(self, priority: int = 0) -> Reader:
        """A reader sharing this one's access, pool, gate and memo, counting its own requests (one per type), its
        requests and fanned-out work queued at ``priority``."""
        pool = self.pool.pool if isinstance(self.pool, Lane) else self.pool
        child = Reader(self.access, pool.lane(priority) if isinstance(pool, PriorityPool) else pool, gate=self.gate,
                       priority=priority)
        child.window, child.memo = self.window, self.memo
        return child

    def get(self, op: Operation, *, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None
            ) -> Any:
        with self._count:
            self.calls += 1
        with self.gate.hold(self.priority) if self.gate is not None else nullcontext():
            return self.access.call(op, path=path, params=params)

    def all(self, op: Operation, *, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
            page_size: int = 50) -> list[Any]:
        """Every item of a PageBean endpoint, page after page (for use inside fanned-out functions)."""
        return [v for page in self._walk(op, path, params, page_size) for v in page]

    def _walk(self, op: Operation, path: dict[str, Any] | None, params: dict[str, Any] | None, page_size: int,
              start: int = 0) -> Iterator[list[Any]]:
        """Pages one after another, each request through ``get`` (so through the gate, one page at a time).

        Stops as ``JiraClient.paginate`` does: on ``isLast``, on an empty page, or past ``total`` when ``isLast``
        is missing; never on one alone, since Jira may return shorter pages than asked.
        """
        while True:
            page = self.get(op, path=path, params=dict(params or {}, startAt=start, maxResults=page_size)) or {}
            values = page.get("values") or []
            yield values
            start += len(values)
            total = page.get("total")
            if not values or page.get("isLast") is True:
                return
            if page.get("isLast") is None and total is not None and start >= total:
                return

    def pages(self, op: Operation, *, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
              page_size: int = 50) -> Iterator[list[Any]]:
        """Pages of a PageBean endpoint in order: the first tells the total, the rest are fetched concurrently."""
        first = self.get(op, path=path, params=dict(params or {}, startAt=0, maxResults=page_size)) or {}
        values = first.get("values") or []
        yield values
        if first.get("isLast", True) or not values:
            return
        step = len(values)  # Jira may cap maxResults below what we asked for: page by what it actually gives
        total = first.get("total")
        if total is None:  # no total: walk sequentially
            yield from self._walk(op, path, params, step, start=step)
            return
        starts = range(step, int(total), step)
        yield from self.fan_out(
            lambda start: (self.get(op, path=path, params=dict(params or {}, startAt=start, maxResults=step))
                           or {}).get("values") or [], starts)

    def items(self, op: Operation, **kwargs: Any) -> Iterator[Any]:
        for page in self.pages(op, **kwargs):
            yield from page

    def fan_out(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn(item)`` for each item, run on the pool, yielded in order; at most ``window`` pending at once."""
        if self.pool is None:
            for item in items:
                yield fn(item)
            return
        pending: deque[Future[Any]] = deque()
        try:
            for item in items:
                pending.append(self.pool.submit(fn, item))
                if len(pending) >= self.window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # an error upstream: don't leave work running for nobody
                future.cancel()


ReadFn = Callable[[Reader], Generator[Item, None, None]]  # a generator: the capture closes it when cut short


@dataclass(frozen=True)
class ObjectType:
    """One configuration object type: how to read it, what it needs, and where it sits in the restore order."""

    key: str  # lowerCamelCase, the snapshot's type key
    label: str
    step: int  # restore step of the reference catalogue
    ops: tuple[Operation, ...]  # every operation the read may call
    read: ReadFn
    natural_key: str  # how objects are matched on restore (the reference's column), for people
    required: tuple[Operation, ...] = field(default=())  # without these the type is unreadable

    @property
    def after(self) -> set[str]:
        """The types read (and restored) before this one: its declaration's (app/objects/declarations.py)."""
        declaration = DECLARATIONS.get(self.key)
        return declaration.comes_after() & set(CATALOGUE) if declaration is not None else set()

    def missing_operations(self, access: SiteAccess) -> list[Operation]:
        """Required operations no credential we hold may call (empty: readable)."""
        return [op for op in (self.required or self.ops) if not access.can_call(op)]


def ordered_types() -> list[ObjectType]:
    """Every type in restore order (dependencies first), stable within a step."""
    from graphlib import TopologicalSorter

    order = TopologicalSorter({k: t.after for k, t in CATALOGUE.items()})
    order.prepare()
    out: list[str] = []
    while order.is_active():
        ready = sorted(order.get_ready(), key=lambda k: (CATALOGUE[k].step, list(CATALOGUE).index(k)))
        out.extend(ready)
        order.done(*ready)
    return [CATALOGUE[k] for k in out]


def user_ref(user: dict[str, Any] | None) -> dict[str, Any] | None:
    """A user as snapshots keep them: accountId and display name (emails and avatars aren't configuration)."""
    if not user:
        return None
    return {"accountId": user.get("accountId"), "displayName": user.get("displayName")}


# --------------------------------------------------------------------------- step 1: global building blocks

OP_CATEGORIES = declare("GET", f"{API}/projectCategory")
OP_LINK_TYPES = declare("GET", f"{API}/issueLinkType")
OP_PRIORITIES = declare("GET", f"{API}/priority/search")
OP_RESOLUTIONS = declare("GET", f"{API}/resolution/search")
OP_STATUSES_SEARCH = declare("GET", f"{API}/statuses/search")
OP_STATUS_LIST = declare("GET", f"{API}/status")
OP_ISSUE_TYPES = declare("GET", f"{API}/issuetype")
OP_ROLES = declare("GET", f"{API}/role")
OP_GROUPS = declare("GET", f"{API}/group/bulk")
OP_GROUP_MEMBERS = declare("GET", f"{API}/group/member")
OP_FIELDS = declare("GET", f"{API}/field/search")
CUSTOM_FIELDS_PARAMS = {"type": "custom", "expand": "key,isLocked,searcherKey"}


def read_project_categories(r: Reader) -> Generator[Item, None, None]:
    for cat in r.get(OP_CATEGORIES) or []:
        yield Item(cat["name"], _id(cat.get("id")), normalise(cat))


def read_issue_link_types(r: Reader) -> Generator[Item, None, None]:
    for link in (r.get(OP_LINK_TYPES) or {}).get("issueLinkTypes") or []:
        yield Item(link["name"], _id(link.get("id")), normalise(link))


def read_priorities(r: Reader) -> Generator[Item, None, None]:
    for prio in r.items(OP_PRIORITIES):
        yield Item(prio["name"], _id(prio.get("id")), normalise(prio))


def read_resolutions(r: Reader) -> Generator[Item, None, None]:
    for res in r.items(OP_RESOLUTIONS):
        yield Item(res["name"].casefold(), _id(res.get("id")), normalise(res))


_CATEGORY_KEYS = {"new": "TODO", "indeterminate": "IN_PROGRESS", "done": "DONE"}


def status_from_classic(status: dict[str, Any]) -> dict[str, Any]:
    """``GET /status`` (open to Connect) in the shape of ``GET /statuses/search``, so both store the same bytes."""
    category_key = (status.get("statusCategory") or {}).get("key")
    out: dict[str, Any] = {"id": _id(status.get("id")), "name": status.get("name"),
                           "statusCategory": _CATEGORY_KEYS.get(category_key, category_key)
                           if isinstance(category_key, str) else category_key,
                           "scope": status.get("scope") or {"type": "GLOBAL"},
                           "description": status.get("description") or ""}
    return out


OP_STATUS_PROJECT = declare("GET", f"{API}/project/{{projectIdOrKey}}")


def status_key(status: dict[str, Any]) -> str:
    where = f" in {status['projectKey']}" if status.get("projectKey") else ""
    return f"{status['name']} ({status.get('statusCategory')}){where}"


def status_project(status: dict[str, Any]) -> str | None:
    """The id of the project a project-scoped status belongs to (None for a global one)."""
    scope = status.get("scope") or {}
    return _id((scope.get("project") or {}).get("id")) if scope.get("type") == "PROJECT" else None


def _project_key(r: Reader, project_id: str) -> str | None:
    """A project's key (what names it across sites), or None when the project can't be read."""
    if project_id not in r.memo.setdefault("projectKeys", {}):
        try:
            key = (r.get(OP_STATUS_PROJECT, path={"projectIdOrKey": project_id}) or {}).get("key")
        except JiraError as exc:
            if isinstance(exc, JiraUnavailable) or exc.status != 404:
                raise
            key = None
        r.memo["projectKeys"][project_id] = key
    return r.memo["projectKeys"][project_id]


def read_statuses(r: Reader) -> Generator[Item, None, None]:
    # The full search is closed to Connect; the classic list carries what a restore needs (name, category,
    # description, scope), so without an OAuth grant statuses are still read completely.
    if r.access.can_call(OP_STATUSES_SEARCH):
        source: Iterable[dict[str, Any]] = r.items(OP_STATUSES_SEARCH, page_size=200)
    else:
        source = (status_from_classic(s) for s in r.get(OP_STATUS_LIST) or [])
    for status in source:
        obj = {k: status.get(k) for k in ("id", "name", "statusCategory", "scope", "description")}
        project_id = status_project(obj)
        if project_id is not None:  # its scope names the project by id: the key names it on another site too
            obj["projectKey"] = _project_key(r, project_id)
        yield Item(status_key(obj), _id(obj["id"]), normalise(obj))


def read_issue_types(r: Reader) -> Generator[Item, None, None]:
    for it in r.get(OP_ISSUE_TYPES) or []:
        yield Item(f"{it['name']} (level {it.get('hierarchyLevel', 0)})", _id(it.get("id")), normalise(it))


def read_project_roles(r: Reader) -> Generator[Item, None, None]:
    roles = r.get(OP_ROLES) or []
    r.memo["roleIds"] = [str(role["id"]) for role in roles]
    for role in roles:  # GET /role includes each role's default actors
        yield Item(role["name"], _id(role.get("id")), normalise(role))


def group_members(r: Reader, group_id: str) -> list[dict[str, str]]:
    """A group's members (inactive ones too: a restore puts back who was in the group), as accountIds."""
    members = r.all(OP_GROUP_MEMBERS, params={"groupId": group_id, "includeInactiveUsers": "true"})
    return sorted(({"accountId": str(m["accountId"])} for m in members if m.get("accountId")),
                  key=lambda m: m["accountId"])


def read_groups(r: Reader) -> Generator[Item, None, None]:
    def one(group: dict[str, Any]) -> Item:
        obj = dict(normalise(group), members=group_members(r, str(group["groupId"])))
        return Item(group["name"], _id(group.get("groupId")), obj)

    yield from r.fan_out(one, r.items(OP_GROUPS))


def field_key(f: dict[str, Any]) -> str:
    return f"{f['name']} ({(f.get('schema') or {}).get('custom', '')})"


def _field_brief(f: dict[str, Any]) -> tuple[str, str, str]:
    custom = (f.get("schema") or {}).get("custom") or ""
    return f["id"], field_key(f), custom.rsplit(":", 1)[-1]


def read_custom_fields(r: Reader) -> Generator[Item, None, None]:
    briefs = []
    for f in r.items(OP_FIELDS, params=CUSTOM_FIELDS_PARAMS):
        briefs.append(_field_brief(f))
        yield Item(field_key(f), _id(f.get("id")), normalise(f))
    r.memo["customFields"] = briefs  # three short strings a field: fine even for thousands


# --------------------------------------------------------------------------- step 2: contexts, screens, field configs

OP_CONTEXTS = declare("GET", f"{API}/field/{{fieldId}}/context")
OP_CONTEXT_TYPES = declare("GET", f"{API}/field/{{fieldId}}/context/issuetypemapping")
OP_CONTEXT_PROJECTS = declare("GET", f"{API}/field/{{fieldId}}/context/projectmapping")
OP_CONTEXT_DEFAULTS = declare("GET", f"{API}/field/{{fieldId}}/context/defaultValue")
OP_OPTIONS = declare("GET", f"{API}/field/{{fieldId}}/context/{{contextId}}/option")
OP_VERSION = declare("GET", f"{API}/version/{{id}}")


def _default_versions(r: Reader, default: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The versions a default value names, each with its project and name: a version id means nothing on another
    site, and the id alone doesn't say which project's version to look for there (runs on the pool)."""
    default = default or {}
    out = []
    for vid in [default.get("versionId"), *(default.get("versionIds") or [])]:
        if vid is None:
            continue
        try:
            version = r.get(OP_VERSION, path={"id": str(vid)}) or {}
        except JiraError as exc:
            if isinstance(exc, JiraUnavailable) or exc.status != 404:
                raise
            continue  # a default naming a deleted version: the restore reports it as not found
        out.append({"id": str(vid), "projectId": _id(version.get("projectId")), "name": version.get("name")})
    return out


def _field_contexts(r: Reader, brief: tuple[str, str, str]) -> list[Item]:
    """Every context of one field with its mappings, default and options (runs on the pool)."""
    field_id, fkey, kind = brief
    path = {"fieldId": field_id}
    contexts = r.all(OP_CONTEXTS, path=path)
    if not contexts:
        return []
    # Mappings only matter for contexts that aren't global / for all types: skip calls that can't add anything.
    types: dict[str, list[str]] = {}
    if not all(c.get("isAnyIssueType") for c in contexts):
        for m in r.all(OP_CONTEXT_TYPES, path=path):
            if m.get("issueTypeId"):
                types.setdefault(str(m["contextId"]), []).append(str(m["issueTypeId"]))
    projects: dict[str, list[str]] = {}
    if not all(c.get("isGlobalContext") for c in contexts):
        for m in r.all(OP_CONTEXT_PROJECTS, path=path):
            if m.get("projectId"):
                projects.setdefault(str(m["contextId"]), []).append(str(m["projectId"]))
    defaults = {str(d.get("contextId")): d for d in r.all(OP_CONTEXT_DEFAULTS, path=path)}
    out = []
    for ctx in contexts:
        cid = str(ctx["id"])
        obj = dict(normalise(ctx), fieldId=field_id, field=fkey, issueTypeIds=types.get(cid, []),
                   projectIds=projects.get(cid, []), defaultValue=normalise(defaults.get(cid)))
        if kind in VERSION_FIELD_TYPES and obj["defaultValue"]:
            obj["defaultVersions"] = _default_versions(r, obj["defaultValue"])
        if kind in OPTION_FIELD_TYPES:
            # Cascading children come in the same list, each with ``optionId`` naming its parent.
            obj["options"] = normalise(r.all(OP_OPTIONS, path={"fieldId": field_id, "contextId": cid},
                                             page_size=100))
        out.append(Item(f"{fkey} / {ctx['name']}", cid, obj))
    return out


def _custom_field_briefs(r: Reader) -> Iterator[tuple[str, str, str]]:
    if "customFields" in r.memo:
        yield from r.memo["customFields"]
        return
    # The field list wasn't read by this reader (a resumed run, a restore's planning): the custom fields' own request,
    # so an answer journaled for it is replayed rather than paid for again.
    for f in r.items(OP_FIELDS, params=CUSTOM_FIELDS_PARAMS):
        yield _field_brief(f)


def read_field_contexts(r: Reader) -> Generator[Item, None, None]:
    for items in r.fan_out(lambda brief: _field_contexts(r, brief), _custom_field_briefs(r)):
        yield from items


OP_SCREENS = declare("GET", f"{API}/screens")
OP_SCREEN_TABS = declare("GET", f"{API}/screens/{{screenId}}/tabs")
OP_TAB_FIELDS = declare("GET", f"{API}/screens/{{screenId}}/tabs/{{tabId}}/fields")


def _screen(r: Reader, screen: dict[str, Any]) -> Item:
    tabs = []
    for tab in r.get(OP_SCREEN_TABS, path={"screenId": screen["id"]}) or []:
        fields = r.get(OP_TAB_FIELDS, path={"screenId": screen["id"], "tabId": tab["id"]}) or []
        tabs.append(dict(normalise(tab), fields=normalise(fields)))  # in screen order
    return Item(screen["name"], _id(screen["id"]), dict(normalise(screen), tabs=tabs))


def read_screens(r: Reader) -> Generator[Item, None, None]:
    yield from r.fan_out(lambda s: _screen(r, s), r.items(OP_SCREENS, page_size=100))


OP_FIELD_CONFIGS = declare("GET", f"{API}/fieldconfiguration")
OP_FIELD_CONFIG_ITEMS = declare("GET", f"{API}/fieldconfiguration/{{id}}/fields")


def read_field_configurations(r: Reader) -> Generator[Item, None, None]:
    def one(fc: dict[str, Any]) -> Item:
        items = r.all(OP_FIELD_CONFIG_ITEMS, path={"id": fc["id"]})
        return Item(fc["name"], _id(fc["id"]), dict(normalise(fc), items=normalise(items)))

    yield from r.fan_out(one, r.items(OP_FIELD_CONFIGS))


def _schemes_with_mappings(r: Reader, list_op: Operation, mapping_op: Operation, id_param: str,
                           scheme_field: str, page_size: int = 50) -> Generator[Item, None, None]:
    """Schemes a page at a time, each page's mappings fetched in one bulk look-up."""

    def with_mappings(schemes: list[dict[str, Any]]) -> list[Item]:
        ids = [str(s["id"]) for s in schemes if s.get("id") is not None]
        by_scheme: dict[str, list[Any]] = {}
        if ids:
            for m in r.all(mapping_op, params={id_param: ids}):
                by_scheme.setdefault(str(m.get(scheme_field)), []).append(
                    {k: v for k, v in normalise(m).items() if k != scheme_field})
        return [Item(s["name"], _id(s.get("id")), dict(normalise(s), mappings=by_scheme.get(str(s.get("id")), [])))
                for s in schemes]

    for items in r.fan_out(with_mappings, r.pages(list_op, page_size=page_size)):
        yield from items


OP_FC_SCHEMES = declare("GET", f"{API}/fieldconfigurationscheme")
OP_FC_SCHEME_MAPPING = declare("GET", f"{API}/fieldconfigurationscheme/mapping")


def read_field_configuration_schemes(r: Reader) -> Generator[Item, None, None]:
    yield from _schemes_with_mappings(r, OP_FC_SCHEMES, OP_FC_SCHEME_MAPPING, "fieldConfigurationSchemeId",
                                      "fieldConfigurationSchemeId")


# --------------------------------------------------------------------------- steps 3-4: screen and type schemes

OP_SCREEN_SCHEMES = declare("GET", f"{API}/screenscheme")
OP_ITSS = declare("GET", f"{API}/issuetypescreenscheme")
OP_ITSS_MAPPING = declare("GET", f"{API}/issuetypescreenscheme/mapping")
OP_ITS = declare("GET", f"{API}/issuetypescheme")
OP_ITS_MAPPING = declare("GET", f"{API}/issuetypescheme/mapping")
OP_PRIORITY_SCHEMES = declare("GET", f"{API}/priorityscheme")
OP_PRIORITY_SCHEME_PRIORITIES = declare("GET", f"{API}/priorityscheme/{{schemeId}}/priorities")
OP_PRIORITY_SCHEME_PROJECTS = declare("GET", f"{API}/priorityscheme/{{schemeId}}/projects")


def read_screen_schemes(r: Reader) -> Generator[Item, None, None]:
    for scheme in r.items(OP_SCREEN_SCHEMES, page_size=100):
        yield Item(scheme["name"], _id(scheme.get("id")), normalise(scheme))


def read_issue_type_screen_schemes(r: Reader) -> Generator[Item, None, None]:
    yield from _schemes_with_mappings(r, OP_ITSS, OP_ITSS_MAPPING, "issueTypeScreenSchemeId",
                                      "issueTypeScreenSchemeId")


def read_issue_type_schemes(r: Reader) -> Generator[Item, None, None]:
    yield from _schemes_with_mappings(r, OP_ITS, OP_ITS_MAPPING, "issueTypeSchemeId", "issueTypeSchemeId")


def _inline(r: Reader, scheme: dict[str, Any], key: str, op: Operation) -> list[Any]:
    """An expanded inline page, completed with the scheme's own endpoint when Jira cut it short."""
    page = scheme.get(key) or {}
    values = list(page.get("values") or [])
    if page and page.get("isLast") is False:
        values = r.all(op, path={"schemeId": scheme["id"]})
    return values


def read_priority_schemes(r: Reader) -> Generator[Item, None, None]:
    def one(scheme: dict[str, Any]) -> Item:
        obj = {k: v for k, v in normalise(scheme).items() if k not in ("priorities", "projects")}
        obj["priorities"] = normalise(_inline(r, scheme, "priorities", OP_PRIORITY_SCHEME_PRIORITIES))
        obj["projects"] = [{"id": _id(p.get("id")), "key": p.get("key")}
                           for p in _inline(r, scheme, "projects", OP_PRIORITY_SCHEME_PROJECTS)]
        return Item(scheme["name"], _id(scheme.get("id")), obj)

    yield from r.fan_out(one, r.items(OP_PRIORITY_SCHEMES, params={"expand": "priorities,projects"}))


# --------------------------------------------------------------------------- step 5: workflows

OP_WORKFLOWS = declare("GET", f"{API}/workflows/search")
OP_WORKFLOW_SCHEMES = declare("GET", f"{API}/workflowscheme")


def read_workflows(r: Reader) -> Generator[Item, None, None]:
    for wf in r.items(OP_WORKFLOWS, params={"expand": "values.transitions"}):
        yield Item(wf["name"], _id(wf.get("id")), normalise(wf))


def read_workflow_schemes(r: Reader) -> Generator[Item, None, None]:
    for scheme in r.items(OP_WORKFLOW_SCHEMES):
        yield Item(scheme["name"], _id(scheme.get("id")), normalise(scheme))


# --------------------------------------------------------------------------- step 6: permission-like schemes

OP_PERMISSION_SCHEMES = declare("GET", f"{API}/permissionscheme")
OP_NOTIFICATION_SCHEMES = declare("GET", f"{API}/notificationscheme")
OP_SECURITY_SCHEMES = declare("GET", f"{API}/issuesecurityschemes/search")
OP_SECURITY_LEVELS = declare("GET", f"{API}/issuesecurityschemes/level")
OP_SECURITY_MEMBERS = declare("GET", f"{API}/issuesecurityschemes/level/member")


def read_permission_schemes(r: Reader) -> Generator[Item, None, None]:
    for scheme in (r.get(OP_PERMISSION_SCHEMES, params={"expand": "all"}) or {}).get("permissionSchemes") or []:
        yield Item(scheme["name"], _id(scheme.get("id")), normalise(scheme))


def read_notification_schemes(r: Reader) -> Generator[Item, None, None]:
    for scheme in r.items(OP_NOTIFICATION_SCHEMES, params={"expand": "all"}):
        yield Item(scheme["name"], _id(scheme.get("id")), normalise(scheme))


def read_issue_security_schemes(r: Reader) -> Generator[Item, None, None]:
    def with_levels(schemes: list[dict[str, Any]]) -> list[Item]:
        ids = [str(s["id"]) for s in schemes]
        members: dict[str, list[Any]] = {}
        for m in r.all(OP_SECURITY_MEMBERS, params={"schemeId": ids, "expand": "all"}):
            members.setdefault(str(m.get("issueSecurityLevelId")), []).append(normalise(m))
        levels: dict[str, list[Any]] = {}
        for lv in r.all(OP_SECURITY_LEVELS, params={"schemeId": ids}):
            levels.setdefault(str(lv.get("issueSecuritySchemeId")), []).append(
                dict(normalise(lv), members=members.get(str(lv["id"]), [])))
        return [Item(s["name"], _id(s["id"]), dict(normalise(s), levels=levels.get(str(s["id"]), [])))
                for s in schemes]

    for items in r.fan_out(with_levels, r.pages(OP_SECURITY_SCHEMES)):
        yield from items


# --------------------------------------------------------------------------- step 7: projects

OP_PROJECTS = declare("GET", f"{API}/project/search")
OP_PROJECT = declare("GET", f"{API}/project/{{projectIdOrKey}}")
OP_COMPONENTS = declare("GET", f"{API}/project/{{projectIdOrKey}}/components")
OP_VERSIONS = declare("GET", f"{API}/project/{{projectIdOrKey}}/versions")
OP_PROJECT_ROLE = declare("GET", f"{API}/project/{{projectIdOrKey}}/role/{{id}}")
OP_PROJECT_PERMISSION_SCHEME = declare("GET", f"{API}/project/{{projectKeyOrId}}/permissionscheme")
OP_PROJECT_ITS = declare("GET", f"{API}/issuetypescheme/project")
OP_PROJECT_ITSS = declare("GET", f"{API}/issuetypescreenscheme/project")
OP_PROJECT_FCS = declare("GET", f"{API}/fieldconfigurationscheme/project")
OP_PROJECT_WFS = declare("GET", f"{API}/workflowscheme/project")
OP_PROJECT_NS = declare("GET", f"{API}/notificationscheme/project")
OP_PROJECT_ISS = declare("GET", f"{API}/issuesecurityschemes/project")
PROJECT_EXPAND = "description,lead,issueTypes,url"  # projectKeys: not in the spec's Project schema


def _scheme_name_or_id(s: dict[str, Any] | None) -> dict[str, Any] | None:
    if not s:
        return None
    return {"id": _id(s.get("id")), "name": s.get("name")}


def _scheme_lookups(ids: list[str]) -> list[tuple[Operation, dict[str, Any], Callable[[Any], Iterable[tuple[str,
                                                                                                         str, Any]]]]]:
    """The bulk look-ups naming the schemes of up to 50 projects: (operation, params, rows -> (project, slot, ref))."""
    def by_ids(slot: str) -> Callable[[Any], Iterable[tuple[str, str, Any]]]:
        return lambda rows: ((str(pid), slot, _scheme_name_or_id(m.get(slot))) for m in rows
                             for pid in m.get("projectIds") or [])

    def by_project(slot: str, key: str) -> Callable[[Any], Iterable[tuple[str, str, Any]]]:
        return lambda rows: ((str(m.get("projectId")), slot, {"id": _id(m.get(key))}) for m in rows)

    params = {"projectId": ids}
    return [(OP_PROJECT_ITS, params, by_ids("issueTypeScheme")),
            (OP_PROJECT_ITSS, params, by_ids("issueTypeScreenScheme")),
            (OP_PROJECT_FCS, params, by_ids("fieldConfigurationScheme")),
            (OP_PROJECT_WFS, params, by_ids("workflowScheme")),
            (OP_PROJECT_NS, params, by_project("notificationScheme", "notificationSchemeId")),
            (OP_PROJECT_ISS, params, by_project("issueSecurityScheme", "issueSecuritySchemeId"))]


def _project_schemes(r: Reader, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Every scheme the given projects use, through one bulk look-up per scheme kind (not one per project).

    The look-ups don't depend on each other: they are fanned out, so a page of projects waits for one round trip
    rather than six.
    """
    def rows(lookup: tuple[Operation, dict[str, Any], Any]) -> list[Any]:
        op, params, _ = lookup
        if op is OP_PROJECT_WFS:  # not a PageBean: one answer with every mapping
            return (r.get(op, params=params) or {}).get("values") or []
        return r.all(op, params=params)

    lookups = _scheme_lookups(ids)
    out: dict[str, dict[str, Any]] = {pid: {} for pid in ids}
    for (_op, _params, spread), found in zip(lookups, r.fan_out(rows, lookups), strict=True):
        for pid, slot, ref in spread(found):
            out.setdefault(pid, {})[slot] = ref
    return out


def _project_parts(pid: str, role_ids: list[str]) -> list[tuple[str, Operation, dict[str, Any]]]:
    """The per-project reads, each a request of its own: (part, operation, path).

    The project itself is read whole: only it tells the default assignee (the search leaves ``assigneeType`` out),
    and it carries the components and versions (in Jira's order) in the same answer.
    """
    parts = [("detail", OP_PROJECT, {"projectIdOrKey": pid}),
             ("permissionScheme", OP_PROJECT_PERMISSION_SCHEME, {"projectKeyOrId": pid})]
    return parts + [(f"role:{rid}", OP_PROJECT_ROLE, {"projectIdOrKey": pid, "id": rid}) for rid in role_ids]


def _read_part(r: Reader, part: tuple[str, Operation, dict[str, Any]]) -> Any:
    name, op, path = part
    try:
        return r.get(op, path=path)
    except JiraError as exc:
        if name.startswith("role:") and exc.status == 404:  # a role that doesn't apply (team-managed projects)
            return None
        raise


def _project(project: dict[str, Any], schemes: dict[str, Any], parts: dict[str, Any], role_ids: list[str]) -> Item:
    """One project's object from its search entry, its schemes and its per-project reads."""
    pid = str(project["id"])
    obj = normalise(project)
    detail = parts["detail"] or {}
    if obj.get("lead"):
        obj["lead"] = user_ref(obj["lead"])
    obj["assigneeType"] = detail.get("assigneeType") or "UNASSIGNED"  # Jira's documented default
    obj["components"] = [dict(c, lead=user_ref(c.get("lead")), assignee=user_ref(c.get("assignee")),
                              realAssignee=user_ref(c.get("realAssignee")))
                         for c in normalise(detail.get("components") or [])]
    obj["versions"] = normalise(detail.get("versions") or [])  # in Jira's order
    obj["schemes"] = dict(schemes, permissionScheme=_scheme_name_or_id(parts["permissionScheme"] or {}))
    roles = []
    for role_id in role_ids:
        role = parts[f"role:{role_id}"]
        if role is None:
            continue
        roles.append({"id": _id(role.get("id")), "name": role.get("name"),
                      "actors": [_actor(a) for a in role.get("actors") or []]})
    obj["roleActors"] = roles
    return Item(project["key"], pid, obj)


def _actor(actor: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in normalise(actor).items() if k in ("id", "displayName", "type", "name")}
    if actor.get("actorUser"):
        out["actorUser"] = {"accountId": actor["actorUser"].get("accountId")}
    if actor.get("actorGroup"):
        out["actorGroup"] = {k: actor["actorGroup"].get(k) for k in ("name", "groupId", "displayName")}
    return out


def _role_ids(r: Reader) -> list[str]:
    if "roleIds" not in r.memo:
        r.memo["roleIds"] = [str(role["id"]) for role in r.get(OP_ROLES) or []]
    return r.memo["roleIds"]


def read_projects(r: Reader) -> Generator[Item, None, None]:
    role_ids = _role_ids(r)
    # Pages of 50: the bulk scheme look-ups take up to 50 project ids each. Within a page every per-project read is
    # a task of its own (not one task reading a project's parts in turn), so no project is a chain of round trips.
    for page in r.pages(OP_PROJECTS, params={"expand": PROJECT_EXPAND}):
        if not page:
            continue
        schemes = _project_schemes(r, [str(p["id"]) for p in page])
        by_id = {str(p["id"]): p for p in page}
        tasks = [(pid, part) for pid in by_id for part in _project_parts(pid, role_ids)]
        per_project = len(tasks) // len(by_id)
        parts: dict[str, Any] = {}
        for (pid, (name, _op, _path)), answer in zip(tasks, r.fan_out(lambda t: _read_part(r, t[1]), tasks),
                                                     strict=True):
            parts[name] = answer
            if len(parts) == per_project:  # tasks come back in order: that project's reads are all in
                yield _project(by_id[pid], schemes.get(pid, {}), parts, role_ids)
                parts = {}


# --------------------------------------------------------------------------- steps 8-10: filters, boards, dashboards

OP_FILTERS = declare("GET", f"{API}/filter/search")
OP_DASHBOARDS = declare("GET", f"{API}/dashboard/search")
OP_GADGETS = declare("GET", f"{API}/dashboard/{{dashboardId}}/gadget")
OP_ITEM_PROPERTY_KEYS = declare("GET", f"{API}/dashboard/{{dashboardId}}/items/{{itemId}}/properties")
OP_ITEM_PROPERTY = declare("GET", f"{API}/dashboard/{{dashboardId}}/items/{{itemId}}/properties/{{propertyKey}}")
OP_BOARDS = declare("GET", f"{AGILE}/board")
OP_BOARD_CONFIG = declare("GET", f"{AGILE}/board/{{boardId}}/configuration")
SHARED_EXPAND = "description,owner,sharePermissions,editPermissions"


def owner_key(obj: dict[str, Any]) -> str:
    owner = obj.get("owner") or {}
    return f"{owner.get('accountId') or '-'} / {obj['name']}"


def read_filters(r: Reader) -> Generator[Item, None, None]:
    # overrideSharePermissions: an administrator sees every filter, not just those shared with them.
    params = {"expand": f"{SHARED_EXPAND},jql", "overrideSharePermissions": "true"}
    for flt in r.items(OP_FILTERS, params=params):
        obj = normalise(flt)
        obj["owner"] = user_ref(flt.get("owner"))
        yield Item(owner_key(obj), _id(flt.get("id")), obj)


def read_boards(r: Reader) -> Generator[Item, None, None]:
    def one(board: dict[str, Any]) -> Item:
        config = normalise(r.get(OP_BOARD_CONFIG, path={"boardId": board["id"]}) or {})
        filter_id = (config.get("filter") or {}).get("id")
        obj = dict(normalise(board), configuration=config)
        return Item(f"{board['name']} ({board.get('type')}, filter {filter_id})", _id(board["id"]), obj)

    yield from r.fan_out(one, r.items(OP_BOARDS))


def with_item_properties(r: Reader, dashboard_id: Any, gadget: dict[str, Any]) -> dict[str, Any]:
    """A gadget with its item properties (its configuration: the filter or project it shows...), key -> value.

    Values are kept as Jira gives them (not ``normalise``d): they are a gadget's own data, whose keys may be anything.
    """
    where = {"dashboardId": dashboard_id, "itemId": gadget["id"]}
    keys = [k["key"] for k in (r.get(OP_ITEM_PROPERTY_KEYS, path=where) or {}).get("keys") or [] if k.get("key")]
    if not keys:
        return gadget
    values = {key: (r.get(OP_ITEM_PROPERTY, path=dict(where, propertyKey=key)) or {}).get("value") for key in keys}
    return dict(gadget, properties=values)


def read_dashboards(r: Reader) -> Generator[Item, None, None]:
    def one(board: dict[str, Any]) -> Item:
        gadgets = (r.get(OP_GADGETS, path={"dashboardId": board["id"]}) or {}).get("gadgets") or []
        gadgets = [with_item_properties(r, board["id"], g) for g in normalise(gadgets)]
        obj = dict(normalise(board), owner=user_ref(board.get("owner")), gadgets=gadgets)
        return Item(owner_key(obj), _id(board["id"]), obj)

    yield from r.fan_out(one, r.items(OP_DASHBOARDS, params={"expand": SHARED_EXPAND}))


# --------------------------------------------------------------------------- settings

OP_TIMETRACKING = declare("GET", f"{API}/configuration/timetracking")
OP_TIMETRACKING_OPTIONS = declare("GET", f"{API}/configuration/timetracking/options")
OP_CONFIGURATION = declare("GET", f"{API}/configuration")
OP_ADVANCED_SETTINGS = declare("GET", f"{API}/application-properties/advanced-settings")


def read_settings(r: Reader) -> Generator[Item, None, None]:
    # 204 (no body) means time tracking is off: that is a setting too.
    yield Item("timetracking", None, {"provider": normalise(r.get(OP_TIMETRACKING))})
    yield Item("timetrackingOptions", None, normalise(r.get(OP_TIMETRACKING_OPTIONS) or {}))
    yield Item("configuration", None, normalise(r.get(OP_CONFIGURATION) or {}))
    for prop in r.get(OP_ADVANCED_SETTINGS) or []:
        yield Item(f"advanced:{prop['key']}", _id(prop.get("id")), normalise(prop))

# Every configuration type a backup reads, in catalogue order (ties in the restore order keep it). A new type's reader
# is listed here: nothing is registered by defining it.
CATALOGUE: dict[str, ObjectType] = {t.key: t for t in (
    ObjectType("projectCategories", "Project categories", 1, read=read_project_categories, ops=(OP_CATEGORIES,),
               natural_key="name"),
    ObjectType("issueLinkTypes", "Issue link types", 1, read=read_issue_link_types, ops=(OP_LINK_TYPES,),
               natural_key="name"),
    ObjectType("priorities", "Priorities", 1, read=read_priorities, ops=(OP_PRIORITIES,), natural_key="name"),
    ObjectType("resolutions", "Resolutions", 1, read=read_resolutions, ops=(OP_RESOLUTIONS,),
               natural_key="name, case-insensitive"),
    ObjectType("statuses", "Statuses", 1, read=read_statuses,
               ops=(OP_STATUSES_SEARCH, OP_STATUS_LIST, OP_STATUS_PROJECT),
               natural_key="name + category (+ project key for a project's own)", required=(OP_STATUS_LIST,)),
    ObjectType("issueTypes", "Issue types", 1, read=read_issue_types, ops=(OP_ISSUE_TYPES,),
               natural_key="name + hierarchy level"),
    ObjectType("projectRoles", "Project roles", 1, read=read_project_roles, ops=(OP_ROLES,), natural_key="name"),
    ObjectType("groups", "Groups and their members", 1, read=read_groups, ops=(OP_GROUPS, OP_GROUP_MEMBERS),
               natural_key="name (groupId kept)"),
    ObjectType("customFields", "Custom fields", 1, read=read_custom_fields, ops=(OP_FIELDS,),
               natural_key="name + type (names aren't unique)"),
    ObjectType("fieldContexts", "Custom field contexts, options and defaults", 2, read=read_field_contexts,
               ops=(OP_FIELDS, OP_CONTEXTS, OP_CONTEXT_TYPES, OP_CONTEXT_PROJECTS, OP_CONTEXT_DEFAULTS, OP_OPTIONS,
                    OP_VERSION),
               natural_key="field + context name; option value within context"),
    ObjectType("screens", "Screens, tabs and fields", 2, read=read_screens,
               ops=(OP_SCREENS, OP_SCREEN_TABS, OP_TAB_FIELDS), natural_key="name"),
    ObjectType("fieldConfigurations", "Field configurations and items", 2, read=read_field_configurations,
               ops=(OP_FIELD_CONFIGS, OP_FIELD_CONFIG_ITEMS), natural_key="name"),
    ObjectType("fieldConfigurationSchemes", "Field configuration schemes", 2, read=read_field_configuration_schemes,
               ops=(OP_FC_SCHEMES, OP_FC_SCHEME_MAPPING), natural_key="name"),
    ObjectType("screenSchemes", "Screen schemes", 3, read=read_screen_schemes, ops=(OP_SCREEN_SCHEMES,),
               natural_key="name"),
    ObjectType("issueTypeScreenSchemes", "Issue type screen schemes", 3, read=read_issue_type_screen_schemes,
               ops=(OP_ITSS, OP_ITSS_MAPPING), natural_key="name"),
    ObjectType("issueTypeSchemes", "Issue type schemes", 4, read=read_issue_type_schemes, ops=(OP_ITS, OP_ITS_MAPPING),
               natural_key="name"),
    ObjectType("prioritySchemes", "Priority schemes", 4, read=read_priority_schemes,
               ops=(OP_PRIORITY_SCHEMES, OP_PRIORITY_SCHEME_PRIORITIES, OP_PRIORITY_SCHEME_PROJECTS),
               natural_key="name", required=(OP_PRIORITY_SCHEMES,)),
    ObjectType("workflows", "Workflows (transitions, rules, properties, layout)", 5, read=read_workflows,
               ops=(OP_WORKFLOWS,), natural_key="name"),
    ObjectType("workflowSchemes", "Workflow schemes", 5, read=read_workflow_schemes, ops=(OP_WORKFLOW_SCHEMES,),
               natural_key="name"),
    ObjectType("permissionSchemes", "Permission schemes", 6, read=read_permission_schemes,
               ops=(OP_PERMISSION_SCHEMES,), natural_key="name"),
    ObjectType("notificationSchemes", "Notification schemes", 6, read=read_notification_schemes,
               ops=(OP_NOTIFICATION_SCHEMES,), natural_key="name"),
    ObjectType("issueSecuritySchemes", "Issue security schemes, levels and members", 6,
               read=read_issue_security_schemes, ops=(OP_SECURITY_SCHEMES, OP_SECURITY_LEVELS, OP_SECURITY_MEMBERS),
               natural_key="name"),
    ObjectType("projects", "Projects (category, lead, components, versions, role actors, schemes)", 7,
               read=read_projects,
               ops=(OP_PROJECTS, OP_ROLES, OP_PROJECT, OP_PROJECT_ROLE, OP_PROJECT_PERMISSION_SCHEME,
                    OP_PROJECT_ITS, OP_PROJECT_ITSS, OP_PROJECT_FCS, OP_PROJECT_WFS, OP_PROJECT_NS, OP_PROJECT_ISS),
               natural_key="key"),
    ObjectType("filters", "Filters and share permissions", 8, read=read_filters, ops=(OP_FILTERS,),
               natural_key="owner + name"),
    ObjectType("boards", "Boards and their configuration", 9, read=read_boards, ops=(OP_BOARDS, OP_BOARD_CONFIG),
               natural_key="name + type + filter"),
    ObjectType("dashboards", "Dashboards, gadgets and their configuration", 10, read=read_dashboards,
               ops=(OP_DASHBOARDS, OP_GADGETS, OP_ITEM_PROPERTY_KEYS, OP_ITEM_PROPERTY), natural_key="owner + name"),
    ObjectType("settings", "Time tracking and global settings", 1, read=read_settings,
               ops=(OP_TIMETRACKING, OP_TIMETRACKING_OPTIONS, OP_CONFIGURATION, OP_ADVANCED_SETTINGS),
               natural_key="setting name"),
)}
