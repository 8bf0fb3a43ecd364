"""Workflow rules are checked as Jira checks them: a rule parameter naming a role, group, user, permission, status,
resolution, field, screen or option the site doesn't have is refused (create and validation), nothing created."""

from __future__ import annotations

import copy
import functools
from typing import Any

import pytest

from fakejira import seeding
from fakejira.hostile_seed import hostile_seed
from fakejira.site import Site
from tests.emulator.helpers import call


@functools.cache
def _seed() -> dict[str, Any]:
    return hostile_seed()


@pytest.fixture
def site() -> Site:
    return seeding.new_site("rules", "http://127.0.0.1:9", seed=_seed())


def payload(site: Site, name: str = "Dev flow copy") -> dict[str, Any]:
    """The hostile seed's "Dev flow" (every rule kind) as a create request on its own site."""
    wf = copy.deepcopy(next(w for w in _seed()["workflows"] if w["name"] == "Dev flow"))
    statuses = []
    for layout in wf["statuses"]:
        status = site.store.get("statuses", layout["statusReference"])
        statuses.append({"id": status["id"], "statusReference": status["id"], "name": status["name"],
                         "statusCategory": status["statusCategory"]})
    body = {k: wf[k] for k in ("name", "description", "statuses", "transitions")}
    return {"scope": {"type": "GLOBAL"}, "statuses": statuses, "workflows": [dict(body, name=name)]}


def _rule(body: dict[str, Any], transition: str, where: str, key: str, n: int = 0) -> dict[str, Any]:
    tr = next(t for t in body["workflows"][0]["transitions"] if t["name"] == transition)
    rules = tr["conditions"]["conditions"] if where == "conditions" else tr[where]
    return [r for r in rules if r["ruleKey"] == key][n]["parameters"]


def test_every_rule_kind_naming_what_the_site_has_is_accepted(site: Site) -> None:
    code, answer = call(site, "POST", "/workflows/create", body=payload(site))
    assert code == 200, answer


@pytest.mark.parametrize(("where", "key", "param", "value", "message"), [
    ("conditions", "system:restrict-issue-transition", "roleIds", "999", "The project role with ID '999'"),
    ("conditions", "system:restrict-issue-transition", "groupIds", "no-such-group", "The group with ID "
                                                                                   "'no-such-group'"),
    ("conditions", "system:restrict-issue-transition", "accountIds", "allow-reporter,557058:nobody",
     "The user with account ID '557058:nobody'"),
    ("conditions", "system:restrict-issue-transition", "permissionKeys", "RULE_THE_WORLD",
     "The permission key 'RULE_THE_WORLD'"),
    ("conditions", "system:restrict-issue-transition", "groupCustomFields", "customfield_20001",
     "'customfield_20001' does not exist or is not a group picker"),
    ("conditions", "system:restrict-issue-transition", "allowUserCustomFields", "customfield_99999",
     "'customfield_99999' does not exist or is not a user picker"),
    ("conditions", "system:previous-status-condition", "previousStatusIds", "99999", "The status with ID '99999'"),
    ("validators", "system:validate-field-value", "fieldsRequired", "customfield_99999",
     "The field with ID 'customfield_99999'"),
    ("validators", "system:parent-or-child-blocking-validator", "statusIds", "10000,99999",
     "The status with ID '99999'"),
    ("actions", "system:change-assignee", "accountId", "557058:nobody", "The user with account ID '557058:nobody'"),
    ("actions", "system:update-field", "value", "99999", "The resolution with ID '99999'"),
    ("actions", "system:copy-value-from-other-field", "sourceFieldKey", "customfield_99999",
     "The field with ID 'customfield_99999'"),
])
def test_a_rule_naming_something_unknown_is_refused(site: Site, where: str, key: str, param: str, value: str,
                                                    message: str) -> None:
    """Is the create refused with the rule named, validation listing it as a RULE error, and nothing created?"""
    body = payload(site)
    _rule(body, "Start", where, key)[param] = value
    before = len(list(site.store.values("workflows")))
    code, answer = call(site, "POST", "/workflows/create", body=body)
    assert code == 400
    assert any(message in m for m in answer["errorMessages"]), answer
    assert len(list(site.store.values("workflows"))) == before
    checked = call(site, "POST", "/workflows/create/validation", body={"payload": body})[1]
    assert [e["type"] for e in checked["errors"]] == ["RULE"]
    assert checked["errors"][0]["elementReference"]["transitionId"]


def test_option_ids_in_rules_must_be_the_fields_options(site: Site) -> None:
    """Are an update-field option value and a check-field-value OPTIONID list checked against the field's
    options (another field's option is refused too)?"""
    body = payload(site)
    _rule(body, "Start", "actions", "system:update-field", 1)["value"] = "40011"  # Region's option, not Team's
    code, answer = call(site, "POST", "/workflows/create", body=body)
    assert code == 400 and "The option with ID '40011' does not exist for the field 'customfield_20001'." in \
        answer["errorMessages"]
    body = payload(site)
    qa = next(t for t in body["workflows"][0]["transitions"] if t["name"] == "To QA")
    qa["conditions"]["conditions"][0]["parameters"]["fieldValue"] = '["40001", "49999"]'
    code, answer = call(site, "POST", "/workflows/create", body=body)
    assert code == 400 and any("'49999'" in m for m in answer["errorMessages"])


def test_a_nested_condition_group_is_checked_too(site: Site) -> None:
    body = payload(site)
    qa = next(t for t in body["workflows"][0]["transitions"] if t["name"] == "To QA")
    qa["conditions"]["conditionGroups"][0]["conditions"][0]["parameters"]["roleIds"] = "31337"
    code, answer = call(site, "POST", "/workflows/create", body=body)
    assert code == 400 and any("'31337'" in m for m in answer["errorMessages"])
