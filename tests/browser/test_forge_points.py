"""Does the Forge admin page (the built bundle, in Chromium) show what a backup spent of Jira's points, the numbers
its job recorded, in the list and on the snapshot?"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.backups.models import Snapshot
from app.extensions import db
from app.jobs.models import Job
from tests.browser.test_forge_admin_ui import LONG, _install, app_config, chromium, dist, forge_live, open_admin  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_the_forge_page_shows_a_backups_points(forge_live, fake_cloud, open_admin) -> None:  # noqa: F811
    site = fake_cloud.add_site("pointsite")
    admin = open_admin("points", _install(fake_cloud, forge_live.config["BASE_URL"], site))
    page = admin.page
    page.get_by_test_id("backup-now").click()
    expect(page.get_by_test_id("snapshot-row").first).to_have_attribute("data-status", "complete", timeout=LONG)
    with forge_live.app_context():
        job_id = db.session.scalars(db.select(Snapshot.job_id)).one()
        spent = db.session.get(Job, job_id).points["points"]
    assert spent > 0
    cell = page.get_by_test_id("snapshot-points").first
    expect(cell).to_have_attribute("data-points", str(spent))
    expect(cell).to_have_text(f"{spent:,}")
    page.get_by_test_id("snapshot-link").first.click()
    expect(page.get_by_test_id("snapshot-points")).to_have_text(f"{spent:,} points of Jira's hourly quota")
    admin.check("backup points")
