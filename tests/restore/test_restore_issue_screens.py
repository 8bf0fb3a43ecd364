"""Issues holding values for fields their destination's create screen lacks come back with their key and values.

Jira lets an issue hold a value its create screen doesn't show (set by an edit, by automation, or before the screen
changed), and refuses a create that sends it. The destination here has the source's configuration with priority,
due date and environment taken off every screen: the issue restore creates without them (as the create metadata says)
and sets them with one edit overriding the screen, only for issues that hold them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.restore.issues.restore import ProjectIssues
from tests.restore.test_restore_issues import World, _projects, _restore_all

OFF_SCREEN = ("priority", "duedate", "environment")  # not required by the field configuration (labels is)
EDIT = "/rest/api/3/issue/{issueIdOrKey}"


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    from fakejira import generator

    return generator.generate_preset("issues-small", rng_seed=42)


def _screens_without(world: World, field_ids: tuple[str, ...]) -> None:
    for tab_field in list(world.dest.store.values("screenTabFields")):
        if tab_field["id"] in field_ids:
            world.dest.store.delete("screenTabFields", tab_field["_key"])


@pytest.fixture
def world(app, fake_cloud, seed) -> World:
    world = World(app, fake_cloud, copy.deepcopy(seed), scopes=["ADMIN", "ACT_AS_USER"])
    _screens_without(world, OFF_SCREEN)
    return world


def _assert_values_kept(world: World) -> None:
    for record in world.records:
        got = world.dest_issue(record.key, fields="priority,duedate,environment")["fields"]
        want = record.fields
        assert got["priority"]["id"] == want["priority"]["id"], record.key
        assert got.get("duedate") == want.get("duedate"), record.key
        assert got.get("environment") == want.get("environment"), record.key


def _override_edits(world: World) -> list[Any]:
    return [c for c in world.dest.calls.find("PUT", EDIT) if "overrideScreenSecurity=true" in c.query]


def test_off_screen_values_come_back_with_the_issue_and_its_key(world: World) -> None:
    """Is every issue created (key kept, none refused) and its priority, due date and environment set as they were?"""
    assert any(r.fields.get("duedate") for r in world.records)
    reports = _restore_all(world)
    for project in _projects(world):
        assert world.dest_keys_of(project) == [r.key for r in world.records if r.project_key == project]
        assert "failed" not in reports[project].counts(), reports[project].issues
        assert reports[project].keys_kept
    _assert_values_kept(world)
    assert len(_override_edits(world)) == len(world.records)  # each holds a priority: one edit each
    assert all(_restore_all(world)[p].writes == 0 for p in _projects(world))  # a second run writes nothing


def test_only_issues_holding_off_screen_values_pay_the_edit(app, fake_cloud, seed) -> None:
    world = World(app, fake_cloud, copy.deepcopy(seed), scopes=["ADMIN", "ACT_AS_USER"])
    _screens_without(world, ("duedate",))
    _restore_all(world)
    holding = [r for r in world.records if r.fields.get("duedate")]
    assert 0 < len(holding) < len(world.records)
    assert len(_override_edits(world)) == len(holding)
    _assert_values_kept(world)


def test_a_kill_between_the_create_and_the_edit_still_ends_with_the_values(world: World) -> None:
    """The run dies after its creates, before the off-screen edits: the resumed run sets the values."""
    project = _projects(world)[0]
    original = ProjectIssues._off_screen_fields
    calls = {"n": 0}

    def dies(self: Any, record: Any, dest: str, outcome: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("killed")
        original(self, record, dest, outcome)

    ProjectIssues._off_screen_fields = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            world.restore(project)
    finally:
        ProjectIssues._off_screen_fields = original  # type: ignore[method-assign]
    world.restore(project)
    assert world.dest_keys_of(project) == [r.key for r in world.records if r.project_key == project]
    world.records = [r for r in world.records if r.project_key == project]
    _assert_values_kept(world)


def test_an_app_without_administer_jira_keeps_the_issue_and_says_what_was_not_set(app, fake_cloud, seed) -> None:
    """Without the ADMIN scope Jira refuses the override: the issue keeps its key, the report names the fields."""
    world = World(app, fake_cloud, copy.deepcopy(seed), scopes=["DELETE", "ACT_AS_USER"])
    _screens_without(world, ("duedate",))
    project = next(p for p in _projects(world)
                   if any(r.fields.get("duedate") for r in world.records if r.project_key == p))
    report = world.restore(project)
    assert world.dest_keys_of(project) == [r.key for r in world.records if r.project_key == project]
    holder = next(r for r in world.records if r.project_key == project and r.fields.get("duedate"))
    notes = " ".join(report.issues[holder.key].notes)
    assert "duedate not set" in notes and "Administer Jira" in notes
