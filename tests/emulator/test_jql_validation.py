"""Filters' JQL is checked as Jira checks it: an unknown field, value or function is a 400 in Jira's words."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from fakejira import seeding
from fakejira.hostile_seed import ANN, hostile_seed
from fakejira.site import Site
from tests.emulator.helpers import error, messages, ok

FL = "/rest/api/3/filter"


@functools.cache
def _seed() -> dict[str, Any]:
    return hostile_seed()


@pytest.fixture
def site() -> Site:
    return seeding.new_site("jql", seed=_seed())


def _every_id_kind() -> str:
    return next(f["jql"] for f in _seed()["filters"] if f["name"] == "Every id kind")


@pytest.mark.parametrize(("jql", "message"), [
    ("status = 10999", "The value '10999' does not exist for the field 'status'."),
    ("issuetype = 10999", "The value '10999' does not exist for the field 'issuetype'."),
    ("priority in (1, 10999)", "The value '10999' does not exist for the field 'priority'."),
    ("resolution = 10999", "The value '10999' does not exist for the field 'resolution'."),
    ("project = 10999", "The value '10999' does not exist for the field 'project'."),
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("fixVersion = 10999", "The value '10999' does not exist for the field 'fixVersion'."),
    ("component = 10999", "The value '10999' does not exist for the field 'component'."),
    ("cf[20001] = 10999", "The value '10999' does not exist for the field 'cf[20001]'."),
    ("cf[20009] in cascadeOption(10999)", "The value '10999' does not exist for the field 'cf[20009]'."),
    ("sprint = 7", "The value '7' does not exist for the field 'sprint'."),
    ("assignee = 557058:no-such-user", "The value '557058:no-such-user' does not exist for the field 'assignee'."),
    ("status WAS 10000 BY 557058:no-such-user",
     "The value '557058:no-such-user' does not exist for the field 'status'."),
    ("assignee in membersOf(\"no-such-group\")", "Function 'membersOf' can not generate a list of usernames for "
                                                 "group 'no-such-group'; the group does not exist."),
    ("foo = 1", "Field 'foo' does not exist or you do not have permission to view it."),
    ("cf[99999] = 1", "Field 'cf[99999]' does not exist or you do not have permission to view it."),
    ("project = HOS ORDER BY customfield_99999", "Field 'customfield_99999' does not exist or you do not have "
                                                 "permission to view it."),
    ("assignee = bar()", "Unable to find JQL function 'bar()'."),
])
def test_unknown_fields_values_and_functions_are_refused(site: Site, jql: str, message: str) -> None:
    """Does a filter create (and update) refuse JQL naming what the site doesn't have, in Jira's words, and
    change nothing?"""
    before = len(list(site.store.values("filters")))
    answer = error(site, "POST", FL, {"name": "Checked", "jql": jql}, status=400)
    assert message in messages(answer)
    assert len(list(site.store.values("filters"))) == before
    made = ok(site, "POST", FL, {"name": "Fine", "jql": "project = HOS"})
    answer = error(site, "PUT", f"{FL}/{made['id']}", {"name": "Fine", "jql": jql}, status=400,
                   account_id=made["owner"]["accountId"])
    assert message in messages(answer)
    assert site.store.get("filters", made["id"])["jql"] == "project = HOS"


def test_what_the_site_has_is_accepted_by_id_name_and_key(site: Site) -> None:
    """Is every id kind of the hostile filter (less the sprint, which no site but its own has) accepted, and are
    names, keys, functions and EMPTY accepted too?"""
    jql = _every_id_kind().replace(" AND sprint = 7", "")
    ok(site, "POST", FL, {"name": "Every id kind again", "jql": jql})
    ok(site, "POST", FL, {"name": "By name", "jql": (
        'project in (HOS, "Web Platform") AND status = "In Review" AND resolution = Unresolved AND fixVersion = '
        '"1.0" AND "Team" = Blue AND assignee in (currentUser(), EMPTY) AND reporter = "ann@nimbus.example" AND '
        f'assignee = {ANN} AND assignee in membersOf("team-leads") AND created >= startOfDay(-1) '
        'ORDER BY Rank ASC')})
