"""Synthetic Jira configurations: seed documents of any size, with real cross-references and hostile names.

The generator builds a scratch site by calling the emulator's own handlers (so every object passes the
same checks a restore will meet: name uniqueness, length limits, key formats, references) and exports
it. The result is a *complete* seed (the site's defaults included), so ``export(load(seed)) == seed``
holds for a site of the same name (``site_name``). Ids and timestamps the handlers draw at random
(workflow UUIDs, ``created``) are rewritten from ``rng_seed``, so one seed number gives one document.
"""

from __future__ import annotations

import itertools
import random
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from werkzeug.datastructures import MultiDict

from . import seeding
from .registry import HANDLERS, Ctx, JiraError, Reply
from .site import Site

API = "/rest/api/3"
AGILE = "/rest/agile/1.0"
CF = "com.atlassian.jira.plugin.system.customfieldtypes:"

# Names that break naive code: markup, SQL, quotes, escapes, right-to-left text, emoji, invisible characters.
HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    "'; DROP TABLE projects; --",
    'Quote "double" and \'single\'',
    "פרויקט בעברית",
    "مشروع الاختبار",
    "Mixed \u202eRTL override\u202c text",
    "Emoji 🚀🔥✅ 👩‍💻",
    "Ünïcødé 日本語 中文 Ελληνικά",
    "Back\\slash \\n \\\" escapes",
    "Percent %s %d {0} ${jndi:ldap}",
    "Amp & <b>bold</b> &amp;",
    "Zero\u200bwidth\u200djoiner",
    "Combining e\u0301 vs é",
    "JQL AND OR NOT = \"x\" ~ !",
    "Slash / path ../../etc",
)
# Free text keeps surrounding whitespace in Jira (names are trimmed): descriptions carry the padding.
HOSTILE_DESCRIPTIONS = ("  leading and trailing spaces  ", "line one\nline two\ttab", "<img src=x onerror=alert(1)>")
WORDS = ("Apollo", "Billing", "Catalog", "Delivery", "Edge", "Falcon", "Gateway", "Harbor", "Identity", "Journey",
         "Kernel", "Ledger", "Mobile", "Nimbus", "Orbit", "Payments", "Quantum", "Radar", "Search", "Titan",
         "Unity", "Vertex", "Web", "Xenon", "Yield", "Zephyr")
FIELD_TYPES = (  # weights reflect what real sites hold: mostly text and selects
    ("textfield", 20), ("textarea", 8), ("select", 18), ("multiselect", 8), ("radiobuttons", 4),
    ("multicheckboxes", 4), ("cascadingselect", 5), ("datepicker", 6), ("datetime", 3), ("float", 6),
    ("userpicker", 5), ("multiuserpicker", 2), ("grouppicker", 1), ("labels", 4), ("url", 3), ("version", 2),
)
OPTION_TYPES = {"select", "multiselect", "radiobuttons", "multicheckboxes", "cascadingselect"}
STATUS_CATEGORIES = ("TODO", "IN_PROGRESS", "DONE")
GADGETS = ("com.atlassian.jira.gadgets:filter-results-gadget", "com.atlassian.jira.gadgets:pie-chart-gadget",
           "com.atlassian.jira.gadgets:assigned-to-me-gadget", "com.atlassian.jira.gadgets:created-vs-resolved-"
           "issues-chart-gadget", "com.atlassian.jira.gadgets:two-dimensional-stats-gadget")
GADGET_COLORS = ("blue", "red", "yellow", "green", "cyan", "purple", "gray", "white")
FIXED_TIME = "2024-03-01T09:00:00.000+0000"


class GenerationError(RuntimeError):
    """The emulator refused something the generator asked for: a generator bug, named with Jira's answer."""


@dataclass(frozen=True)
class Sizes:
    """How many of each object type a generated site holds (``None``: derived from the project count)."""

    projects: int = 200
    custom_fields: int = 1500
    options: int = 20000
    workflows: int = 300
    workflow_schemes: int | None = None
    screens: int | None = None
    screen_schemes: int | None = None
    field_configurations: int | None = None
    permission_schemes: int | None = None
    notification_schemes: int | None = None
    security_schemes: int | None = None
    filters: int = 2000
    dashboards: int | None = None
    boards: int | None = None
    statuses: int | None = None
    issue_types: int | None = None
    users: int | None = None
    groups: int | None = None

    def resolved(self) -> Sizes:
        """Fill the derived counts in: roughly what Jira sites of that many projects hold."""
        p = self.projects
        derived = {
            "workflow_schemes": max(1, min(self.workflows, p * 3 // 4)), "screens": max(2, p * 2),
            "screen_schemes": max(1, p), "field_configurations": max(1, p // 2),
            "permission_schemes": max(1, p // 5), "notification_schemes": max(1, p // 6),
            "security_schemes": max(1, p // 10), "dashboards": max(1, p), "boards": max(1, p * 3 // 2),
            "statuses": max(4, min(200, self.workflows // 2 + 6)), "issue_types": max(2, min(60, p // 5 + 3)),
            "users": max(3, min(400, p + 10)), "groups": max(2, min(120, p // 3 + 2)),
        }
        return Sizes(**{f.name: (getattr(self, f.name) if getattr(self, f.name) is not None else derived[f.name])
                        for f in fields(self)})


PRESETS: dict[str, Sizes] = {
    "small": Sizes(projects=5, custom_fields=12, options=60, workflows=4, workflow_schemes=3, screens=6,
                   screen_schemes=3, field_configurations=3, permission_schemes=2, notification_schemes=2,
                   security_schemes=2, filters=12, dashboards=3, boards=4, statuses=8, issue_types=4, users=8,
                   groups=4),
    "medium": Sizes(projects=40, custom_fields=200, options=2500, workflows=40, filters=300),
    "large": Sizes(),
}


def generate_seed(*, projects: int = 200, custom_fields: int = 1500, options: int = 20000, workflows: int = 300,
                  workflow_schemes: int | None = None, screens: int | None = None,
                  screen_schemes: int | None = None, field_configurations: int | None = None,
                  permission_schemes: int | None = None, notification_schemes: int | None = None,
                  security_schemes: int | None = None, filters: int = 2000, dashboards: int | None = None,
                  boards: int | None = None, statuses: int | None = None, issue_types: int | None = None,
                  users: int | None = None, groups: int | None = None, hostile: bool = True, rng_seed: int = 42,
                  site_name: str = "jira", base_url: str = "http://127.0.0.1") -> dict[str, Any]:
    """A complete seed document for a site named ``site_name``: its defaults plus the generated configuration."""
    sizes = Sizes(projects=projects, custom_fields=custom_fields, options=options, workflows=workflows,
                  workflow_schemes=workflow_schemes, screens=screens, screen_schemes=screen_schemes,
                  field_configurations=field_configurations, permission_schemes=permission_schemes,
                  notification_schemes=notification_schemes, security_schemes=security_schemes, filters=filters,
                  dashboards=dashboards, boards=boards, statuses=statuses, issue_types=issue_types, users=users,
                  groups=groups)
    return _Builder(sizes.resolved(), hostile=hostile, rng_seed=rng_seed, site_name=site_name,
                    base_url=base_url).build()


def generate_preset(name: str, *, hostile: bool = True, rng_seed: int = 42, site_name: str = "jira",
                    base_url: str = "http://127.0.0.1") -> dict[str, Any]:
    """The seed of preset ``name``: a configuration (``small``, ``medium``, ``large``) or one with issue data
    (``issues-small``, ``issues-medium``: ``issue_generator.ISSUE_PRESETS``)."""
    from .issue_generator import ISSUE_PRESETS, IssueBuilder

    if name in ISSUE_PRESETS:
        sizes = ISSUE_PRESETS[name]
        builder = _Builder(PRESETS[sizes.config].resolved(), hostile=hostile, rng_seed=rng_seed,
                           site_name=site_name, base_url=base_url)
        with builder.site.store.lock:
            builder.configure()
            IssueBuilder(builder, sizes).build()
        return _stabilise(seeding.export_site(builder.site), rng_seed)
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join([*PRESETS, *ISSUE_PRESETS])}")
    return _Builder(PRESETS[name].resolved(), hostile=hostile, rng_seed=rng_seed, site_name=site_name,
                    base_url=base_url).build()


# --------------------------------------------------------------------------- names


class _Names:
    """Unique names per namespace (case-insensitively, as Jira compares), a share of them hostile."""

    def __init__(self, rng: random.Random, hostile: bool) -> None:
        self.rng = rng
        self.hostile = hostile
        self.taken: dict[str, set[str]] = {}
        self.served: dict[str, int] = {}

    def reserve(self, namespace: str, names: Iterator[str] | list[str]) -> None:
        """Names that already exist in ``namespace`` (the site's defaults)."""
        self.taken.setdefault(namespace, set()).update(n.casefold() for n in names)

    def take(self, namespace: str, plain: str, max_len: int = 255) -> str:
        """A fresh name: ``plain`` normally; in hostile mode every hostile form once, then one in five."""
        count = self.served.get(namespace, 0)
        self.served[namespace] = count + 1
        candidate = plain
        if self.hostile:
            if count == 1:  # the longest name the type allows, multi-byte characters included
                candidate = self._long(plain, max_len)
            elif 2 <= count < 2 + len(HOSTILE_NAMES) or (count > 2 and self.rng.random() < 0.2):
                pick = HOSTILE_NAMES[count - 2] if count < 2 + len(HOSTILE_NAMES) else self.rng.choice(HOSTILE_NAMES)
                candidate = f"{pick} {plain}"
        return self._unique(namespace, candidate[:max_len].strip(), max_len)

    def _long(self, plain: str, max_len: int) -> str:
        filler = "Ω-長い名前-" * (max_len // 6 + 1)
        return (plain + " " + filler)[:max_len]

    def _unique(self, namespace: str, name: str, max_len: int) -> str:
        taken = self.taken.setdefault(namespace, set())
        candidate, n = name, 1
        while candidate.casefold() in taken or not candidate:
            n += 1
            suffix = f" ({n})"
            candidate = name[:max_len - len(suffix)].rstrip() + suffix
        taken.add(candidate.casefold())
        return candidate

    def description(self, plain: str) -> str:
        if self.hostile and self.rng.random() < 0.15:
            return self.rng.choice(HOSTILE_DESCRIPTIONS)
        return plain


# --------------------------------------------------------------------------- the builder


@dataclass
class _Made:
    """Ids of what has been created so far, for later objects to reference."""

    users: list[str] = field(default_factory=list)
    groups: list[dict[str, str]] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    issue_types: list[str] = field(default_factory=list)
    subtask_types: list[str] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    screens: list[str] = field(default_factory=list)
    screen_schemes: list[str] = field(default_factory=list)
    itss: list[str] = field(default_factory=list)
    field_configurations: list[str] = field(default_factory=list)
    fcs: list[str] = field(default_factory=list)
    workflows: list[str] = field(default_factory=list)
    workflow_schemes: list[str] = field(default_factory=list)
    issue_type_schemes: list[tuple[str, list[str]]] = field(default_factory=list)
    priority_schemes: list[str] = field(default_factory=list)
    permission_schemes: list[str] = field(default_factory=list)
    notification_schemes: list[str] = field(default_factory=list)
    security_schemes: list[str] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    filters: list[dict[str, Any]] = field(default_factory=list)
    dashboards: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, sizes: Sizes, *, hostile: bool, rng_seed: int, site_name: str, base_url: str) -> None:
        self.sizes = sizes
        self.rng = random.Random(rng_seed)
        self.rng_seed = rng_seed
        self.names = _Names(self.rng, hostile)
        self.hostile = hostile
        self.site: Site = seeding.new_site(site_name, base_url)
        self.made = _Made()
        self.admin = next(iter(self.site.store.values("users")))["accountId"]

    # ..................................................................... plumbing

    def call(self, method: str, template: str, body: Any = None, *, params: dict[str, Any] | None = None,
             account_id: str | None = None, query: dict[str, str] | None = None) -> Any:
        """Run the handler of ``method template`` directly (no routing: the generator knows the template)."""
        params = {k: str(v) for k, v in (params or {}).items()}
        path = template.format(**params)
        ctx = Ctx(site=self.site, method=method, path=path, path_params=params, query=MultiDict(query or {}),
                  body=body, account_id=account_id, auth_kind="connect")
        try:
            result = HANDLERS[(method, template)](ctx)
        except JiraError as err:
            raise GenerationError(f"{method} {path} answered {err.status}: {err.body()} for {body!r}"[:2000]) from None
        return result.body if isinstance(result, Reply) else result

    def pick(self, items: list[Any], k: int) -> list[Any]:
        return self.rng.sample(items, min(k, len(items)))

    def build(self) -> dict[str, Any]:
        with self.site.store.lock:
            self.configure()
        return _stabilise(seeding.export_site(self.site), self.rng_seed)

    def configure(self) -> None:
        """Create the configuration on the scratch site (the caller holds the store lock)."""
        for step in (self.people, self.basics, self.custom_fields, self.screens, self.field_configurations,
                     self.workflows, self.type_schemes, self.permission_schemes, self.projects, self.contexts,
                     self.filters, self.boards, self.dashboards):
            step()

    # ..................................................................... people and basics

    def people(self) -> None:
        s, site = self.sizes, self.site
        self.names.reserve("group", [g["name"] for g in site.store.values("groups")])
        for n in range(s.groups):
            made = self.call("POST", f"{API}/group", {"name": self.names.take("group", f"team-{n:03d}")})
            self.made.groups.append({"name": made["name"], "groupId": made["groupId"]})
        users = []
        for n in range(s.users):
            account_id = "557058:" + str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            name = self.names.take("user", f"{self.rng.choice(WORDS)} User {n}")
            users.append({"self": f"{site.base_url}{API}/user?accountId={account_id}", "accountId": account_id,
                          "accountType": "atlassian",
                          "avatarUrls": next(iter(site.store.values("users")))["avatarUrls"],
                          "displayName": name, "active": n % 17 != 16, "timeZone": "Europe/Berlin",
                          "locale": "en_US", "emailAddress": f"user{n}@example.test"})
        members = {g["groupId"]: [{"accountId": u["accountId"]} for u in self.pick(users, 1 + len(users) // 4)]
                   for g in self.made.groups}
        # Apps can't create users; a captured site simply has them, so they come in as seed.
        seeding.load_seed(site, {"users": users, "groupMembers": members})
        self.made.users = [u["accountId"] for u in users]
        self.names.reserve("role", [r["name"] for r in site.store.values("projectRoles")])
        for plain in ("Developers", "Testers", "Stakeholders"):
            made = self.call("POST", f"{API}/role", {"name": self.names.take("role", plain),
                                                     "description": self.names.description(f"{plain} of a project")})
            self.made.roles.append(str(made["id"]))
        self.made.roles += [str(r["id"]) for r in site.store.values("projectRoles")
                            if r["name"] != "atlassian-addons-project-access" and str(r["id"]) not in self.made.roles]

    def basics(self) -> None:
        s, site = self.sizes, self.site
        for n in range(max(2, s.projects // 12)):
            made = self.call("POST", f"{API}/projectCategory",
                             {"name": self.names.take("category", f"{WORDS[n % len(WORDS)]} division {n}"),
                              "description": self.names.description("Projects of one division")})
            self.made.categories.append(made["id"])
        self.names.reserve("linktype", [t["name"] for t in site.store.values("issueLinkTypes")])
        for verb in ("Causes", "Implements"):
            self.call("POST", f"{API}/issueLinkType", {"name": self.names.take("linktype", verb, 255),
                                                       "inward": f"is {verb.lower()[:-1]}ed by",
                                                       "outward": verb.lower()})
        self.names.reserve("status", [st["name"] for st in site.store.values("statuses")])
        self.made.statuses = [{"id": st["id"], "statusCategory": st["statusCategory"]}
                              for st in site.store.values("statuses")]
        batch = [{"name": self.names.take("status", f"{self.rng.choice(WORDS)} stage {n}"),
                  "statusCategory": STATUS_CATEGORIES[n % 3], "description": self.names.description("A step")}
                 for n in range(s.statuses)]
        for start in range(0, len(batch), 50):
            made = self.call("POST", f"{API}/statuses",
                             {"scope": {"type": "GLOBAL"}, "statuses": batch[start:start + 50]})
            self.made.statuses += [{"id": st["id"], "statusCategory": st["statusCategory"]} for st in made]
        self.names.reserve("issuetype", [t["name"] for t in site.store.values("issueTypes")])
        for t in site.store.values("issueTypes"):
            (self.made.subtask_types if t["hierarchyLevel"] == -1 else self.made.issue_types).append(t["id"])
        for n in range(s.issue_types):
            subtask = n % 4 == 3
            made = self.call("POST", f"{API}/issuetype", {
                "name": self.names.take("issuetype", f"{self.rng.choice(WORDS)} {'Sub-item' if subtask else 'Item'}"
                                                     f" {n}", 60),
                "description": self.names.description("A kind of work"), "type": "subtask" if subtask else "standard"})
            (self.made.subtask_types if subtask else self.made.issue_types).append(made["id"])

    # ..................................................................... custom fields and options

    def custom_fields(self) -> None:
        s = self.sizes
        kinds, weights = zip(*FIELD_TYPES, strict=True)
        option_fields = []
        for n in range(s.custom_fields):
            kind = "cascadingselect" if n == 0 else ("select" if n == 1 else self.rng.choices(kinds, weights)[0])
            # Field names need not be unique in Jira: a few deliberate namesakes test name-based matching.
            plain = f"{self.rng.choice(WORDS)} {kind} {n}" if n % 97 != 50 else "Customer"
            name = self.names.take("field", plain) if plain != "Customer" else "Customer"
            made = self.call("POST", f"{API}/field", {"name": name, "type": CF + kind,
                                                      "description": self.names.description(f"A {kind} field")})
            record = {"id": made["id"], "kind": kind, "name": made["name"], "contexts": [], "options": {}}
            self.made.fields.append(record)
            if kind in OPTION_TYPES:
                option_fields.append(record)
        for record in self.made.fields:
            contexts = self.call("GET", f"{API}/field/{{fieldId}}/context", params={"fieldId": record["id"]})
            record["contexts"] = [c["id"] for c in contexts["values"]]
        self._spread_options(option_fields, s.options)

    def _spread_options(self, option_fields: list[dict[str, Any]], total: int) -> None:
        """Distribute ``total`` options over the option fields' global contexts, a long tail like real sites."""
        if not option_fields or total <= 0:
            return
        weights = [1.0 / (1 + i % 40) for i in range(len(option_fields))]
        scale = total / sum(weights)
        budget = [max(2, int(w * scale)) for w in weights]
        budget[0] += max(0, total - sum(budget))
        for record, count in zip(option_fields, budget, strict=True):
            self._add_options(record, record["contexts"][0], count)

    def _add_options(self, record: dict[str, Any], context_id: str, count: int) -> None:
        cascading = record["kind"] == "cascadingselect"
        parents = max(1, count // 4) if cascading else count
        values = self._option_values(parents)
        made: list[dict[str, Any]] = []
        for start in range(0, len(values), 1000):
            made += self.call("POST", f"{API}/field/{{fieldId}}/context/{{contextId}}/option",
                              {"options": [{"value": v, "disabled": self.rng.random() < 0.03}
                                           for v in values[start:start + 1000]]},
                              params={"fieldId": record["id"], "contextId": context_id})["options"]
        children: list[dict[str, Any]] = []
        if cascading:
            for parent in made:
                per = max(1, (count - parents) // parents)
                children += [{"value": v, "optionId": parent["id"]} for v in self._option_values(per)]
            for start in range(0, len(children), 1000):
                self.call("POST", f"{API}/field/{{fieldId}}/context/{{contextId}}/option",
                          {"options": children[start:start + 1000]},
                          params={"fieldId": record["id"], "contextId": context_id})
        record["options"][context_id] = made

    def _option_values(self, count: int) -> list[str]:
        names = _Names(self.rng, self.hostile)
        return [names.take("option", f"{self.rng.choice(WORDS)} {n}") for n in range(count)]

    # ..................................................................... screens

    def screens(self) -> None:
        s = self.sizes
        customs = [f["id"] for f in self.made.fields]
        system = ("summary", "issuetype", "description", "priority", "assignee", "labels", "duedate",
                  "components", "fixVersions", "environment")
        self.names.reserve("screen", [x["name"] for x in self.site.store.values("screens")])
        for n in range(s.screens):
            made = self.call("POST", f"{API}/screens", {"name": self.names.take("screen", f"Screen {n}"),
                                                        "description": self.names.description("A screen")})
            sid = made["id"]
            self.made.screens.append(str(sid))
            tabs = self.call("GET", f"{API}/screens/{{screenId}}/tabs", params={"screenId": sid})
            tab_ids = [tabs[0]["id"]]
            tab_names = _Names(self.rng, self.hostile)
            for t in range(self.rng.randint(0, 2)):
                tab = self.call("POST", f"{API}/screens/{{screenId}}/tabs",
                                {"name": tab_names.take("tab", f"Details {t}")}, params={"screenId": sid})
                tab_ids.append(tab["id"])
            chosen = list(system[:self.rng.randint(3, len(system))]) + self.pick(customs, self.rng.randint(2, 12))
            for index, field_id in enumerate(chosen):
                self.call("POST", f"{API}/screens/{{screenId}}/tabs/{{tabId}}/fields", {"fieldId": field_id},
                          params={"screenId": sid, "tabId": tab_ids[index % len(tab_ids)]})
        screens = self.made.screens
        self.names.reserve("screenscheme", [x["name"] for x in self.site.store.values("screenSchemes")])
        for n in range(s.screen_schemes):
            chosen = {"default": int(self.rng.choice(screens))}
            for op in ("create", "edit", "view"):
                if self.rng.random() < 0.5:
                    chosen[op] = int(self.rng.choice(screens))
            made = self.call("POST", f"{API}/screenscheme", {"name": self.names.take("screenscheme", f"Screens {n}"),
                                                             "screens": chosen})
            self.made.screen_schemes.append(str(made["id"]))
        self.names.reserve("itss", [x["name"] for x in self.site.store.values("issueTypeScreenSchemes")])
        for n in range(max(1, s.screen_schemes * 3 // 4)):
            mappings = [{"issueTypeId": "default", "screenSchemeId": self.rng.choice(self.made.screen_schemes)}]
            mappings += [{"issueTypeId": t, "screenSchemeId": self.rng.choice(self.made.screen_schemes)}
                         for t in self.pick(self.made.issue_types, self.rng.randint(0, 3))]
            made = self.call("POST", f"{API}/issuetypescreenscheme",
                             {"name": self.names.take("itss", f"Issue screens {n}"), "issueTypeMappings": mappings})
            self.made.itss.append(str(made["id"]))

    # ..................................................................... field configurations

    def field_configurations(self) -> None:
        s = self.sizes
        customs = [f["id"] for f in self.made.fields]
        self.names.reserve("fc", [x["name"] for x in self.site.store.values("fieldConfigurations")])
        for n in range(s.field_configurations):
            made = self.call("POST", f"{API}/fieldconfiguration",
                             {"name": self.names.take("fc", f"Fields {n}"), "description": self.names.description("")})
            fc_id = str(made["id"])
            self.made.field_configurations.append(fc_id)
            items = [{"id": "labels", "isRequired": self.rng.random() < 0.3, "description": "Keywords"}]
            items += [{"id": f, "isHidden": True} for f in self.pick(customs, self.rng.randint(0, 4))]
            items += [{"id": f, "isRequired": True, "description": self.names.description("Needed for triage")}
                      for f in self.pick(customs, self.rng.randint(0, 3)) if f not in {i["id"] for i in items}]
            self.call("PUT", f"{API}/fieldconfiguration/{{id}}/fields", {"fieldConfigurationItems": items},
                      params={"id": fc_id})
        self.names.reserve("fcs", [x["name"] for x in self.site.store.values("fieldConfigurationSchemes")])
        for n in range(max(1, s.field_configurations * 3 // 4)):
            made = self.call("POST", f"{API}/fieldconfigurationscheme",
                             {"name": self.names.take("fcs", f"Field scheme {n}"), "description": ""})
            configurations = self.made.field_configurations
            mappings = [{"issueTypeId": "default", "fieldConfigurationId": self.rng.choice(configurations)}]
            mappings += [{"issueTypeId": t, "fieldConfigurationId": self.rng.choice(self.made.field_configurations)}
                         for t in self.pick(self.made.issue_types, self.rng.randint(0, 3))]
            self.call("PUT", f"{API}/fieldconfigurationscheme/{{id}}/mapping", {"mappings": mappings},
                      params={"id": made["id"]})
            self.made.fcs.append(str(made["id"]))

    # ..................................................................... workflows

    def workflows(self) -> None:
        s = self.sizes
        by_category = {c: [st["id"] for st in self.made.statuses if st["statusCategory"] == c]
                       for c in STATUS_CATEGORIES}
        self.names.reserve("workflow", [w["name"] for w in self.site.store.values("workflows")])
        for n in range(s.workflows):
            first = self.rng.choice(by_category["TODO"])
            middle = self.pick(by_category["IN_PROGRESS"], self.rng.randint(0, 3))
            chosen = list(dict.fromkeys([first, *middle, self.rng.choice(by_category["DONE"])]))
            refs = [f"s{sid}" for sid in chosen]
            transitions: list[dict[str, Any]] = [{"id": "1", "name": "Create", "type": "INITIAL",
                                                  "toStatusReference": refs[0], "links": []}]
            tid = 11
            for frm, to in itertools.pairwise(refs):
                transitions.append({"id": str(tid), "name": f"Move {tid}", "type": "DIRECTED", "toStatusReference": to,
                                    "links": [{"fromStatusReference": frm, "fromPort": 0, "toPort": 1}]})
                tid += 10
            transitions.append({"id": str(tid), "name": self.names.take(f"transition{n}", "Reopen", 60),
                                "type": "GLOBAL", "toStatusReference": refs[0], "links": []})
            name = self.names.take("workflow", f"{self.rng.choice(WORDS)} flow {n}")
            payload = {"scope": {"type": "GLOBAL"},
                       "statuses": [{"statusReference": f"s{sid}", "id": sid,
                                     "name": self.site.store.get("statuses", sid)["name"],
                                     "statusCategory": self.site.store.get("statuses", sid)["statusCategory"]}
                                    for sid in chosen],
                       "workflows": [{"name": name, "description": self.names.description("How work moves"),
                                      "statuses": [{"statusReference": r, "properties": {}} for r in refs],
                                      "transitions": transitions}]}
            self.call("POST", f"{API}/workflows/create", payload)
            self.made.workflows.append(name)
        self.names.reserve("wfs", [w["name"] for w in self.site.store.values("workflowSchemes")])
        for n in range(s.workflow_schemes):
            mappings = {t: self.rng.choice(self.made.workflows)
                        for t in self.pick(self.made.issue_types + self.made.subtask_types, self.rng.randint(0, 4))}
            made = self.call("POST", f"{API}/workflowscheme", {
                "name": self.names.take("wfs", f"Workflow scheme {n}"), "description": self.names.description(""),
                "defaultWorkflow": self.rng.choice(self.made.workflows), "issueTypeMappings": mappings})
            self.made.workflow_schemes.append(str(made["id"]))

    # ..................................................................... issue type and priority schemes

    def type_schemes(self) -> None:
        s = self.sizes
        self.names.reserve("its", [x["name"] for x in self.site.store.values("issueTypeSchemes")])
        for n in range(max(1, s.projects // 3)):
            types = self.pick(self.made.issue_types, self.rng.randint(1, 5)) + self.pick(self.made.subtask_types, 1)
            made = self.call("POST", f"{API}/issuetypescheme", {
                "name": self.names.take("its", f"Types {n}"), "description": self.names.description(""),
                "issueTypeIds": types, "defaultIssueTypeId": types[0]})
            self.made.issue_type_schemes.append((str(made["issueTypeSchemeId"]), types))
        priorities = [p["id"] for p in self.site.store.values("priorities")]
        self.names.reserve("ps", [x["name"] for x in self.site.store.values("prioritySchemes")])
        for n in range(max(1, s.projects // 10)):
            chosen = sorted(self.pick(priorities, self.rng.randint(2, len(priorities))), key=int)
            made = self.call("POST", f"{API}/priorityscheme", {
                "name": self.names.take("ps", f"Priorities {n}"), "description": self.names.description(""),
                "priorityIds": [int(p) for p in chosen], "defaultPriorityId": int(chosen[-1])})
            self.made.priority_schemes.append(str(made["id"]))

    # ..................................................................... permission, notification, security

    def _holder(self) -> dict[str, Any]:
        kind = self.rng.choice(("group", "projectRole", "projectRole", "user", "projectLead", "anyone"))
        if kind == "group":
            return {"type": "group", "value": self.rng.choice(self.made.groups)["groupId"]}
        if kind == "projectRole":
            return {"type": "projectRole", "value": self.rng.choice(self.made.roles)}
        if kind == "user":
            return {"type": "user", "value": self.rng.choice(self.made.users)}
        return {"type": kind}

    def permission_schemes(self) -> None:
        from .resources.schemes import EVENTS, PROJECT_PERMISSIONS

        s = self.sizes
        user_fields = [f["id"] for f in self.made.fields if f["kind"] == "userpicker"]
        self.names.reserve("perm", [x["name"] for x in self.site.store.values("permissionSchemes")])
        for n in range(s.permission_schemes):
            grants, seen = [], set()
            for permission in self.pick(list(PROJECT_PERMISSIONS), self.rng.randint(8, 25)):
                for _ in range(self.rng.randint(1, 2)):
                    holder = self._holder()
                    key = (permission, tuple(sorted(holder.items())))
                    if key not in seen:
                        seen.add(key)
                        grants.append({"permission": permission, "holder": holder})
            if user_fields:
                grants.append({"permission": "BROWSE_PROJECTS",
                               "holder": {"type": "userCustomField", "parameter": self.rng.choice(user_fields)}})
            made = self.call("POST", f"{API}/permissionscheme", {
                "name": self.names.take("perm", f"Permissions {n}"), "description": self.names.description(""),
                "permissions": grants})
            self.made.permission_schemes.append(str(made["id"]))
        self.names.reserve("notif", [x["name"] for x in self.site.store.values("notificationSchemes")])
        for n in range(s.notification_schemes):
            events = []
            for event in self.pick(sorted(EVENTS), self.rng.randint(3, 10)):
                kinds = self.pick(["CurrentAssignee", "Reporter", "AllWatchers", "Group", "ProjectRole", "User"],
                                  self.rng.randint(1, 3))
                events.append({"event": {"id": str(event)}, "notifications": [self._notification(k) for k in kinds]})
            made = self.call("POST", f"{API}/notificationscheme", {
                "name": self.names.take("notif", f"Notifications {n}"), "description": self.names.description(""),
                "notificationSchemeEvents": events})
            self.made.notification_schemes.append(str(made["id"]))
        self.names.reserve("sec", [x["name"] for x in self.site.store.values("issueSecuritySchemes")])
        for n in range(s.security_schemes):
            level_names = _Names(self.rng, self.hostile)
            levels = [{"name": level_names.take("level", plain), "description": self.names.description(""),
                       "isDefault": i == 0, "members": [self._security_member() for _ in range(self.rng.randint(1, 3))]}
                      for i, plain in enumerate(self.pick(["Staff", "Managers", "Security team", "Customers",
                                                            "Legal"], self.rng.randint(1, 4)))]
            for level in levels:  # a holder once per level
                level["members"] = list({repr(sorted(m.items())): m for m in level["members"]}.values())
            made = self.call("POST", f"{API}/issuesecurityschemes", {
                "name": self.names.take("sec", f"Security {n}", 60), "description": self.names.description(""),
                "levels": levels})
            self.made.security_schemes.append(str(made["id"]))

    def _notification(self, kind: str) -> dict[str, Any]:
        if kind == "Group":
            return {"notificationType": kind, "parameter": self.rng.choice(self.made.groups)["groupId"]}
        if kind == "ProjectRole":
            return {"notificationType": kind, "parameter": self.rng.choice(self.made.roles)}
        if kind == "User":
            return {"notificationType": kind, "parameter": self.rng.choice(self.made.users)}
        return {"notificationType": kind}

    def _security_member(self) -> dict[str, Any]:
        kind = self.rng.choice(("reporter", "group", "projectRole", "user", "assignee"))
        if kind == "group":
            return {"type": kind, "parameter": self.rng.choice(self.made.groups)["name"]}
        if kind == "projectRole":
            return {"type": kind, "parameter": self.rng.choice(self.made.roles)}
        if kind == "user":
            return {"type": kind, "parameter": self.rng.choice(self.made.users)}
        return {"type": kind}

    # ..................................................................... projects

    def _project_key(self, n: int) -> str:
        letters = string.ascii_uppercase
        head = letters[n % 26] + letters[(n // 26) % 26]
        return head + ("" if n < 676 else str(n // 676))

    def projects(self) -> None:
        s = self.sizes
        for n in range(s.projects):
            key = self._project_key(n) if n % 7 else self._project_key(n) + "X" + str(n % 10)
            its_id, types = self.rng.choice(self.made.issue_type_schemes)
            body: dict[str, Any] = {
                "key": key, "name": self.names.take("project", f"{WORDS[n % len(WORDS)]} {n}", 80),
                "projectTypeKey": self.rng.choice(("software", "software", "business", "service_desk")),
                "leadAccountId": self.rng.choice(self.made.users),
                "description": self.names.description(f"Project {n}"),
                "assigneeType": self.rng.choice(("PROJECT_LEAD", "UNASSIGNED")),
                "permissionScheme": int(self.rng.choice(self.made.permission_schemes)),
                "notificationScheme": int(self.rng.choice(self.made.notification_schemes)),
                "workflowScheme": int(self.rng.choice(self.made.workflow_schemes)),
                "issueTypeScheme": int(its_id),
                "issueTypeScreenScheme": int(self.rng.choice(self.made.itss)),
                "fieldConfigurationScheme": int(self.rng.choice(self.made.fcs)),
            }
            if n % 3:
                body["categoryId"] = int(self.rng.choice(self.made.categories))
            if n % 4 == 1:
                body["issueSecurityScheme"] = int(self.rng.choice(self.made.security_schemes))
            if n % 5 == 2:
                body["url"] = f"https://wiki.example.test/{key.lower()}"
            made = self.call("POST", f"{API}/project", body)
            pid = str(made["id"])
            self.made.projects.append({"id": pid, "key": made["key"], "types": types})
            if n % 4 == 0 and self.made.priority_schemes:
                self.call("PUT", f"{API}/priorityscheme/{{schemeId}}",
                          {"projects": {"add": {"ids": [int(pid)]}}},
                          params={"schemeId": self.rng.choice(self.made.priority_schemes)})
            self._project_children(pid, key)

    def _project_children(self, pid: str, key: str) -> None:
        names = _Names(self.rng, self.hostile)
        for c in range(self.rng.randint(0, 6)):
            body: dict[str, Any] = {"projectId": int(pid), "name": names.take("component", f"Component {c}"),
                                    "description": self.names.description("")}
            if c % 2:
                body |= {"leadAccountId": self.rng.choice(self.made.users), "assigneeType": "COMPONENT_LEAD"}
            self.call("POST", f"{API}/component", body)
        for v in range(self.rng.randint(0, 8)):
            body = {"projectId": int(pid), "name": names.take("version", f"{1 + v // 3}.{v % 3}.0"),
                    "description": self.names.description(""), "released": v < 3, "archived": v == 0,
                    "startDate": f"2023-{1 + v:02d}-01", "releaseDate": f"2023-{1 + v:02d}-20"}
            self.call("POST", f"{API}/version", body)
        for role in self.pick(self.made.roles, self.rng.randint(1, 3)):
            self.call("POST", f"{API}/project/{{projectIdOrKey}}/role/{{id}}",
                      {"user": self.pick(self.made.users, self.rng.randint(0, 3)),
                       "groupId": [g["groupId"] for g in self.pick(self.made.groups, self.rng.randint(1, 2))]},
                      params={"projectIdOrKey": key, "id": role})

    # ..................................................................... contexts restricted to projects

    def contexts(self) -> None:
        """Some option fields get project contexts of their own (with options and defaults), as real sites do."""
        candidates = [f for f in self.made.fields if f["kind"] in OPTION_TYPES]
        for record in candidates[: max(1, len(candidates) // 6)]:
            projects = self.pick(self.made.projects, self.rng.randint(1, 3))
            types = sorted({t for p in projects for t in p["types"]} & set(self.made.issue_types))[:2]
            made = self.call("POST", f"{API}/field/{{fieldId}}/context", {
                "name": self.names.take(f"context-{record['id']}", "Project context"), "description": "",
                "projectIds": [p["id"] for p in projects], "issueTypeIds": types}, params={"fieldId": record["id"]})
            record["contexts"].append(made["id"])
            self._add_options(record, made["id"], self.rng.randint(3, 12))
        defaults = []
        for record in candidates:
            for context_id, options in record["options"].items():
                if not options or self.rng.random() < 0.5:
                    continue
                if record["kind"] in ("multiselect", "multicheckboxes"):
                    defaults.append({"type": "option.multiple", "contextId": context_id,
                                     "optionIds": [o["id"] for o in options[:2]]})
                elif record["kind"] == "cascadingselect":
                    parent = options[0]
                    child = next(o for o in self.site.store.values("fieldOptions") if o.get("optionId") == parent["id"])
                    defaults.append({"type": "option.cascading", "contextId": context_id, "optionId": parent["id"],
                                     "cascadingOptionId": child["id"]})
                else:
                    defaults.append({"type": "option.single", "contextId": context_id, "optionId": options[0]["id"]})
            if defaults:
                self.call("PUT", f"{API}/field/{{fieldId}}/context/defaultValue", {"defaultValues": defaults},
                          params={"fieldId": record["id"]})
                defaults = []

    # ..................................................................... filters, boards, dashboards

    def _jql(self) -> str:
        projects = self.pick(self.made.projects, self.rng.randint(1, 3))
        clauses = [f"project in ({', '.join(p['key'] for p in projects)})"]
        with_options = [f for f in self.made.fields if f["options"]]
        if with_options and self.rng.random() < 0.7:
            record = self.rng.choice(with_options)
            option = self.rng.choice(next(iter(record["options"].values())))
            value = option["value"].replace("\\", "\\\\").replace('"', '\\"')
            clauses.append(f'cf[{record["id"].removeprefix("customfield_")}] = "{value}"')
        if self.rng.random() < 0.4:
            record = self.rng.choice(self.made.fields)
            clauses.append(f"{record['id']} is not EMPTY")
        if self.rng.random() < 0.3:
            clauses.append('status in ("To Do", "In Progress")')
        return " AND ".join(clauses) + self.rng.choice(("", " ORDER BY created DESC", " ORDER BY Rank ASC"))

    def _share(self) -> dict[str, Any]:
        kind = self.rng.choice(("group", "project", "projectRole", "user", "loggedin"))
        if kind == "group":
            return {"type": "group", "group": {"name": self.rng.choice(self.made.groups)["name"]}}
        if kind == "project":
            return {"type": "project", "project": {"id": self.rng.choice(self.made.projects)["id"]}}
        if kind == "projectRole":
            return {"type": "projectRole", "project": {"id": self.rng.choice(self.made.projects)["id"]},
                    "role": {"id": int(self.rng.choice(self.made.roles))}}
        if kind == "user":
            return {"type": "user", "user": {"accountId": self.rng.choice(self.made.users)}}
        return {"type": "loggedin"}

    def _shares(self, most: int) -> list[dict[str, Any]]:
        out = {repr(sorted(str(x) for x in share.items())): share
               for share in (self._share() for _ in range(self.rng.randint(0, most)))}
        return list(out.values())

    def filters(self) -> None:
        for n in range(self.sizes.filters):
            owner = self.rng.choice([*self.made.users, self.admin])
            made = self.call("POST", f"{API}/filter", {
                "name": self.names.take(f"filter-{owner}", f"{self.rng.choice(WORDS)} filter {n}"),
                "description": self.names.description(f"Saved search {n}"), "jql": self._jql(),
                "sharePermissions": self._shares(2), "editPermissions": [] if n % 5 else self._shares(1)},
                account_id=owner)
            self.made.filters.append({"id": made["id"], "owner": owner})

    def boards(self) -> None:
        for n in range(self.sizes.boards):
            flt = self.rng.choice(self.made.filters)
            body: dict[str, Any] = {"name": self.names.take("board", f"{self.rng.choice(WORDS)} board {n}"),
                                    "type": "scrum" if n % 3 else "kanban", "filterId": int(flt["id"])}
            if n % 4:
                body["location"] = {"type": "project", "projectKeyOrId": self.rng.choice(self.made.projects)["key"]}
            self.call("POST", f"{AGILE}/board", body)

    def dashboards(self) -> None:
        for n in range(self.sizes.dashboards):
            owner = self.rng.choice([*self.made.users, self.admin])
            made = self.call("POST", f"{API}/dashboard", {
                "name": self.names.take(f"dashboard-{owner}", f"{self.rng.choice(WORDS)} dashboard {n}"),
                "description": self.names.description(""), "sharePermissions": self._shares(2),
                "editPermissions": []}, account_id=owner)
            for g in range(self.rng.randint(1, 5)):
                self.call("POST", f"{API}/dashboard/{{dashboardId}}/gadget", {
                    "moduleKey": self.rng.choice(GADGETS),
                    "title": self.names.take(f"gadget-{made['id']}", f"Gadget {g}"),
                    "color": self.rng.choice(GADGET_COLORS), "position": {"row": g // 2, "column": g % 2}},
                    params={"dashboardId": made["id"]})
            self.made.dashboards.append(str(made["id"]))


# --------------------------------------------------------------------------- determinism


def _stabilise(seed: dict[str, Any], rng_seed: int) -> dict[str, Any]:
    """Replace what the handlers drew at random (workflow UUIDs, creation times) by values from ``rng_seed``."""
    renames: dict[str, str] = {}
    for wf in seed.get("workflows", []):
        if wf.get("created") is None:
            continue  # the site's built-in workflow is already stable
        for old, salt in ((wf["id"], "id"), (wf.get("version", {}).get("id"), "version")):
            if old:
                renames[old] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"fakejira-gen:{rng_seed}:{wf['name']}:{salt}"))
        wf["created"] = wf["updated"] = FIXED_TIME
    return _rewrite(seed, renames) if renames else seed


def _rewrite(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(k, k): _rewrite(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, renames) for v in value]
    if isinstance(value, str):
        return renames.get(value, value)
    return value


# --------------------------------------------------------------------------- the demo site


def demo_seed(*, site_name: str = "jira", base_url: str = "http://127.0.0.1") -> dict[str, Any]:
    """A small, hand-shaped software company (``seeds/demo.json`` is this, written out)."""
    b = _Builder(PRESETS["small"].resolved(), hostile=False, rng_seed=7, site_name=site_name, base_url=base_url)
    with b.site.store.lock:
        _Demo(b).build()
    return _stabilise(seeding.export_site(b.site), 7)


class _Demo:
    """Nimbus Software: web, mobile, API, ops, support and data teams, and one hostile project name."""

    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        self.call = builder.call

    def build(self) -> None:
        users = self.people()
        statuses = self.statuses()
        types = {t["name"]: t["id"] for t in self.b.site.store.values("issueTypes")}
        for name, desc in (("Improvement", "An improvement to an existing feature."),
                           ("Incident", "Something broke in production."), ("Spike", "Time-boxed research.")):
            types[name] = self.call("POST", f"{API}/issuetype", {"name": name, "description": desc,
                                                                 "type": "standard"})["id"]
        fields = self.fields()
        screens = self.screens(fields)
        fcs = self.field_configurations(fields, types)
        workflows = self.workflows(statuses)
        schemes = self.schemes(types, workflows, screens, fcs, users)
        projects = self.projects(users, schemes)
        self.contexts(fields, projects, types)
        self.sharing(users, projects, fields)

    def people(self) -> dict[str, str]:
        names = ("Alice Chen", "Bob Okafor", "Carla Mendes", "Dmitri Ivanov", "Zoë O'Brien-Ångström", "محمد العلي")
        users = []
        for n, name in enumerate(names):
            account_id = "557058:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"fakejira-demo-user:{name}"))
            users.append({"self": f"{self.b.site.base_url}{API}/user?accountId={account_id}", "accountId": account_id,
                          "accountType": "atlassian",
                          "avatarUrls": next(iter(self.b.site.store.values("users")))["avatarUrls"],
                          "displayName": name, "active": True, "timeZone": "Europe/Lisbon", "locale": "en_US",
                          "emailAddress": f"{name.split()[0].lower().replace('ë', 'e')}{n}@nimbus.example"})
        groups = {g: self.call("POST", f"{API}/group", {"name": g})["groupId"]
                  for g in ("developers", "qa", "product", "support")}
        members = {groups["developers"]: users[:4], groups["qa"]: users[2:4], groups["product"]: users[4:5],
                   groups["support"]: users[4:]}
        seeding.load_seed(self.b.site, {"users": users, "groupMembers": {
            gid: [{"accountId": u["accountId"]} for u in us] for gid, us in members.items()}})
        out = {u["displayName"]: u["accountId"] for u in users} | {f"group:{k}": v for k, v in groups.items()}
        out["role:Developers"] = str(self.call("POST", f"{API}/role", {
            "name": "Developers", "description": "People who write the code"})["id"])
        out["role:Administrators"] = next(str(r["id"]) for r in self.b.site.store.values("projectRoles")
                                          if r["name"] == "Administrators")
        return out

    def statuses(self) -> dict[str, str]:
        made = self.call("POST", f"{API}/statuses", {"scope": {"type": "GLOBAL"}, "statuses": [
            {"name": "In Review", "statusCategory": "IN_PROGRESS", "description": "Waiting for a code review"},
            {"name": "QA", "statusCategory": "IN_PROGRESS", "description": "Being tested"},
            {"name": "Blocked", "statusCategory": "TODO", "description": "Waiting on something else"},
            {"name": "Released", "statusCategory": "DONE", "description": "Shipped to customers"}]})
        return {s["name"]: s["id"] for s in [*self.b.site.store.values("statuses"), *made]}

    def fields(self) -> dict[str, dict[str, Any]]:
        specs = (("Customer Tier", "select", ["Gold", "Silver", "Bronze"]),
                 ("Platform", "cascadingselect", {"Web": ["Chrome", "Firefox", "Safari"], "Mobile": ["iOS", "Android"],
                                                  "Desktop": ["Windows", "macOS", "Linux"]}),
                 ("Severity", "radiobuttons", ["S1 - Critical", "S2 - Major", "S3 - Minor", "S4 - Cosmetic"]),
                 ("Release Train", "select", ["2024.1", "2024.2", "2024.3"]),
                 ("Affected Teams", "multiselect", ["Web", "Mobile", "API", "Ops"]),
                 ("Story Notes", "textarea", None), ("Customer Impact Score", "float", None),
                 ("Go-live date", "datepicker", None), ("QA Owner", "userpicker", None),
                 ('<b>Legacy</b> "Code" field', "textfield", None))
        out = {}
        for name, kind, options in specs:
            made = self.call("POST", f"{API}/field", {"name": name, "type": CF + kind, "description": f"{name}."})
            context = self.call("GET", f"{API}/field/{{fieldId}}/context", params={"fieldId": made["id"]})
            record = {"id": made["id"], "context": context["values"][0]["id"], "options": {}}
            opt = f"{API}/field/{{fieldId}}/context/{{contextId}}/option"
            params = {"fieldId": made["id"], "contextId": record["context"]}
            if isinstance(options, list):
                made_options = self.call("POST", opt, {"options": [{"value": v} for v in options]}, params=params)
                record["options"] = {o["value"]: o["id"] for o in made_options["options"]}
            elif isinstance(options, dict):
                parents = self.call("POST", opt, {"options": [{"value": v} for v in options]}, params=params)
                for parent in parents["options"]:
                    record["options"][parent["value"]] = parent["id"]
                    children = self.call("POST", opt, {"options": [
                        {"value": v, "optionId": parent["id"]} for v in options[parent["value"]]]}, params=params)
                    record["options"] |= {f"{parent['value']}/{c['value']}": c["id"] for c in children["options"]}
            out[name] = record
        defaults = {"Customer Tier": {"type": "option.single", "optionId": out["Customer Tier"]["options"]["Silver"]},
                    "Platform": {"type": "option.cascading", "optionId": out["Platform"]["options"]["Web"],
                                 "cascadingOptionId": out["Platform"]["options"]["Web/Chrome"]},
                    "Severity": {"type": "option.single", "optionId": out["Severity"]["options"]["S3 - Minor"]}}
        for name, value in defaults.items():
            self.call("PUT", f"{API}/field/{{fieldId}}/context/defaultValue",
                      {"defaultValues": [{**value, "contextId": out[name]["context"]}]},
                      params={"fieldId": out[name]["id"]})
        return out

    def screens(self, fields: dict[str, dict[str, Any]]) -> dict[str, str]:
        layout = {"Dev: Create / Edit": {"Field Tab": ["summary", "issuetype", "description", "priority", "assignee"],
                                         "Details": [fields[n]["id"] for n in ("Customer Tier", "Platform",
                                                                               "Release Train", "Story Notes")]},
                  "Dev: View": {"Field Tab": ["summary", "description", "labels", "fixVersions", "components"],
                                "Customer": [fields[n]["id"] for n in ("Customer Tier", "Affected Teams",
                                                                       "Customer Impact Score")]},
                  "Incident Screen": {"Field Tab": ["summary", "description", fields["Severity"]["id"], "duedate",
                                                    fields["QA Owner"]["id"], fields["Go-live date"]["id"]]}}
        out = {}
        for name, tabs in layout.items():
            sid = self.call("POST", f"{API}/screens", {"name": name, "description": f"{name} screen"})["id"]
            first = self.call("GET", f"{API}/screens/{{screenId}}/tabs", params={"screenId": sid})[0]["id"]
            for index, (tab, field_ids) in enumerate(tabs.items()):
                tab_id = first if index == 0 else self.call("POST", f"{API}/screens/{{screenId}}/tabs",
                                                            {"name": tab}, params={"screenId": sid})["id"]
                for field_id in field_ids:
                    self.call("POST", f"{API}/screens/{{screenId}}/tabs/{{tabId}}/fields", {"fieldId": field_id},
                              params={"screenId": sid, "tabId": tab_id})
            out[name] = str(sid)
        out["scheme:dev"] = str(self.call("POST", f"{API}/screenscheme", {
            "name": "Development Screen Scheme",
            "screens": {"default": int(out["Dev: Create / Edit"]), "view": int(out["Dev: View"])}})["id"])
        out["scheme:incident"] = str(self.call("POST", f"{API}/screenscheme", {
            "name": "Incident Screen Scheme", "screens": {"default": int(out["Incident Screen"])}})["id"])
        return out

    def field_configurations(self, fields: dict[str, dict[str, Any]], types: dict[str, str]) -> dict[str, str]:
        strict = str(self.call("POST", f"{API}/fieldconfiguration", {
            "name": "Strict Dev Fields", "description": "Platform and tier are required"})["id"])
        self.call("PUT", f"{API}/fieldconfiguration/{{id}}/fields", {"fieldConfigurationItems": [
            {"id": fields["Platform"]["id"], "isRequired": True, "description": "Where does it happen?"},
            {"id": fields["Customer Tier"]["id"], "isRequired": True},
            {"id": fields['<b>Legacy</b> "Code" field']["id"], "isHidden": True}]}, params={"id": strict})
        support = str(self.call("POST", f"{API}/fieldconfiguration", {"name": "Support Fields"})["id"])
        self.call("PUT", f"{API}/fieldconfiguration/{{id}}/fields", {"fieldConfigurationItems": [
            {"id": fields["Severity"]["id"], "isRequired": True, "description": "S1 pages the on-call engineer"}]},
            params={"id": support})
        scheme = self.call("POST", f"{API}/fieldconfigurationscheme", {"name": "Software Field Scheme",
                                                                        "description": "Stricter for bugs"})["id"]
        self.call("PUT", f"{API}/fieldconfigurationscheme/{{id}}/mapping", {"mappings": [
            {"issueTypeId": "default", "fieldConfigurationId": "10000"},
            {"issueTypeId": types["Bug"], "fieldConfigurationId": strict},
            {"issueTypeId": types["Incident"], "fieldConfigurationId": support}]}, params={"id": scheme})
        return {"scheme": str(scheme)}

    def workflows(self, st: dict[str, str]) -> dict[str, str]:
        flows = {"Software Development": ["To Do", "In Progress", "In Review", "QA", "Done"],
                 "Incident Response": ["To Do", "In Progress", "Blocked", "Done"],
                 "Simple Review": ["To Do", "In Review", "Done"],
                 "Release Flow": ["To Do", "In Progress", "QA", "Released"]}
        for name, steps in flows.items():
            refs = [f"s{st[s]}" for s in steps]
            transitions: list[dict[str, Any]] = [{"id": "1", "name": "Create", "type": "INITIAL",
                                                  "toStatusReference": refs[0], "links": []}]
            for index, (frm, to) in enumerate(itertools.pairwise(refs)):
                transitions.append({"id": str(11 + 10 * index), "name": f"To {steps[index + 1]}", "type": "DIRECTED",
                                    "toStatusReference": to,
                                    "links": [{"fromStatusReference": frm, "fromPort": 0, "toPort": 1}]})
            transitions.append({"id": "91", "name": "Back to backlog", "type": "GLOBAL", "toStatusReference": refs[0],
                                "links": []})
            store = self.b.site.store
            self.call("POST", f"{API}/workflows/create", {
                "scope": {"type": "GLOBAL"},
                "statuses": [{"statusReference": f"s{st[s]}", "id": st[s], "name": s,
                              "statusCategory": store.get("statuses", st[s])["statusCategory"]} for s in steps],
                "workflows": [{"name": name, "description": f"{name} at Nimbus",
                               "statuses": [{"statusReference": r, "properties": {}} for r in refs],
                               "transitions": transitions}]})
        return {name: name for name in flows}

    def schemes(self, types: dict[str, str], wf: dict[str, str], screens: dict[str, str], fcs: dict[str, str],
                users: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"fcs": fcs["scheme"]}
        out["wfs:software"] = self.call("POST", f"{API}/workflowscheme", {
            "name": "Software Workflow Scheme", "description": "Development with code review",
            "defaultWorkflow": wf["Software Development"],
            "issueTypeMappings": {types["Improvement"]: wf["Simple Review"],
                                  types["Spike"]: wf["Simple Review"]}})["id"]
        out["wfs:ops"] = self.call("POST", f"{API}/workflowscheme", {
            "name": "Operations Workflow Scheme", "defaultWorkflow": wf["Incident Response"],
            "issueTypeMappings": {types["Task"]: wf["Release Flow"]}})["id"]
        out["its:software"] = self.call("POST", f"{API}/issuetypescheme", {
            "name": "Software Issue Types", "issueTypeIds": [types[t] for t in ("Story", "Bug", "Task", "Epic",
                                                                                  "Sub-task", "Improvement", "Spike")],
            "defaultIssueTypeId": types["Story"]})["issueTypeSchemeId"]
        out["its:ops"] = self.call("POST", f"{API}/issuetypescheme", {
            "name": "Operations Issue Types", "issueTypeIds": [types["Incident"], types["Task"], types["Sub-task"]],
            "defaultIssueTypeId": types["Incident"]})["issueTypeSchemeId"]
        out["itss"] = self.call("POST", f"{API}/issuetypescreenscheme", {
            "name": "Software Issue Type Screen Scheme", "issueTypeMappings": [
                {"issueTypeId": "default", "screenSchemeId": screens["scheme:dev"]},
                {"issueTypeId": types["Incident"], "screenSchemeId": screens["scheme:incident"]}]})["id"]
        out["ps"] = self.call("POST", f"{API}/priorityscheme", {
            "name": "Support Priorities", "description": "No 'Lowest' for customers", "priorityIds": [1, 2, 3, 4],
            "defaultPriorityId": 3})["id"]
        dev, admin = users["role:Developers"], users["role:Administrators"]
        grants = [("BROWSE_PROJECTS", {"type": "group", "value": users["group:developers"]}),
                  ("BROWSE_PROJECTS", {"type": "group", "value": users["group:qa"]}),
                  ("CREATE_ISSUES", {"type": "projectRole", "value": dev}),
                  ("EDIT_ISSUES", {"type": "projectRole", "value": dev}),
                  ("TRANSITION_ISSUES", {"type": "projectRole", "value": dev}),
                  ("ASSIGNABLE_USER", {"type": "projectRole", "value": dev}),
                  ("ADMINISTER_PROJECTS", {"type": "projectRole", "value": admin}),
                  ("ADMINISTER_PROJECTS", {"type": "user", "value": users["Alice Chen"]}),
                  ("RESOLVE_ISSUES", {"type": "projectLead"})]
        out["perm:eng"] = self.call("POST", f"{API}/permissionscheme", {
            "name": "Engineering Permissions", "description": "Developers work, admins administer",
            "permissions": [{"permission": p, "holder": h} for p, h in grants]})["id"]
        out["perm:customer"] = self.call("POST", f"{API}/permissionscheme", {
            "name": "Customer-facing Permissions", "permissions": [
                {"permission": "BROWSE_PROJECTS", "holder": {"type": "group", "value": users["group:support"]}},
                {"permission": "ADD_COMMENTS", "holder": {"type": "group", "value": users["group:support"]}},
                {"permission": "CREATE_ISSUES", "holder": {"type": "anyone"}}]})["id"]
        out["notif"] = self.call("POST", f"{API}/notificationscheme", {
            "name": "Engineering Notifications", "description": "Quiet unless it matters", "notificationSchemeEvents": [
                {"event": {"id": "1"}, "notifications": [{"notificationType": "ProjectLead"},
                                                         {"notificationType": "Group",
                                                          "parameter": users["group:qa"]}]},
                {"event": {"id": "3"}, "notifications": [{"notificationType": "CurrentAssignee"}]},
                {"event": {"id": "4"}, "notifications": [{"notificationType": "Reporter"},
                                                         {"notificationType": "AllWatchers"}]}]})["id"]
        out["sec"] = self.call("POST", f"{API}/issuesecurityschemes", {
            "name": "Customer Data", "description": "Who may see customer data", "levels": [
                {"name": "Internal only", "description": "Staff", "isDefault": True,
                 "members": [{"type": "group", "parameter": "developers"}, {"type": "reporter"}]},
                {"name": "Security team", "description": "Incident handlers only",
                 "members": [{"type": "user", "parameter": users["Dmitri Ivanov"]}, {"type": "assignee"}]}]})["id"]
        return out

    def projects(self, users: dict[str, str], sc: dict[str, Any]) -> dict[str, str]:
        cats = {name: self.call("POST", f"{API}/projectCategory", {"name": name, "description": desc})["id"]
                for name, desc in (("Engineering", "Product engineering"), ("Customer Facing", "Support and success"),
                                   ("Internal", "Tools and data"))}
        specs = (("WEB", "Web Platform", "Engineering", "Alice Chen", "software", "software"),
                 ("MOB", "Mobile Apps", "Engineering", "Bob Okafor", "software", "software"),
                 ("API", "Public API", "Engineering", "Carla Mendes", "software", "software"),
                 ("OPS", "Operations", "Internal", "Dmitri Ivanov", "software", "ops"),
                 ("SUP", "Customer Support", "Customer Facing", "Zoë O'Brien-Ångström", "service_desk", "ops"),
                 ("DATA", "Data & Analytics", "Internal", "محمد العلي", "business", "software"),
                 ("SEC", 'Security 🔒 <Audit> "Red Team"', "Internal", "Dmitri Ivanov", "software", "ops"))
        out = {}
        for key, name, cat, lead, ptype, flavour in specs:
            body = {"key": key, "name": name, "projectTypeKey": ptype, "leadAccountId": users[lead],
                    "description": f"{name} at Nimbus Software", "assigneeType": "PROJECT_LEAD",
                    "categoryId": int(cats[cat]), "workflowScheme": int(sc[f"wfs:{flavour}"]),
                    "issueTypeScheme": int(sc[f"its:{flavour}"]), "issueTypeScreenScheme": int(sc["itss"]),
                    "fieldConfigurationScheme": int(sc["fcs"]), "notificationScheme": int(sc["notif"]),
                    "permissionScheme": int(sc["perm:customer" if ptype == "service_desk" else "perm:eng"])}
            if key in ("SUP", "SEC"):
                body["issueSecurityScheme"] = int(sc["sec"])
            pid = str(self.call("POST", f"{API}/project", body)["id"])
            out[key] = pid
            for component in {"WEB": ["Frontend", "Checkout", "Accessibility"], "MOB": ["iOS", "Android"],
                              "API": ["REST", "Webhooks", "Auth"], "OPS": ["Monitoring", "CI/CD"],
                              "SUP": ["Billing questions"], "DATA": ["Pipelines"], "SEC": []}[key]:
                self.call("POST", f"{API}/component", {"projectId": int(pid), "name": component,
                                                       "leadAccountId": users[lead], "assigneeType": "COMPONENT_LEAD"})
            if ptype == "software":
                for index, version in enumerate(("1.0", "1.1", "2.0")):
                    self.call("POST", f"{API}/version", {
                        "projectId": int(pid), "name": version, "released": index < 2, "archived": index == 0,
                        "startDate": f"2024-0{2 * index + 1}-01", "releaseDate": f"2024-0{2 * index + 2}-15",
                        "description": f"{name} {version}"})
            self.call("POST", f"{API}/project/{{projectIdOrKey}}/role/{{id}}",
                      {"groupId": [users["group:developers"]], "user": [users[lead]]},
                      params={"projectIdOrKey": key, "id": users["role:Developers"]})
        self.call("PUT", f"{API}/priorityscheme/{{schemeId}}", {"projects": {"add": {"ids": [int(out["SUP"])]}}},
                  params={"schemeId": sc["ps"]})
        return out

    def contexts(self, fields: dict[str, dict[str, Any]], projects: dict[str, str], types: dict[str, str]) -> None:
        field = fields["Release Train"]
        made = self.call("POST", f"{API}/field/{{fieldId}}/context", {
            "name": "Mobile release trains", "description": "Mobile ships on its own schedule",
            "projectIds": [projects["MOB"]], "issueTypeIds": [types["Story"], types["Bug"]]},
            params={"fieldId": field["id"]})
        options = self.call("POST", f"{API}/field/{{fieldId}}/context/{{contextId}}/option",
                            {"options": [{"value": "M-24.1"}, {"value": "M-24.2"}]},
                            params={"fieldId": field["id"], "contextId": made["id"]})["options"]
        self.call("PUT", f"{API}/field/{{fieldId}}/context/defaultValue", {"defaultValues": [
            {"type": "option.single", "contextId": made["id"], "optionId": options[1]["id"]}]},
            params={"fieldId": field["id"]})

    def sharing(self, users: dict[str, str], projects: dict[str, str], fields: dict[str, dict[str, Any]]) -> None:
        tier, platform = fields["Customer Tier"]["id"].removeprefix("customfield_"), fields["Platform"]["id"]
        specs = (("Alice Chen", "Web bugs", "project = WEB AND issuetype = Bug ORDER BY priority DESC",
                  [{"type": "project", "project": {"id": projects["WEB"]}}]),
                 ("Alice Chen", "Release blockers", 'project in (WEB, MOB, API) AND status = Blocked',
                  [{"type": "group", "group": {"name": "developers"}}]),
                 ("Zoë O'Brien-Ångström", "Gold customer incidents",
                  f'project = SUP AND cf[{tier}] = "Gold" AND issuetype = Incident',
                  [{"type": "group", "group": {"name": "support"}}]),
                 ("Bob Okafor", "Mobile on Android", f'{platform} in cascadeOption("Mobile", "Android")', []),
                 ("Dmitri Ivanov", 'Ops "on-call" <queue>', "project = OPS AND resolution = Unresolved",
                  [{"type": "loggedin"}]))
        filters = {}
        for owner, name, jql, shares in specs:
            filters[name] = self.call("POST", f"{API}/filter", {"name": name, "jql": jql, "description": name,
                                                                 "sharePermissions": shares},
                                      account_id=users[owner])["id"]
        for name, kind, flt, key in (("WEB board", "scrum", "Web bugs", "WEB"), ("Mobile board", "scrum",
                                                                                  "Release blockers", "MOB"),
                                     ("Ops board", "kanban", 'Ops "on-call" <queue>', "OPS")):
            self.call("POST", f"{AGILE}/board", {"name": name, "type": kind, "filterId": int(filters[flt]),
                                                 "location": {"type": "project", "projectKeyOrId": key}})
        dash = self.call("POST", f"{API}/dashboard", {
            "name": "Engineering Overview", "description": "What engineering looks at every morning",
            "sharePermissions": [{"type": "group", "group": {"name": "developers"}}], "editPermissions": []},
            account_id=users["Alice Chen"])["id"]
        for index, (module, title, color) in enumerate((
                (GADGETS[0], "Release blockers", "red"), (GADGETS[1], "Bugs by platform", "blue"),
                (GADGETS[2], "Assigned to me", "green"))):
            self.call("POST", f"{API}/dashboard/{{dashboardId}}/gadget", {
                "moduleKey": module, "title": title, "color": color,
                "position": {"row": index // 2, "column": index % 2}}, params={"dashboardId": dash})
