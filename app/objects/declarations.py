"""One declaration per Jira object type: where its captured JSON refers to other objects, what is the server's own.

Each ``Declaration`` describes the objects of one snapshot type as the backup captures them (the catalogue's
readers, app/backups/catalogue.py): every path that holds a reference and what it names (``refs``), the values Jira
assigns by itself and that differ between sites without meaning anything (``volatile``: ids, links, avatars), the
lists whose order carries no meaning (``unordered``), the sub-objects other objects refer to by id (``provides``:
a project's versions and components, a context's options, a security scheme's levels), and how an object is named
when its snapshot key holds an id (``key``).

A test (tests/objects/test_declarations.py) canonicalises a hostile site's every object and fails on any id-shaped
value left at a path no declaration covers, so a new reference can't slip through unmapped and unverified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .references import Ref, kinds, targets

# Dropped at every depth: links and pictures, never configuration.
LINKS = frozenset({"self", "avatarUrls", "iconUrl", "view", "expand", "url"})


@dataclass(frozen=True)
class SubObjects:
    """Objects kept inside another type's objects that other objects name by id (a project's versions...)."""

    kind: str
    path: str  # a list path, e.g. "versions[]"
    label: Callable[[dict[str, Any], dict[str, Any]], str]  # (owner object, sub-object) -> its name
    id_field: str = "id"


@dataclass(frozen=True)
class Declaration:
    type_key: str
    noun: str  # "group", "project": how differences name the type's objects
    refs: tuple[Ref, ...] = ()
    volatile: tuple[str, ...] = ("id",)
    unordered: tuple[str, ...] = ()
    provides: tuple[SubObjects, ...] = ()
    # The object's name across sites when the snapshot's natural key holds an id; gets (object, names of
    # references) where names(kind, id) gives the referenced object's name on the same site.
    key: Callable[[dict[str, Any], Callable[[str, str], str]], str] | None = None
    # Where an object not found under its key may be found instead: a filter under another owner is the same
    # filter with its owner differing (the difference says so) rather than a missing filter and an extra one.
    loose_key: Callable[[dict[str, Any]], str] | None = None
    # Lists the restore only adds to: the destination's extra entries (a new site's admin in its default groups,
    # every issue type in the default issue type scheme) are noted, not differences. Gets the source object.
    additive: Callable[[dict[str, Any]], tuple[str, ...]] = lambda _obj: ()
    # Parts Jira's API can't write (path prefix -> what to do by hand): a difference there is a known wall.
    walls: tuple[tuple[str, str], ...] = ()
    # Puts an object's equivalent forms into one (applied to the object as read, before anything else).
    settle: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def wall(self, path: str) -> str:
        """The hand-fix for a difference at ``path``, when it lies behind one of the type's walls ('' otherwise)."""
        return next((fix for prefix, fix in self.walls if path == prefix or path.startswith((f"{prefix}.",
                                                                                             f"{prefix}[",
                                                                                             f"{prefix} "))), "")

    def entry_names(self) -> dict[str, str | None]:
        """Each unordered list path with the member that names its entries (``name`` where entries have one)."""
        return {path: ENTRY_NAMES.get(f"{self.type_key}.{path}") for path in self.unordered}

    def comes_after(self) -> set[str]:
        """The types whose objects must be restored (and matched) before this type's — and read before it by a
        backup: every type a written reference names, less back links and the parts of other objects (a version or
        an option is ordered per object, after its parent, when a run starts: a type-level edge there would close
        a cycle, workflows -> versions -> projects). The one dependency order of backup, restore and preview."""
        found = {kind for ref in self._ordering() for kind in ref.kinds if kind not in OWNER_OF}
        return found - {"users", self.type_key}

    def depends_on(self) -> set[str]:
        """The types whose objects this type's objects name (sub-object kinds map to their owner's type)."""
        found = {OWNER_OF.get(kind, kind) for ref in self._ordering() for kind in ref.kinds}
        return found - {"users", self.type_key}

    def names(self) -> set[str]:
        """Every type whose objects' names this type's objects hold (what comparing them needs read)."""
        return {OWNER_OF.get(kind, kind) for ref in self.refs for kind in ref.kinds} - {"users", self.type_key}

    def _ordering(self) -> list[Ref]:
        return [ref for ref in self.refs if not ref.back and ref.written]

    def references(self, obj: dict[str, Any]) -> list[tuple[str, str, bool]]:
        """What an object needs restored before it, as (type, id, optional): every target of a written reference
        (people aside: they are matched, not restored; parts of objects aside: ordered per object with their
        owner). A target named both ways is required."""
        found: dict[tuple[str, str], bool] = {}
        for ref in self._ordering():
            for kind, value in targets(obj, (ref,), jql=True):
                if kind in DECLARATIONS and kind != "users":  # not a person, a part of an object, a sprint
                    found[(kind, value)] = found.get((kind, value), True) and ref.optional
        return [(kind, value, optional) for (kind, value), optional in found.items()]

    def targets(self, obj: dict[str, Any]) -> set[tuple[str, str]]:
        """Every (kind, id) an object of this type names, wherever it holds it (JQL and references by name too)."""
        return set(targets(obj, self.refs, jql=True))


BOARD_SETTINGS = ("Board columns, estimation, ranking and sub-filter have no public API: set them by hand in the "
                  "board's settings.")

# Members naming the entries of unordered lists, so two sites' entries pair up and differ member by member.
ENTRY_NAMES = {
    "projects.components": "name", "projects.roleActors": "name", "issueSecuritySchemes.levels": "name",
    "fieldConfigurations.items": "id", "notificationSchemes.notificationSchemeEvents": "event",
    "fieldConfigurationSchemes.mappings": "issueTypeId", "issueTypeScreenSchemes.mappings": "issueTypeId",
}

# Sub-object kinds and the type whose objects hold them.
OWNER_OF = {"versions": "projects", "components": "projects", "options": "fieldContexts",
            "securityLevels": "issueSecuritySchemes", "users": "users"}


# -- kinds decided by the enclosing object ---------------------------------------------------------------------


@kinds("customFields")
def field_kind(_parent: dict[str, Any], value: str) -> str | None:
    """A field id: custom fields are references, system fields (summary, duedate...) are literals."""
    return "customFields" if value.startswith("customfield_") else None


@kinds("customFields")
def numeric_field(_parent: dict[str, Any], value: str) -> tuple[str, str] | None:
    """A custom field named by its number alone (a board's rank field)."""
    return ("customFields", f"customfield_{value}") if value.isdigit() else None


_HOLDER_KINDS = {"group": "groups", "projectRole": "projectRoles", "user": "users",
                 "userCustomField": "customFields", "groupCustomField": "customFields"}


@kinds(*set(_HOLDER_KINDS.values()))
def holder_value_kind(parent: dict[str, Any], _value: str) -> str | None:
    """A permission / security-level holder's ``value``: what it names depends on the holder's type."""
    return _HOLDER_KINDS.get(str(parent.get("type")))


@kinds(*set(_HOLDER_KINDS.values()))
def holder_parameter_kind(parent: dict[str, Any], _value: str) -> str | None:
    """A holder's ``parameter``: a group's *name* (a literal), otherwise the same id as ``value``."""
    kind = _HOLDER_KINDS.get(str(parent.get("type")))
    return None if kind == "groups" else kind


_NOTIFICATION_KINDS = {"Group": "groups", "ProjectRole": "projectRoles", "User": "users",
                       "UserCustomField": "customFields", "GroupCustomField": "customFields"}


@kinds(*set(_NOTIFICATION_KINDS.values()))
def notification_kind(parent: dict[str, Any], _value: str) -> str | None:
    return _NOTIFICATION_KINDS.get(str(parent.get("notificationType")))


@kinds("issueTypes")
def issue_type_kind(_parent: dict[str, Any], value: str) -> str | None:
    """An issue type id in a scheme mapping; ``default`` stands for every other type."""
    return None if value == "default" else "issueTypes"


# What JQL may name (app/restore/jql.py knows which clause names which kind).
JQL_NAMES = kinds("projects", "issueTypes", "statuses", "priorities", "resolutions", "versions", "components",
                  "options", "customFields", "groups", "users", "projectRoles", "filters")(lambda _p, _v: None)

# What a gadget's configuration may name (the gadget form resolves each id by what holds it).
GADGET_CONFIG = kinds("filters", "projects", "customFields", "issueTypes", "statuses", "priorities",
                      "resolutions", "versions", "components", "options", "users", "groups")(lambda _p, _v: None)


# What a custom field's values name, by its schema's type (or its array's items): option ids for select lists...
FIELD_VALUE_KINDS = {"option": "options", "option-with-child": "options", "version": "versions",
                     "project": "projects", "user": "users", "group": "groups"}


def field_value_kind(field: dict[str, Any]) -> str | None:
    """What a custom field's values name (``options``, ``versions``...), from its schema; None: not ids."""
    schema = field.get("schema") or {}
    raw = schema.get("items") if schema.get("type") == "array" else schema.get("type")
    return FIELD_VALUE_KINDS.get(str(raw))


# -- workflow rules ----------------------------------------------------------------------------------------------

# Rule parameters (spec: GET /workflows/capabilities, the catalogue of Atlassian-provided rules) -> the kind of object
# their comma-separated values name ("fields": a custom field, or a system field that is the same everywhere).
# Permission keys are Jira's built-in keys, the same on every site. The restore maps rules by this table too.
RULE_PARAMETER_KINDS = {
    "roleIds": "projectRoles", "groupIds": "groups", "groupsExemptFromValidation": "groups", "accountIds": "users",
    "accountId": "users", "agentId": "users", "groupCustomFields": "fields", "allowUserCustomFields": "fields",
    "denyUserCustomFields": "fields", "fieldsRequired": "fields", "fieldKey": "fields", "fieldId": "fields",
    "date1FieldKey": "fields", "date2FieldKey": "fields", "sourceFieldKey": "fields", "targetFieldKey": "fields",
    "field": "fields", "remindingFieldIds": "fields", "statusIds": "statuses", "previousStatusIds": "statuses",
    "fromStatusId": "statuses", "toStatusId": "statuses", "screenId": "screens",
}
# Values of user parameters that name no one in particular.
GENERIC_USER_VALUES = frozenset({"allow-assignee", "allow-reporter", "accountIds"})
# update-field: what ``value`` names when ``field`` is one of these system fields (custom fields: by their type).
UPDATE_FIELD_VALUES = {"resolution": "resolutions", "priority": "priorities", "assignee": "users",
                       "reporter": "users", "issuetype": "issueTypes", "fixVersions": "versions",
                       "versions": "versions", "components": "components"}


@kinds("users")
def _user_value(_parent: dict[str, Any], value: str) -> str | None:
    return None if value in GENERIC_USER_VALUES else "users"


RULE_PARAMETERS: dict[str, str | Callable[[dict[str, Any], str], Any]] = {
    name: field_kind if kind == "fields" else _user_value if kind == "users" else kind
    for name, kind in RULE_PARAMETER_KINDS.items()
}


# A custom field's value, named as ``"<field id>:<value>"``: what it names (an option, a version, a person...)
# follows from the field's type, which each site's resolver knows (``field_value``).
FIELD_VALUE = "fieldValue"


def field_value(reference: str) -> tuple[str, str]:
    """A ``FIELD_VALUE`` reference's custom field id and value."""
    field_id, _, value = reference.partition(":")
    return field_id, value


# (A project picker's value is no type-level dependency: projects follow workflows through their schemes; such a
# value is ordered per object when a run starts, as parts of objects are.)
@kinds("options", "groups", *set(UPDATE_FIELD_VALUES.values()))
def update_field_value_kind(parent: dict[str, Any], value: str) -> str | tuple[str, str] | None:
    """``system:update-field``'s ``value``: a custom field's value (an option, a version... by the field's type),
    or what a system field holds."""
    field_id = str(parent.get("field") or "")
    if field_id.startswith("customfield_"):
        return FIELD_VALUE, f"{field_id}:{value}"
    return UPDATE_FIELD_VALUES.get(field_id)


@kinds("options")
def check_field_value_kind(parent: dict[str, Any], _value: str) -> str | None:
    """``system:check-field-value``'s ``fieldValue``: option ids when compared by option id."""
    return "options" if parent.get("comparisonType") == "OPTIONID" else None


# Where rules sit in a workflow; ``conditionGroups[]*`` reaches every depth of nested condition groups.
RULE_LISTS = ("transitions[].actions[]", "transitions[].validators[]",
              "transitions[].conditions.conditionGroups[]*.conditions[]", "transitions[].transitionScreen")


# The references of one rule (paths from the rule): every parameter naming something, the value update-field sets
# (comma-separated for multi-value fields) and the options check-field-value compares with. A rule's references
# name people in particular: no stand-in takes their place.
RULE_REFS: tuple[Ref, ...] = (
    *(Ref(f"parameters.{name}", kind, "csv", optional=True, stand_in=False)
      for name, kind in RULE_PARAMETERS.items()),
    Ref("parameters.value", update_field_value_kind, "csv", optional=True, stand_in=False),
    Ref("parameters.fieldValue", check_field_value_kind, "json", optional=True),
)


def _rule_refs() -> tuple[Ref, ...]:
    return tuple(replace(ref, path=f"{where}.{ref.path}") for where in RULE_LISTS for ref in RULE_REFS)


# -- the declarations --------------------------------------------------------------------------------------------


def _share_refs(prefix: str) -> tuple[Ref, ...]:
    return (Ref(f"{prefix}[].group.groupId", "groups", optional=True),
            Ref(f"{prefix}[].project.id", "projects", optional=True),
            Ref(f"{prefix}[].role.id", "projectRoles", optional=True), Ref(f"{prefix}[].user.accountId", "users"))


def _board_key(obj: dict[str, Any], names: Callable[[str, str], str]) -> str:
    """Name, type and project: its filter's name holds the filter's owner, who may differ across sites."""
    project = (obj.get("location") or {}).get("projectId")
    where = f" in {names('projects', str(project))}" if project is not None else ""
    return f"{obj.get('name')} ({obj.get('type')}){where}"


def _by_name(obj: dict[str, Any]) -> str:
    return str(obj.get("name", "")).casefold()


def _status_key(obj: dict[str, Any], names: Callable[[str, str], str]) -> str:
    scope = obj.get("scope") or {}
    project = (scope.get("project") or {}).get("id")
    where = f" in {names('projects', str(project))}" if scope.get("type") == "PROJECT" and project else ""
    return f"{obj.get('name')} ({obj.get('statusCategory')}){where}"


def _options_by_parent(context: dict[str, Any]) -> dict[str, Any]:
    """A context's options as parents in their order, each followed by its children in theirs: where Jira lists
    a cascading list's children (after every parent, or after their own) says nothing about the configuration."""
    options = context.get("options")
    if not isinstance(options, list):
        return context
    parents = [o for o in options if not (isinstance(o, dict) and o.get("optionId"))]
    ordered = []
    for parent in parents:
        ordered.append(parent)
        ordered += [o for o in options if isinstance(o, dict) and o.get("optionId") is not None
                    and isinstance(parent, dict) and str(o["optionId"]) == str(parent.get("id"))]
    ordered += [o for o in options if o not in ordered]
    return dict(context, options=ordered)


def _option_label(context: dict[str, Any], option: dict[str, Any]) -> str:
    parent = option.get("optionId")
    if parent:
        above = next((o.get("value") for o in context.get("options") or [] if str(o.get("id")) == str(parent)), parent)
        return f"{context.get('field')} / {context.get('name')} / {above} -> {option.get('value')}"
    return f"{context.get('field')} / {context.get('name')} / {option.get('value')}"


DECLARATIONS: dict[str, Declaration] = {d.type_key: d for d in (
    Declaration("projectCategories", "project category"),
    Declaration("issueLinkTypes", "issue link type"),
    Declaration("priorities", "priority"),
    Declaration("resolutions", "resolution"),
    # A project-scoped status belongs to a (team-managed) project that itself needs the statuses first: a back link.
    Declaration("statuses", "status", refs=(Ref("scope.project.id", "projects", back=True),), key=_status_key),
    Declaration("issueTypes", "issue type", volatile=("id", "avatarId")),
    Declaration("groups", "group", refs=(Ref("members[].accountId", "users", stand_in=False),), volatile=("groupId",),
                unordered=("members",), additive=lambda _obj: ("members",)),
    Declaration("projectRoles", "project role",
                refs=(Ref("actors[].actorGroup.groupId", "groups", optional=True),
                      Ref("actors[].actorUser.accountId", "users")),
                volatile=("id", "actors[].id", "actors[].displayName"), unordered=("actors",)),
    Declaration("customFields", "custom field", volatile=("id", "key", "schema.customId")),
    Declaration("fieldContexts", "field context",
                # a type or project that can't come back is left out of the context (the restore refuses a context
                # that would lose them all: that would widen it to every type or project); so is a default naming
                # something that didn't come back
                refs=(Ref("fieldId", "customFields"), Ref("projectIds[]", "projects", optional=True),
                      Ref("issueTypeIds[]", "issueTypes", optional=True), Ref("options[].optionId", "options"),
                      Ref("defaultValue.optionId", "options"), Ref("defaultValue.cascadingOptionId", "options"),
                      Ref("defaultValue.optionIds[]", "options"), Ref("defaultValue.accountId", "users"),
                      Ref("defaultValue.accountIds[]", "users"), Ref("defaultValue.groupId", "groups", optional=True),
                      Ref("defaultValue.groupIds[]", "groups", optional=True),
                      Ref("defaultValue.projectId", "projects", optional=True),
                      Ref("defaultValue.versionId", "versions"), Ref("defaultValue.versionIds[]", "versions"),
                      # userFilter.groups are group *names*: the same on every site (a literal)
                      Ref("defaultValue.userFilter.roleIds[]", "projectRoles", optional=True),
                      Ref("defaultVersions[].id", "versions"),
                      Ref("defaultVersions[].projectId", "projects", optional=True)),
                volatile=("id", "options[].id", "defaultValue.contextId"),
                unordered=("projectIds", "issueTypeIds", "defaultValue.optionIds", "defaultValue.accountIds",
                           "defaultValue.groupIds", "defaultValue.versionIds"),
                provides=(SubObjects("options", "options[]", _option_label),), settle=_options_by_parent),
    Declaration("screens", "screen", refs=(Ref("tabs[].fields[].id", field_kind, optional=True),),
                volatile=("id", "tabs[].id", "tabs[].fields[].name")),
    Declaration("fieldConfigurations", "field configuration", refs=(Ref("items[].id", field_kind, optional=True),),
                unordered=("items",)),
    Declaration("fieldConfigurationSchemes", "field configuration scheme",
                refs=(Ref("mappings[].fieldConfigurationId", "fieldConfigurations"),
                      Ref("mappings[].issueTypeId", issue_type_kind, optional=True)),
                unordered=("mappings",)),
    Declaration("screenSchemes", "screen scheme", refs=(Ref("screens.*", "screens"),)),
    Declaration("issueTypeScreenSchemes", "issue type screen scheme",
                refs=(Ref("mappings[].screenSchemeId", "screenSchemes"),
                      Ref("mappings[].issueTypeId", issue_type_kind, optional=True)),
                unordered=("mappings",)),
    # Jira keeps every issue type of the site in its default scheme
    Declaration("issueTypeSchemes", "issue type scheme",
                refs=(Ref("defaultIssueTypeId", "issueTypes", optional=True),
                      Ref("mappings[].issueTypeId", "issueTypes", optional=True)),
                additive=lambda obj: ("mappings",) if obj.get("isDefault") else ()),
    Declaration("prioritySchemes", "priority scheme",
                refs=(Ref("defaultPriorityId", "priorities", optional=True),
                      Ref("priorities[].id", "priorities", optional=True),
                      Ref("projects[].id", "projects", back=True)),
                volatile=("id", "priorities[].description", "priorities[].isDefault", "priorities[].name",
                          "priorities[].sequence", "priorities[].statusColor", "projects[].key"),
                unordered=("projects",)),
    Declaration("workflows", "workflow",
                refs=(Ref("statuses[].statusReference", "statuses"), Ref("transitions[].toStatusReference", "statuses"),
                      Ref("transitions[].links[].fromStatusReference", "statuses"), *_rule_refs()),
                volatile=("id", "created", "updated", "version", "isEditable", "statuses[].layout"),
                unordered=("statuses",)),
    Declaration("workflowSchemes", "workflow scheme",
                refs=(Ref("issueTypeMappings.~", "issueTypes", optional=True),
                      Ref("issueTypeMappings.*", "workflows", "name"),
                      Ref("defaultWorkflow", "workflows", "name"))),
    Declaration("permissionSchemes", "permission scheme",
                refs=(Ref("permissions[].holder.value", holder_value_kind, optional=True),
                      Ref("permissions[].holder.parameter", holder_parameter_kind, optional=True)),
                volatile=("id", "permissions[].id"), unordered=("permissions",)),
    Declaration("notificationSchemes", "notification scheme",
                refs=(Ref("notificationSchemeEvents[].notifications[].group.groupId", "groups", optional=True),
                      Ref("notificationSchemeEvents[].notifications[].projectRole.id", "projectRoles",
                          optional=True),
                      Ref("notificationSchemeEvents[].notifications[].user.accountId", "users"),
                      Ref("notificationSchemeEvents[].notifications[].field.id", field_kind, optional=True),
                      Ref("notificationSchemeEvents[].notifications[].parameter", notification_kind, optional=True),
                      Ref("notificationSchemeEvents[].notifications[].recipient", notification_kind, optional=True),
                      Ref("projects[]", "projects", back=True)),
                volatile=("id", "notificationSchemeEvents[].notifications[].id"),
                unordered=("projects", "notificationSchemeEvents", "notificationSchemeEvents[].notifications")),
    Declaration("issueSecuritySchemes", "issue security scheme",
                refs=(Ref("defaultLevel", "securityLevels"), Ref("projectIds[]", "projects", back=True),
                      Ref("levels[].members[].holder.value", holder_value_kind, optional=True),
                      Ref("levels[].members[].holder.parameter", holder_parameter_kind, optional=True)),
                volatile=("id", "levels[].id", "levels[].issueSecuritySchemeId", "levels[].members[].id",
                          "levels[].members[].issueSecurityLevelId", "levels[].members[].issueSecuritySchemeId"),
                unordered=("projectIds", "levels", "levels[].members"),
                provides=(SubObjects("securityLevels", "levels[]",
                                     lambda scheme, level: f"{scheme.get('name')} / {level.get('name')}"),)),
    Declaration("projects", "project",
                refs=(Ref("lead.accountId", "users"), Ref("projectCategory.id", "projectCategories"),
                      Ref("components[].lead.accountId", "users", drops="member"),
                      # its issue types follow from its issue type scheme
                      Ref("issueTypes[].id", "issueTypes", written=False),
                      Ref("roleActors[].id", "projectRoles", optional=True),
                      Ref("roleActors[].actors[].actorGroup.groupId", "groups", optional=True),
                      Ref("roleActors[].actors[].actorUser.accountId", "users"),
                      Ref("schemes.issueTypeScheme.id", "issueTypeSchemes"),
                      Ref("schemes.issueTypeScreenScheme.id", "issueTypeScreenSchemes"),
                      Ref("schemes.fieldConfigurationScheme.id", "fieldConfigurationSchemes"),
                      Ref("schemes.workflowScheme.id", "workflowSchemes"),
                      Ref("schemes.permissionScheme.id", "permissionSchemes"),
                      # walls of their own (OAuth-only writes): a project is still worth restoring on the defaults
                      Ref("schemes.notificationScheme.id", "notificationSchemes", optional=True),
                      Ref("schemes.issueSecurityScheme.id", "issueSecuritySchemes", optional=True),
                      Ref("schemes.priorityScheme.id", "prioritySchemes", optional=True)),
                # a component's assignee follows from its assignee type and lead: Jira works it out
                volatile=("id", "components[].id", "components[].projectId", "components[].assignee",
                          "components[].realAssignee", "components[].realAssigneeType",
                          "components[].isAssigneeTypeValid", "versions[].id", "versions[].projectId",
                          "roleActors[].actors[].id", "roleActors[].actors[].displayName", "issueTypes[].avatarId",
                          "issueTypes[].description",
                          "issueTypes[].hierarchyLevel", "issueTypes[].name", "issueTypes[].subtask",
                          "projectCategory.description", "projectCategory.name"),
                unordered=("components", "issueTypes", "roleActors", "roleActors[].actors"),
                provides=(SubObjects("versions", "versions[]", lambda p, v: f"{p.get('key')}/{v.get('name')}"),
                          SubObjects("components", "components[]", lambda p, c: f"{p.get('key')}/{c.get('name')}"))),
    Declaration("filters", "filter",
                refs=(Ref("owner.accountId", "users"), Ref("jql", JQL_NAMES, "jql", optional=True),
                      *_share_refs("sharePermissions"), *_share_refs("editPermissions")),
                volatile=("id", "sharePermissions[].id", "editPermissions[].id"),
                unordered=("sharePermissions", "editPermissions"), loose_key=_by_name),
    Declaration("boards", "board",
                refs=(Ref("configuration.filter.id", "filters"), Ref("location.projectId", "projects", optional=True),
                      Ref("configuration.location.projectKeyOrId", "projects", optional=True),
                      # behind the walls below: compared, never written
                      Ref("configuration.columnConfig.columns[].statuses[].id", "statuses", written=False),
                      Ref("configuration.subQuery.query", JQL_NAMES, "jql", written=False),
                      Ref("configuration.ranking.rankCustomFieldId", numeric_field, written=False),
                      Ref("configuration.estimation.field.fieldId", field_kind, written=False)),
                # the location's names follow from its project
                volatile=("id", "configuration.id", "location.displayName", "location.name", "location.projectName",
                          "location.projectTypeKey", "location.projectKey", "location.avatarURI"), key=_board_key,
                walls=tuple((part, BOARD_SETTINGS) for part in ("configuration.columnConfig",
                                                                "configuration.estimation",
                                                                "configuration.ranking", "configuration.subQuery"))),
    Declaration("dashboards", "dashboard",
                refs=(Ref("owner.accountId", "users"), *_share_refs("sharePermissions"),
                      *_share_refs("editPermissions"),
                      Ref("gadgets[].properties", GADGET_CONFIG, "gadget", optional=True)),
                volatile=("id", "gadgets[].id", "sharePermissions[].id", "editPermissions[].id"),
                unordered=("sharePermissions", "editPermissions"), loose_key=_by_name),
    Declaration("settings", "setting", volatile=()),
)}
