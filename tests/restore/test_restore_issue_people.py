"""When an issue's reporter has no account on the destination, does the admin's choice decide who stands in — the
admin who started the restore ("admin"), as for the configuration — through the run's one people policy?"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.recovery.connections import activate, generate_token
from app.tenants import Tenant
from fakejira.resources.basics import admin_account_id
from tests.restore.conftest import Sites, take_backup
from tests.restore.test_restore_basics import preview, restore
from tests.restore.test_restore_issue_job import ISSUE_DATA_KEYS, _as_app, _seed


def _sites_without(app: Any, fake_cloud: Any, install_into: Any, missing: str) -> Sites:
    app.config["CONNECT_IMPERSONATION_URL"] = fake_cloud.impersonation.url
    source = fake_cloud.add_site("source", seed=_seed())
    config = {k: v for k, v in _seed().items() if k not in ISSUE_DATA_KEYS}
    config["users"] = [u for u in config["users"] if u["accountId"] != missing]
    config["groupMembers"] = {g: [m for m in members if m["accountId"] != missing]
                              for g, members in (config.get("groupMembers") or {}).items()}
    dest = fake_cloud.add_site("dest", seed=config)
    source.client_key, dest.client_key = install_into(source), install_into(dest)
    admin = admin_account_id(dest)
    with app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
        return Sites(source, dest, src.id, dst.id, admin)


def test_a_missing_reporter_is_stood_in_for_by_the_admin(app, fake_cloud, install_into, oauth_grant) -> None:
    seed = _seed()
    admin = admin_account_id(fake_cloud.add_site("probe", seed={}))
    config = json.dumps({k: v for k, v in seed.items() if k not in (*ISSUE_DATA_KEYS, "users", "groupMembers")})
    issue = next(i for i in seed["issues"] if (i["fields"].get("reporter") or {}).get("accountId") not in (None, admin)
                 and i["fields"]["reporter"]["accountId"] not in config)  # a person only issue data names
    missing = issue["fields"]["reporter"]["accountId"]
    sites = _sites_without(app, fake_cloud, install_into, missing)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    snapshot_id = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot_id), fallback="admin")
    assert run.status == "done", run.message
    got = _as_app(sites.dest).get(f"/rest/api/3/issue/{issue['key']}", query={"fields": "reporter"}).json()
    assert (got["fields"].get("reporter") or {}).get("accountId") == sites.admin, got
