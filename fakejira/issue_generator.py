"""Generated issue data on top of a generated configuration: issues, hierarchy, history, key gaps and sprints.

Like ``generator.py`` it drives the emulator's own handlers on the scratch site (``POST /issue``, transitions,
edits, deletes, properties, agile sprints), so every issue passed the checks a restore meets: the create screen,
the field configuration, contexts, the hierarchy and the workflow. Time is a simulated clock advanced from the rng
seed (``site.limits.clock``), so ``created``/``updated``, changelog times and sprint dates repeat exactly.

A generated configuration is random: a project's create screen may lack a field its field configuration requires,
which no real site with issues in that project would have. Before creating issues, each issue project's create
screens get the fields its issue types need (required ones, ``parent``, ``reporter``, ``assignee``), and its issue
type scheme gets the Epic type, through the screen and scheme handlers; a type that still can't be created (a
required field without a context for the project) holds no issues.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import issues as model
from .issue_fields import FieldChecker, context_for, field_configuration, issue_types_of, level_of

if TYPE_CHECKING:  # pragma: no cover
    from .generator import _Builder

API = "/rest/api/3"
AGILE = "/rest/agile/1.0"
EPIC_TYPE = "10000"  # the site default's Epic (hierarchy level 1)
START = dt.datetime(2023, 1, 2, 8, 0, tzinfo=dt.UTC).timestamp()  # the simulated clock's first moment
SPAN_SECONDS = 2 * 365 * 86400  # the simulated history spans about two years
ALWAYS_ON_CREATE = ("parent", "reporter", "assignee")  # what a site holding issues lets its create screens set

# Free text that breaks naive code: markup, SQL, quotes, right-to-left, emoji, invisible and combining characters,
# JQL operators, and text that looks like a template or an escape.
HOSTILE_TEXT = (
    "<script>alert('issue')</script>", "'; DROP TABLE jiraissue; --", 'She said "ship it" & left',
    "תקלה בעברית", "خطأ في النظام", "RTL \u202eevil\u202c text", "Rocket 🚀 fire 🔥 dev 👩‍💻",
    "Ünïcødé 日本語 中文 Ελληνικά", "C:\\path\\to\\file \\n not a newline", "%s %d {0} ${jndi:ldap://x}",
    "Zero\u200bwidth\u200djoiner", "Combining e\u0301 vs é", 'project = X AND summary ~ "y" OR key = Z-1',
)
HOSTILE_LABELS = ("日本語", "émoji🚀", "<b>bold</b>", "quote'single", "back\\slash", "עברית", "a&b", "x=y")
PLAIN_LABELS = ("backend", "frontend", "customer", "regression", "tech-debt", "security", "ux", "perf")
VERBS = ("Fix", "Add", "Remove", "Investigate", "Refactor", "Document", "Migrate", "Speed up", "Harden", "Review")
THINGS = ("login page", "billing export", "search index", "mobile sync", "audit log", "API rate limits",
          "release notes", "onboarding flow", "error handling", "dashboard gadgets", "webhook retries")


@dataclass(frozen=True)
class IssueSizes:
    """How much issue data a preset holds, on top of which configuration preset."""

    config: str  # the configuration preset underneath (generator.PRESETS)
    projects: int  # projects that hold issues (the first ones of the configuration)
    issues: int  # issues that remain (more are created; ``delete_share`` of those are deleted)
    epic_share: float = 0.05
    subtask_share: float = 0.15
    delete_share: float = 0.03
    transition_share: float = 0.6
    edit_share: float = 0.25
    property_share: float = 0.05
    departed_share: float = 0.04  # issues assigned to / reported by a person who is later deleted
    sprints_per_board: int = 4  # closed, closed, active, future...
    sprint_issues: int = 10  # issues put into each sprint (while it is open)
    comments: int = 0
    worklogs: int = 0
    attachments: int = 0
    largest_attachment: int = 2 * 1024 * 1024  # bytes; a few attachments come close to it
    huge_attachments: int = 0  # the first attachments made ``HUGE_ATTACHMENT`` bytes instead (memory benches)
    links: int = 0
    watcher_share: float = 0.2  # issues that get a watcher besides the autowatching creator and reporter
    vote_share: float = 0.1


ISSUE_PRESETS: dict[str, IssueSizes] = {
    "issues-small": IssueSizes(config="small", projects=3, issues=75, epic_share=0.08, subtask_share=0.2,
                               delete_share=0.08, departed_share=0.1, property_share=0.1, sprint_issues=4,
                               comments=90, worklogs=30, attachments=12, largest_attachment=3 * 1024 * 1024,
                               links=20, watcher_share=0.3, vote_share=0.2),
    "issues-medium": IssueSizes(config="medium", projects=20, issues=10_000, comments=30_000, worklogs=5_000,
                                attachments=2_000, largest_attachment=40 * 1024 * 1024, links=3_000),
}
HUGE_ATTACHMENT = 50 * 1024 * 1024
# The same sites with their first three attachments of 50 MB (everything else as the preset: the rng draws the same)
ISSUE_PRESETS.update({f"{name}-50mb": replace(sizes, huge_attachments=3)
                      for name, sizes in list(ISSUE_PRESETS.items())})
LINK_TYPES = ("Blocks", "Cloners", "Duplicate", "Relates")  # the site default's link types
MIME_TYPES = (("report.pdf", "application/pdf"), ("screenshot.png", "image/png"), ("trace.log", "text/plain"),
              ("data.csv", "text/csv"), ("build.zip", "application/zip"), ("spec.docx",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
HOSTILE_FILE_NAMES = ("<img src=x onerror=alert(1)>.png", "..\\..\\boot.ini", "rapport d'été 📎.pdf",
                      "تقرير.pdf", "name with \"quotes\".txt", "x%2F..%2Fy.txt")


class _Clock:
    """The simulated site clock: seconds since the epoch, moved forward a random step per action."""

    def __init__(self, start: float, mean_step: float, rng_random: Callable[[], float]) -> None:
        self.now = start
        self.mean_step = mean_step
        self.random = rng_random

    def __call__(self) -> float:
        return self.now

    def tick(self, factor: float = 1.0) -> None:
        self.now += round(self.mean_step * factor * 2 * self.random(), 3)


@dataclass
class _TypePlan:
    """What one issue type of one project needs on create: its level and the fields a create may set."""

    type_id: str
    level: int
    settable: set[str]
    required: set[str]


class IssueBuilder:
    """Adds issue data to a configured scratch site (``generator._Builder`` after ``configure()``)."""

    def __init__(self, builder: _Builder, sizes: IssueSizes) -> None:
        self.b = builder
        self.site = builder.site
        self.rng = builder.rng
        self.sizes = sizes
        created = round(sizes.issues / (1 - sizes.delete_share))
        self.to_create = created
        self.clock = _Clock(START, SPAN_SECONDS / max(1, created * 4), self.rng.random)
        self.site.limits.clock = self.clock
        self.projects: list[dict[str, Any]] = []
        self.plans: dict[str, list[_TypePlan]] = {}
        self.issues: dict[str, list[dict[str, Any]]] = {}  # project id -> created issues {id, key, level, type}
        self.departed = ""
        self.in_open_sprint: set[str] = set()  # issues in a future or active sprint (one open sprint per issue)
        self.sprint_members: dict[int, list[str]] = {}
        self.active_users = [u for u in builder.made.users if (self.site.store.get("users", u) or {}).get("active")]

    # ..................................................................... the steps

    def build(self) -> None:
        """Create everything, in the order a site's history would have it."""
        self.choose_projects()
        self.add_departed_person()
        self.make_creatable()
        self.create_issues()
        self.move_through_workflows()
        self.edit_some()
        self.set_properties()
        self.delete_some()
        self.comments()
        self.worklogs()
        self.links()
        self.watchers_and_votes()
        self.attachments()
        self.sprints()
        self.depart()

    def call(self, method: str, template: str, body: Any = None, *, params: dict[str, Any] | None = None,
             account_id: str | None = None, query: dict[str, str] | None = None) -> Any:
        """A handler call one simulated step after the previous one."""
        self.clock.tick()
        return self.b.call(method, template, body, params=params, account_id=account_id, query=query)

    def choose_projects(self) -> None:
        self.projects = [self.site.store.get("projects", p["id"]) for p in self.b.made.projects[:self.sizes.projects]]

    def add_departed_person(self) -> None:
        """A person who files and owns issues, then leaves: the site deletes the account (``depart``)."""
        from . import seeding

        avatars = next(iter(self.site.store.values("users")))["avatarUrls"]
        self.departed = "557058:" + "d" * 8 + "-dead-4bad-8bad-" + f"{self.b.rng_seed:012d}"[-12:]
        seeding.load_seed(self.site, {"users": [{
            "self": f"{self.site.base_url}{API}/user?accountId={self.departed}", "accountId": self.departed,
            "accountType": "atlassian", "avatarUrls": avatars, "displayName": "Departed Person", "active": True,
            "timeZone": "Europe/Berlin", "locale": "en_US", "emailAddress": "departed@example.test"}]})

    def depart(self) -> None:
        """The person's account is deleted: issues keep the account id, Jira shows a *Former user*."""
        self.site.store.delete("users", self.departed)

    # ..................................................................... a configuration issues can live in

    def make_creatable(self) -> None:
        for project in self.projects:
            self._ensure_epic_type(project)
            plans = []
            for type_id in issue_types_of(self.site, project):
                plan = self._plan(project, type_id)
                if plan is not None:
                    plans.append(plan)
            self.plans[project["id"]] = plans

    def _ensure_epic_type(self, project: dict[str, Any]) -> None:
        from .resources._common import scheme_of
        from .resources.typeschemes import DEFAULT_ISSUE_TYPE_SCHEME

        if EPIC_TYPE in issue_types_of(self.site, project) or self.site.store.get("issueTypes", EPIC_TYPE) is None:
            return
        scheme = scheme_of(project, "issueTypeScheme") or DEFAULT_ISSUE_TYPE_SCHEME
        self.call("PUT", f"{API}/issuetypescheme/{{issueTypeSchemeId}}/issuetype", {"issueTypeIds": [EPIC_TYPE]},
                  params={"issueTypeSchemeId": scheme})

    def _plan(self, project: dict[str, Any], type_id: str) -> _TypePlan | None:
        """Put what ``type_id`` needs on the project's create screen; None when it still can't be created."""
        hidden, required = field_configuration(self.site, project, type_id)
        wanted = (required - {"project", "issuetype"}) | set(ALWAYS_ON_CREATE)
        screen_id, tab_id = self._create_screen(project, type_id)
        checker = FieldChecker(self.site, project, type_id, operation="create")
        for fid in sorted(wanted - checker.allowed):
            if fid in hidden or self.site.store.get("fields", fid) is None:
                continue
            if fid.startswith("customfield_") and context_for(self.site, fid, project["id"], type_id) is None:
                continue
            if screen_id is not None:
                self.call("POST", f"{API}/screens/{{screenId}}/tabs/{{tabId}}/fields", {"fieldId": fid},
                          params={"screenId": screen_id, "tabId": tab_id})
        checker = FieldChecker(self.site, project, type_id, operation="create")
        settable = {f for f in checker.allowed if checker.settable(f)}
        needed = required - {"project", "issuetype"}
        if not needed <= settable or any(self._value(project, type_id, f) is None for f in needed):
            return None
        return _TypePlan(type_id, level_of(self.site, type_id), settable, needed)

    def _create_screen(self, project: dict[str, Any], type_id: str) -> tuple[str | None, str | None]:
        from .resources.screens import DEFAULT_ITSS, itss_of_project

        itss = self.site.store.get("issueTypeScreenSchemes", itss_of_project(project)) or \
            self.site.store.get("issueTypeScreenSchemes", DEFAULT_ITSS) or {}
        mappings = itss.get("_mappings") or {}
        scheme = self.site.store.get("screenSchemes", str(mappings.get(type_id) or mappings.get("default")))
        screens = (scheme or {}).get("screens") or {}
        screen_id = screens.get("create") or screens.get("default")
        if screen_id is None:
            return None, None
        tabs = self.b.call("GET", f"{API}/screens/{{screenId}}/tabs", params={"screenId": screen_id})
        return str(screen_id), str(tabs[0]["id"])

    # ..................................................................... values

    def _text(self, plain: str, share: float = 0.2) -> str:
        if self.b.hostile and self.rng.random() < share:
            return f"{self.rng.choice(HOSTILE_TEXT)} {plain}"
        return plain

    def _summary(self, n: int) -> str:
        plain = f"{self.rng.choice(VERBS)} {self.rng.choice(THINGS)} ({n})"
        return self._text(plain)[:255].replace("\n", " ")

    def _adf(self, paragraphs: int) -> dict[str, Any]:
        content = []
        for p in range(paragraphs):
            text = self._text(f"Paragraph {p + 1}: steps, expected and actual behaviour.", 0.35)
            if self.b.hostile and self.rng.random() < 0.1:
                text += "\nsecond line\tand a tab"
            content.append({"type": "paragraph", "content": [{"type": "text", "text": text}]})
        return {"type": "doc", "version": 1, "content": content}

    def _labels(self) -> list[str]:
        pool = PLAIN_LABELS + (HOSTILE_LABELS if self.b.hostile else ())
        return self.rng.sample(pool, self.rng.randint(0, 3))

    def _person(self) -> dict[str, str]:
        if self.rng.random() < self.sizes.departed_share:
            return {"accountId": self.departed}
        return {"accountId": self.rng.choice(self.active_users or [self.b.admin])}

    def _date(self, days_ahead: int = 120) -> str:
        moment = dt.datetime.fromtimestamp(self.clock.now, dt.UTC) + dt.timedelta(days=self.rng.randint(1, days_ahead))
        return moment.date().isoformat()

    def _project_records(self, coll: str, project: dict[str, Any]) -> list[str]:
        return [str(r["id"]) for r in self.site.store.values(coll) if str(r.get("projectId")) == project["id"]]

    def _value(self, project: dict[str, Any], type_id: str, fid: str) -> Any:
        """A valid request value for ``fid`` in this project and type; None when none can be made."""
        system: dict[str, Callable[[], Any]] = {
            "summary": lambda: self._summary(0), "description": lambda: self._adf(self.rng.randint(1, 3)),
            "environment": lambda: self._adf(1), "labels": lambda: self._labels() or ["triage"],
            "assignee": self._person, "reporter": self._person, "duedate": self._date,
            "priority": lambda: self._priority(project),
            "components": lambda: self._some(self._project_records("components", project)),
            "fixVersions": lambda: self._some(self._project_records("versions", project)),
            "versions": lambda: self._some(self._project_records("versions", project)),
        }
        if fid in system:
            return system[fid]()
        if fid.startswith("customfield_"):
            return self._custom(project, type_id, fid)
        return None

    def _priority(self, project: dict[str, Any]) -> dict[str, str] | None:
        from .resources.typeschemes import priority_ids_for_project

        ids = priority_ids_for_project(self.site, project["id"])
        return {"id": self.rng.choice(ids)} if ids else None

    def _some(self, ids: list[str], most: int = 2) -> list[dict[str, str]] | None:
        return [{"id": i} for i in self.rng.sample(ids, self.rng.randint(1, min(most, len(ids))))] if ids else None

    def _options(self, project: dict[str, Any], type_id: str, fid: str, parent: str | None) -> list[str]:
        context = context_for(self.site, fid, project["id"], type_id)
        cid = context["id"] if context else None
        cache = self.site.extra.setdefault("_genOptions", {})
        if cid not in cache:
            cache[cid] = [o for o in self.site.store.values("fieldOptions") if o.get("_contextId") == cid
                          and not o.get("disabled")]
        return [str(o["id"]) for o in cache[cid] if (o.get("optionId") or None) == parent]

    def _custom(self, project: dict[str, Any], type_id: str, fid: str) -> Any:
        field = self.site.store.get("fields", fid) or {}
        schema = field.get("schema") or {}
        kind, items, custom = schema.get("type"), schema.get("items"), str(schema.get("custom", ""))
        if kind == "string":
            if custom.endswith(":textarea"):
                return self._adf(1)
            if custom.endswith(":url"):
                return f"https://docs.example.test/{self.rng.randint(1, 999)}?q=a&b=<c>"
            return self._text(f"Value {self.rng.randint(1, 999)}")[:255]
        if kind == "number":
            return round(self.rng.uniform(0, 1000), 2)
        if kind == "date":
            return self._date()
        if kind == "datetime":
            return model.jira_time(int(self.clock.now * 1000))
        if kind in ("option", "option-with-child"):
            return self._option_value(project, type_id, fid, kind == "option-with-child")
        if kind == "user":
            return self._person()
        if kind == "group":
            return {"name": self.rng.choice(self.b.made.groups)["name"]} if self.b.made.groups else None
        if kind == "version":
            versions = self._project_records("versions", project)
            return {"id": self.rng.choice(versions)} if versions else None
        if kind == "array":
            return self._custom_list(project, type_id, fid, items)
        return None

    def _option_value(self, project: dict[str, Any], type_id: str, fid: str, cascading: bool) -> Any:
        parents = self._options(project, type_id, fid, None)
        if not parents:
            return None
        chosen: dict[str, Any] = {"id": self.rng.choice(parents)}
        children = self._options(project, type_id, fid, chosen["id"]) if cascading else []
        if children:
            chosen["child"] = {"id": self.rng.choice(children)}
        return chosen

    def _custom_list(self, project: dict[str, Any], type_id: str, fid: str, items: Any) -> Any:
        if items == "option":
            ids = self._options(project, type_id, fid, None)
            return self._some(ids) if ids else None
        if items == "user":
            return [self._person() for _ in range(self.rng.randint(1, 2))]
        if items == "group":
            return [{"name": g["name"]} for g in self.b.pick(self.b.made.groups, 2)] or None
        if items == "version":
            return self._some(self._project_records("versions", project))
        if items == "string":
            return self._labels() or ["tagged"]
        return None

    def _fields(self, project: dict[str, Any], plan: _TypePlan, n: int) -> dict[str, Any]:
        """A create request's fields: every required one, and some of the others on the screen."""
        fields: dict[str, Any] = {"project": {"id": project["id"]}, "issuetype": {"id": plan.type_id},
                                  "summary": self._summary(n)}
        for fid in sorted(plan.settable - {"summary", "parent"}):
            if fid in plan.required or self.rng.random() < (0.6 if fid in ("assignee", "description") else 0.3):
                value = self._value(project, plan.type_id, fid)
                if value is not None:
                    fields[fid] = value
        return fields

    # ..................................................................... issues

    def create_issues(self) -> None:
        per_project = self._spread(self.to_create, len(self.projects))
        for project, count in zip(self.projects, per_project, strict=True):
            self.issues[project["id"]] = []
            plans = self.plans.get(project["id"]) or []
            by_level = {level: [p for p in plans if p.level == level] for level in (1, 0, -1)}
            if not by_level[0]:
                continue
            epics = round(count * self.sizes.epic_share) if by_level[1] else 0
            subtasks = round(count * self.sizes.subtask_share) if by_level[-1] else 0
            for n in range(count):
                level = 1 if n < epics else (-1 if n >= count - subtasks else 0)
                self._create_one(project, self.rng.choice(by_level[level]), n + 1)

    def _spread(self, total: int, parts: int) -> list[int]:
        """``total`` over ``parts``: a long tail (the first projects hold most issues), at least 3 each."""
        weights = [1.0 / (1 + i) for i in range(parts)]
        counts = [max(3, int(total * w / sum(weights))) for w in weights]
        counts[0] += total - sum(counts)
        return counts

    def _create_one(self, project: dict[str, Any], plan: _TypePlan, n: int) -> None:
        made = self.issues[project["id"]]
        fields = self._fields(project, plan, n)
        parent = self._parent_for(made, plan.level)
        if plan.level == -1 and parent is None:
            return
        if parent is not None:
            fields["parent"] = {"id": parent["id"]}
        answer = self.call("POST", f"{API}/issue", {"fields": fields}, account_id=self._person_id())
        made.append({"id": answer["id"], "key": answer["key"], "level": plan.level, "type": plan.type_id,
                     "project": project})

    def _person_id(self) -> str:
        return self.rng.choice(self.active_users or [self.b.admin])

    def _parent_for(self, made: list[dict[str, Any]], level: int) -> dict[str, Any] | None:
        if level == -1:
            candidates = [i for i in made if i["level"] == 0]
            return self.rng.choice(candidates) if candidates else None
        if level == 0 and self.rng.random() < 0.5:
            epics = [i for i in made if i["level"] == 1]
            return self.rng.choice(epics) if epics else None
        return None

    def _all(self) -> list[dict[str, Any]]:
        return [i for rows in self.issues.values() for i in rows]

    def move_through_workflows(self) -> None:
        """Issues reach their statuses along their workflows: one to three transitions each."""
        for issue in self._all():
            if self.rng.random() >= self.sizes.transition_share:
                continue
            for _ in range(self.rng.randint(1, 3)):
                actor = self._person_id()
                options = self.b.call("GET", f"{API}/issue/{{issueIdOrKey}}/transitions",
                                      params={"issueIdOrKey": issue["id"]}, account_id=actor)["transitions"]
                if not options:
                    break
                chosen = self.rng.choice(options)
                self.call("POST", f"{API}/issue/{{issueIdOrKey}}/transitions", {"transition": {"id": chosen["id"]}},
                          params={"issueIdOrKey": issue["id"]}, account_id=actor)

    def edit_some(self) -> None:
        """Edits write history: a new summary, labels added, another assignee (what the edit screen allows)."""
        for issue in self._all():
            if self.rng.random() >= self.sizes.edit_share:
                continue
            project = issue["project"]
            checker = FieldChecker(self.site, project, issue["type"], operation="edit")
            fields: dict[str, Any] = {}
            for fid in ("summary", "assignee", "priority", "duedate"):
                if checker.settable(fid) and self.rng.random() < 0.5:
                    value = self._value(project, issue["type"], fid)
                    if value is not None:
                        fields[fid] = value
            labels = self._labels()[:1]
            update = {"labels": [{"add": labels[0]}]} if labels and checker.settable("labels") else {}
            if fields or update:
                self.call("PUT", f"{API}/issue/{{issueIdOrKey}}", {"fields": fields, "update": update},
                          params={"issueIdOrKey": issue["id"]}, account_id=self._person_id())

    def set_properties(self) -> None:
        for issue in self._all():
            if self.rng.random() < self.sizes.property_share:
                value = {"score": self.rng.randint(0, 100), "note": self._text("checked", 0.5),
                         "tags": self._labels()}
                self.call("PUT", f"{API}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}", value,
                          params={"issueIdOrKey": issue["id"], "propertyKey": "generated.review"})

    def delete_some(self) -> None:
        """Deleted issues leave gaps in the keys; each project's last issue goes too (a gap at the end)."""
        for project in self.projects:
            made = self.issues.get(project["id"]) or []
            if not made:
                continue
            doomed = {i["id"] for i in made if i["level"] != 1 and self.rng.random() < self.sizes.delete_share}
            last = made[-1]
            if last["level"] != 1:
                doomed.add(last["id"])
            for issue in made:
                if issue["id"] in doomed and model.find_issue(self.site, issue["id"]) is not None:
                    self.call("DELETE", f"{API}/issue/{{issueIdOrKey}}",
                              params={"issueIdOrKey": issue["id"]}, query={"deleteSubtasks": "true"})
            self.issues[project["id"]] = [i for i in made if model.find_issue(self.site, i["id"]) is not None]

    # ..................................................................... comments, worklogs, links, people

    def _spread_over_issues(self, total: int) -> list[dict[str, Any]]:
        """``total`` picks of issues, a long tail: a few issues get many, most get few."""
        issues = self._all()
        if not issues or total <= 0:
            return []
        weights = [1.0 / (1 + (n % 50)) for n in range(len(issues))]
        return self.rng.choices(issues, weights, k=total)

    def comments(self) -> None:
        """Comments by several people; some restricted to a group their writer is in (visibility)."""
        groups = [g for g in self.site.store.values("groups") if g.get("_members")]
        for issue in self._spread_over_issues(self.sizes.comments):
            writer = self._person_id()
            body: dict[str, Any] = {"body": self._adf(self.rng.randint(1, 3))}
            if groups and self.rng.random() < 0.08:
                group = self.rng.choice(groups)
                writer = self.rng.choice(group["_members"])
                body["visibility"] = {"type": "group", "identifier": group["groupId"]}
            self.call("POST", f"{API}/issue/{{issueIdOrKey}}/comment", body, params={"issueIdOrKey": issue["id"]},
                      account_id=writer)

    def worklogs(self) -> None:
        for issue in self._spread_over_issues(self.sizes.worklogs):
            started = model.jira_time(int((self.clock.now - self.rng.randint(0, 5 * 86400)) * 1000))
            body: dict[str, Any] = {"started": started, "timeSpentSeconds": 60 * self.rng.randint(5, 600)}
            if self.rng.random() < 0.4:
                body["comment"] = self._adf(1)
            self.call("POST", f"{API}/issue/{{issueIdOrKey}}/worklog", body, params={"issueIdOrKey": issue["id"]},
                      account_id=self._person_id())

    def links(self) -> None:
        """Links of the default types between issues, across projects too; a duplicate is reported as created."""
        issues = self._all()
        if len(issues) < 2:
            return
        for _ in range(self.sizes.links):
            inward, outward = self.rng.sample(issues, 2)
            self.call("POST", f"{API}/issueLink", {"type": {"name": self.rng.choice(LINK_TYPES)},
                                                   "inwardIssue": {"id": inward["id"]},
                                                   "outwardIssue": {"id": outward["id"]}},
                      account_id=self._person_id())

    def watchers_and_votes(self) -> None:
        """Watchers besides the autowatching creator and reporter; votes are each voter's own (not the reporter's)."""
        for issue in self._all():
            if self.rng.random() < self.sizes.watcher_share:
                self.call("POST", f"{API}/issue/{{issueIdOrKey}}/watchers", self._person_id(),
                          params={"issueIdOrKey": issue["id"]})
            if self.rng.random() < self.sizes.vote_share:
                reporter = (model.find_issue(self.site, issue["id"]) or {"fields": {}})["fields"].get("reporter")
                voter = self._person_id()
                if voter != reporter:
                    self.call("POST", f"{API}/issue/{{issueIdOrKey}}/votes", params={"issueIdOrKey": issue["id"]},
                              account_id=voter)

    def attachments(self) -> None:
        """Attachment metadata goes in as seed data; the bytes are generated from (rng seed, id, size) when read,
        so tens of megabytes never pass through the generator or the JSON (``attachmentContent.rngSeed``)."""
        from . import seeding

        by_issue: dict[str, list[dict[str, Any]]] = {}
        for n, issue in enumerate(self._spread_over_issues(self.sizes.attachments)):
            self.clock.tick()
            name, mime = self.rng.choice(MIME_TYPES)
            if self.b.hostile and self.rng.random() < 0.1:
                name = self.rng.choice(HOSTILE_FILE_NAMES)
            by_issue.setdefault(issue["id"], []).append({
                "id": str(self.site.store.next_id("attachment")), "filename": name,
                "author": {"accountId": self._person_id()}, "created": model.jira_time(int(self.clock.now * 1000)),
                "size": self._attachment_size(n), "mimeType": mime})
        if by_issue:
            seeding.load_seed(self.site, {"issueAttachments": by_issue,
                                          "attachmentContent": {"rngSeed": self.b.rng_seed}})

    def _attachment_size(self, n: int) -> int:
        """Mostly small files, some megabytes, one in a hundred near the largest (the first one always)."""
        largest = self.sizes.largest_attachment
        if n == 0 or self.rng.random() < 0.01:
            size = largest - self.rng.randint(0, largest // 10)
        elif self.rng.random() < 0.1:
            size = self.rng.randint(1024 * 1024, max(1024 * 1024 + 1, largest // 4))
        else:
            size = self.rng.randint(1, 512 * 1024)
        return HUGE_ATTACHMENT if n < self.sizes.huge_attachments else size  # drawn all the same: the rest repeats

    # ..................................................................... sprints

    def sprints(self) -> None:
        """Each scrum board: closed sprints, one active, future ones; dates from the simulated clock."""
        from .resources.sprints import _format

        boards = [b for b in self.site.store.values("boards") if b.get("type") == "scrum"]
        week = 7 * 86400
        for board in boards:
            start = START + self.rng.randint(0, 20) * week
            for n in range(self.sizes.sprints_per_board):
                state = "closed" if n < self.sizes.sprints_per_board - 2 else ("active" if n == self.sizes.
                                                                              sprints_per_board - 2 else "future")
                begin = start + n * 2 * week
                name = self._text(f"{board['name'][:200]} Sprint {n + 1}", 0.15)[:255].strip()
                body: dict[str, Any] = {"name": name, "originBoardId": int(board["id"]),
                                        "startDate": _iso(begin), "endDate": _iso(begin + 2 * week)}
                if n % 2:
                    body["goal"] = self._text("Finish what we started", 0.3)
                made = self.call("POST", f"{AGILE}/sprint", body)
                record = self.site.store.collections["sprints"][str(made["id"])]
                record["createdDate"] = _format(dt.datetime.fromtimestamp(begin - 86400, dt.UTC))
                self._fill_sprint(made["id"], board)
                if state in ("active", "closed"):
                    self.call("POST", f"{AGILE}/sprint/{{sprintId}}", {"state": "active"},
                              params={"sprintId": made["id"]})
                if state == "closed":
                    self.call("POST", f"{AGILE}/sprint/{{sprintId}}", {"state": "closed"},
                              params={"sprintId": made["id"]})
                    record["completeDate"] = _format(dt.datetime.fromtimestamp(begin + 2 * week - 3600, dt.UTC))
                    self.in_open_sprint.difference_update(self.sprint_members.get(made["id"], []))


    def _sprint_candidates(self, board: dict[str, Any]) -> list[dict[str, Any]]:
        project_ids = {p["id"] for p in self.projects}
        location = str((board.get("location") or {}).get("projectId") or "")
        chosen = location if location in project_ids else None
        return [i for i in self._all() if i["level"] == 0 and (chosen is None or i["project"]["id"] == chosen)]

    def _fill_sprint(self, sprint_id: int, board: dict[str, Any]) -> None:
        """Put issues (not yet in an open sprint) into the sprint while it is open: at most 50 a call."""
        candidates = [i for i in self._sprint_candidates(board) if i["id"] not in self.in_open_sprint]
        picked = self.b.pick(candidates, self.sizes.sprint_issues)
        for start in range(0, len(picked), 50):
            self.call("POST", f"{AGILE}/sprint/{{sprintId}}/issue",
                      {"issues": [i["key"] for i in picked[start:start + 50]]}, params={"sprintId": sprint_id})
        self.sprint_members[sprint_id] = [i["id"] for i in picked]
        self.in_open_sprint.update(i["id"] for i in picked)


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
