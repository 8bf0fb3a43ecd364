"""Do both doors' restore pages, walked in Chromium, stay short and ordered (#16, from the screenshots): named missing
people first, what a selection pulls in one line per type, the per-object list folded (filtered by outcome on the
Connect page, without JavaScript) — and on the Forge page, does "Copy token" work when Jira's iframe blocks the
clipboard (finding 7), and does each section offer at most one primary action (finding 9)?"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import test_restore_findings as findings
from tests.browser.test_copy_token import BLOCK_CLIPBOARD, BLOCK_EXEC_COMMAND, SELECTION, TOKEN

pytestmark = pytest.mark.browser

world = findings.world  # the demo company backed up once, Chromium, the built Forge page (a module fixture)
admin_page = findings.admin_page
# Each section's visible primary buttons (Atlassian: one primary action per section).
PRIMARIES = """() => [...document.querySelectorAll("section")].map(s => ({
  section: s.dataset.testid || s.id,
  primaries: [...s.querySelectorAll(".button--primary")]
    .filter(b => b.closest("section") === s && b.offsetParent !== null).map(b => b.textContent.trim())}))"""


def _missing_order(page) -> list[str]:
    return [" ".join(t.split()) for t in page.get_by_test_id("missing-user").all_inner_texts()]


@pytest.mark.parametrize("door", findings.DOORS)
def test_a_preview_is_short_named_people_first_and_pulled_in_by_type(world, admin_page, door) -> None:
    """Named missing people come first, alphabetically; the per-object list is folded until asked for; "Projects,
    WEB" says "N custom fields, …" with one line per type and every name one click away."""
    dest = world.destination(door, f"tidy-{door}")
    p = admin_page(dest, f"{door}-tidy")
    page = p.page
    p.preview()
    shown = _missing_order(page)
    named = [t for t in shown if not t.startswith("a person the backup has no name for")]
    assert named and len(named) < len(shown) and shown[:len(named)] == named, shown
    assert named == sorted(named, key=str.casefold), named

    folded = page.get_by_test_id("objects-details")
    expect(folded).not_to_have_attribute("open", "")
    expect(page.get_by_test_id("restore-item").first).to_be_hidden()
    assert page.evaluate("() => document.documentElement.scrollHeight") < 6000
    p.step("preview with the objects folded", "objects-summary")
    page.get_by_test_id("objects-summary").click()
    expect(page.get_by_test_id("restore-item").first).to_be_visible()

    page.locator('input[name="scope"][value="some"]').check()
    page.locator('input[name="type"][value="projects"]').check()
    page.get_by_label("Projects (keys, comma-separated)").fill("WEB")
    page.get_by_test_id("restore-show-selection").click()
    groups = page.get_by_test_id("pulled-in-group")
    expect(groups.first).to_be_visible()
    objects = page.get_by_test_id("pulled-in")
    assert groups.count() < objects.count()
    expect(objects.first).to_be_hidden()
    expect(page.get_by_test_id("pulled-in-summary")).to_contain_text("custom field")
    fields = page.locator('[data-testid="pulled-in-group"][data-type="customFields"]')
    count = int(fields.get_attribute("data-count") or 0)
    assert fields.get_by_test_id("pulled-in").count() == count > 0
    fields.locator("summary").click()
    expect(fields.get_by_test_id("pulled-in").first).to_be_visible()
    p.step("pulled in, one line per type", "pulled-in-summary")


def test_connect_filters_the_objects_by_plan_without_javascript(world, admin_page) -> None:
    """The filter is links: following "Create (n)" opens the list with only what would be created; "All" again."""
    dest = world.destination("connect", "tidy-filter")
    p = admin_page(dest, "connect-tidy-filter")
    page = p.page
    p.preview()
    every = page.get_by_test_id("restore-item").count()
    page.get_by_test_id("objects-summary").click()
    page.locator('[data-testid="objects-filter-link"][data-outcome="create"]').click()
    rows = page.get_by_test_id("restore-item")
    expect(rows.first).to_be_visible()
    assert 0 < rows.count() < every
    assert {r.get_attribute("data-action") for r in rows.all()} == {"create"}
    expect(page.get_by_test_id("objects-summary")).to_contain_text("“Create”")
    p.step("objects filtered by plan", "objects-filter")
    page.get_by_test_id("objects-filter-all").click()
    expect(page.get_by_test_id("restore-item")).to_have_count(every)


def test_forge_copy_token_in_a_frame_whose_clipboard_is_blocked_selects_it_and_says_how(world, admin_page) -> None:
    """Finding 7 on the Forge page: with the Clipboard API and execCommand both refused, "Copy token" leaves the
    whole token selected and says which keys copy it (it is shown only once)."""
    source = world.install("forge", world.site("tidy-copy"))
    p = admin_page(source, "forge-tidy-copy")
    page = p.page
    page.add_init_script(BLOCK_CLIPBOARD)
    page.add_init_script(BLOCK_EXEC_COMMAND)
    p.open()
    page.get_by_role("button", name="Generate token").click()
    assert TOKEN.fullmatch(page.get_by_test_id("revealed-token").input_value())
    page.get_by_test_id("copy-token").click()
    expect(page.get_by_test_id("copy-status")).to_contain_text("press Ctrl+C to copy")
    selection = page.evaluate(SELECTION)
    assert selection == {"start": 0, "end": 42, "length": 42, "focused": True}, selection
    p.step("copy blocked: token selected, keys said", "token-reveal")


@pytest.mark.parametrize("door", findings.DOORS)
@pytest.mark.parametrize("where", ["new-site", "destination"])
def test_each_section_offers_at_most_one_primary_action(world, admin_page, door, where) -> None:
    """Finding 9 on both doors: on a brand-new site and on a connected destination, no section shows more than one
    primary button (the backups section's schedule form saves with a default button beside "Back up now")."""
    dest = (world.install(door, world.site(f"tidy-new-{door}")) if where == "new-site"
            else world.destination(door, f"tidy-primary-{door}"))
    p = admin_page(dest, f"{door}-tidy-primary-{where}")
    sections = p.page.evaluate(PRIMARIES)
    assert sections and all(len(s["primaries"]) <= 1 for s in sections), sections
    p.step(f"one primary per section ({where})", "backups-section")
