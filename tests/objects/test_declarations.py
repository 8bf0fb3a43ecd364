"""Does every reference in a captured object have a declaration, and does the comparison of two sites see a
reference that names something else there — even when the id is the same on both sites?"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from app.backups.catalogue import CATALOGUE
from app.objects.canonical import SiteObjects, compare
from app.objects.declarations import DECLARATIONS
from app.objects.references import Ref, Rewriter, rewrite, targets

# Ids as Jira writes them: numbers of five digits or more, custom field ids, group and workflow UUIDs. (Short ids
# such as status "3" can't be told from numbers; the hostile seed gives its own objects long ones.)
ID = re.compile(r"(?<![\w'#:])(\d{5,}|customfield_\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
                r"(?![\w':])")


def undeclared_ids(value: Any, path: str, found: set[tuple[str, str]]) -> None:
    """Collect (path, value) for every id-shaped value a canonical form still holds."""
    if isinstance(value, dict):
        for key, member in value.items():
            undeclared_ids(member, f"{path}.{key}", found)
    elif isinstance(value, list):
        for member in value:
            undeclared_ids(member, f"{path}[]", found)
    elif isinstance(value, str | int) and not isinstance(value, bool):
        text = re.sub(r"'[^']*'|\"[^\"]*\"", "", str(value))  # names of what a reference resolved to
        if not str(value).startswith(("user ", "<missing")) and ID.search(text):
            found.add((path, str(value)[:120]))


def test_every_catalogue_type_has_its_declaration() -> None:
    assert set(DECLARATIONS) == set(CATALOGUE)


# -- the comparison, on two small sites ------------------------------------------------------------------------

def _site(roles: dict[str, str], condition_role: str, group: str, share_group: str) -> SiteObjects:
    return {
        "projectRoles": [(name, rid, {"id": int(rid), "name": name, "description": "", "actors": []})
                         for rid, name in roles.items()],
        "groups": [("qa", group, {"name": "qa", "groupId": group, "members": []})],
        "workflows": [("Dev flow", "wf-1", {
            "id": "wf-1", "name": "Dev flow", "description": "", "statuses": [],
            "transitions": [{"id": "11", "name": "Start", "type": "DIRECTED", "actions": [], "validators": [],
                             "conditions": {"operation": "ALL", "conditionGroups": [], "conditions": [
                                 {"ruleKey": "system:restrict-issue-transition",
                                  "parameters": {"roleIds": condition_role}}]}}]})],
        "filters": [("a / Mine", "10100", {"id": "10100", "name": "Mine", "jql": "", "owner": {"accountId": "a"},
                                           "sharePermissions": [{"type": "group",
                                                                 "group": {"groupId": share_group,
                                                                           "name": "whatever"}}]})],
    }


SOURCE_ROLES = {"10005": "Developers", "10006": "Users"}


def test_the_same_configuration_under_other_ids_is_identical() -> None:
    source = _site(SOURCE_ROLES, "10005", "g-1", "g-1")
    dest = _site({"20001": "Users", "20002": "Developers"}, "20002", "g-9", "g-9")
    result = compare(["projectRoles", "groups", "workflows", "filters"], source, dest)
    assert result.differences == []
    assert result.identical == result.compared == 5


def test_an_id_copied_from_the_source_names_another_object_here_and_is_a_difference() -> None:
    """The restore copied role id 10005 into the destination's workflow, where 10005 is the role "Users": the ids
    are equal, what they name is not. Graded through that restore's own id map this would pass as identical."""
    source = _site(SOURCE_ROLES, "10005", "g-1", "g-1")
    dest = _site({"10005": "Users", "20002": "Developers"}, "10005", "g-9", "g-1")
    result = compare(["workflows", "filters"], source, dest)
    words = {d.type_key: d.words for d in result.differences}
    assert len(result.differences) == 2, words
    assert "project role 'Developers' on the source, project role 'Users' here" in words["workflows"]
    assert "lacks" in words["filters"] and "<missing group g-1>" in words["filters"]  # g-1 is the source's id
    assert result.identical == 0


def test_same_named_twins_are_paired_by_what_they_hold_not_by_their_ids() -> None:
    """Two custom fields both called "Team" (same type): the destination created them in the other order, so their
    ids sort the other way. Each screen must still be found to hold the field with its own options."""
    def site(first: str, second: str, screen_field: dict[str, str]) -> SiteObjects:
        fields = [("Team (select)", fid, {"id": fid, "name": "Team", "schema": {"custom": "select"}})
                  for fid in (first, second)]
        contexts = [(f"Team (select) / Default {n}", f"{n}{fid[-2:]}", {
            "id": f"{n}{fid[-2:]}", "name": "Default", "field": "Team (select)", "fieldId": fid,
            "options": [{"id": f"{n}{fid[-2:]}1", "value": value}]})
            for n, (fid, value) in enumerate(((first, "Red"), (second, "Blue")))]
        screens = [(name, str(100 + n), {"id": 100 + n, "name": name, "tabs": [{"id": 1, "name": "Tab",
                                                                                "fields": [{"id": fid}]}]})
                   for n, (name, fid) in enumerate(screen_field.items())]
        return {"customFields": fields, "fieldContexts": contexts, "screens": screens}

    source = site("customfield_10001", "customfield_10002",
                  {"Red screen": "customfield_10001", "Blue screen": "customfield_10002"})
    # on the destination the "Blue" field got the lower id
    dest = site("customfield_20002", "customfield_20001",
                {"Red screen": "customfield_20002", "Blue screen": "customfield_20001"})
    assert compare(["customFields", "fieldContexts", "screens"], source, dest).differences == []
    # the screens hold each other's field: whichever way the twins pair, something must differ
    swapped = site("customfield_20002", "customfield_20001",
                   {"Red screen": "customfield_20001", "Blue screen": "customfield_20002"})
    assert len(compare(["customFields", "fieldContexts", "screens"], source, swapped).differences) >= 2


@pytest.mark.parametrize("form, value, expected", [
    ("id", "10005", "R:10005"), ("csv", "10005, 10006", "R:10005,R:10006"),
    ("json", '["10005"]', '["R:10005"]'),
])
def test_each_form_of_reference_is_rewritten_in_place(form: str, value: str, expected: str) -> None:
    obj = {"a": [{"b": value}]}
    out = rewrite(obj, (Ref("a[].b", "projectRoles", form),), lambda kind, oid: f"R:{oid}")
    assert out == {"a": [{"b": expected}]} and obj == {"a": [{"b": value}]}


def test_a_kind_chosen_by_a_sibling_sees_the_siblings_original_id() -> None:
    rule = {"parameters": {"field": "customfield_10001", "value": "40002"}}
    declaration = DECLARATIONS["workflows"]
    workflow = {"transitions": [{"actions": [copy.deepcopy(rule)]}]}
    # the value names what the field's type holds: read with the field's original id, resolved by each site
    assert ("fieldValue", "customfield_10001:40002") in targets(workflow, declaration.refs)
    assert ("customFields", "customfield_10001") in targets(workflow, declaration.refs)


def test_a_custom_fields_value_in_a_rule_names_what_the_fields_type_holds() -> None:
    """update-field on a version picker sets a version, on a select list an option, on a text field a literal: each
    site's resolver decides by the field's type (the restore's and the verification's), commas and spaces kept."""
    from app.objects.canonical import Names

    names = Names()
    names.field_kinds.update({"customfield_1": "versions", "customfield_2": "options"})
    names.add("versions", "301", "ABC/1.0")
    names.add("options", "401", "Colour / Red")
    rule = {"transitions": [{"actions": [
        {"parameters": {"field": "customfield_1", "value": "301"}},
        {"parameters": {"field": "customfield_2", "value": "401"}},
        {"parameters": {"field": "customfield_3", "value": "a, b"}}]}]}
    out = rewrite(rule, DECLARATIONS["workflows"].refs, names.resolve)
    values = [a["parameters"]["value"] for a in out["transitions"][0]["actions"]]
    assert values == ["version 'ABC/1.0'", "option 'Colour / Red'", "a, b"]


def test_a_cascading_lists_children_may_be_listed_anywhere_but_parents_keep_their_order() -> None:
    def site(options: list[dict[str, Any]]) -> SiteObjects:
        return {"fieldContexts": [("Region / Default", "50", {"id": "50", "name": "Default", "field": "Region",
                                                               "options": options})]}

    emea, apac = {"id": "1", "value": "EMEA"}, {"id": "2", "value": "APAC"}
    berlin, tokyo = {"id": "3", "value": "Berlin", "optionId": "1"}, {"id": "4", "value": "Tokyo", "optionId": "2"}
    listed_after_all = site([emea, apac, berlin, tokyo])
    listed_after_each = site([{**emea, "id": "7"}, {**berlin, "id": "9", "optionId": "7"},
                              {**apac, "id": "8"}, {**tokyo, "id": "6", "optionId": "8"}])
    assert compare(["fieldContexts"], listed_after_all, listed_after_each).differences == []
    parents_swapped = site([apac, emea, berlin, tokyo])
    assert compare(["fieldContexts"], listed_after_all, parents_swapped).differences


def test_the_restore_order_follows_every_declared_reference(app) -> None:
    """Planning compares an object once what it names is matched: each type comes after every type its
    declaration's references name (not only what its restorer lists)."""
    from app.restore.plan import type_order
    from app.restore.restorers import load

    with app.app_context():
        restorers = load()
        orders = [type_order(restorers, list(restorers)),
                  # a snapshot of just these: the workflows' restorer lists none of them
                  type_order(restorers, ["workflows", "projectRoles", "groups", "resolutions"])]
    for order in orders:
        for type_key in order:
            before = set(order[:order.index(type_key)])
            missing = {t for t in DECLARATIONS[type_key].comes_after() if t in order} - before
            assert not missing, (type_key, missing)
    assert orders[1][-1] == "workflows"  # after the roles and groups its conditions name, the resolutions it sets


def test_a_value_under_a_key_that_moves_moves_with_it() -> None:
    """A workflow scheme maps issue type ids (its keys) to workflow names (its values): mapping both must not leave
    a value behind under the source's id (which may be another issue type's id here)."""
    scheme = {"issueTypeMappings": {"10001": "Dev flow", "10002": "Ops flow"}}
    table = {("issueTypes", "10001"): "10002", ("issueTypes", "10002"): "10003",
             ("workflows", "Dev flow"): "dev flow", ("workflows", "Ops flow"): "ops flow"}
    out = Rewriter(lambda kind, oid: table[(kind, oid)], map_names=True).apply(
        scheme, DECLARATIONS["workflowSchemes"].refs)
    assert out == {"issueTypeMappings": {"10002": "dev flow", "10003": "ops flow"}}
