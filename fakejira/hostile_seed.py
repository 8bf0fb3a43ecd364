"""The hostile seed (seeds/hostile.json): Nimbus's demo site plus every reference kind a restore must map.

Deterministic: the same document every time (``hostile_seed()``); ``seeds/hostile.json`` is its output, and a test
keeps the two equal. Regenerate with ``python -m fakejira.hostile_seed``.

What it adds to the demo: two users who each own a filter "My open work" and a dashboard "Team"; a user the
destination won't have (``GONE``); three custom fields named "Team" (the locked one, a select, a user picker); a
project-scoped status "in review" beside the global "In Review" (Jira refuses a case-insensitive duplicate only
within one scope); a workflow whose transitions carry every rule kind of the spec's rule catalogue that names an
object (role, group, user, permission, status, resolution, field, screen parameters); filters whose JQL holds ids of
every kind; a default value of every referencing kind; groups with members; a project led by Ann with default
assignee = project lead, another with Unassigned; names at the maximum length and with quotes, backslashes, markup
and Unicode.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from . import generator

PATH = Path(__file__).resolve().parent / "seeds" / "hostile.json"
NS = uuid.UUID("6f1c7c1e-2f43-4f0e-9b55-5d1e2c3a4b5c")
CF = "com.atlassian.jira.plugin.system.customfieldtypes:"

ANN = "557058:a1a1a1a1-0000-4000-8000-00000000a001"
BEN = "557058:b2b2b2b2-0000-4000-8000-00000000b002"
GONE = "557058:c3c3c3c3-0000-4000-8000-00000000c003"  # on the source only
LONG_NAME = ("Long " + "x" * 250)[:255]
HOSTILE = "Ops \"night\" 'shift' \\ <script>alert(1)</script> — Ünïcödé 🚀"


def _gid(name: str) -> str:
    return str(uuid.uuid5(NS, "group:" + name))


def _user(account_id: str, name: str, email: str) -> dict[str, Any]:
    return {"accountId": account_id, "accountType": "atlassian", "displayName": name, "active": True,
            "timeZone": "Europe/Berlin", "locale": "en_US", "emailAddress": email}


def _ref(account_id: str, name: str) -> dict[str, Any]:
    return {"accountId": account_id, "displayName": name, "active": True}


def _by_name(items: list[dict[str, Any]], name: str) -> str:
    return str(next(i["id"] for i in items if i["name"] == name))


def _field(fid: int, name: str, suffix: str, searcher: str) -> dict[str, Any]:
    from .resources.fields import CUSTOM_TYPES

    type_, items, _s, _o = CUSTOM_TYPES[suffix]
    schema: dict[str, Any] = {"type": type_, "custom": CF + suffix, "customId": fid}
    if items:
        schema["items"] = items
    return {"id": f"customfield_{fid}", "key": f"customfield_{fid}", "name": name, "schema": schema,
            "description": f"{name} (hostile seed)", "isLocked": False, "searcherKey": CF + searcher}


def hostile_seed() -> dict[str, Any]:
    """The hostile seed document (the demo seed plus the additions in the module docstring)."""
    d = copy.deepcopy(generator.demo_seed())
    st = {s["name"]: s["id"] for s in d["statuses"]}
    roles = {r["name"]: str(r["id"]) for r in d["projectRoles"]}
    res = {r["name"]: r["id"] for r in d["resolutions"]}
    it = {t["name"]: t["id"] for t in d["issueTypes"]}
    alice = d["users"][1]["accountId"]

    d["users"] += [_user(ANN, "Ann Lee", "ann@nimbus.example"), _user(BEN, "Ben Lee", "ben@nimbus.example"),
                   _user(GONE, "Gone Person", "gone@nimbus.example")]
    leads, night = _gid("team-leads"), _gid(HOSTILE)
    d["groups"] += [{"name": "team-leads", "groupId": leads}, {"name": HOSTILE, "groupId": night}]
    d["groupMembers"][leads] = [{"accountId": ANN}, {"accountId": BEN}]
    d["groupMembers"][night] = [{"accountId": GONE}, {"accountId": alice}]
    d["projectRoles"].append({"id": 20001, "name": "Release Managers", "description": "Ship it",
                              "actors": [{"id": 20001, "displayName": "team-leads",
                                          "type": "atlassian-group-role-actor", "name": "team-leads",
                                          "actorGroup": {"name": "team-leads", "displayName": "team-leads",
                                                         "groupId": leads}}]})
    roles["Release Managers"] = "20001"

    # projects: HOS led by Ann (default assignee = lead), UNA unassigned
    template = d["projects"][0]
    for pid, key, name, assignee in (("20001", "HOS", LONG_NAME[:80], "PROJECT_LEAD"),
                                     ("20002", "UNA", HOSTILE, "UNASSIGNED")):
        p = copy.deepcopy(template)
        p.update(id=pid, key=key, name=name, description=f"  {name}\n\t", assigneeType=assignee,
                 lead=_ref(ANN, "Ann Lee"))
        p["self"] = p["self"].rsplit("/", 1)[0] + "/" + pid
        d["projects"].append(p)
        for k in ("projectSchemeAssociations", "projectPermissionSchemes", "projectNotificationSchemes"):
            d[k][pid] = copy.deepcopy(d[k]["10000"])
        for m in d["projectFieldConfigurationSchemes"] + d["projectIssueTypeScreenSchemes"]:
            m["projectIds"].append(pid)
        d["projectRoleActors"][pid] = {roles["Developers"]: [
            {"id": 20010 + int(pid) % 10, "displayName": "Ann Lee", "type": "atlassian-user-role-actor",
             "actorUser": {"accountId": ANN}}]}
    d["projectComponents"]["20001"] = [{"id": "20001", "name": "Core \"engine\"", "description": "",
                                        "assigneeType": "COMPONENT_LEAD", "project": "HOS", "projectId": 20001,
                                        "lead": _ref(BEN, "Ben Lee")}]
    d["projectVersions"]["20001"] = [{"id": "20001", "name": "1.0", "description": "", "archived": False,
                                      "released": False, "projectId": 20001},
                                     {"id": "20002", "name": "2.0 'beta'", "description": "", "archived": False,
                                      "released": False, "projectId": 20001}]
    d["statuses"].append({"id": "20001", "name": "in review", "statusCategory": "IN_PROGRESS",
                          "scope": {"type": "PROJECT", "project": {"id": "20001"}}, "description": "team-managed"})

    _fields(d, it)
    _workflow(d, st, roles, res, leads)
    _sharing(d, st, roles, res, it, leads)
    return d


def _fields(d: dict[str, Any], it: dict[str, str]) -> None:
    specs = [(20001, "Team", "select", "multiselectsearcher"), (20002, "Team", "userpicker", "userpickergroupsearcher"),
             (20003, "Approver group", "grouppicker", "grouppickersearcher"),
             (20004, "Watcher groups", "multigrouppicker", "grouppickersearcher"),
             (20005, "Target version", "version", "versionsearcher"),
             (20006, "Also in", "multiversion", "versionsearcher"),
             (20007, "Related project", "project", "projectsearcher"),
             (20008, "Reviewers", "multiuserpicker", "userpickergroupsearcher"),
             (20009, "Region", "cascadingselect", "cascadingselectsearcher"),
             (20010, LONG_NAME, "multiselect", "multiselectsearcher"),
             (20011, HOSTILE, "textfield", "textsearcher")]
    for fid, name, suffix, searcher in specs:
        d["fields"].append(_field(fid, name, suffix, searcher))
        key, ctx = f"customfield_{fid}", str(30000 + fid)
        d["fieldContexts"][key] = [{"id": ctx, "name": f"Default Configuration Scheme for {name}"[:255],
                                    "description": "Default configuration scheme generated by Jira",
                                    "isGlobalContext": True, "isAnyIssueType": True}]
        d["fieldContextIssueTypeMappings"][key] = [{"contextId": ctx, "isAnyIssueType": True}]
        d["fieldContextProjectMappings"][key] = [{"contextId": ctx, "isGlobalContext": True}]
    d["fieldOptions"]["50001"] = [{"id": "40001", "value": "Red \"team\"", "disabled": False},
                                  {"id": "40002", "value": "Blue", "disabled": False}]
    d["fieldOptions"]["50009"] = [{"id": "40011", "value": "EMEA", "disabled": False},
                                  {"id": "40012", "value": "Berlin", "disabled": False, "optionId": "40011"},
                                  {"id": "40013", "value": "APAC", "disabled": False}]
    d["fieldOptions"]["50010"] = [{"id": "40021", "value": "a\\b", "disabled": False},
                                  {"id": "40022", "value": "<script>", "disabled": True}]
    defaults = {
        "customfield_20001": {"type": "option.single", "optionId": "40001"},
        # the spec requires a user filter on a single user picker's default; its groups are names, its roles ids
        "customfield_20002": {"type": "single.user.select", "accountId": ANN,
                              "userFilter": {"enabled": True, "groups": ["team-leads"],
                                             "roleIds": [20001]}},  # Release Managers
        "customfield_20003": {"type": "grouppicker.single", "groupId": _gid("team-leads")},
        "customfield_20004": {"type": "grouppicker.multiple", "groupIds": [_gid("team-leads"), _gid(HOSTILE)]},
        "customfield_20005": {"type": "version.single", "versionId": "20001", "versionOrder": "releasedFirst"},
        "customfield_20006": {"type": "version.multiple", "versionIds": ["20001", "20002"]},
        "customfield_20007": {"type": "project", "projectId": "20001"},
        "customfield_20008": {"type": "multi.user.select", "accountIds": [ANN, GONE]},
        "customfield_20009": {"type": "option.cascading", "optionId": "40011", "cascadingOptionId": "40012"},
        "customfield_20010": {"type": "option.multiple", "optionIds": ["40021", "40022"]},
    }
    for key, value in defaults.items():
        ctx = str(30000 + int(key.removeprefix("customfield_")))
        d["fieldContextDefaults"][key] = [{**value, "contextId": ctx}]


def _rule(key: str, **params: str) -> dict[str, Any]:
    return {"ruleKey": key, "parameters": params}


def _workflow(d: dict[str, Any], st: dict[str, str], roles: dict[str, str], res: dict[str, str], leads: str) -> None:
    wf = copy.deepcopy(next(w for w in d["workflows"] if w["name"] == "Release Flow"))
    wf.update(id=str(uuid.uuid5(NS, "workflow:Dev flow")), name="Dev flow", description="Every rule kind")
    wf["version"] = {"id": str(uuid.uuid5(NS, "workflow-version:Dev flow")), "versionNumber": 0}
    by_name = {t["name"]: t for t in wf["transitions"]}
    start = by_name["To In Progress"]
    start["name"] = "Start"
    start["conditions"] = {"operation": "ALL", "conditionGroups": [], "conditions": [
        _rule("system:restrict-issue-transition", roleIds=roles["Developers"], groupIds=leads,
              accountIds=f"allow-reporter,{GONE}", permissionKeys="ADMINISTER_PROJECTS",
              groupCustomFields="customfield_20003", allowUserCustomFields="customfield_20002,customfield_20008",
              denyUserCustomFields="customfield_10039"),
        _rule("system:previous-status-condition", previousStatusIds=st["To Do"], not_="false"),
        _rule("system:separation-of-duties", fromStatusId=st["To Do"], toStatusId=st["In Progress"])]}
    start["validators"] = [
        _rule("system:check-permission-validator", permissionKey="ADMINISTER_PROJECTS"),
        _rule("system:validate-field-value", ruleType="fieldRequired", fieldsRequired="customfield_20001",
              ignoreContext="true", errorMessage=HOSTILE),
        _rule("system:validate-field-value", ruleType="fieldChanged", fieldKey="customfield_20005",
              groupsExemptFromValidation=leads, errorMessage="Pick a version"),
        _rule("system:previous-status-validator", previousStatusIds=st["To Do"], mostRecentStatusOnly="true"),
        _rule("system:parent-or-child-blocking-validator", blocker="PARENT", statusIds=f"{st['Done']},{st['QA']}")]
    start["actions"] = [
        _rule("system:change-assignee", type="to-selected-user", accountId=ANN),
        _rule("system:update-field", field="resolution", value=res["Won't Do"], mode="replace"),
        _rule("system:update-field", field="customfield_20001", value="40002", mode="replace"),
        # a custom field's value names what the field's type holds: a version, people (one without an account)
        _rule("system:update-field", field="customfield_20005", value="20001", mode="replace"),
        _rule("system:update-field", field="customfield_20008", value=ANN, mode="append"),
        _rule("system:copy-value-from-other-field", sourceFieldKey="customfield_20002",
              targetFieldKey="assignee", issueSource="SAME"),
        _rule("system:remind-people-to-update-fields", remindingFieldIds="customfield_20001,duedate",
              remindingMessage="Update", remindingAlwaysAsk="true")]
    qa = by_name["To QA"]
    qa["transitionScreen"] = {"ruleKey": "system:transition-screen",
                              "parameters": {"screenId": str(_by_name(d["screens"], "Incident Screen"))}}
    qa["conditions"] = {"operation": "ANY", "conditions": [
        _rule("system:check-field-value", fieldId="customfield_20001", fieldValue='["40001"]', comparator="=",
              comparisonType="OPTIONID")], "conditionGroups": [{"operation": "ALL", "conditionGroups": [],
                                                               "conditions": [_rule(
                                                                   "system:restrict-issue-transition",
                                                                   roleIds=roles["Release Managers"])]}]}
    by_name["To Released"]["conditions"] = {"operation": "ALL", "conditionGroups": [], "conditions": [
        _rule("system:parent-or-child-blocking-condition", blocker="CHILD", statusIds=st["Blocked"])]}
    for tr in wf["transitions"]:
        for r in (tr.get("conditions") or {}).get("conditions", []):
            if "not_" in r["parameters"]:
                r["parameters"]["not"] = r["parameters"].pop("not_")
    d["workflows"].append(wf)
    scheme = copy.deepcopy(d["workflowSchemes"][0])
    scheme.update(id=20001, name="Hostile Workflow Scheme", defaultWorkflow="Dev flow")
    scheme["self"] = scheme["self"].rsplit("/", 1)[0] + "/20001"
    d["workflowSchemes"].append(scheme)
    d["projectSchemeAssociations"]["20001"]["workflowScheme"] = "20001"


def _share_group(name: str) -> dict[str, Any]:
    return {"type": "group", "group": {"name": name, "groupId": _gid(name)}}


def _sharing(d: dict[str, Any], st: dict[str, str], roles: dict[str, str], res: dict[str, str],
             it: dict[str, str], leads: str) -> None:
    jql_all = (f"project = 20001 AND issuetype in ({it['Bug']}, {it['Story']}) AND status != {st['Done']} "
               f"AND priority = 2 AND resolution = {res['Duplicate']} AND fixVersion = 20001 AND "
               f"affectedVersion NOT IN (20002) AND component = 20001 AND cf[20001] = 40001 AND "
               f"cf[20009] in cascadeOption(40011, 40012) AND assignee = \"{ANN}\" AND reporter != {GONE} AND "
               f"assignee in membersOf(\"{leads}\") AND status WAS {st['Blocked']} BY {BEN} AND status CHANGED "
               f"FROM {st['To Do']} TO {st['In Progress']} AFTER -2w AND \"Team\" IS NOT EMPTY AND sprint = 7 "
               f"AND summary !~ \"\\\"quoted\\\" \\\\ <script>\" AND labels IS EMPTY ORDER BY cf[20005] DESC, "
               "priority ASC")
    n = 20001
    for owner, name, jql, shares, edits in (
            (ANN, "My open work", "assignee = currentUser() AND resolution = Unresolved ORDER BY updated DESC",
             [_share_group("team-leads")], []),
            (BEN, "My open work", f"assignee = currentUser() AND project = 20001 AND status = {st['In Review']}",
             [{"type": "projectRole", "project": {"id": "20001"}, "role": {"id": int(roles["Developers"])}}],
             [{"type": "user", "user": _ref(ANN, "Ann Lee")}]),
            (ANN, "Every id kind", jql_all, [{"type": "project", "project": {"id": "20001"}}],
             [_share_group(HOSTILE)]),
            (GONE, HOSTILE, f"project = 20002 AND cf[20002] = {ANN}", [{"type": "loggedin"}], [])):
        d["filters"].append({"id": str(n), "name": name, "description": name, "owner": _ref(owner, ""),
                             "jql": jql, "sharePermissions": shares, "editPermissions": edits})
        n += 1
    n = 20001
    for owner in (ANN, BEN):
        d["dashboards"].append({"id": str(n), "name": "Team", "description": "", "isFavourite": False,
                                "popularity": 0, "systemDashboard": False, "owner": _ref(owner, ""),
                                "sharePermissions": [_share_group("team-leads")], "editPermissions": []})
        d["dashboardGadgets"][str(n)] = [{"id": n, "moduleKey": "com.atlassian.jira.gadgets:filter-results-gadget",
                                          "color": "blue", "position": {"row": 0, "column": 0},
                                          "title": "My open work"}]
        n += 1
    d["boards"].append({"id": 20001, "name": "HOS board", "type": "kanban", "isPrivate": False,
                        "location": {"projectId": 20001, "projectKey": "HOS"}})
    d["boardConfigurations"]["20001"] = {
        "id": 20001, "name": "HOS board", "type": "kanban", "location": {"type": "project",
                                                                        "projectKeyOrId": "20001"},
        "filter": {"id": "20003"}, "subQuery": {"query": f"fixVersion = 20001 OR status = {st['Blocked']}"},
        "columnConfig": {"columns": [{"name": "Open", "statuses": [{"id": st["To Do"]}]},
                                     {"name": "Busy", "statuses": [{"id": st["In Progress"]}, {"id": "20001"}]},
                                     {"name": "Done", "statuses": [{"id": st["Done"]}]}],
                         "constraintType": "none"},
        "ranking": {"rankCustomFieldId": 10019}}


def write() -> None:
    PATH.write_text(json.dumps(hostile_seed(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
