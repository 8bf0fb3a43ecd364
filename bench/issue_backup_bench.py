"""Issue backup benchmark: the issue pass's quota points vs the minimum for reading the site once, the second backup's
points after 1 % of issues changed as a share of the first's, and the app's peak RSS (one JSON line).

The emulated Jira runs in its own process (``bench/issue_world.py``) with a latency per request (50 ms) and Jira's
hourly points quota on (a spent window is refilled and counted in ``quota_windows``, not waited for); each backup runs
in a worker process of its own, whose peak RSS (``VmHWM``) is the app's (``baseline_rss_mb``: a worker with nothing
to do). Points are what the job's meter counted for the issue pass's endpoints (``Job.points["byEndpoint"]``); the
emulator's own count of the whole job is printed beside them (``emulator_points``), and the second backup's share of
it (``second_over_first_whole_job``: the configuration is read in full by every backup, issues only where changed).

The minimum for reading once (lower bound, Jira's rule of base points per request plus one per object returned): the
id-only search pages (5,000 ids each), the bulk fetch pages (100 issues each), one download per attachment, one
watchers call per watched issue and one votes call per voted issue, each with the objects it returns. Comments,
worklogs and changelogs beyond the embedded pages are not in the minimum (so the ratio is an upper bound on the
overhead).

Usage: python bench/issue_backup_bench.py [--preset issues-medium] [--latency 0.05] [--quota 100100]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.quota.points import BASE_POINTS, POINTS_PER_OBJECT  # noqa: E402
from bench.issue_world import QUOTA, BenchFailed, IssueWorld, issue_world, print_progress  # noqa: E402
from fakejira.issue_generator import ISSUE_PRESETS  # noqa: E402

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


def change_share(world: IssueWorld, keys: list[str], share: float) -> int:
    """Edit the summary of ``share`` of the issues (at least one) as the app's user; return how many."""
    from app.extensions import db
    from app.jira.operations import declare
    from app.tenant_access import jira_access
    from app.tenants import Tenant

    edit = declare("PUT", "/rest/api/3/issue/{issueIdOrKey}")
    count = max(1, int(len(keys) * share))
    step = max(1, len(keys) // count)
    with world.app.app_context():
        access = jira_access(db.session.get(Tenant, world.source_id))
        for key in keys[::step][:count]:
            access.call(edit, path={"issueIdOrKey": key}, json={"fields": {"summary": f"Bench edit of {key}"}})
    return count


def backed_up(world: IssueWorld, label: str) -> tuple[Any, int, int]:
    """Run one backup in a worker; (the run, the issue pass's points, the emulator's points for the job)."""
    world.cloud.clear_points("src")
    run = world.run_job(world.start_backup(), site="src")
    if run.state != "succeeded":
        raise BenchFailed(f"the {label} backup {run.state}: {run.message}")
    points = issue_pass_points(world.job_points(run.job_id))
    emulator = sum(world.cloud.points("src").values())
    print_progress(f"{label} backup", seconds=round(run.seconds, 1), points=points, peak_rss_mb=run.peak_rss_mb,
                   quota_windows=run.quota_windows)
    return run, points, emulator


def run(preset: str, latency: float, quota: int, share: float) -> dict[str, Any]:
    with issue_world(preset, destination=False, config={"ISSUE_IDSET_DAYS": 7}) as world:
        export = world.extra.pop("export")
        keys = [i["key"] for i in export["issues"]]
        minimum = minimum_points(export)
        attachments = [a for v in (export.get("issueAttachments") or {}).values() for a in v]
        del export
        baseline = world.burst_worker()
        world.cloud.set_limits("src", latency=latency, quota=quota or None)
        started = time.monotonic()
        first, first_points, first_emulator = backed_up(world, "first")
        changed = change_share(world, keys, share)
        second, second_points, second_emulator = backed_up(world, "second")
        wall = time.monotonic() - started
    return {"bench": "issue_backup", "preset": preset, "issues": len(keys), "attachments": len(attachments),
            "attachment_bytes": sum(int(a["size"]) for a in attachments),
            "largest_attachment_mb": round(max((int(a["size"]) for a in attachments), default=0) / 2**20, 1),
            "latency": latency, "quota": quota,
            "points": first_points, "minimum_points": minimum, "points_ratio": round(first_points / minimum, 3),
            "emulator_points": first_emulator, "changed_issues": changed, "second_points": second_points,
            "second_emulator_points": second_emulator,
            "second_over_first": round(second_points / max(1, first_points), 4),
            # the whole job as the emulator counted it: the configuration is read in full by every backup
            "second_over_first_whole_job": round(second_emulator / max(1, first_emulator), 4),
            "baseline_rss_mb": round(baseline, 1), "peak_rss_mb": max(first.peak_rss_mb, second.peak_rss_mb),
            "first_peak_rss_mb": first.peak_rss_mb, "second_peak_rss_mb": second.peak_rss_mb,
            "first_seconds": round(first.seconds, 1), "second_seconds": round(second.seconds, 1),
            "wall_seconds": round(wall, 1), "quota_windows": [first.quota_windows, second.quota_windows],
            "states": [first.state, second.state]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="issues-medium", choices=sorted(ISSUE_PRESETS))
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request on the emulated Jira")
    parser.add_argument("--quota", type=int, default=QUOTA, help="points per hour (0: no quota)")
    parser.add_argument("--changed", type=float, default=0.01, help="share of issues edited before the second")
    args = parser.parse_args()
    print(json.dumps(run(args.preset, args.latency, args.quota or 0, args.changed)))


if __name__ == "__main__":
    main()
