"""Does the emulator refuse, as Jira does, references to things that aren't there: a field default naming an option
outside its context, a cascading child under another parent, a version, project, group, user or role that doesn't
exist; a context bound to an unknown project or issue type; a role actor or a status scope naming nothing? And a
global context gaining issue types or projects, which Jira refuses since April 2026?"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fakejira import seeding
from fakejira.resources._common import SeedRefError
from fakejira.site import Site
from tests.emulator.helpers import admin, call, make_project

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
UNKNOWN = "6f6f6f6f-0000-4000-8000-00000000dead"


@pytest.fixture
def world(site: Site) -> dict[str, Any]:
    """A project with a version, a role, and one custom field of each referencing kind with its global context."""
    project = make_project(site, "REF")
    code, version = call(site, "POST", "/version", body={"projectId": int(project), "name": "1.0"})
    assert code == 201, version
    group = next(g for g in call(site, "GET", "/group/bulk")[1]["values"] if g["name"] == "jira-administrators")
    ids: dict[str, Any] = {"project": project, "version": version["id"], "group": group, "admin": admin(site),
                           "fields": {}}
    for suffix in ("select", "cascadingselect", "userpicker", "multiuserpicker", "grouppicker", "version",
                   "multiversion", "project"):
        code, field = call(site, "POST", "/field", body={"name": f"F {suffix}", "type": CF + suffix})
        assert code == 201, field
        context = call(site, "GET", f"/field/{field['id']}/context")[1]["values"][0]["id"]
        ids["fields"][suffix] = (field["id"], context)
    field_id, context = ids["fields"]["cascadingselect"]
    path = f"/field/{field_id}/context/{context}/option"
    emea, apac = call(site, "POST", path, body={"options": [{"value": "EMEA"}, {"value": "APAC"}]})[1]["options"]
    berlin = call(site, "POST", path, body={"options": [{"value": "Berlin", "optionId": emea["id"]}]})[1]["options"][0]
    ids["options"] = {"EMEA": emea["id"], "APAC": apac["id"], "Berlin": berlin["id"]}
    code, made = call(site, "POST", "/field", body={"name": "Other select", "type": CF + "select"})
    other_context = call(site, "GET", f"/field/{made['id']}/context")[1]["values"][0]["id"]
    foreign = call(site, "POST", f"/field/{made['id']}/context/{other_context}/option",
                   body={"options": [{"value": "Elsewhere"}]})[1]["options"][0]
    ids["options"]["Elsewhere"] = foreign["id"]
    return ids


def _set_default(site: Site, world: dict[str, Any], suffix: str, value: dict[str, Any]) -> tuple[int, Any]:
    field_id, context = world["fields"][suffix]
    return call(site, "PUT", f"/field/{field_id}/context/defaultValue",
                body={"defaultValues": [{**value, "contextId": context}]})


def _user_filter(**extra: Any) -> dict[str, Any]:
    return {"enabled": True, **extra}


# (field kind, default value, status, words in the answer); ``{x}`` placeholders name objects of ``world``
REFUSED = [
    ("select", {"type": "option.single", "optionId": "{Elsewhere}"}, 404, "option '{Elsewhere}' was not found"),
    ("cascadingselect", {"type": "option.cascading", "optionId": "{APAC}", "cascadingOptionId": "{Berlin}"}, 404,
     "cascading option '{Berlin}' was not found under the option '{APAC}'"),
    ("cascadingselect", {"type": "option.cascading", "optionId": "{Berlin}"}, 404, "option '{Berlin}' was not found"),
    ("version", {"type": "version.single", "versionId": "99999"}, 400, "version with ID '99999' does not exist"),
    ("multiversion", {"type": "version.multiple", "versionIds": ["{version}", "99999"]}, 400,
     "version with ID '99999' does not exist"),
    ("project", {"type": "project", "projectId": "99999"}, 400, "project with ID '99999' does not exist"),
    ("grouppicker", {"type": "grouppicker.single", "groupId": UNKNOWN}, 400, f"group with ID '{UNKNOWN}' does not"),
    ("userpicker", {"type": "single.user.select", "accountId": "557058:nobody", "userFilter": _user_filter()}, 400,
     "account ID '557058:nobody' does not exist"),
    ("multiuserpicker", {"type": "multi.user.select", "accountIds": ["{admin}", "557058:nobody"]}, 400,
     "account ID '557058:nobody' does not exist"),
    ("userpicker", {"type": "single.user.select", "accountId": "{admin}"}, 400, "needs 'userFilter'"),
    ("userpicker", {"type": "single.user.select", "accountId": "{admin}",
                    "userFilter": _user_filter(groups=["no-such-group"])}, 400, "Group 'no-such-group' does not"),
    ("userpicker", {"type": "single.user.select", "accountId": "{admin}", "userFilter": _user_filter(roleIds=[99])},
     400, "project role with ID '99' does not exist"),
    ("select", {"type": "version.single", "versionId": "{version}"}, 400, "doesn't match the custom field type"),
]


def _fill(value: Any, world: dict[str, Any]) -> Any:
    names = {**world["options"], "version": world["version"], "admin": world["admin"]}
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("suffix", "value", "status", "words"), REFUSED,
                         ids=[f"{s}-{v['type']}-{w.split()[0]}" for s, v, _c, w in REFUSED])
def test_a_default_value_naming_nothing_is_refused(site: Site, world: dict[str, Any], suffix: str,
                                                   value: dict[str, Any], status: int, words: str) -> None:
    """Is a default naming an object that isn't there (or not where it says) refused with Jira's status, and is
    nothing set?"""
    code, answer = _set_default(site, world, suffix, _fill(value, world))
    assert code == status, answer
    assert _fill(words, world) in " ".join(answer["errorMessages"] + list(answer["errors"].values()))
    field_id, _context = world["fields"][suffix]
    assert call(site, "GET", f"/field/{field_id}/context/defaultValue")[1]["values"] == []


def test_defaults_naming_what_exists_are_kept(site: Site, world: dict[str, Any]) -> None:
    """The same kinds, naming what exists, are taken and read back as sent."""
    values = {
        "cascadingselect": {"type": "option.cascading", "optionId": world["options"]["EMEA"],
                            "cascadingOptionId": world["options"]["Berlin"]},
        "version": {"type": "version.single", "versionId": world["version"], "versionOrder": "unreleasedFirst"},
        "project": {"type": "project", "projectId": world["project"]},
        "grouppicker": {"type": "grouppicker.single", "groupId": world["group"]["groupId"]},
        "userpicker": {"type": "single.user.select", "accountId": world["admin"],
                       "userFilter": _user_filter(groups=["jira-administrators"], roleIds=[10002])},
        "multiuserpicker": {"type": "multi.user.select", "accountIds": [world["admin"]]},
    }
    for suffix, value in values.items():
        code, answer = _set_default(site, world, suffix, value)
        assert code == 204, (suffix, answer)
        field_id, context = world["fields"][suffix]
        assert call(site, "GET", f"/field/{field_id}/context/defaultValue")[1]["values"] == [
            {**value, "contextId": context}]


@pytest.mark.parametrize("body", [{"name": "Scoped", "projectIds": ["99999"]},
                                  {"name": "Typed", "issueTypeIds": ["99999"]}])
def test_a_context_bound_to_an_unknown_project_or_issue_type_is_refused(site: Site, world: dict[str, Any],
                                                                        body: dict[str, Any]) -> None:
    field_id, _context = world["fields"]["select"]
    code, answer = call(site, "POST", f"/field/{field_id}/context", body=body)
    assert code == 404 and "99999" in answer["errorMessages"][0]
    assert len(call(site, "GET", f"/field/{field_id}/context")[1]["values"]) == 1


def test_a_role_default_actor_naming_an_unknown_group_id_is_refused(site: Site) -> None:
    code, answer = call(site, "POST", "/role/10002/actors", body={"groupId": [UNKNOWN]})
    assert code == 400 and UNKNOWN in answer["errorMessages"][0]
    actors = call(site, "GET", "/role/10002/actors")[1]["actors"]
    assert [a["actorGroup"]["name"] for a in actors] == ["jira-administrators"]


def test_a_status_scoped_to_an_unknown_project_is_refused(site: Site) -> None:
    code, answer = call(site, "POST", "/statuses", body={
        "scope": {"type": "PROJECT", "project": {"id": "99999"}},
        "statuses": [{"name": "in review", "statusCategory": "IN_PROGRESS"}]})
    assert code == 400 and "99999" in answer["errorMessages"][0]
    assert "in review" not in [s["name"] for s in call(site, "GET", "/statuses/search")[1]["values"]]


def test_a_seed_group_replacing_a_default_one_keeps_the_roles_default_actors_real(site: Site) -> None:
    """A destination seeded with the source's groups under its own ids (the fidelity bench's case b): the default
    Administrators role must name the jira-administrators group that exists, never the id that was replaced."""
    seeding.load_seed(site, {"groups": [{"name": "jira-administrators", "groupId": UNKNOWN}]})
    actors = call(site, "GET", "/role/10002/actors")[1]["actors"]
    assert [(a["actorGroup"]["name"], a["actorGroup"]["groupId"]) for a in actors] == [
        ("jira-administrators", UNKNOWN)]
    group_ids = {g["groupId"] for g in call(site, "GET", "/group/bulk")[1]["values"]}
    assert all(a["actorGroup"]["groupId"] in group_ids for a in actors)


def test_a_seed_default_naming_an_unknown_version_is_refused(site: Site, world: dict[str, Any]) -> None:
    """Seeds are held to the same rules: a default naming nothing is a seed error, not a stored dangling id."""
    field_id, context = world["fields"]["version"]
    exported = copy.deepcopy(seeding.export_site(site))
    exported["fieldContextDefaults"][field_id] = [{"type": "version.single", "versionId": "99999",
                                                   "contextId": context}]
    with pytest.raises(SeedRefError, match="99999"):
        seeding.load_seed(seeding.new_site("copy", "http://127.0.0.1:9"), exported)


@pytest.mark.parametrize(("member", "body"), [("issuetype", {"issueTypeIds": ["10001"]}),
                                              ("project", {"projectIds": ["{project}"]})])
def test_a_global_context_takes_no_new_issue_types_or_projects(site: Site, world: dict[str, Any], member: str,
                                                               body: dict[str, Any]) -> None:
    """The spec (CHANGE-3019): since April 2026 Jira answers 400 to issue types or projects added to the global
    context; a context created with its issue types is still global."""
    field_id, context = world["fields"]["select"]
    code, answer = call(site, "PUT", f"/field/{field_id}/context/{context}/{member}",
                        body=_fill(body, {**world, "options": {"project": world["project"]}}))
    assert code == 400 and "global context" in answer["errorMessages"][0]
    view = call(site, "GET", f"/field/{field_id}/context")[1]["values"][0]
    assert (view["isGlobalContext"], view["isAnyIssueType"]) == (True, True)
    call(site, "DELETE", f"/field/{field_id}/context/{context}")
    code, made = call(site, "POST", f"/field/{field_id}/context", body={"name": "Bugs", "issueTypeIds": ["10001"]})
    assert code == 201 and made["issueTypeIds"] == ["10001"]
