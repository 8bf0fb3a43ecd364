"""Fidelity bench: restore the hostile seed through the real app jobs and measure it with an independent yardstick.

Seeds an emulated source with ``fakejira/seeds/hostile.json``, backs it up with the real backup job, previews
and restores the snapshot with the real jobs (OAuth grants on both sides) into
  (a) ``empty``: a brand-new destination site (Jira's defaults only), and
  (b) ``people``: a new destination pre-seeded with the source's users (all but one, who stays missing) and groups
      with their members (groups get the destination's own groupIds, as another site's groups would),
then compares the two sites with ``fakejira/canonical.py`` — each site exported in its own terms, no app code
involved — and prints one JSON line per case: per-type identical/total, the app's own reported fidelity, and the
first N differences in words. ``--quick``: case (b) only, 10 differences.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.restore_bench import SCOPES, _Bearer  # noqa: E402  (the restore bench's OAuth grant, as a consent gives it)

SEED = ROOT / "fakejira" / "seeds" / "hostile.json"


def people_seed(source_export: dict[str, Any], missing: set[str]) -> dict[str, Any]:
    """The source's users (less ``missing``) and groups with members, groups under new groupIds."""
    new_id = {g["groupId"]: str(uuid.uuid5(uuid.NAMESPACE_URL, "dest-group:" + g["name"]))
              for g in source_export["groups"]}
    users = [copy.deepcopy(u) for u in source_export["users"] if u["accountId"] not in missing]
    known = {u["accountId"] for u in users}
    groups = [{"name": g["name"], "groupId": new_id[g["groupId"]]} for g in source_export["groups"]
              if not g["name"].startswith("jira-users-")]
    kept = {g["groupId"] for g in groups}
    members = {new_id[gid]: [m for m in ms if m["accountId"] in known]
               for gid, ms in source_export["groupMembers"].items() if new_id.get(gid) in kept}
    return {"users": users, "groups": groups, "groupMembers": members}


def run_case(case: str, seed: dict[str, Any], limit: int) -> dict[str, Any]:
    """One restore of the hostile seed into a new destination; the yardstick's and the app's figures."""
    from cryptography.fernet import Fernet
    from sqlalchemy import select

    from app import create_app
    from app.backups.service import start_backup
    from app.extensions import db
    from app.jira.access import Credential, oauth_allows
    from app.jira.client import JiraClient, RetryPolicy
    from app.jobs.models import Job
    from app.jobs.runtime import run_job
    from app.recovery.connections import activate, generate_token
    from app.restore import service
    from app.restore.models import RestoreItem, RestoreRun
    from app.restore.plan import Selection
    from app.tenants import Tenant
    from fakejira import canonical, installer, seeding
    from fakejira.cloud import Cloud
    from fakejira.hostile_seed import GONE
    from fakejira.loopback import serve
    from fakejira.resources.basics import admin_account_id

    tmp = Path(tempfile.mkdtemp())
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
                      "SCHEMA_CHECK": False, "AUTO_MIGRATE": False, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                      "JOBS_MODE": "manual"})
    with app.app_context():
        db.create_all()
    cloud = Cloud()
    source = cloud.add_site("source", seed=seed)
    dest = cloud.add_site("dest")
    if case == "people":
        seeding.load_seed(dest, people_seed(seeding.export_site(source), {GONE}))
    granted: dict[int, Credential] = {}

    def credential(tenant: Any) -> Credential | None:
        return granted.get(tenant.id)

    app.extensions["wiring"].credential_sources.append(credential)  # this bench's app only
    with cloud.serve(), serve(app) as url:
        app.config["BASE_URL"] = url
        app.config["CONNECT_INSTALL_KEYS_URL"] = cloud.install_keys_url
        keys = [installer.install_app(s, url + "/atlassian-connect.json").client_key for s in (source, dest)]
        admin = admin_account_id(dest)
        with app.app_context():
            src, dst = (db.session.scalars(select(Tenant).where(Tenant.client_key == k)).one() for k in keys)
            activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
            ids = {"source": src.id, "dest": dst.id}
        client = cloud.oauth.register_client(["https://dr-app.example.test/oauth/callback"])
        for site, tenant_id in ((source, ids["source"]), (dest, ids["dest"])):
            site.admins.add(admin_account_id(site))
            tokens = cloud.oauth.issue_tokens(client.client_id, admin_account_id(site), [site], SCOPES)
            jira = JiraClient(cloud.gateway_url(site), _Bearer(tokens["access_token"]),
                              retry=RetryPolicy(max_retries=2, base_delay=0.01, max_retry_after=5), label="oauth")
            granted[tenant_id] = Credential("oauth", jira, oauth_allows(set(SCOPES)))
        with app.app_context():
            job, _ = start_backup(db.session.get(Tenant, ids["source"]), "bench")
            assert run_job(job.id) == "succeeded", db.session.get(Job, job.id).message
            snapshot_id = int(db.session.get(Job, job.id, populate_existing=True).result["snapshot_id"])
            run = service.start_preview(db.session.get(Tenant, ids["dest"]), snapshot_id, admin)
            assert run_job(run.job_id) == "succeeded", db.session.get(Job, run.job_id).message
            run = service.start_restore(db.session.get(Tenant, ids["dest"]), run.id, Selection(), "admin", admin)
            state = run_job(run.job_id)
            done = db.session.get(RestoreRun, run.id, populate_existing=True)
            items = db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run.id,
                                                                 RestoreItem.selected.is_(True))).all()
            outcomes = Counter(i.outcome for i in items)
            app_fidelity, app_status = done.fidelity, done.status
            verification = done.verification or {}
            unexplained = [d["words"] for d in verification.get("differences", []) if not d.get("reason")]
    result = canonical.compare(canonical.canonical_export(source), canonical.canonical_export(dest))
    counts = {t: f"{c['identical']}/{c['total']}" for t, c in result.counts.items() if c["total"]}
    classes = Counter(canonical.classify(d) for d in result.differences)
    return {"case": case, "restore_state": state, "app_status": app_status, "app_fidelity": app_fidelity,
            "app_differences": len(verification.get("differences", [])), "app_unexplained": len(unexplained),
            "app_unexplained_first": unexplained[:limit],
            "app_outcomes": dict(outcomes), "identical": result.identical, "total": result.total,
            "yardstick_fidelity": round(result.identical / max(1, result.total), 3),
            "api_restorable_identical": sum(c["identical"] for t, c in result.counts.items()
                                            if t not in canonical.NOT_API_RESTORABLE),
            "api_restorable_total": sum(c["total"] for t, c in result.counts.items()
                                        if t not in canonical.NOT_API_RESTORABLE),
            "per_type": counts, "differences": len(result.differences),
            "classes": dict(classes.most_common()),
            "first_differences": [d.words for d in result.differences[:limit]]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="case (b) only, 10 differences")
    parser.add_argument("--limit", type=int, default=None, help="differences printed per case (default 40)")
    parser.add_argument("--case", choices=("empty", "people"), action="append", help="default: both")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    cases = args.case or (["people"] if args.quick else ["empty", "people"])
    limit = args.limit if args.limit is not None else (10 if args.quick else 40)
    results = []
    for case in cases:
        results.append(run_case(case, seed, limit))
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    # the last line sums the cases up (what bench/run_all.py reads and judges)
    print(json.dumps({"bench": "fidelity", "cases": {
        r["case"]: {"app_fidelity": round(r["app_fidelity"] or 0, 3), "app_differences": r["app_differences"],
                    "app_unexplained": r["app_unexplained"], "yardstick_fidelity": r["yardstick_fidelity"],
                    "yardstick": f"{r['identical']}/{r['total']}",
                    "api_restorable": f"{r['api_restorable_identical']}/{r['api_restorable_total']}",
                    "per_type": r["per_type"]} for r in results},
        "app_unexplained": sum(r["app_unexplained"] for r in results)}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
