"""Is the fidelity yardstick right? Same configuration under other ids compares equal; each changed reference is
exactly one difference, in words; the JQL tokenizer gives back what it read."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from fakejira import canonical, hostile_seed, jql, seeding

SEED_PATH = Path(__file__).resolve().parents[2] / "fakejira" / "seeds" / "hostile.json"
HOSTILE_JQL = [
    'summary ~ "escaped \\"value\\"" AND description !~ \'it\\\'s\'',
    'cf[10050] = 10101 AND "Team" IS NOT EMPTY ORDER BY cf[10050] DESC, priority ASC',
    "status WAS IN (1, 3) BY 557058:abc AFTER -2w AND status CHANGED FROM 1 TO 3 DURING (\"2024-01-01\", now())",
    "assignee in membersOf(\"6c2b3a8e-0d4e\") AND NOT (project = WEB OR project NOT IN (10000, 10001))",
    "labels IS EMPTY and text ~ \"<script>alert('x')</script> — 🚀 \\\\ back\"",
    "  leading and trailing spaces = x  ",
    "",
]


def _shifted(seed: dict[str, Any]) -> dict[str, Any]:
    """The same configuration with every id the hostile additions use moved (20001 -> 120001, cf[20001]...)."""
    text = re.sub(r"(?<!\d)([2-5]\d{4})(?!\d)", lambda m: str(int(m.group(1)) + 100000), json.dumps(seed))
    return json.loads(text)


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    return json.loads(SEED_PATH.read_text(encoding="utf-8"))


def _differences(a_seed: dict[str, Any], b_seed: dict[str, Any]) -> canonical.Comparison:
    a, b = seeding.new_site("jira", seed=a_seed), seeding.new_site("jira", seed=b_seed)
    return canonical.compare(canonical.canonical_export(a), canonical.canonical_export(b))


def test_the_seed_file_is_what_the_builder_makes(seed: dict[str, Any]) -> None:
    """Is seeds/hostile.json current (regenerate with python -m fakejira.hostile_seed)?"""
    assert seed == json.loads(json.dumps(hostile_seed.hostile_seed()))


def test_same_configuration_under_other_ids_compares_equal(seed: dict[str, Any]) -> None:
    """Do two sites holding the same configuration under different ids compare equal, both ways?"""
    other = _shifted(seed)
    assert other != seed and "customfield_120001" in json.dumps(other)
    for result in (_differences(seed, other), _differences(other, seed)):
        assert [d.words for d in result.differences] == []
        assert result.identical == result.total > 150


def test_no_reference_in_the_hostile_seed_names_nothing(seed: dict[str, Any]) -> None:
    """Does every id in the seed resolve on its own site (no missing marker, so markers mean something)?"""
    text = json.dumps(canonical.canonical_export(seeding.new_site("jira", seed=seed)), ensure_ascii=False)
    assert "<missing" not in text
    assert "Bug (level 0)" in text and "HOS/2.0 'beta'" in text  # JQL ids named


def _workflow(seed: dict[str, Any]) -> dict[str, Any]:
    return next(w for w in seed["workflows"] if w["name"] == "Dev flow")


def _one(result: canonical.Comparison) -> str:
    assert len(result.differences) == 1, [d.words for d in result.differences]
    return result.differences[0].words


def test_a_swapped_role_in_a_workflow_condition_is_one_difference(seed: dict[str, Any]) -> None:
    changed = _shifted(seed)
    start = next(t for t in _workflow(changed)["transitions"] if t["name"] == "Start")
    start["conditions"]["conditions"][0]["parameters"]["roleIds"] = "10002"  # Administrators
    words = _one(_differences(seed, changed))
    assert words == ("workflow 'Dev flow' transitions 'Start' conditions conditions 'system:restrict-issue-transition' "
                     "roleIds: role 'Developers' on the source, role 'Administrators' on the destination")


def test_a_changed_id_in_a_jql_clause_is_one_difference(seed: dict[str, Any]) -> None:
    changed = _shifted(seed)
    f = next(f for f in changed["filters"] if f["name"] == "Every id kind")
    f["jql"] = f["jql"].replace("priority = 2 ", "priority = 3 ")
    words = _one(_differences(seed, changed))
    assert words.startswith("filter 'ann@nimbus.example / Every id kind' jql: ")
    assert 'priority = "High"' in words.split(" on the source, ")[0]
    assert 'priority = "Medium"' in words.split(" on the source, ")[1]


def test_an_unknown_id_in_jql_is_an_explicit_marker(seed: dict[str, Any]) -> None:
    changed = copy.deepcopy(seed)
    f = next(f for f in changed["filters"] if f["name"] == "Every id kind")
    f["jql"] = "status = 10999 AND cf[99999] = 1"
    site = seeding.new_site("jira", seed=changed)
    got = canonical.canonical_export(site)["filters"]["ann@nimbus.example / Every id kind"]["jql"]
    assert got == "status = <missing status 10999> AND <missing field customfield_99999> = 1"


def test_another_group_in_a_share_permission_is_one_difference(seed: dict[str, Any]) -> None:
    changed = _shifted(seed)
    mine = next(f for f in changed["filters"] if f["name"] == "My open work"
                and f["owner"]["accountId"] == hostile_seed.ANN)
    developers = next(g for g in changed["groups"] if g["name"] == "developers")
    mine["sharePermissions"] = [{"type": "group", "group": dict(developers)}]
    assert _one(_differences(seed, changed)) == (
        "filter 'ann@nimbus.example / My open work' shared with: group: group 'team-leads' on the source, "
        "group: group 'developers' on the destination")


def test_another_option_as_a_default_value_is_one_difference(seed: dict[str, Any]) -> None:
    changed = _shifted(seed)
    changed["fieldContextDefaults"]["customfield_120001"][0]["optionId"] = "140002"  # Blue instead of Red "team"
    words = _one(_differences(seed, changed))
    assert words == ("custom field 'Team [select]' contexts 'Default Configuration Scheme for Team' default optionId: "
                     "option 'Team [select] / Default Configuration Scheme for Team / Red \"team\"' on the source, "
                     "option 'Team [select] / Default Configuration Scheme for Team / Blue' on the destination")


def test_only_the_destination_s_defaults_are_not_differences(seed: dict[str, Any]) -> None:
    """Objects only the destination has (here: the whole seed) are never reported missing, nor counted."""
    result = _differences({}, seed)
    assert not [d.words for d in result.differences if d.destination is None and not d.path]
    assert result.counts["filters"] == {"identical": 0, "total": 0}
    assert result.counts["workflows"] == {"identical": 1, "total": 1}  # the read-only 'jira' workflow


def _all_jql(seed: dict[str, Any]) -> list[str]:
    found = [f["jql"] for f in seed["filters"]]
    found += [c["subQuery"]["query"] for c in seed["boardConfigurations"].values() if c.get("subQuery")]
    return found + HOSTILE_JQL


def test_the_jql_tokenizer_round_trips_hostile_queries(seed: dict[str, Any]) -> None:
    """Does re-serialising the tokens (and rewriting with nothing to replace) give the exact input back?"""
    for text in _all_jql(seed):
        assert jql.serialise(jql.tokenize(text)) == text
        assert jql.rewrite(text, lambda f: None, lambda f, t, fn, p: None) == text


def test_the_jql_tokenizer_reads_strings_functions_and_operators() -> None:
    tokens = [t for t in jql.tokenize('cf[10050] !~ "a \\"b\\"" AND x in membersOf("g")') if t.kind != "ws"]
    assert [(t.kind, t.text) for t in tokens] == [
        ("word", "cf[10050]"), ("op", "!~"), ("string", '"a \\"b\\""'), ("word", "AND"), ("word", "x"),
        ("word", "in"), ("word", "membersOf"), ("lparen", "("), ("string", '"g"'), ("rparen", ")")]
    assert tokens[2].value == 'a "b"'
    with pytest.raises(jql.JqlSyntaxError, match="unterminated string"):
        jql.tokenize('summary ~ "open')
