"""Does restoring everything after a partial restore converge (#16, finding 4)? Objects an earlier run created are
recognised and brought in line — a filter isn't created twice ("Filter with same name already exists"), a board
isn't skipped, grants aren't left missing because an object was 'reused' as it was — and the result is what a single
full restore gives, measured by the independent yardstick."""

from __future__ import annotations

from app.restore.plan import Selection
from fakejira import canonical
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import outcomes, preview, restore
from tests.restore.test_restore_owners import same_users  # noqa: F401  (the fixture)

GOOD = ("created", "reused", "updated", "cannot")


def _yardstick(sites) -> list[str]:
    found = canonical.compare(canonical.canonical_export(sites.source), canonical.canonical_export(sites.dest))
    return sorted(d.words for d in found.differences)


def test_everything_after_one_project_gives_what_one_full_restore_gives(app, same_users, fake_cloud) -> None:  # noqa: F811
    sites = same_users
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    first = restore(app, sites, preview(app, sites, snapshot), Selection(types=["projects"], projects=["WEB"]),
                    fallback="admin")
    assert first.status in ("done", "done_with_differences"), (first.status, first.message)

    second = restore(app, sites, preview(app, sites, snapshot), Selection(), fallback="admin")
    items = outcomes(app, second.id)
    bad = {k: (i.outcome, i.reason) for k, i in items.items() if i.selected and i.outcome not in GOOD}
    assert not bad, bad
    after_two = _yardstick(sites)

    # A third run over the converged site writes nothing new and changes nothing the yardstick sees.
    third = restore(app, sites, preview(app, sites, snapshot), Selection(), fallback="admin")
    third_items = outcomes(app, third.id)
    assert not [k for k, i in third_items.items() if i.selected and i.outcome == "created"]
    assert _yardstick(sites) == after_two
    # Whatever still differs is what one full restore also leaves: people the destination lacks and board settings
    # no API writes — never an object or a grant an earlier run left behind.
    # (the source site's own admin has no account on another site)
    leftovers = [w for w in after_two if not any(m in w for m in ("gone@", "admin@source", "columns", "sub-query",
                                                                   "sprint"))]
    assert not leftovers, leftovers


def test_the_demo_company_restored_one_project_then_everything_on_a_new_site(app, fake_cloud, install_into,
                                                                           oauth_grant) -> None:
    """The walk that found it: the demo seed, an empty destination, 'Projects, WEB', then everything."""
    import json
    from pathlib import Path

    from fakejira.seeding import export_site
    from tests.restore.test_restore_fields import connect_sites

    seed = json.loads((Path(__file__).resolve().parents[2] / "fakejira" / "seeds" / "demo.json").read_text("utf-8"))
    sites = connect_sites(app, fake_cloud, install_into, seed, None)
    oauth_grant(sites.source, sites.source_tenant_id)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    restore(app, sites, preview(app, sites, snapshot), Selection(types=["projects"], projects=["WEB"]),
            fallback="admin")
    second = restore(app, sites, preview(app, sites, snapshot), Selection(), fallback="admin")
    items = outcomes(app, second.id)
    bad = {k: (i.outcome, i.reason) for k, i in items.items() if i.selected and i.outcome not in GOOD}
    assert not bad, bad
    assert {p["key"] for p in seed["projects"]} <= {p["key"] for p in export_site(sites.dest)["projects"]}
    report = second.verification or {}
    assert report.get("unexplained") == 0, [d["words"] for d in report.get("differences", []) if not d["reason"]][:10]
