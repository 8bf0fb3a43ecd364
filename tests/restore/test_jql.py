"""The JQL grammar the restore rewrites filters with (app/restore/jql.py): hostile strings, every id kind, clauses
left out whole when they name something that didn't come across, and the text unchanged when nothing maps."""

from __future__ import annotations

import pytest

from app.restore import jql

HOSTILE = [
    'project = 20001 AND issuetype in (10004, 10003) AND status != 10001 AND priority = 2 AND resolution = 10002',
    'fixVersion = 20001 AND affectedVersion NOT IN (20002) AND component = 20001 AND sprint = 7',
    'cf[20001] = 40001 AND cf[20009] in cascadeOption(40011, 40012) ORDER BY cf[20005] DESC, priority ASC',
    'assignee = "557058:a1a1a1a1-0000-4000-8000-00000000a001" AND reporter != 557058:c3c3c3c3-0000-4000-8000-0000',
    'assignee in membersOf("21e164ff-42d5-5767-9ce8-40bd41b653b0") AND status WAS 10004 BY 557058:b2b2-x',
    'status CHANGED FROM 10000 TO 3 AFTER -2w BEFORE "2024/01/01 10:00" AND "Team" IS NOT EMPTY',
    'summary !~ "\\"quoted\\" \\\\ <script> AND status = 1" AND labels IS EMPTY',
    "x = 'it\\'s' AND y ~ \"q\" AND (a = 1 OR NOT (b in (1, \"2\")) OR !(c = d))",
    "  (a = 1 OR NOT (b in (1, \"2\")))  order   by cf[1] asc , x  ",
    "issuetype is not empty && !(a=b) || c != d & e = f | g ~ h",
    "status was not in (1, 2) DURING (\"2020-01-01\", \"2020-02-01\") and customfield_10050 in (10101, 10102)",
    "project in releasedVersions(10000) and fixVersion in unreleasedVersions(\"HOS\") ORDER BY Rank",
    "filter = 10010 AND savedFilter != \"My open work\" AND category = 10000 AND level = 10100",
    "ORDER BY cf[10] DESC",
    "",
    "Ünïcödé = \"🚀\" AND cf[ 10050 ] = 1",
]


class Same:
    """Every id maps onto itself."""

    def field_kind(self, field_id: str) -> str | None:
        return "options"

    def map(self, kind: str, source_id: str) -> str | None:
        return source_id


class Table:
    """Maps from a table of (kind, id) -> destination id; anything else has no counterpart."""

    def __init__(self, table: dict[tuple[str, str], str], kinds: dict[str, str] | None = None) -> None:
        self.table, self.kinds = table, kinds or {}

    def field_kind(self, field_id: str) -> str | None:
        return self.kinds.get(field_id)

    def map(self, kind: str, source_id: str) -> str | None:
        return self.table.get((kind, source_id))


@pytest.mark.parametrize("text", HOSTILE)
def test_text_is_unchanged_when_every_id_maps_onto_itself(text: str) -> None:
    """Does re-serialising keep every character (quotes, escapes, spaces, case) when nothing changes?"""
    result = jql.rewrite(text, Same())
    assert result.text == text
    assert result.dropped == [] and result.unreadable is None


def test_every_id_kind_is_rewritten_in_place() -> None:
    """Is each id operand — of every kind, in lists, functions and history predicates — mapped, names kept?"""
    text = ('project = 20001 AND issuetype in (10004, "Bug") AND status != 10001 AND priority = 2 AND '
            'resolution = 10002 AND fixVersion = 20001 AND affectedVersion NOT IN (20002) AND component = 20001 '
            'AND cf[20001] = 40001 AND customfield_20009 in cascadeOption(40011, 40012) AND filter = 30 AND '
            'assignee in membersOf("21e164ff-42d5-5767-9ce8-40bd41b653b0") AND status WAS 10004 BY u:1 AND '
            'status CHANGED FROM 10000 TO 3 AND sprint = 7 AND summary ~ "10001" ORDER BY cf[20005] DESC')
    table = {("projects", "20001"): "1", ("issueTypes", "10004"): "2", ("statuses", "10001"): "3",
             ("priorities", "2"): "4", ("resolutions", "10002"): "5", ("versions", "20001"): "6",
             ("versions", "20002"): "7", ("components", "20001"): "8", ("customFields", "customfield_20001"):
             "customfield_9", ("options", "40001"): "10", ("customFields", "customfield_20009"): "customfield_11",
             ("options", "40011"): "12", ("options", "40012"): "13", ("filters", "30"): "14",
             ("groups", "21e164ff-42d5-5767-9ce8-40bd41b653b0"): "aaaaaaaa-0000-4000-8000-000000000000",
             ("statuses", "10004"): "15", ("users", "u:1"): "u:1", ("statuses", "10000"): "16",
             ("statuses", "3"): "17", ("sprints", "7"): "18", ("customFields", "customfield_20005"): "customfield_19"}
    kinds = {"customfield_20001": "options", "customfield_20009": "options"}
    result = jql.rewrite(text, Table(table, kinds))
    assert result.text == (
        'project = 1 AND issuetype in (2, "Bug") AND status != 3 AND priority = 4 AND resolution = 5 AND '
        'fixVersion = 6 AND affectedVersion NOT IN (7) AND component = 8 AND cf[9] = 10 AND customfield_11 in '
        'cascadeOption(12, 13) AND filter = 14 AND assignee in membersOf("aaaaaaaa-0000-4000-8000-000000000000") '
        'AND status WAS 15 BY u:1 AND status CHANGED FROM 16 TO 17 AND sprint = 18 AND summary ~ "10001" '
        'ORDER BY cf[19] DESC')
    assert result.dropped == []


@pytest.mark.parametrize(("text", "expected", "clause"), [
    ("status = 1 AND status = 2 AND status = 3", "status = 1 AND status = 3", "status = 2"),
    ("status = 2 AND status = 3", "status = 3", "status = 2"),
    ("status = 1 OR (status = 2) ORDER BY x", "status = 1 ORDER BY x", "status = 2"),
    ("(status = 2) ORDER BY created", "ORDER BY created", "status = 2"),
    ("NOT status = 2 AND status = 1", "status = 1", "status = 2"),
    ("status = 1 AND (status = 2 OR status in (3, 2))", "status = 1", "status = 2"),
    ("status = 1 AND (status = 2 OR status = 3)", "status = 1 AND (status = 3)", "status = 2"),
    ("status = 1 order by cf[2] desc, y", "status = 1 order by y", "cf[2] desc"),
    ("status = 1 ORDER BY cf[2]", "status = 1", "cf[2]"),
    ("cf[2] = x AND status = 1", "status = 1", "cf[2] = x"),
    ("status changed FROM 1 TO 2", "", "status changed FROM 1 TO 2"),
    ("assignee = u:2 OR status = 1", "status = 1", "assignee = u:2"),
])
def test_a_clause_naming_something_missing_is_left_out_whole_and_reported(text: str, expected: str,
                                                                        clause: str) -> None:
    """Is the clause (with its connective) left out, never kept with a source id, and named in the report?"""
    table = {("statuses", "1"): "1", ("statuses", "3"): "3", ("users", "u:1"): "u:1"}
    result = jql.rewrite(text, Table(table))
    assert result.text == expected
    assert [d.text for d in result.dropped][:1] == [clause]
    assert "has no counterpart here" in result.dropped[0].words()


def test_quoted_values_are_names_and_ids_keep_their_quotes() -> None:
    """Are quoted numbers left alone as names, and a quoted accountId re-quoted the same way?"""
    table = {("users", "u:1"): "u:9"}
    result = jql.rewrite('status = "10" AND assignee = \'u:1\'', Table(table))
    assert result.text == 'status = "10" AND assignee = \'u:9\''


def test_references_name_every_id_for_ordering() -> None:
    refs = jql.references('project = 1 AND cf[5] = 40 AND x in membersOf("team") ORDER BY customfield_6',
                          {"customfield_5": "options"}.get)
    assert refs == [jql.IdRef("projects", "1"), jql.IdRef("customFields", "customfield_5"),
                    jql.IdRef("options", "40"), jql.IdRef("customFields", "customfield_6")]


@pytest.mark.parametrize("text", ['status = "open', "status = (1, 2", "status", "status = 1 AND", "= 1",
                                  "status in (1,) ", "status = 1 ORDER BY"])
def test_unreadable_jql_is_kept_and_said(text: str) -> None:
    """Is JQL the grammar can't read kept as it was with the reason (expected vs found), never half-rewritten?"""
    result = jql.rewrite(text, Table({}))
    assert result.text == text and result.unreadable
    with pytest.raises(jql.JqlSyntaxError):
        jql.parse(text)


@pytest.mark.parametrize("text", [
    'summary ~ "status = 10001" AND labels IS EMPTY ORDER BY created DESC',
    "project = HOS AND status in (\"In Review\", 'To Do') AND assignee in (currentUser(), EMPTY)",
    "text ~ \"fixVersion = 20001\\\\\" AND \"Team\" IS NOT EMPTY",
])
def test_text_without_ids_is_unchanged_even_when_nothing_maps(text: str) -> None:
    """Are names, keys, functions and quoted text left exactly as written when the mapper knows nothing?"""
    assert jql.rewrite(text, Table({})).text == text
    assert jql.rewrite(text, Table({})).dropped == []
