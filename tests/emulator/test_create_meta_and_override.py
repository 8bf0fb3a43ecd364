"""Create metadata (the fields a create screen takes) and who may set an off-screen field by overriding the screen.

Over real HTTP on loopback: a served site with project OPS whose screen has lost ``priority``; Connect apps signed
with their shared secret, one with the ADMIN scope (its app user holds *Administer Jira*) and one without.
"""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import dispatch, installer, spec
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.site import Site
from tests.emulator.helpers import admin, make_project
from tests.emulator.issue_data_helpers import TASK, make_issues

META = "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}"
OVERRIDE = {"overrideScreenSecurity": "true", "notifyUsers": "false"}
HIGH = {"id": "2"}


def _drop_from_screens(site: Site, field_id: str) -> None:
    for tab_field in list(site.store.values("screenTabFields")):
        if tab_field["id"] == field_id:
            site.store.delete("screenTabFields", tab_field["_key"])


@pytest.fixture
def ops(fake_cloud: Cloud) -> Site:
    site = fake_cloud.add_site("acme")
    make_project(site, "OPS")
    make_issues(site, 1)
    _drop_from_screens(site, "priority")
    installer.install_direct(site, "admin-app", ["READ", "WRITE", "ADMIN"])
    installer.install_direct(site, "plain-app", ["READ", "WRITE"])
    return site


def _meta(site: Site, **query: Any) -> dict[str, Any]:
    resp = ConnectClient(site, "plain-app").get(f"/rest/api/3/issue/createmeta/OPS/issuetypes/{TASK}", query=query)
    assert resp.status_code == 200, resp.text
    assert spec.validate_response("GET", META, 200, resp.json()) == []
    return resp.json()


def test_create_meta_lists_the_create_screen_fields_only(ops: Site) -> None:
    """Does createmeta name what the create screen takes (summary, labels) and not what it lost (priority)?"""
    page = _meta(ops, maxResults=200)
    ids = [f["fieldId"] for f in page["fields"]]
    assert {"project", "issuetype", "summary", "labels"} <= set(ids) and "priority" not in ids
    assert page["total"] == len(ids) and page["startAt"] == 0
    summary = next(f for f in page["fields"] if f["fieldId"] == "summary")
    assert summary["required"] is True and summary["operations"] == ["set"]
    second = _meta(ops, startAt=1, maxResults=1)
    assert [f["fieldId"] for f in second["fields"]] == ids[1:2] and second["total"] == len(ids)


def test_create_meta_refuses_an_unknown_project_or_type(ops: Site) -> None:
    client = ConnectClient(ops, "plain-app")
    assert client.get(f"/rest/api/3/issue/createmeta/NOPE/issuetypes/{TASK}").status_code == 400
    assert client.get("/rest/api/3/issue/createmeta/OPS/issuetypes/99999").status_code == 400


def test_an_off_screen_field_is_refused_on_create_and_on_plain_edit(ops: Site) -> None:
    client = ConnectClient(ops, "admin-app")
    body = {"fields": {"project": {"key": "OPS"}, "issuetype": {"id": TASK}, "summary": "x", "priority": HIGH}}
    resp = client.post("/rest/api/3/issue", json=body)
    assert resp.status_code == 400 and "priority" in resp.json()["errors"]
    resp = client.put("/rest/api/3/issue/OPS-1", json={"fields": {"priority": HIGH}})
    assert resp.status_code == 400 and "not on the appropriate screen" in resp.json()["errors"]["priority"]
    assert client.get("/rest/api/3/issue/OPS-1").json()["fields"]["priority"]["id"] != HIGH["id"]


def test_an_admin_app_sets_an_off_screen_field_by_overriding_the_screen(ops: Site) -> None:
    client = ConnectClient(ops, "admin-app")
    resp = client.put("/rest/api/3/issue/OPS-1", query=OVERRIDE, json={"fields": {"priority": HIGH}})
    assert resp.status_code == 204, resp.text
    assert client.get("/rest/api/3/issue/OPS-1").json()["fields"]["priority"]["id"] == HIGH["id"]


def test_an_app_without_administer_jira_may_not_override_the_screen(ops: Site) -> None:
    """The spec: only Connect apps whose app user holds Administer Jira (and Forge apps for an admin) may."""
    client = ConnectClient(ops, "plain-app")
    resp = client.put("/rest/api/3/issue/OPS-1", query=OVERRIDE, json={"fields": {"priority": HIGH}})
    assert resp.status_code == 403 and "Administer Jira" in resp.text
    assert client.get("/rest/api/3/issue/OPS-1").json()["fields"]["priority"]["id"] != HIGH["id"]


def test_a_user_token_may_not_override_the_screen_even_an_administrators(ops: Site) -> None:
    status, body, _ = dispatch.call(ops, "PUT", "/rest/api/3/issue/OPS-1", query=OVERRIDE,
                                    body={"fields": {"priority": HIGH}}, account_id=admin(ops), auth_kind="oauth")
    assert status == 403 and "Administer Jira" in str(body)
