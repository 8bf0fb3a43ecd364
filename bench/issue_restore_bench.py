"""Issue restore benchmark: back up an issue preset, restore it into an empty site with the same people, and judge the
points, the fidelity (keys, attachment bytes, comments, worklogs, links) and the app's peak RSS; ``--kills N`` kills
the restoring worker (SIGKILL) at random points and checks each resumed run (one JSON line).

Set-up (``bench/issue_world.py``): the emulated Jira in its own process; the source generated there from
``issues-medium`` (``--preset issues-small`` for a quick run), by default its ``-50mb`` variant (three attachments of
50 MB, ``--no-huge`` for the plain preset); every job in a worker process of its own, whose ``VmHWM`` is the app's
peak RSS. The backup runs without latency; the preview and the restore at ``--latency`` (50 ms) with Jira's hourly
points quota on (a spent window is refilled and counted in ``quota_windows``). ``--projects N`` restores the first N
projects (those holding the 50 MB attachments first) so a run fits the time at hand.

Points are the emulator's count for the destination over the preview and the restore. The minimum: the writes the
restore made (each 1 point), plus one read of the destination and one of what the restore created, measured as the
points of the app's backup of the destination afterwards (the destination was empty but for Jira's defaults and its
people, so that backup reads both; latency off, it changes no point).

Fidelity, judged by this bench from the emulator's exports (not the app's verification), per selected source issue:
``keys_identical_pct`` (an issue with the same key carrying the source id in the restore's property), comments
(text without the app's "Originally by" line, and author by display name), worklogs (start, time spent, text),
attachments (file name and sha256 of the bytes, source bytes regenerated here, destination bytes downloaded), links
between two restored issues (type name and both keys). ``comments_identical_pct`` counts every comment, those
restricted to a group or role the app's user isn't in too (``restricted_comments``: the backup reads them as someone
allowed to). Duplicates: destination issues sharing a source id; placeholders left behind.

Kills (``--kills N``, latency ``--kill-latency``, no quota): an uninterrupted restore first (its time T and its
figures), then N trials: reset the destination, preview, start a worker, SIGKILL it ``u * T`` after it claimed the
job (u uniform in 0.05-0.95, ``--seed``), expire its lease, start another, wait for the end. A trial survives when the
job succeeded, no issue is duplicated or left a placeholder, and its fidelity figures equal the uninterrupted run's.

Usage: python bench/issue_restore_bench.py [--preset issues-medium] [--projects N] [--kills N] [--no-huge]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.crash_bench import TERMINAL, expire_lease, job_row, wait_for  # noqa: E402
from bench.issue_world import QUOTA, AppWorker, BenchFailed, IssueWorld, issue_world, print_progress  # noqa: E402

WRITE_METHODS = ("POST", "PUT", "DELETE")
READ_POSTS = ("/rest/api/3/search/jql", "/rest/api/3/issue/bulkfetch", "/rest/api/3/changelog/bulkfetch",
              "/rest/api/3/worklog/list", "/rest/api/3/comment/list")
SOURCE_PROPERTY = "jiradr.source"
PLACEHOLDER_PROPERTY = "jiradr.placeholder"
ATTRIBUTION = "Originally by "
FIDELITY = ("keys_identical_pct", "attachment_bytes_identical_pct", "comments_identical_pct",
            "worklogs_identical_pct", "links_identical_pct")


# -- what a site holds, in comparable terms ---------------------------------------------------------------------------

def _text(adf: Any) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(str(node.get("text") or ""))
            for child in node.get("content") or []:
                walk(child)
            out.append(" ")
        elif isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, str):
            out.append(node)

    walk(adf)
    return " ".join("".join(out).split())


def _said(body: Any, author: str | None) -> tuple[str, str | None]:
    """The words of a body and who wrote them: an "Originally by NAME on …" first paragraph names the writer."""
    content = list(body.get("content") or []) if isinstance(body, dict) else []
    first = _text(content[:1]) if content else ""
    if first.startswith(ATTRIBUTION) and " on " in first:
        return _text(content[1:]), first[len(ATTRIBUTION):].rsplit(" on ", 1)[0]
    return _text(body), author


def _person(author: Any, names: dict[str, str]) -> str | None:
    account = (author or {}).get("accountId")
    return names.get(str(account), (author or {}).get("displayName")) if account else None


@dataclass
class SiteIssues:
    """One site's issues of the selected projects, keyed by issue key, in comparable terms."""

    ids: dict[str, str]  # key -> issue id
    source_of: dict[str, str | None]  # key -> the source id the restore's property names (destination)
    placeholders: list[str]
    comments: dict[str, Counter[tuple[str, str | None]]]
    restricted: dict[str, int]  # key -> comments restricted to a group or role
    worklogs: dict[str, Counter[tuple[Any, ...]]]
    attachments: dict[str, list[dict[str, Any]]]
    links: set[tuple[str, str, str]]  # (type name, inward key, outward key)


def site_issues(export: dict[str, Any], projects: set[str]) -> SiteIssues:
    """The issues of ``projects`` in an emulator export."""
    names = {str(u.get("accountId")): str(u.get("displayName")) for u in export.get("users") or []}
    link_types = {str(t.get("id")): str(t.get("name")) for t in export.get("issueLinkTypes") or []}
    ids, source_of, placeholders = {}, {}, []
    for issue in export.get("issues") or []:
        key = str(issue["key"])
        if key.split("-")[0] not in projects:
            continue
        ids[key] = str(issue["id"])
    key_of = {v: k for k, v in ids.items()}
    for issue_id, props in (export.get("issueProperties") or {}).items():
        key = key_of.get(str(issue_id))
        if key is None:
            continue
        values = {p["key"]: p.get("value") for p in props}
        if values.get(PLACEHOLDER_PROPERTY):
            placeholders.append(key)
        source = values.get(SOURCE_PROPERTY)
        source_of[key] = str(source.get("id")) if isinstance(source, dict) else None
    comments: dict[str, Counter[tuple[str, str | None]]] = {}
    restricted: dict[str, int] = {}
    for issue_id, items in (export.get("issueComments") or {}).items():
        key = key_of.get(str(issue_id))
        if key is None:
            continue
        comments[key] = Counter(_said(c.get("body"), _person(c.get("author"), names)) for c in items)
        restricted[key] = sum(1 for c in items if c.get("visibility"))
    worklogs: dict[str, Counter[tuple[Any, ...]]] = {}
    for issue_id, items in (export.get("issueWorklogs") or {}).items():
        key = key_of.get(str(issue_id))
        if key is not None:
            worklogs[key] = Counter((str(w.get("started"))[:19], int(w.get("timeSpentSeconds") or 0),
                                     _said(w.get("comment"), None)[0]) for w in items)
    attachments = {key_of[str(i)]: list(items) for i, items in (export.get("issueAttachments") or {}).items()
                   if str(i) in key_of}
    links = set()
    for link in export.get("issueLinks") or []:
        inward = key_of.get(str((link.get("inwardIssue") or {}).get("id")))
        outward = key_of.get(str((link.get("outwardIssue") or {}).get("id")))
        if inward and outward:
            links.add((link_types.get(str((link.get("type") or {}).get("id")), "?"), inward, outward))
    return SiteIssues(ids, source_of, placeholders, comments, restricted, worklogs, attachments, links)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 100.0


class Hasher:
    """sha256 of attachment bytes: the source's regenerated here, the destination's downloaded as the app would."""

    def __init__(self, world: IssueWorld, content_seed: int) -> None:
        self.world, self.content_seed = world, content_seed
        self.source_cache: dict[str, str] = {}

    def source(self, attachment: dict[str, Any]) -> str:
        from fakejira.attachments import GeneratedBlob

        key = str(attachment["id"])
        if key not in self.source_cache:
            digest = hashlib.sha256()
            for chunk in GeneratedBlob(self.content_seed, key, int(attachment["size"])).chunks():
                digest.update(chunk)
            self.source_cache[key] = digest.hexdigest()
        return self.source_cache[key]

    def destination(self, attachment_id: str) -> str:
        from app.extensions import db
        from app.jira.operations import declare
        from app.tenant_access import jira_access
        from app.tenants import Tenant

        content = declare("GET", "/rest/api/3/attachment/content/{id}")
        with self.world.app.app_context():
            client = jira_access(db.session.get(Tenant, self.world.dest_id)).credential_for(content).client
            digest = hashlib.sha256()
            with client.session.get(client.base_url + content.path(id=attachment_id), auth=client.auth,
                                    params={"redirect": "false"}, stream=True, timeout=120) as resp:
                resp.raise_for_status()
                for chunk in resp.iter_content(1024 * 1024):
                    digest.update(chunk)
            return digest.hexdigest()


def fidelity(source: SiteIssues, dest: SiteIssues, hasher: Hasher) -> dict[str, Any]:
    """The figures of the docstring's fidelity paragraph, for the source's selected issues."""
    keys = [k for k, i in source.ids.items() if dest.source_of.get(k) == i]
    kept = set(keys)
    by_source = Counter(s for s in dest.source_of.values() if s)
    comments_all = sum(sum(c.values()) for c in source.comments.values())
    restricted = sum(source.restricted.values())
    comments_same = sum(sum((c & dest.comments.get(k, Counter())).values()) for k, c in source.comments.items()
                        if k in kept)
    worklogs_all = sum(sum(w.values()) for w in source.worklogs.values())
    worklogs_same = sum(sum((w & dest.worklogs.get(k, Counter())).values()) for k, w in source.worklogs.items()
                        if k in kept)
    attachments_all = sum(len(a) for a in source.attachments.values())
    same_bytes = 0
    for key, items in source.attachments.items():
        there = {}
        for a in dest.attachments.get(key, []) if key in kept else []:
            there.setdefault(str(a["filename"]), []).append(a)
        for attachment in items:
            candidates = there.get(str(attachment["filename"])) or []
            want = hasher.source(attachment)
            match = next((c for c in candidates if int(c["size"]) == int(attachment["size"])
                          and hasher.destination(str(c["id"])) == want), None)
            if match is not None:
                candidates.remove(match)
                same_bytes += 1
    return {"issues": len(source.ids), "keys_identical_pct": _pct(len(keys), len(source.ids)),
            "duplicates": sum(n - 1 for n in by_source.values() if n > 1),
            "placeholders_left": len(dest.placeholders),
            "extra_issues": len(set(dest.ids) - set(source.ids) - set(dest.placeholders)),
            "comments": comments_all, "restricted_comments": restricted,
            "comments_identical_pct": _pct(comments_same, comments_all),
            "worklogs": worklogs_all, "worklogs_identical_pct": _pct(worklogs_same, worklogs_all),
            "attachments": attachments_all,
            "attachment_bytes": sum(int(a["size"]) for v in source.attachments.values() for a in v),
            "attachment_bytes_identical_pct": _pct(same_bytes, attachments_all),
            "links": len(source.links), "links_identical_pct": _pct(len(source.links & dest.links),
                                                                    len(source.links))}


# -- the runs ---------------------------------------------------------------------------------------------------------

def choose_projects(export: dict[str, Any], count: int) -> list[str]:
    """The first ``count`` projects holding issues (0: all), those with the largest attachments first."""
    project_of = {str(i["id"]): str(i["key"]).split("-")[0] for i in export.get("issues") or []}
    held = sorted(set(project_of.values()))
    largest: Counter[str] = Counter()
    for issue_id, items in (export.get("issueAttachments") or {}).items():
        for a in items:
            largest[project_of[str(issue_id)]] = max(largest[project_of[str(issue_id)]], int(a["size"]))
    ordered = sorted(held, key=lambda p: (-largest[p], held.index(p)))
    return sorted(ordered[:count] if count else ordered)


def preview_and_queue(world: IssueWorld, projects: list[str]) -> tuple[int, str, Any]:
    """Preview (in a worker) and queue the restore of ``projects``; (run id, restore job id, the preview's run)."""
    from app.extensions import db
    from app.restore import service
    from app.restore.plan import Selection
    from app.tenants import Tenant

    with world.app.app_context():
        run = service.start_preview(db.session.get(Tenant, world.dest_id), world.snapshot_id, world.admin)
        run_id, preview_job = run.id, str(run.job_id)
    preview = world.run_job(preview_job, site="dst")
    if preview.state != "succeeded":
        raise BenchFailed(f"the preview {preview.state}: {preview.message}")
    with world.app.app_context():
        # Every project: everything (the configuration whole); a subset: those projects and what they need.
        selection = Selection(projects=projects) if world.extra.get("subset") else Selection()
        run = service.start_restore(db.session.get(Tenant, world.dest_id), run_id, selection, "admin", world.admin)
        return run_id, str(run.job_id), preview


def run_outcome(world: IssueWorld, run_id: int) -> dict[str, Any]:
    from app.extensions import db
    from app.restore.models import RestoreRun

    with world.app.app_context():
        run = db.session.get(RestoreRun, run_id, populate_existing=True)
        summary = json.loads(run.summary_json) if run.summary_json else {}
        out = {"status": run.status, "message": run.message, "fidelity": run.fidelity,
               "unexplained": (run.verification or {}).get("unexplained"),
               "issue_outcomes": {p: r.get("outcomes") for p, r in ((summary.get("issues") or {}).get("projects")
                                                                    or {}).items()}}
        db.session.commit()
        return out


def destination_figures(world: IssueWorld, source: SiteIssues, projects: set[str], hasher: Hasher) -> dict[str, Any]:
    export = world.cloud.export("dst")
    return fidelity(source, site_issues(export, projects), hasher)


def writes_made(world: IssueWorld) -> int:
    return sum(1 for c in world.cloud.calls("dst") if c.method in WRITE_METHODS and c.path not in READ_POSTS
               and not c.path.startswith("/_emulator"))


def measured_restore(world: IssueWorld, projects: list[str], latency: float, quota: int) -> dict[str, Any]:
    """The judged run: preview and restore at ``latency`` with the quota on; points, writes, RSS, seconds."""
    world.cloud.set_limits("dst", latency=latency, quota=quota or None)
    world.cloud.clear_calls("dst")
    world.cloud.clear_points("dst")
    run_id, job_id, preview = preview_and_queue(world, projects)
    print_progress("preview", seconds=round(preview.seconds, 1), peak_rss_mb=preview.peak_rss_mb)
    restore = world.run_job(job_id, site="dst")
    outcome = run_outcome(world, run_id)
    print_progress("restore", state=restore.state, seconds=round(restore.seconds, 1),
                   peak_rss_mb=restore.peak_rss_mb, quota_windows=restore.quota_windows, status=outcome["status"])
    by_template = world.cloud.points("dst")
    points = sum(by_template.values())
    writes = writes_made(world)
    world.cloud.set_limits("dst", latency=0)
    return {"run_id": run_id, "state": restore.state, "message": restore.message, "points": points,
            "writes": writes, "preview_peak_rss_mb": preview.peak_rss_mb, "restore_peak_rss_mb": restore.peak_rss_mb,
            "preview_seconds": round(preview.seconds, 1), "restore_seconds": round(restore.seconds, 1),
            "quota_windows": {"preview": preview.quota_windows, "restore": restore.quota_windows},
            "points_by_template": by_template.most_common(15), **outcome}


def destination_read_points(world: IssueWorld) -> int:
    """One read of everything the destination holds: the points of the app's backup of it (no latency)."""
    from app.backups.service import start_backup
    from app.extensions import db
    from app.tenants import Tenant

    world.cloud.clear_limits("dst")
    with world.app.app_context():
        job, _ = start_backup(db.session.get(Tenant, world.dest_id), "bench")
        job_id = str(job.id)
    run = world.run_job(job_id, site="dst")
    if run.state != "succeeded":
        raise BenchFailed(f"the backup of the destination {run.state}: {run.message}")
    return int(world.job_points(job_id).get("points") or 0)


def killed_restore(world: IssueWorld, projects: list[str], kill_after: float | None) -> dict[str, Any]:
    """Reset the destination, preview, restore on a worker SIGKILLed ``kill_after`` s after it claimed the job (None:
    uninterrupted), resumed by a new worker; the job's end and where the kill landed."""
    world.reset_destination()
    run_id, job_id, _preview = preview_and_queue(world, projects)
    worker = AppWorker(world)
    killed_in = None
    try:
        worker.start()
        wait_for(world, job_id, ("running", *TERMINAL), 300)  # type: ignore[arg-type]
        started = time.monotonic()
        if kill_after is not None:
            time.sleep(kill_after)
            with world.app.app_context():
                before = job_row(job_id)
                killed_in = f"{before.state}: {before.step or ''} {before.progress_done}/{before.progress_total}"
            worker.kill()
            if before.state == "running":
                expire_lease(world, job_id)  # type: ignore[arg-type]
                worker = AppWorker(world)
                worker.start()
        job = wait_for(world, job_id, TERMINAL, 3600)  # type: ignore[arg-type]
        seconds = time.monotonic() - started
    finally:
        worker.stop()
    return {"run_id": run_id, "job_state": job.state, "attempts": job.attempts, "message": job.message,
            "seconds": round(seconds, 1), "killed_in": killed_in, **run_outcome(world, run_id)}


def kill_trials(world: IssueWorld, projects: list[str], source: SiteIssues, hasher: Hasher, n: int, seed: int,
                latency: float) -> dict[str, Any]:
    world.cloud.clear_limits("dst")
    world.cloud.set_limits("dst", latency=latency)
    selected = set(projects)
    clean = killed_restore(world, projects, None)
    if clean["job_state"] != "succeeded":
        raise BenchFailed(f"the uninterrupted restore {clean['job_state']}: {clean['message']}")
    clean_figures = destination_figures(world, source, selected, hasher)
    print_progress("uninterrupted restore", seconds=clean["seconds"], **{k: clean_figures[k] for k in FIDELITY})
    rng = random.Random(seed)
    results = []
    for number in range(n):
        point = round(rng.uniform(0.05, 0.95) * clean["seconds"], 2)
        outcome = killed_restore(world, projects, point)
        figures = destination_figures(world, source, selected, hasher)
        problems = []
        if outcome["job_state"] != "succeeded":
            problems.append(f"job {outcome['job_state']}: {outcome['message']}")
        if figures["duplicates"] or figures["placeholders_left"] or figures["extra_issues"]:
            problems.append(f"{figures['duplicates']} duplicate(s), {figures['placeholders_left']} placeholder(s), "
                            f"{figures['extra_issues']} extra issue(s)")
        problems += [f"{k}: {figures[k]} (uninterrupted: {clean_figures[k]})" for k in FIDELITY
                     if figures[k] != clean_figures[k]]
        results.append({"trial": number + 1, "kill_after_s": point, "killed_in": outcome["killed_in"],
                        "attempts": outcome["attempts"], "seconds": outcome["seconds"], "survived": not problems,
                        "problems": problems[:5]})
        print_progress("kill trial", **results[-1])
    return {"kills": n, "survived": sum(r["survived"] for r in results),
            "kills_survived": f"{sum(r['survived'] for r in results)}/{n}", "kill_seed": seed,
            "kill_latency": latency, "clean_kill_run_seconds": clean["seconds"],
            "kill_points": [r["killed_in"] for r in results],
            "failed_kills": [r for r in results if not r["survived"]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="issues-medium", choices=("issues-small", "issues-medium"))
    parser.add_argument("--huge", action=argparse.BooleanOptionalAction, default=True,
                        help="the preset's -50mb variant: three attachments of 50 MB")
    parser.add_argument("--projects", type=int, default=0, help="restore the first N projects (0: all)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request on the destination")
    parser.add_argument("--quota", type=int, default=QUOTA, help="points per hour on the destination (0: none)")
    parser.add_argument("--kills", type=int, default=0, help="kill trials after the judged run")
    parser.add_argument("--kill-latency", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None, help="the kill points' seed (default: random, printed)")
    args = parser.parse_args()
    preset = args.preset + ("-50mb" if args.huge else "")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    started = time.monotonic()
    with issue_world(preset) as world:
        export = world.extra.pop("export")
        projects = choose_projects(export, args.projects)
        world.extra["subset"] = 0 < args.projects < len(choose_projects(export, 0))
        source = site_issues(export, set(projects))
        hasher = Hasher(world, int((export.get("attachmentContent") or {}).get("rngSeed") or 0))
        del export
        print_progress("world", projects=projects, issues=len(source.ids))
        baseline = world.burst_worker()
        backup = world.run_job(world.start_backup(), site="src")
        if backup.state != "succeeded":
            raise BenchFailed(f"the backup {backup.state}: {backup.message}")
        world.snapshot_id = world.snapshot_of(backup.job_id)
        print_progress("backup", seconds=round(backup.seconds, 1), peak_rss_mb=backup.peak_rss_mb)
        judged = measured_restore(world, projects, args.latency, args.quota)
        figures = destination_figures(world, source, set(projects), hasher)
        read_once = destination_read_points(world)
        minimum = judged["writes"] + read_once
        out: dict[str, Any] = {
            "bench": "issue_restore", "preset": preset, "projects": projects,
            "selection": "projects" if world.extra["subset"] else "everything", "latency": args.latency,
            "quota": args.quota, "state": judged["state"], "status": judged["status"],
            "app_fidelity": judged["fidelity"], "app_unexplained": judged["unexplained"],
            "points": judged["points"], "writes": judged["writes"], "destination_read_points": read_once,
            "minimum_points": minimum, "points_ratio": round(judged["points"] / max(1, minimum), 3), **figures,
            "peak_rss_mb": max(backup.peak_rss_mb, judged["preview_peak_rss_mb"], judged["restore_peak_rss_mb"]),
            "baseline_rss_mb": round(baseline, 1), "backup_peak_rss_mb": backup.peak_rss_mb,
            "preview_peak_rss_mb": judged["preview_peak_rss_mb"], "restore_peak_rss_mb": judged["restore_peak_rss_mb"],
            "backup_seconds": round(backup.seconds, 1), "preview_seconds": judged["preview_seconds"],
            "restore_seconds": judged["restore_seconds"], "quota_windows": judged["quota_windows"],
            "issue_outcomes": judged["issue_outcomes"], "message": judged["message"],
            "points_by_template": judged["points_by_template"]}
        print_progress("judged run", **{k: out[k] for k in ("points_ratio", "peak_rss_mb", *FIDELITY)})
        if args.kills:
            out.update(kill_trials(world, projects, source, hasher, args.kills, seed, args.kill_latency))
    out["wall_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
