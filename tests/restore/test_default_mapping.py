"""Is a field context's default value written in destination terms, reference by reference — never kept with a
source id, never dropped without a word? (The pure mapping, without Jira: the restore runs it against the
destination in tests/restore/test_restore_hostile_references.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from app.restore.restorers import load
from app.restore.types.base import Ref
from app.restore.types.fields import comparable_default, map_default

CONTEXT: dict[str, Any] = {
    "id": "500", "name": "Default", "field": "Region", "fieldId": "customfield_1",
    "options": [{"id": "1", "value": "EMEA"}, {"id": "2", "value": "Berlin", "optionId": "1"},
                {"id": "3", "value": "APAC"}],
    "defaultVersions": [{"id": "70", "projectId": "10", "name": "1.0"}, {"id": "71", "projectId": "10",
                                                                        "name": "2.0"}],
}
# what each source reference is on the destination (None: not there)
DEST = {("option", ("EMEA",)): "11", ("option", ("EMEA", "Berlin")): "12", ("user", "ann"): "ann",
        ("user", "gone"): None, ("group", "g-src"): "g-dst", ("group", "g-lost"): None, ("project", "10"): "910",
        ("project", "11"): None, ("role", "20"): "920", ("role", "21"): None, ("group name", "leads"): "leads",
        ("group name", "nobody"): None}


def resolve(kind: str, source: Any) -> str | None:
    if kind == "version":
        return {"1.0": "970"}.get(source["name"])
    return DEST.get((kind, source))


def mapped(default: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    return map_default(dict(CONTEXT, defaultValue=dict(default, contextId="500")), resolve)


@pytest.mark.parametrize(("default", "body"), [
    ({"type": "option.cascading", "optionId": "1", "cascadingOptionId": "2"},
     {"type": "option.cascading", "optionId": "11", "cascadingOptionId": "12"}),
    ({"type": "grouppicker.multiple", "groupIds": ["g-src"]}, {"type": "grouppicker.multiple", "groupIds": ["g-dst"]}),
    ({"type": "project", "projectId": "10"}, {"type": "project", "projectId": "910"}),
    ({"type": "version.single", "versionId": "70", "versionOrder": "releasedFirst"},
     {"type": "version.single", "versionId": "970", "versionOrder": "releasedFirst"}),
    ({"type": "single.user.select", "accountId": "ann", "userFilter": {"enabled": True, "groups": ["leads"],
                                                                       "roleIds": [20]}},
     {"type": "single.user.select", "accountId": "ann", "userFilter": {"enabled": True, "groups": ["leads"],
                                                                       "roleIds": [920]}}),
    ({"type": "textfield", "text": "hello"}, {"type": "textfield", "text": "hello"}),
])
def test_every_reference_is_rewritten(default: dict[str, Any], body: dict[str, Any]) -> None:
    assert mapped(default) == (body, [])


@pytest.mark.parametrize(("default", "body", "words"), [
    ({"type": "option.cascading", "optionId": "3", "cascadingOptionId": "2"}, None, "option 'APAC'"),
    ({"type": "multi.user.select", "accountIds": ["ann", "gone"]}, {"type": "multi.user.select",
                                                                   "accountIds": ["ann"]}, "user gone"),
    ({"type": "single.user.select", "accountId": "gone", "userFilter": {"enabled": False}}, None, "user gone"),
    ({"type": "grouppicker.single", "groupId": "g-lost"}, None, "group g-lost"),
    ({"type": "project", "projectId": "11"}, None, "project 11"),
    ({"type": "version.multiple", "versionIds": ["70", "71"]}, {"type": "version.multiple", "versionIds": ["970"]},
     "version '2.0' of project 10"),
    ({"type": "single.user.select", "accountId": "ann", "userFilter": {"enabled": True, "groups": ["nobody"],
                                                                       "roleIds": [21]}},
     {"type": "single.user.select", "accountId": "ann", "userFilter": {"enabled": True, "groups": [],
                                                                       "roleIds": []}}, "group name 'nobody'"),
])
def test_what_cant_come_along_is_left_out_and_said(default: dict[str, Any], body: dict[str, Any] | None,
                                                    words: str) -> None:
    """A reference missing on the destination is left out, in words; a default losing what it needs isn't set."""
    got, problems = mapped(default)
    assert got == body
    assert any(words in p for p in problems), problems
    if body is None:
        assert problems[-1] == "so the default value isn't set"
    source_ids = {"g-lost", "11", "gone", "71", "21"}
    assert not source_ids & {str(v) for v in _values(got)}  # no source id kept


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _values(v)]
    if isinstance(value, list):
        return [x for v in value for x in _values(v)]
    return [value]


def test_a_stand_in_user_is_said() -> None:
    def fallback(kind: str, source: Any) -> str | None:
        return "admin" if kind == "user" else None

    body, problems = map_default(dict(CONTEXT, defaultValue={"type": "multi.user.select", "contextId": "500",
                                                             "accountIds": ["gone"]}), fallback)
    assert body == {"type": "multi.user.select", "accountIds": ["admin"]}
    assert problems == ["user gone has no account on this site: admin stands in"]


def test_the_references_a_default_orders_the_restore_after() -> None:
    context = dict(CONTEXT, defaultValue={"type": "single.user.select", "accountId": "ann", "contextId": "500",
                                          "userFilter": {"enabled": True, "roleIds": [20]}})
    contexts = load()["fieldContexts"]
    refs = set(contexts.references(context))
    assert {Ref("projects", "10", True), Ref("projectRoles", "20", True)} <= refs
    assert not any(r.type_key == "users" for r in refs)  # people are matched, not restored first
    groups = dict(CONTEXT, defaultValue={"type": "grouppicker.multiple", "groupIds": ["a", "b"]})
    assert {Ref("groups", "a", True), Ref("groups", "b", True)} <= set(contexts.references(groups))


def test_both_sites_compare_the_same_default_in_the_same_words() -> None:
    """The source mapped through the id map and the destination as it is give one form: versions by project and
    name, options by value, lists in a stable order."""

    class Ids:
        def get(self, type_key: str, source_id: str) -> str | None:
            return {"projects": {"10": "910"}}.get(type_key, {}).get(source_id)

        def require(self, type_key: str, source_id: str) -> str:
            found = self.get(type_key, source_id)
            assert found is not None
            return found

        def user(self, account_id: str) -> str | None:
            return account_id

    source = dict(CONTEXT, defaultValue={"type": "version.multiple", "versionIds": ["71", "70"], "contextId": "1"})
    dest = dict(CONTEXT, defaultVersions=[{"id": "970", "projectId": "910", "name": "1.0"},
                                          {"id": "971", "projectId": "910", "name": "2.0"}],
                defaultValue={"type": "version.multiple", "versionIds": ["970", "971"], "contextId": "2"})
    assert comparable_default(source, Ids()) == comparable_default(dest, None) == {
        "type": "version.multiple", "versionIds": ["910 / 1.0", "910 / 2.0"]}
