"""Issue backup benchmark: the issue pass's quota points vs the minimum for reading the site once, and the second
backup's points after 1 % of issues changed as a share of the first's (one JSON line).

The app and the emulated cloud run in this process (as the capture tests do); points are what the job's meter counted
for the issue pass's endpoints (``Job.points["byEndpoint"]``). The minimum for reading once (lower bound, Jira's rule
of base points per request plus one per object returned): the id-only search pages (5,000 ids each), the bulk fetch
pages (100 issues each), one download per attachment, one watchers call per watched issue and one votes call per
voted issue, each with the objects it returns. Comments, worklogs and changelogs beyond the embedded pages are not in
the minimum (so the ratio is an upper bound on the overhead).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.quota.points import BASE_POINTS, POINTS_PER_OBJECT  # noqa: E402

ISSUE_ENDPOINTS = ("/search/jql", "/issue/bulkfetch", "/changelog", "/comment", "/worklog", "/watchers", "/votes",
                   "/attachment/content")


def issue_pass_points(points: dict[str, Any]) -> int:
    """The points the job spent on the issue pass's endpoints."""
    return sum(int(v) for k, v in (points.get("byEndpoint") or {}).items()
               if any(part in k for part in ISSUE_ENDPOINTS))


def minimum_points(export: dict[str, Any]) -> int:
    """The fewest points reading every issue once costs (see the module docstring)."""
    n = len(export.get("issues") or [])
    calls = math.ceil(n / 5000) + math.ceil(n / 100)
    objects = 2 * n
    attachments = sum(len(v) for v in (export.get("issueAttachments") or {}).values())
    calls += attachments
    objects += attachments
    for key in ("issueWatchers", "issueVoters"):
        lists = [v for v in (export.get(key) or {}).values() if v]
        calls += len(lists)
        objects += sum(len(v) for v in lists)
    return calls * BASE_POINTS + objects * POINTS_PER_OBJECT


def change_share(client: Any, keys: list[str], share: float) -> int:
    """Edit the summary of ``share`` of the issues (at least one); return how many."""
    count = max(1, int(len(keys) * share))
    step = max(1, len(keys) // count)
    for key in keys[::step][:count]:
        answer = client.put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": f"Bench edit of {key}"}})
        assert answer.status_code == 204, answer.text
    return count


def run(preset: str) -> dict[str, Any]:
    from app.extensions import db
    from app.jobs.models import Job
    from tests.backups.capture_support import backup, capture_world, tenant_of
    from tests.fakejira import generator, installer, seeding
    from tests.fakejira.client import ConnectClient

    with tempfile.TemporaryDirectory() as tmp, capture_world(Path(tmp), "bench") as world:
        world.app.config["ISSUE_IDSET_DAYS"] = 7  # the default: the second backup doesn't list every id
        site = world.cloud.add_site("bench", seed=generator.generate_preset(preset, site_name="bench"))
        installation = installer.install_app(site, world.app.config["BASE_URL"] + "/atlassian-connect.json")
        site.client_key = installation.client_key
        client = ConnectClient(site, installation.app_key)
        export = seeding.export_site(site)
        keys = [i["key"] for i in export["issues"]]
        with world.app.app_context():
            started = time.monotonic()
            first = backup(tenant_of(site.client_key))
            first_seconds = time.monotonic() - started
            first_points = issue_pass_points(db.session.get(Job, first.id).points)
        changed = change_share(client, keys, 0.01)
        with world.app.app_context():
            second = backup(tenant_of(site.client_key))
            second_points = issue_pass_points(db.session.get(Job, second.id).points)
        minimum = minimum_points(export)
        return {"bench": "issue_backup", "preset": preset, "issues": len(keys), "first_points": first_points,
                "minimum_points": minimum, "points_ratio": round(first_points / minimum, 3),
                "changed_issues": changed, "second_points": second_points,
                "second_share": round(second_points / first_points, 4), "first_seconds": round(first_seconds, 1),
                "states": [first.state, second.state]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="issues-medium", choices=["issues-small", "issues-medium"])
    args = parser.parse_args()
    print(json.dumps(run(args.preset)))


if __name__ == "__main__":
    main()
