"""Synthetic sites and the demo seed: they load, round-trip, repeat, hold hostile names and hang together."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from fakejira import generator, seeding
from fakejira.__main__ import main as cli

DEMO = Path(__file__).resolve().parents[2] / "fakejira" / "seeds" / "demo.json"
_CACHE: dict[tuple[str, bool, int], dict[str, Any]] = {}


def seed_of(preset: str, *, hostile: bool = True, rng_seed: int = 42) -> dict[str, Any]:
    """Generated once per process: the tests below only read it."""
    key = (preset, hostile, rng_seed)
    if key not in _CACHE:
        _CACHE[key] = generator.generate_preset(preset, hostile=hostile, rng_seed=rng_seed)
    return _CACHE[key]


def assert_round_trip(seed: dict[str, Any], site_name: str = "jira") -> dict[str, Any]:
    site = seeding.new_site(site_name, seed=seed)
    exported = seeding.export_site(site)
    differing = [key for key in seed if exported.get(key) != seed[key]]
    assert differing == [], f"export(load(seed)) differs in {differing}"
    return exported


def all_names(seed: dict[str, Any]) -> list[str]:
    lists = ("projects", "fields", "screens", "workflows", "filters", "statuses", "issueTypes", "dashboards",
             "boards", "permissionSchemes", "workflowSchemes", "users")
    return [item.get("name") or item.get("displayName") or "" for key in lists for item in seed[key]]


@pytest.mark.parametrize("preset", ["small", "medium"])
def test_preset_loads_and_round_trips(preset: str) -> None:
    """Does a generated seed load on top of Jira's defaults and come back out unchanged?"""
    assert_round_trip(seed_of(preset))


@pytest.mark.parametrize("hostile", [True, False])
def test_generation_is_deterministic(hostile: bool) -> None:
    """Does one rng seed always give one document, and another seed a different one?"""
    assert generator.generate_preset("small", hostile=hostile, rng_seed=42) == seed_of("small", hostile=hostile)
    assert generator.generate_preset("small", hostile=hostile, rng_seed=43) != seed_of("small", hostile=hostile)


@pytest.mark.parametrize("needle", ["<script>alert(1)</script>", "'; DROP TABLE", "🚀", "פרויקט", "\u202e", '"double"'])
def test_hostile_names_are_present(needle: str) -> None:
    """Are markup, SQL, emoji, right-to-left text and quotes in the names of a hostile seed, and absent otherwise?"""
    assert any(needle in name for name in all_names(seed_of("medium")))
    assert not any(needle in name for name in all_names(seed_of("small", hostile=False)))


def test_hostile_names_stay_within_jira_rules() -> None:
    """Are names unique (ignoring case), within each type's length limit, and project keys well formed?"""
    seed = seed_of("medium")
    limits = {"projects": 80, "issueTypes": 60, "issueSecuritySchemes": 60, "fields": 255, "screens": 255,
              "workflows": 255, "statuses": 255, "boards": 255}
    for key, limit in limits.items():
        names = [item["name"] for item in seed[key]]
        assert max(len(n) for n in names) <= limit, key
        assert all(n == n.strip() and n for n in names), key
        if key != "fields":  # custom field names need not be unique in Jira
            assert len({n.casefold() for n in names}) == len(names), key
    assert any(len(p["name"]) == 80 for p in seed["projects"]), "no project name at the 80-character limit"
    assert any(len(f["name"]) == 255 for f in seed["fields"]), "no field name at the 255-character limit"
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", p["key"]) for p in seed["projects"])
    owners = [(f["owner"]["accountId"], f["name"].casefold()) for f in seed["filters"]]
    assert len(set(owners)) == len(owners), "filter names are unique per owner"


def test_references_resolve() -> None:
    """Does every project use schemes that exist, and every scheme, workflow, screen and filter name real objects?"""
    seed = seed_of("medium")
    ids = {key: {str(item["id"]) for item in seed[key]} for key in (
        "permissionSchemes", "notificationSchemes", "workflowSchemes", "issueTypeSchemes", "prioritySchemes",
        "issueTypeScreenSchemes", "fieldConfigurationSchemes", "issueSecuritySchemes", "screens", "screenSchemes",
        "statuses", "fields", "filters", "projects", "issueTypes", "fieldConfigurations")}
    projects = ids["projects"]
    assert set(seed["projectPermissionSchemes"]) == projects
    assert set(seed["projectPermissionSchemes"].values()) <= ids["permissionSchemes"]
    assert set(seed["projectNotificationSchemes"].values()) <= ids["notificationSchemes"]
    kinds = {"workflowScheme": "workflowSchemes", "issueTypeScheme": "issueTypeSchemes",
             "priorityScheme": "prioritySchemes"}
    used = {kind for schemes in seed["projectSchemeAssociations"].values() for kind in schemes}
    assert used == set(kinds), "projects use non-default workflow, issue type and priority schemes"
    for schemes in seed["projectSchemeAssociations"].values():
        assert all(sid in ids[kinds[kind]] for kind, sid in schemes.items())
    assert all(row["issueSecuritySchemeId"] in ids["issueSecuritySchemes"]
               for row in seed["projectIssueSecuritySchemes"])
    for row in seed["projectIssueTypeScreenSchemes"]:
        assert row["issueTypeScreenScheme"]["id"] in ids["issueTypeScreenSchemes"]
    workflow_names = {w["name"] for w in seed["workflows"]}
    for scheme in seed["workflowSchemes"]:
        assert {scheme["defaultWorkflow"], *scheme.get("issueTypeMappings", {}).values()} <= workflow_names
    for wf in seed["workflows"]:
        assert {s["statusReference"] for s in wf["statuses"]} <= ids["statuses"]
    for scheme in seed["screenSchemes"]:
        assert {str(s) for s in scheme["screens"].values()} <= ids["screens"] | {"1", "2", "3"}
    tab_fields = {f["id"] for fields in seed["screenTabFields"].values() for f in fields}
    assert any(f.startswith("customfield_") for f in tab_fields) and tab_fields <= ids["fields"]
    keys = {p["key"] for p in seed["projects"]}
    for flt in seed["filters"]:
        named = re.match(r"project in \(([^)]*)\)", flt["jql"])
        assert named and set(named.group(1).split(", ")) <= keys
    assert any("cf[" in f["jql"] for f in seed["filters"]), "some JQL names a custom field"
    assert all(str(c["filter"]["id"]) in ids["filters"] for c in seed["boardConfigurations"].values())
    mapped = {m["projectId"] for rows in seed["fieldContextProjectMappings"].values() for m in rows
              if m.get("projectId")}
    assert mapped and mapped <= projects, "some contexts are restricted to existing projects"


def test_options_cascade_and_defaults() -> None:
    """Are there cascading options with children, option defaults, and shared filters and gadgets?"""
    seed = seed_of("medium")
    options = [o for rows in seed["fieldOptions"].values() for o in rows]
    assert len(options) >= 2500
    assert any(o.get("optionId") for o in options)
    kinds = {d["type"] for rows in seed["fieldContextDefaults"].values() for d in rows}
    assert {"option.single", "option.cascading"} <= kinds
    assert sum(bool(f["sharePermissions"]) for f in seed["filters"]) > len(seed["filters"]) // 2
    assert sum(len(g) for g in seed["dashboardGadgets"].values()) > len(seed["dashboards"])


def test_large_preset_sizes() -> None:
    """Does the large preset ask for the sizes the benchmarks need?"""
    large = generator.PRESETS["large"].resolved()
    assert (large.projects, large.custom_fields, large.options, large.workflows, large.filters) == \
        (200, 1500, 20000, 300, 2000)


@pytest.mark.parametrize("site_name", ["jira", "acme"])
def test_demo_seed_loads_and_round_trips(site_name: str) -> None:
    """Does demo.json load into a served site of any name, and round-trip exactly into one named like its capture?"""
    seed = json.loads(DEMO.read_text(encoding="utf-8"))
    site = seeding.new_site(site_name, seed=seed)
    if site_name == "jira":
        assert_round_trip(seed)
    assert {p["key"] for p in site.store.values("projects")} == {"WEB", "MOB", "API", "OPS", "SUP", "DATA", "SEC"}


def test_demo_seed_is_what_the_generator_builds() -> None:
    """Is the checked-in demo.json current with ``generator.demo_seed()``?"""
    assert json.loads(DEMO.read_text(encoding="utf-8")) == generator.demo_seed()


def test_cli_generate_writes_the_preset(tmp_path: Path) -> None:
    """Does ``python -m fakejira generate`` write the same document as the library call?"""
    out = tmp_path / "small.json"
    assert cli(["generate", "--preset", "small", "--no-hostile", "--rng-seed", "42", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == seed_of("small", hostile=False)


def test_unknown_preset_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        generator.generate_preset("huge")
