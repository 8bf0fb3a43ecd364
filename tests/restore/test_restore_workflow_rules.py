"""Workflow rule parameters in destination terms (pure functions of app/restore/types/workflows.py), and parts of
objects ordered after their parents without ever closing a cycle (app/restore/subobjects.py)."""

from __future__ import annotations

import json
from typing import Any

from app.restore.plan import Action, Plan, PlannedItem
from app.restore.restorers import load
from app.restore.subobjects import SourceIndex, link_parents
from app.restore.types.base import Ref
from app.restore.types.workflows import BLOCK_ALL, _map_conditions, map_rule, rule_refs
from tests.restore.test_jql import Table

RESTRICT = {"ruleKey": "system:restrict-issue-transition", "parameters": {
    "roleIds": "10002", "groupIds": "g-src", "accountIds": "allow-reporter,u:gone", "permissionKeys":
    "ADMINISTER_PROJECTS", "groupCustomFields": "customfield_1", "allowUserCustomFields": "customfield_2,assignee"}}


def test_every_parameter_kind_maps_and_keys_stay() -> None:
    table = {("projectRoles", "10002"): "20", ("groups", "g-src"): "g-dst", ("customFields", "customfield_1"):
             "customfield_9", ("customFields", "customfield_2"): "customfield_8"}
    mapped, missing = map_rule(RESTRICT, Table(table))
    assert mapped is not None
    assert mapped["parameters"] == {"roleIds": "20", "groupIds": "g-dst", "accountIds": "allow-reporter",
                                    "permissionKeys": "ADMINISTER_PROJECTS", "groupCustomFields": "customfield_9",
                                    "allowUserCustomFields": "customfield_8,assignee"}
    assert missing == ["user u:gone"]


def test_update_field_and_option_comparisons_map_their_values() -> None:
    kinds = {"customfield_5": "options"}
    update = {"ruleKey": "system:update-field", "parameters": {"field": "customfield_5", "value": "40002",
                                                               "mode": "replace"}}
    check = {"ruleKey": "system:check-field-value", "parameters": {"fieldId": "customfield_5", "fieldValue":
                                                                   '["40001"]', "comparisonType": "OPTIONID"}}
    table = {("customFields", "customfield_5"): "customfield_7", ("options", "40002"): "2", ("options", "40001"): "1"}
    assert map_rule(update, Table(table, kinds))[0]["parameters"] == {"field": "customfield_7", "value": "2",
                                                                      "mode": "replace"}
    assert json.loads(map_rule(check, Table(table, kinds))[0]["parameters"]["fieldValue"]) == ["1"]
    assert [r.kind for r in rule_refs(update, kinds.get)] == ["customFields", "options"]
    resolution = {"ruleKey": "system:update-field", "parameters": {"field": "resolution", "value": "10001"}}
    assert map_rule(resolution, Table({}))[0] is None  # the value it sets has no counterpart: it can't stay


def test_a_condition_that_cannot_stay_fails_closed() -> None:
    """Does a restriction left with no criterion (or a condition whose value doesn't map) block everyone, rather
    than being dropped and opening the transition to all?"""
    only_role = {"ruleKey": "system:restrict-issue-transition", "parameters": {"roleIds": "10002"}}
    group = {"operation": "ALL", "conditions": [only_role], "conditionGroups": [
        {"operation": "ANY", "conditions": [dict(only_role)], "conditionGroups": []}]}
    mapped = _map_conditions(group, Table({}), "Start")
    assert mapped["conditions"] == [BLOCK_ALL]
    assert mapped["conditionGroups"][0]["conditions"] == [BLOCK_ALL]


def _plan(objects: dict[tuple[str, str], dict[str, Any]], refs: dict[tuple[str, str], list[Ref]]) -> Plan:
    items = {k: PlannedItem(k[0], k[1], k[1], k[1], Action.CREATE, refs=list(refs.get(k, []))) for k in objects}
    return Plan(items, dict(objects), [])


def test_parts_are_ordered_after_their_parents_but_never_in_a_cycle() -> None:
    """Is a filter naming a version ordered after the version's project, and a workflow whose rule names a version
    of a project that uses the workflow (through its scheme) left unordered rather than made a cycle?"""
    project = {"key": "HOS", "versions": [{"id": "20001", "name": "1.0"}], "components": []}
    workflow = {"name": "Dev flow", "transitions": [{"actions": [
        {"ruleKey": "system:update-field", "parameters": {"field": "fixVersions", "value": "20001"}}]}]}
    objects = {("projects", "P"): project, ("filters", "F"): {"id": "F", "jql": "fixVersion = 20001"},
               ("workflows", "Dev flow"): workflow, ("workflowSchemes", "S"): {}}
    plan = _plan(objects, {("projects", "P"): [Ref("workflowSchemes", "S")],
                           ("workflowSchemes", "S"): [Ref("workflows", "Dev flow")]})
    link_parents(plan, SourceIndex.of(plan.objects), load())
    assert Ref("projects", "P", optional=True) in plan.items[("filters", "F")].refs
    assert all(r.type_key != "projects" for r in plan.items[("workflows", "Dev flow")].refs)
    plan.order()  # no cycle
