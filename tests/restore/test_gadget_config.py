"""Does a gadget's configuration (its dashboard item properties) come across with every id inside it in destination
terms — filters, projects, custom fields, issue types, statuses — and is a setting naming something with no
counterpart left out and reported rather than kept with a source id?"""

from __future__ import annotations

from typing import Any

import pytest

from app.restore.restorers import load
from app.restore.types.base import Ref, UnmappedReference
from app.restore.types.sharing import map_gadget_properties

IDS = {("filters", "10001"): "30001", ("filters", "10002"): "30002", ("projects", "10000"): "40000",
       ("customFields", "customfield_10050"): "customfield_50050", ("issueTypes", "10004"): "60004",
       ("statuses", "10007"): "70007"}


class Ids:
    """An id map holding ``IDS`` (the restore's ``IdMap`` protocol)."""

    def get(self, type_key: str, source_id: str) -> str | None:
        return IDS.get((type_key, str(source_id)))

    def require(self, type_key: str, source_id: str) -> str:
        found = self.get(type_key, source_id)
        if found is None:
            raise UnmappedReference(Ref(type_key, source_id))
        return found

    def user(self, account_id: str) -> str | None:
        return account_id


@pytest.mark.parametrize(("source", "expected"), [
    ({"config": {"filterId": "filter-10001", "num": "10"}}, {"config": {"filterId": "filter-30001", "num": "10"}}),
    ({"config": {"projectOrFilterId": "project-10000"}}, {"config": {"projectOrFilterId": "project-40000"}}),
    ({"config": {"projectOrFilterId": "filter-10002"}}, {"config": {"projectOrFilterId": "filter-30002"}}),
    ({"config": {"filterId": "10001", "isConfigured": "true"}}, {"config": {"filterId": "30001",
                                                                            "isConfigured": "true"}}),
    ({"config": {"filterId": 10001}}, {"config": {"filterId": 30001}}),
    ({"prefs": "filterId=10001&num=5"}, {"prefs": "filterId=30001&num=5"}),
    ({"config": {"xstattype": "customfield_10050", "ystattype": "statuses"}},
     {"config": {"xstattype": "customfield_50050", "ystattype": "statuses"}}),
    ({"config": {"columnNames": "issuetype|issuekey|summary|customfield_10050"}},
     {"config": {"columnNames": "issuetype|issuekey|summary|customfield_50050"}}),
    ({"config": {"issueTypeIds": "10004,10004", "statusId": "10007"}},
     {"config": {"issueTypeIds": "60004,60004", "statusId": "70007"}}),
    ({"config": {"title": "project-2024 plan", "name": "filter 10001", "project": "WEB"}},
     {"config": {"title": "project-2024 plan", "name": "filter 10001", "project": "WEB"}}),  # free text, keys
    ({"list": [{"filterId": "filter-10001"}, "plain"]}, {"list": [{"filterId": "filter-30001"}, "plain"]}),
])
def test_ids_inside_a_gadget_configuration_are_rewritten(source: dict[str, Any], expected: dict[str, Any]) -> None:
    mapped, problems = map_gadget_properties(source, Ids())
    assert (mapped, problems) == (expected, [])


def test_a_setting_naming_something_not_restored_is_left_out_and_reported() -> None:
    source = {"config": {"filterId": "filter-99999", "num": "10", "columnNames": "summary|customfield_99"},
              "other": "project-88888", "keep": {"refresh": "15"}}
    mapped, problems = map_gadget_properties(source, Ids())
    assert mapped == {"config": {"num": "10"}, "keep": {"refresh": "15"}}
    assert len(problems) == 3
    assert "'filterId' names filter 99999" in problems[0] and "left out" in problems[0]
    assert "'columnNames' names custom field customfield_99" in problems[1]
    assert "'other' names project 88888" in problems[2]
    assert not any("99999" in str(v) or "88888" in str(v) for v in mapped.values())


def test_the_objects_a_gadget_configuration_names_are_its_dashboards_references() -> None:
    dashboard = {"id": "5", "name": "Ops", "gadgets": [{"id": "1", "properties": {"config": {
        "filterId": "filter-10001", "xstattype": "customfield_10050", "projectOrFilterId": "project-10000",
        "num": "10"}}}]}
    refs = load()["dashboards"].references(dashboard)
    assert sorted(refs, key=lambda r: r.type_key) == [Ref("customFields", "customfield_10050", True),
                                                      Ref("filters", "10001", True), Ref("projects", "10000", True)]
